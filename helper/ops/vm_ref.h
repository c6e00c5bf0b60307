/* What the snapshot and backup ops share (issue 16): the VM they act on
 * (its row, checked against the actor, and its domain in libvirt), and
 * the claim of a schedule's slot. */
#ifndef VMM_HELPER_VM_REF_H
#define VMM_HELPER_VM_REF_H

#include <libvirt/libvirt.h>
#include <stdbool.h>

#include "http.h"
#include "user.h"

struct vm_ref {
    long long id;
    long long owner_id;
    long long memory_mb;
    long long host_id;     /* the host its domain is on (issue 19) */
    char domain_name[65];
    char name[65];
};

/* The VM if actor may touch it, else the 404 of a VM that does not exist. */
int vm_ref_load(long long vm_id, const struct user *actor, struct vm_ref *vm, struct err *err);
/* Frees either, when set (the domain and connection of virt_domain). */
void vm_ref_release(virDomainPtr dom, virConnectPtr conn);

/* Claims slot (unix time) of vm_id's schedule in table (a policy table
 * of ours: snapshot_policies, backup_policies): true for the one caller
 * that moves last_slot up to it, so a slot runs once whoever asks twice. */
bool schedule_claim(const char *table, long long vm_id, long long slot);

#endif
