#include "i18n.h"

#include <glib.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

/* glibc's gettext follows the thread's locale (uselocale), so one locale
 * object per language is switched in per request. */
static locale_t locale_en, locale_zh;

static locale_t i18n_open(const char *name)
{
    locale_t loc = newlocale(LC_MESSAGES_MASK | LC_CTYPE_MASK, name, (locale_t)0);
    if (!loc) {
        log_warn("locale %s is not installed; its messages fall back to English", name);
        loc = newlocale(LC_MESSAGES_MASK | LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
    }
    return loc;
}

void i18n_init(const char *locale_dir)
{
    setlocale(LC_ALL, "C.UTF-8");
    bindtextdomain(I18N_DOMAIN, locale_dir);
    bind_textdomain_codeset(I18N_DOMAIN, "UTF-8");
    textdomain(I18N_DOMAIN);
    locale_en = i18n_open("en_US.UTF-8");
    locale_zh = i18n_open("zh_CN.UTF-8");
}

void i18n_use(const char *lang)
{
    locale_t loc = lang && !strcmp(lang, "zh-CN") ? locale_zh : locale_en;
    if (loc)
        uselocale(loc);
}

const char *i18n_code(const char *text)
{
    if (!text)
        return NULL;
    if (!g_ascii_strncasecmp(text, "zh", 2) && (text[2] == '\0' || text[2] == '-' || text[2] == '_'))
        return "zh-CN";
    if (!g_ascii_strncasecmp(text, "en", 2) && (text[2] == '\0' || text[2] == '-' || text[2] == '_'))
        return "en";
    return NULL;
}

const char *i18n_from_accept_language(const char *header)
{
    const char *best = NULL;
    double best_q = 0.0;

    if (!header)
        return NULL;
    gchar **items = g_strsplit(header, ",", 32);
    for (gchar **item = items; *item; item++) {
        gchar **parts = g_strsplit(*item, ";", 4);
        /* An empty item ("en,", ",,") splits into no parts at all. */
        if (!parts[0]) {
            g_strfreev(parts);
            continue;
        }
        const char *code = i18n_code(g_strstrip(parts[0]));
        double q = 1.0;
        for (gchar **p = parts + 1; *p; p++) {
            const char *param = g_strstrip(*p);
            if (!strncmp(param, "q=", 2))
                q = g_ascii_strtod(param + 2, NULL);
        }
        /* Equal weights keep the first: the browser lists its preference first. */
        if (code && q > best_q) {
            best = code;
            best_q = q;
        }
        g_strfreev(parts);
    }
    g_strfreev(items);
    return best;
}

const char *i18n_text(const char *msgid)
{
    return gettext(msgid);
}
