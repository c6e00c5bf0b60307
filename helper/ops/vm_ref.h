/* The VM a snapshot or backup op acts on (issue 16): its row, checked
 * against the actor, and its domain in libvirt. */
#ifndef VMM_HELPER_VM_REF_H
#define VMM_HELPER_VM_REF_H

#include <libvirt/libvirt.h>

#include "http.h"
#include "user.h"

struct vm_ref {
    long long id;
    long long owner_id;
    long long memory_mb;
    char domain_name[65];
    char name[65];
};

/* The VM if actor may touch it, else the 404 of a VM that does not exist. */
int vm_ref_load(long long vm_id, const struct user *actor, struct vm_ref *vm, struct err *err);
/* The VM's domain (and a referenced connection), or NULL with err (409
 * no_domain when libvirt has none). */
virDomainPtr vm_ref_domain(const struct vm_ref *vm, virConnectPtr *conn, struct err *err);
/* Frees either, when set. */
void vm_ref_release(virDomainPtr dom, virConnectPtr conn);

#endif
