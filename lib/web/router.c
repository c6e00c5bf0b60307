#include "router.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "i18n.h"

static bool kind_matches(const struct route *route, const struct req *r)
{
    if (route->kind == ROUTE_API)
        return r->api;
    if (route->kind == ROUTE_PAGE)
        return !r->api;
    return true;
}

static bool segment_is_int(const char *text, long long *out)
{
    char *end;
    if (!*text || *text == '-' || *text == '+' || *text == ' ')
        return false;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (errno || *end || v <= 0)
        return false;
    *out = v;
    return true;
}

static void params_clear(struct req *r)
{
    for (int i = 0; i < r->nparams; i++)
        g_free(r->params[i].text);
    r->nparams = 0;
}

/* Matches path against pattern segment by segment. A {name:int} segment
 * must be a positive integer; otherwise the path does not match, so a bad
 * id is a plain 404. */
static bool pattern_match(struct req *r, const char *pattern, const char *path)
{
    gchar **want = g_strsplit(pattern, "/", 16);
    gchar **have = g_strsplit(path, "/", 16);
    bool ok = g_strv_length(want) == g_strv_length(have);

    params_clear(r);
    for (int i = 0; ok && want[i]; i++) {
        const char *w = want[i];
        size_t wl = strlen(w);
        if (wl > 2 && w[0] == '{' && w[wl - 1] == '}') {
            if (!*have[i] || r->nparams == HTTP_MAX_PARAMS) {
                ok = false;
                break;
            }
            struct route_param *p = &r->params[r->nparams];
            const char *colon = strchr(w, ':');
            gchar *name = colon ? g_strndup(w + 1, (gsize)(colon - w - 1)) : g_strndup(w + 1, wl - 2);
            p->name = g_intern_string(name);
            g_free(name);
            if (colon && !strcmp(colon, ":int}") && !segment_is_int(have[i], &p->num)) {
                ok = false;
                break;
            }
            p->text = g_strdup(have[i]);
            r->nparams++;
        } else if (strcmp(w, have[i]) != 0) {
            ok = false;
        }
    }
    g_strfreev(want);
    g_strfreev(have);
    if (!ok)
        params_clear(r);
    return ok;
}

const struct route *router_match(struct req *r, const struct route *routes)
{
    bool path_known = false;
    bool is_head = !strcmp(r->method, "HEAD");

    for (const struct route *route = routes; route->method; route++) {
        if (!kind_matches(route, r) || !pattern_match(r, route->pattern, r->route_path))
            continue;
        path_known = true;
        if (!strcmp(route->method, r->method) || (is_head && !strcmp(route->method, "GET")))
            return route;
    }
    params_clear(r);
    if (path_known)
        req_fail(r, 405, "method_not_allowed", NULL, _("This method is not allowed here."));
    else
        req_fail(r, 404, "not_found", NULL, _("There is nothing at this address."));
    return NULL;
}

const struct route *router_page_for(struct req *r, const struct route *routes)
{
    /* The form's own path first ("/users"), then its parents
     * ("/users/3/password" lives on "/users/3"). */
    const char *saved = r->route_path;
    char *path = g_strdup(r->route_path);
    const struct route *found = NULL;

    for (;;) {
        r->route_path = path;
        for (const struct route *route = routes; !found && route->method; route++)
            if (!strcmp(route->method, "GET") && route->page && kind_matches(route, r) &&
                pattern_match(r, route->pattern, path))
                found = route;
        char *slash = strrchr(path, '/');
        if (found || !slash || slash == path)
            break;
        *slash = '\0';
    }
    r->route_path = saved;
    g_free(path);
    return found;
}
