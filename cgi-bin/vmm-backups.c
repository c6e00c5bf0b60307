/* vmm-backups: backups of VMs (/vms/{id}/backups, /backups/{bid}) and
 * their schedules (/vms/{id}/backup-policy). Whoever may see the VM may
 * back it up and restore it; anyone else's VM or backup is a 404. The
 * helper makes, restores and deletes them (in jobs: 202 with meta.job);
 * this program validates, lists rows and keeps the policies. /backups
 * lists every backup for admins (a user sees their own). */
#include <stdint.h>
#include <string.h>

#include "app.h"
#include "db.h"
#include "hardware.h"
#include "helper_client.h"
#include "i18n.h"
#include "list.h"
#include "ip_alloc.h"
#include "quota.h"
#include "rbac.h"
#include "schedule_input.h"
#include "vm_row.h"

#define BACKUP_COLUMNS                                                                        \
    "b.id, b.vm_id, b.vm_name, b.mode, COALESCE(b.parent_id, 0), b.status, b.origin, b.note, " \
    "b.size_bytes, DATE_FORMAT(b.created_at, '%Y-%m-%dT%TZ'), "                               \
    "DATE_FORMAT(b.finished_at, '%Y-%m-%dT%TZ'), b.owner_id"

static json_t *backup_from_row(const struct db_rows *rows, int i)
{
    long long parent = db_cell_int(rows, i, 4, 0);
    const char *status = db_cell(rows, i, 5);
    return json_pack("{s:I, s:I, s:s, s:s, s:o, s:s, s:s, s:s, s:I, s:s, s:s?, s:b, s:b}",
                     "id", (json_int_t)db_cell_int(rows, i, 0, 0),
                     "vm_id", (json_int_t)db_cell_int(rows, i, 1, 0),
                     "vm_name", db_cell(rows, i, 2), "mode", db_cell(rows, i, 3),
                     "parent_id", parent ? json_integer(parent) : json_null(),
                     "status", status, "origin", db_cell(rows, i, 6), "note", db_cell(rows, i, 7),
                     "size_bytes", (json_int_t)db_cell_int(rows, i, 8, 0),
                     "created_at", db_cell(rows, i, 9), "finished_at", db_cell(rows, i, 10),
                     "incremental", !strcmp(db_cell(rows, i, 3), "incremental"),
                     "ready", !strcmp(status, "ready"));
}

/* Rows of query (one parameter: an id) as a JSON array, or NULL (503). */
static json_t *backups_query(struct req *r, const char *where, long long id)
{
    /* where is one of this file's constants, never input. */
    char *sql = g_strconcat("SELECT " BACKUP_COLUMNS " FROM backups b WHERE ", where,
                            " ORDER BY b.id DESC LIMIT 500", NULL);
    struct db_rows *rows = db_query(sql, DB_INT(id));
    g_free(sql);
    if (!rows) {
        fail_db(r);
        return NULL;
    }
    json_t *list = json_array();
    for (int i = 0; i < rows->nrows; i++)
        json_array_append_new(list, backup_from_row(rows, i));
    db_rows_free(rows);
    return list;
}

/* Backup bid if the caller may touch it, else a 404 (NULL). */
static json_t *backup_visible(struct req *r)
{
    long long bid = req_param(r, "bid")->num;
    json_t *list = backups_query(r, "b.id = ?", bid);
    if (!list)
        return NULL;
    json_t *b = json_incref(json_array_get(list, 0));
    json_decref(list);
    struct db_rows *rows = b ? db_query("SELECT owner_id FROM backups WHERE id = ?", DB_INT(bid))
                             : NULL;
    if (b && (!rows || !rbac_may_touch(r->user, db_cell_int(rows, 0, 0, 0)))) {
        json_decref(b);
        b = NULL;
    }
    db_rows_free(rows);
    if (!b)
        req_fail(r, 404, "not_found", NULL, _("There is no such backup."));
    return b;
}

static json_t *policy_of(struct req *r, long long vm_id);

