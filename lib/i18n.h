/* gettext for two languages, chosen per request: the user's setting, then
 * the vmm_lang cookie, then Accept-Language. Codes are "en" and "zh-CN". */
#ifndef VMM_I18N_H
#define VMM_I18N_H

#include <libintl.h>

#ifdef __cplusplus
extern "C" {
#endif

#define _(msgid) gettext(msgid)
#define N_(msgid) (msgid)

#define I18N_DOMAIN "vmmanager"

void i18n_init(const char *locale_dir);
/* Switches this process's messages to lang ("en" or "zh-CN"). */
void i18n_use(const char *lang);
/* The supported code for a user-supplied one, or NULL ("zh", "zh-cn",
 * "zh_CN" -> "zh-CN"; "en", "en-US" -> "en"). */
const char *i18n_code(const char *text);
/* The best supported language of an Accept-Language header, or NULL. */
const char *i18n_from_accept_language(const char *header);
/* The translation of msgid in the current language. */
const char *i18n_text(const char *msgid);

#ifdef __cplusplus
}
#endif

#endif
