/* Body validation against a field table, for JSON and for forms. */
#include <string.h>

#include "input.h"
#include "unit.h"

static const char *const roles[] = { "admin", "user", NULL };
static const struct field fields[] = {
    { "name", FIELD_STRING, true, 3, 8, NULL },   /* characters, not bytes */
    { "count", FIELD_INT, false, 1, 64, NULL },
    { "on", FIELD_BOOL, false, 0, 0, NULL },
    { "role", FIELD_ENUM, false, 0, 0, roles },
    { "notes", FIELD_TEXT, false, 0, 20, NULL },
    { "ids", FIELD_ID_LIST, false, 1, 3, NULL },
    { "boot", FIELD_ENUM_LIST, false, 1, 2, roles },
    { "title", FIELD_NAME, false, 1, 16, NULL },
    { NULL },
};

struct input_case {
    int api;
    const char *content_type;
    const char *body;
    int status;          /* 0: valid */
    const char *code;
    const char *field;
};

static const struct input_case cases[] = {
    { 1, "application/json", "{\"name\":\"abc\"}", 0, NULL, NULL },
    { 1, "application/json; charset=utf-8", "{\"name\":\"测试服务器\",\"count\":3}", 0, NULL, NULL },
    { 1, "application/json", "{\"name\":\"abc\",\"on\":true,\"role\":\"admin\"}", 0, NULL, NULL },
    { 1, "application/json", "{\"name\":\"abc\",\"notes\":\"a\\nb\"}", 0, NULL, NULL },
    { 1, "application/json", "{\"name\":\"ab\"}", 400, "invalid_length", "name" },
    { 1, "application/json", "{\"name\":\"abcdefghi\"}", 400, "invalid_length", "name" },
    { 1, "application/json", "{}", 400, "missing_field", "name" },
    { 1, "application/json", "{\"name\":\"abc\",\"extra\":1}", 400, "unknown_field", "extra" },
    { 1, "application/json", "{\"name\":3}", 400, "invalid_type", "name" },
    { 1, "application/json", "{\"name\":\"abc\",\"count\":\"3\"}", 400, "invalid_type", "count" },
    { 1, "application/json", "{\"name\":\"abc\",\"count\":65}", 400, "out_of_range", "count" },
    { 1, "application/json", "{\"name\":\"abc\",\"count\":0}", 400, "out_of_range", "count" },
    { 1, "application/json", "{\"name\":\"abc\",\"count\":1.5}", 400, "invalid_type", "count" },
    { 1, "application/json", "{\"name\":\"abc\",\"on\":1}", 400, "invalid_type", "on" },
    { 1, "application/json", "{\"name\":\"abc\",\"role\":\"root\"}", 400, "invalid_choice", "role" },
    { 1, "application/json", "{\"name\":\"a\\nbc\"}", 400, "invalid_characters", "name" },
    { 1, "application/json", "{\"name\":\"a\\u0000bc\"}", 400, "invalid_json", NULL },
    { 1, "application/json", "{\"name\":\"abc\",\"name\":\"abd\"}", 400, "invalid_json", NULL },
    { 1, "application/json", "{\"name\":", 400, "invalid_json", NULL },
    { 1, "application/json", "[1,2]", 400, "invalid_json", NULL },
    { 1, "application/json", "\"abc\"", 400, "invalid_json", NULL },
    { 1, "application/json", "{\"name\":\"abc\",\"ids\":[1,2,3]}", 0, NULL, NULL },
    { 1, "application/json", "{\"name\":\"abc\",\"ids\":[]}", 400, "invalid_length", "ids" },
    { 1, "application/json", "{\"name\":\"abc\",\"ids\":[1,2,3,4]}", 400, "invalid_length", "ids" },
    { 1, "application/json", "{\"name\":\"abc\",\"ids\":[1,\"2\"]}", 400, "invalid_type", "ids" },
    { 1, "application/json", "{\"name\":\"abc\",\"ids\":[0]}", 400, "invalid_type", "ids" },
    { 1, "application/json", "{\"name\":\"abc\",\"ids\":[2,2]}", 400, "duplicate_id", "ids" },
    { 1, "application/json", "{\"name\":\"abc\",\"ids\":5}", 400, "invalid_type", "ids" },
    { 1, "application/json", "{\"name\":\"abc\",\"boot\":[\"user\",\"admin\"]}", 0, NULL, NULL },
    { 1, "application/json", "{\"name\":\"abc\",\"boot\":[\"root\"]}", 400, "invalid_choice", "boot" },
    { 1, "application/json", "{\"name\":\"abc\",\"boot\":[\"user\",\"user\"]}", 400, "duplicate_value", "boot" },
    { 1, "application/json", "{\"name\":\"abc\",\"boot\":[]}", 400, "invalid_length", "boot" },
    { 1, "application/json", "{\"name\":\"abc\",\"boot\":\"user\"}", 400, "invalid_length", "boot" },
    { 1, "application/json", "{\"name\":\"abc\",\"title\":\"测试服务器\"}", 0, NULL, NULL },
    { 1, "application/json", "{\"name\":\"abc\",\"title\":\"a\\u202Egpj.exe\"}", 400, "invalid_characters", "title" },
    { 1, "application/json", "{\"name\":\"a\\u202Ebc\"}", 0, NULL, NULL },   /* a password-like STRING may */
    { 0, "application/x-www-form-urlencoded", "name=abc&title=a%E2%80%8Bb", 400, "invalid_characters", "title" },
    { 1, "text/plain", "{\"name\":\"abc\"}", 415, "unsupported_media_type", NULL },
    { 1, NULL, "{\"name\":\"abc\"}", 415, "unsupported_media_type", NULL },
    { 0, "application/x-www-form-urlencoded", "name=abc&count=5&on=on&csrf_token=x", 0, NULL, NULL },
    { 0, "application/x-www-form-urlencoded", "name=%E6%B5%8B%E8%AF%95%E6%9C%8D%E5%8A%A1%E5%99%A8", 0, NULL, NULL },
    { 0, "application/x-www-form-urlencoded", "name=abc&count=five", 400, "invalid_type", "count" },
    { 0, "application/x-www-form-urlencoded", "name=abc&evil=1", 400, "unknown_field", "evil" },
    { 0, "application/x-www-form-urlencoded", "name=a%0Abc", 400, "invalid_characters", "name" },
    { 0, "application/x-www-form-urlencoded", "count=3", 400, "missing_field", "name" },
    { 0, "multipart/form-data", "name=abc", 415, "unsupported_media_type", NULL },
};

