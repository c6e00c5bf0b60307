/* The accelerator probe's guest and the words of its verdict: pure pieces,
 * kept apart from the probe so unit tests can run them without libvirt. */
#ifndef VMM_PROBE_GUEST_H
#define VMM_PROBE_GUEST_H

#include <stdbool.h>
#include <stddef.h>

/* What the guest writes to its first serial port once it runs. */
#define PROBE_MARKER "VMM-ACCEL-OK"

/* Writes a raw x86 disk image (a boot sector that prints PROBE_MARKER on
 * COM1 and halts) to path, mode 0644. 0 or -1. */
int probe_write_x86_disk(const char *path);
/* Writes an AArch64 firmware image for the virt machine (code that prints
 * PROBE_MARKER on the PL011 UART and waits), 1 MiB, to path, mode 0644.
 * 0 or -1. */
int probe_write_arm_rom(const char *path);

/* text cut to at most max bytes (max >= 4) at a word boundary, "..." added
 * when it was cut; newlines become spaces. Free with g_free. */
char *probe_reason_cut(const char *text, size_t max);

/* The error lines QEMU wrote to its log (lines "<emulator>: ...", after the
 * last start), joined by spaces, or NULL. Free with g_free. */
char *probe_qemu_log_errors(const char *log_text);

/* Whether libvirt's error text says KVM itself failed (the device, its
 * module, an MSR the host's KVM refused). */
bool probe_error_is_kvm(const char *message);

#endif
