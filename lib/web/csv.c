#include "csv.h"

#include <string.h>

/* Spreadsheets skip leading blanks and line breaks before they decide a
 * cell is a formula, so " =1+1" and "\n@SUM(A1)" run as formulas too. */
static gboolean csv_is_formula(const char *t)
{
    if (*t == '\t' || *t == '\r')
        return TRUE;
    t += strspn(t, " \t\r\n");
    return *t == '=' || *t == '+' || *t == '-' || *t == '@';
}

void csv_cell(GString *out, const char *text, gboolean last)
{
    const char *t = text ? text : "";
    g_string_append_c(out, '"');
    if (csv_is_formula(t))
        g_string_append_c(out, '\'');
    for (const char *p = t; *p; p++) {
        if (*p == '"')
            g_string_append_c(out, '"');
        g_string_append_c(out, *p);
    }
    g_string_append_c(out, '"');
    g_string_append(out, last ? "\r\n" : ",");
}
