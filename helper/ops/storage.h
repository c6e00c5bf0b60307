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

#endif
