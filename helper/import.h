/* What a finished upload becomes: an import job inspects the file and
 * makes an ISO (ISO 9660/UDF, size, MD5, SHA-256, label) or a template
 * in the helper's pools. A template is read only in the sandbox
 * (lib/sandbox.h): an OVA unpacked there by vmm-ova (its OVF read for
 * name, vCPUs, memory and its disk), the disk judged self-contained and of
 * the declared format (image_inspect), checked and, for vmdk, converted to
 * qcow2 by qemu-img there. A refused file leaves no library entry. Also
 * the ISO and template ops that touch files: verify, delete. */
#ifndef VMM_HELPER_IMPORT_H
#define VMM_HELPER_IMPORT_H

#include "http.h"
#include "ops.h"

/* Starts the import job of a complete upload; the job's id, or -1. */
long long import_start(long long upload_id, long long owner_id, struct err *err);
/* At start: ISOs left "importing" by a previous helper are removed. */
void import_cleanup_interrupted(void);

int iso_op_verify(struct op_call *call);        /* {iso_id} -> {job_id} */
int iso_op_delete(struct op_call *call);        /* {iso_id} */
int template_op_delete(struct op_call *call);   /* {template_id} */
/* Issue 19: an OVA import waiting for its review, given up: its staged
 * disk and its row go. {ova_import_id} */
int ova_import_op_discard(struct op_call *call);

#endif