static int backups_of_vm(struct req *r)
{
    long long vm_id = req_param(r, "id")->num;
    json_t *vm = list_path_vm(r);
    json_t *list = vm ? backups_query(r, "b.vm_id = ?", vm_id) : NULL;
    json_t *policy = list ? policy_of(r, vm_id) : NULL;
    if (!policy) {
        json_decref(vm);
        json_decref(list);
        return -1;
    }
    if (r->api) {
        json_decref(vm);
        json_decref(policy);
        r->data = list;
        return 0;
    }
    r->data = json_pack("{s:o, s:o, s:o, s:I, s:b}", "backups", list, "vm", vm, "policy", policy,
                        "vm_id", (json_int_t)vm_id, "backups_empty", json_array_size(list) == 0);
    return 0;
}

/* /backups: every backup for an admin, the caller's own otherwise. */
static int backups_all(struct req *r)
{
    bool admin = rbac_allows(r->user, PERM_ADMIN);
    json_t *list = admin ? backups_query(r, "b.id > ?", 0) /* all */
                         : backups_query(r, "b.owner_id = ?", r->user->id);
    if (!list)
        return -1;
    r->data = r->api ? list
                     : json_pack("{s:o, s:b}", "backups", list, "backups_empty",
                                 json_array_size(list) == 0);
    return 0;
}

static int backup_show(struct req *r)
{
    json_t *b = backup_visible(r);
    if (!b)
        return -1;
    req_set_object(r, "backup", b);
    return 0;
}

/* A 202 naming the helper's job; the backup row as it is now. */
static int answer_job(struct req *r, json_t *done, const char *kind, long long vm_id)
{
    long long bid = json_integer_value(json_object_get(done, "backup_id"));
    long long job_id = json_integer_value(json_object_get(done, "job_id"));
    json_decref(done);
    r->audit_target_id = vm_id;
    r->status = 202;
    r->location = g_strdup_printf("/vms/%lld/backups", vm_id);
    json_t *list = backups_query(r, "b.id = ?", bid);
    json_t *b = list ? json_incref(json_array_get(list, 0)) : NULL;
    json_decref(list);
    memset(&r->err, 0, sizeof r->err);
    req_set_job(r, json_pack("{s:I, s:s, s:s, s:i}", "id", (json_int_t)job_id, "kind", kind,
                             "state", "queued", "progress", 0));
    req_set_object(r, "backup", b ? b : json_pack("{s:I}", "id", (json_int_t)bid));
    return 0;
}

static int backups_create(struct req *r)
{
    json_t *vm = list_path_vm(r);
    if (!vm)
        return -1;
    json_decref(vm);
    long long vm_id = req_param(r, "id")->num;
    const char *mode = input_str(r, "mode") ? input_str(r, "mode") : "full";
    json_t *args = json_pack("{s:I, s:s}", "vm_id", (json_int_t)vm_id, "mode", mode);
    r->audit_detail = json_pack("{s:s}", "mode", mode);
    json_t *done = helper_call(r, "backup.create", args);
    json_decref(args);
    return done ? answer_job(r, done, "backup.create", vm_id) : -1;
}

/* The added disks of backup bid's record (hw.disks) that the backup holds
 * a copy of, as rows of the new VM id (domain domain): qcow2 in the
 * helper's pool, attached, named as disk.add names them. 0, or -1 when
 * the database fails. */
