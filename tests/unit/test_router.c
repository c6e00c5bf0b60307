/* The route table: matching, typed path parameters, 404 versus 405. */
#include <string.h>

#include "compat.h"
#include "router.h"
#include "unit.h"
#include "user.h"

static int h_list(struct req *r) { return 0; }
static int h_show(struct req *r) { return 0; }
static int h_update(struct req *r) { return 0; }
static int h_form(struct req *r) { return 0; }
static int h_password(struct req *r) { return 0; }
static int h_home(struct req *r) { return 0; }
static int h_named(struct req *r) { return 0; }

static const struct route routes[] = {
    { "GET", "/", h_home, PERM_USER, ROUTE_PAGE, "home.tpl" },
    { "GET", "/users", h_list, PERM_ADMIN, ROUTE_BOTH, "users.tpl" },
    { "GET", "/users/{id:int}", h_show, PERM_ADMIN, ROUTE_BOTH, "user.tpl" },
    { "PATCH", "/users/{id:int}", h_update, PERM_ADMIN, ROUTE_API },
    { "POST", "/users/{id:int}", h_form, PERM_ADMIN, ROUTE_PAGE },
    { "POST", "/users/{id:int}/password", h_password, PERM_ADMIN, ROUTE_PAGE },
    { "GET", "/files/{name}", h_named, PERM_USER, ROUTE_BOTH },
    { NULL },
};

struct match_case {
    const char *method;
    const char *uri;
    route_handler handler;   /* NULL: no match */
    int status;              /* when no match */
    long long id;            /* expected {id} */
};

static const struct match_case cases[] = {
    { "GET", "/", h_home, 0, 0 },
    { "GET", "/api/v1", NULL, 404, 0 },                  /* the home page has no API twin */
    { "GET", "/users", h_list, 0, 0 },
    { "HEAD", "/users", h_list, 0, 0 },
    { "GET", "/api/v1/users", h_list, 0, 0 },
    { "GET", "/users/42", h_show, 0, 42 },
    { "GET", "/api/v1/users/42", h_show, 0, 42 },
    { "PATCH", "/api/v1/users/7", h_update, 0, 7 },
    { "PATCH", "/users/7", NULL, 405, 0 },               /* API-only method on the page path */
    { "POST", "/users/7", h_form, 0, 7 },
    { "POST", "/api/v1/users/7", NULL, 405, 0 },
    { "DELETE", "/api/v1/users", NULL, 405, 0 },
    { "GET", "/users/abc", NULL, 404, 0 },
    { "GET", "/users/0", NULL, 404, 0 },
    { "GET", "/users/-1", NULL, 404, 0 },
    { "GET", "/users/1e3", NULL, 404, 0 },
    { "GET", "/users/99999999999999999999", NULL, 404, 0 },
    { "GET", "/users/1/", NULL, 404, 0 },
    { "GET", "/users//1", NULL, 404, 0 },
    { "GET", "/nothing", NULL, 404, 0 },
    { "GET", "/api/v1/nothing", NULL, 404, 0 },
    { "GET", "/files/report.txt", h_named, 0, 0 },
    { "GET", "/files/", NULL, 404, 0 },
};

START_TEST(test_match_table)
{
    const struct match_case *c = &cases[_i];
    struct req r;
    req_init(&r);
    char uri[128], method[64];
    snprintf(uri, sizeof uri, "REQUEST_URI=%s", c->uri);
    snprintf(method, sizeof method, "REQUEST_METHOD=%s", c->method);
    char *env[] = { method, uri, NULL };
    ck_assert_int_eq(req_parse_env(&r, env), 0);

    const struct route *route = router_match(&r, routes);
    if (c->handler) {
        ck_assert_msg(route && route->handler == c->handler, "%s %s", c->method, c->uri);
        if (c->id)
            ck_assert_int_eq(req_param(&r, "id")->num, c->id);
    } else {
        ck_assert_msg(route == NULL, "%s %s matched", c->method, c->uri);
        ck_assert_int_eq(r.err.status, c->status);
    }
    req_reset(&r);
}
END_TEST

START_TEST(test_form_page_is_path_or_parent)
{
    struct req r;
    req_init(&r);
    char *env[] = { "REQUEST_METHOD=POST", "REQUEST_URI=/users/3/password", NULL };
    ck_assert_int_eq(req_parse_env(&r, env), 0);
    const struct route *page = router_page_for(&r, routes);
    ck_assert_ptr_nonnull(page);
    ck_assert_ptr_eq(page->handler, h_show);
    ck_assert_int_eq(req_param(&r, "id")->num, 3);
    ck_assert_str_eq(r.route_path, "/users/3/password");
    req_reset(&r);
}
END_TEST

