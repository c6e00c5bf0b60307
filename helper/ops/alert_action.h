/* alert.action: the one thing vmm-scheduler may ask of the helper, on its
 * own socket: carry out the action (restart, suspend) of an alert rule
 * whose alert just fired. The scheduler names only the alert; the helper
 * reads the rest from the database and checks it all again: the alert
 * fires (fired within the last five minutes), its rule asks for that
 * action, the VM is in the rule's scope, and the rule's owner (enabled)
 * may act on the VM; the VM op then runs as that owner. Each alert's
 * action runs at most once, and is audited as the rule's owner (vm.restart,
 * vm.start for a VM an event left off, vm.suspend). */
#ifndef VMM_HELPER_ALERT_ACTION_H
#define VMM_HELPER_ALERT_ACTION_H

#include "ops.h"

extern const struct field alert_action_args[];
int alert_op_action(struct op_call *call);

#endif
