/* Which accelerator guests get. /dev/kvm can exist and still not run a
 * guest (it hangs on some hosts), so KVM counts only once a tiny guest has
 * really run under it; anything else means TCG ("qemu"). */
#ifndef VMM_ACCEL_H
#define VMM_ACCEL_H

#include <stdbool.h>

/* Runs a 512-byte guest that writes to QEMU's isa-debug-exit port, under
 * accel ("kvm" or "tcg"), killed after timeout_s. True when it ran. */
bool accel_guest_runs(const char *qemu_binary, const char *accel, int timeout_s);

/* The libvirt domain type to use: config helper.accel (kvm|qemu), or for
 * "auto" the result of one probe, remembered for the process's life. */
const char *accel_domain_type(const char *qemu_binary);

#endif
