/* vmm-hardware: a VM's hardware after create (issue 17): disks added,
 * grown and removed, the CD-ROM's ISO, vCPUs, memory and the CPU's
 * topology. The row first (quota checked in the transaction that writes
 * it), then the helper makes libvirt follow, live where the guest allows;
 * when libvirt refuses, the row goes back. Whoever may see the VM may
 * change it (its owner, an admin); anyone else gets the 404 of a VM that
 * does not exist. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "audit.h"
#include "db.h"
#include "hardware.h"
#include "helper_client.h"
#include "i18n.h"
#include "quota.h"
#include "rbac.h"
#include "user.h"

/* ------------------------------------------------------------ the VM --- */

#define VM_HW_COLUMNS                                                                       \
    "id, owner_id, state, domain_name, vcpus, max_vcpus, memory_mb, max_memory_mb, "        \
    "disk_gb, iso_id, cpu_sockets, cpu_cores, cpu_threads, cpu_model"

static json_t *nullable_int(const struct db_rows *rows, int col)
{
    return db_cell(rows, 0, col) ? json_integer(db_cell_int(rows, 0, col, 0)) : json_null();
}

/* What this program changes on the VM, as the API shows it and the audit
 * row compares: {vcpus, max_vcpus, memory_mb, max_memory_mb, iso_id,
 * cpu: {sockets, cores, threads, model}, disks: [...]}, plus the state and
 * ids the handlers need. NULL with r->err set (404 for a VM the caller
 * may not see). */
static json_t *vm_hardware(struct req *r, long long id)
{
    struct db_rows *rows = db_query("SELECT " VM_HW_COLUMNS " FROM vms WHERE id = ?", DB_INT(id));
    if (!rows) {
        fail_db(r);
        return NULL;
    }
    if (rows->nrows != 1 || !rbac_may_touch(r->user, db_cell_int(rows, 0, 1, 0))) {
        db_rows_free(rows);
        req_fail(r, 404, "not_found", NULL, _("There is no such virtual machine."));
        return NULL;
    }
    long long vcpus = db_cell_int(rows, 0, 4, 1), memory = db_cell_int(rows, 0, 6, 0);
    json_t *hw = json_pack(
        "{s:I, s:I, s:s, s:s, s:I, s:I, s:I, s:I, s:o, s:{s:o, s:o, s:o, s:s}}",
        "id", (json_int_t)id, "owner_id", (json_int_t)db_cell_int(rows, 0, 1, 0),
        "state", db_cell(rows, 0, 2), "domain_name", db_cell(rows, 0, 3),
        "vcpus", (json_int_t)vcpus, "max_vcpus", (json_int_t)db_cell_int(rows, 0, 5, vcpus),
        "memory_mb", (json_int_t)memory,
        "max_memory_mb", (json_int_t)db_cell_int(rows, 0, 7, memory),
        "iso_id", nullable_int(rows, 9),
        "cpu", "sockets", nullable_int(rows, 10), "cores", nullable_int(rows, 11),
        "threads", nullable_int(rows, 12), "model", db_cell(rows, 0, 13));
    long long disk_gb = db_cell_int(rows, 0, 8, 0);
    db_rows_free(rows);

    json_t *disks = hardware_disks(id, disk_gb);
    if (!disks) {
        json_decref(hw);
        fail_db(r);
        return NULL;
    }
    json_object_set_new(hw, "disks", disks);
    return hw;
}

static const char *hw_str(json_t *hw, const char *key)
{
    return json_string_value(json_object_get(hw, key));
}

static long long hw_int(json_t *hw, const char *key)
{
    return json_integer_value(json_object_get(hw, key));
}

static bool hw_running(json_t *hw)
{
    return !strcmp(hw_str(hw, "state"), "running") || !strcmp(hw_str(hw, "state"), "paused");
}

/* The VM exists in libvirt (not being created, not broken). */
static int hw_changeable(struct req *r, json_t *hw)
{
    const char *state = hw_str(hw, "state");
    if (!strcmp(state, "creating") || !strcmp(state, "error") || !strcmp(state, "suspended"))
        return req_fail(r, 409, "wrong_state", NULL,
                        _("The hardware of a virtual machine that is %s cannot change now."),
                        state);
    return 0;
}

