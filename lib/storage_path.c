#include "storage_path.h"

#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "config.h"

static const char *const system_dirs[] = { "/etc", "/proc", "/sys", "/dev", "/boot", "/usr",
                                           "/bin", "/sbin", "/lib", "/run", "/root", NULL };

bool path_under(const char *path, const char *root)
{
    size_t n = strlen(root);
    while (n > 1 && root[n - 1] == '/')
        n--;
    if (n == 1 && root[0] == '/')
        return path[0] == '/';
    return !strncmp(path, root, n) && (path[n] == '\0' || path[n] == '/');
}

static bool plain_path(const char *path)
{
    size_t n = path ? strlen(path) : 0;
    if (n < 2 || n > 200 || path[0] != '/' || path[n - 1] == '/')
        return false;
    for (const char *c = path; *c; c++)
        if (!g_ascii_isalnum(*c) && !strchr("/._-", *c))
            return false;
    gchar **parts = g_strsplit(path + 1, "/", -1);
    bool ok = true;
    for (gchar **p = parts; *p && ok; p++)
        ok = **p && strcmp(*p, ".") && strcmp(*p, "..");
    g_strfreev(parts);
    return ok;
}

bool storage_path_allowed(const char *path, char *why, size_t why_size)
{
    if (!plain_path(path)) {
        snprintf(why, why_size, "Give an absolute path of letters, digits, '.', '_', '-' and '/', "
                                "without '..' or a trailing '/'.");
        return false;
    }
    for (const char *const *d = system_dirs; *d; d++)
        if (path_under(path, *d)) {
            snprintf(why, why_size, "%s is a system directory.", *d);
            return false;
        }
    const char *state = config_str("storage", "state_dir", NULL);
    const char *pools = config_str("helper", "pool_dir", NULL);
    if ((state && *state && (path_under(path, state) || path_under(state, path))) ||
        (pools && *pools && (path_under(path, pools) || path_under(pools, path)))) {
        snprintf(why, why_size, "This path holds the portal's own state.");
        return false;
    }
    gchar **roots = g_strsplit(config_str("storage", "allowed_roots", ""), ",", 32);
    bool ok = false;
    for (gchar **r = roots; *r && !ok; r++) {
        g_strstrip(*r);
        /* Under a root, not the root itself: a pool owns its directory. */
        ok = **r == '/' && strcmp(*r, "/") && path_under(path, *r) && strcmp(path, *r);
    }
    g_strfreev(roots);
    if (!ok)
        snprintf(why, why_size, "Pools live in a directory under [storage] allowed_roots (%s).",
                 config_str("storage", "allowed_roots", ""));
    return ok;
}
