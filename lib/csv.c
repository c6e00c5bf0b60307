#include "csv.h"

void csv_cell(GString *out, const char *text, gboolean last)
{
    const char *t = text ? text : "";
    g_string_append_c(out, '"');
    if (*t == '=' || *t == '+' || *t == '-' || *t == '@' || *t == '\t' || *t == '\r')
        g_string_append_c(out, '\'');
    for (const char *p = t; *p; p++) {
        if (*p == '"')
            g_string_append_c(out, '"');
        g_string_append_c(out, *p);
    }
    g_string_append_c(out, '"');
    g_string_append(out, last ? "\r\n" : ",");
}
