/* Which accelerator guests get, decided the way guests really run: a tiny
 * transient domain is booted through libvirt (so by libvirt's own QEMU
 * user) with the machine type, CPU mode and domain type VMs get, first as
 * kvm, then as qemu (TCG). It counts only once the guest's code has
 * written its marker to the serial port. /dev/kvm can exist and still hang
 * guests, be closed to QEMU's user, or abort q35 guests with the host's
 * CPU model: each shows as the verdict's reason. One verdict per
 * architecture, decided in the background from helper start; [helper]
 * accel = kvm|qemu overrides it. */
#ifndef VMM_ACCEL_H
#define VMM_ACCEL_H

#include <jansson.h>
#include <stdbool.h>

#include "http.h"

/* Starts deciding, in a thread of its own (returns at once). */
void accel_start(void);

/* The libvirt domain type for guests of arch ("kvm" or "qemu"), waiting up
 * to wait_s for the verdict; NULL with a 503 accel_pending in err if it is
 * still being decided, or a 422 for an arch we do not run. */
const char *accel_domain_type(const char *arch, int wait_s, struct err *err);

/* The verdict of arch as {accel: "kvm"|"qemu"|"probing", accel_reason (in
 * English, with libvirt's or QEMU's own words), accel_reason_code:
 * "guest_ran"|"kvm_failed"|"no_guest_ran"|"other_arch"|"no_probe"|
 * "config" (empty while probing), accel_source: "probe"|"config"} (a new
 * object). */
json_t *accel_verdict(const char *arch);

/* err for a failed libvirt call: 502 accel_failed when libvirt's message
 * says KVM failed (with the reason), else 502 libvirt_error; what names
 * the step ("Starting the machine"). Returns -1. */
int accel_libvirt_error(struct err *err, const char *what);

#endif
