/* libFuzzer harness: the request parser. One input is what nginx passes a
 * program for one client request: FastCGI parameters "NAME=value", one a
 * line, then an empty line and the body (any bytes). It goes through what
 * lib/ does before a handler runs: req_parse_env, req_set_body, cookies,
 * query, Accept-Language, the router and the body's fields (JSON or form),
 * and the response is serialized. No database: nothing here needs one.
 * The one struct req lives across inputs and is reset after each, as in a
 * FastCGI worker. */
#include <glib.h>
#include <stdint.h>
#include <string.h>

#include "http.h"
#include "i18n.h"
#include "input.h"
#include "router.h"
#include "session.h"
#include "token.h"

static int handled(struct req *r)
{
    return 0;
}

static const char *const roles[] = { "user", "admin", NULL };
static const char *const states[] = { "running", "shutoff", "paused", NULL };
/* One field of each type, as the programs' tables use them. */
static const struct field fields[] = {
    { "name", FIELD_STRING, true, 1, 64 },
    { "notes", FIELD_TEXT, false, 0, 1000 },
    { "memory_mb", FIELD_INT, false, 64, 1 << 20 },
    { "enabled", FIELD_BOOL },
    { "role", FIELD_ENUM, false, 0, 0, roles },
    { "group_ids", FIELD_ID_LIST, false, 0, 16 },
    { "states", FIELD_ENUM_LIST, false, 0, 3, states },
    { NULL },
};
static const struct field login_fields[] = {
    { "username", FIELD_STRING, true, 1, 64 },
    { "password", FIELD_STRING, true, 1, 256 },
    { NULL },
};

static const struct route routes[] = {
    { "GET", "/", handled, PERM_ANON, ROUTE_PAGE },
    { "POST", "/login", handled, PERM_ANON, ROUTE_BOTH, NULL, NULL, login_fields },
    { "GET", "/vms", handled, PERM_USER, ROUTE_BOTH },
    { "POST", "/vms", handled, PERM_USER, ROUTE_BOTH, NULL, NULL, fields },
    { "GET", "/vms/{id:int}", handled, PERM_USER, ROUTE_BOTH },
    { "PATCH", "/vms/{id:int}", handled, PERM_USER, ROUTE_API, NULL, NULL, fields },
    { "POST", "/vms/{id:int}/{action}", handled, PERM_USER, ROUTE_BOTH, NULL, NULL, fields },
    { "DELETE", "/users/{id:int}/groups/{group_id:int}", handled, PERM_ADMIN, ROUTE_API },
    { "PUT", "/pictures/{name}", handled, PERM_USER, ROUTE_API, NULL, NULL, NULL, NULL, false,
      true },
    { NULL },
};

#define MAX_ENV 64

static struct req r;

static void request_run(char **envp, const uint8_t *body, size_t body_len)
{
    if (req_parse_env(&r, envp) < 0)
        return;
    if (body_len > 0) {
        char *copy = g_malloc(body_len + 1);
        memcpy(copy, body, body_len);
        copy[body_len] = '\0';
        req_set_body(&r, copy, body_len);
    }
    char *session = req_cookie(&r, SESSION_COOKIE);
    char *csrf = req_cookie(&r, "vmm_csrf");
    char *lang = req_cookie(&r, "vmm_lang");
    (void)token_well_formed(session);
    (void)token_well_formed(csrf);
    (void)token_equal(csrf, r.csrf_header);
    (void)i18n_code(lang);
    (void)i18n_from_accept_language(r.accept_language);
    g_free(session);
    g_free(csrf);
    g_free(lang);
    (void)req_env(&r, "HTTP_UPLOAD_OFFSET");
    (void)req_query(&r, "state");

    const struct route *route = router_match(&r, routes);
    if (route && !route->raw_body)
        input_parse(&r, route->fields);
    else if (!route)
        (void)router_page_for(&r, routes);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool ready;
    if (!ready) {
        req_init(&r);
        ready = true;
    }
    /* The parameters end at the first empty line; the rest is the body. */
    const uint8_t *end = data + size, *p = data;
    char *envp[MAX_ENV + 1];
    int n = 0;
    while (p < end && *p != '\n' && n < MAX_ENV) {
        const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
        const uint8_t *stop = nl ? nl : end;
        envp[n++] = g_strndup((const char *)p, (gsize)(stop - p));
        p = nl ? nl + 1 : end;
    }
    envp[n] = NULL;
    if (p < end && *p == '\n')
        p++;

    request_run(envp, p, (size_t)(end - p));
    if (r.err.status)
        r.status = r.err.status;
    GString *out = g_string_new(NULL);
    resp_serialize(&r, out);
    g_string_free(out, TRUE);
    req_reset(&r);
    for (int i = 0; i < n; i++)
        g_free(envp[i]);
    return 0;
}
