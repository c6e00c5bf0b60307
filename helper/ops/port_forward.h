/* Port forwards (issue 17), the helper's side: the rows of
 * vm_port_forwards become DNAT rules in this installation's own nftables
 * table (ip vmm_pf_<instance>), written whole and atomically through
 * libnftables' JSON input each time (built with jansson, never pasted
 * text). Rules for packets arriving from outside (prerouting) and for
 * the host's own connections to its addresses (output). */
#ifndef VMM_HELPER_OPS_PORT_FORWARD_H
#define VMM_HELPER_OPS_PORT_FORWARD_H

#include "../ops.h"

extern const struct op port_forward_ops[];

/* Makes the table hold exactly the forwards of the database, leaving out
 * those of VM skip_vm_id (one being deleted; 0: none). 0, or -1 with err
 * set (NULL: logged). */
int port_forward_sync(long long skip_vm_id, struct err *err);

#endif
