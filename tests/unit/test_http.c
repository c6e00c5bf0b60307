/* Request parsing and response writing: the edges an attacker pushes on. */
#include <string.h>

#include "http.h"
#include "input.h"
#include "unit.h"

static struct req r;

static void setup(void) { req_init(&r); }
static void teardown(void) { req_reset(&r); }

struct parse_case {
    const char *uri;
    const char *content_length;
    int status;          /* 0: parses */
    const char *code;
    const char *path;    /* decoded path when it parses */
    int api;
};

static const struct parse_case parse_cases[] = {
    { "/", NULL, 0, NULL, "/", 0 },
    { "/users?page=2", "0", 0, NULL, "/users", 0 },
    { "/api/v1/users", "12", 0, NULL, "/api/v1/users", 1 },
    { "/api/other", NULL, 0, NULL, "/api/other", 1 },
    { "/%E6%B5%8B%E8%AF%95", NULL, 0, NULL, "/测试", 0 },
    { "/a%00b", NULL, 400, "bad_path", NULL, 0 },
    { "/a%0d%0aSet-Cookie:x", NULL, 400, "bad_path", NULL, 0 },
    { "/bad%zzescape", NULL, 400, "bad_path", NULL, 0 },
    { "/%ff%fe", NULL, 400, "bad_path", NULL, 0 },
    { "relative", NULL, 400, "bad_path", NULL, 0 },
    { "/x", "-1", 400, "bad_content_length", NULL, 0 },
    { "/x", "12abc", 400, "bad_content_length", NULL, 0 },
    { "/x", " 12", 400, "bad_content_length", NULL, 0 },
    { "/x", "99999999999999999999999", 400, "bad_content_length", NULL, 0 },
    { "/x", "+5", 400, "bad_content_length", NULL, 0 },
    { "/x?a=%00", NULL, 400, "bad_query", NULL, 0 },
    { "/x?a=%zz", NULL, 400, "bad_query", NULL, 0 },
};

START_TEST(test_parse_table)
{
    const struct parse_case *c = &parse_cases[_i];
    char uri[256], length[64];
    snprintf(uri, sizeof uri, "REQUEST_URI=%s", c->uri);
    snprintf(length, sizeof length, "CONTENT_LENGTH=%s", c->content_length ? c->content_length : "");
    char *env[] = { "REQUEST_METHOD=GET", uri, length, NULL };

    int rc = req_parse_env(&r, env);
    if (c->status) {
        ck_assert_int_eq(rc, -1);
        ck_assert_int_eq(r.err.status, c->status);
        ck_assert_str_eq(r.err.code, c->code);
    } else {
        ck_assert_msg(rc == 0, "%s: %s", c->uri, r.err.code);
        ck_assert_str_eq(r.path, c->path);
        ck_assert_int_eq(r.api, c->api);
    }
}
END_TEST

START_TEST(test_api_prefix_stripped)
{
    char *env[] = { "REQUEST_URI=/api/v1/users/7?x=1", NULL };
    ck_assert_int_eq(req_parse_env(&r, env), 0);
    ck_assert_str_eq(r.route_path, "/users/7");
    ck_assert_str_eq(req_query(&r, "x"), "1");
    req_reset(&r);
    char *env2[] = { "REQUEST_URI=/api/v1", NULL };
    ck_assert_int_eq(req_parse_env(&r, env2), 0);
    ck_assert_str_eq(r.route_path, "/");
}
END_TEST

START_TEST(test_empty_query_values_are_absent)
{
    char *env[] = { "REQUEST_URI=/vms?state=&q=web&arch=", NULL };
    ck_assert_int_eq(req_parse_env(&r, env), 0);
    ck_assert_ptr_null(req_query(&r, "state"));
    ck_assert_ptr_null(req_query(&r, "arch"));
    ck_assert_str_eq(req_query(&r, "q"), "web");
}
END_TEST

START_TEST(test_huge_header_refused)
{
    GString *ua = g_string_new("HTTP_USER_AGENT=");
    for (int i = 0; i < HTTP_MAX_HEADER_BYTES + 1; i++)
        g_string_append_c(ua, 'a');
    char *env[] = { "REQUEST_URI=/", ua->str, NULL };
    ck_assert_int_eq(req_parse_env(&r, env), -1);
    ck_assert_int_eq(r.err.status, 431);
    g_string_free(ua, TRUE);
}
END_TEST

