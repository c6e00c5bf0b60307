#include "accel.h"

#include <glib.h>
#include <glib/gstdio.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "log.h"

/* mov al,0x31; out 0xf4,al; hlt; jmp -3 — QEMU then exits with status
 * (0x31 << 1) | 1 = 99. */
static const unsigned char boot_code[] = { 0xb0, 0x31, 0xe6, 0xf4, 0xf4, 0xeb, 0xfd };
#define EXIT_STATUS 99

bool accel_guest_runs(const char *qemu_binary, const char *accel, int timeout_s)
{
    unsigned char sector[512] = { 0 };
    memcpy(sector, boot_code, sizeof boot_code);
    sector[510] = 0x55;
    sector[511] = 0xaa;

    char *path = NULL;
    int fd = g_file_open_tmp("vmm-accel-XXXXXX.img", &path, NULL);
    if (fd < 0)
        return false;
    bool ok = write(fd, sector, sizeof sector) == sizeof sector;
    close(fd);

    char timeout[16], machine[64], drive[512];
    snprintf(timeout, sizeof timeout, "%d", timeout_s);
    snprintf(machine, sizeof machine, "pc,accel=%s", accel);
    snprintf(drive, sizeof drive, "file=%s,format=raw,if=ide", path);
    char *argv[] = { "timeout", "-s", "KILL", timeout, (char *)qemu_binary, "-machine", machine,
                     "-nodefaults", "-no-user-config", "-display", "none", "-m", "16",
                     "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04", "-drive", drive, NULL };
    int status = -1;
    if (ok)
        ok = g_spawn_sync(NULL, argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL |
                                                G_SPAWN_STDERR_TO_DEV_NULL,
                          NULL, NULL, NULL, NULL, &status, NULL) &&
             WIFEXITED(status) && WEXITSTATUS(status) == EXIT_STATUS;
    g_unlink(path);
    g_free(path);
    return ok;
}

static const char *probe_binary;
static const char *probe_result = "qemu";

static void probe(void)
{
    if (access("/dev/kvm", R_OK | W_OK) == 0 && accel_guest_runs(probe_binary, "kvm", 10))
        probe_result = "kvm";
    log_info("accelerator: %s",
             !strcmp(probe_result, "kvm") ? "KVM" : "TCG (KVM did not run a guest)");
}

const char *accel_domain_type(const char *qemu_binary)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    const char *setting = config_str("helper", "accel", "auto");
    if (!strcmp(setting, "kvm") || !strcmp(setting, "qemu"))
        return setting;
    probe_binary = qemu_binary;
    pthread_once(&once, probe);
    return probe_result;
}
