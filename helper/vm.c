#include "vm.h"

#include <glib.h>
#include <libvirt/virterror.h>
#include <libxml/tree.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <signal.h>
#include <sys/wait.h>
#include <glib/gstdio.h>

#include "accel.h"
#include "config.h"
#include "db.h"
#include "domain_xml.h"
#include "install.h"
#include "graphics.h"
#include "job.h"
#include "library.h"
#include "lifecycle.h"
#include "log.h"
#include "ops/hardware.h"
#include "metrics_store.h"
#include "pool.h"
#include "rbac.h"
#include "token.h"
#include "virt.h"
#include "vm_error.h"
#include "probe_guest.h"
#include "ops/ip_pool.h"
#include "ops/network.h"
#include "ops/backup.h"
#include "ops/port_forward.h"
#include "ops/ova_export.h"

/* How long a request waits for the accelerator's verdict (the first
 * seconds after the helper starts), and how long a create job does. */
#define ACCEL_WAIT_IN_CALL_S 5
#define ACCEL_WAIT_IN_JOB_S 180

struct vm {
    long long id;
    long long owner_id;
    long long host_id;     /* the host its domain is on (issue 19) */
    char *uuid;
    char *domain_name;
    char *name;
    char *description;
    char *state;
    char *arch;
    char *network;
    char *cpu_model;
    char *boot_order;
    int vcpus;
    long long memory_mb;
    long long disk_gb;
    bool autostart;
    char *template_file;   /* NULL for a VM not made from a template */
    char *template_dir;    /* its storage pool's directory (issue 12); NULL: the helper's */
    char *template_format;
    char *iso_file;        /* NULL for a VM not made from an ISO */
    bool full_clone;       /* a copy of the template, not an overlay on it */
    char *vnc_password;    /* NULL: a VM made before consoles had one */
    bool seed_attached;    /* issue 18: its install seed is in the second CD-ROM drive */
    char *graphics;        /* "vnc" or "spice" (issue 20) */
    char *console_listen;  /* NULL: 127.0.0.1 */
    char *console_keymap;  /* NULL: QEMU's default */
    /* Issue 12: the storage pool an administrator placed its disk in
     * (libvirt's name and its directory); NULL: the helper's disks pool. */
    char *disk_pool_name;
    char *disk_pool_path;
};

static void vm_free(struct vm *vm)
{
    if (!vm)
        return;
    g_free(vm->uuid);
    g_free(vm->domain_name);
    g_free(vm->name);
    g_free(vm->description);
    g_free(vm->state);
    g_free(vm->arch);
    g_free(vm->network);
    g_free(vm->cpu_model);
    g_free(vm->boot_order);
    g_free(vm->template_file);
    g_free(vm->template_dir);
    g_free(vm->template_format);
    g_free(vm->iso_file);
    g_free(vm->vnc_password);
    g_free(vm->graphics);
    g_free(vm->console_listen);
    g_free(vm->console_keymap);
    g_free(vm->disk_pool_name);
    g_free(vm->disk_pool_path);
    g_free(vm);
}

/* The VM's first disk: in the pool an administrator chose (issue 12), else
 * in the helper's disks pool. */
static char *vm_disk_path(const struct vm *vm)
{
    if (vm->disk_pool_path)
        return g_strdup_printf("%s/%s.qcow2", vm->disk_pool_path, vm->domain_name);
    char *name = g_strdup_printf("%s.qcow2", vm->domain_name);
    char *path = pool_path("disks", name);
    g_free(name);
    return path;
}

/* The active pool that holds (or will hold) the VM's first disk. */
static virStoragePoolPtr vm_disk_pool(virConnectPtr conn, const struct vm *vm, struct err *err)
{
    if (!vm->disk_pool_name)
        return pool_get(conn, "disks", err);
    virStoragePoolPtr pool = virStoragePoolLookupByName(conn, vm->disk_pool_name);
    if (!pool || virStoragePoolIsActive(pool) != 1) {
        err_set(err, 409, "pool_inactive", NULL, "The storage pool %s is not running.",
                vm->disk_pool_name);
        if (pool)
            virStoragePoolFree(pool);
        return NULL;
    }
    return pool;
}

/* VM id if actor may touch it; else a 404 in err, the same answer as for a
 * VM that does not exist. */
static struct vm *vm_load_id(long long id, const struct user *actor, struct err *err)
{
    struct db_rows *rows = db_query(
        "SELECT v.id, v.owner_id, v.uuid, v.domain_name, v.name, v.description, v.state, v.arch, "
        "v.network, v.cpu_model, v.boot_order, v.vcpus, v.memory_mb, v.disk_gb, v.autostart, "
        "t.file_name, t.format, i.file_name, v.clone, v.vnc_password, v.host_id, vi.seed_state, "
        "v.graphics, v.console_listen, v.console_keymap, sp.name, sp.path, tp.path FROM vms v "
        "LEFT JOIN templates t ON t.id = v.template_id LEFT JOIN isos i ON i.id = v.iso_id "
        "LEFT JOIN storage_pools sp ON sp.id = v.storage_pool_id "
        "LEFT JOIN storage_pools tp ON tp.id = t.storage_pool_id "
        "LEFT JOIN vm_installs vi ON vi.vm_id = v.id WHERE v.id = ?", DB_INT(id));
    if (!rows) {
        err_set(err, 503, "database_unavailable", NULL, "The database is not available.");
        return NULL;
    }
    struct vm *vm = NULL;
    if (rows->nrows == 1 && rbac_may_touch(actor, db_cell_int(rows, 0, 1, 0))) {
        vm = g_new0(struct vm, 1);
        vm->id = db_cell_int(rows, 0, 0, 0);
        vm->owner_id = db_cell_int(rows, 0, 1, 0);
        vm->uuid = g_strdup(db_cell(rows, 0, 2));
        vm->domain_name = g_strdup(db_cell(rows, 0, 3));
        vm->name = g_strdup(db_cell(rows, 0, 4));
        vm->description = g_strdup(db_cell(rows, 0, 5));
        vm->state = g_strdup(db_cell(rows, 0, 6));
        vm->arch = g_strdup(db_cell(rows, 0, 7));
        vm->network = g_strdup(db_cell(rows, 0, 8));
        vm->cpu_model = g_strdup(db_cell(rows, 0, 9));
        vm->boot_order = g_strdup(db_cell(rows, 0, 10));
        vm->vcpus = (int)db_cell_int(rows, 0, 11, 1);
        vm->memory_mb = db_cell_int(rows, 0, 12, 0);
        vm->disk_gb = db_cell_int(rows, 0, 13, 0);
        vm->autostart = db_cell_int(rows, 0, 14, 0) != 0;
        vm->template_file = g_strdup(db_cell(rows, 0, 15));
        vm->template_format = g_strdup(db_cell(rows, 0, 16));
        vm->iso_file = g_strdup(db_cell(rows, 0, 17));
        vm->full_clone = db_cell(rows, 0, 18) && !strcmp(db_cell(rows, 0, 18), "full");
        vm->vnc_password = g_strdup(db_cell(rows, 0, 19));
        vm->host_id = db_cell_int(rows, 0, 20, VIRT_LOCAL_HOST);
        vm->seed_attached = db_cell(rows, 0, 21) && !strcmp(db_cell(rows, 0, 21), "attached");
        vm->graphics = g_strdup(db_cell(rows, 0, 22));
        vm->console_listen = g_strdup(db_cell(rows, 0, 23));
        vm->console_keymap = g_strdup(db_cell(rows, 0, 24));
        vm->disk_pool_name = g_strdup(db_cell(rows, 0, 25));
        vm->disk_pool_path = g_strdup(db_cell(rows, 0, 26));
        vm->template_dir = g_strdup(db_cell(rows, 0, 27));
    } else {
        err_set(err, 404, "not_found", NULL, "There is no such virtual machine.");
    }
    db_rows_free(rows);
    return vm;
}

static struct vm *vm_load(struct op_call *call)
{
    return vm_load_id(json_integer_value(json_object_get(call->args, "vm_id")), call->actor,
                      &call->err);
}

/* A KVM failure (a start refused by /dev/kvm, an MSR the host's KVM
 * rejects) gets its own code, so the portal can say what it means. */
static int libvirt_error(struct err *err, const char *what)
{
    return accel_libvirt_error(err, what);
}

static int libvirt_failed(struct op_call *call, const char *what)
{
    return libvirt_error(&call->err, what);
}

const char *vm_state_name(virDomainPtr dom)
{
    int state = 0, reason = 0;
    if (virDomainGetState(dom, &state, &reason, 0) < 0)
        return "error";
    switch (state) {
    case VIR_DOMAIN_RUNNING:
    case VIR_DOMAIN_BLOCKED:
    case VIR_DOMAIN_SHUTDOWN:
        return "running";
    case VIR_DOMAIN_PAUSED:
    case VIR_DOMAIN_PMSUSPENDED:
        return "paused";
    case VIR_DOMAIN_SHUTOFF:
        return virDomainHasManagedSaveImage(dom, 0) == 1 ? "suspended" : "stopped";
    default:
        return "error";
    }
}

