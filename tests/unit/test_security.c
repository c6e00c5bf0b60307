/* Passwords, tokens, session expiry, CSRF and the JSON error shape. */
#include <string.h>

#include <png.h>

#include "app.h"
#include "audit.h"
#include "csv.h"
#include "picture.h"
#include "password.h"
#include "session.h"
#include "token.h"
#include "tpl.h"
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

/* libpwquality with cracklib's dictionary (Debian's defaults). */
static const struct { const char *password, *user, *old; bool strong; } strength_cases[] = {
    { "Pw-q8Zr2mKx7Lw", "alice", NULL, true },
    { "correct horse battery staple", "alice", NULL, true },
    { "测试服务器的密码很长也很好", "alice", NULL, true },
    { "password", "alice", NULL, false },        /* the dictionary */
    { "Password1", "alice", NULL, false },
    { "qwertyuiop", "alice", NULL, false },
    { "12345678", "alice", NULL, false },
    { "aaaaaaaaaaaa", "alice", NULL, false },    /* too few different characters */
    { "Sh0rt!", "alice", NULL, false },          /* under 8 */
    { "", "alice", NULL, false },
    { "xX-alice-2026", "alice", NULL, false },   /* holds the user name */
    { "Pw-q8Zr2mKx7Lw", "bob", "Pw-q8Zr2mKx7Lw", false },   /* the same as before */
    { "Tq7-vvN2!pLe4s", "bob", "Pw-q8Zr2mKx7Lw", true },
};

