/* The libvirt dir pools the helper manages under [helper] pool_dir:
 * "disks" (guest disks) and "templates". Pool names carry a hash of the
 * directory, so several stacks on one libvirtd never share a pool. */
#ifndef VMM_POOL_H
#define VMM_POOL_H

#include <libvirt/libvirt.h>

#include "http.h"

/* The active pool of that kind, created if needed; NULL with err set. */
virStoragePoolPtr pool_get(virConnectPtr conn, const char *kind, struct err *err);
/* pool_dir/kind/name for a name we made or validated; free() it. */
char *pool_path(const char *kind, const char *name);
/* This installation's id, written into every domain's metadata so two
 * portals on one libvirtd never claim each other's guests: [helper]
 * instance, else derived from pool_dir. */
const char *instance_id(void);
/* Issue 12: the active storage pool of that storage_pools row (an
 * administrator's, holding VM disks), or the "disks" pool for 0; NULL
 * with err set (409 pool_inactive, no_storage_pool). */
virStoragePoolPtr pool_get_chosen(virConnectPtr conn, long long storage_pool_id, struct err *err);
/* name's path in that pool (pool_path("disks", name) for 0); NULL when
 * the row is gone. free() it. */
char *pool_chosen_path(long long storage_pool_id, const char *name);
/* True for a plain file name: [A-Za-z0-9._-], no leading dot. */
int pool_name_valid(const char *name);

#endif
