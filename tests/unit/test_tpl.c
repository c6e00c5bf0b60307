/* Templates: escaping in every context, refusal of unsafe files, the
 * JSON-to-dictionary mapping, translation markers, and a lint of every
 * template we ship. */
#include <glib/gstdio.h>
#include <string.h>

#include "i18n.h"
#include "tpl.h"
#include "unit.h"

static char *dir;

static void write_template(const char *name, const char *text)
{
    char *path = g_build_filename(dir, name, NULL);
    g_file_set_contents(path, text, -1, NULL);
    g_free(path);
}

static void setup(void)
{
    dir = g_dir_make_tmp("vmm-tpl-XXXXXX", NULL);
    tpl_init(dir);
    write_template("ctx.tpl",
                   "{{%AUTOESCAPE context=\"HTML\"}}"
                   "<p>{{text}}</p>"
                   "<input value=\"{{text}}\">"
                   "<input value={{text}}>"
                   "<a href=\"{{url}}\">x</a>"
                   "<a href=\"/search?q={{text}}\">y</a>"
                   "<div style=\"color: {{text}}\"></div>"
                   "<script>var s = '{{text}}';</script>");
    write_template("noescape.tpl", "<p>{{text}}</p>");
    write_template("late.tpl", "<p>{{text}}</p>{{%AUTOESCAPE context=\"HTML\"}}");
    write_template("data.tpl",
                   "{{%AUTOESCAPE context=\"HTML\"}}"
                   "[{{n}}|{{#flag}}F{{/flag}}{{#not_off}}N{{/not_off}}|"
                   "{{#role_is_admin}}A{{/role_is_admin}}|{{#user}}{{name}}{{/user}}|"
                   "{{#items}}<{{id}}>{{/items}}{{#items_empty}}none{{/items_empty}}|"
                   "{{#tags}}{{value}},{{/tags}}]");
    write_template("i18n.tpl", "{{%AUTOESCAPE context=\"HTML\"}}<b>{{_ Log in}}</b><i>{{_ a <b> & \"c\"}}</i>");
}