/* The guide's /restart is our /reboot, for the API only, said deprecated. */
START_TEST(test_compat_alias)
{
    struct req r;
    req_init(&r);
    char *env[] = { "REQUEST_METHOD=POST", "REQUEST_URI=/api/v1/vms/12/restart", NULL };
    ck_assert_int_eq(req_parse_env(&r, env), 0);
    compat_route(&r);
    ck_assert_str_eq(r.route_path, "/vms/12/reboot");
    ck_assert_str_eq(r.path, "/api/v1/vms/12/restart");   /* the audit keeps what was asked */
    bool deprecated = false;
    for (guint i = 0; i < r.resp_headers->len; i++)
        deprecated |= !strcmp(g_ptr_array_index(r.resp_headers, i), "Deprecation: true");
    ck_assert(deprecated);
    req_reset(&r);

    const char *untouched[][2] = { { "POST", "/restart" }, { "GET", "/api/v1/vms/12/restart" },
                                   { "POST", "/api/v1/vms/12/restart/x" },
                                   { "POST", "/api/v1/vms//restart" } };
    for (size_t i = 0; i < G_N_ELEMENTS(untouched); i++) {
        char method[32], uri[64];
        snprintf(method, sizeof method, "REQUEST_METHOD=%s", untouched[i][0]);
        snprintf(uri, sizeof uri, "REQUEST_URI=%s", untouched[i][1]);
        char *env2[] = { method, uri, NULL };
        ck_assert_int_eq(req_parse_env(&r, env2), 0);
        compat_route(&r);
        ck_assert_ptr_null(r.alias_path);
        req_reset(&r);
    }
}
END_TEST

START_TEST(test_compat_slug)
{
    const char *slugs[][2] = { { "Ubuntu 20.04 Server", "ubuntu-20.04-server" },
                               { "  Demo (busybox) ", "demo-busybox" },
                               { "web-server-template", "web-server-template" },
                               { "测试 模板", "" }, { "", "" } };
    for (size_t i = 0; i < G_N_ELEMENTS(slugs); i++) {
        char *slug = compat_slug(slugs[i][0]);
        ck_assert_str_eq(slug, slugs[i][1]);
        g_free(slug);
    }
}
END_TEST

/* The guide's start body becomes ours; what we cannot do is a 422 naming
 * the guide's field, and nothing else is touched. */
static int h_action(struct req *r) { return 0; }
static const struct field action_fields[] = { { "boot", FIELD_STRING }, { "force", FIELD_BOOL },
                                              { NULL } };
static const struct route action_routes[] = {
    { "POST", "/vms/{id:int}/{action}", h_action, PERM_USER, ROUTE_BOTH, NULL, NULL,
      action_fields },
    { NULL },
};

static void compat_start(struct req *r, struct user *user, const char *uri, const char *body)
{
    char uri_env[96];
    snprintf(uri_env, sizeof uri_env, "REQUEST_URI=%s", uri);
    char *env[] = { "REQUEST_METHOD=POST", uri_env, "CONTENT_TYPE=application/json", NULL };
    ck_assert_int_eq(req_parse_env(r, env), 0);
    req_set_body(r, g_strdup(body), strlen(body));
    r->user = user;
    const struct route *route = router_match(r, action_routes);
    ck_assert_ptr_nonnull(route);
    compat_body(r, route);
    r->user = NULL;   /* not req_reset's to free */
}

START_TEST(test_compat_start_body)
{
    struct user user = { .id = 5 };
    struct req r;
    req_init(&r);
    compat_start(&r, &user, "/api/v1/vms/9/start",
                 "{\"vmId\":\"9\",\"bootMode\":\"cdrom\",\"snapshot\":null,\"console\":true}");
    ck_assert_int_eq(r.err.status, 0);
    ck_assert_str_eq(r.body, "{\"boot\":\"cdrom\"}");
    req_reset(&r);

    compat_start(&r, &user, "/api/v1/vms/9/start", "{\"bootMode\":\"recovery\"}");
    ck_assert_int_eq(r.err.status, 422);
    ck_assert_str_eq(r.err.code, "unsupported");
    ck_assert_str_eq(r.err.field, "bootMode");
    req_reset(&r);

    compat_start(&r, &user, "/api/v1/vms/9/start", "{\"vmId\":8}");
    ck_assert_int_eq(r.err.status, 422);
    ck_assert_str_eq(r.err.field, "vmId");
    req_reset(&r);

    /* Our own names pass byte for byte; stop has no mapping at all. */
    compat_start(&r, &user, "/api/v1/vms/9/start", "{\"boot\":\"normal\"}");
    ck_assert_str_eq(r.body, "{\"boot\":\"normal\"}");
    req_reset(&r);
    compat_start(&r, &user, "/api/v1/vms/9/stop", "{\"bootMode\":\"x\",\"force\":true}");
    ck_assert_int_eq(r.err.status, 0);
    ck_assert_str_eq(r.body, "{\"bootMode\":\"x\",\"force\":true}");
    req_reset(&r);
}
END_TEST

static Suite *router_suite(void)
{
    Suite *s = suite_create("router");
    TCase *tc = tcase_create("match");
    tcase_add_loop_test(tc, test_match_table, 0, G_N_ELEMENTS(cases));
    tcase_add_test(tc, test_form_page_is_path_or_parent);
    tcase_add_test(tc, test_compat_alias);
    tcase_add_test(tc, test_compat_slug);
    tcase_add_test(tc, test_compat_start_body);
    suite_add_tcase(s, tc);
    return s;
}

UNIT_MAIN(router_suite)
