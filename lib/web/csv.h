/* CSV for spreadsheets (RFC 4180): every cell quoted, quotes doubled, and
 * a cell that a spreadsheet would run as a formula (= + - @ first, also
 * after leading spaces, tabs or line breaks, or a tab or CR first) is
 * prefixed with a single quote, so an actor name like "=HYPERLINK(...)"
 * or "  =HYPERLINK(...)" stays text. */
#ifndef VMM_CSV_H
#define VMM_CSV_H

#include <glib.h>

/* Appends one cell (NULL: empty) and, unless last, a comma. */
void csv_cell(GString *out, const char *text, gboolean last);

#endif
