/* What follows a network's start on the helper's own host (libvirt's
 * network lifecycle event) and a reopened connection to its libvirtd:
 * the running guests of this portal get their taps back on the network's
 * new bridge (libvirt 9 leaves them off it after a net-destroy and
 * net-start), and the port forwards' filter rules are written again
 * (port_forward_filter.h says why). Off the event loop's thread. */
#ifndef VMM_HELPER_OPS_NETWORK_STARTED_H
#define VMM_HELPER_OPS_NETWORK_STARTED_H

/* Registers with virt.c; call before the first connection. */
void network_started_init(void);

#endif