/* What libvirt and QEMU said of a domain in `error`, whole: the page
 * shows a known reason's message (lib/vm_error.h) and this behind it. */
static char *error_detail(virDomainPtr dom, int state, int reason)
{
    int got = 0, again = 0;
    if (virDomainGetState(dom, &got, &again, 0) < 0) {
        const char *message = virGetLastErrorMessage();
        return g_strdup(message && *message ? message : "libvirt could not read the state");
    }
    char *path = g_strdup_printf("/var/log/libvirt/qemu/%s.log", virDomainGetName(dom));
    char *text = NULL, *errors = NULL;
    if (g_file_get_contents(path, &text, NULL, NULL))
        errors = probe_qemu_log_errors(text);
    g_free(text);
    g_free(path);
    char *detail = g_strdup_printf("%s (libvirt state %d, reason %d)%s%s",
                                   state == VIR_DOMAIN_CRASHED ? "the guest crashed"
                                                               : "libvirt reports no usable state",
                                   state, reason, errors ? ": " : "", errors ? errors : "");
    g_free(errors);
    return detail;
}

void vm_state_sync(virDomainPtr dom)
{
    /* Only the host the row says the VM is on speaks for it: during a
     * migration the source reports the domain stopped, the destination
     * started (issue 19). A connection of no host slot is the local one. */
    long long host_id = virt_host_of(virDomainGetConnect(dom));
    if (!host_id)
        host_id = VIRT_LOCAL_HOST;
    const char *name = virDomainGetName(dom);
    int state = 0, reason = 0;
    virDomainGetState(dom, &state, &reason, 0);
    /* A VM made from an ISO is "installing" until it has run and stopped
     * (its installer powers it off); a domain that never ran is shut off
     * with reason "unknown". Then it is a machine like any other. */
    bool ran_and_stopped = state == VIR_DOMAIN_SHUTOFF && reason != VIR_DOMAIN_SHUTOFF_UNKNOWN;
    /* Issue 18, before the row leaves 'installing' below. */
    install_on_state(dom, state == VIR_DOMAIN_RUNNING,
                     state == VIR_DOMAIN_SHUTOFF && reason == VIR_DOMAIN_SHUTOFF_SHUTDOWN);
    /* A machine running again has left its crash behind (stop_reason,
     * helper/lifecycle.c). */
    const char *now = vm_state_name(dom);
    char *detail = strcmp(now, "error") ? NULL : error_detail(dom, state, reason);
    db_exec("UPDATE vms SET state = IF(state = 'installing' AND ? = 0, 'installing', ?), "
            "error_reason = ?, error_detail = LEFT(?, 2000), "
            "stop_reason = IF(? = 'running', NULL, stop_reason), "
            "updated_at = UTC_TIMESTAMP() WHERE domain_name = ? AND state <> 'creating' "
            "AND host_id = ?",
            DB_INT(ran_and_stopped), DB_TEXT(now),
            detail ? DB_TEXT(vm_error_classify(detail)) : DB_NULL,
            detail ? DB_TEXT(detail) : DB_NULL, DB_TEXT(now), DB_TEXT(name), DB_INT(host_id));
    g_free(detail);
}

/* Adds the domain's state to the result (an op may have put more in it). */
static void reply_state(struct op_call *call, virDomainPtr dom)
{
    vm_state_sync(dom);
    if (!call->result)
        call->result = json_object();
    json_object_set_new(call->result, "state", json_string(vm_state_name(dom)));
}

static int wrong_state(struct op_call *call, const char *action, const char *state)
{
    return err_set(&call->err, 409, "wrong_state", NULL,
                   "Cannot %s a virtual machine that is %s.", action, state);
}

/* Runs fn on the VM's domain when its state is one of allowed. */
static int vm_act(struct op_call *call, const char *action, const char *const *allowed,
                  int (*fn)(struct op_call *, virDomainPtr))
{
    virConnectPtr conn = NULL;
    struct vm *vm = vm_load(call);
    virDomainPtr dom = vm ? virt_domain(vm->host_id, vm->domain_name, &conn, &call->err) : NULL;
    int rc = -1;
    if (dom) {
        const char *state = vm_state_name(dom);
        bool ok = false;
        for (const char *const *a = allowed; *a; a++)
            ok = ok || !strcmp(*a, state);
        if (!ok)
            wrong_state(call, action, state);
        else if (fn(call, dom) == 0) {
            reply_state(call, dom);
            rc = 0;
        }
        virDomainFree(dom);
    }
    if (conn)
        virConnectClose(conn);
    vm_free(vm);
    return rc;
}

static int do_start(struct op_call *call, virDomainPtr dom)
{
    if (virDomainCreate(dom) == 0)
        return 0;
    /* NIC limits stored while stopped meet a kernel that cannot shape
     * (no sch_sfq or act_police): the host's limit, said as such. */
    if (hw_error_is_tc())
        return err_set(&call->err, 422, "bandwidth_unsupported", "bandwidth",
                       "This host's kernel cannot apply the bandwidth limits of this machine's "
                       "NICs (libvirt's tc rules need the htb and sfq queueing disciplines and "
                       "the police action). Take the limits off its NICs, then start it.");
    return libvirt_failed(call, "Start");
}

/* Waits until the domain is off, for at most timeout_s seconds. */
static bool wait_off(virDomainPtr dom, long long timeout_s)
{
    struct timespec start, now, pause = { 0, 100 * 1000 * 1000 };
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        if (virDomainIsActive(dom) == 0)
            return true;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec - start.tv_sec >= timeout_s)
            return false;
        nanosleep(&pause, NULL);
    }
}

/* The rest of a graceful stop, in a job: the guest has job->seconds more
 * to power off, then it is forced off. Cancelled, it is left running. */
static int stop_job(struct job *job)
{
    struct err err = { 0 };
    struct user *actor = user_by_id(job->actor_id);
    struct vm *vm = actor ? vm_load_id(job->vm_id, actor, &err) : NULL;
    virConnectPtr conn = vm ? virt_conn_host(vm->host_id, &err) : NULL;
    virDomainPtr dom = conn ? virDomainLookupByName(conn, vm->domain_name) : NULL;
    int rc = dom ? 0 : -1;
    if (!dom)
        job_message(job, err.status ? err.message : "The machine is gone.");
    for (int waited = 0; rc == 0 && !wait_off(dom, 1); waited++) {
        if (waited + 1 >= job->seconds) {
            log_info("%s did not power off in time; forcing it off", vm->domain_name);
            if (virDomainDestroy(dom) < 0 && virDomainIsActive(dom) == 1) {
                job_message(job, virGetLastErrorMessage());
                rc = -1;
            } else {
                job_message(job, "The guest did not power off in time: it was forced off.");
            }
            break;
        }
        if (!job_progress(job, (waited + 1) * 100 / job->seconds))
            rc = JOB_CANCELLED;
    }
    if (dom) {
        vm_state_sync(dom);
        virDomainFree(dom);
    }
    /* vmm-vms marked it "stopping" for as long as this job runs. */
    db_exec("UPDATE vms SET pending = NULL, pending_since = NULL WHERE id = ?", DB_INT(job->vm_id));
    if (conn)
        virConnectClose(conn);
    vm_free(vm);
    user_free(actor);
    return rc;
}

/* Hands the rest of a graceful stop to a job; its id goes in the result. */
static int stop_in_job(struct op_call *call, long long vm_id, long long seconds)
{
    long long job_id = job_insert("vm.stop", call->actor->id);
    if (job_id < 0 ||
        db_exec("UPDATE jobs SET vm_id = ?, target_name = (SELECT name FROM vms WHERE id = ?) "
                "WHERE id = ?", DB_INT(vm_id), DB_INT(vm_id), DB_INT(job_id)) < 0 ||
        job_launch((struct job){ .id = job_id, .vm_id = vm_id, .actor_id = call->actor->id,
                                 .seconds = (int)seconds },
                   stop_job) < 0)
        return -1;
    call->result = json_pack("{s:I}", "job_id", (json_int_t)job_id);
    return 0;
}

static int do_stop(struct op_call *call, virDomainPtr dom)
{
    bool force = json_is_true(json_object_get(call->args, "force"));
    json_t *timeout = json_object_get(call->args, "timeout");
    long long seconds = timeout ? json_integer_value(timeout) : 30;
    /* A request waits this long at most (a batch: not at all, or it would
     * wait once per VM); a slower guest gets a job. */
    json_t *wait = json_object_get(call->args, "wait_s");
    long long in_call = wait ? json_integer_value(wait)
                             : config_int("helper", "stop_wait_in_call_s", 10);
    lifecycle_expect_stop(dom);   /* the portal's stop: no "unexpected stop" alert */
    if (!force) {
        /* ACPI power button first; the guest gets `seconds` to power off. */
        if (virDomainShutdown(dom) == 0) {
            if (wait_off(dom, seconds < in_call ? seconds : in_call))
                return 0;
            if (seconds > in_call &&
                stop_in_job(call, json_integer_value(json_object_get(call->args, "vm_id")),
                            seconds - in_call) == 0)
                return 0;
        }
        log_info("%s did not power off in %lld s; forcing it off", virDomainGetName(dom), seconds);
    }
    if (virDomainDestroy(dom) < 0 && virDomainIsActive(dom) == 1)
        return libvirt_failed(call, "Stop");
    return 0;
}

