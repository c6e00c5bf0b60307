/* A VM's disks as the API and the VM page show them (issue 17): the first
 * disk (vda, made with the VM) and those added later (vm_disks). */
#ifndef VMM_HARDWARE_H
#define VMM_HARDWARE_H

#include <jansson.h>

/* [{target, bus, format, cache, size_gb, state, removable}] of VM vm_id
 * whose first disk has disk_gb, or NULL when the database fails. No
 * access check: the caller has made it. */
json_t *hardware_disks(long long vm_id, long long disk_gb);

/* Adds to vm (an object of GET /vms/{id}) its disks, max_vcpus and cpu
 * topology; with isos_for (a user id, 0: none) also "cdrom_isos", the
 * library ISOs that user may insert, for the page's CD-ROM form.
 * 0, or -1 when the database fails. */
int hardware_describe(json_t *vm, long long isos_for);

#endif