static int restore_disks(long long bid, json_t *hw, long long id, const char *domain)
{
    size_t i;
    json_t *d;
    json_array_foreach(json_object_get(hw, "disks"), i, d) {
        const char *target = json_string_value(json_object_get(d, "target"));
        struct db_rows *rows = db_query("SELECT 1 FROM backup_disks WHERE backup_id = ? AND "
                                        "target = ?", DB_INT(bid), DB_TEXT(target));
        if (!rows)
            return -1;
        int held = rows->nrows;
        db_rows_free(rows);
        if (!held)
            continue;
        long long size = json_integer_value(json_object_get(d, "size_gb"));
        char *file = g_strdup_printf("%s-%s.qcow2", domain, target);
        int rc = db_exec("INSERT INTO vm_disks (vm_id, target, bus, format, cache, size_gb, "
                         "file_name, state) VALUES (?, ?, ?, 'qcow2', ?, ?, ?, 'attached')",
                         DB_INT(id), DB_TEXT(target),
                         DB_TEXT(json_string_value(json_object_get(d, "bus"))),
                         DB_TEXT(json_string_value(json_object_get(d, "cache"))), DB_INT(size),
                         DB_TEXT(file));
        g_free(file);
        if (rc < 0)
            return -1;
    }
    return 0;
}

/* The NICs of the record (hw.nics) on the networks that still exist, in
 * their order, each with its model and link state, a new MAC and an
 * address from its network's IP pool when it has one. None left: the
 * default network's, as a create without networks. 0, or -1 with r->err
 * (or the database) failing. */
static int restore_nics(struct req *r, json_t *hw, long long id)
{
    size_t i;
    json_t *c;
    long long position = 0;
    json_array_foreach(json_object_get(hw, "nics"), i, c) {
        long long network = json_integer_value(json_object_get(c, "network_id"));
        struct db_rows *rows = db_query("SELECT 1 FROM networks WHERE id = ?", DB_INT(network));
        if (!rows)
            return -1;
        int exists = rows->nrows;
        db_rows_free(rows);
        char mac[18], ip[16];
        long long nic = 0, pool = exists ? ip_pool_of_network(network) : 0;
        if (!exists)
            continue;
        if (pool < 0 || hardware_mac_new(mac) < 0 ||
            db_exec_id("INSERT INTO vm_nics (vm_id, network_id, position, mac, model, "
                       "link_state) VALUES (?, ?, ?, ?, ?, ?)", &nic, DB_INT(id),
                       DB_INT(network), DB_INT(position++), DB_TEXT(mac),
                       DB_TEXT(json_string_value(json_object_get(c, "model"))),
                       DB_TEXT(json_string_value(json_object_get(c, "link_state")))) < 0 ||
            (pool && ip_allocate(pool, id, nic, NULL, ip, &r->err) < 0))
            return -1;
    }
    return 0;
}

/* The new VM id's added disks and NICs from backup bid's record. */
static int restore_rows(struct req *r, long long bid, json_t *hw, long long id)
{
    struct db_rows *rows = db_query("SELECT domain_name FROM vms WHERE id = ?", DB_INT(id));
    int rc = rows && rows->nrows == 1 ? restore_disks(bid, hw, id, db_cell(rows, 0, 0)) : -1;
    db_rows_free(rows);
    return rc < 0 ? -1 : restore_nics(r, hw, id);
}

/* The restored machine's rows and its job, within the caller's quota. */
struct restore_tx {
    const struct vm_row *row;
    const struct quota_want *want;
    json_t *hw;
    const char *name;
    long long bid;
    long long id, job_id;
};

