/* Per-user limits and what the user uses now. A user without a quota row
 * (or a NULL column) has the defaults of [quota] in the configuration. */
#ifndef VMM_QUOTA_H
#define VMM_QUOTA_H

#include <jansson.h>

/* Upper bounds an admin may set: larger values are typos, not intent. */
#define QUOTA_MAX_VMS 10000
#define QUOTA_MAX_VCPUS 100000
#define QUOTA_MAX_MEMORY_MB (64LL * 1024 * 1024)
#define QUOTA_MAX_DISK_GB (1024LL * 1024)
#define QUOTA_MAX_IMAGE_GB (1024LL * 1024)

/* {"quota": {max_vms, max_vcpus, max_memory_mb, max_disk_gb, max_image_gb,
 *  "custom": bool}, "usage": {vms, vcpus, memory_mb, disk_gb, image_bytes,
 *  image_gb}} for user_id, or NULL when the database fails. */
json_t *quota_report(long long user_id);
/* Bytes of image storage user_id may still fill (0 when full), or -1 when
 * the database fails. */
long long quota_image_room(long long user_id);
/* The report as rows for a page: [{kind: "vms"|"vcpus"|"memory_mb"|
 * "disk_gb"|"image_gb", used, limit}]. */
json_t *quota_rows(json_t *report);

/* What a change adds to a user's use (issue 17: disks, vCPUs, memory;
 * issue 16: a VM restored from a backup). */
struct quota_want {
    long long vcpus, memory_mb, disk_gb, vms;
};
/* Inside the transaction that writes a change to user_id's use: takes
 * the user's quota lock, a write to their row, so parallel changes of one
 * user queue on one server and conflict across Galera nodes (the loser's
 * transaction runs again and sees the winner's use). 0 or -1. */
int quota_lock(long long user_id);
/* Inside the transaction that writes the change: quota_lock(user_id) (so
 * parallel changes of one user queue here) and checks that what they use
 * plus want fits their limits. 0 when it does; 1 when not, with *kind
 * ("vms", "vcpus", "memory_mb", "disk_gb"), *limit and *used set; -1 when the
 * database fails. Disks count the VMs' first disks and those added. */
int quota_fits_locked(long long user_id, const struct quota_want *want, const char **kind,
                      long long *limit, long long *used);

#endif