/* The answer: the VM's hardware after the change, audited against before. */
static int hw_reply(struct req *r, json_t *before, long long id)
{
    json_t *after = vm_hardware(r, id);
    if (!after)
        return -1;
    audit_changes_between(r, before, after, NULL);
    json_object_del(after, "domain_name");
    json_object_del(after, "owner_id");
    req_set_object(r, "hardware", after);
    if (!r->location)
        r->location = g_strdup_printf("/vms/%lld#hardware", id);
    return 0;
}

/* The quota's verdict on want, inside the caller's transaction. */
static int quota_check(struct req *r, json_t *hw, const struct quota_want *want)
{
    const char *kind = NULL;
    long long limit = 0, used = 0;
    int rc = quota_fits_locked(hw_int(hw, "owner_id"), want, &kind, &limit, &used);
    if (rc < 0)
        return fail_db(r);
    if (rc == 0)
        return 0;
    if (!strcmp(kind, "vcpus"))
        return req_fail(r, 409, "quota_exceeded", "vcpus",
                        _("Your quota allows %lld vCPUs in all; %lld are in use."), limit, used);
    if (!strcmp(kind, "memory_mb"))
        return req_fail(r, 409, "quota_exceeded", "memory_mb",
                        _("Your quota allows %lld MiB of memory in all; %lld are in use."), limit,
                        used);
    return req_fail(r, 409, "quota_exceeded", "size_gb",
                    _("Your quota allows %lld GiB of disk in all; %lld are in use."), limit, used);
}

/* The host must have what a machine asks for. */
static int host_check(struct req *r, long long vcpus, long long memory_mb)
{
    json_t *host = helper_call(r, "host.info", NULL);
    if (!host)
        return -1;
    long long cpus = json_integer_value(json_object_get(host, "cpus"));
    long long memory = json_integer_value(json_object_get(host, "memory_mb"));
    json_decref(host);
    if (vcpus > cpus)
        return req_fail(r, 422, "exceeds_host", "vcpus", _("This host has only %lld CPUs."), cpus);
    if (memory_mb > memory)
        return req_fail(r, 422, "exceeds_host", "memory_mb",
                        _("This host has only %lld MiB of memory."), memory);
    return 0;
}

/* ------------------------------------------------------------ disks --- */

/* GET /vms/{id}/disks */
static int disks_list(struct req *r)
{
    json_t *hw = vm_hardware(r, req_param(r, "id")->num);
    if (!hw)
        return -1;
    r->data = json_incref(json_object_get(hw, "disks"));
    json_decref(hw);
    return 0;
}

static json_t *disk_of(json_t *hw, const char *target)
{
    size_t i;
    json_t *d;
    json_array_foreach(json_object_get(hw, "disks"), i, d)
        if (!strcmp(json_string_value(json_object_get(d, "target")), target))
            return d;
    return NULL;
}

/* The target a new disk gets: the one asked for (vd* on virtio, sd* on
 * scsi and sata, not taken), else the first free one. */
static int disk_target(struct req *r, json_t *hw, const char *bus, char out[4])
{
    const char *prefix = !strcmp(bus, "virtio") ? "vd" : "sd";
    const char *given = input_str(r, "target");
    if (given) {
        if (strlen(given) != 3 || strncmp(given, prefix, 2) || given[2] < 'b' || given[2] > 'z')
            return req_fail(r, 422, "invalid_target", "target",
                            _("A %s disk is named %sb to %sz."), bus, prefix, prefix);
        if (disk_of(hw, given))
            return req_fail(r, 409, "target_taken", "target",
                            _("This virtual machine has a disk %s already."), given);
        snprintf(out, 4, "%s", given);
        return 0;
    }
    for (char c = 'b'; c <= 'z'; c++) {
        snprintf(out, 4, "%s%c", prefix, c);
        if (!disk_of(hw, out))
            return 0;
    }
    return req_fail(r, 409, "too_many_disks", "target",
                    _("This virtual machine has no free %s disk name left."), bus);
}