static int do_reboot(struct op_call *call, virDomainPtr dom)
{
    const char *mode = json_string_value(json_object_get(call->args, "mode"));
    int rc = mode && !strcmp(mode, "force") ? virDomainReset(dom, 0) : virDomainReboot(dom, 0);
    return rc < 0 ? libvirt_failed(call, "Reboot") : 0;
}

static int do_pause(struct op_call *call, virDomainPtr dom)
{
    return virDomainSuspend(dom) < 0 ? libvirt_failed(call, "Pause") : 0;
}

static int do_resume(struct op_call *call, virDomainPtr dom)
{
    return virDomainResume(dom) < 0 ? libvirt_failed(call, "Resume") : 0;
}

static int do_suspend(struct op_call *call, virDomainPtr dom)
{
    return virDomainManagedSave(dom, 0) < 0 ? libvirt_failed(call, "Suspend to disk") : 0;
}

static const char *const when_stopped[] = { "stopped", NULL };
static const char *const when_running[] = { "running", NULL };
static const char *const when_on[] = { "running", "paused", NULL };
static const char *const when_paused[] = { "paused", NULL };
static const char *const when_suspended[] = { "suspended", NULL };


int vm_op_stop(struct op_call *call) { return vm_act(call, "stop", when_on, do_stop); }
int vm_op_reboot(struct op_call *call) { return vm_act(call, "reboot", when_running, do_reboot); }
int vm_op_pause(struct op_call *call) { return vm_act(call, "pause", when_running, do_pause); }
int vm_op_resume(struct op_call *call) { return vm_act(call, "resume", when_paused, do_resume); }
int vm_op_suspend(struct op_call *call) { return vm_act(call, "suspend", when_on, do_suspend); }
/* Starting a domain with a managed save image restores it. */
int vm_op_wakeup(struct op_call *call) { return vm_act(call, "wake up", when_suspended, do_start); }

static char *volume_xml(const char *name, long long disk_gb, const char *backing,
                        const char *backing_format)
{
    char capacity[32];
    snprintf(capacity, sizeof capacity, "%lld", disk_gb);
    xmlDocPtr doc = xmlNewDoc(BAD_CAST "1.0");
    xmlNodePtr vol = xmlNewNode(NULL, BAD_CAST "volume");
    xmlDocSetRootElement(doc, vol);
    xmlNewTextChild(vol, NULL, BAD_CAST "name", BAD_CAST name);
    xmlNodePtr cap = xmlNewTextChild(vol, NULL, BAD_CAST "capacity", BAD_CAST capacity);
    xmlNewProp(cap, BAD_CAST "unit", BAD_CAST "GiB");
    xmlNodePtr target = xmlNewChild(vol, NULL, BAD_CAST "target", NULL);
    xmlNewProp(xmlNewChild(target, NULL, BAD_CAST "format", NULL), BAD_CAST "type", BAD_CAST "qcow2");
    /* qcow2 v3: libvirt 9.0 would make v2, which holds no persistent dirty
     * bitmaps, so no checkpoint and no incremental backup (issue 16). */
    xmlNewTextChild(target, NULL, BAD_CAST "compat", BAD_CAST "1.1");
    if (backing) {
        xmlNodePtr store = xmlNewChild(vol, NULL, BAD_CAST "backingStore", NULL);
        xmlNewTextChild(store, NULL, BAD_CAST "path", BAD_CAST backing);
        xmlNewProp(xmlNewChild(store, NULL, BAD_CAST "format", NULL), BAD_CAST "type",
                   BAD_CAST backing_format);
    }
    return xml_doc_string(doc);
}

static char *vm_serial_log(const struct vm *vm)
{
    return g_strdup_printf("%s/consoles/%s.log", config_str("helper", "pool_dir", "/var/lib/vmm"),
                           vm->domain_name);
}

/* The domain XML for vm's row: its disk, its ISO (if any) in the CD-ROM
 * drive, and its boot order unless boot_first overrides it; the domain
 * type is the accelerator's verdict (waited for up to accel_wait_s). NULL
 * with err set when the row cannot be expressed. */
static char *vm_xml(const struct vm *vm, const char *boot_first, int accel_wait_s,
                    struct err *err)
{
    const char *domain_type = accel_domain_type(vm->arch, accel_wait_s, err);
    if (!domain_type)
        return NULL;
    char *serial_log = vm_serial_log(vm);
    char *consoles = g_path_get_dirname(serial_log);
    g_mkdir_with_parents(consoles, 0700);
    g_free(consoles);
    char *name = g_strdup_printf("%s.qcow2", vm->domain_name);
    char *disk_path = vm_disk_path(vm);
    char *cdrom = vm->iso_file && pool_name_valid(vm->iso_file) ? pool_path("isos", vm->iso_file)
                                                                 : NULL;
    char *seed = vm->seed_attached ? install_seed_path(vm->domain_name) : NULL;
    gchar **boot = g_strsplit(vm->boot_order, ",", 3);
    const char *first = boot_first ? boot_first : boot[0];
    const char *second = boot_first ? (strcmp(boot_first, "hd") ? "hd" : "cdrom")
                                    : boot[0] ? boot[1] : NULL;
    struct domain_spec spec = {
        .name = vm->domain_name, .uuid = vm->uuid, .title = vm->name,
        .description = vm->description, .vm_id = vm->id, .owner_id = vm->owner_id,
        .instance = instance_id(), .vcpus = vm->vcpus, .memory_mb = vm->memory_mb,
        .arch = vm->arch, .domain_type = domain_type,
        .cpu_model = vm->cpu_model, .disk_path = disk_path, .disk_format = "qcow2",
        .cdrom_path = cdrom, .seed_path = seed, .network = vm->network,
        .boot = { first, second, NULL }, .serial_log = serial_log,
        .vnc_password = vm->vnc_password,
        /* What the row says only if it is one of ours (lib/graphics.h):
         * a row changed by hand gets no other address. */
        .graphics = graphics_type_valid(vm->graphics) ? vm->graphics : "vnc",
        .listen = graphics_listen_allowed(vm->console_listen) ? vm->console_listen : NULL,
        .keymap = graphics_keymap_valid(vm->console_keymap) ? vm->console_keymap : NULL,
    };
    /* Issue 19: on another host, QEMU's VNC listens on that host's
     * address, where the console proxy connects, its password locked
     * until a console asks for a one-time one (vm_op_console). */
    char *host_address = vm->host_id != VIRT_LOCAL_HOST && !strcmp(spec.graphics, "vnc") &&
                                 !spec.listen
                             ? virt_host_address(vm->host_id)
                             : NULL;
    if (host_address) {
        spec.listen = host_address;
        spec.password_valid_to = GRAPHICS_LOCKED;
    }
    char *kernel = NULL, *initrd = NULL;   /* issue 18: a preseeded installer */
    if (vm->seed_attached)
        install_direct_boot(vm->domain_name, &spec, &kernel, &initrd);
    struct hardware_spec *hw = hardware_spec_fill(vm->id, vm->domain_name, &spec);   /* issue 17 */
    /* Issue 12: the NICs the VM picked (none: one on vm->network). */
    spec.n_nics = network_vm_nics(vm->id, spec.nics, DOMAIN_MAX_NICS);
    char *xml = spec.n_nics < 0 ? NULL : domain_xml_build(&spec);
    network_vm_nics_free(spec.nics, spec.n_nics);
    hardware_spec_free(hw);
    g_strfreev(boot);
    g_free(serial_log);
    g_free(name);
    g_free(disk_path);
    g_free(cdrom);
    g_free(seed);
    g_free(kernel);
    g_free(initrd);
    g_free(host_address);
    if (!xml)
        err_set(err, 422, "invalid_spec", NULL, "This machine cannot be built.");
    return xml;
}

/* Defines vm's domain (on the disk made for it) from its row, records its
 * state and starts it if asked. Returns the domain, or NULL with err set
 * and nothing left defined. Runs in the create job: the accelerator's
 * verdict is waited for here, never in a request. */