static int restore_body(struct req *r, void *ctx)
{
    struct restore_tx *t = ctx;
    json_t *hw = t->hw;
    const char *kind = NULL;
    long long limit = 0, used = 0;
    int fits = quota_fits_locked(r->user->id, t->want, &kind, &limit, &used);
    if (fits < 0)
        return fail_db(r);
    if (fits > 0) {
        if (!strcmp(kind, "vms"))
            return req_fail(r, 409, "quota_exceeded", NULL,
                            _("Your quota allows %lld virtual machines."), limit);
        return req_fail(r, 409, "quota_exceeded", kind,
                        _("The restored machine does not fit your quota: %lld of %s allowed, "
                          "%lld in use."), limit, kind, used);
    }
#define HW(key) json_integer_value(json_object_get(hw, key))
    long long id = t->id = vm_row_insert(t->row);
    if (id >= 0 && restore_rows(r, t->bid, hw, id) < 0)
        return r->err.status ? -1 : fail_db(r);   /* an IP pool's refusal, or the database */
    if (id < 0 ||
        db_exec("UPDATE vms SET max_vcpus = ?, max_memory_mb = ?, cpu_sockets = ?, "
                "cpu_cores = ?, cpu_threads = ?, boot_order = COALESCE(?, boot_order), "
                "console_keymap = ? WHERE id = ?",
                HW("max_vcpus") ? DB_INT(HW("max_vcpus")) : DB_NULL,
                HW("max_memory_mb") ? DB_INT(HW("max_memory_mb")) : DB_NULL,
                HW("cpu_sockets") ? DB_INT(HW("cpu_sockets")) : DB_NULL,
                HW("cpu_cores") ? DB_INT(HW("cpu_cores")) : DB_NULL,
                HW("cpu_threads") ? DB_INT(HW("cpu_threads")) : DB_NULL,
                json_string_value(json_object_get(hw, "boot_order"))
                    ? DB_TEXT(json_string_value(json_object_get(hw, "boot_order")))
                    : DB_NULL,
                json_string_value(json_object_get(hw, "console_keymap"))
                    ? DB_TEXT(json_string_value(json_object_get(hw, "console_keymap")))
                    : DB_NULL,
                DB_INT(id)) < 0 ||
        db_exec_id("INSERT INTO jobs (kind, owner_id, vm_id, target_name) VALUES "
                   "('vm.clone', ?, ?, ?)", &t->job_id, DB_INT(r->user->id), DB_INT(id),
                   DB_TEXT(t->name)) < 0)
        return fail_db(r);
#undef HW
    return 0;
}

/* Restores backup b (ready) as a new VM of the caller named name, made
 * from the backup's disks and the hardware recorded with it (its added
 * disks and NICs too), so it works after its VM is gone: the rows in one
 * transaction with the caller's quota, as a create; the helper's
 * vm.clone job (no source VM) copies the disks, the chain's checksums
 * checked first. */
