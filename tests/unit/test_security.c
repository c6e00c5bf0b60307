/* Passwords, tokens, session expiry, CSRF and the JSON error shape. */
#include <string.h>

#include "app.h"
#include "password.h"
#include "session.h"
#include "token.h"
#include "unit.h"

START_TEST(test_password_roundtrip)
{
    char a[PASSWORD_HASH_MAX], b[PASSWORD_HASH_MAX];
    ck_assert_int_eq(password_hash("correct horse 测试", a), 0);
    ck_assert_int_eq(password_hash("correct horse 测试", b), 0);
    ck_assert(g_str_has_prefix(a, "scrypt$32768$8$1$"));
    ck_assert_str_ne(a, b);   /* per-hash salt */
    ck_assert(password_verify("correct horse 测试", a));
    ck_assert(password_verify("correct horse 测试", b));
    ck_assert(!password_verify("correct horse", a));
    ck_assert(!password_verify("", a));
    ck_assert(!password_verify(NULL, a));
}
END_TEST

static const char *const bad_hashes[] = {
    "",
    "plain",
    "md5$abc",
    "scrypt$32768$8$1$c2FsdA==",
    "scrypt$1073741824$8$1$c2FsdHNhbHRzYWx0c2FsdA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
    "scrypt$32767$8$1$c2FsdHNhbHRzYWx0c2FsdA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
    "scrypt$32768$8$1$c2FsdHNhbHRzYWx0c2FsdA==$AAAA",
};

START_TEST(test_password_refuses_bad_hashes)
{
    ck_assert(!password_verify("anything", bad_hashes[_i]));
}
END_TEST

START_TEST(test_tokens)
{
    char a[TOKEN_HEX_LEN + 1], b[TOKEN_HEX_LEN + 1], d[TOKEN_HEX_LEN + 1];
    ck_assert_int_eq(token_new(a), 0);
    ck_assert_int_eq(token_new(b), 0);
    ck_assert_int_eq(strlen(a), 64);
    ck_assert_str_ne(a, b);
    ck_assert(token_well_formed(a));
    ck_assert(!token_well_formed("abc"));
    ck_assert(!token_well_formed(NULL));
    token_digest("abc", d);
    ck_assert_str_eq(d, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    ck_assert(token_equal(a, a));
    ck_assert(!token_equal(a, b));
    ck_assert(!token_equal(a, NULL));
    ck_assert(!token_equal("abc", "abcd"));
}
END_TEST

/* VNC passwords: 8 letters and digits, a fresh one each time. */
START_TEST(test_token_password)
{
    char a[9], b[9];
    ck_assert_int_eq(token_password(a, 8), 0);
    ck_assert_int_eq(token_password(b, 8), 0);
    ck_assert_int_eq(strlen(a), 8);
    ck_assert_int_eq(strspn(a, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"), 8);
    ck_assert_str_ne(a, b);
}
END_TEST

struct expiry_case {
    long long created, last_seen, now, idle, absolute;
    bool expired;
};

static const struct expiry_case expiry_cases[] = {
    { 1000, 1000, 1000, 1800, 43200, false },
    { 1000, 2000, 3799, 1800, 43200, false },
    { 1000, 2000, 3800, 1800, 43200, true },     /* idle exactly reached */
    { 1000, 44000, 44100, 1800, 43200, false },
    { 1000, 44100, 44200, 1800, 43200, true },   /* kept busy, but too old */
    { 1000, 1000, 999, 1800, 43200, true },      /* clock went backwards */
};

START_TEST(test_session_expiry)
{
    const struct expiry_case *c = &expiry_cases[_i];
    ck_assert_int_eq(session_expired(c->created, c->last_seen, c->now, c->idle, c->absolute),
                     c->expired);
}
END_TEST

/* app_handle with a one-route table: what lib/ does before a handler. */
static int handler_ran;
static int h_change(struct req *r)
{
    handler_ran++;
    return 0;
}
static const struct field change_fields[] = { { "name", FIELD_STRING, false, 0, 10 }, { NULL } };
static const struct route routes[] = {
    { "POST", "/things", h_change, PERM_ANON, ROUTE_BOTH, NULL, NULL, change_fields, "thing.change" },
    { "GET", "/secret", h_change, PERM_ADMIN, ROUTE_BOTH },
    { NULL },
};

static void handle(struct req *r, char **env, const char *body)
{
    ck_assert_int_eq(req_parse_env(r, env), 0);
    if (body)
        req_set_body(r, g_strdup(body), strlen(body));
    app_handle(r, routes);
}

START_TEST(test_csrf_required_for_forms)
{
    struct req r;
    req_init(&r);
    handler_ran = 0;
    char *env[] = { "REQUEST_METHOD=POST", "REQUEST_URI=/things", "CONTENT_LENGTH=8",
                    "CONTENT_TYPE=application/x-www-form-urlencoded", NULL };
    handle(&r, env, "name=abc");
    ck_assert_int_eq(r.status, 403);
    ck_assert_str_eq(r.err.code, "csrf_failed");
    ck_assert_int_eq(handler_ran, 0);
    req_reset(&r);

    /* A token that does not match the cookie is refused too. */
    char token[TOKEN_HEX_LEN + 1], other[TOKEN_HEX_LEN + 1];
    token_new(token);
    token_new(other);
    char *cookie = g_strdup_printf("HTTP_COOKIE=vmm_csrf=%s", token);
    char *body = g_strdup_printf("name=abc&csrf_token=%s", other);
    char *env2[] = { "REQUEST_METHOD=POST", "REQUEST_URI=/things", cookie,
                     "CONTENT_TYPE=application/x-www-form-urlencoded", NULL };
    handle(&r, env2, body);
    ck_assert_int_eq(r.status, 403);
    ck_assert_int_eq(handler_ran, 0);
    req_reset(&r);
    g_free(body);

    /* The matching token passes, and the handler runs once. */
    body = g_strdup_printf("name=abc&csrf_token=%s", token);
    handle(&r, env2, body);
    ck_assert_int_eq(handler_ran, 1);
    ck_assert_int_eq(r.status, 303);
    req_reset(&r);
    g_free(body);
    g_free(cookie);
}
END_TEST

START_TEST(test_json_error_shape)
{
    struct req r;
    req_init(&r);
    char *env[] = { "REQUEST_METHOD=GET", "REQUEST_URI=/api/v1/nowhere", NULL };
    handle(&r, env, NULL);
    ck_assert_int_eq(r.status, 404);
    ck_assert_str_eq(r.resp_type, "application/json; charset=utf-8");
    json_t *body = json_loads(r.resp_body->str, 0, NULL);
    ck_assert_ptr_nonnull(body);
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(body, "error"), "code")),
                     "not_found");
    ck_assert(json_is_string(json_object_get(json_object_get(body, "error"), "message")));
    ck_assert_ptr_null(json_object_get(body, "data"));
    json_decref(body);
    req_reset(&r);

    char *env2[] = { "REQUEST_METHOD=GET", "REQUEST_URI=/api/v1/secret", NULL };
    handle(&r, env2, NULL);
    ck_assert_int_eq(r.status, 401);
    ck_assert_ptr_nonnull(strstr(r.resp_body->str, "\"unauthenticated\""));
    req_reset(&r);

    /* A page asks the visitor to log in instead. */
    char *env3[] = { "REQUEST_METHOD=GET", "REQUEST_URI=/secret", NULL };
    handle(&r, env3, NULL);
    ck_assert_int_eq(r.status, 303);
    ck_assert_str_eq(g_ptr_array_index(r.resp_headers, r.resp_headers->len - 1),
                     "Location: /login?next=/secret");
    req_reset(&r);
}
END_TEST