static virDomainPtr vm_define(virConnectPtr conn, const struct vm *vm, bool start, struct err *err)
{
    char *xml = vm_xml(vm, NULL, ACCEL_WAIT_IN_JOB_S, err);
    if (!xml)
        return NULL;
    /* Issue 12: the addresses allocated to its NICs, as DHCP host entries. */
    if (ip_pool_vm_hosts(conn, vm->id, true, err) < 0) {
        ip_pool_vm_hosts(conn, vm->id, false, NULL);
        g_free(xml);
        return NULL;
    }
    virDomainPtr dom = virDomainDefineXML(conn, xml);
    g_free(xml);
    if (!dom) {
        libvirt_error(err, "Defining the machine");
        ip_pool_vm_hosts(conn, vm->id, false, NULL);
        return NULL;
    }
    if (vm->autostart)
        virDomainSetAutostart(dom, 1);
    if (start && virDomainCreate(dom) < 0) {
        libvirt_error(err, "Starting the machine");
        virDomainUndefineFlags(dom, VIR_DOMAIN_UNDEFINE_MANAGED_SAVE | VIR_DOMAIN_UNDEFINE_NVRAM);
        virDomainFree(dom);
        ip_pool_vm_hosts(conn, vm->id, false, NULL);
        return NULL;
    }
    /* Only a row still being created by us: whatever recorded another
     * state meanwhile (a delete, the reconcile) wins. An ISO machine's
     * blank disk does not boot, so the firmware falls through to the
     * installer CD; once installed, the disk boots first. */
    db_exec("UPDATE vms SET state = ?, updated_at = UTC_TIMESTAMP() WHERE id = ? AND "
            "state = 'creating'",
            DB_TEXT(vm->iso_file && !vm->template_file ? "installing" : "stopped"),
            DB_INT(vm->id));
    vm_state_sync(dom);
    return dom;
}

static char *disk_name(const struct vm *vm)
{
    return g_strdup_printf("%s.qcow2", vm->domain_name);
}

/* Copies the template into vol through a libvirt stream, reporting
 * progress; JOB_CANCELLED when the job was cancelled. */
static int copy_template(virConnectPtr conn, virStorageVolPtr vol, const char *path,
                         const struct job *job, struct err *err)
{
    GMappedFile *map = g_mapped_file_new(path, FALSE, NULL);
    if (!map)
        return err_set(err, 503, "storage_error", NULL, "The template cannot be read.");
    const char *data = g_mapped_file_get_contents(map);
    size_t size = g_mapped_file_get_length(map), sent = 0;
    virStreamPtr st = virStreamNew(conn, 0);
    int rc = 0, last = -1;
    if (virStorageVolUpload(vol, st, 0, size, 0) < 0)
        rc = libvirt_error(err, "Copying the template");
    while (rc == 0 && sent < size) {
        size_t chunk = size - sent < (4 << 20) ? size - sent : (4 << 20);
        int n = virStreamSend(st, data + sent, chunk);
        if (n < 0) {
            rc = libvirt_error(err, "Copying the template");
            break;
        }
        sent += (size_t)n;
        int percent = (int)(sent * 95 / size);   /* the rest is defining the machine */
        if (percent != last && !job_progress(job, percent))
            rc = JOB_CANCELLED;
        last = percent;
    }
    if (rc == 0 && virStreamFinish(st) < 0)
        rc = libvirt_error(err, "Copying the template");
    if (rc != 0)
        virStreamAbort(st);
    virStreamFree(st);
    g_mapped_file_unref(map);
    return rc;
}

/* A full clone's disk: a new volume with the template's bytes, grown to
 * the VM's disk size. The volume is returned; NULL (nothing left) with
 * *rc -1 or JOB_CANCELLED otherwise. */
static virStorageVolPtr copied_disk(virConnectPtr conn, virStoragePoolPtr pool,
                                    const struct vm *vm, char *path, const struct job *job,
                                    int *rc, struct err *err);

static virStorageVolPtr full_clone_disk(virConnectPtr conn, virStoragePoolPtr pool,
                                        const struct vm *vm, const struct job *job, int *rc,
                                        struct err *err)
{
    return copied_disk(conn, pool, vm, library_template_path(vm->template_file, vm->template_dir),
                       job, rc, err);
}

/* A new volume holding the qcow2 at path (taken), grown to the VM's disk
 * size: a full clone's, or an imported OVA's (issue 19). */
static virStorageVolPtr copied_disk(virConnectPtr conn, virStoragePoolPtr pool,
                                    const struct vm *vm, char *path, const struct job *job,
                                    int *rc, struct err *err)
{
    char *name = disk_name(vm);
    char *disk_path = NULL;
    virStorageVolPtr vol = NULL;
    struct stat info;
    *rc = -1;
    if (stat(path, &info) < 0) {
        err_set(err, 503, "storage_error", NULL, "The template is missing.");
        goto out;
    }
    char *vxml = volume_xml(name, 1, NULL, NULL);
    vol = virStorageVolCreateXML(pool, vxml, 0);
    g_free(vxml);
    if (!vol) {
        libvirt_error(err, "Creating the disk");
        goto out;
    }
    disk_path = virStorageVolGetPath(vol);
    *rc = copy_template(conn, vol, path, job, err);
    if (*rc != 0)
        goto out;
    /* The copy is the template's qcow2; grow it to the size asked for. */
    char size[32];
    snprintf(size, sizeof size, "%lldG", vm->disk_gb);
    char *argv[] = { "qemu-img", "resize", "-q", "-f", "qcow2", disk_path, size, NULL };
    int status = -1;
    if (!g_spawn_sync(NULL, argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL, NULL,
                      NULL, NULL, NULL, &status, NULL) || !g_spawn_check_wait_status(status, NULL))
        *rc = err_set(err, 503, "storage_error", NULL, "The disk could not be grown.");
out:
    if (*rc != 0 && vol) {
        virStorageVolDelete(vol, 0);
        virStorageVolFree(vol);
        vol = NULL;
    }
    free(disk_path);
    g_free(path);
    g_free(name);
    return vol;
}

/* A linked clone's disk (a qcow2 overlay on the template) or an ISO
 * machine's blank one. NULL with err set. */
static virStorageVolPtr new_disk(virStoragePoolPtr pool, const struct vm *vm, struct err *err)
{
    char *backing = vm->template_file ? library_template_path(vm->template_file, vm->template_dir)
                                      : NULL;
    char *name = disk_name(vm);
    char *vxml = volume_xml(name, vm->disk_gb, backing, vm->template_format);
    virStorageVolPtr vol = virStorageVolCreateXML(pool, vxml, 0);
    if (!vol)
        libvirt_error(err, "Creating the disk");
    g_free(vxml);
    g_free(name);
    g_free(backing);
    return vol;
}

int vm_disk_precreate(virConnectPtr conn, long long vm_id, const struct user *actor,
                      struct err *err)
{
    struct vm *vm = vm_load_id(vm_id, actor, err);
    virStoragePoolPtr pool = vm ? pool_get(conn, "disks", err) : NULL;
    virStorageVolPtr vol = NULL;
    if (pool && vm->full_clone) {
        char *name = disk_name(vm);
        char *vxml = volume_xml(name, vm->disk_gb, NULL, NULL);
        if (!(vol = virStorageVolCreateXML(pool, vxml, 0)))
            libvirt_error(err, "Creating the disk on the destination");
        g_free(vxml);
        g_free(name);
    } else if (pool) {
        vol = new_disk(pool, vm, err);
    }
    int rc = vol ? 0 : -1;
    if (vol)
        virStorageVolFree(vol);
    if (pool)
        virStoragePoolFree(pool);
    vm_free(vm);
    return rc;
}

/* Issue 19: the staged disk of the OVA import a creation copies (the
 * import claimed for this VM by vmm-vms); NULL with err set. */
static char *ova_import_disk(long long import_id, long long vm_id, struct err *err)
{
    struct db_rows *rows = db_query("SELECT disk_file FROM ova_imports WHERE id = ? AND vm_id = ? "
                                    "AND state = 'creating'", DB_INT(import_id), DB_INT(vm_id));
    char *path = NULL;
    if (!rows)
        err_set(err, 503, "database_unavailable", NULL, "The database is not available.");
    else if (rows->nrows != 1 || !pool_name_valid(db_cell(rows, 0, 0)))
        err_set(err, 404, "not_found", NULL, "The import is gone.");
    else
        path = pool_path("ova-imports", db_cell(rows, 0, 0));
    db_rows_free(rows);
    return path;
}

/* The import's end: done (its staged disk goes, the VM has its copy), or
 * back to its review for another try. */
static void ova_import_finish(long long import_id, long long vm_id, bool made)
{
    if (!made) {
        db_exec("UPDATE ova_imports SET state = 'review', vm_id = NULL WHERE id = ? AND vm_id = ?",
                DB_INT(import_id), DB_INT(vm_id));
        return;
    }
    char *path = ova_import_disk(import_id, vm_id, &(struct err){ 0 });
    if (path)
        unlink(path);
    g_free(path);
    db_exec("UPDATE ova_imports SET state = 'done' WHERE id = ? AND vm_id = ?", DB_INT(import_id),
            DB_INT(vm_id));
}