static int restore_as_new(struct req *r, json_t *b)
{
    long long bid = req_param(r, "bid")->num;
    const char *name = input_str(r, "name");
    if (!name)
        return req_fail(r, 400, "missing_field", "name", _("Give the new machine a name."));
    if (!json_is_true(json_object_get(b, "ready")))
        return req_fail(r, 409, "backup_not_ready", NULL, _("This backup is not ready."));
    struct db_rows *rows = db_query("SELECT hardware, (SELECT COUNT(*) FROM backup_disks WHERE "
                                    "backup_id = b.id), (SELECT COUNT(*) FROM templates t WHERE "
                                    "t.id = JSON_VALUE(b.hardware, '$.template_id')) FROM "
                                    "backups b WHERE id = ?", DB_INT(bid));
    if (!rows || rows->nrows != 1) {
        db_rows_free(rows);
        return fail_db(r);
    }
    json_t *hw = db_cell(rows, 0, 0) ? json_loads(db_cell(rows, 0, 0), 0, NULL) : NULL;
    long long disks = db_cell_int(rows, 0, 1, 0);
    bool template_kept = db_cell_int(rows, 0, 2, 0) > 0;
    db_rows_free(rows);
    /* A record made before it held the added disks (and NICs) describes
     * only the first. */
    if (!hw || (disks != 1 && !json_is_array(json_object_get(hw, "disks")))) {
        json_decref(hw);
        return req_fail(r, 422, "restore_unsupported", "target",
                        hw ? _("This backup was made before backups recorded their machine's "
                               "added disks; restore it onto its machine.")
                           : _("This backup was made before backups recorded their machine's "
                               "hardware; restore it onto its machine."));
    }
#define HW(key) json_integer_value(json_object_get(hw, key))
    struct vm_row row = {
        .owner_id = r->user->id, .name = name,
        .description = json_string_value(json_object_get(hw, "description")),
        .cpu_model = json_string_value(json_object_get(hw, "cpu_model")),
        .arch = json_string_value(json_object_get(hw, "arch")), .vcpus = HW("vcpus"),
        .memory_mb = HW("memory_mb"), .disk_gb = HW("disk_gb"),
        .template_id = template_kept ? HW("template_id") : 0, .full = true,
        .graphics = json_string_value(json_object_get(hw, "graphics")),
    };
    long long added_gb = 0;
    json_t *d;
    size_t i;
    json_array_foreach(json_object_get(hw, "disks"), i, d)
        added_gb += json_integer_value(json_object_get(d, "size_gb"));
    const struct quota_want want = { .vms = 1, .vcpus = row.vcpus, .memory_mb = row.memory_mb,
                                     .disk_gb = row.disk_gb + added_gb };
    struct restore_tx tx = { &row, &want, hw, name, bid, -1, -1 };
    int rc = req_transaction(r, restore_body, &tx);
    json_decref(hw);
    if (rc < 0)
        return -1;
    long long id = tx.id, job_id = tx.job_id;
    r->audit_target_id = id;
    r->audit_detail = json_pack("{s:I, s:s, s:s}", "backup_id", (json_int_t)bid, "target", "new",
                                "name", name);
    json_t *args = json_pack("{s:I, s:I, s:I, s:b, s:I}", "vm_id", (json_int_t)id, "source_id",
                             (json_int_t)0, "backup_id", (json_int_t)bid, "start",
                             json_is_true(json_object_get(r->input, "start")), "job_id",
                             (json_int_t)job_id);
    json_t *done = helper_call(r, "vm.clone", args);
    json_decref(args);
    if (!done) {
        db_exec("DELETE FROM jobs WHERE id = ? AND state = 'queued'", DB_INT(job_id));
        db_exec("DELETE FROM vms WHERE id = ? AND state = 'creating'", DB_INT(id));
        return -1;
    }
    json_decref(done);
    r->status = 202;
    r->location = g_strdup_printf("/vms/%lld", id);
    req_set_job(r, json_pack("{s:I, s:s, s:s, s:i}", "id", (json_int_t)job_id, "kind",
                             "vm.clone", "state", "queued", "progress", 0));
    req_set_object(r, "vm", json_pack("{s:I, s:s, s:s, s:I}", "id", (json_int_t)id, "name", name,
                                      "state", "creating", "backup_id", (json_int_t)bid));
    return 0;
}

/* POST /backups/{bid}/restore {target, name, start}: "same" (the default)
 * writes the backup over its VM, which must be stopped; "new" makes a new
 * VM of it (restore_as_new). */
static int backups_restore(struct req *r)
{
    json_t *b = backup_visible(r);
    if (!b)
        return -1;
    long long vm_id = json_integer_value(json_object_get(b, "vm_id"));
    const char *target = input_str(r, "target");
    if (target && !strcmp(target, "new")) {
        int rc = restore_as_new(r, b);
        json_decref(b);
        return rc;
    }
    json_decref(b);
    long long bid = req_param(r, "bid")->num;
    json_t *args = json_pack("{s:I}", "backup_id", (json_int_t)bid);
    r->audit_detail = json_pack("{s:I, s:s}", "backup_id", (json_int_t)bid, "target", "same");
    json_t *done = helper_call(r, "backup.restore", args);
    json_decref(args);
    return done ? answer_job(r, done, "backup.restore", vm_id) : -1;
}

static int backups_delete(struct req *r)
{
    json_t *b = backup_visible(r);
    if (!b)
        return -1;
    long long bid = req_param(r, "bid")->num;
    r->audit_target_id = json_integer_value(json_object_get(b, "vm_id"));
    r->audit_detail = json_pack("{s:I}", "backup_id", (json_int_t)bid);
    json_t *args = json_pack("{s:I}", "backup_id", (json_int_t)bid);
    json_t *done = helper_call(r, "backup.delete", args);
    json_decref(args);
    if (!done) {
        json_decref(b);
        return -1;
    }
    json_decref(done);
    json_object_set_new(b, "deleted", json_true());
    r->location = g_strdup_printf("/vms/%lld/backups", r->audit_target_id);
    req_set_object(r, "backup", b);
    return 0;
}

