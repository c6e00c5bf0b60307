/* A C wrapper over ctemplate. Pages are ctemplate files under the
 * configured templates_dir; every file must start with
 * {{%AUTOESCAPE context="HTML"}} or it is refused, so escaping never depends
 * on remembering a modifier.
 *
 * Data comes as JSON (the same object the API returns): strings and numbers
 * become variables, true shows the section <name> and false the section
 * not_<name>, a short lowercase word also shows <name>_is_<word>
 * (ctemplate has no comparisons or else), objects become a section
 * shown once, arrays a section repeated per element, and an empty or
 * missing array shows the section <name>_empty.
 *
 * Translatable text in a template is written {{_ Some text}}; it is
 * replaced, before ctemplate parses the file, by the HTML-escaped
 * translation in the request's language (one cached copy per language). */
#ifndef VMM_TPL_H
#define VMM_TPL_H

#include <glib.h>
#include <jansson.h>

#ifdef __cplusplus
extern "C" {
#endif

void tpl_init(const char *templates_dir);

/* Renders page inside layout: data fills page; ctx (a flat object of
 * strings and booleans: the user, CSRF token, language) is visible to both;
 * its arrays and objects (the nav) are the layout's alone.
 * Appends the HTML to out. Returns 0, or -1 (logged) when a template is
 * missing, unsafe or broken. */
int tpl_render_page(const char *layout, const char *page, json_t *data, json_t *ctx,
                    const char *lang, GString *out);

/* Renders one template with data alone (for tests and fragments). */
int tpl_render(const char *name, json_t *data, const char *lang, GString *out);

#ifdef __cplusplus
}
#endif

#endif
