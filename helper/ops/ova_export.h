/* OVA export of a stopped VM (issue 19): vm.export, a job writing an
 * OVF 1.0 OVA (descriptor, SHA-256 manifest, streamOptimized VMDKs). */
#ifndef VMM_HELPER_OPS_OVA_EXPORT_H
#define VMM_HELPER_OPS_OVA_EXPORT_H

#include "ops.h"

extern const struct op ova_export_ops[];

/* Removes the OVA files of VM vm_id's exports (the VM is being deleted). */
void ova_exports_remove(long long vm_id);

#endif
