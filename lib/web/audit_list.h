/* The oversight lists: audit rows (with their before/after changes) and
 * login history, with the filters, paging and CSV export of API.md.
 * Filters come from the query string; the scope comes from the handler
 * and narrows them (a normal user sees only their own rows). */
#ifndef VMM_AUDIT_LIST_H
#define VMM_AUDIT_LIST_H

#include <stdbool.h>

#include "http.h"

#include <jansson.h>

struct audit_scope {
    long long actor_id;       /* > 0: only this actor's rows */
    const char *target_type;  /* only rows about this kind of target ("vm") */
    long long target_id;      /* > 0: only rows about this target */
    bool changes_only;        /* only rows that changed something (history) */
    /* > 0: a failed row only if this user or an admin made it. Someone
     * else's refused attempt on a user's VM (and their name) is for the
     * admins' audit log, not for the VM's history. */
    long long failures_of;
};

/* GET lists of audit_log: ?actor= (user name) &action= (exact, or a
 * prefix ending in *) &target_type= &target_id= &result=success|failure
 * &ip= &from= &to= (ISO 8601 dates or times, UTC) &q= &page= &per_page=
 * &sort= &format=csv. Newest first unless sorted. */
int audit_list(struct req *r, const struct audit_scope *scope);

/* The newest limit rows of scope (no query string), as audit_list's rows; NULL when the database fails. */
json_t *audit_recent(const struct audit_scope *scope, int limit);

/* GET the login history: ?username= &result= &ip= &from= &to=; only_user
 * > 0 narrows it to one account (a normal user's own). */
int login_history_list(struct req *r, long long only_user);

#endif
