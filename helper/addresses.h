/* The addresses each running guest really has (issue 12), kept in the
 * vm_addresses table so that a page or an API answer never waits on
 * libvirt (a guest agent that does not answer costs libvirt seconds per
 * call). A thread of the helper reads, every [ip_pools]
 * address_interval_s, each running domain's interface addresses from
 * libvirt: its DHCP leases first, the guest agent's when the agent is
 * connected, and the host's ARP table when neither knows any; it writes a
 * VM's rows only when they changed (a write invalidates the list caches). */
#ifndef VMM_HELPER_ADDRESSES_H
#define VMM_HELPER_ADDRESSES_H

/* Starts the watcher (nothing when address_interval_s is 0). */
void addresses_start(void);

#endif
