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

#endif
