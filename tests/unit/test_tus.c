/* The tus request headers (lib/web/tus.c), table-driven: what a client may
 * send in Upload-Length/Offset, Upload-Metadata and Upload-Checksum. */
#include <string.h>

#include "tus.h"
#include "unit.h"

struct size_case {
    const char *text;
    bool ok;
    long long value;
};

static const struct size_case size_cases[] = {
    { "0", true, 0 },
    { "1048576", true, 1048576 },
    { "999999999999999999", true, 999999999999999999LL },   /* 18 digits */
    { "1000000000000000000", false, 0 },                    /* 19: refused */
    { "", false, 0 },
    { NULL, false, 0 },
    { "-1", false, 0 },
    { "+1", false, 0 },
    { " 1", false, 0 },
    { "1 ", false, 0 },
    { "0x10", false, 0 },
};

START_TEST(test_size)
{
    const struct size_case *c = &size_cases[_i];
    long long v = -7;
    ck_assert_int_eq(tus_parse_size(c->text, &v), c->ok);
    ck_assert_int_eq(v, c->ok ? c->value : -7);
}
END_TEST

struct metadata_case {
    const char *header;
    const char *code;       /* NULL: accepted */
    const char *key, *value; /* one pair to find when accepted */
};

static const struct metadata_case metadata_cases[] = {
    { "kind aXNv,filename ZGViaWFuLmlzbw==", NULL, "filename", "debian.iso" },
    { " kind aXNv , name 5rWL6K+V ", NULL, "name", "测试" },
    { "empty", NULL, "empty", "" },
    { "", NULL, NULL, NULL },
    { "kind aXNv,kind aXNv", "invalid_metadata", NULL, NULL },       /* a key twice */
    { "ki/nd aXNv", "invalid_metadata", NULL, NULL },                /* not a key */
    { ",kind aXNv", "invalid_metadata", NULL, NULL },                /* empty pair */
    { "name YQBi", "invalid_metadata", NULL, NULL },                 /* "a\0b" */
    { "name //79", "invalid_metadata", NULL, NULL },                 /* not UTF-8 */
};

START_TEST(test_metadata)
{
    const struct metadata_case *c = &metadata_cases[_i];
    json_t *meta = json_object();
    struct err err = { 0 };
    int rc = tus_metadata_parse(c->header, meta, &err);
    if (c->code) {
        ck_assert_int_eq(rc, -1);
        ck_assert_int_eq(err.status, 400);
        ck_assert_str_eq(err.code, c->code);
    } else {
        ck_assert_int_eq(rc, 0);
        if (c->key)
            ck_assert_str_eq(json_string_value(json_object_get(meta, c->key)), c->value);
    }
    json_decref(meta);
}
END_TEST

START_TEST(test_metadata_too_long)
{
    char *header = g_strnfill(TUS_METADATA_MAX_BYTES + 1, 'a');
    json_t *meta = json_object();
    struct err err = { 0 };
    ck_assert_int_eq(tus_metadata_parse(header, meta, &err), -1);
    ck_assert_str_eq(err.code, "invalid_metadata");
    json_decref(meta);
    g_free(header);
}
END_TEST

struct checksum_case {
    const char *header;
    const char *code;       /* NULL: accepted */
    const char *algorithm, *digest;
};

static const struct checksum_case checksum_cases[] = {
    { "sha256 n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=", NULL, "sha256",
      "n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=" },
    { "md5 1B2M2Y8AsgTpgAmY7PhCfg==", NULL, "md5", "1B2M2Y8AsgTpgAmY7PhCfg==" },
    { "crc32 AAAA", "checksum_algorithm", NULL, NULL },
    { "sha256", "checksum_algorithm", NULL, NULL },
    { "", "checksum_algorithm", NULL, NULL },
    { "sha1 ", "invalid_checksum", NULL, NULL },
    { "sha1 a b", "invalid_checksum", NULL, NULL },
    { "sha1 AA\r\nX: y", "invalid_checksum", NULL, NULL },
};

START_TEST(test_checksum)
{
    const struct checksum_case *c = &checksum_cases[_i];
    char *algorithm = (char *)"unset";
    const char *digest = "unset";
    struct err err = { 0 };
    int rc = tus_checksum_parse(c->header, &algorithm, &digest, &err);
    if (c->code) {
        ck_assert_int_eq(rc, -1);
        ck_assert_str_eq(err.code, c->code);
        ck_assert_ptr_null(algorithm);
        ck_assert_ptr_null(digest);
    } else {
        ck_assert_int_eq(rc, 0);
        ck_assert_str_eq(algorithm, c->algorithm);
        ck_assert_str_eq(digest, c->digest);
        g_free(algorithm);
    }
}
END_TEST

START_TEST(test_safe_text)
{
    char *s = tus_safe_text("a\tb\x7f" "c\xc2\x85" "测试", 255);
    ck_assert_str_eq(s, "a_b_c_测试");
    g_free(s);
    s = tus_safe_text("测试测试", 3);
    ck_assert_str_eq(s, "测试测");
    g_free(s);
    /* Format characters too: the bidi override and a zero-width space. */
    s = tus_safe_text("gpj\xe2\x80\xae" "exe.\xe2\x80\x8b" "iso", 255);
    ck_assert_str_eq(s, "gpj_exe._iso");
    g_free(s);
}
END_TEST

static Suite *tus_suite(void)
{
    Suite *s = suite_create("tus");
    TCase *tc = tcase_create("headers");
    tcase_add_loop_test(tc, test_size, 0, G_N_ELEMENTS(size_cases));
    tcase_add_loop_test(tc, test_metadata, 0, G_N_ELEMENTS(metadata_cases));
    tcase_add_test(tc, test_metadata_too_long);
    tcase_add_loop_test(tc, test_checksum, 0, G_N_ELEMENTS(checksum_cases));
    tcase_add_test(tc, test_safe_text);
    suite_add_tcase(s, tc);
    return s;
}

UNIT_MAIN(tus_suite)
