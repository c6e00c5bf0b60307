/* The helper's libvirt connection: opened lazily, re-opened after libvirtd
 * restarts (its close callback drops it), with libvirt's keepalive and its
 * default event loop running in a thread of its own. */
#ifndef VMM_VIRT_H
#define VMM_VIRT_H

#include <libvirt/libvirt.h>

#include "http.h"

/* Called from the event loop thread for every domain lifecycle event. */
typedef void (*virt_lifecycle_fn)(virDomainPtr dom, int event, int detail);

/* Called from the event loop thread when a device (by its alias) has left
 * a running domain: a hot-unplug the guest finished (issue 17). */
typedef void (*virt_device_removed_fn)(virDomainPtr dom, const char *alias);
/* Registers fn on every connection opened from now on. */
void virt_on_device_removed(virt_device_removed_fn fn);

/* Called from the event loop thread when a network of the helper's own
 * host starts (its name), and when a connection to it is (re)opened
 * (NULL): libvirt then has (re)written its firewall chains. */
typedef void (*virt_network_started_fn)(const char *network);
/* Registers fn on every connection to the own host opened from now on. */
void virt_on_network_started(virt_network_started_fn fn);

/* Starts the event loop thread; on_lifecycle (may be NULL) is registered
 * on every connection opened. Call once, before virt_conn. */
int virt_init(virt_lifecycle_fn on_lifecycle);
/* A referenced connection (virConnectClose it when done), or NULL with a
 * 503 libvirt_unavailable in err. While another thread is opening the
 * connection this returns NULL at once rather than wait on it. */
virConnectPtr virt_conn(struct err *err);
/* Issue 19: the helper's own host is host 1 of the hosts table. */
#define VIRT_LOCAL_HOST 1
/* The connection to host host_id (as virt_conn; 404 for no such host,
 * 503 host_unavailable when it does not answer). */
virConnectPtr virt_conn_host(long long host_id, struct err *err);
/* The domain domain_name on host host_id, and in *conn its referenced
 * connection; NULL with err (as virt_conn_host, or 409 no_domain when
 * libvirt has none: being created, or removed behind our back) and *conn
 * NULL. */
virDomainPtr virt_domain(long long host_id, const char *domain_name, virConnectPtr *conn,
                         struct err *err);
/* Records libvirt's last error for what failed ("Taking the snapshot"):
 * a 502 with code (libvirt_error or storage_error); returns -1. */
int virt_error_code(struct err *err, const char *code, const char *what);
/* virt_error_code with libvirt_error. */
int virt_error(struct err *err, const char *what);
/* The host id of an open connection (for events), or 0. */
long long virt_host_of(virConnectPtr conn);
/* The IPv4 address by which this machine reaches host host_id (its
 * migration_address, else the host part of its URI), where QEMU there
 * listens for consoles; NULL for the local host or a host named only
 * by a DNS name. g_free it. */
char *virt_host_address(long long host_id);
/* Closes and forgets host_id's connection (a host removed). */
void virt_forget_host(long long host_id);
/* Seconds a request may wait on libvirt ([helper] call_deadline_s). */
int virt_deadline_s(void);

#endif