START_TEST(test_body_with_nul_refused)
{
    char *env[] = { "REQUEST_URI=/", NULL };
    ck_assert_int_eq(req_parse_env(&r, env), 0);
    char *body = g_malloc(4);
    memcpy(body, "a\0b", 4);
    /* Kept for raw-body routes (images); input_parse refuses it. */
    ck_assert_int_eq(req_set_body(&r, body, 3), 0);
    ck_assert(r.body_has_nul);
    ck_assert_int_eq(input_parse(&r, NULL), -1);
    ck_assert_int_eq(r.err.status, 400);
}
END_TEST

START_TEST(test_request_id_from_server_only_if_clean)
{
    char *env[] = { "REQUEST_URI=/", "REQUEST_ID=abc\r\nX-Evil: 1", NULL };
    ck_assert_int_eq(req_parse_env(&r, env), 0);
    ck_assert_ptr_null(strpbrk(r.request_id, "\r\n: "));
    ck_assert_int_eq(strlen(r.request_id), 16);
}
END_TEST

START_TEST(test_cookies)
{
    char *env[] = { "REQUEST_URI=/", "HTTP_COOKIE=a=1; vmm_session=abc;b=2;  c=", NULL };
    ck_assert_int_eq(req_parse_env(&r, env), 0);
    char *v = req_cookie(&r, "vmm_session");
    ck_assert_str_eq(v, "abc");
    g_free(v);
    v = req_cookie(&r, "b");
    ck_assert_str_eq(v, "2");
    g_free(v);
    ck_assert_ptr_null(req_cookie(&r, "vmm"));
    ck_assert_ptr_null(req_cookie(&r, "missing"));
}
END_TEST

struct header_case {
    const char *name;
    const char *value;
    int rc;
};

static const struct header_case header_cases[] = {
    { "Location", "/users/1", 0 },
    { "X-Test", "tab\tok", 0 },
    { "Location", "/x\r\nSet-Cookie: evil=1", -1 },
    { "Location", "/x\nSet-Cookie: evil=1", -1 },
    { "Location", "/x\rfoo", -1 },
    { "Bad Name", "v", -1 },
    { "Bad:Name", "v", -1 },
    { "X\r\nEvil", "v", -1 },
    { "", "v", -1 },
    { "X-Test", "nul\x01", -1 },
};

START_TEST(test_header_crlf_refused)
{
    const struct header_case *c = &header_cases[_i];
    ck_assert_int_eq(resp_header(&r, c->name, c->value), c->rc);
    GString *out = g_string_new(NULL);
    resp_serialize(&r, out);
    ck_assert_ptr_null(strstr(out->str, "evil"));
    ck_assert_ptr_null(strstr(out->str, "Evil"));
    g_string_free(out, TRUE);
}
END_TEST

START_TEST(test_body_streamed)
{
    /* A tus PATCH: nginx streams the body; the handler reads it itself. */
    char *env[] = { "REQUEST_URI=/api/v1/uploads/3", "REQUEST_METHOD=PATCH",
                    "CONTENT_LENGTH=1048576", "VMM_BODY_STREAM=1",
                    "HTTP_UPLOAD_OFFSET=0", "HTTP_UPLOAD_OFFSET_X=9", NULL };
    ck_assert_int_eq(req_parse_env(&r, env), 0);
    ck_assert(r.body_stream);
    ck_assert_int_eq(r.content_length, 1048576);
    ck_assert_str_eq(req_env(&r, "HTTP_UPLOAD_OFFSET"), "0");
    ck_assert_ptr_null(req_env(&r, "HTTP_UPLOAD"));
    ck_assert_ptr_null(req_env(&r, "HTTP_TUS_RESUMABLE"));
    char *other[] = { "REQUEST_URI=/x", "VMM_BODY_STREAM=yes", NULL };
    req_reset(&r);
    ck_assert_int_eq(req_parse_env(&r, other), 0);
    ck_assert(!r.body_stream);
}
END_TEST