START_TEST(test_password_strength)
{
    char why[PASSWORD_REASON_MAX] = "";
    bool strong = password_strong(strength_cases[_i].password, strength_cases[_i].user,
                                  strength_cases[_i].old, why);
    ck_assert_msg(strong == strength_cases[_i].strong, "%s: %s", strength_cases[_i].password, why);
    if (!strong)
        ck_assert(why[0]);
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

/* The console ticket rides in Sec-WebSocket-Protocol, beside "binary". */
#define TICKET_HEX "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
static const struct {
    const char *header;
    int rc;
} protocol_cases[] = {
    { "binary, vmm-ticket." TICKET_HEX, 0 },
    { "vmm-ticket." TICKET_HEX ",binary", 0 },
    { "vmm-ticket." TICKET_HEX, 0 },
    { "binary", -1 },
    { "", -1 },
    { NULL, -1 },
    { "binary, vmm-ticket.abc", -1 },                          /* too short */
    { "binary, vmm-ticket." TICKET_HEX "0", -1 },              /* too long */
    { "binary, vmm-ticket.0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef", -1 },
    { "vmm-ticket." TICKET_HEX ", vmm-ticket." TICKET_HEX, -1 }, /* two */
    { "binary, xvmm-ticket." TICKET_HEX, -1 },
};

START_TEST(test_token_from_protocols)
{
    char out[TOKEN_HEX_LEN + 1] = "";
    ck_assert_int_eq(token_from_protocols(protocol_cases[_i].header, "vmm-ticket.", out),
                     protocol_cases[_i].rc);
    if (protocol_cases[_i].rc == 0)
        ck_assert_str_eq(out, TICKET_HEX);
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
/* A 202 of a handler that names its API object and its job. */
static int h_object(struct req *r)
{
    req_set_object(r, "thing", json_pack("{s:i, s:s}", "id", 7, "name", "seven"));
    json_object_set_new(r->data, "page_only", json_true());
    req_set_job(r, json_pack("{s:i, s:s}", "id", 3, "state", "running"));
    r->status = 202;
    return 0;
}
static const struct field change_fields[] = { { "name", FIELD_STRING, false, 0, 10 }, { NULL } };
static const struct route routes[] = {
    { "POST", "/things", h_change, PERM_ANON, ROUTE_BOTH, NULL, NULL, change_fields, "thing.change" },
    { "GET", "/secret", h_change, PERM_ADMIN, ROUTE_BOTH },
    { "GET", "/object", h_object, PERM_ANON, ROUTE_API },
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

/* A success is {"success": true, "data": the object itself, "meta": {job}};
 * what the handler added for its page stays out of it. */
START_TEST(test_json_envelope)
{
    struct req r;
    req_init(&r);
    char *env[] = { "REQUEST_METHOD=GET", "REQUEST_URI=/api/v1/object", NULL };
    handle(&r, env, NULL);
    ck_assert_int_eq(r.status, 202);
    json_t *body = json_loads(r.resp_body->str, 0, NULL);
    ck_assert_ptr_nonnull(body);
    ck_assert(json_is_true(json_object_get(body, "success")));
    json_t *data = json_object_get(body, "data");
    ck_assert_int_eq(json_integer_value(json_object_get(data, "id")), 7);
    ck_assert_ptr_null(json_object_get(data, "thing"));
    ck_assert_ptr_null(json_object_get(data, "page_only"));
    json_t *job = json_object_get(json_object_get(body, "meta"), "job");
    ck_assert_int_eq(json_integer_value(json_object_get(job, "id")), 3);
    ck_assert_ptr_null(json_object_get(body, "error"));
    json_decref(body);
    req_reset(&r);
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
    ck_assert(json_is_false(json_object_get(body, "success")));
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

START_TEST(test_csv_defuses_formulas)
{
    GString *out = g_string_new(NULL);
    csv_cell(out, "=HYPERLINK(\"http://x\")", FALSE);
    csv_cell(out, "+1", FALSE);
    csv_cell(out, "-2", FALSE);
    csv_cell(out, "@SUM(A1)", FALSE);
    csv_cell(out, "plain, with \"quotes\"", FALSE);
    csv_cell(out, NULL, FALSE);
    csv_cell(out, "测试", TRUE);
    ck_assert_str_eq(out->str, "\"'=HYPERLINK(\"\"http://x\"\")\",\"'+1\",\"'-2\",\"'@SUM(A1)\","
                               "\"plain, with \"\"quotes\"\"\",\"\",\"测试\"\r\n");
    g_string_free(out, TRUE);
}
END_TEST

/* One cell each: what goes in, what comes out (quoted, without the comma). */
static const struct { const char *in, *out; } csv_cases[] = {
    { "=1+1", "\"'=1+1\"" },
    { "+1", "\"'+1\"" },
    { "-2", "\"'-2\"" },
    { "@SUM(A1)", "\"'@SUM(A1)\"" },
    { "  =HYPERLINK(\"http://x\")", "\"'  =HYPERLINK(\"\"http://x\"\")\"" },
    { " \t+1", "\"' \t+1\"" },
    { "\t=1", "\"'\t=1\"" },
    { "\r\n-2", "\"'\r\n-2\"" },
    { "\n@x", "\"'\n@x\"" },
    { "   @", "\"'   @\"" },
    { "\tplain", "\"'\tplain\"" },   /* a tab first stays defused, as before */
    { "  plain", "\"  plain\"" },
    { "a=1", "\"a=1\"" },
    { "x -1", "\"x -1\"" },
    { "", "\"\"" },
    { "   ", "\"   \"" },
    { "测试 =1", "\"测试 =1\"" },
};

START_TEST(test_csv_cell_cases)
{
    GString *out = g_string_new(NULL);
    csv_cell(out, csv_cases[_i].in, TRUE);
    g_string_truncate(out, out->len - 2);   /* the CRLF of the last cell */
    ck_assert_str_eq(out->str, csv_cases[_i].out);
    g_string_free(out, TRUE);
}
END_TEST

/* A w x h grey PNG made by libpng; *len gets its size. */
static unsigned char *make_png(unsigned w, unsigned h, size_t *len)
{
    png_image image = { .version = PNG_IMAGE_VERSION, .width = w, .height = h,
                        .format = PNG_FORMAT_GRAY };
    unsigned char *pixels = g_malloc0((size_t)w * h);
    png_alloc_size_t size = 0;
    ck_assert(png_image_write_to_memory(&image, NULL, &size, 0, pixels, 0, NULL));
    unsigned char *out = g_malloc(size);
    ck_assert(png_image_write_to_memory(&image, out, &size, 0, pixels, 0, NULL));
    g_free(pixels);
    *len = size;
    return out;
}

START_TEST(test_picture_check)
{
    struct req r;
    struct picture_info info;
    size_t len;
    unsigned char *ok = make_png(32, 16, &len);

    req_init(&r);
    ck_assert_int_eq(picture_check(&r, ok, len, 1024, &info), 0);
    ck_assert_str_eq(info.content_type, "image/png");
    ck_assert_uint_eq(info.width, 32);
    ck_assert_uint_eq(info.height, 16);
    /* Cut short: the header alone is not a picture. */
    req_reset(&r);
    ck_assert_int_eq(picture_check(&r, ok, len - 20, 1024, &info), -1);
    ck_assert_int_eq(r.err.status, 422);
    req_reset(&r);
    ck_assert_int_eq(picture_check(&r, ok, len, 16, &info), -1);
    ck_assert_str_eq(r.err.code, "image_too_large");
    g_free(ok);

    static const char *const not_images[] = {
        "<html><script>alert(1)</script></html>",
        "<?xml version=\"1.0\"?><svg xmlns=\"http://www.w3.org/2000/svg\"/>",
        "GIF89a", "", "\x89PNG",
    };
    for (size_t i = 0; i < G_N_ELEMENTS(not_images); i++) {
        req_reset(&r);
        ck_assert_int_eq(picture_check(&r, (const unsigned char *)not_images[i],
                                     strlen(not_images[i]), 1024, &info), -1);
        ck_assert_int_eq(r.err.status, 415);
    }
    /* A JPEG start with nothing behind it. */
    req_reset(&r);
    const unsigned char jpeg[] = { 0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 'J', 'F', 'I', 'F' };
    ck_assert_int_eq(picture_check(&r, jpeg, sizeof jpeg, 1024, &info), -1);
    ck_assert_int_eq(r.err.status, 422);
    req_reset(&r);
}
END_TEST

START_TEST(test_audit_changes_only_differences)
{
    struct req r;
    req_init(&r);
    json_t *before = json_pack("{s:s, s:i, s:b}", "name", "a", "vcpus", 1, "autostart", 0);
    json_t *after = json_pack("{s:s, s:i, s:b, s:s}", "name", "b", "vcpus", 1, "autostart", 1,
                              "password", "secret");
    static const char *const skip[] = { "password", NULL };
    audit_changes_between(&r, before, after, skip);
    ck_assert_int_eq(json_object_size(r.audit_changes), 2);
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(r.audit_changes, "name"),
                                                       "after")), "b");
    ck_assert(json_is_false(json_object_get(json_object_get(r.audit_changes, "autostart"),
                                            "before")));
    audit_change_secret(&r, "password");
    char *text = json_dumps(r.audit_changes, 0);
    ck_assert_ptr_null(strstr(text, "secret"));
    free(text);
    json_decref(before);
    json_decref(after);
    req_reset(&r);
}
END_TEST

static Suite *security_suite(void)
{
    Suite *s = suite_create("security");
    TCase *tc = tcase_create("core");
    /* Error pages render the source tree's layout, wherever the build is. */
    tpl_init(TEMPLATES_DIR);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_password_roundtrip);
    tcase_add_loop_test(tc, test_password_refuses_bad_hashes, 0, G_N_ELEMENTS(bad_hashes));
    tcase_add_loop_test(tc, test_password_strength, 0, G_N_ELEMENTS(strength_cases));
    tcase_add_test(tc, test_tokens);
    tcase_add_test(tc, test_token_password);
    tcase_add_loop_test(tc, test_token_from_protocols, 0, G_N_ELEMENTS(protocol_cases));
    tcase_add_loop_test(tc, test_session_expiry, 0, G_N_ELEMENTS(expiry_cases));
    tcase_add_test(tc, test_csrf_required_for_forms);
    tcase_add_test(tc, test_json_error_shape);
    tcase_add_test(tc, test_json_envelope);
    tcase_add_test(tc, test_api_rejects_non_json);
    tcase_add_test(tc, test_local_path);
    tcase_add_test(tc, test_csv_defuses_formulas);
    tcase_add_loop_test(tc, test_csv_cell_cases, 0, G_N_ELEMENTS(csv_cases));
    tcase_add_test(tc, test_picture_check);
    tcase_add_test(tc, test_audit_changes_only_differences);
    suite_add_tcase(s, tc);
    return s;
}

UNIT_MAIN(security_suite)
