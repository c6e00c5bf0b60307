/* IP address pools (issue 12), the helper's side: the registry lives in
 * the database (lib/web/ip_alloc.h); here the addresses are given to guests
 * as DHCP host entries of their libvirt network (NAT, routed, isolated),
 * and compared with what is really in use: the network's DHCP leases and
 * static host entries, the guest agent's addresses, and the host's
 * neighbour table. Addresses seen in use by anything the registry does
 * not know, or by two machines, are written to ip_conflicts, which
 * allocation avoids: by a sweep before each allocation and periodically. */
#ifndef VMM_HELPER_OPS_IP_POOL_H
#define VMM_HELPER_OPS_IP_POOL_H

#include <libvirt/libvirt.h>
#include <stdbool.h>

#include "ops.h"

extern const struct op ip_pool_ops[];

/* Makes the DHCP host entries of VM vm_id's NICs follow the registry:
 * any entry for a NIC's MAC or for its allocated address goes, and with
 * keep the NIC's allocated address is added (live too on a running
 * network). Without keep the VM's entries only go (it is being removed).
 * 0, or -1 with err set. */
int ip_pool_vm_hosts(virConnectPtr conn, long long vm_id, bool keep, struct err *err);

/* The same for the one NIC nic_id of vm_id (a NIC added or removed
 * after create, issue 17). */
int ip_pool_nic_hosts(virConnectPtr conn, long long vm_id, long long nic_id, bool keep,
                      struct err *err);

/* Starts the thread that sweeps every pool each [ip_pools] sweep_interval_s
 * (60 s; 0 turns it off). */
void ip_pool_sweeper_start(void);

#endif
