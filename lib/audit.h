/* The audit log: one row for every mutating request that reached a route,
 * written by lib/app.c after the handler, success or failure alike. */
#ifndef VMM_AUDIT_H
#define VMM_AUDIT_H

#include "http.h"

/* Records r's action (r->audit_action, "user.create": the part before the
 * dot is the target type), target id, result and detail. */
int audit_record(struct req *r);

#endif
