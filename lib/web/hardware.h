/* A VM's disks as the API and the VM page show them (issue 17): the first
 * disk (vda, made with the VM) and those added later (vm_disks). */
#ifndef VMM_HARDWARE_H
#define VMM_HARDWARE_H

#include <jansson.h>

#include "http.h"

/* [{target, bus, format, cache, size_gb, state, removable}] of VM vm_id
 * whose first disk has disk_gb, or NULL when the database fails. No
 * access check: the caller has made it. */
json_t *hardware_disks(long long vm_id, long long disk_gb);

/* [{network_id, network, mac, model, link_state, state, ip, ip_pool_id,
 * bandwidth {inbound, outbound: {average, peak, burst} or null}, vlan}]
 * of VM vm_id's NIC rows in order (ip: its address from the network's IP
 * pool, if any; bandwidth in libvirt's units, KiB/s and KiB), or NULL when the database fails. A VM made without NIC
 * rows has one NIC on its network, recorded here when another joins it. */
json_t *hardware_nics(long long vm_id);

/* [{id, vm_id, protocol, host_address, host_port, guest_port, mac, guest_ip}] of
 * VM vm_id's port forwards, or NULL when the database fails. */
json_t *hardware_port_forwards(long long vm_id);

/* Issue 12: whether the caller may put a disk of size_gb in storage pool
 * pool_id (0: the helper's own pool, always). Administrators use any
 * pool (422 unknown_pool for none); a user only those an administrator
 * opened to users (users_allowed; 403 forbidden, field pool, for any
 * other, so no pool's existence is told); the helper says whether the
 * pool takes it: a running directory or NFS pool with size_gb free. 0,
 * or -1 with r's error set. */
int hardware_pool_check(struct req *r, long long pool_id, long long size_gb);
/* [{id, name, selected}] of the storage pools the caller may place disks
 * in (as above), for a form's choice; NULL when the database fails. */
json_t *hardware_pool_choices(struct req *r, long long chosen);

/* NICs a VM may have (the helper's DOMAIN_MAX_NICS, create's network_ids). */
#define HARDWARE_MAX_NICS 8

/* Adds to vm (an object of GET /vms/{id}) its disks, port_forwards,
 * max_vcpus, max_memory_mb and cpu topology; with isos_for (a user id, 0: none) also "cdrom_isos", the
 * library ISOs that user may insert, for the page's CD-ROM form, and
 * "nic_networks", those a new NIC may join.
 * 0, or -1 when the database fails. */
int hardware_describe(json_t *vm, long long isos_for);

/* The MAC address text as six lower-case pairs in out: 0, or -1 when it
 * is not a MAC, -2 when it is a multicast one, -3 when it is reserved
 * (all zero, or fe: which libvirt keeps for the host side of a tap). */
int hardware_mac_normalize(const char *text, char out[18]);

/* A fresh random MAC in QEMU's locally administered 52:54:00 range; 0, or
 * -1 when there is no randomness. Unique only with the vm_nics key. */
int hardware_mac_new(char out[18]);

/* The helper's host.cpu_models for arch (NULL: x86_64): {arch, accel,
 * host_passthrough, host_model, maximum, models: [{name, usable,
 * vendor}]}, or NULL with r->err set. */
json_t *hardware_cpu_models(struct req *r, const char *arch);

/* Whether guests of arch may get CPU model (NULL: no change): either
 * host mode (they work under both accelerators: under TCG the helper
 * defines them as QEMU's "maximum"), or a named model libvirt reports
 * usable for the accelerator. 0, or -1 with r->err set: 422
 * unknown_cpu_model, cpu_model_unusable; 503 accel_pending for a named
 * model in the helper's first seconds. */
int hardware_cpu_model_check(struct req *r, const char *arch, const char *model);

/* Adds to vm (with its arch and cpu_model) "cpu_choices", [{name,
 * selected}]: both host modes and the named models libvirt reports
 * usable, for the page's CPU form, and "cpu_accel". 0, or -1 with r->err
 * set. */
int hardware_cpu_choices(struct req *r, json_t *vm);

#endif
