/* Why a VM is in `error`: a known set of reasons, each with a message in
 * the reader's language. The helper classifies what libvirt and QEMU said
 * (kept whole beside the reason, vms.error_detail); pages and the API show
 * the message, with the raw text behind a details element. */
#ifndef VMM_VM_ERROR_H
#define VMM_VM_ERROR_H

/* The reason code of libvirt's or QEMU's text: "kvm_failed",
 * "out_of_memory", "disk_missing", "permission_denied", "guest_crashed",
 * "qemu_died", "state_unreadable" (libvirt could not say), or "unknown". */
const char *vm_error_classify(const char *raw);
/* The translated message of a reason code (an unknown code gets the
 * message of "unknown"). */
const char *vm_error_message(const char *reason);

#endif
