/* The audit log: one row for every mutating request that reached a route,
 * written by lib/web/app.c after the handler, success or failure alike. */
#ifndef VMM_AUDIT_H
#define VMM_AUDIT_H

#include "http.h"

/* Records r's action (r->audit_action, "user.create": the part before the
 * dot is the target type), target id, result and detail. */
int audit_record(struct req *r);

/* One row as it is stored: what audit_record writes, and what a daemon
 * acting on its own (an alert's action, in the helper) writes directly.
 * NULL strings are empty; actor_id/target_id <= 0 are NULL. */
struct audit_row {
    long long actor_id, target_id;
    const char *actor_name, *action, *target_type;
    bool ok;
    int status;
    const char *detail;    /* JSON text */
    const char *changes;   /* JSON text or NULL */
    const char *ip, *user_agent, *request_id;
};
int audit_insert(const struct audit_row *row);

/* Notes that a change set field from before to after (either may be
 * NULL: JSON null). Nothing is noted when both are equal. The audit row
 * keeps them in its changes column: {"field": {"before": .., "after": ..}}.
 * Takes a reference to neither value. */
void audit_change(struct req *r, const char *field, json_t *before, json_t *after);
/* Notes that a secret field (a password) changed, without any value. */
void audit_change_secret(struct req *r, const char *field);
/* The same for every key of changes that differs in before (two objects),
 * skipping keys named in skip (NULL-terminated, may be NULL: passwords). */
void audit_changes_between(struct req *r, json_t *before, json_t *after,
                           const char *const *skip);

#endif
