/* Where a new VM goes (issue 19): the host asked for, or the enabled host
 * that is up and has room for it, ties broken by the fewest VMs. */
#ifndef VMM_HELPER_OPS_PLACEMENT_H
#define VMM_HELPER_OPS_PLACEMENT_H

#include "ops.h"

extern const struct op placement_ops[];

#endif