/* The whole creation, in a job: the disk (a copy with progress for a full
 * clone or an imported OVA), the domain, the start if asked. On failure or cancel nothing
 * stays: no volume, no domain, no row (its quota is free again); the job
 * keeps the reason. */
static int create_job(struct job *job)
{
    struct err err = { 0 };
    struct user *actor = user_by_id(job->actor_id);
    struct vm *vm = actor ? vm_load_id(job->vm_id, actor, &err) : NULL;
    virConnectPtr conn = vm ? virt_conn_host(vm->host_id, &err) : NULL;
    virStoragePoolPtr pool = conn ? vm_disk_pool(conn, vm, &err) : NULL;
    virStorageVolPtr vol = NULL;
    virDomainPtr dom = NULL;
    int rc = -1;
    if (pool) {
        job_progress(job, 1);
        char *ova = job->object_id ? ova_import_disk(job->object_id, vm->id, &err) : NULL;
        vol = ova              ? copied_disk(conn, pool, vm, ova, job, &rc, &err)
              : job->object_id ? NULL
              : vm->full_clone ? full_clone_disk(conn, pool, vm, job, &rc, &err)
                               : new_disk(pool, vm, &err);
        int seed = vol ? install_seed_build(vm->id, vm->uuid, vm->domain_name, &err) : -1;
        vm->seed_attached = seed == 1;   /* issue 18 */
        dom = seed >= 0 ? vm_define(conn, vm, job->start, &err) : NULL;
        rc = dom ? 0 : rc == JOB_CANCELLED ? JOB_CANCELLED : -1;
    } else if (!err.status) {
        err_set(&err, 404, "not_found", NULL, "The virtual machine is gone.");
    }

    if (rc != 0) {
        if (vol)
            virStorageVolDelete(vol, 0);
        if (vm) {
            install_seed_remove(vm->domain_name);
            db_exec("DELETE FROM vms WHERE id = ? AND state = 'creating'", DB_INT(vm->id));
        }
        job_fail_reason(job, rc == JOB_CANCELLED ? "cancelled" : err.code,
                        rc == JOB_CANCELLED ? "Cancelled." : err.message);
    } else {
        json_t *result = json_pack("{s:I, s:s}", "vm_id", (json_int_t)vm->id, "state",
                                   vm_state_name(dom));
        if (job->object_id)
            json_object_set_new(result, "ova_import_id", json_integer(job->object_id));
        job_result(job, result);
        json_decref(result);
    }
    if (job->object_id)
        ova_import_finish(job->object_id, job->vm_id, rc == 0);
    if (dom)
        virDomainFree(dom);
    if (vol)
        virStorageVolFree(vol);
    if (pool)
        virStoragePoolFree(pool);
    if (conn)
        virConnectClose(conn);
    vm_free(vm);
    user_free(actor);
    return rc;
}

/* qemu-img convert argv into dst, reporting its -p progress as 5-90 %;
 * JOB_CANCELLED (the copy killed) when the job was cancelled. */
static int convert_with_progress(char **argv, const struct job *job, struct err *err)
{
    GPid pid;
    int out = -1;
    if (!g_spawn_async_with_pipes(NULL, argv, NULL,
                                  G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD |
                                      G_SPAWN_STDERR_TO_DEV_NULL,
                                  NULL, NULL, &pid, NULL, &out, NULL, NULL))
        return err_set(err, 503, "storage_error", NULL, "qemu-img could not be run.");
    char buf[256];
    ssize_t n;
    int rc = 0, last = -1;
    /* -p writes "    (12.34/100%)\r" as it goes. */
    while ((n = read(out, buf, sizeof buf - 1)) > 0) {
        buf[n] = '\0';
        const char *open_paren = strrchr(buf, '(');
        double done = open_paren ? g_ascii_strtod(open_paren + 1, NULL) : -1;
        int percent = done >= 0 ? 5 + (int)(done * 85 / 100) : last;
        if (percent != last && rc == 0 && !job_progress(job, percent)) {
            kill(pid, SIGTERM);
            rc = JOB_CANCELLED;
        }
        last = percent;
    }
    close(out);
    int status = 0;
    waitpid(pid, &status, 0);
    g_spawn_close_pid(pid);
    if (rc == 0 && !g_spawn_check_wait_status(status, NULL))
        rc = err_set(err, 503, "storage_error", NULL, "The disk could not be copied.");
    return rc;
}

/* A clone's disk: the source's disk (or its internal snapshot
 * source_snapshot) copied into the new VM's, whole for a full clone, or
 * for a linked one as an overlay on the template they share holding only
 * what the source changed (qemu-img convert -B). */
static int clone_disk(const struct vm *vm, const struct vm *source, long long snapshot_id,
                      const struct job *job, struct err *err)
{
    /* From a backup: its file, the chain checked first; always whole (its
     * VM, source, may be gone: NULL). */
    char *src_name = source ? disk_name(source) : NULL, *dst_name = disk_name(vm);
    char *src = job->backup_id ? backup_first_disk(job->backup_id, job, err)
                               : vm_disk_path(source);
    char *dst = pool_path("disks", dst_name);
    if (!src) {
        g_free(src_name);
        g_free(dst_name);
        g_free(dst);
        return -1;
    }
    char *base = !vm->full_clone && !job->backup_id && source->template_file
                     ? library_template_path(source->template_file, source->template_dir)
                     : NULL;
    char *snapshot = snapshot_id ? g_strdup_printf("snapshot.name=vmm-s%lld", snapshot_id) : NULL;
    GPtrArray *argv = g_ptr_array_new();
    const char *fixed[] = { "qemu-img", "convert", "-p", "-f", "qcow2", "-O", "qcow2", "-o",
                            "compat=1.1" };
    for (size_t i = 0; i < G_N_ELEMENTS(fixed); i++)
        g_ptr_array_add(argv, (char *)fixed[i]);
    if (snapshot) {
        g_ptr_array_add(argv, "-l");
        g_ptr_array_add(argv, snapshot);
    }
    if (base) {
        g_ptr_array_add(argv, "-B");
        g_ptr_array_add(argv, base);
        g_ptr_array_add(argv, "-F");
        g_ptr_array_add(argv, source->template_format ? source->template_format : "qcow2");
    }
    g_ptr_array_add(argv, src);
    g_ptr_array_add(argv, dst);
    g_ptr_array_add(argv, NULL);
    int rc = convert_with_progress((char **)argv->pdata, job, err);
    if (rc != 0)
        g_unlink(dst);
    g_ptr_array_free(argv, TRUE);
    g_free(snapshot);
    g_free(base);
    g_free(src);
    g_free(dst);
    g_free(src_name);
    g_free(dst_name);
    return rc;
}

/* Issue 19: a clone on another host than this one (its source's): the
 * source's volume copied whole by that host's libvirt into a new volume
 * of its disks pool (virStorageVolCreateXMLFrom), grown to the VM's size;
 * NULL with err set. */
static virStorageVolPtr remote_clone_disk(virConnectPtr conn, virStoragePoolPtr pool,
                                          const struct vm *vm, const struct vm *source,
                                          struct err *err)
{
    char *src_name = disk_name(source), *name = disk_name(vm);
    virStoragePoolPtr src_pool = vm_disk_pool(conn, source, err);
    virStorageVolPtr src = src_pool ? virStorageVolLookupByName(src_pool, src_name) : NULL;
    virStorageVolPtr vol = NULL;
    if (src_pool && !src)
        libvirt_error(err, "Finding the source's disk");
    if (src) {
        char *vxml = volume_xml(name, vm->disk_gb, NULL, NULL);
        vol = virStorageVolCreateXMLFrom(pool, vxml, src, 0);
        g_free(vxml);
        if (!vol)
            libvirt_error(err, "Copying the disk");
        virStorageVolFree(src);
    }
    if (src_pool)
        virStoragePoolFree(src_pool);
    g_free(src_name);
    g_free(name);
    return vol;
}

/* The clone, in a job: the disk copied, the domain defined (new UUID,
 * MACs and VNC password are the new row's), on the source's host (issue
 * 19: vmm-vms put the row there). On failure or cancel nothing stays, as
 * for a create. */
