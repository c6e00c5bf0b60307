/* Storage pools and volumes (issue 12): dir, logical (LVM) and netfs
 * (NFS) pools that administrators make, and the volumes in them. A pool
 * whose backend is gone (an NFS server that is down) makes libvirt calls
 * hang, so nothing here waits on one for long: pool operations run in
 * jobs, and every call that touches storage runs in a thread of its own
 * with a deadline ([storage] op_timeout_s, info_timeout_s); a call that
 * does not come back in time is reported as hanging and left to finish
 * on its own. */
#ifndef VMM_HELPER_OPS_STORAGE_H
#define VMM_HELPER_OPS_STORAGE_H

#include "ops.h"

extern const struct op storage_ops[];

struct sandbox;
/* An uploaded volume (issue 12): the sandbox's image, already judged,
 * becomes the volume name of bytes in pool pool_id (a running dir or NFS
 * pool with the room), with the operation deadline. 0, or -1 with err
 * set; past the deadline *sb is left to the call (NULL here). */
int storage_volume_import(long long pool_id, const char *name, long long bytes,
                          struct sandbox **sb, struct err *err);
/* The directory of pool_id, a dir or NFS pool (whose volumes are files
 * there: a template's place, issue 12); NULL with err set. g_free it. */
char *storage_pool_dir(long long pool_id, struct err *err);
/* Deletes volume name of pool_id (a template's file once its row is
 * gone) with the operation deadline: 0, or -1 with err set. */
int storage_volume_remove(long long pool_id, const char *name, struct err *err);

#endif