START_TEST(test_no_content_has_no_body)
{
    GString *out = g_string_new(NULL);
    r.status = 204;
    g_string_assign(r.resp_body, "{\"data\":{}}");
    resp_header(&r, "Upload-Offset", "42");
    resp_serialize(&r, out);
    ck_assert_ptr_nonnull(strstr(out->str, "Status: 204 No Content\r\n"));
    ck_assert_ptr_nonnull(strstr(out->str, "Upload-Offset: 42\r\n"));
    ck_assert_ptr_null(strstr(out->str, "\r\nContent-Length:"));
    ck_assert_ptr_null(strstr(out->str, "\r\nContent-Type:"));
    ck_assert(g_str_has_suffix(out->str, "\r\n\r\n"));
    g_string_free(out, TRUE);
}
END_TEST

START_TEST(test_security_headers)
{
    GString *out = g_string_new(NULL);
    r.status = 200;
    resp_serialize(&r, out);
    ck_assert_ptr_nonnull(strstr(out->str, "Status: 200 OK\r\n"));
    ck_assert_ptr_nonnull(strstr(out->str, "Content-Security-Policy: default-src 'self'"));
    ck_assert_ptr_nonnull(strstr(out->str, "frame-ancestors 'none'"));
    ck_assert_ptr_nonnull(strstr(out->str, "X-Content-Type-Options: nosniff\r\n"));
    ck_assert_ptr_nonnull(strstr(out->str, "X-Frame-Options: DENY\r\n"));
    ck_assert_ptr_nonnull(strstr(out->str, "Referrer-Policy: same-origin\r\n"));
    g_string_free(out, TRUE);
}
END_TEST

START_TEST(test_cookie_attributes)
{
    ck_assert_int_eq(resp_cookie(&r, "vmm_session", "abc", 60), 0);
    ck_assert_int_eq(resp_cookie(&r, "x", "a;b", 60), -1);
    const char *h = g_ptr_array_index(r.resp_headers, 0);
    ck_assert_ptr_nonnull(strstr(h, "HttpOnly"));
    ck_assert_ptr_nonnull(strstr(h, "SameSite=Strict"));
    ck_assert_ptr_null(strstr(h, "Secure"));
    r.https = true;
    ck_assert_int_eq(resp_cookie(&r, "y", "1", 60), 0);
    ck_assert_ptr_nonnull(strstr(g_ptr_array_index(r.resp_headers, 1), "; Secure"));
}
END_TEST

START_TEST(test_reset_clears_everything)
{
    char *env[] = { "REQUEST_URI=/api/v1/x?a=1", "HTTP_COOKIE=a=1", NULL };
    ck_assert_int_eq(req_parse_env(&r, env), 0);
    resp_header(&r, "X-A", "1");
    g_string_append(r.resp_body, "hello");
    req_fail(&r, 404, "not_found", NULL, "x");
    req_reset(&r);
    ck_assert_int_eq(r.err.status, 0);
    ck_assert_int_eq(r.resp_headers->len, 0);
    ck_assert_int_eq(r.resp_body->len, 0);
    ck_assert_ptr_null(r.cookie_header);
    ck_assert_ptr_null(r.path);
    ck_assert_int_eq(r.api, 0);
    ck_assert_int_eq(r.status, 200);
}
END_TEST

START_TEST(test_first_error_wins)
{
    req_fail(&r, 400, "first", "a", "one");
    req_fail(&r, 503, "second", "b", "two");
    ck_assert_int_eq(r.err.status, 400);
    ck_assert_str_eq(r.err.code, "first");
}
END_TEST

static Suite *http_suite(void)
{
    Suite *s = suite_create("http");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, test_parse_table, 0, G_N_ELEMENTS(parse_cases));
    tcase_add_test(tc, test_api_prefix_stripped);
    tcase_add_test(tc, test_empty_query_values_are_absent);
    tcase_add_test(tc, test_huge_header_refused);
    tcase_add_test(tc, test_body_with_nul_refused);
    tcase_add_test(tc, test_request_id_from_server_only_if_clean);
    tcase_add_test(tc, test_cookies);
    tcase_add_loop_test(tc, test_header_crlf_refused, 0, G_N_ELEMENTS(header_cases));
    tcase_add_test(tc, test_security_headers);
    tcase_add_test(tc, test_body_streamed);
    tcase_add_test(tc, test_no_content_has_no_body);
    tcase_add_test(tc, test_cookie_attributes);
    tcase_add_test(tc, test_reset_clears_everything);
    tcase_add_test(tc, test_first_error_wins);
    suite_add_tcase(s, tc);
    return s;
}

UNIT_MAIN(http_suite)
