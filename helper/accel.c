#include "accel.h"

#include <glib.h>
#include <glib/gstdio.h>
#include <libvirt/virterror.h>
#include <pthread.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "config.h"
#include "domain_xml.h"
#include "log.h"
#include "pool.h"
#include "probe_guest.h"
#include "virt.h"

#define REASON_MAX 240

/* The probe of one architecture: how to make its boot disk (NULL: no
 * probe, TCG), and whether that file is the firmware itself (aarch64:
 * UEFI takes seconds to start even under KVM, and the probe asks only
 * whether guest code runs). */
struct arch_probe {
    const char *arch;
    int (*write_disk)(const char *path);
    bool firmware;
};

static const struct arch_probe probes[] = {
    { .arch = "x86_64", .write_disk = probe_write_x86_disk },
    { .arch = "aarch64", .write_disk = probe_write_arm_rom, .firmware = true },
};
#define NARCHES G_N_ELEMENTS(probes)

struct verdict {
    bool decided;
    char domain_type[8];
    const char *code;   /* why, for pages to translate: see accel_verdict */
    char reason[REASON_MAX + 8];
    const char *source;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t decided = PTHREAD_COND_INITIALIZER;
static struct verdict verdicts[NARCHES];

static int arch_index(const char *arch)
{
    for (size_t i = 0; arch && i < NARCHES; i++)
        if (!strcmp(probes[i].arch, arch))
            return (int)i;
    return -1;
}

static void decide(int i, const char *type, const char *code, const char *reason,
                   const char *source)
{
    char *cut = probe_reason_cut(reason, REASON_MAX);
    pthread_mutex_lock(&lock);
    verdicts[i].decided = true;
    g_strlcpy(verdicts[i].domain_type, type, sizeof verdicts[i].domain_type);
    g_strlcpy(verdicts[i].reason, cut, sizeof verdicts[i].reason);
    verdicts[i].source = source;
    verdicts[i].code = code;
    pthread_cond_broadcast(&decided);
    pthread_mutex_unlock(&lock);
    log_info("accelerator for %s: %s (%s)", probes[i].arch, type, cut);
    g_free(cut);
}

static bool file_has(const char *path, const char *text)
{
    char *content = NULL;
    bool has = g_file_get_contents(path, &content, NULL, NULL) && strstr(content, text);
    g_free(content);
    return has;
}

/* Why the probe domain stopped, from QEMU's log (libvirt's default place). */
static char *stopped_reason(const char *name)
{
    char *path = g_strdup_printf("/var/log/libvirt/qemu/%s.log", name);
    char *text = NULL, *errors = NULL;
    if (g_file_get_contents(path, &text, NULL, NULL))
        errors = probe_qemu_log_errors(text);
    g_free(text);
    g_free(path);
    char *reason = g_strdup_printf("the guest stopped%s%s", errors ? ": " : " before it ran",
                                   errors ? errors : "");
    g_free(errors);
    return reason;
}

/* Boots the probe guest of p as domain type type; true when its marker
 * came within timeout_s, else false with *reason set (g_free it). */
static bool guest_runs(virConnectPtr conn, const struct arch_probe *p, const char *type,
                       int timeout_s, char **reason)
{
    char *file = g_strdup_printf("%s.img", p->arch);
    char *disk = pool_path("probe", file);
    char *dir = g_path_get_dirname(disk);
    char *log_name = g_strdup_printf("%s-%s.log", p->arch, type);
    char *serial = pool_path("probe", log_name);
    char *name = g_strdup_printf("vmm-probe-%s-%s-%s", instance_id(), p->arch, type);
    g_mkdir_with_parents(dir, 0711);
    g_unlink(serial);
    bool ok = false;
    *reason = NULL;

    /* A probe domain left by a helper that died mid-probe. */
    virDomainPtr old = virDomainLookupByName(conn, name);
    if (old) {
        virDomainDestroy(old);
        virDomainFree(old);
    }
    /* The same builder and choices as VMs: q35 or virt, the CPU mode VMs
     * get by default (host-model), virtio disk, VNC, serial console to a
     * file. */
    struct domain_spec spec = {
        .name = name, .title = "VMManager accelerator probe", .instance = instance_id(),
        .vcpus = 1, .memory_mb = 32, .arch = p->arch, .domain_type = type,
        .cpu_model = "host-model", .disk_path = disk, .disk_format = "raw",
        .boot = { "hd", NULL }, .serial_log = serial, .firmware_rom = p->firmware ? disk : NULL,
    };
    char *xml = p->write_disk(disk) == 0 ? domain_xml_build(&spec) : NULL;
    virDomainPtr dom = xml ? virDomainCreateXML(conn, xml, VIR_DOMAIN_START_AUTODESTROY) : NULL;
    if (!xml) {
        *reason = g_strdup("the probe guest could not be made");
    } else if (!dom) {
        *reason = g_strdup(virGetLastErrorMessage());
    } else {
        gint64 end = g_get_monotonic_time() + (gint64)timeout_s * G_USEC_PER_SEC;
        while (!(ok = file_has(serial, PROBE_MARKER))) {
            if (virDomainIsActive(dom) == 0) {
                *reason = stopped_reason(name);
                break;
            }
            if (g_get_monotonic_time() > end) {
                *reason = g_strdup("timed out: guest did not run");
                break;
            }
            g_usleep(100 * 1000);
        }
        virDomainDestroy(dom);
        virDomainFree(dom);
    }
    g_unlink(serial);
    g_free(xml);
    g_free(name);
    g_free(serial);
    g_free(log_name);
    g_free(dir);
    g_free(disk);
    g_free(file);
    return ok;
}

static const char *host_arch(void)
{
    static struct utsname u;
    return uname(&u) == 0 ? u.machine : "";
}

static void probe_arch(int i)
{
    const struct arch_probe *p = &probes[i];
    if (strcmp(p->arch, host_arch()) != 0) {
        char *why = g_strdup_printf("KVM runs only guests of the host's architecture (%s)",
                                    host_arch());
        decide(i, "qemu", "other_arch", why, "probe");
        g_free(why);
        return;
    }
    if (!p->write_disk) {
        decide(i, "qemu", "no_probe", "no probe for this architecture yet", "probe");
        return;
    }
    struct err err = { 0 };
    virConnectPtr conn;
    bool waiting_logged = false;
    /* libvirt may not answer yet (starting, or wedged): try until it does. */
    while (!(conn = virt_conn(&err))) {
        if (!waiting_logged)
            log_warn("accelerator probe waits for libvirt");
        waiting_logged = true;
        g_usleep(2 * G_USEC_PER_SEC);
    }
    char *kvm_why = NULL, *tcg_why = NULL;
    int kvm_s = (int)config_int("helper", "accel_probe_kvm_s", 15);
    int tcg_s = (int)config_int("helper", "accel_probe_tcg_s", 60);
    if (guest_runs(conn, p, "kvm", kvm_s, &kvm_why)) {
        decide(i, "kvm", "guest_ran", "a guest ran under KVM (the machine and CPU mode VMs get)",
               "probe");
    } else if (guest_runs(conn, p, "qemu", tcg_s, &tcg_why)) {
        char *why = g_strdup_printf("KVM: %s", kvm_why);
        decide(i, "qemu", "kvm_failed", why, "probe");
        g_free(why);
    } else {
        char *why = g_strdup_printf("no guest ran. KVM: %s; TCG: %s", kvm_why, tcg_why);
        decide(i, "qemu", "no_guest_ran", why, "probe");
        g_free(why);
    }
    g_free(kvm_why);
    g_free(tcg_why);
    virConnectClose(conn);
}

static void *probe_thread(void *unused)
{
    for (size_t i = 0; i < NARCHES; i++)
        probe_arch((int)i);
    return NULL;
}

void accel_start(void)
{
    const char *setting = config_str("helper", "accel", "auto");
    if (!strcmp(setting, "kvm") || !strcmp(setting, "qemu")) {
        for (size_t i = 0; i < NARCHES; i++)
            decide((int)i, setting, "config", "set by [helper] accel", "config");
        return;
    }
    pthread_t thread;
    if (pthread_create(&thread, NULL, probe_thread, NULL) != 0) {
        for (size_t i = 0; i < NARCHES; i++)
            decide((int)i, "qemu", "no_probe", "the probe could not start", "probe");
        return;
    }
    pthread_detach(thread);
}

const char *accel_domain_type(const char *arch, int wait_s, struct err *err)
{
    int i = arch_index(arch);
    if (i < 0) {
        err_set(err, 422, "invalid_spec", NULL, "This host does not run %s guests.",
                arch ? arch : "such");
        return NULL;
    }
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += wait_s;
    const char *type = NULL;
    pthread_mutex_lock(&lock);
    while (!verdicts[i].decided)
        if (pthread_cond_timedwait(&decided, &lock, &until) != 0)
            break;
    if (verdicts[i].decided)
        type = !strcmp(verdicts[i].domain_type, "kvm") ? "kvm" : "qemu";
    pthread_mutex_unlock(&lock);
    if (!type)
        err_set(err, 503, "accel_pending", NULL,
                "The host's accelerator is still being determined. Try again in a minute.");
    return type;
}

json_t *accel_verdict(const char *arch)
{
    int i = arch_index(arch);
    pthread_mutex_lock(&lock);
    bool known = i >= 0 && verdicts[i].decided;
    json_t *v = json_pack("{s:s, s:s, s:s, s:s}",
                          "accel", known ? verdicts[i].domain_type : i < 0 ? "qemu" : "probing",
                          "accel_reason", known ? verdicts[i].reason : "",
                          "accel_reason_code", known ? verdicts[i].code : i < 0 ? "no_probe" : "",
                          "accel_source", known ? verdicts[i].source : "probe");
    pthread_mutex_unlock(&lock);
    return v;
}

int accel_libvirt_error(struct err *err, const char *what)
{
    const char *message = virGetLastErrorMessage();
    /* QEMU's own words are what matter ("qemu-system-x86_64: error: failed
     * to set MSR ..."), not libvirt's preamble; short, as a translated
     * message carries it in parentheses within 255 bytes. */
    const char *qemu = strstr(message, "qemu-system-");
    char *cut = probe_reason_cut(qemu ? qemu : message, 120);
    if (probe_error_is_kvm(message))
        err_set(err, 502, "accel_failed", NULL, "%s failed under KVM: %s", what, cut);
    else
        err_set(err, 502, "libvirt_error", NULL, "%s failed: %s", what, cut);
    g_free(cut);
    return -1;
}
