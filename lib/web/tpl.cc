#include "tpl.h"

#include <ctemplate/template.h>
#include <glib.h>
#include <string>
#include <cstring>

#include "i18n.h"
#include "log.h"

using ctemplate::TemplateDictionary;

static std::string tpl_dir = "templates";
static const char AUTOESCAPE_PRAGMA[] = "{{%AUTOESCAPE context=\"HTML\"}}";

extern "C" void tpl_init(const char *templates_dir)
{
    tpl_dir = templates_dir ? templates_dir : "templates";
}

static gboolean translate_marker(const GMatchInfo *match, GString *out, gpointer)
{
    gchar *msgid = g_match_info_fetch(match, 1);
    gchar *escaped = g_markup_escape_text(i18n_text(msgid), -1);
    g_string_append(out, escaped);
    g_free(escaped);
    g_free(msgid);
    return FALSE;
}

/* A partial, {{>name.tpl}} in a page: the file's text in its place, less
 * its own AUTOESCAPE line (which it must have, like any template, so it
 * is safe on its own too). One level: a partial includes nothing. Page
 * sections stay where they are, each in a file of its own (issue 17). */
static gboolean include_partial(const GMatchInfo *match, GString *out, gpointer)
{
    gchar *name = g_match_info_fetch(match, 1);
    std::string path = tpl_dir + "/" + name;
    gchar *text = NULL;
    if (!g_file_get_contents(path.c_str(), &text, NULL, NULL) ||
        strncmp(text, AUTOESCAPE_PRAGMA, sizeof AUTOESCAPE_PRAGMA - 1) != 0)
        log_error("partial %s is missing or lacks %s: left out", name, AUTOESCAPE_PRAGMA);
    else
        g_string_append(out, text + sizeof AUTOESCAPE_PRAGMA - 1);
    g_free(text);
    g_free(name);
    return FALSE;
}

/* Loads name in lang into ctemplate's cache (once) and returns its key. */
static bool tpl_load(const char *name, const char *lang, std::string &key)
{
    key = std::string(lang) + "/" + name;
    static GHashTable *loaded = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    if (g_hash_table_contains(loaded, key.c_str()))
        return true;

    if (strchr(name, '/') || name[0] == '.') {
        log_error("template name %s refused", name);
        return false;
    }
    std::string path = tpl_dir + "/" + name;
    gchar *text = NULL;
    if (!g_file_get_contents(path.c_str(), &text, NULL, NULL)) {
        log_error("template %s cannot be read", path.c_str());
        return false;
    }
    if (strncmp(text, AUTOESCAPE_PRAGMA, sizeof AUTOESCAPE_PRAGMA - 1) != 0) {
        log_error("template %s does not start with %s: refused", name, AUTOESCAPE_PRAGMA);
        g_free(text);
        return false;
    }
    static GRegex *partial = g_regex_new("\\{\\{>([a-z0-9_]+\\.tpl)\\}\\}", G_REGEX_OPTIMIZE,
                                         (GRegexMatchFlags)0, NULL);
    gchar *whole = g_regex_replace_eval(partial, text, -1, 0, (GRegexMatchFlags)0,
                                        include_partial, NULL, NULL);
    if (whole) {
        g_free(text);
        text = whole;
    }
    static GRegex *marker = g_regex_new("\\{\\{_ ([^}]+)\\}\\}", G_REGEX_OPTIMIZE, (GRegexMatchFlags)0, NULL);
    gchar *translated = g_regex_replace_eval(marker, text, -1, 0, (GRegexMatchFlags)0,
                                             translate_marker, NULL, NULL);
    g_free(text);
    bool ok = translated &&
              ctemplate::StringToTemplateCache(key, translated, ctemplate::DO_NOT_STRIP);
    g_free(translated);
    if (!ok) {
        log_error("template %s does not parse", name);
        return false;
    }
    g_hash_table_add(loaded, g_strdup(key.c_str()));
    return true;
}

static void dict_fill(TemplateDictionary *dict, json_t *data);

/* Short lowercase words ("admin", "running") also show a section
 * <key>_is_<value>, since ctemplate has no comparisons. */
static bool enum_like(const char *s)
{
    size_t n = strlen(s);
    return n > 0 && n <= 24 && strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_") == n;
}