/* POST /vms/{id}/disks {size_gb, bus, format, cache, target} */
static int disks_add(struct req *r)
{
    long long id = req_param(r, "id")->num;
    json_t *before = vm_hardware(r, id);
    if (!before)
        return -1;
    const char *bus = input_str(r, "bus") ? input_str(r, "bus") : "virtio";
    const char *format = input_str(r, "format") ? input_str(r, "format") : "qcow2";
    const char *cache = input_str(r, "cache") ? input_str(r, "cache") : "default";
    long long size_gb = input_int(r, "size_gb", 0);
    char target[4];
    int rc = hw_changeable(r, before);
    if (rc == 0)
        rc = disk_target(r, before, bus, target);
    if (rc == 0 && hw_running(before) && !strcmp(bus, "sata"))
        rc = req_fail(r, 409, "no_hotplug", "bus",
                      _("A SATA disk cannot be added while the machine runs (q35's AHCI has no "
                        "hotplug); use virtio or scsi, or stop it first."));
    long long disk_id = 0;
    if (rc == 0 && db_begin() < 0)
        rc = fail_db(r);
    else if (rc == 0) {
        struct quota_want want = { 0, 0, size_gb };
        rc = quota_check(r, before, &want);
        char *file = g_strdup_printf("%s-%s.%s", hw_str(before, "domain_name"), target, format);
        if (rc == 0 &&
            (db_exec_id("INSERT INTO vm_disks (vm_id, target, bus, format, cache, size_gb, "
                        "file_name) VALUES (?, ?, ?, ?, ?, ?, ?)", &disk_id, DB_INT(id),
                        DB_TEXT(target), DB_TEXT(bus), DB_TEXT(format), DB_TEXT(cache),
                        DB_INT(size_gb), DB_TEXT(file)) < 0 ||
             db_commit() < 0))
            rc = req_fail(r, 409, "target_taken", "target",
                          _("This virtual machine has a disk %s already."), target);
        g_free(file);
        if (rc < 0)
            db_rollback();
    }
    json_t *done = NULL;
    if (rc == 0) {
        json_t *args = json_pack("{s:I, s:I}", "vm_id", (json_int_t)id, "disk_id",
                                 (json_int_t)disk_id);
        done = helper_call(r, "disk.add", args);
        json_decref(args);
        if (!done) {
            /* libvirt refused: nothing was made (the helper removed the volume). */
            db_exec("DELETE FROM vm_disks WHERE id = ?", DB_INT(disk_id));
            rc = -1;
        }
    }
    json_decref(done);
    if (rc == 0) {
        r->status = 201;
        rc = hw_reply(r, before, id);
    }
    json_decref(before);
    return rc;
}

/* POST /vms/{id}/disks/{target}/resize {size_gb}: grows, never shrinks. */
static int disks_resize(struct req *r)
{
    long long id = req_param(r, "id")->num;
    const char *target = req_param(r, "target")->text;
    json_t *before = vm_hardware(r, id);
    if (!before)
        return -1;
    json_t *disk = disk_of(before, target);
    long long size_gb = input_int(r, "size_gb", 0);
    long long old = json_integer_value(json_object_get(disk, "size_gb"));
    int rc = hw_changeable(r, before);
    if (rc == 0 && !disk)
        rc = req_fail(r, 404, "no_such_disk", NULL, _("This virtual machine has no such disk."));
    else if (rc == 0 && strcmp(json_string_value(json_object_get(disk, "state")), "attached"))
        rc = req_fail(r, 409, "wrong_state", NULL, _("This disk is being changed."));
    else if (rc == 0 && size_gb < old)
        rc = req_fail(r, 422, "shrink_refused", "size_gb",
                      _("A disk cannot shrink (data would be lost): %s has %lld GiB."), target,
                      old);
    bool vda = !strcmp(target, "vda");
    if (rc == 0 && size_gb > old) {
        if (db_begin() < 0)
            rc = fail_db(r);
        struct quota_want want = { 0, 0, size_gb - old };
        if (rc == 0)
            rc = quota_check(r, before, &want);
        if (rc == 0 &&
            ((vda ? db_exec("UPDATE vms SET disk_gb = ? WHERE id = ?", DB_INT(size_gb), DB_INT(id))
                  : db_exec("UPDATE vm_disks SET size_gb = ? WHERE vm_id = ? AND target = ?",
                            DB_INT(size_gb), DB_INT(id), DB_TEXT(target))) < 0 ||
             db_commit() < 0))
            rc = fail_db(r);
        if (rc < 0)
            db_rollback();
        json_t *done = NULL;
        if (rc == 0) {
            json_t *args = json_pack("{s:I, s:s}", "vm_id", (json_int_t)id, "target", target);
            done = helper_call(r, "disk.resize", args);
            json_decref(args);
        }
        if (rc == 0 && !done) {
            if (vda)
                db_exec("UPDATE vms SET disk_gb = ? WHERE id = ?", DB_INT(old), DB_INT(id));
            else
                db_exec("UPDATE vm_disks SET size_gb = ? WHERE vm_id = ? AND target = ?",
                        DB_INT(old), DB_INT(id), DB_TEXT(target));
            rc = -1;
        }
        json_decref(done);
    }
    if (rc == 0)
        rc = hw_reply(r, before, id);
    json_decref(before);
    return rc;
}

