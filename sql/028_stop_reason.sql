-- Issue 11: why a VM stopped when nobody asked, as libvirt told the
-- helper (helper/lifecycle.c): its guest kernel panicked (the pvpanic
-- device) or its QEMU died. Shown beside the state until it runs again
-- (vm_state_sync clears it); NULL for every other stop.
ALTER TABLE vms ADD COLUMN stop_reason ENUM('guest_panic', 'qemu_failed') NULL AFTER state;
