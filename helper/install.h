/* Automated installs (issue 18), the helper's part: the seed a VM's
 * installer or first boot reads (a cloud-init NoCloud ISO labelled
 * cidata, a kickstart volume labelled OEMDRV, a preseed volume), built
 * with xorriso in the sandbox from the config vmm-vms rendered and the
 * VM's NICs; its removal after the first boot; and the end of an ISO
 * install (the installer powered off). */
#ifndef VMM_HELPER_INSTALL_H
#define VMM_HELPER_INSTALL_H

#include <libvirt/libvirt.h>
#include <stdbool.h>

#include "http.h"

/* Builds vm_id's seed if it has one waiting (seed_state pending) and
 * marks it attached. 1 when built, 0 when the VM has none, -1 (err). */
int install_seed_build(long long vm_id, const char *uuid, const char *domain_name,
                       struct err *err);
/* Where domain_name's seed is (g_free it). */
char *install_seed_path(const char *domain_name);
/* Removes the seed and an installer's kernel and initrd. */
void install_seed_remove(const char *domain_name);
struct domain_spec;
/* A preseeded install's direct kernel boot into spec while its kernel and
 * initrd exist (they go when the install ends); *kernel and *initrd are
 * for the caller to g_free. */
void install_direct_boot(const char *domain_name, struct domain_spec *spec, char **kernel,
                         char **initrd);
/* On every state change of a domain: a first start takes the seed out of
 * the persistent definition (the running guest keeps it); an installer
 * that powered off ends its install in a job (ISO and seed ejected, disk
 * first, started unless the user chose to wait). */
void install_on_state(virDomainPtr dom, bool running, bool powered_off);
struct job;
/* The job that ends an install (vm.c's: it redefines and starts VMs). */
void install_set_finish(int (*fn)(struct job *job));

#endif