/* DELETE /vms/{id}/disks/{target}: at once from a stopped machine; from
 * a running one a job (202) that ends when the guest has let go. */
static int disks_remove(struct req *r)
{
    long long id = req_param(r, "id")->num;
    const char *target = req_param(r, "target")->text;
    json_t *before = vm_hardware(r, id);
    if (!before)
        return -1;
    json_t *disk = disk_of(before, target);
    int rc = hw_changeable(r, before);
    if (rc == 0 && !disk)
        rc = req_fail(r, 404, "no_such_disk", NULL, _("This virtual machine has no such disk."));
    else if (rc == 0 && !json_is_true(json_object_get(disk, "removable")))
        rc = req_fail(r, 409, "not_removable", NULL,
                      _("The first disk holds the system; it goes only with the machine."));
    struct db_rows *row = rc == 0 ? db_query("SELECT id FROM vm_disks WHERE vm_id = ? AND "
                                             "target = ?", DB_INT(id), DB_TEXT(target))
                                  : NULL;
    long long disk_id = db_cell_int(row, 0, 0, 0);
    db_rows_free(row);
    json_t *done = NULL;
    if (rc == 0 && !disk_id)
        rc = fail_db(r);
    if (rc == 0) {
        json_t *args = json_pack("{s:I, s:I}", "vm_id", (json_int_t)id, "disk_id",
                                 (json_int_t)disk_id);
        done = helper_call(r, "disk.remove", args);
        json_decref(args);
        rc = done ? 0 : -1;
    }
    long long job_id = json_integer_value(json_object_get(done, "job_id"));
    json_decref(done);
    if (rc == 0 && job_id) {
        r->status = 202;
        req_set_job(r, json_pack("{s:I, s:s, s:s}", "id", (json_int_t)job_id, "kind",
                                 "disk.remove", "state", "running"));
        r->location = g_strdup_printf("/jobs/%lld", job_id);
    }
    if (rc == 0)
        rc = hw_reply(r, before, id);
    json_decref(before);
    return rc;
}

/* ----------------------------------------------------------- CD-ROM --- */

/* PUT /vms/{id}/cdrom {iso_id | null}: an ISO of the library the caller
 * may use goes in the drive (null ejects), live or stopped. */