/* The VM's backup schedule, or the default (disabled) one. */
static json_t *policy_of(struct req *r, long long vm_id)
{
    struct db_rows *rows = db_query(
        "SELECT enabled, schedule, keep, full_every, DATE_FORMAT(last_slot, '%Y-%m-%dT%TZ'), "
        "last_error, keep_daily, keep_weekly, keep_monthly FROM backup_policies WHERE vm_id = ?",
        DB_INT(vm_id));
    if (!rows) {
        fail_db(r);
        return NULL;
    }
    json_t *policy = rows->nrows == 1
        ? json_pack("{s:I, s:b, s:s, s:I, s:I, s:s?, s:s}", "vm_id", (json_int_t)vm_id,
                    "enabled", db_cell_int(rows, 0, 0, 0) != 0, "schedule", db_cell(rows, 0, 1),
                    "keep", (json_int_t)db_cell_int(rows, 0, 2, 0), "full_every",
                    (json_int_t)db_cell_int(rows, 0, 3, 0), "last_run_slot", db_cell(rows, 0, 4),
                    "last_error", db_cell(rows, 0, 5))
        : json_pack("{s:I, s:b, s:s, s:i, s:i, s:n, s:s}", "vm_id", (json_int_t)vm_id,
                    "enabled", 0, "schedule", "", "keep", 0, "full_every", 7, "last_run_slot",
                    "last_error", "");
    if (policy) {
        static const char *const tiers[] = { "keep_daily", "keep_weekly", "keep_monthly" };
        for (int i = 0; i < 3; i++)
            json_object_set_new(policy, tiers[i],
                                json_integer(rows->nrows == 1 ? db_cell_int(rows, 0, 6 + i, 0)
                                                              : 0));
    }
    db_rows_free(rows);
    return policy;
}

static int policy_show(struct req *r)
{
    return schedule_policy_show(r, policy_of);
}

/* PUT: the whole schedule, run by vmm-scheduler (backups.schedule): at
 * each due minute (UTC) a backup, a full one every full_every and
 * incrementals between; after each, the schedule's backups that neither
 * keep (the newest N) nor keep_daily, keep_weekly, keep_monthly (the
 * newest of each of the last D days, W weeks, M months, as Proxmox's
 * prune) keeps go, and no backup a kept one builds on (lib/retention.h);
 * a user's backup never does. */
static int policy_set(struct req *r)
{
    long long vm_id = req_param(r, "id")->num;
    json_t *vm = list_path_vm(r);
    if (!vm)
        return -1;
    json_decref(vm);
    const char *schedule = input_str(r, "schedule");
    bool enabled;
    if (schedule_input(r, &enabled) < 0)
        return -1;
    r->audit_target_id = vm_id;
    r->audit_detail = json_deep_copy(r->input);
    if (db_exec("INSERT INTO backup_policies (vm_id, enabled, schedule, keep, full_every, "
                "keep_daily, keep_weekly, keep_monthly) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                "ON DUPLICATE KEY UPDATE "
                "set_at = IF(schedule <> VALUES(schedule) OR enabled <> VALUES(enabled), "
                "UTC_TIMESTAMP(), set_at), enabled = VALUES(enabled), "
                "schedule = VALUES(schedule), keep = VALUES(keep), full_every = VALUES(full_every), "
                "keep_daily = VALUES(keep_daily), keep_weekly = VALUES(keep_weekly), "
                "keep_monthly = VALUES(keep_monthly)",
                DB_INT(vm_id), DB_INT(enabled), DB_TEXT(schedule), DB_INT(input_int(r, "keep", 1)),
                DB_INT(input_int(r, "full_every", 7)), DB_INT(input_int(r, "keep_daily", 0)),
                DB_INT(input_int(r, "keep_weekly", 0)),
                DB_INT(input_int(r, "keep_monthly", 0))) < 0)
        return fail_db(r);
    json_t *policy = policy_of(r, vm_id);
    if (!policy)
        return -1;
    r->location = g_strdup_printf("/vms/%lld/backups", vm_id);
    req_set_object(r, "policy", policy);
    return 0;
}