static int clone_job(struct job *job)
{
    struct err err = { 0 };
    struct user *actor = user_by_id(job->actor_id);
    struct vm *vm = actor ? vm_load_id(job->vm_id, actor, &err) : NULL;
    struct vm *source = vm && job->source_id ? vm_load_id(job->source_id, actor, &err) : NULL;
    bool remote = vm && vm->host_id != VIRT_LOCAL_HOST;
    virConnectPtr conn = source || (vm && job->backup_id) ? virt_conn_host(vm->host_id, &err) : NULL;
    virStoragePoolPtr pool = conn ? pool_get(conn, "disks", &err) : NULL;
    virStorageVolPtr remote_vol = NULL;
    virDomainPtr dom = NULL;
    bool copied = false;
    int rc = -1;
    if (pool && remote && (!source || source->host_id != vm->host_id || job->backup_id ||
                           job->object_id)) {
        err_set(&err, 422, "clone_other_host", NULL,
                "A clone on another host is a copy of its source there, without snapshot or "
                "backup.");
    } else if (pool) {
        virDomainPtr src = source ? virDomainLookupByName(conn, source->domain_name) : NULL;
        virResetLastError();
        const char *state = src ? vm_state_name(src) : "gone";
        if (src)
            virDomainFree(src);
        job_progress(job, 1);
        if (strcmp(state, "stopped") && !job->backup_id)   /* a backup is at rest */
            err_set(&err, 409, "wrong_state", NULL,
                    "A machine is cloned stopped; this one is %s.", state);
        else if (remote)
            rc = (remote_vol = remote_clone_disk(conn, pool, vm, source, &err)) ? 0 : -1;
        else
            rc = clone_disk(vm, source, job->object_id, job, &err);
        copied = rc == 0;
        /* From a backup: the added disks it holds too (their rows were
         * made from its record). */
        if (rc == 0 && job->backup_id)
            rc = backup_restore_added_disks(job->backup_id, vm->id, &err);
        virStoragePoolRefresh(pool, 0);
        dom = rc == 0 ? vm_define(conn, vm, job->start, &err) : NULL;
        rc = dom ? 0 : rc == JOB_CANCELLED ? JOB_CANCELLED : -1;
    } else if (!err.status) {
        err_set(&err, 404, "not_found", NULL, "The virtual machine is gone.");
    }
    if (rc != 0) {
        if (remote_vol)
            virStorageVolDelete(remote_vol, 0);
        else if (copied) {
            char *name = disk_name(vm);
            char *path = pool_path("disks", name);
            g_unlink(path);
            g_free(path);
            g_free(name);
            if (job->backup_id)
                backup_added_disks_remove(vm->id);
        }
        if (vm)
            db_exec("DELETE FROM vms WHERE id = ? AND state = 'creating'", DB_INT(vm->id));
        job_fail_reason(job, rc == JOB_CANCELLED ? "cancelled" : err.code,
                        rc == JOB_CANCELLED ? "Cancelled." : err.message);
    } else {
        json_t *result = json_pack("{s:I, s:I, s:I, s:s, s:I}", "vm_id", (json_int_t)vm->id,
                                   "source_id", (json_int_t)(source ? source->id : 0),
                                   "backup_id", (json_int_t)job->backup_id, "state",
                                   vm_state_name(dom), "host_id", (json_int_t)vm->host_id);
        job_result(job, result);
        json_decref(result);
    }
    if (remote_vol)
        virStorageVolFree(remote_vol);
    if (dom)
        virDomainFree(dom);
    if (pool)
        virStoragePoolFree(pool);
    if (conn)
        virConnectClose(conn);
    vm_free(source);
    vm_free(vm);
    user_free(actor);
    return rc;
}

/* Issue 18: the end of an ISO install, in a job started when the
 * installer powered off (install.c has ejected the ISO and seed and put
 * the disk first in the row): the domain is redefined from the row and
 * started from its disk, unless the user chose to wait. */
static int install_finish_job(struct job *job)
{
    struct err err = { 0 };
    struct user *actor = user_by_id(job->actor_id);
    struct vm *vm = actor ? vm_load_id(job->vm_id, actor, &err) : NULL;
    virConnectPtr conn = vm ? virt_conn(&err) : NULL;
    char *xml = conn ? vm_xml(vm, NULL, ACCEL_WAIT_IN_JOB_S, &err) : NULL;
    virDomainPtr dom = xml ? virDomainDefineXML(conn, xml) : NULL;
    int rc = -1;
    if (xml && !dom)
        libvirt_error(&err, "Changing the machine");
    if (vm)
        install_seed_remove(vm->domain_name);
    if (dom) {
        struct db_rows *rows = db_query("SELECT after_install FROM vm_installs WHERE vm_id = ?",
                                        DB_INT(vm->id));
        bool wait = rows && rows->nrows == 1 && !strcmp(db_cell(rows, 0, 0), "wait");
        db_rows_free(rows);
        if (!wait && virDomainCreate(dom) < 0)
            libvirt_error(&err, "Starting the machine");
        else
            rc = 0;
        vm_state_sync(dom);
        json_t *result = json_pack("{s:I, s:s}", "vm_id", (json_int_t)vm->id, "state",
                                   vm_state_name(dom));
        job_result(job, result);
        json_decref(result);
        virDomainFree(dom);
    }
    if (rc < 0)
        job_fail_reason(job, err.status ? err.code : "gone",
                        err.status ? err.message : "The machine is gone.");
    g_free(xml);
    if (conn)
        virConnectClose(conn);
    vm_free(vm);
    user_free(actor);
    return rc;
}

void vm_install_init(void)
{
    install_set_finish(install_finish_job);
}

/* A job of kind the client made for this VM's creation, still waiting. */
static bool job_for_vm(long long job_id, long long vm_id, const char *kind)
{
    struct db_rows *rows = db_query("SELECT 1 FROM jobs WHERE id = ? AND vm_id = ? AND "
                                    "state = 'queued' AND kind = ?",
                                    DB_INT(job_id), DB_INT(vm_id), DB_TEXT(kind));
    bool ok = rows && rows->nrows == 1;
    db_rows_free(rows);
    return ok;
}

/* Checks the row and hands the creation to its queued job: the answer
 * comes at once, the disk, domain and start follow in create_job, so no
 * request waits on libvirt or QEMU. */
int vm_op_create(struct op_call *call)
{
    bool start = json_is_true(json_object_get(call->args, "start"));
    long long job_id = json_integer_value(json_object_get(call->args, "job_id"));
    int rc = -1;
    struct vm *vm = vm_load(call);
    if (!vm)
        return -1;
    bool from_template = vm->template_file && pool_name_valid(vm->template_file);
    bool from_iso = vm->iso_file && pool_name_valid(vm->iso_file);
    long long ova_import = json_integer_value(json_object_get(call->args, "ova_import_id"));
    char *ova_disk = ova_import ? ova_import_disk(ova_import, vm->id, &call->err) : NULL;
    bool from_ova = ova_disk != NULL;
    g_free(ova_disk);
    if (ova_import && !from_ova)
        ;   /* err says why */
    else if (strcmp(vm->state, "creating") != 0)
        wrong_state(call, "create", vm->state);
    else if (from_ova && (from_template || from_iso))
        err_set(&call->err, 422, "invalid_choice", NULL,
                "A machine made from an OVA has no template or ISO.");
    else if (!from_ova && ((!from_template && !from_iso) || (vm->full_clone && !from_template)))
        err_set(&call->err, 422, "no_image", NULL, "This virtual machine needs a template or an ISO.");
    /* The program checked it; a template quarantined since is refused too. */
    else if (from_template && !library_template_ready(vm->template_file, &call->err))
        ;   /* err says why */
    else if (!job_for_vm(job_id, vm->id, "vm.create"))
        err_set(&call->err, 422, "no_job", "job_id", "A creation needs its queued job.");
    else if (job_launch((struct job){ .id = job_id, .vm_id = vm->id, .actor_id = call->actor->id,
                                      .start = start, .object_id = ova_import },
                        create_job) < 0)
        err_set(&call->err, 409, "job_failed", NULL,
                "The creation could not be started (its job was given up).");
    else {
        call->result = json_pack("{s:I}", "job_id", (json_int_t)job_id);
        rc = 0;
    }
    vm_free(vm);
    return rc;
}

/* Whether the snapshot and the backup a clone starts from (0: none) are
 * the source's own, and ready. */
static bool clone_point_of(long long source_id, long long snapshot_id, long long backup_id)
{
    struct db_rows *rows = db_query(
        "SELECT (? = 0 OR EXISTS (SELECT 1 FROM snapshots WHERE id = ? AND vm_id = ? AND "
        "status = 'ready')) AND (? = 0 OR EXISTS (SELECT 1 FROM backups WHERE id = ? AND "
        "vm_id = ? AND status = 'ready'))", DB_INT(snapshot_id), DB_INT(snapshot_id),
        DB_INT(source_id), DB_INT(backup_id), DB_INT(backup_id), DB_INT(source_id));
    bool ok = rows && db_cell_int(rows, 0, 0, 0) == 1;
    db_rows_free(rows);
    return ok;
}

/* Whether backup_id is ready and the actor's to touch (its VM may be gone). */
static bool backup_of(long long backup_id, const struct user *actor)
{
    struct db_rows *rows = db_query("SELECT owner_id FROM backups WHERE id = ? AND "
                                    "status = 'ready'", DB_INT(backup_id));
    bool ok = rows && rows->nrows == 1 && rbac_may_touch(actor, db_cell_int(rows, 0, 0, 0));
    db_rows_free(rows);
    return ok;
}