static int cdrom_set(struct req *r)
{
    long long id = req_param(r, "id")->num;
    json_t *before = vm_hardware(r, id);
    if (!before)
        return -1;
    json_t *iso = json_object_get(r->input, "iso_id");
    long long iso_id = json_is_integer(iso) ? json_integer_value(iso) : 0;
    if (!r->api && json_is_true(json_object_get(r->input, "eject")))
        iso_id = 0;
    int rc = hw_changeable(r, before);
    if (rc == 0 && iso_id) {
        struct db_rows *rows = db_query(
            "SELECT id FROM isos WHERE id = ? AND status = 'ready' AND "
            "(visibility = 'public' OR owner_id = ?)", DB_INT(iso_id), DB_INT(r->user->id));
        if (!rows)
            rc = fail_db(r);
        else if (rows->nrows == 0)
            rc = req_fail(r, 404, "unknown_iso", "iso_id", _("There is no such ISO image."));
        db_rows_free(rows);
    }
    json_t *old = json_object_get(before, "iso_id");
    if (rc == 0 && db_exec("UPDATE vms SET iso_id = ? WHERE id = ?",
                           iso_id ? DB_INT(iso_id) : DB_NULL, DB_INT(id)) < 0)
        rc = fail_db(r);
    json_t *done = NULL;
    if (rc == 0) {
        json_t *args = json_pack("{s:I}", "vm_id", (json_int_t)id);
        done = helper_call(r, "cdrom.set", args);
        json_decref(args);
        if (!done) {
            db_exec("UPDATE vms SET iso_id = ? WHERE id = ?",
                    json_is_integer(old) ? DB_INT(json_integer_value(old)) : DB_NULL, DB_INT(id));
            rc = -1;
        }
    }
    bool forced = json_is_true(json_object_get(done, "forced"));
    json_decref(done);
    if (rc == 0)
        rc = hw_reply(r, before, id);
    if (rc == 0 && forced) {
        /* The guest had locked the tray: it was opened anyway. */
        r->meta = r->meta ? r->meta : json_object();
        json_object_set_new(r->meta, "warning",
                            json_string(_("The guest had locked the CD-ROM tray; the disc was "
                                          "changed anyway, and its reads of the old one fail.")));
    }
    json_decref(before);
    return rc;
}

/* ---------------------------------------------------- vCPUs, memory --- */

/* Writes the row's new vCPU count (quota checked), asks the helper, and
 * puts the row back if libvirt refuses. */
static int vcpus_apply(struct req *r, json_t *before, long long id, long long vcpus,
                       const char *op)
{
    long long old = hw_int(before, "vcpus");
    int rc = db_begin() < 0 ? fail_db(r) : 0;
    struct quota_want want = { vcpus - old, 0, 0 };
    if (rc == 0 && vcpus > old)
        rc = quota_check(r, before, &want);
    if (rc == 0 && (db_exec("UPDATE vms SET vcpus = ? WHERE id = ?", DB_INT(vcpus), DB_INT(id)) < 0 ||
                    db_commit() < 0))
        rc = fail_db(r);
    if (rc < 0) {
        db_rollback();
        return -1;
    }
    json_t *args = json_pack("{s:I}", "vm_id", (json_int_t)id);
    json_t *done = helper_call(r, op, args);
    json_decref(args);
    if (!done) {
        db_exec("UPDATE vms SET vcpus = ? WHERE id = ?", DB_INT(old), DB_INT(id));
        return -1;
    }
    json_decref(done);
    return 0;
}

/* PUT /vms/{id}/vcpus {vcpus, live}: a running machine gains vCPUs live
 * (live: true) up to the maximum it was made with; a stopped one takes
 * any count up to it. Fewer vCPUs, or a new maximum, wait for a stop. */
static int vcpus_set(struct req *r)
{
    long long id = req_param(r, "id")->num;
    json_t *before = vm_hardware(r, id);
    if (!before)
        return -1;
    long long vcpus = input_int(r, "vcpus", 1);
    long long max = hw_int(before, "max_vcpus"), old = hw_int(before, "vcpus");
    bool live = json_is_true(json_object_get(r->input, "live"));
    int rc = hw_changeable(r, before);
    if (rc == 0 && vcpus > max)
        rc = req_fail(r, 422, "over_maximum", "vcpus",
                      _("This machine was made for at most %lld vCPUs; stop it and raise its "
                        "maximum (PUT /vms/%lld/cpu) for more."), max, id);
    else if (rc == 0 && hw_running(before) && !live)
        rc = req_fail(r, 409, "wrong_state", "live",
                      _("The machine runs: give live: true to add vCPUs now, or stop it first."));
    else if (rc == 0 && hw_running(before) && vcpus < old)
        rc = req_fail(r, 409, "no_hot_unplug", "vcpus",
                      _("vCPUs are only added while the machine runs; stop it to take some away."));
    if (rc == 0)
        rc = host_check(r, vcpus, 0);
    if (rc == 0 && vcpus != old)
        rc = vcpus_apply(r, before, id, vcpus, "vm.vcpus");
    if (rc == 0)
        rc = hw_reply(r, before, id);
    json_decref(before);
    return rc;
}

