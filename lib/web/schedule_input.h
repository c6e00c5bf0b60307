/* The schedule fields a snapshot or backup policy takes from a PUT or a
 * form (issue 16), checked the one way for both. */
#ifndef VMM_SCHEDULE_INPUT_H
#define VMM_SCHEDULE_INPUT_H

#include <stdbool.h>

#include "app.h"

/* The cron text in "schedule" (400 invalid_schedule unless 5 fields) and
 * whether the policy is on: a form's unticked box is absent, an API
 * client's absent field means on. 0, or -1 with the 400 set. */
int schedule_input(struct req *r, bool *enabled);

/* The policy of the path's VM, policy_of(r, vm id), or NULL with r's error. */
typedef json_t *(*schedule_policy_fn)(struct req *r, long long vm_id);
/* GET of a VM's policy: {policy} for a VM the caller may see (else 404). */
int schedule_policy_show(struct req *r, schedule_policy_fn policy_of);

#endif
