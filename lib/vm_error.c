#include "vm_error.h"

#include <string.h>

#include <glib.h>

#include "i18n.h"

/* In order: the first whose words appear in the text wins, so the cause
 * (KVM, memory, a file) comes before the effect (QEMU died). Words are
 * matched in lower case. */
static const struct {
    const char *reason;
    const char *words[5];
    const char *message;
} reasons[] = {
    { "kvm_failed", { "kvm", "failed to set msr", NULL },
      N_("KVM (hardware acceleration) could not run this machine on its host.") },
    { "out_of_memory", { "cannot allocate memory", "out of memory", "oom", NULL },
      N_("The host did not have enough free memory for this machine.") },
    { "disk_missing", { "no such file or directory", "could not open", NULL },
      N_("A disk or image this machine needs is missing on the host.") },
    { "permission_denied", { "permission denied", "operation not permitted", NULL },
      N_("The host refused QEMU access to a file this machine needs.") },
    { "guest_crashed", { "crashed", "panic", NULL },
      N_("The guest operating system crashed.") },
    { "qemu_died", { "qemu unexpectedly", "stopped unexpectedly", "qemu-system-", "terminated",
                     NULL },
      N_("The machine's emulator (QEMU) stopped unexpectedly.") },
    { "state_unreadable", { "domain not found", "failed to get", "cannot recv", NULL },
      N_("libvirt could not tell the state of this machine.") },
    { "unknown", { NULL },
      N_("Something went wrong on the host; the details below say what libvirt reported.") },
};

const char *vm_error_classify(const char *raw)
{
    if (!raw || !*raw)
        return "unknown";
    char *lower = g_ascii_strdown(raw, -1);
    const char *found = "unknown";
    for (size_t i = 0; i < G_N_ELEMENTS(reasons) && !strcmp(found, "unknown"); i++)
        for (int w = 0; reasons[i].words[w]; w++)
            if (strstr(lower, reasons[i].words[w])) {
                found = reasons[i].reason;
                break;
            }
    g_free(lower);
    return found;
}

const char *vm_error_message(const char *reason)
{
    size_t last = G_N_ELEMENTS(reasons) - 1;
    for (size_t i = 0; reason && i < last; i++)
        if (!strcmp(reasons[i].reason, reason))
            return _(reasons[i].message);
    return _(reasons[last].message);
}