/* The helper redefines a stopped machine from its row (vm.update). */
static int redefine(struct req *r, long long id)
{
    json_t *args = json_pack("{s:I}", "vm_id", (json_int_t)id);
    json_t *done = helper_call(r, "vm.update", args);
    json_decref(args);
    json_decref(done);
    return done ? 0 : -1;
}

/* PUT /vms/{id}/cpu {sockets, cores, threads, model, vcpus}: the CPU's
 * topology (sockets × cores × threads is the machine's maximum of vCPUs)
 * and model, while it is stopped. */
static int cpu_set(struct req *r)
{
    long long id = req_param(r, "id")->num;
    json_t *before = vm_hardware(r, id);
    if (!before)
        return -1;
    json_t *cpu = json_object_get(before, "cpu");
    long long sockets = input_int(r, "sockets", json_integer_value(json_object_get(cpu, "sockets")));
    long long cores = input_int(r, "cores", json_integer_value(json_object_get(cpu, "cores")));
    long long threads = input_int(r, "threads", json_integer_value(json_object_get(cpu, "threads")));
    const char *model = input_str(r, "model");
    long long old_vcpus = hw_int(before, "vcpus");
    bool topology = sockets > 0 && cores > 0 && threads > 0;
    long long max = topology ? sockets * cores * threads
                             : input_int(r, "max_vcpus", hw_int(before, "max_vcpus"));
    long long vcpus = input_int(r, "vcpus", old_vcpus < max ? old_vcpus : max);
    int rc = 0;
    if (strcmp(hw_str(before, "state"), "stopped"))
        rc = req_fail(r, 409, "wrong_state", NULL,
                      _("Stop the virtual machine to change its CPU topology or model."));
    else if ((input_has(r, "sockets") || input_has(r, "cores") || input_has(r, "threads")) &&
             !(input_has(r, "sockets") && input_has(r, "cores") && input_has(r, "threads")))
        rc = req_fail(r, 400, "missing_field", "sockets",
                      _("Give sockets, cores and threads together."));
    else if (max > 64)
        rc = req_fail(r, 422, "out_of_range", "cores",
                      _("sockets × cores × threads is at most 64."));
    else if (input_has(r, "max_vcpus") && topology && input_int(r, "max_vcpus", 0) != max)
        rc = req_fail(r, 422, "topology_mismatch", "max_vcpus",
                      _("max_vcpus must be sockets × cores × threads (%lld)."), max);
    else if (vcpus > max)
        rc = req_fail(r, 422, "over_maximum", "vcpus",
                      _("vcpus must not exceed the maximum (%lld)."), max);
    if (rc == 0)
        rc = host_check(r, vcpus, 0);
    if (rc == 0 && db_begin() < 0)
        rc = fail_db(r);
    else if (rc == 0) {
        struct quota_want want = { vcpus - old_vcpus, 0, 0 };
        if (vcpus > old_vcpus)
            rc = quota_check(r, before, &want);
        if (rc == 0 &&
            (db_exec("UPDATE vms SET vcpus = ?, max_vcpus = ?, cpu_sockets = ?, cpu_cores = ?, "
                     "cpu_threads = ?, cpu_model = COALESCE(?, cpu_model) WHERE id = ?",
                     DB_INT(vcpus), DB_INT(max), topology ? DB_INT(sockets) : DB_NULL,
                     topology ? DB_INT(cores) : DB_NULL, topology ? DB_INT(threads) : DB_NULL,
                     DB_TEXT(model), DB_INT(id)) < 0 ||
             db_commit() < 0))
            rc = fail_db(r);
        if (rc < 0)
            db_rollback();
        if (rc == 0 && redefine(r, id) < 0) {
            json_t *c = json_object_get(before, "cpu");
            json_t *s = json_object_get(c, "sockets"), *co = json_object_get(c, "cores"),
                   *t = json_object_get(c, "threads");
            db_exec("UPDATE vms SET vcpus = ?, max_vcpus = ?, cpu_sockets = ?, cpu_cores = ?, "
                    "cpu_threads = ?, cpu_model = ? WHERE id = ?",
                    DB_INT(old_vcpus), DB_INT(hw_int(before, "max_vcpus")),
                    json_is_integer(s) ? DB_INT(json_integer_value(s)) : DB_NULL,
                    json_is_integer(co) ? DB_INT(json_integer_value(co)) : DB_NULL,
                    json_is_integer(t) ? DB_INT(json_integer_value(t)) : DB_NULL,
                    DB_TEXT(json_string_value(json_object_get(c, "model"))), DB_INT(id));
            rc = -1;
        }
    }
    if (rc == 0)
        rc = hw_reply(r, before, id);
    json_decref(before);
    return rc;
}

