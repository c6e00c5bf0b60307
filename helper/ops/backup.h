/* Backups of VMs (issue 16): full and incremental, through libvirt's
 * backup API and checkpoints, into the helper's backup store; restore
 * over the VM; retention; the schedules' op. See backup.c. */
#ifndef VMM_HELPER_BACKUP_H
#define VMM_HELPER_BACKUP_H

#include "../ops.h"

extern const struct op backup_ops[];

/* At start: backups a previous helper left half made are marked failed,
 * their checkpoints and files removed. */
void backup_cleanup_interrupted(void);

struct job;
/* The file of backup_id's first disk (vda), once the whole chain matches
 * its checksums, for a new VM made from it (vm.clone with backup_id);
 * g_free it. NULL with err set. */
char *backup_first_disk(long long backup_id, const struct job *job, struct err *err);

/* The new VM vm_id's added disks (its vm_disks rows) written from
 * backup_id's copies, into the helper's pool; 0, or -1 with err set and
 * nothing left. */
int backup_restore_added_disks(long long backup_id, long long vm_id, struct err *err);
/* Removes the files of the new VM vm_id's added disks (a failed restore). */
void backup_added_disks_remove(long long vm_id);

#endif