static void teardown(void)
{
    char *cmd = g_strdup_printf("rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
    g_free(cmd);
    g_free(dir);
}

static char *render(const char *name, const char *json)
{
    json_t *data = json_loads(json, 0, NULL);
    GString *out = g_string_new(NULL);
    int rc = tpl_render(name, data, "en", out);
    json_decref(data);
    if (rc < 0) {
        g_string_free(out, TRUE);
        return NULL;
    }
    return g_string_free(out, FALSE);
}

/* Hostile values that must never come out as markup or script. */
static const char *const hostile[] = {
    "<script>alert(1)</script>",
    "\" onmouseover=\"alert(1)",
    "' onmouseover='alert(1)",
    "x onmouseover=alert(1)",
    "</script><script>alert(1)</script>",
    "';alert(1);//",
    "red; background: url(javascript:alert(1))",
};

START_TEST(test_escaping_every_context)
{
    json_t *data = json_pack("{s:s, s:s}", "text", hostile[_i], "url", hostile[_i]);
    GString *out = g_string_new(NULL);
    ck_assert_int_eq(tpl_render("ctx.tpl", data, "en", out), 0);
    const char *html = out->str;
    ck_assert_msg(!strstr(html, "<script>alert"), "raw script in: %s", html);
    ck_assert_msg(!strstr(html, "\" onmouseover"), "attribute breakout in: %s", html);
    ck_assert_msg(!strstr(html, "' onmouseover"), "attribute breakout in: %s", html);
    ck_assert_msg(!strstr(html, "value=x onmouseover"), "unquoted breakout in: %s", html);
    ck_assert_msg(!strstr(html, "';alert"), "script string breakout in: %s", html);
    ck_assert_msg(!strstr(html, "color: red; background"), "css injection in: %s", html);
    g_string_free(out, TRUE);
    json_decref(data);
}
END_TEST

START_TEST(test_javascript_url_neutralised)
{
    char *html = render("ctx.tpl", "{\"text\":\"t\",\"url\":\"javascript:alert(1)\"}");
    ck_assert_ptr_nonnull(html);
    ck_assert_ptr_null(strstr(html, "javascript:"));
    g_free(html);
}
END_TEST

START_TEST(test_template_without_autoescape_refused)
{
    ck_assert_ptr_null(render("noescape.tpl", "{\"text\":\"x\"}"));
    ck_assert_ptr_null(render("late.tpl", "{\"text\":\"x\"}"));
    ck_assert_ptr_null(render("../etc/passwd", "{}"));
    ck_assert_ptr_null(render("missing.tpl", "{}"));
}
END_TEST

struct data_case {
    const char *json;
    const char *expect;
};

static const struct data_case data_cases[] = {
    { "{\"n\":5,\"flag\":true,\"off\":false}", "[5|FN||||]" },
    { "{\"role\":\"admin\"}", "[||A|||]" },
    { "{\"role\":\"Admin <x>\"}", "[|||||]" },
    { "{\"user\":{\"name\":\"测试服务器\"}}", "[|||测试服务器||]" },
    { "{\"items\":[{\"id\":1},{\"id\":2}]}", "[||||<1><2>|]" },
    { "{\"items\":[]}", "[||||none|]" },
    { "{\"tags\":[\"a\",\"<b>\"]}", "[|||||a,&lt;b&gt;,]" },
    { "{\"n\":null}", "[|||||]" },
};

START_TEST(test_json_to_dictionary)
{
    const struct data_case *c = &data_cases[_i];
    char *html = render("data.tpl", c->json);
    ck_assert_ptr_nonnull(html);
    ck_assert_str_eq(html, c->expect);
    g_free(html);
}
END_TEST

START_TEST(test_translation_markers_escaped)
{
    char *html = render("i18n.tpl", "{}");
    ck_assert_ptr_nonnull(html);
    ck_assert_str_eq(html, "<b>Log in</b><i>a &lt;b&gt; &amp; &quot;c&quot;</i>");
    g_free(html);
}
END_TEST

START_TEST(test_page_inside_layout_sees_context)
{
    write_template("layout.tpl", "{{%AUTOESCAPE context=\"HTML\"}}<h1>{{me_username}}</h1>"
                                 "{{#is_admin}}admin{{/is_admin}}<main>{{>PAGE}}</main>");
    write_template("page.tpl", "{{%AUTOESCAPE context=\"HTML\"}}{{csrf_token}}/{{n}}"
                               "{{#is_admin}}!{{/is_admin}}");
    json_t *data = json_pack("{s:i}", "n", 7);
    json_t *ctx = json_pack("{s:s, s:s, s:b}", "me_username", "<u>", "csrf_token", "tok",
                            "is_admin", 1);
    GString *out = g_string_new(NULL);
    ck_assert_int_eq(tpl_render_page("layout.tpl", "page.tpl", data, ctx, "en", out), 0);
    ck_assert_str_eq(out->str, "<h1>&lt;u&gt;</h1>admin<main>tok/7!</main>");
    g_string_free(out, TRUE);
    json_decref(data);
    json_decref(ctx);
}
END_TEST

/* Every shipped template: the pragma first, no modifier that turns
 * escaping off, and it parses. */
START_TEST(test_shipped_templates_are_safe)
{
    GDir *d = g_dir_open(TEMPLATES_DIR, 0, NULL);
    ck_assert_ptr_nonnull(d);
    tpl_init(TEMPLATES_DIR);
    const char *name;
    int checked = 0;
    while ((name = g_dir_read_name(d))) {
        if (!g_str_has_suffix(name, ".tpl"))
            continue;
        char *path = g_build_filename(TEMPLATES_DIR, name, NULL);
        char *text = NULL;
        ck_assert(g_file_get_contents(path, &text, NULL, NULL));
        ck_assert_msg(g_str_has_prefix(text, "{{%AUTOESCAPE context=\"HTML\"}}"), "%s", name);
        ck_assert_msg(!strstr(text, ":none"), "%s turns escaping off", name);
        ck_assert_msg(!strstr(text, "<script>") || strstr(text, "<script src="),
                      "%s has an inline script (the CSP forbids it)", name);
        GString *out = g_string_new(NULL);
        ck_assert_msg(tpl_render(name, NULL, "en", out) == 0, "%s does not render", name);
        g_string_free(out, TRUE);
        g_free(text);
        g_free(path);
        checked++;
    }
    g_dir_close(d);
    ck_assert_int_gt(checked, 3);
}
END_TEST

static Suite *tpl_suite(void)
{
    Suite *s = suite_create("tpl");
    TCase *tc = tcase_create("render");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, test_escaping_every_context, 0, G_N_ELEMENTS(hostile));
    tcase_add_test(tc, test_javascript_url_neutralised);
    tcase_add_test(tc, test_template_without_autoescape_refused);
    tcase_add_loop_test(tc, test_json_to_dictionary, 0, G_N_ELEMENTS(data_cases));
    tcase_add_test(tc, test_translation_markers_escaped);
    tcase_add_test(tc, test_page_inside_layout_sees_context);
    tcase_add_test(tc, test_shipped_templates_are_safe);
    suite_add_tcase(s, tc);
    return s;
}

UNIT_MAIN(tpl_suite)
