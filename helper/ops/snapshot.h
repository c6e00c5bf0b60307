/* Snapshots of a VM: internal qcow2 snapshots through libvirt, one row
 * each in `snapshots` (our id, the user's name, origin, pin, reserved
 * space). What libvirt 9.0 and QEMU 7.2 can do decides what we offer:
 *
 * - a stopped VM: disk-only snapshots (libvirt runs qemu-img snapshot);
 * - a running or paused VM: snapshots with memory (QEMU's savevm); an
 *   internal disk-only snapshot of a running VM is not supported by
 *   libvirt 9.0 ("must include the memory state"), so it is a 409, and
 *   external snapshots are not made at all: 9.0 cannot revert them;
 * - UEFI guests (pflash NVRAM is raw) and raw disks cannot hold internal
 *   snapshots: 422 before anything is made.
 *
 * Merging a chain of internal snapshots is deleting the points between
 * its ends: each point is self-contained, and QEMU frees the clusters no
 * other point holds (there is no overlay to block-commit). */
#ifndef VMM_HELPER_OPS_SNAPSHOT_H
#define VMM_HELPER_OPS_SNAPSHOT_H

#include "../ops.h"

/* The snapshot ops, ended by an entry whose name is NULL. */
extern const struct op snapshot_ops[];

/* At start: snapshot rows a previous helper left 'creating' are removed,
 * with the libvirt snapshot if one was made. */
void snapshot_cleanup_interrupted(void);

#endif
