/* The audit log in words: the one table from action codes ("vm.start")
 * to what a person reads ("started VM web-01", "已启动虚拟机 web-01"),
 * and a row's details and changes as label/value pairs, in the request's
 * language. The audit log, the history pages and the VM page use it. */
#ifndef VMM_AUDIT_TEXT_H
#define VMM_AUDIT_TEXT_H

#include <stdbool.h>

#include <jansson.h>

/* The phrase of action (a printf format with one %s, the target's name),
 * translated; NULL for a code the table does not know. */
const char *audit_action_phrase(const char *action);
/* The n-th action code of the table (NULL past the last), for tests. */
const char *audit_action_at(int n);
/* The label of a detail or change key ("memory_mb" -> "Memory (MiB)"),
 * translated; the key itself when the table does not know it. */
const char *audit_field_label(const char *key);

/* Adds to each audit row of items (as audit_list makes them): "summary"
 * (the phrase with the target's name), "target_name", "detail_list"
 * ([{label, value}]) and "change_list" ([{field, label, before, after}]).
 * Names are read from the database, once per target. */
void audit_rows_in_words(json_t *items);

#endif