/* PUT /vms/{id}/memory {memory_mb, live}: while stopped, up to the host.
 * Live hot-add needs memory slots the machine does not have yet (see
 * docs/api.md): live: true is refused with a clear 409. */
static int memory_set(struct req *r)
{
    long long id = req_param(r, "id")->num;
    json_t *before = vm_hardware(r, id);
    if (!before)
        return -1;
    long long memory = input_int(r, "memory_mb", 0), old = hw_int(before, "memory_mb");
    int rc = 0;
    if (json_is_true(json_object_get(r->input, "live")) || hw_running(before))
        rc = req_fail(r, 409, "no_memory_hotplug", "live",
                      _("Memory cannot be added to a running machine yet; stop it to change "
                        "its memory."));
    else if (strcmp(hw_str(before, "state"), "stopped"))
        rc = hw_changeable(r, before) < 0 ? -1
                                          : req_fail(r, 409, "wrong_state", NULL,
                                                     _("Stop the virtual machine to change its "
                                                       "memory."));
    if (rc == 0)
        rc = host_check(r, 0, memory);
    if (rc == 0 && db_begin() < 0)
        rc = fail_db(r);
    else if (rc == 0) {
        struct quota_want want = { 0, memory - old, 0 };
        if (memory > old)
            rc = quota_check(r, before, &want);
        if (rc == 0 && (db_exec("UPDATE vms SET memory_mb = ?, max_memory_mb = NULL WHERE id = ?",
                                DB_INT(memory), DB_INT(id)) < 0 ||
                        db_commit() < 0))
            rc = fail_db(r);
        if (rc < 0)
            db_rollback();
        if (rc == 0 && redefine(r, id) < 0) {
            db_exec("UPDATE vms SET memory_mb = ? WHERE id = ?", DB_INT(old), DB_INT(id));
            rc = -1;
        }
    }
    if (rc == 0)
        rc = hw_reply(r, before, id);
    json_decref(before);
    return rc;
}

/* ------------------------------------------------------------ tables --- */

static const char *const buses[] = { "virtio", "scsi", "sata", NULL };
static const char *const formats[] = { "qcow2", "raw", NULL };
static const char *const caches[] = { "default", "none", "writeback", "writethrough",
                                      "directsync", "unsafe", NULL };
static const char *const cpu_models[] = { "host-passthrough", "host-model", "qemu64", NULL };

static const struct field disk_add_fields[] = {
    { "size_gb", FIELD_INT, true, 1, 65536, NULL },
    { "bus", FIELD_ENUM, false, 0, 0, buses },
    { "format", FIELD_ENUM, false, 0, 0, formats },
    { "cache", FIELD_ENUM, false, 0, 0, caches },
    { "target", FIELD_STRING, false, 3, 3, NULL },
    { NULL },
};
static const struct field disk_resize_fields[] = {
    { "size_gb", FIELD_INT, true, 1, 65536, NULL }, { NULL },
};
static const struct field cdrom_fields[] = {
    { "iso_id", FIELD_INT, true, 1, INT64_MAX, NULL, .nullable = true }, { NULL },
};
/* The page's form: no iso_id (or eject) takes the disc out. */
static const struct field cdrom_form_fields[] = {
    { "iso_id", FIELD_INT, false, 1, INT64_MAX, NULL }, { "eject", FIELD_BOOL }, { NULL },
};
static const struct field vcpus_fields[] = {
    { "vcpus", FIELD_INT, true, 1, 64, NULL }, { "live", FIELD_BOOL }, { NULL },
};
static const struct field cpu_fields[] = {
    { "sockets", FIELD_INT, false, 1, 64, NULL },
    { "cores", FIELD_INT, false, 1, 64, NULL },
    { "threads", FIELD_INT, false, 1, 8, NULL },
    { "model", FIELD_ENUM, false, 0, 0, cpu_models },
    { "vcpus", FIELD_INT, false, 1, 64, NULL },
    { "max_vcpus", FIELD_INT, false, 1, 64, NULL },
    { NULL },
};
static const struct field memory_fields[] = {
    { "memory_mb", FIELD_INT, true, 64, 1048576, NULL }, { "live", FIELD_BOOL }, { NULL },
};

