/* Many hosts and migration (issue 19): host.add, host.remove,
 * vm.migrate_check (the pre-check's verdict) and vm.migrate (a job), and
 * the monitor thread that keeps the hosts table current. */
#ifndef VMM_HELPER_MIGRATE_H
#define VMM_HELPER_MIGRATE_H

#include "ops.h"

extern const struct op migrate_ops[];
/* Checks every host every [hosts] check_interval_s: capacity, state; a
 * host that does not answer marks its VMs unknown. */
void host_monitor_start(void);

#endif
