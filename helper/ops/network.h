/* Virtual networks (issue 12): the helper makes libvirt networks from the
 * rows the networks program wrote, checking every value again (name,
 * CIDR, DHCP range, no overlap with the host's addresses or another
 * libvirt network, a host bridge that exists). Network XML is built with
 * libxml2's tree API. Every op here is for administrators. */
#ifndef VMM_HELPER_OPS_NETWORK_H
#define VMM_HELPER_OPS_NETWORK_H

#include <libvirt/libvirt.h>
#include <stdbool.h>

#include "domain_xml.h"
#include "ops.h"

struct db_rows;

/* The op table entries of this file, spliced into helper/ops.c's table. */
extern const struct op network_ops[];

/* True for a name libvirt (and the dnsmasq it runs) takes for a network. */
bool network_name_valid(const char *name);

/* The NICs of VM vm_id from vm_nics (names of their networks and MACs,
 * strdup'd into names/macs, which the caller g_free()s); 0 when it has
 * none (one NIC on vms.network), -1 when the database fails. */
int network_vm_nics(long long vm_id, struct domain_nic *nics, int max);

/* The columns of a vm_nics row (alias c) that network_nic_limits reads,
 * in its order: bandwidth limits and VLAN tag (issue 17). */
#define NETWORK_NIC_LIMITS \
    "c.in_average, c.in_peak, c.in_burst, c.out_average, c.out_peak, c.out_burst, c.vlan"
/* nic's limits from row i's NETWORK_NIC_LIMITS at column col (NULL: 0). */
void network_nic_limits(const struct db_rows *rows, int i, int col, struct domain_nic *nic);
void network_vm_nics_free(struct domain_nic *nics, int n);

/* The libvirt network of row network_id, or NULL with err set. */
virNetworkPtr network_lookup(virConnectPtr conn, long long network_id, struct err *err);

#endif