static void dict_set(TemplateDictionary *dict, const char *key, json_t *value)
{
    switch (json_typeof(value)) {
    case JSON_STRING:
        dict->SetValue(key, ctemplate::TemplateString(json_string_value(value),
                                                      json_string_length(value)));
        if (enum_like(json_string_value(value)))
            dict->ShowSection(std::string(key) + "_is_" + json_string_value(value));
        break;
    case JSON_INTEGER:
        dict->SetIntValue(key, (long)json_integer_value(value));
        break;
    case JSON_REAL:
        dict->SetFormattedValue(key, "%g", json_real_value(value));
        break;
    case JSON_TRUE:
        dict->ShowSection(key);
        break;
    case JSON_OBJECT:
        dict_fill(dict->AddSectionDictionary(key), value);
        break;
    case JSON_ARRAY: {
        size_t i;
        json_t *item;
        json_array_foreach(value, i, item) {
            TemplateDictionary *section = dict->AddSectionDictionary(key);
            if (json_is_object(item))
                dict_fill(section, item);
            else
                dict_set(section, "value", item);
        }
        if (json_array_size(value) == 0)
            dict->ShowSection(std::string(key) + "_empty");
        break;
    }
    case JSON_FALSE:
        dict->ShowSection(std::string("not_") + key);
        break;
    default: /* null: nothing shown */
        break;
    }
}

static void dict_fill(TemplateDictionary *dict, json_t *data)
{
    const char *key;
    json_t *value;
    json_object_foreach(data, key, value)
        dict_set(dict, key, value);
}

static void dict_globals(TemplateDictionary *dict, json_t *ctx)
{
    const char *key;
    json_t *value;
    json_object_foreach(ctx, key, value) {
        if (json_is_string(value))
            dict->SetTemplateGlobalValue(key, json_string_value(value));
        else if (json_is_integer(value))
            dict->SetTemplateGlobalValue(key, std::to_string(json_integer_value(value)));
        else if (json_is_true(value))
            dict->ShowTemplateGlobalSection(key);
        else if (json_is_array(value) || json_is_object(value))
            dict_set(dict, key, value);   /* the layout's own (the nav), not the page's */
    }
}

static int tpl_expand(const std::string &key, TemplateDictionary *dict, GString *out)
{
    std::string html;
    if (!ctemplate::ExpandTemplate(key, ctemplate::DO_NOT_STRIP, dict, &html)) {
        log_error("template %s failed to expand", key.c_str());
        return -1;
    }
    g_string_append_len(out, html.data(), (gssize)html.size());
    return 0;
}

extern "C" int tpl_render_page(const char *layout, const char *page, json_t *data, json_t *ctx,
                               const char *lang, GString *out)
{
    std::string layout_key, page_key;
    if (!tpl_load(layout, lang, layout_key) || !tpl_load(page, lang, page_key))
        return -1;

    TemplateDictionary dict("layout");
    dict_globals(&dict, ctx);
    TemplateDictionary *content = dict.AddIncludeDictionary("PAGE");
    content->SetFilename(page_key);
    if (data)
        dict_fill(content, data);
    /* Partials a page may include with one line ({{>METRICS_CHARTS}}),
     * so a feature shared by several pages lives in one file. They see
     * the template globals (lang, csrf_token, is_admin), not the page's data. */
    static const char *const partials[][2] = {
        { "METRICS_CHARTS", "metrics_charts.tpl" },
    };
    for (const auto &partial : partials) {
        std::string partial_key;
        /* A tree without the partial (a unit's own templates) renders without it. */
        if (g_file_test((tpl_dir + "/" + partial[1]).c_str(), G_FILE_TEST_EXISTS) &&
            tpl_load(partial[1], lang, partial_key))
            content->AddIncludeDictionary(partial[0])->SetFilename(partial_key);
    }
    return tpl_expand(layout_key, &dict, out);
}

extern "C" int tpl_render(const char *name, json_t *data, const char *lang, GString *out)
{
    std::string key;
    if (!tpl_load(name, lang, key))
        return -1;
    TemplateDictionary dict("page");
    if (data)
        dict_fill(&dict, data);
    return tpl_expand(key, &dict, out);
}
