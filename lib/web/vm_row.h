/* A new VM's row (state creating), as a create, a clone and a restore of
 * a backup as a new VM make it: a new UUID and libvirt name, and the
 * console's password. The caller holds the transaction that checked the
 * owner's quota. */
#ifndef VMM_VM_ROW_H
#define VMM_VM_ROW_H

#include <stdbool.h>

#define VNC_PASSWORD_LEN 8   /* VNC's DES challenge uses at most 8 characters */

struct vm_row {
    long long owner_id;
    const char *name, *description, *cpu_model, *arch;
    long long vcpus, memory_mb, disk_gb;
    long long template_id, iso_id;   /* 0: none */
    bool full, autostart;
    const char *vnc_password;        /* NULL: a random one */
    const char *graphics;            /* "vnc" (NULL) or "spice" (issue 20) */
    long long pool_id;               /* issue 12: the disk's storage pool; 0: the helper's */
    long long host_id;               /* issue 19: where it is made; 0: the local host */
};

/* The new row's id, or -1 (the database failed). */
long long vm_row_insert(const struct vm_row *row);

#endif