static const struct route routes[] = {
    { "GET", "/vms/{id:int}/disks", disks_list, PERM_USER, ROUTE_API,
      .summary = "A VM's disks", .reply = REPLY_ITEMS,
      .statuses = STATUSES(404) },
    { "POST", "/vms/{id:int}/disks", disks_add, PERM_USER, ROUTE_BOTH, NULL, NULL,
      disk_add_fields, "vm.disk_add",
      .summary = "Add a disk to a VM", .reply = REPLY_CREATED,
      .statuses = STATUSES(404, 409, 422, 502) },
    { "POST", "/vms/{id:int}/disks/{target}/resize", disks_resize, PERM_USER, ROUTE_BOTH, NULL,
      NULL, disk_resize_fields, "vm.disk_resize",
      .summary = "Grow a disk", .reply = REPLY_OBJECT,
      .statuses = STATUSES(404, 409, 422, 502) },
    { "DELETE", "/vms/{id:int}/disks/{target}", disks_remove, PERM_USER, ROUTE_API, NULL, NULL,
      NULL, "vm.disk_remove",
      .summary = "Remove a disk (its file too)", .reply = REPLY_JOB,
      .statuses = STATUSES(200, 404, 409, 422, 502) },
    { "POST", "/vms/{id:int}/disks/{target}/delete", disks_remove, PERM_USER, ROUTE_PAGE, NULL,
      NULL, NULL, "vm.disk_remove" },
    { "PUT", "/vms/{id:int}/cdrom", cdrom_set, PERM_USER, ROUTE_API, NULL, NULL, cdrom_fields,
      "vm.cdrom",
      .summary = "Insert an ISO in the CD-ROM drive, or eject it (iso_id null)", .reply = REPLY_OBJECT,
      .statuses = STATUSES(404, 409, 422, 502) },
    { "POST", "/vms/{id:int}/cdrom", cdrom_set, PERM_USER, ROUTE_PAGE, NULL, NULL,
      cdrom_form_fields, "vm.cdrom" },
    { "PUT", "/vms/{id:int}/vcpus", vcpus_set, PERM_USER, ROUTE_API, NULL, NULL, vcpus_fields,
      "vm.vcpus",
      .summary = "Set the number of vCPUs (live where the guest allows)", .reply = REPLY_OBJECT,
      .statuses = STATUSES(404, 409, 422, 502) },
    { "POST", "/vms/{id:int}/vcpus", vcpus_set, PERM_USER, ROUTE_PAGE, NULL, NULL, vcpus_fields,
      "vm.vcpus" },
    { "PUT", "/vms/{id:int}/cpu", cpu_set, PERM_USER, ROUTE_API, NULL, NULL, cpu_fields,
      "vm.cpu",
      .summary = "Set the CPU model and topology", .reply = REPLY_OBJECT,
      .statuses = STATUSES(400, 404, 409, 422, 502) },
    { "PUT", "/vms/{id:int}/memory", memory_set, PERM_USER, ROUTE_API, NULL, NULL, memory_fields,
      "vm.memory",
      .summary = "Set the memory (live where the guest allows)", .reply = REPLY_OBJECT,
      .statuses = STATUSES(404, 409, 422, 502) },
    { NULL },
};

int main(int argc, char **argv)
{
    return app_run(argv[0], routes);
}
