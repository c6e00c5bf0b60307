/* vmm-hardware: a VM's hardware after create (issue 17): disks added,
 * grown and removed, the CD-ROM's ISO, vCPUs, memory and the CPU's
 * topology, NICs added, changed and removed. The row first (quota checked in the transaction that writes
 * it), then the helper makes libvirt follow, live where the guest allows;
 * when libvirt refuses, the row goes back. Whoever may see the VM may
 * change it (its owner, an admin); anyone else gets the 404 of a VM that
 * does not exist. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "vm_limits.h"
#include "audit.h"
#include "db.h"
#include "hardware.h"
#include "helper_client.h"
#include "config.h"
#include "i18n.h"
#include "ipv4.h"
#include "ip_alloc.h"
#include "quota.h"
#include "rbac.h"
#include "user.h"

/* ------------------------------------------------------------ the VM --- */

#define VM_HW_COLUMNS                                                                       \
    "id, owner_id, state, domain_name, vcpus, max_vcpus, memory_mb, max_memory_mb, "        \
    "disk_gb, iso_id, cpu_sockets, cpu_cores, cpu_threads, cpu_model, arch"

static json_t *nullable_int(const struct db_rows *rows, int col)
{
    return db_cell(rows, 0, col) ? json_integer(db_cell_int(rows, 0, col, 0)) : json_null();
}

/* What this program changes on the VM, as the API shows it and the audit
 * row compares: {vcpus, max_vcpus, memory_mb, max_memory_mb, iso_id,
 * cpu: {sockets, cores, threads, model}, disks: [...], nics: [...]}, plus the state and
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
        "{s:I, s:I, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:o, s:{s:o, s:o, s:o, s:s}}",
        "id", (json_int_t)id, "owner_id", (json_int_t)db_cell_int(rows, 0, 1, 0),
        "state", db_cell(rows, 0, 2), "domain_name", db_cell(rows, 0, 3), "arch", db_cell(rows, 0, 14),
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
    json_t *nics = hardware_nics(id);
    if (!nics) {
        json_decref(hw);
        fail_db(r);
        return NULL;
    }
    json_object_set_new(hw, "nics", nics);
    json_t *forwards = hardware_port_forwards(id);
    if (!forwards) {
        json_decref(hw);
        fail_db(r);
        return NULL;
    }
    json_object_set_new(hw, "port_forwards", forwards);
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
    json_object_del(after, "arch");
    req_set_object(r, "hardware", after);
    if (!r->location)
        r->location = g_strdup_printf("/vms/%lld#hardware", id);
    return 0;
}

/* The end of a change: the answer (status, the hardware after, audited)
 * when rc is 0; before is freed either way. */
static int hw_finish(struct req *r, json_t *before, long long id, int rc, int status)
{
    if (rc == 0) {
        if (status)
            r->status = status;
        rc = hw_reply(r, before, id);
    }
    json_decref(before);
    return rc;
}

/* The helper's op on row (its argument key) of VM vm_id: its result, or
 * NULL with r->err set. */
