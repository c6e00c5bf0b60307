-- Issue 15: why a VM is in `error`, for its page in the reader's language.
-- error_reason is one of a known set (lib/vm_error.h: the helper
-- classifies what libvirt and QEMU said); error_detail keeps their own
-- words whole, shown behind a details element. Both are NULL while the
-- machine is in any other state.
ALTER TABLE vms
    ADD COLUMN error_reason VARCHAR(32) NULL AFTER state,
    ADD COLUMN error_detail VARCHAR(2000) NULL AFTER error_reason;