/* vm.clone {vm_id, source_id, snapshot_id, backup_id, start, job_id}: vm_id is the
 * new row (made by vmm-vms with the owner's quota checked, new UUID, MACs
 * and VNC password), still creating; its queued job copies the disk. */
int vm_op_clone(struct op_call *call)
{
    long long job_id = json_integer_value(json_object_get(call->args, "job_id"));
    long long source_id = json_integer_value(json_object_get(call->args, "source_id"));
    long long snapshot_id = json_integer_value(json_object_get(call->args, "snapshot_id"));
    long long backup_id = json_integer_value(json_object_get(call->args, "backup_id"));
    struct vm *vm = vm_load(call);
    struct vm *source = vm && source_id ? vm_load_id(source_id, call->actor, &call->err) : NULL;
    int rc = -1;
    if (!vm || (source_id && !source))
        ;   /* err says why */
    else if (!source_id && (!backup_id || snapshot_id || !backup_of(backup_id, call->actor)))
        err_set(&call->err, 404, "not_found", NULL, "There is no such backup.");
    else if (source_id && !clone_point_of(source_id, snapshot_id, backup_id))
        err_set(&call->err, 404, "not_found", NULL, "The machine has no such snapshot or backup.");
    else if (strcmp(vm->state, "creating") != 0)
        wrong_state(call, "clone into", vm->state);
    else if (!job_for_vm(job_id, vm->id, "vm.clone"))
        err_set(&call->err, 422, "no_job", "job_id", "A clone needs its queued job.");
    else if (job_launch((struct job){ .id = job_id, .vm_id = vm->id, .actor_id = call->actor->id,
                                      .start = json_is_true(json_object_get(call->args, "start")),
                                      .object_id = snapshot_id, .source_id = source_id,
                                      .backup_id = backup_id },
                        clone_job) < 0)
        err_set(&call->err, 409, "job_failed", NULL,
                "The clone could not be started (its job was given up).");
    else {
        call->result = json_pack("{s:I}", "job_id", (json_int_t)job_id);
        rc = 0;
    }
    vm_free(source);
    vm_free(vm);
    return rc;
}

/* Whether a job still goes on with vm_id's creation. */
static bool creation_live(long long vm_id)
{
    struct db_rows *rows = db_query("SELECT 1 FROM jobs WHERE vm_id = ? AND kind = 'vm.create' AND "
                                    "state IN ('queued', 'running')", DB_INT(vm_id));
    bool live = !rows || rows->nrows > 0;   /* unknown counts as live */
    db_rows_free(rows);
    return live;
}

/* Removes the domain (stopping it first) and, if asked, its disk. The
 * caller removes the row once this succeeded. */
int vm_op_delete(struct op_call *call)
{
    struct vm *vm = vm_load(call);
    if (!vm)
        return -1;
    if (!strcmp(vm->state, "creating") && creation_live(vm->id)) {
        wrong_state(call, "delete", "still being created");
        vm_free(vm);
        return -1;
    }
    int rc = -1;
    virConnectPtr conn = virt_conn_host(vm->host_id, &call->err);
    virStoragePoolPtr pool = NULL;
    if (!conn)
        goto out;
    virDomainPtr dom = virDomainLookupByName(conn, vm->domain_name);
    if (dom) {
        if (virDomainIsActive(dom) == 1) {
            lifecycle_expect_stop(dom);
            virDomainDestroy(dom);
        }
        /* Checkpoints too (issue 16): the VM's backups outlive it, their
         * bitmaps go with its disk. */
        if (virDomainUndefineFlags(dom, VIR_DOMAIN_UNDEFINE_MANAGED_SAVE |
                                            VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA |
                                            VIR_DOMAIN_UNDEFINE_CHECKPOINTS_METADATA |
                                            VIR_DOMAIN_UNDEFINE_NVRAM) < 0) {
            libvirt_failed(call, "Removing the machine");
            virDomainFree(dom);
            goto out;
        }
        virDomainFree(dom);
    }
    /* Issue 12: its DHCP host entries go with it (the rows go with the VM's). */
    ip_pool_vm_hosts(conn, vm->id, false, NULL);
    /* Issue 17: and its port forwards (their rows go with the VM's). */
    port_forward_sync(vm->id, NULL);
    if (json_is_true(json_object_get(call->args, "delete_disks"))) {
        if (!(pool = vm_disk_pool(conn, vm, &call->err)) ||
            hardware_delete_volumes(conn, vm->id, &call->err) < 0)   /* issue 17 */
            goto out;
        char *vol_name = disk_name(vm);
        virStoragePoolRefresh(pool, 0);
        virStorageVolPtr vol = virStorageVolLookupByName(pool, vol_name);
        g_free(vol_name);
        if (vol && virStorageVolDelete(vol, 0) < 0) {
            libvirt_failed(call, "Removing the disk");
            virStorageVolFree(vol);
            goto out;
        }
        if (vol)
            virStorageVolFree(vol);
    }
    install_seed_remove(vm->domain_name);   /* issue 18 */
    ova_exports_remove(vm->id);             /* issue 19 */
    char *serial_log = vm_serial_log(vm);
    unlink(serial_log);
    g_free(serial_log);
    char metrics_name[32];   /* its samples go with it (ops/metrics.h) */
    snprintf(metrics_name, sizeof metrics_name, "vm-%lld", vm->id);
    metrics_store_remove(metrics_name);
    call->result = json_pack("{s:b}", "deleted", 1);
    rc = 0;
out:
    if (pool)
        virStoragePoolFree(pool);
    if (conn)
        virConnectClose(conn);
    vm_free(vm);
    return rc;
}

/* Boots once from the CD-ROM: the persistent definition gets "cdrom
 * first" just for this start, then its own order back (the running
 * machine keeps the order it started with). */
static int start_from_cdrom(struct op_call *call)
{
    virConnectPtr conn = NULL;
    struct vm *vm = vm_load(call);
    virDomainPtr dom = vm ? virt_domain(vm->host_id, vm->domain_name, &conn, &call->err) : NULL;
    int rc = -1;
    if (!dom)
        goto out;
    if (strcmp(vm_state_name(dom), "stopped") != 0) {
        wrong_state(call, "start", vm_state_name(dom));
        goto out;
    }
    if (!vm->iso_file) {
        err_set(&call->err, 409, "no_cdrom", NULL, "No ISO image is in this machine's CD-ROM drive.");
        goto out;
    }
    char *once = vm_xml(vm, "cdrom", ACCEL_WAIT_IN_CALL_S, &call->err);
    char *usual = once ? vm_xml(vm, NULL, ACCEL_WAIT_IN_CALL_S, &call->err) : NULL;
    virDomainPtr tmp = usual ? virDomainDefineXML(conn, once) : NULL;
    if (!tmp) {
        if (usual)
            libvirt_failed(call, "Starting from the CD-ROM");
    } else {
        if (virDomainCreate(tmp) < 0)
            libvirt_failed(call, "Starting from the CD-ROM");
        else
            rc = 0;
        virDomainFree(tmp);
        tmp = virDomainDefineXML(conn, usual);
        if (tmp)
            virDomainFree(tmp);
    }
    g_free(once);
    g_free(usual);
    if (rc == 0)
        reply_state(call, dom);
out:
    if (dom)
        virDomainFree(dom);
    if (conn)
        virConnectClose(conn);
    vm_free(vm);
    return rc;
}

int vm_op_start(struct op_call *call)
{
    const char *boot = json_string_value(json_object_get(call->args, "boot"));
    if (boot && !strcmp(boot, "cdrom"))
        return start_from_cdrom(call);
    return vm_act(call, "start", when_stopped, do_start);
}

/* Applies the row to the domain: a stopped machine is redefined from it
 * (hardware, boot order, name); a running one gets its name, description
 * and autostart (hardware changes wait for a stop; the caller checks). */
int vm_op_update(struct op_call *call)
{
    virConnectPtr conn = NULL;
    struct vm *vm = vm_load(call);
    virDomainPtr dom = vm ? virt_domain(vm->host_id, vm->domain_name, &conn, &call->err) : NULL;
    int rc = -1;
    if (dom) {
        bool active = virDomainIsActive(dom) == 1;
        char *xml = active ? NULL : vm_xml(vm, NULL, ACCEL_WAIT_IN_CALL_S, &call->err);
        virDomainPtr redefined = xml ? virDomainDefineXML(conn, xml) : NULL;
        unsigned int flags = VIR_DOMAIN_AFFECT_CONFIG | VIR_DOMAIN_AFFECT_LIVE;
        if (!active && !redefined) {
            if (xml)
                libvirt_failed(call, "Changing the machine");
        } else if (active &&
                   (virDomainSetMetadata(dom, VIR_DOMAIN_METADATA_TITLE, vm->name, NULL, NULL,
                                         flags) < 0 ||
                    virDomainSetMetadata(dom, VIR_DOMAIN_METADATA_DESCRIPTION, vm->description,
                                         NULL, NULL, flags) < 0)) {
            libvirt_failed(call, "Updating the machine");
        } else if (virDomainSetAutostart(dom, vm->autostart) < 0) {
            libvirt_failed(call, "Updating the machine");
        } else {
            reply_state(call, dom);
            rc = 0;
        }
        if (redefined)
            virDomainFree(redefined);
        g_free(xml);
        virDomainFree(dom);
    }
    if (conn)
        virConnectClose(conn);
    vm_free(vm);
    return rc;
}