static const char *const modes[] = { "full", "incremental", NULL };
static const char *const targets[] = { "same", "new", NULL };
static const struct field create_fields[] = {
    { "mode", FIELD_ENUM, false, 0, 0, modes }, { NULL },
};
static const struct field restore_fields[] = {
    { "target", FIELD_ENUM, false, 0, 0, targets }, { "name", FIELD_STRING, false, 1, 64 },
    { "start", FIELD_BOOL }, { NULL },
};
static const struct field no_fields[] = { { NULL } };
static const struct field policy_fields[] = {
    { "enabled", FIELD_BOOL },
    { "schedule", FIELD_STRING, true, 9, 100 },
    { "keep", FIELD_INT, true, 1, 1000 },
    { "full_every", FIELD_INT, false, 1, 1000 },
    { "keep_daily", FIELD_INT, false, 0, 1000 },
    { "keep_weekly", FIELD_INT, false, 0, 1000 },
    { "keep_monthly", FIELD_INT, false, 0, 1000 },
    { NULL },
};

static const struct route routes[] = {
    { "GET", "/backups", backups_all, PERM_USER, ROUTE_BOTH, "backups.tpl", N_("Backups"),
      .summary = "Every backup the caller may see (admins: all), newest first", .reply = REPLY_ITEMS },
    { "GET", "/backups/{bid:int}", backup_show, PERM_USER, ROUTE_API,
      .summary = "One backup", .reply = REPLY_OBJECT, .statuses = STATUSES(404) },
    { "POST", "/backups/{bid:int}/restore", backups_restore, PERM_USER, ROUTE_BOTH, NULL, NULL,
      restore_fields, "backup.restore",
      .summary = "Restore a backup onto its stopped VM, or as a new VM (checksums checked first)",
      .reply = REPLY_JOB,
      .statuses = STATUSES(404, 409, 422, 502) },
    { "DELETE", "/backups/{bid:int}", backups_delete, PERM_USER, ROUTE_API, NULL, NULL, no_fields,
      "backup.delete", .summary = "Delete a backup no incremental builds on", .reply = REPLY_JOB,
      .statuses = STATUSES(404, 409, 502) },
    { "POST", "/backups/{bid:int}/delete", backups_delete, PERM_USER, ROUTE_PAGE, NULL, NULL,
      no_fields, "backup.delete" },
    { "GET", "/vms/{id:int}/backups", backups_of_vm, PERM_USER, ROUTE_BOTH, "vm-backups.tpl",
      N_("Backups"), .summary = "A VM's backups, newest first", .reply = REPLY_ITEMS,
      .statuses = STATUSES(404) },
    { "POST", "/vms/{id:int}/backups", backups_create, PERM_USER, ROUTE_BOTH, NULL, NULL,
      create_fields, "backup.create",
      .summary = "Back up a VM now (full, or incremental on the last one)", .reply = REPLY_JOB,
      .statuses = STATUSES(404, 409, 422, 502) },
    { "GET", "/vms/{id:int}/backup-policy", policy_show, PERM_USER, ROUTE_API,
      .summary = "A VM's backup schedule", .reply = REPLY_OBJECT, .statuses = STATUSES(404) },
    { "PUT", "/vms/{id:int}/backup-policy", policy_set, PERM_USER, ROUTE_API, NULL, NULL,
      policy_fields, "backup.policy", .summary = "Set a VM's backup schedule and retention",
      .reply = REPLY_OBJECT, .statuses = STATUSES(404, 422) },
    { "POST", "/vms/{id:int}/backup-policy", policy_set, PERM_USER, ROUTE_PAGE, NULL, NULL,
      policy_fields, "backup.policy" },
    { NULL },
};

int main(int argc, char **argv)
{
    (void)argc;
    return app_run(argv[0], routes);
}