static json_t *row_op(struct req *r, long long vm_id, const char *op, const char *key,
                      long long row)
{
    json_t *args = json_pack("{s:I, s:I}", "vm_id", (json_int_t)vm_id, key, (json_int_t)row);
    json_t *done = helper_call(r, op, args);
    json_decref(args);
    return done;
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

/* One UPDATE of a machine's row, want checked against its owner's quota
 * first (NULL: nothing more is asked), in one transaction (run again
 * whole after a deadlock: lib/app.h). */
struct quota_update {
    json_t *hw;
    const struct quota_want *want;
    const char *sql;
    const struct db_param *params;
};

static int quota_update_body(struct req *r, void *ctx)
{
    struct quota_update *u = ctx;
    if (u->want && quota_check(r, u->hw, u->want) < 0)
        return -1;
    return db_exec_params(u->sql, u->params, NULL, NULL) < 0 ? fail_db(r) : 0;
}

static int quota_update(struct req *r, json_t *hw, const struct quota_want *want, const char *sql,
                        const struct db_param *params)
{
    struct quota_update u = { hw, want, sql, params };
    return req_transaction(r, quota_update_body, &u);
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

/* The answer of a list route: one member of the VM's hardware. */
static int hw_list(struct req *r, const char *key)
{
    json_t *hw = vm_hardware(r, req_param(r, "id")->num);
    if (!hw)
        return -1;
    r->data = json_incref(json_object_get(hw, key));
    json_decref(hw);
    return 0;
}

/* GET /vms/{id}/disks */
static int disks_list(struct req *r)
{
    return hw_list(r, "disks");
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

struct disk_add_tx {
    json_t *before;
    long long id;
    const char *target, *bus, *format, *cache;
    long long size_gb;
    const char *file;
    long long pool_id, disk_id;
};

static int disk_add_body(struct req *r, void *ctx)
{
    struct disk_add_tx *t = ctx;
    struct quota_want want = { 0, 0, t->size_gb };
    if (quota_check(r, t->before, &want) < 0)
        return -1;
    if (db_exec_id("INSERT INTO vm_disks (vm_id, target, bus, format, cache, size_gb, "
                   "file_name, storage_pool_id) VALUES (?, ?, ?, ?, ?, ?, ?, NULLIF(?, 0))",
                   &t->disk_id, DB_INT(t->id), DB_TEXT(t->target), DB_TEXT(t->bus),
                   DB_TEXT(t->format), DB_TEXT(t->cache), DB_INT(t->size_gb), DB_TEXT(t->file),
                   DB_INT(t->pool_id)) < 0)
        return db_errno() == DB_ER_DUP_ENTRY
                   ? req_fail(r, 409, "target_taken", "target",
                              _("This virtual machine has a disk %s already."), t->target)
                   : fail_db(r);
    return 0;
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
    /* Issue 12: in an administrator's storage pool (pool), else the helper's. */
    long long pool_id = input_int(r, "pool", 0);
    if (rc == 0)
        rc = hardware_pool_check(r, pool_id, size_gb);
    long long disk_id = 0;
    if (rc == 0) {
        char *file = g_strdup_printf("%s-%s.%s", hw_str(before, "domain_name"), target, format);
        struct disk_add_tx tx = { before, id, target, bus, format, cache, size_gb, file, pool_id,
                                  0 };
        rc = req_transaction(r, disk_add_body, &tx);
        disk_id = tx.disk_id;
        g_free(file);
    }
    json_t *done = rc == 0 ? row_op(r, id, "disk.add", "disk_id", disk_id) : NULL;
    if (rc == 0 && !done) {
        /* libvirt refused: nothing was made (the helper removed the volume). */
        db_exec("DELETE FROM vm_disks WHERE id = ?", DB_INT(disk_id));
        rc = -1;
    }
    json_decref(done);
    return hw_finish(r, before, id, rc, 201);
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
    /* The limits are the main disk's (vda); a data disk has its quota. */
    if (rc == 0 && vda && size_gb > old)
        rc = vm_limits_enforce(r, -1, -1, size_gb);
    if (rc == 0 && size_gb > old) {
        struct quota_want want = { 0, 0, size_gb - old };
        rc = vda ? quota_update(r, before, &want, "UPDATE vms SET disk_gb = ? WHERE id = ?",
                                DB_PARAMS(DB_INT(size_gb), DB_INT(id)))
                 : quota_update(r, before, &want,
                                "UPDATE vm_disks SET size_gb = ? WHERE vm_id = ? AND target = ?",
                                DB_PARAMS(DB_INT(size_gb), DB_INT(id), DB_TEXT(target)));
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
    return hw_finish(r, before, id, rc, 0);
}

/* Asks the helper's op (disk.remove, nic.remove) to remove row (its
 * argument key) of VM vm_id: done at once, or (a running guest) a job,
 * then the answer is 202 with the job in meta. */
static int removal_ask(struct req *r, long long vm_id, const char *op, const char *key,
                       long long row)
{
    json_t *done = row_op(r, vm_id, op, key, row);
    if (!done)
        return -1;
    long long job_id = json_integer_value(json_object_get(done, "job_id"));
    json_decref(done);
    if (job_id) {
        r->status = 202;
        req_set_job(r, json_pack("{s:I, s:s, s:s}", "id", (json_int_t)job_id, "kind", op,
                                 "state", "running"));
        r->location = g_strdup_printf("/jobs/%lld", job_id);
    }
    return 0;
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
    if (rc == 0 && !disk_id)
        rc = fail_db(r);
    if (rc == 0)
        rc = removal_ask(r, id, "disk.remove", "disk_id", disk_id);
    return hw_finish(r, before, id, rc, 0);
}

/* ------------------------------------------------------------- NICs --- */

/* GET /vms/{id}/interfaces */
static int nics_list(struct req *r)
{
    return hw_list(r, "nics");
}

static json_t *nic_of(json_t *hw, const char *mac)
{
    size_t i;
    json_t *n;
    json_array_foreach(json_object_get(hw, "nics"), i, n)
        if (!g_ascii_strcasecmp(json_string_value(json_object_get(n, "mac")), mac))
            return n;
    return NULL;
}

/* The NIC of the path's {mac}, or 404; its row id in *row_id. */
static json_t *nic_find(struct req *r, json_t *hw, long long *row_id)
{
    json_t *nic = nic_of(hw, req_param(r, "mac")->text);
    if (!nic) {
        req_fail(r, 404, "no_such_interface", NULL, _("This virtual machine has no such NIC."));
        return NULL;
    }
    struct db_rows *rows = db_query("SELECT id FROM vm_nics WHERE vm_id = ? AND mac = ?",
                                    DB_INT(hw_int(hw, "id")),
                                    DB_TEXT(json_string_value(json_object_get(nic, "mac"))));
    *row_id = db_cell_int(rows, 0, 0, 0);
    db_rows_free(rows);
    if (!*row_id) {
        fail_db(r);
        return NULL;
    }
    return nic;
}

/* The path's NIC of a VM whose hardware may change, attached (not being
 * added or removed); NULL with r->err set. */
static json_t *nic_changeable(struct req *r, json_t *hw, long long *row)
{
    if (hw_changeable(r, hw) < 0)
        return NULL;
    json_t *nic = nic_find(r, hw, row);
    if (nic && strcmp(json_string_value(json_object_get(nic, "state")), "attached")) {
        req_fail(r, 409, "wrong_state", NULL, _("This NIC is being changed."));
        return NULL;
    }
    return nic;
}

/* A text field that may be left empty (a page's form sends ""): NULL then. */
static const char *optional_str(const struct req *r, const char *name)
{
    const char *text = input_str(r, name);
    return text && *text ? text : NULL;
}

/* The MAC a new NIC gets: the one asked for (valid, and no other NIC of
 * the portal's has it; the helper asks the rest of the host), else a
 * fresh one. */
static int nic_mac(struct req *r, char mac[18])
{
    const char *given = optional_str(r, "mac");
    if (!given)
        return hardware_mac_new(mac) < 0 ? fail_db(r) : 0;
    int rc = hardware_mac_normalize(given, mac);
    if (rc == -1)
        return req_fail(r, 422, "invalid_mac", "mac",
                        _("A MAC address is six pairs of hex digits, as 52:54:00:12:34:56."));
    if (rc == -2)
        return req_fail(r, 422, "invalid_mac", "mac",
                        _("%s is a multicast address; a NIC needs a unicast one (even first "
                          "byte)."), given);
    if (rc < 0)
        return req_fail(r, 422, "invalid_mac", "mac",
                        _("%s is reserved (all zero, or fe: which libvirt keeps for the host)."),
                        given);
    struct db_rows *rows = db_query("SELECT 1 FROM vm_nics WHERE mac = ?", DB_TEXT(mac));
    if (!rows)
        return fail_db(r);
    int taken = rows->nrows;
    db_rows_free(rows);
    if (taken)
        return req_fail(r, 409, "mac_taken", "mac",
                        _("Another NIC has the MAC address %s already."), mac);
    return 0;
}

/* The network a new NIC joins must exist; its IP pool (0: none) is swept
 * first, so that an address taken behind the registry's back is not
 * handed out. */
static int nic_network(struct req *r, long long network_id, long long *pool)
{
    struct db_rows *rows = db_query("SELECT id FROM networks WHERE id = ?", DB_INT(network_id));
    if (!rows)
        return fail_db(r);
    int found = rows->nrows;
    db_rows_free(rows);
    if (!found)
        return req_fail(r, 404, "unknown_network", "network_id", _("There is no network %lld."),
                        network_id);
    if ((*pool = ip_pool_of_network(network_id)) < 0)
        return fail_db(r);
    if (!*pool && optional_str(r, "ip"))
        return req_fail(r, 422, "no_ip_pool", "ip",
                        _("This network has no IP pool to take the address from."));
    if (!*pool)
        return 0;
    json_t *args = json_pack("{s:I}", "pool_id", (json_int_t)*pool);
    json_t *done = helper_call(r, "ip_pool.sweep", args);
    json_decref(args);
    json_decref(done);
    return done ? 0 : -1;
}

/* The limits of one NIC as vm_nics holds them: inbound average, peak,
 * burst, outbound average, peak, burst (0: none). */
struct nic_limits {
    long long v[6];
};

/* One direction of a body's bandwidth ({average, peak, burst}, KiB/s
 * and KiB) into v[0..3): a peak or burst needs an average, and a peak
 * below the average would never apply. */
static int bandwidth_way(struct req *r, json_t *way, const char *name, long long v[3])
{
    v[0] = v[1] = v[2] = 0;
    if (!way || json_is_null(way))
        return 0;
    v[0] = json_integer_value(json_object_get(way, "average"));
    v[1] = json_integer_value(json_object_get(way, "peak"));
    v[2] = json_integer_value(json_object_get(way, "burst"));
    char field[48];
    g_snprintf(field, sizeof field, "bandwidth.%s.average", name);
    if (!v[0] && (v[1] || v[2]))
        return req_fail(r, 422, "missing_average", field,
                        _("A peak or burst limit needs an average limit (KiB/s) as well."));
    g_snprintf(field, sizeof field, "bandwidth.%s.peak", name);
    if (v[1] && v[1] < v[0])
        return req_fail(r, 422, "peak_below_average", field,
                        _("The peak (%lld KiB/s) must be at least the average (%lld KiB/s)."),
                        v[1], v[0]);
    return 0;
}

/* The body's bandwidth (null or absent: no limits). */
static int nic_limits_of(struct req *r, struct nic_limits *l)
{
    json_t *bw = json_object_get(r->input, "bandwidth");
    if (bandwidth_way(r, json_object_get(bw, "inbound"), "inbound", &l->v[0]) < 0 ||
        bandwidth_way(r, json_object_get(bw, "outbound"), "outbound", &l->v[3]) < 0)
        return -1;
    return 0;
}

#define LIMIT(l, k) ((l)->v[k] ? DB_INT((l)->v[k]) : DB_NULL)

/* The row of the new NIC, 'adding', after the others, with its address
 * from the pool, in one transaction. Its id, or -1 with r->err set. */
struct nic_insert_tx {
    long long vm_id, network_id, pool;
    const char *mac;
    const struct nic_limits *l;
    long long id;
};

static int nic_insert_body(struct req *r, void *ctx)
{
    struct nic_insert_tx *t = ctx;
    long long vm_id = t->vm_id, network_id = t->network_id, pool = t->pool;
    const char *mac = t->mac;
    const struct nic_limits *l = t->l;
    long long vlan = input_int(r, "vlan", 0);
    const char *model = input_str(r, "model") ? input_str(r, "model") : "virtio";
    const char *link = input_str(r, "link_state") ? input_str(r, "link_state") : "up";
    struct db_rows *rows = db_query("SELECT COALESCE(MAX(position) + 1, 1) FROM vm_nics WHERE "
                                    "vm_id = ? FOR UPDATE", DB_INT(vm_id));
    long long position = db_cell_int(rows, 0, 0, -1), id = 0;
    db_rows_free(rows);
    char ip[16];
    int rc = position < 0 ? fail_db(r) : 0;
    if (rc == 0 && db_exec_id("INSERT INTO vm_nics (vm_id, network_id, position, mac, model, "
                              "link_state, in_average, in_peak, in_burst, out_average, "
                              "out_peak, out_burst, vlan, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, "
                              "?, ?, ?, ?, ?, 'adding')", &id,
                              DB_INT(vm_id), DB_INT(network_id), DB_INT(position), DB_TEXT(mac),
                              DB_TEXT(model), DB_TEXT(link), LIMIT(l, 0), LIMIT(l, 1),
                              LIMIT(l, 2), LIMIT(l, 3), LIMIT(l, 4), LIMIT(l, 5),
                              vlan ? DB_INT(vlan) : DB_NULL) < 0)
        rc = req_fail(r, 409, "mac_taken", "mac",
                      _("Another NIC has the MAC address %s already."), mac);
    if (rc == 0 && pool && ip_allocate(pool, vm_id, id, optional_str(r, "ip"), ip, &r->err) < 0)
        rc = -1;
    t->id = id;
    return rc;
}

static long long nic_insert(struct req *r, long long vm_id, long long network_id, long long pool,
                            const char *mac, const struct nic_limits *l)
{
    struct nic_insert_tx tx = { vm_id, network_id, pool, mac, l, 0 };
    if (req_transaction(r, nic_insert_body, &tx) < 0)
        return -1;
    return tx.id;
}

/* POST /vms/{id}/interfaces {network_id, model, mac, link_state, ip,
 * bandwidth, vlan}: a NIC on a virtual network, hot-plugged into a
 * running machine (the helper refuses a VLAN tag where libvirt cannot
 * tag: a network that is not an Open vSwitch bridge). */
static int nics_add(struct req *r)
{
    long long id = req_param(r, "id")->num;
    json_t *before = vm_hardware(r, id);
    if (!before)
        return -1;
    long long network_id = input_int(r, "network_id", 0), pool = 0, nic = -1;
    char mac[18];
    struct nic_limits limits = { { 0 } };
    int rc = hw_changeable(r, before);
    if (rc == 0)
        rc = nic_limits_of(r, &limits);
    if (rc == 0 && json_array_size(json_object_get(before, "nics")) >= HARDWARE_MAX_NICS)
        rc = req_fail(r, 409, "too_many_interfaces", NULL,
                      _("A virtual machine has at most %d NICs."), HARDWARE_MAX_NICS);
    if (rc == 0)
        rc = nic_network(r, network_id, &pool);
    if (rc == 0)
        rc = nic_mac(r, mac);
    if (rc == 0 && (nic = nic_insert(r, id, network_id, pool, mac, &limits)) < 0)
        rc = -1;
    json_t *done = rc == 0 ? row_op(r, id, "nic.add", "nic_id", nic) : NULL;
    if (rc == 0 && !done) {
        /* libvirt refused: nothing was attached; the address goes with the row. */
        db_exec("DELETE FROM vm_nics WHERE id = ?", DB_INT(nic));
        rc = -1;
    }
    json_decref(done);
    return hw_finish(r, before, id, rc, 201);
}

/* A NIC row's limits as they are. */
static void nic_limits_read(long long row, struct nic_limits *l)
{
    struct db_rows *rows = db_query("SELECT in_average, in_peak, in_burst, out_average, "
                                    "out_peak, out_burst FROM vm_nics WHERE id = ?", DB_INT(row));
    for (int k = 0; rows && rows->nrows == 1 && k < 6; k++)
        l->v[k] = db_cell_int(rows, 0, k, 0);
    db_rows_free(rows);
}

static int nic_limits_write(long long row, const char *model, const char *link,
                            const struct nic_limits *l)
{
    return db_exec("UPDATE vm_nics SET model = ?, link_state = ?, in_average = ?, in_peak = ?, "
                   "in_burst = ?, out_average = ?, out_peak = ?, out_burst = ? WHERE id = ?",
                   DB_TEXT(model), DB_TEXT(link), LIMIT(l, 0), LIMIT(l, 1), LIMIT(l, 2),
                   LIMIT(l, 3), LIMIT(l, 4), LIMIT(l, 5), DB_INT(row));
}

/* PATCH /vms/{id}/interfaces/{mac} {link_state, model, bandwidth}: the
 * link goes up or down and the bandwidth limits change live (bandwidth
 * replaces them all; null takes them away); the model changes while the
 * machine is stopped (QEMU cannot swap a running device's model). */
static int nics_update(struct req *r)
{
    long long id = req_param(r, "id")->num, row = 0;
    json_t *before = vm_hardware(r, id);
    if (!before)
        return -1;
    json_t *nic = nic_changeable(r, before, &row);
    int rc = nic ? 0 : -1;
    const char *old_model = json_string_value(json_object_get(nic, "model"));
    const char *old_link = json_string_value(json_object_get(nic, "link_state"));
    const char *model = input_str(r, "model") ? input_str(r, "model") : old_model;
    const char *link = input_str(r, "link_state") ? input_str(r, "link_state") : old_link;
    if (rc == 0 && hw_running(before) && strcmp(model, old_model))
        rc = req_fail(r, 409, "no_hot_model", "model",
                      _("A running machine's NIC keeps its model; stop the machine to change "
                        "it, or add a NIC of the other model."));
    struct nic_limits limits = { { 0 } }, old_limits = { { 0 } };
    nic_limits_read(row, &old_limits);
    if (!input_has(r, "bandwidth"))
        limits = old_limits;
    else if (rc == 0)
        rc = nic_limits_of(r, &limits);
    if (rc == 0 && nic_limits_write(row, model, link, &limits) < 0)
        rc = fail_db(r);
    json_t *done = rc == 0 ? row_op(r, id, "nic.update", "nic_id", row) : NULL;
    if (rc == 0 && !done) {
        nic_limits_write(row, old_model, old_link, &old_limits);
        rc = -1;
    }
    json_decref(done);
    return hw_finish(r, before, id, rc, 0);
}

/* DELETE /vms/{id}/interfaces/{mac}: at once from a stopped machine;
 * from a running one a job (202) that ends when the guest has let go.
 * The last NIC stays (a machine without NIC rows is on its default
 * network): its link can go down instead. */
static int nics_remove(struct req *r)
{
    long long id = req_param(r, "id")->num, row = 0;
    json_t *before = vm_hardware(r, id);
    if (!before)
        return -1;
    int rc = nic_changeable(r, before, &row) ? 0 : -1;
    if (rc == 0 && json_array_size(json_object_get(before, "nics")) < 2)
        rc = req_fail(r, 409, "last_interface", NULL,
                      _("This is the machine's last NIC; set its link down to disconnect it."));
    if (rc == 0)
        rc = removal_ask(r, id, "nic.remove", "nic_id", row);
    return hw_finish(r, before, id, rc, 0);
}

/* ---------------------------------------------------- port forwards --- */

/* GET /vms/{id}/port-forwards */
static int forwards_list(struct req *r)
{
    return hw_list(r, "port_forwards");
}

/* Whether port is in [port_forwarding] host_ports, the ranges an admin
 * allows ("10000-19999,20022"). */
static bool port_allowed(long long port)
{
    gchar **ranges = g_strsplit(config_str("port_forwarding", "host_ports", "10000-19999"), ",", -1);
    bool ok = false;
    for (int i = 0; ranges[i] && !ok; i++) {
        gchar **ends = g_strsplit(g_strstrip(ranges[i]), "-", 2);
        guint64 low = 0, high = 0;
        if (g_ascii_string_to_unsigned(ends[0], 10, 1, 65535, &low, NULL) &&
            (!ends[1] ? (high = low, true)
                      : g_ascii_string_to_unsigned(ends[1], 10, low, 65535, &high, NULL)))
            ok = (guint64)port >= low && (guint64)port <= high;
        g_strfreev(ends);
    }
    g_strfreev(ranges);
    return ok;
}

/* One forward a caller asks for. */
struct forward_want {
    const char *protocol;
    const char *address;    /* NULL: every address of the host */
    long long host_port, guest_port;
    const char *mac;        /* NULL: the first NIC with a fixed address */
};

/* The NIC a forward leads to: the one of mac, else the first with an
 * address from an IP pool; it must have such a fixed address, on a NAT
 * network (a bridge's LAN reaches the guest without us). Its row id. */
static long long forward_nic(struct req *r, long long vm_id, const char *mac)
{
    struct db_rows *rows = db_query(
        "SELECT c.id, n.mode, a.ip FROM vm_nics c JOIN networks n ON n.id = c.network_id LEFT "
        "JOIN ip_allocations a ON a.nic_id = c.id WHERE c.vm_id = ? AND (? IS NULL OR c.mac = ?) "
        "ORDER BY a.ip IS NULL, c.position LIMIT 1", DB_INT(vm_id), DB_TEXT(mac), DB_TEXT(mac));
    if (!rows)
        return fail_db(r);
    long long id = rows->nrows ? db_cell_int(rows, 0, 0, 0) : 0;
    bool nat = rows->nrows && !strcmp(db_cell(rows, 0, 1), "nat");
    bool fixed = rows->nrows && db_cell(rows, 0, 2);
    db_rows_free(rows);
    if (!id)
        return req_fail(r, 404, "no_such_interface", "mac", _("This virtual machine has no such NIC."));
    if (!fixed)
        return req_fail(r, 409, "no_fixed_address", "mac",
                        _("A port is forwarded to a NIC with an address from an IP pool; this "
                          "machine has none."));
    if (!nat)
        return req_fail(r, 409, "not_nat", "mac",
                        _("Ports are forwarded into NAT networks only; this NIC's network is "
                          "not one."));
    return id;
}

/* Whether the VM has a forward of protocol/host_port already. */
static int forward_is_mine(long long vm_id, const char *protocol, long long host_port)
{
    struct db_rows *rows = db_query("SELECT 1 FROM vm_port_forwards WHERE vm_id = ? AND "
                                    "protocol = ? AND host_port = ?", DB_INT(vm_id),
                                    DB_TEXT(protocol), DB_INT(host_port));
    int mine = rows ? rows->nrows : -1;
    db_rows_free(rows);
    return mine;
}

/* What a forward must be: a valid address, a host port in the ranges an
 * admin allows and free on the host (unless the VM forwards it already
 * and may keep it: a set rewritten whole), a NIC with a fixed address.
 * Its NIC's row id, or -1 with r->err set. */
static long long forward_check(struct req *r, long long vm_id, const struct forward_want *w,
                               bool keep_mine)
{
    uint32_t ip;
    if (w->address && ipv4_parse(w->address, &ip) < 0)
        return req_fail(r, 422, "invalid_address", "host_address",
                        _("%s is not an IPv4 address."), w->address);
    if (!port_allowed(w->host_port))
        return req_fail(r, 422, "port_not_allowed", "host_port",
                        _("Host port %lld is outside the ranges an administrator allows (%s)."),
                        w->host_port, config_str("port_forwarding", "host_ports", "10000-19999"));
    long long nic = forward_nic(r, vm_id, w->mac);
    if (nic < 0)
        return -1;
    int mine = keep_mine ? forward_is_mine(vm_id, w->protocol, w->host_port) : 0;
    if (mine < 0)
        return fail_db(r);
    if (!mine) {
        json_t *args = json_pack("{s:s, s:s, s:I}", "protocol", w->protocol, "host_address",
                                 w->address ? w->address : "", "host_port",
                                 (json_int_t)w->host_port);
        json_t *free_port = helper_call(r, "port_forward.check", args);
        json_decref(args);
        json_decref(free_port);
        if (!free_port)
            return -1;
    }
    return nic;
}

static int forward_insert(struct req *r, long long vm_id, long long nic,
                          const struct forward_want *w, long long *forward)
{
    if (db_exec_id("INSERT INTO vm_port_forwards (vm_id, nic_id, protocol, host_address, "
                   "host_port, guest_port) VALUES (?, ?, ?, ?, ?, ?)", forward, DB_INT(vm_id),
                   DB_INT(nic), DB_TEXT(w->protocol), DB_TEXT(w->address ? w->address : ""),
                   DB_INT(w->host_port), DB_INT(w->guest_port)) < 0)
        return req_fail(r, 409, "port_taken", "host_port",
                        _("Host port %s/%lld is forwarded already."), w->protocol, w->host_port);
    return 0;
}

/* POST /vms/{id}/port-forwards {protocol, host_port, guest_port,
 * host_address, mac}: the host's port (in the ranges an admin allows,
 * free on the host) leads to the guest's. */
static int forwards_add(struct req *r)
{
    long long id = req_param(r, "id")->num, nic = 0, forward = 0;
    json_t *before = vm_hardware(r, id);
    if (!before)
        return -1;
    struct forward_want w = {
        .protocol = input_str(r, "protocol") ? input_str(r, "protocol") : "tcp",
        .address = optional_str(r, "host_address"),
        .host_port = input_int(r, "host_port", 0),
        .guest_port = input_int(r, "guest_port", 0),
        .mac = optional_str(r, "mac"),
    };
    int rc = hw_changeable(r, before);
    if (rc == 0 && (nic = forward_check(r, id, &w, false)) < 0)
        rc = -1;
    if (rc == 0)
        rc = forward_insert(r, id, nic, &w, &forward);
    if (rc == 0) {
        json_t *done = helper_call(r, "port_forward.sync", NULL);
        if (!done) {
            db_exec("DELETE FROM vm_port_forwards WHERE id = ?", DB_INT(forward));
            rc = -1;
        }
        json_decref(done);
    }
    return hw_finish(r, before, id, rc, 201);
}

/* Rule i of a set as a forward_want (its fields checked here: the body's
 * field table cannot reach into an array); 0, or -1 with r->err naming
 * rules[i].field. */
static int forward_rule(struct req *r, json_t *rule, size_t i, struct forward_want *w)
{
    static const char *const names[] = { "protocol", "host_port", "guest_port", "host_address",
                                         "mac", NULL };
    char field[48];
    const char *key;
    json_t *v;
    if (!json_is_object(rule)) {
        g_snprintf(field, sizeof field, "forwards[%zu]", i);
        return req_fail(r, 400, "invalid_type", field, _("%s is not valid."), field);
    }
    json_object_foreach(rule, key, v) {
        if (!g_strv_contains(names, key)) {
            g_snprintf(field, sizeof field, "forwards[%zu].%.20s", i, key);
            return req_fail(r, 400, "unknown_field", field, _("Unknown field: %s"), field);
        }
    }
    json_t *protocol = json_object_get(rule, "protocol");
    w->protocol = protocol ? json_string_value(protocol) : "tcp";
    if (!w->protocol || (strcmp(w->protocol, "tcp") && strcmp(w->protocol, "udp"))) {
        g_snprintf(field, sizeof field, "forwards[%zu].protocol", i);
        return req_fail(r, 400, "invalid_choice", field, _("%s is not one of the allowed values."),
                        field);
    }
    const char *ports[] = { "host_port", "guest_port" };
    for (int k = 0; k < 2; k++) {
        json_t *port = json_object_get(rule, ports[k]);
        long long n = json_integer_value(port);
        if (!json_is_integer(port) || n < 1 || n > 65535) {
            g_snprintf(field, sizeof field, "forwards[%zu].%s", i, ports[k]);
            return req_fail(r, 400, port ? "out_of_range" : "missing_field", field,
                            _("%s must be a port number from 1 to 65535."), field);
        }
        *(k ? &w->guest_port : &w->host_port) = n;
    }
    const char *texts[] = { "host_address", "mac" };
    for (int k = 0; k < 2; k++) {
        json_t *t = json_object_get(rule, texts[k]);
        if (t && !json_is_null(t) && (!json_is_string(t) || strlen(json_string_value(t)) > 17)) {
            g_snprintf(field, sizeof field, "forwards[%zu].%s", i, texts[k]);
            return req_fail(r, 400, "invalid_type", field, _("%s is not valid."), field);
        }
        const char *text = json_string_value(t);
        *(k ? &w->mac : &w->address) = text && *text ? text : NULL;
    }
    for (size_t j = 0; j < i; j++) {
        json_t *other = json_array_get(json_object_get(r->input, "forwards"), j);
        const char *p = json_string_value(json_object_get(other, "protocol"));
        if (!strcmp(p ? p : "tcp", w->protocol) &&
            json_integer_value(json_object_get(other, "host_port")) == w->host_port) {
            g_snprintf(field, sizeof field, "forwards[%zu].host_port", i);
            return req_fail(r, 422, "duplicate_rule", field,
                            _("Host port %s/%lld is in the list twice."), w->protocol,
                            w->host_port);
        }
    }
    return 0;
}

struct forwards_tx {
    long long id;
    size_t n;
    const long long *nics;
    const struct forward_want *want;
};

static int forwards_body(struct req *r, void *ctx)
{
    struct forwards_tx *t = ctx;
    if (db_exec("DELETE FROM vm_port_forwards WHERE vm_id = ?", DB_INT(t->id)) < 0)
        return fail_db(r);
    for (size_t i = 0; i < t->n; i++) {
        long long forward = 0;
        if (forward_insert(r, t->id, t->nics[i], &t->want[i], &forward) < 0)
            return -1;
    }
    return 0;
}

/* PUT /vms/{id}/port-forwards {forwards: [{protocol, host_port, guest_port,
 * host_address, mac}]}: the VM's forwards become exactly these, all or
 * none (every rule is checked before any row changes). */
static int forwards_replace(struct req *r)
{
    long long id = req_param(r, "id")->num;
    json_t *before = vm_hardware(r, id);
    if (!before)
        return -1;
    json_t *rules = json_object_get(r->input, "forwards");
    size_t n = json_array_size(rules);
    struct forward_want *want = g_new0(struct forward_want, n + 1);
    long long *nics = g_new0(long long, n + 1);
    int rc = hw_changeable(r, before);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        rc = forward_rule(r, json_array_get(rules, i), i, &want[i]);
        if (rc == 0 && (nics[i] = forward_check(r, id, &want[i], true)) < 0)
            rc = -1;
        if (rc < 0 && r->err.field[0] && !g_str_has_prefix(r->err.field, "forwards[")) {
            char field[48];
            g_snprintf(field, sizeof field, "forwards[%zu].%.20s", i, r->err.field);
            g_strlcpy(r->err.field, field, sizeof r->err.field);
        }
    }
    struct forwards_tx tx = { id, n, nics, want };
    if (rc == 0)
        rc = req_transaction(r, forwards_body, &tx);
    if (rc == 0) {
        /* Committed: a failed sync is retried by the next (as a removal). */
        json_t *done = helper_call(r, "port_forward.sync", NULL);
        rc = done ? 0 : -1;
        json_decref(done);
    }
    g_free(want);
    g_free(nics);
    return hw_finish(r, before, id, rc, 0);
}

/* DELETE /vms/{id}/port-forwards/{fid} */
static int forwards_remove(struct req *r)
{
    long long id = req_param(r, "id")->num, fid = req_param(r, "fid")->num;
    json_t *before = vm_hardware(r, id);
    if (!before)
        return -1;
    unsigned long long gone = 0;
    int rc = 0;
    if (db_exec_count("DELETE FROM vm_port_forwards WHERE id = ? AND vm_id = ?", &gone,
                      DB_INT(fid), DB_INT(id)) < 0)
        rc = fail_db(r);
    else if (!gone)
        rc = req_fail(r, 404, "no_such_forward", NULL,
                      _("This virtual machine has no such port forward."));
    if (rc == 0) {
        /* The row is gone either way: a failed sync is retried by the next. */
        json_t *done = helper_call(r, "port_forward.sync", NULL);
        rc = done ? 0 : -1;
        json_decref(done);
    }
    return hw_finish(r, before, id, rc, 0);
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
    struct quota_want want = { vcpus - old, 0, 0 };
    if (quota_update(r, before, vcpus > old ? &want : NULL, "UPDATE vms SET vcpus = ? WHERE id = ?",
                     DB_PARAMS(DB_INT(vcpus), DB_INT(id))) < 0)
        return -1;
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
        rc = vm_limits_enforce(r, vcpus, -1, -1);
    if (rc == 0 && vcpus != old)
        rc = vcpus_apply(r, before, id, vcpus, "vm.vcpus");
    return hw_finish(r, before, id, rc, 0);
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
    if (rc == 0 && vcpus != old_vcpus)
        rc = vm_limits_enforce(r, vcpus, -1, -1);
    if (rc == 0)
        rc = hardware_cpu_model_check(r, hw_str(before, "arch"), model);
    if (rc == 0) {
        struct quota_want want = { vcpus - old_vcpus, 0, 0 };
        rc = quota_update(r, before, vcpus > old_vcpus ? &want : NULL,
                          "UPDATE vms SET vcpus = ?, max_vcpus = ?, cpu_sockets = ?, cpu_cores = ?, "
                          "cpu_threads = ?, cpu_model = COALESCE(?, cpu_model) WHERE id = ?",
                          DB_PARAMS(DB_INT(vcpus), DB_INT(max), topology ? DB_INT(sockets) : DB_NULL,
                                    topology ? DB_INT(cores) : DB_NULL,
                                    topology ? DB_INT(threads) : DB_NULL, DB_TEXT(model),
                                    DB_INT(id)));
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
    return hw_finish(r, before, id, rc, 0);
}

/* A running machine's memory grows by DIMMs of whole 128 MiB blocks up to
 * the maximum it was made with (its NUMA cell and memory slots); the
 * row first, quota checked, back if libvirt refuses. */
static int memory_hot_add(struct req *r, json_t *before, long long id, long long memory)
{
    long long old = hw_int(before, "memory_mb"), max = hw_int(before, "max_memory_mb");
    if (max <= old)
        return req_fail(r, 409, "no_memory_hotplug", "memory_mb",
                        _("This machine was made without room for more memory; stop it and "
                          "give it a max_memory_mb (PUT /vms/%lld/memory), or create it with "
                          "one."), id);
    if (memory > max)
        return req_fail(r, 422, "over_maximum", "memory_mb",
                        _("This machine was made for at most %lld MiB of memory."), max);
    if (memory < old)
        return req_fail(r, 409, "no_hot_unplug", "memory_mb",
                        _("Memory is only added while the machine runs; stop it to take some "
                          "away."));
    if ((memory - old) % 128)
        return req_fail(r, 422, "not_aligned", "memory_mb",
                        _("Memory is added in multiples of 128 MiB (the guest's memory block): "
                          "%lld MiB more is not one."), memory - old);
    if (memory == old || host_check(r, 0, memory) < 0 || vm_limits_enforce(r, -1, memory, -1) < 0)
        return memory == old ? 0 : -1;
    struct quota_want want = { 0, memory - old, 0 };
    if (quota_update(r, before, &want, "UPDATE vms SET memory_mb = ? WHERE id = ?",
                     DB_PARAMS(DB_INT(memory), DB_INT(id))) < 0)
        return -1;
    json_t *args = json_pack("{s:I, s:I}", "vm_id", (json_int_t)id, "size_mb",
                             (json_int_t)(memory - old));
    json_t *done = helper_call(r, "vm.memory_add", args);
    json_decref(args);
    if (!done) {
        db_exec("UPDATE vms SET memory_mb = ? WHERE id = ?", DB_INT(old), DB_INT(id));
        return -1;
    }
    json_decref(done);
    return 0;
}

/* A stopped machine's memory and its maximum (room for hot-add: above
 * memory_mb, the definition gets a NUMA cell and memory slots). */
static int memory_stopped(struct req *r, json_t *before, long long id, long long memory)
{
    long long old = hw_int(before, "memory_mb"), old_max = hw_int(before, "max_memory_mb");
    long long max = input_int(r, "max_memory_mb", old_max > memory ? old_max : memory);
    if (max < memory)
        return req_fail(r, 422, "below_memory", "max_memory_mb",
                        _("max_memory_mb must be at least memory_mb (%lld)."), memory);
    if (host_check(r, 0, max) < 0 || (memory != old && vm_limits_enforce(r, -1, memory, -1) < 0))
        return -1;
    struct quota_want want = { 0, memory - old, 0 };
    if (quota_update(r, before, memory > old ? &want : NULL,
                     "UPDATE vms SET memory_mb = ?, max_memory_mb = ? WHERE id = ?",
                     DB_PARAMS(DB_INT(memory), max > memory ? DB_INT(max) : DB_NULL, DB_INT(id))) < 0)
        return -1;
    if (redefine(r, id) < 0) {
        db_exec("UPDATE vms SET memory_mb = ?, max_memory_mb = ? WHERE id = ?", DB_INT(old),
                old_max > old ? DB_INT(old_max) : DB_NULL, DB_INT(id));
        return -1;
    }
    return 0;
}

/* PUT /vms/{id}/memory {memory_mb, max_memory_mb, live} or {add_mb}: a
 * running machine takes more (live: true, or add_mb more than it has) up
 * to its maximum; a stopped one any size up to the host, and a new
 * maximum. */
static int memory_set(struct req *r)
{
    long long id = req_param(r, "id")->num;
    json_t *before = vm_hardware(r, id);
    if (!before)
        return -1;
    long long memory = input_int(r, "memory_mb", 0), add = input_int(r, "add_mb", 0);
    int rc = hw_changeable(r, before);
    if (rc == 0 && (add ? input_has(r, "memory_mb") || input_has(r, "max_memory_mb")
                        : !memory))
        rc = req_fail(r, 400, add ? "conflicting_fields" : "missing_field",
                      add ? "add_mb" : "memory_mb",
                      add ? _("Give add_mb alone (it adds to the memory the machine has).")
                          : _("memory_mb is required."));
    else if (rc == 0 && add && !hw_running(before))
        rc = req_fail(r, 409, "wrong_state", "add_mb",
                      _("Memory is added to a running machine; give a stopped one its "
                        "memory_mb."));
    if (add)
        memory = hw_int(before, "memory_mb") + add;
    if (rc == 0 && hw_running(before) && !add && !json_is_true(json_object_get(r->input, "live")))
        rc = req_fail(r, 409, "wrong_state", "live",
                      _("The machine runs: give live: true to add memory now, or stop it "
                        "first."));
    else if (rc == 0 && hw_running(before) && input_has(r, "max_memory_mb"))
        rc = req_fail(r, 409, "wrong_state", "max_memory_mb",
                      _("Stop the virtual machine to change its memory maximum."));
    else if (rc == 0 && !hw_running(before) && strcmp(hw_str(before, "state"), "stopped"))
        rc = req_fail(r, 409, "wrong_state", NULL, _("Stop the virtual machine to change its "
                                                     "memory."));
    if (rc == 0)
        rc = hw_running(before) ? memory_hot_add(r, before, id, memory)
                                : memory_stopped(r, before, id, memory);
    return hw_finish(r, before, id, rc, 0);
}

/* ------------------------------------------------------------ tables --- */

static const char *const buses[] = { "virtio", "scsi", "sata", NULL };
static const char *const formats[] = { "qcow2", "raw", NULL };
static const char *const caches[] = { "default", "none", "writeback", "writethrough",
                                      "directsync", "unsafe", NULL };

static const struct field disk_add_fields[] = {
    { "size_gb", FIELD_INT, true, 1, 65536, NULL },
    { "bus", FIELD_ENUM, false, 0, 0, buses },
    { "format", FIELD_ENUM, false, 0, 0, formats },
    { "cache", FIELD_ENUM, false, 0, 0, caches },
    { "target", FIELD_STRING, false, 3, 3, NULL },
    { "pool", FIELD_INT, false, 1, INT64_MAX, NULL },   /* issue 12 */
    { NULL },
};
static const struct field disk_resize_fields[] = {
    { "size_gb", FIELD_INT, true, 1, 65536, NULL }, { NULL },
};
static const char *const nic_models[] = { "virtio", "e1000", "rtl8139", NULL };
static const char *const link_states[] = { "up", "down", NULL };
/* libvirt's <bandwidth> units: average and peak in KiB/s (at most 4 GiB/s,
 * about 34 Gbit/s), burst in KiB (at most 1 GiB). */
static const struct field bandwidth_way_fields[] = {
    { .name = "average", .type = FIELD_INT, .required = true, .min = 1, .max = 4194304 },
    { .name = "peak", .type = FIELD_INT, .min = 1, .max = 4194304 },
    { .name = "burst", .type = FIELD_INT, .min = 1, .max = 1048576 },
    { NULL },
};
static const struct field bandwidth_fields[] = {
    { .name = "inbound", .type = FIELD_OBJECT, .nullable = true, .fields = bandwidth_way_fields },
    { .name = "outbound", .type = FIELD_OBJECT, .nullable = true, .fields = bandwidth_way_fields },
    { NULL },
};
static const struct field nic_add_fields[] = {
    { .name = "network_id", .type = FIELD_INT, .required = true, .min = 1, .max = INT64_MAX },
    { .name = "model", .type = FIELD_ENUM, .choices = nic_models },
    /* null or "": a fresh one (the guide's scripts send null) */
    { .name = "mac", .type = FIELD_STRING, .min = 0, .max = 17, .nullable = true },
    { .name = "link_state", .type = FIELD_ENUM, .choices = link_states },
    { .name = "ip", .type = FIELD_STRING, .min = 0, .max = 15 },
    { .name = "bandwidth", .type = FIELD_OBJECT, .nullable = true, .fields = bandwidth_fields },
    { .name = "vlan", .type = FIELD_INT, .min = 1, .max = 4094, .nullable = true },
    { NULL },
};
static const struct field nic_update_fields[] = {
    { .name = "model", .type = FIELD_ENUM, .choices = nic_models },
    { .name = "link_state", .type = FIELD_ENUM, .choices = link_states },
    { .name = "bandwidth", .type = FIELD_OBJECT, .nullable = true, .fields = bandwidth_fields },
    { NULL },
};
static const char *const protocols[] = { "tcp", "udp", NULL };
static const struct field forward_fields[] = {
    { .name = "protocol", .type = FIELD_ENUM, .choices = protocols },
    { .name = "host_port", .type = FIELD_INT, .required = true, .min = 1, .max = 65535 },
    { .name = "guest_port", .type = FIELD_INT, .required = true, .min = 1, .max = 65535 },
    { .name = "host_address", .type = FIELD_STRING, .min = 0, .max = 15 },
    { .name = "mac", .type = FIELD_STRING, .min = 0, .max = 17 },
    { NULL },
};
static const struct field forward_set_fields[] = {
    { .name = "forwards", .type = FIELD_ARRAY, .required = true, .min = 0, .max = 64 },
    { NULL },
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
    { "model", FIELD_STRING, false, 1, 64, NULL },   /* libvirt's names: checked with it */
    { "vcpus", FIELD_INT, false, 1, 64, NULL },
    { "max_vcpus", FIELD_INT, false, 1, 64, NULL },
    { NULL },
};
static const struct field memory_fields[] = {
    { "memory_mb", FIELD_INT, false, 64, 1048576, NULL },
    /* Memory to add to a running machine now: memory_mb + add_mb, live. */
    { "add_mb", FIELD_INT, false, 1, 1048576, NULL },
    { "max_memory_mb", FIELD_INT, false, 64, 1048576, NULL },
    { "live", FIELD_BOOL },
    { NULL },
};

static const struct route routes[] = {
    { "GET", "/vms/{id:int}/disks", disks_list, PERM_USER, ROUTE_API,
      .summary = "A VM's disks", .reply = REPLY_ITEMS,
      .statuses = STATUSES(404) },
    { "POST", "/vms/{id:int}/disks", disks_add, PERM_USER, ROUTE_BOTH, NULL, NULL,
      disk_add_fields, "vm.disk_add",
      .summary = "Add a disk to a VM", .reply = REPLY_CREATED,
      .statuses = STATUSES(403, 404, 409, 413, 422, 502) },
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
    { "GET", "/vms/{id:int}/interfaces", nics_list, PERM_USER, ROUTE_API,
      .summary = "A VM's network interfaces", .reply = REPLY_ITEMS, .statuses = STATUSES(404) },
    { "POST", "/vms/{id:int}/interfaces", nics_add, PERM_USER, ROUTE_BOTH, NULL, NULL,
      nic_add_fields, "vm.nic_add",
      .summary = "Add a network interface (live on a running VM)", .reply = REPLY_CREATED,
      .statuses = STATUSES(404, 409, 422, 502) },
    { "PATCH", "/vms/{id:int}/interfaces/{mac}", nics_update, PERM_USER, ROUTE_API, NULL, NULL,
      nic_update_fields, "vm.nic_update",
      .summary = "Change an interface's link state, bandwidth limits or model", .reply = REPLY_OBJECT,
      .statuses = STATUSES(404, 409, 422, 502) },
    { "POST", "/vms/{id:int}/interfaces/{mac}/update", nics_update, PERM_USER, ROUTE_PAGE, NULL,
      NULL, nic_update_fields, "vm.nic_update" },
    { "DELETE", "/vms/{id:int}/interfaces/{mac}", nics_remove, PERM_USER, ROUTE_API, NULL, NULL,
      NULL, "vm.nic_remove",
      .summary = "Remove an interface (a job on a running VM)", .reply = REPLY_JOB,
      .statuses = STATUSES(200, 404, 409, 422, 502) },
    { "POST", "/vms/{id:int}/interfaces/{mac}/delete", nics_remove, PERM_USER, ROUTE_PAGE, NULL,
      NULL, NULL, "vm.nic_remove" },
    { "GET", "/vms/{id:int}/port-forwards", forwards_list, PERM_USER, ROUTE_API,
      .summary = "A VM's port forwards", .reply = REPLY_ITEMS, .statuses = STATUSES(404) },
    { "POST", "/vms/{id:int}/port-forwards", forwards_add, PERM_USER, ROUTE_BOTH, NULL, NULL,
      forward_fields, "vm.port_forward_add",
      .summary = "Forward a host port to a guest port", .reply = REPLY_CREATED,
      .statuses = STATUSES(404, 409, 422, 502) },
    { "PUT", "/vms/{id:int}/port-forwards", forwards_replace, PERM_USER, ROUTE_API, NULL, NULL,
      forward_set_fields, "vm.port_forward_set",
      .summary = "Replace all of a VM's port forwards (forwards; [] removes them)",
      .reply = REPLY_OBJECT, .statuses = STATUSES(400, 404, 409, 422, 502) },
    { "DELETE", "/vms/{id:int}/port-forwards/{fid:int}", forwards_remove, PERM_USER, ROUTE_API,
      NULL, NULL, NULL, "vm.port_forward_remove",
      .summary = "Remove a port forward", .reply = REPLY_OBJECT,
      .statuses = STATUSES(404, 502) },
    { "POST", "/vms/{id:int}/port-forwards/{fid:int}/delete", forwards_remove, PERM_USER,
      ROUTE_PAGE, NULL, NULL, NULL, "vm.port_forward_remove" },
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
    { "POST", "/vms/{id:int}/cpu", cpu_set, PERM_USER, ROUTE_PAGE, NULL, NULL, cpu_fields,
      "vm.cpu" },
    { "PUT", "/vms/{id:int}/memory", memory_set, PERM_USER, ROUTE_API, NULL, NULL, memory_fields,
      "vm.memory",
      .summary = "Set the memory (live where the guest allows)", .reply = REPLY_OBJECT,
      .statuses = STATUSES(404, 409, 422, 502) },
    { "POST", "/vms/{id:int}/memory", memory_set, PERM_USER, ROUTE_PAGE, NULL, NULL, memory_fields,
      "vm.memory" },
    { NULL },
};

int main(int argc, char **argv)
{
    return app_run(argv[0], routes);
}