/* A console's VM, running or paused, and its live domain XML. */
struct live_domain {
    virConnectPtr conn;
    struct vm *vm;
    virDomainPtr dom;
    const char *state;
    char *xml;
};

/* Fills d for call's VM: 0, or -1 with a 404 (not the actor's), a 409 the
 * console page shows as it is (not on) or libvirt's error in call->err.
 * live_domain_close either way. */
static int live_domain_open(struct op_call *call, struct live_domain *d)
{
    memset(d, 0, sizeof *d);
    d->vm = vm_load(call);
    d->dom = d->vm ? virt_domain(d->vm->host_id, d->vm->domain_name, &d->conn, &call->err) : NULL;
    if (!d->dom)
        return -1;
    d->state = vm_state_name(d->dom);
    if (strcmp(d->state, "running") && strcmp(d->state, "paused"))
        return err_set(&call->err, 409, "not_running", NULL,
                       "The virtual machine is not running; start it to use its console.");
    if (!(d->xml = virDomainGetXMLDesc(d->dom, 0)))
        return libvirt_failed(call, "Reading the machine");
    return 0;
}

static void live_domain_close(struct live_domain *d)
{
    free(d->xml);
    if (d->dom)
        virDomainFree(d->dom);
    if (d->conn)
        virConnectClose(d->conn);
    vm_free(d->vm);
}

/* What a one-time graphics password leaves behind: the password, the
 * device update that carries it (wiped before they are freed), the listen
 * address. */
static void graphics_secrets_drop(char *password, size_t size, char *update, char *listen)
{
    explicit_bzero(password, size);
    if (update)
        explicit_bzero(update, strlen(update));
    g_free(update);
    g_free(listen);
}

/* A SPICE VM's connection for remote-viewer (issue 20): a new one-time
 * password set on the running domain with an expiry ([console]
 * spice_ticket_s), as Proxmox does; the domain's own password and any
 * earlier ticket stop working. {host, port, password, valid_to}. */
int vm_op_spice_ticket(struct op_call *call)
{
    struct live_domain d;
    char password[25] = "", valid_to[32];
    char *update = NULL, *listen = NULL;
    int port = -1, rc = -1;
    time_t until = time(NULL) + graphics_ticket_s();
    struct tm tm;
    strftime(valid_to, sizeof valid_to, "%Y-%m-%dT%H:%M:%S", gmtime_r(&until, &tm));
    if (live_domain_open(call, &d) < 0) {
        /* said in call->err */
    } else if (d.vm->host_id != VIRT_LOCAL_HOST) {
        /* remote-viewer would be sent to an address of that host's
         * choosing; SPICE there is not offered (VNC is). */
        err_set(&call->err, 409, "console_remote", NULL,
                "The SPICE console of a virtual machine on another host is not available; "
                "use VNC, or migrate it to the local host.");
    } else if (token_password(password, 24) < 0) {
        err_set(&call->err, 503, "no_entropy", NULL, "No random password could be made.");
    } else if (!(update = domain_xml_graphics_password(d.xml, "spice", password, valid_to, &port,
                                                       &listen))) {
        err_set(&call->err, 409, "no_spice", NULL, "This virtual machine's graphics are not SPICE.");
    } else if (virDomainUpdateDeviceFlags(d.dom, update, VIR_DOMAIN_AFFECT_LIVE) < 0) {
        libvirt_failed(call, "Setting the console password");
    } else {
        call->result = json_pack("{s:s, s:i, s:s, s:s}", "host", listen, "port", port, "password",
                                 password, "valid_to", valid_to);
        rc = 0;
    }
    graphics_secrets_drop(password, sizeof password, update, listen);
    live_domain_close(&d);
    return rc;
}

/* A running VM's VNC password changed live (issue 20): the row's password
 * (the program has just stored it) set on the VNC graphics of the running
 * domain and of its persistent definition in one update. New connections
 * need it at once; an open console stays open (libvirt keeps connected
 * clients). */
int vm_op_vnc_password(struct op_call *call)
{
    struct live_domain d;
    char *inactive = NULL, *update = NULL;
    int rc = -1;
    if (live_domain_open(call, &d) < 0) {
        /* said in call->err */
    } else if (!d.vm->vnc_password || !*d.vm->vnc_password) {
        err_set(&call->err, 409, "no_vnc_password", NULL, "This virtual machine has no VNC password.");
    } else if (!(inactive = virDomainGetXMLDesc(d.dom, VIR_DOMAIN_XML_INACTIVE))) {
        libvirt_failed(call, "Reading the machine");
    } else if (!(update = domain_xml_vnc_password(inactive, d.vm->vnc_password))) {
        err_set(&call->err, 409, "no_vnc", NULL, "This virtual machine's graphics are not VNC.");
    } else if (virDomainUpdateDeviceFlags(d.dom, update,
                                          VIR_DOMAIN_AFFECT_LIVE | VIR_DOMAIN_AFFECT_CONFIG) < 0) {
        libvirt_failed(call, "Setting the console password");
    } else {
        call->result = json_pack("{s:s}", "state", d.state);
        rc = 0;
    }
    if (update)
        explicit_bzero(update, strlen(update));
    g_free(update);
    free(inactive);
    live_domain_close(&d);
    return rc;
}

/* Issue 19: a VM on another host. QEMU's websocket there listens on that
 * host's address (vm_xml), which goes in the result as host; with ticket,
 * a one-time VNC password is set on the running domain, good for
 * [console] spice_ticket_s, as for SPICE: the domain's own password, and
 * any earlier ticket, stop working. 0, or -1 with a 409 console_remote
 * when QEMU there listens on its own loopback only. */
static int remote_console(struct op_call *call, struct live_domain *d)
{
    char password[GRAPHICS_VNC_TICKET_LEN + 1] = "", valid_to[32];
    time_t until = time(NULL) + graphics_ticket_s();
    struct tm tm;
    strftime(valid_to, sizeof valid_to, "%Y-%m-%dT%H:%M:%S", gmtime_r(&until, &tm));
    char *listen = NULL;
    int port = -1, rc = -1;
    bool ticket = json_is_true(json_object_get(call->args, "ticket"));
    if (token_password(password, GRAPHICS_VNC_TICKET_LEN) < 0)
        return err_set(&call->err, 503, "no_entropy", NULL, "No random password could be made.");
    char *update = domain_xml_graphics_password(d->xml, "vnc", password, valid_to, &port, &listen);
    if (listen && !strcmp(listen, "0.0.0.0")) {   /* an admin's console_listen: every address */
        g_free(listen);
        listen = virt_host_address(d->vm->host_id);
    }
    if (!update || !listen || !strcmp(listen, GRAPHICS_LOOPBACK))
        err_set(&call->err, 409, "console_remote", NULL,
                "QEMU on this machine's host listens for its console on that host's loopback "
                "only (it was started before the host had an IPv4 address, or the host is named "
                "by a DNS name); restart it, or migrate it, to use its console.");
    else if (ticket && virDomainUpdateDeviceFlags(d->dom, update, VIR_DOMAIN_AFFECT_LIVE) < 0)
        libvirt_failed(call, "Setting the console password");
    else {
        json_object_set_new(call->result, "host", json_string(listen));
        if (ticket) {
            json_object_set_new(call->result, "password", json_string(password));
            json_object_set_new(call->result, "password_valid_to", json_string(valid_to));
        }
        rc = 0;
    }
    graphics_secrets_drop(password, sizeof password, update, listen);
    return rc;
}

/* Where the console of a running (or paused) VM is: the port of QEMU's
 * VNC websocket, known only from the live domain XML, on 127.0.0.1 (or,
 * issue 19, on the address of the VM's host: host in the result). */
int vm_op_console(struct op_call *call)
{
    struct live_domain d;
    int port = -1, rc = -1;
    if (live_domain_open(call, &d) < 0) {
        /* said in call->err */
    } else if ((port = domain_xml_websocket_port(d.xml)) < 0) {
        err_set(&call->err, 409, "no_console", NULL,
                "This virtual machine has no VNC websocket console.");
    } else {
        call->result = json_pack("{s:s, s:i}", "state", d.state, "ws_port", port);
        rc = d.vm->host_id == VIRT_LOCAL_HOST ? 0 : remote_console(call, &d);
        if (rc < 0) {
            json_decref(call->result);
            call->result = NULL;
        }
    }
    live_domain_close(&d);
    return rc;
}
