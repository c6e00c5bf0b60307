/* Guest operations. Each loads the VM's row itself and checks that the
 * actor may touch it (owner or admin): a client sends only ids. */
#ifndef VMM_VM_H
#define VMM_VM_H

#include <libvirt/libvirt.h>

#include "ops.h"

int vm_op_create(struct op_call *call);
int vm_op_clone(struct op_call *call);
int vm_op_start(struct op_call *call);
int vm_op_stop(struct op_call *call);
int vm_op_reboot(struct op_call *call);
int vm_op_pause(struct op_call *call);
int vm_op_resume(struct op_call *call);
int vm_op_suspend(struct op_call *call);
int vm_op_wakeup(struct op_call *call);
int vm_op_delete(struct op_call *call);
int vm_op_update(struct op_call *call);
int vm_op_console(struct op_call *call);
int vm_op_spice_ticket(struct op_call *call);
int vm_op_vnc_password(struct op_call *call);

/* Lets an install that ended run the job that starts the VM from disk. */
void vm_install_init(void);

/* The state our API shows for a domain's libvirt state. */
const char *vm_state_name(virDomainPtr dom);
/* Writes the domain's current state into its row (by domain name). */
void vm_state_sync(virDomainPtr dom);

/* Issue 19: VM vm_id's disk made afresh in conn's disks pool as at create
 * (an overlay on its template, which every host has at the same path;
 * a full clone's or an ISO machine's blank, of its size): where a
 * migration that copies its storage writes. 0, or -1 with err set. */
int vm_disk_precreate(virConnectPtr conn, long long vm_id, const struct user *actor,
                      struct err *err);

#endif
