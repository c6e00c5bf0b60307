#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

static GKeyFile *config_file;

/* An install's files are where configure put them (Makefile.am passes
 * the directories); the dev stack names its own in $VMM_CONFIG. */
#ifndef VMM_CONFIG_FILE
#define VMM_CONFIG_FILE "/etc/vmmanager/vmmanager.conf"
#endif

int config_load(void)
{
    const char *path = getenv("VMM_CONFIG");
    GError *error = NULL;

    if (config_file)
        g_key_file_free(config_file);
    config_file = g_key_file_new();
    /* VMM_CONFIG= (empty) means no file: the built-in defaults only. */
    if (!path)
        path = VMM_CONFIG_FILE;
    if (!*path)
        return 0;
    if (!g_key_file_load_from_file(config_file, path, G_KEY_FILE_NONE, &error)) {
        log_error("cannot read config %s: %s", path, error->message);
        g_error_free(error);
        return -1;
    }
    return 0;
}

/* VMM_<GROUP>_<KEY>, upper-case: the override a deployment sets. */
static const char *config_env(const char *group, const char *key)
{
    char name[128];
    size_t n = (size_t)snprintf(name, sizeof name, "VMM_%s_%s", group, key);
    if (n >= sizeof name)
        return NULL;
    for (char *p = name; *p; p++)
        *p = (char)toupper((unsigned char)*p);
    return getenv(name);
}

const char *config_str(const char *group, const char *key, const char *fallback)
{
    const char *env = config_env(group, key);
    if (env)
        return env;
    if (!config_file)
        return fallback;

    /* Values are interned so callers never own or free them. */
    char *value = g_key_file_get_string(config_file, group, key, NULL);
    if (!value)
        return fallback;
    const char *interned = g_intern_string(g_strstrip(value));
    g_free(value);
    return interned;
}

long long config_int(const char *group, const char *key, long long fallback)
{
    const char *text = config_str(group, key, NULL);
    if (!text || !*text)
        return fallback;
    char *end;
    errno = 0;
    long long value = strtoll(text, &end, 10);
    if (errno || *end) {
        log_warn("config %s.%s=%s is not a number; using %lld", group, key, text, fallback);
        return fallback;
    }
    return value;
}

bool config_bool(const char *group, const char *key, bool fallback)
{
    const char *text = config_str(group, key, NULL);
    if (!text || !*text)
        return fallback;
    if (!strcmp(text, "true") || !strcmp(text, "1") || !strcmp(text, "yes"))
        return true;
    if (!strcmp(text, "false") || !strcmp(text, "0") || !strcmp(text, "no"))
        return false;
    log_warn("config %s.%s=%s is not a boolean", group, key, text);
    return fallback;
}
