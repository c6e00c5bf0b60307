/* Language choice and message lookup. */
#include <glib.h>
#include <string.h>

#include "i18n.h"
#include "unit.h"

struct accept_case {
    const char *header;
    const char *expect;   /* NULL: none supported */
};

static const struct accept_case accept_cases[] = {
    { "zh-CN,zh;q=0.9,en;q=0.8", "zh-CN" },
    { "en-US,en;q=0.9", "en" },
    { "en;q=0.5, zh;q=0.8", "zh-CN" },
    { "zh-TW", "zh-CN" },
    { "fr-FR, de;q=0.9", NULL },
    { "fr-FR, en;q=0.1", "en" },
    { "", NULL },
    { "zh;q=0", NULL },
    { "english", NULL },
    /* Empty items (found by tests/fuzz: they crashed the worker). */
    { "zh-CN,zh;q=0.9,", "zh-CN" },
    { ",en", "en" },
    { ",, ,", NULL },
};

START_TEST(test_accept_language)
{
    const struct accept_case *c = &accept_cases[_i];
    const char *got = i18n_from_accept_language(c->header);
    if (c->expect)
        ck_assert_msg(got && !strcmp(got, c->expect), "%s -> %s", c->header, got);
    else
        ck_assert_msg(got == NULL, "%s -> %s", c->header, got);
}
END_TEST

START_TEST(test_codes)
{
    ck_assert_str_eq(i18n_code("zh_CN"), "zh-CN");
    ck_assert_str_eq(i18n_code("ZH-cn"), "zh-CN");
    ck_assert_str_eq(i18n_code("en"), "en");
    ck_assert_ptr_null(i18n_code("de"));
    ck_assert_ptr_null(i18n_code(""));
    ck_assert_ptr_null(i18n_code(NULL));
}
END_TEST

START_TEST(test_messages_switch_per_request)
{
    i18n_init(LOCALE_DIR);
    i18n_use("zh-CN");
    ck_assert_str_eq(_("Log in"), "登录");
    ck_assert_str_eq(_("Wrong user name or password."), "用户名或密码错误。");
    i18n_use("en");
    ck_assert_str_eq(_("Log in"), "Log in");
    i18n_use("zh-CN");
    ck_assert_str_eq(i18n_text("Users"), "用户");
}
END_TEST

/* Every message has a Chinese translation, none of them a fuzzy guess. */
START_TEST(test_chinese_catalog_complete)
{
    char *text = NULL;
    ck_assert(g_file_get_contents(PO_DIR "/zh_CN.po", &text, NULL, NULL));
    ck_assert_msg(!strstr(text, "#, fuzzy"), "po/zh_CN.po has fuzzy entries (tools/po-update)");
    /* An empty msgstr other than the header's is an untranslated message. */
    static const char needle[] = "\nmsgstr \"\"\n";
    const char *p = text;
    int empty = 0;
    while ((p = strstr(p, needle))) {
        p += sizeof needle - 1;
        if (strncmp(p, "\"", 1) != 0)   /* the header continues on the next line */
            empty++;
    }
    ck_assert_msg(empty == 0, "po/zh_CN.po has %d untranslated messages (tools/po-update)", empty);
    g_free(text);
}
END_TEST

static Suite *i18n_suite(void)
{
    Suite *s = suite_create("i18n");
    TCase *tc = tcase_create("lang");
    tcase_add_loop_test(tc, test_accept_language, 0, G_N_ELEMENTS(accept_cases));
    tcase_add_test(tc, test_codes);
    tcase_add_test(tc, test_messages_switch_per_request);
    tcase_add_test(tc, test_chinese_catalog_complete);
    suite_add_tcase(s, tc);
    return s;
}

UNIT_MAIN(i18n_suite)