START_TEST(test_api_rejects_non_json)
{
    struct req r;
    req_init(&r);
    handler_ran = 0;
    char *env[] = { "REQUEST_METHOD=POST", "REQUEST_URI=/api/v1/things",
                    "CONTENT_TYPE=text/plain", NULL };
    handle(&r, env, "{\"name\":\"x\"}");
    ck_assert_int_eq(r.status, 415);
    ck_assert_int_eq(handler_ran, 0);
    req_reset(&r);
}
END_TEST

START_TEST(test_local_path)
{
    ck_assert_str_eq(local_path("/users"), "/users");
    ck_assert_ptr_null(local_path("//evil.example"));
    ck_assert_ptr_null(local_path("/\\evil.example"));
    ck_assert_ptr_null(local_path("https://evil.example"));
    ck_assert_ptr_null(local_path("/x\r\nSet-Cookie: a=b"));
    ck_assert_ptr_null(local_path(NULL));
}
END_TEST

static Suite *security_suite(void)
{
    Suite *s = suite_create("security");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_password_roundtrip);
    tcase_add_loop_test(tc, test_password_refuses_bad_hashes, 0, G_N_ELEMENTS(bad_hashes));
    tcase_add_test(tc, test_tokens);
    tcase_add_test(tc, test_token_password);
    tcase_add_loop_test(tc, test_session_expiry, 0, G_N_ELEMENTS(expiry_cases));
    tcase_add_test(tc, test_csrf_required_for_forms);
    tcase_add_test(tc, test_json_error_shape);
    tcase_add_test(tc, test_api_rejects_non_json);
    tcase_add_test(tc, test_local_path);
    suite_add_tcase(s, tc);
    return s;
}

UNIT_MAIN(security_suite)
