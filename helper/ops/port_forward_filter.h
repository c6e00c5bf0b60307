/* Port forwards from other machines (issue 17): libvirt's NAT networks
 * reject, in its iptables chain LIBVIRT_FWI, every new connection into
 * their subnet, and a reject in one base chain of the forward hook is not
 * undone by an accept in another (our nftables table's). So the flows we
 * DNAT are accepted inside libvirt's own chains: in LIBVIRT_FWX, which
 * its FORWARD chain runs before LIBVIRT_FWI and where libvirt adds no
 * reject, so that the rules libvirt inserts at the top of LIBVIRT_FWI
 * when a network (re)starts do not come before ours. Written with the
 * iptables command libvirt itself uses (iptables-nft on Debian 12), so
 * that both read the same rules; each rule carries this installation's
 * comment (vmm_pf_<instance>) and matches only a connection conntrack
 * knows as DNATed from the forward's host port to the guest's address
 * and port. Re-applied whenever a network starts (the chain may be new). */
#ifndef VMM_HELPER_OPS_PORT_FORWARD_FILTER_H
#define VMM_HELPER_OPS_PORT_FORWARD_FILTER_H

struct port_forward_flow {
    const char *protocol;   /* "tcp" or "udp" */
    const char *guest_ip;   /* dotted IPv4, from the database */
    int host_port;
    int guest_port;
};

/* Makes this installation's rules in LIBVIRT_FWX exactly flows[0..n).
 * 0, or -1 (logged) when a rule could not be written or, with flows to
 * write, libvirt's chain is not there yet. */
int port_forward_filter_sync(const struct port_forward_flow *flows, int n);

#endif
