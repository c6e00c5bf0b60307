/* The IP address registry (issue 12): one ip_allocations row per address
 * handed out, unique per pool. Allocation runs inside the caller's
 * transaction (with the VM row it is for), locks the pool's row so that
 * parallel allocations queue, and never hands out an address that is
 * taken, is the gateway, or was last seen in use by something else
 * (ip_conflicts, written by the helper's sweep). */
#ifndef VMM_IP_ALLOC_H
#define VMM_IP_ALLOC_H

#include "http.h"

/* The pool of network_id that a NIC on it draws from (the first by id),
 * 0 when it has none, -1 when the database fails. */
long long ip_pool_of_network(long long network_id);

/* Allocates an address of pool_id to nic_id of vm_id: asked (a dotted
 * quad) or, when NULL, the lowest free one. The address in out (16
 * bytes). -1 with err set: 422 ip_outside_pool, 409 ip_taken /
 * ip_conflict / pool_exhausted, 503 when the database fails. Call inside
 * a transaction. */
int ip_allocate(long long pool_id, long long vm_id, long long nic_id, const char *asked,
                char *out, struct err *err);

#endif
