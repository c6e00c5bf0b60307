/* The route table: matching, typed path parameters, 404 versus 405. */
#include <string.h>

#include "router.h"
#include "unit.h"

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

static Suite *router_suite(void)
{
    Suite *s = suite_create("router");
    TCase *tc = tcase_create("match");
    tcase_add_loop_test(tc, test_match_table, 0, G_N_ELEMENTS(cases));
    tcase_add_test(tc, test_form_page_is_path_or_parent);
    suite_add_tcase(s, tc);
    return s;
}

UNIT_MAIN(router_suite)