START_TEST(test_input_table)
{
    const struct input_case *c = &cases[_i];
    struct req r;
    req_init(&r);
    r.api = c->api;
    r.content_type = c->content_type;
    ck_assert_int_eq(req_set_body(&r, g_strdup(c->body), strlen(c->body)), 0);

    int rc = input_parse(&r, fields);
    if (c->status == 0) {
        ck_assert_msg(rc == 0, "%s: %s %s", c->body, r.err.code, r.err.message);
        ck_assert_ptr_nonnull(input_str(&r, "name"));
        ck_assert(!input_has(&r, "csrf_token"));
    } else {
        ck_assert_msg(rc == -1, "%s accepted", c->body);
        ck_assert_int_eq(r.err.status, c->status);
        ck_assert_str_eq(r.err.code, c->code);
        if (c->field)
            ck_assert_str_eq(r.err.field, c->field);
        ck_assert_ptr_null(r.input);
    }
    req_reset(&r);
}
END_TEST

/* One rule for every name: visible characters of any script only. */
static const struct { const char *text; bool clean; } name_cases[] = {
    { "web-1", true },
    { "测试服务器", true },
    { "Ünïcödé ñame", true },
    { "مرحبا", true },                      /* right-to-left script itself is fine */
    { "emoji 🚀", true },
    { "", true },                            /* length is the field table's business */
    { "a\xe2\x80\xaa" "b", false },          /* U+202A LRE */
    { "a\xe2\x80\xae" "b", false },          /* U+202E RLO */
    { "a\xe2\x81\xa6" "b", false },          /* U+2066 LRI */
    { "a\xe2\x81\xa9" "b", false },          /* U+2069 PDI */
    { "a\xe2\x80\x8e" "b", false },          /* U+200E LRM */
    { "a\xe2\x80\x8f" "b", false },          /* U+200F RLM */
    { "a\xd8\x9c" "b", false },              /* U+061C ALM */
    { "a\xe2\x80\x8b" "b", false },          /* U+200B zero width space */
    { "a\xe2\x80\x8d" "b", false },          /* U+200D ZWJ */
    { "a\xe2\x81\xa0" "b", false },          /* U+2060 word joiner */
    { "\xef\xbb\xbf" "abc", false },         /* U+FEFF BOM */
    { "ad\xc2\xad" "min", false },           /* U+00AD soft hyphen */
    { "a\xc2\x85" "b", false },              /* U+0085 NEL (C1 control) */
    { "a\x1b" "b", false },                  /* ESC */
    { "a\xe2\x80\xa8" "b", false },          /* U+2028 line separator */
    { "a\xee\x80\x80" "b", false },          /* U+E000 private use */
    { "a\xff" "b", false },                  /* not UTF-8 */
};

START_TEST(test_name_clean)
{
    ck_assert_msg(input_name_clean(name_cases[_i].text) == name_cases[_i].clean, "case %d", _i);
}
END_TEST

START_TEST(test_form_values_are_typed)
{
    struct req r;
    req_init(&r);
    r.content_type = "application/x-www-form-urlencoded";
    const char *body = "name=abcd&count=12&on=false&role=user";
    req_set_body(&r, g_strdup(body), strlen(body));
    ck_assert_int_eq(input_parse(&r, fields), 0);
    ck_assert_int_eq(input_int(&r, "count", 0), 12);
    ck_assert(json_is_false(json_object_get(r.input, "on")));
    ck_assert_str_eq(input_str(&r, "role"), "user");
    req_reset(&r);
}
END_TEST

static Suite *input_suite(void)
{
    Suite *s = suite_create("input");
    TCase *tc = tcase_create("validate");
    tcase_add_loop_test(tc, test_input_table, 0, G_N_ELEMENTS(cases));
    tcase_add_test(tc, test_form_values_are_typed);
    tcase_add_loop_test(tc, test_name_clean, 0, G_N_ELEMENTS(name_cases));
    suite_add_tcase(s, tc);
    return s;
}

UNIT_MAIN(input_suite)
