/* Requests with a deadline. libvirt calls have no deadline of their own
 * (a busy libvirtd answers a define in 40 s; a wedged one never), so an
 * op runs in a thread of its own and the request waits for it at most
 * [helper] call_deadline_s: then the caller gets a 503 libvirt_timeout and
 * the op finishes, or not, on its own. What it writes late must not undo
 * what the caller recorded meanwhile: ops write rows with conditional
 * UPDATEs keyed on the state they expect. */
#ifndef VMM_BOUNDED_H
#define VMM_BOUNDED_H

#include "ops.h"

/* Runs op on call (args and actor are copied for the op's thread) and
 * returns its result, or -1 with a 503 in call->err past the deadline.
 * An op marked no_deadline runs here, as it is. */
int op_run_bounded(const struct op *op, struct op_call *call);

#endif
