/* vmm-snapshots: snapshots of a VM (/vms/{id}/snapshots). Whoever may see
 * the VM may snapshot it; anyone else's VM is a 404. The helper makes,
 * reverts and deletes them (and checks the owner's disk quota as it makes
 * the row); this program validates, lists rows joined with libvirt's tree,
 * and pins. Long work (anything with memory) answers 202 with meta.job. */
#include <stdint.h>
#include <string.h>

#include "app.h"
#include "db.h"
#include "helper_client.h"
#include "i18n.h"
#include "list.h"
#include "schedule_input.h"

#define SNAP_COLUMNS                                                                     \
    "id, name, description, status, with_memory, vm_state, origin, pinned, size_bytes, " \
    "DATE_FORMAT(created_at, '%Y-%m-%dT%TZ'), created_by"

static json_t *snap_from_row(const struct db_rows *rows, int i)
{
    return json_pack("{s:I, s:s, s:s, s:s, s:b, s:s, s:s, s:b, s:I, s:s, s:o, s:n, s:b, s:i}",
                     "id", (json_int_t)db_cell_int(rows, i, 0, 0), "name", db_cell(rows, i, 1),
                     "description", db_cell(rows, i, 2), "status", db_cell(rows, i, 3),
                     "include_memory", db_cell_int(rows, i, 4, 0) != 0,
                     "vm_state", db_cell(rows, i, 5), "origin", db_cell(rows, i, 6),
                     "pinned", db_cell_int(rows, i, 7, 0) != 0,
                     "size_bytes", (json_int_t)db_cell_int(rows, i, 8, 0),
                     "created_at", db_cell(rows, i, 9),
                     "created_by", db_cell(rows, i, 10) ? json_integer(db_cell_int(rows, i, 10, 0))
                                                       : json_null(),
                     "parent_id", "current", 0, "depth", 0);
}

/* The VM's snapshot sid, or a 404 (NULL). */
static json_t *snap_visible(struct req *r, long long vm_id, long long sid)
{
    return list_one(r, db_query("SELECT " SNAP_COLUMNS " FROM snapshots WHERE id = ? AND "
                                "vm_id = ?", DB_INT(sid), DB_INT(vm_id)),
                    snap_from_row, _("This machine has no such snapshot."));
}

/* Appends snap and then its children (depth-first, oldest first). */
static void tree_walk(json_t *out, json_t *all, json_t *snap, int depth)
{
    json_object_set_new(snap, "depth", json_integer(depth));
    json_array_append(out, snap);
    json_t *id = json_object_get(snap, "id");
    size_t i;
    json_t *child;
    json_array_foreach(all, i, child)
        if (json_equal(json_object_get(child, "parent_id"), id) && depth < 1000)
            tree_walk(out, all, child, depth + 1);
}

/* The VM's snapshots as a tree in pre-order: each with parent_id, depth
 * and whether it is libvirt's current one. Without libvirt's answer (the
 * domain is gone), the rows alone, each a root. */
static json_t *snap_tree(struct req *r, long long vm_id)
{
    struct db_rows *rows = db_query("SELECT " SNAP_COLUMNS " FROM snapshots WHERE vm_id = ? "
                                    "ORDER BY created_at, id", DB_INT(vm_id));
    if (!rows) {
        fail_db(r);
        return NULL;
    }
    json_t *all = json_array();
    for (int i = 0; i < rows->nrows; i++)
        json_array_append_new(all, snap_from_row(rows, i));
    db_rows_free(rows);

    json_t *args = json_pack("{s:I}", "vm_id", (json_int_t)vm_id);
    json_t *tree = helper_call(r, "snapshot.list", args);
    json_decref(args);
    memset(&r->err, 0, sizeof r->err);
    size_t i, j;
    json_t *snap, *node;
    json_array_foreach(all, i, snap) {
        json_array_foreach(json_object_get(tree, "snapshots"), j, node) {
            if (!json_equal(json_object_get(node, "id"), json_object_get(snap, "id")))
                continue;
            json_object_set(snap, "parent_id", json_object_get(node, "parent_id"));
            json_object_set(snap, "current", json_object_get(node, "current"));
        }
    }
    json_decref(tree);
    json_t *out = json_array();
    json_array_foreach(all, i, snap)
        if (json_is_null(json_object_get(snap, "parent_id")))
            tree_walk(out, all, snap, 0);
    json_decref(all);
    return out;
}

static json_t *policy_of(struct req *r, long long vm_id);

static int snapshots_list(struct req *r)
{
    json_t *vm = list_path_vm(r);
    json_t *tree = vm ? snap_tree(r, req_param(r, "id")->num) : NULL;
    if (!tree) {
        json_decref(vm);
        return -1;
    }
    r->data = tree;
    if (!r->api) {
        /* The page also shows the VM and offers the forms. */
        json_t *policy = policy_of(r, req_param(r, "id")->num);
        if (!policy) {
            json_decref(tree);
            json_decref(vm);
            return -1;
        }
        r->data = json_pack("{s:o, s:o, s:I, s:o}", "snapshots", tree, "vm", vm, "vm_id",
                            (json_int_t)req_param(r, "id")->num, "policy", policy);
        return 0;
    }
    json_decref(vm);
    return 0;
}

/* A 202 naming the job the helper started for snapshot sid, or the
 * finished snapshot (201 for a create, 200 otherwise). */
static int answer(struct req *r, long long vm_id, json_t *done, const char *kind, int status)
{
    long long sid = json_integer_value(json_object_get(done, "snapshot_id"));
    long long job_id = json_integer_value(json_object_get(done, "job_id"));
    json_decref(done);
    r->audit_target_id = vm_id;
    r->location = g_strdup_printf("/vms/%lld/snapshots", vm_id);
    json_t *snap = snap_visible(r, vm_id, sid);
    if (!snap && !job_id)
        return -1;
    memset(&r->err, 0, sizeof r->err);
    if (job_id) {
        r->status = 202;
        req_set_job(r, json_pack("{s:I, s:s, s:s, s:i}", "id", (json_int_t)job_id, "kind", kind,
                                 "state", "running", "progress", 0));
    } else {
        r->status = status;
    }
    req_set_object(r, "snapshot", snap ? snap : json_pack("{s:I}", "id", (json_int_t)sid));
    return 0;
}

static int snapshots_create(struct req *r)
{
    json_t *vm = list_path_vm(r);
    if (!vm)
        return -1;
    json_decref(vm);
    long long vm_id = req_param(r, "id")->num;
    json_t *args = json_pack("{s:I, s:s, s:s, s:b}", "vm_id", (json_int_t)vm_id, "name",
                             input_str(r, "name"), "description",
                             input_str(r, "description") ? input_str(r, "description") : "",
                             "include_memory",
                             json_is_true(json_object_get(r->input, "include_memory")));
    r->audit_detail = json_pack("{s:s, s:O}", "name", input_str(r, "name"), "include_memory",
                                json_object_get(args, "include_memory"));
    json_t *done = helper_call(r, "snapshot.create", args);
    json_decref(args);
    return done ? answer(r, vm_id, done, "snapshot.create", 201) : -1;
}

static int snapshots_revert(struct req *r)
{
    long long vm_id = req_param(r, "id")->num, sid = req_param(r, "sid")->num;
    json_t *vm = list_path_vm(r);
    json_t *snap = vm ? snap_visible(r, vm_id, sid) : NULL;
    json_decref(vm);
    if (!snap)
        return -1;
    json_decref(snap);
    json_t *args = json_pack("{s:I, s:I, s:b}", "vm_id", (json_int_t)vm_id, "snapshot_id",
                             (json_int_t)sid, "start",
                             json_is_true(json_object_get(r->input, "start")));
    r->audit_detail = json_pack("{s:I}", "snapshot_id", (json_int_t)sid);
    json_t *done = helper_call(r, "snapshot.revert", args);
    json_decref(args);
    return done ? answer(r, vm_id, done, "snapshot.revert", 200) : -1;
}

static int snapshots_delete(struct req *r)
{
    long long vm_id = req_param(r, "id")->num, sid = req_param(r, "sid")->num;
    json_t *vm = list_path_vm(r);
    json_t *snap = vm ? snap_visible(r, vm_id, sid) : NULL;
    json_decref(vm);
    if (!snap)
        return -1;
    if (json_is_true(json_object_get(snap, "pinned"))) {
        json_decref(snap);
        return req_fail(r, 409, "snapshot_pinned", NULL,
                        _("This snapshot is pinned; unpin it before deleting it."));
    }
    r->audit_target_id = vm_id;
    r->audit_detail = json_pack("{s:I, s:O}", "snapshot_id", (json_int_t)sid, "name",
                                json_object_get(snap, "name"));
    json_t *args = json_pack("{s:I, s:I}", "vm_id", (json_int_t)vm_id, "snapshot_id",
                             (json_int_t)sid);
    json_t *done = helper_call(r, "snapshot.delete", args);
    json_decref(args);
    if (!done) {
        json_decref(snap);
        return -1;
    }
    json_decref(done);
    json_object_set_new(snap, "deleted", json_true());
    r->location = g_strdup_printf("/vms/%lld/snapshots", vm_id);
    req_set_object(r, "snapshot", snap);
    return 0;
}

/* PATCH: the description, and the pin that keeps it from pruning and
 * merges. */
static int snapshots_update(struct req *r)
{
    long long vm_id = req_param(r, "id")->num, sid = req_param(r, "sid")->num;
    json_t *vm = list_path_vm(r);
    json_t *snap = vm ? snap_visible(r, vm_id, sid) : NULL;
    json_decref(vm);
    if (!snap)
        return -1;
    json_decref(snap);
    r->audit_target_id = vm_id;
    json_t *pinned = json_object_get(r->input, "pinned");
    const char *description = input_str(r, "description");
    if ((pinned && db_exec("UPDATE snapshots SET pinned = ? WHERE id = ?",
                           DB_INT(json_is_true(pinned)), DB_INT(sid)) < 0) ||
        (description && db_exec("UPDATE snapshots SET description = ? WHERE id = ?",
                                DB_TEXT(description), DB_INT(sid)) < 0))
        return fail_db(r);
    snap = snap_visible(r, vm_id, sid);
    if (!snap)
        return -1;
    r->location = g_strdup_printf("/vms/%lld/snapshots", vm_id);
    req_set_object(r, "snapshot", snap);
    return 0;
}

/* POST .../merge {source, target}: the chain from source down to target
 * becomes target (see helper/ops/snapshot.h). */
static int snapshots_merge(struct req *r)
{
    long long vm_id = req_param(r, "id")->num;
    long long source = input_int(r, "source", 0), target = input_int(r, "target", 0);
    json_t *vm = list_path_vm(r);
    json_t *snap = vm ? snap_visible(r, vm_id, source) : NULL;
    json_decref(snap);
    snap = snap ? snap_visible(r, vm_id, target) : NULL;
    json_decref(vm);
    if (!snap)
        return -1;
    json_decref(snap);
    r->audit_target_id = vm_id;
    r->audit_detail = json_pack("{s:I, s:I}", "source", (json_int_t)source, "target",
                                (json_int_t)target);
    json_t *args = json_pack("{s:I, s:I, s:I}", "vm_id", (json_int_t)vm_id, "source",
                             (json_int_t)source, "target", (json_int_t)target);
    json_t *done = helper_call(r, "snapshot.merge", args);
    json_decref(args);
    if (!done)
        return -1;
    json_t *merged = json_incref(json_object_get(done, "merged"));
    json_decref(done);
    snap = snap_visible(r, vm_id, target);
    if (!snap) {
        json_decref(merged);
        return -1;
    }
    json_object_set_new(snap, "merged", merged ? merged : json_array());
    r->location = g_strdup_printf("/vms/%lld/snapshots", vm_id);
    req_set_object(r, "snapshot", snap);
    return 0;
}


/* The VM's snapshot schedule, or the default (disabled) one. */
static json_t *policy_of(struct req *r, long long vm_id)
{
    struct db_rows *rows = db_query(
        "SELECT enabled, schedule, keep, include_memory, naming, "
        "DATE_FORMAT(last_slot, '%Y-%m-%dT%TZ'), last_error FROM snapshot_policies "
        "WHERE vm_id = ?", DB_INT(vm_id));
    if (!rows) {
        fail_db(r);
        return NULL;
    }
    json_t *policy = rows->nrows == 1
        ? json_pack("{s:I, s:b, s:s, s:I, s:b, s:s, s:s?, s:s}", "vm_id", (json_int_t)vm_id,
                    "enabled", db_cell_int(rows, 0, 0, 0) != 0, "schedule", db_cell(rows, 0, 1),
                    "keep", (json_int_t)db_cell_int(rows, 0, 2, 0), "include_memory",
                    db_cell_int(rows, 0, 3, 0) != 0, "naming", db_cell(rows, 0, 4), "last_run_slot",
                    db_cell(rows, 0, 5), "last_error", db_cell(rows, 0, 6))
        : json_pack("{s:I, s:b, s:s, s:i, s:b, s:s, s:n, s:s}", "vm_id", (json_int_t)vm_id,
                    "enabled", 0, "schedule", "", "keep", 0, "include_memory", 0, "naming",
                    "auto-{timestamp}", "last_run_slot", "last_error", "");
    db_rows_free(rows);
    return policy;
}

static int policy_show(struct req *r)
{
    return schedule_policy_show(r, policy_of);
}

/* PUT: the whole schedule. It runs in vmm-scheduler (snapshots.schedule):
 * at each due minute (UTC) a snapshot named by naming ({timestamp} is the
 * slot, YYYYMMDD-HHMM), then the schedule's own snapshots beyond keep are
 * pruned, oldest first; pinned ones and ones made by hand never are. */
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
    const char *naming = input_str(r, "naming") ? input_str(r, "naming") : "auto-{timestamp}";
    if (!strstr(naming, "{timestamp}"))
        return req_fail(r, 400, "invalid_naming", "naming",
                        _("The naming pattern must hold {timestamp}, so each snapshot has its own name."));
    r->audit_target_id = vm_id;
    r->audit_detail = json_deep_copy(r->input);
    /* set_at moves when the schedule changes: slots before it are not due. */
    if (db_exec("INSERT INTO snapshot_policies (vm_id, enabled, schedule, keep, include_memory, "
                "naming) VALUES (?, ?, ?, ?, ?, ?) ON DUPLICATE KEY UPDATE "
                "set_at = IF(schedule <> VALUES(schedule) OR enabled <> VALUES(enabled), "
                "UTC_TIMESTAMP(), set_at), enabled = VALUES(enabled), "
                "schedule = VALUES(schedule), keep = VALUES(keep), "
                "include_memory = VALUES(include_memory), naming = VALUES(naming)",
                DB_INT(vm_id), DB_INT(enabled), DB_TEXT(schedule), DB_INT(input_int(r, "keep", 1)),
                DB_INT(json_is_true(json_object_get(r->input, "include_memory"))),
                DB_TEXT(naming)) < 0)
        return fail_db(r);
    json_t *policy = policy_of(r, vm_id);
    if (!policy)
        return -1;
    r->location = g_strdup_printf("/vms/%lld/snapshots", vm_id);
    req_set_object(r, "policy", policy);
    return 0;
}

static const struct field create_fields[] = {
    { "name", FIELD_STRING, true, 1, 64 },
    { "description", FIELD_STRING, false, 0, 255 },
    { "include_memory", FIELD_BOOL },
    { NULL },
};
static const struct field revert_fields[] = { { "start", FIELD_BOOL }, { NULL } };
static const struct field no_fields[] = { { NULL } };
static const struct field update_fields[] = {
    { "description", FIELD_STRING, false, 0, 255 },
    { "pinned", FIELD_BOOL },
    { NULL },
};
static const struct field merge_fields[] = {
    { "source", FIELD_INT, true, 1, INT64_MAX },
    { "target", FIELD_INT, true, 1, INT64_MAX },
    { NULL },
};

static const struct field policy_fields[] = {
    { "enabled", FIELD_BOOL },
    { "schedule", FIELD_STRING, true, 9, 100 },
    { "keep", FIELD_INT, true, 1, 1000 },
    { "include_memory", FIELD_BOOL },
    { "naming", FIELD_STRING, false, 11, 48 },
    { NULL },
};

static const struct route routes[] = {
    { "GET", "/vms/{id:int}/snapshots", snapshots_list, PERM_USER, ROUTE_BOTH, "snapshots.tpl",
      N_("Snapshots"),
      .summary = "A VM's snapshots", .reply = REPLY_ITEMS,
      .statuses = STATUSES(404, 502) },
    { "POST", "/vms/{id:int}/snapshots", snapshots_create, PERM_USER, ROUTE_BOTH, NULL, NULL,
      create_fields, "snapshot.create",
      .summary = "Take a snapshot", .reply = REPLY_JOB,
      .statuses = STATUSES(200, 404, 409, 422, 502) },
    { "POST", "/vms/{id:int}/snapshots/merge", snapshots_merge, PERM_USER, ROUTE_API, NULL, NULL,
      merge_fields, "snapshot.merge",
      .summary = "Merge one snapshot into another", .reply = REPLY_OBJECT,
      .statuses = STATUSES(404, 409, 422, 502) },
    { "POST", "/vms/{id:int}/snapshots/{sid:int}/revert", snapshots_revert, PERM_USER, ROUTE_BOTH,
      NULL, NULL, revert_fields, "snapshot.revert",
      .summary = "Revert the VM to a snapshot", .reply = REPLY_JOB,
      .statuses = STATUSES(200, 404, 409, 422, 502) },
    { "PATCH", "/vms/{id:int}/snapshots/{sid:int}", snapshots_update, PERM_USER, ROUTE_API, NULL,
      NULL, update_fields, "snapshot.update",
      .summary = "Change a snapshot (name, description, pinned)", .reply = REPLY_OBJECT,
      .statuses = STATUSES(404) },
    { "DELETE", "/vms/{id:int}/snapshots/{sid:int}", snapshots_delete, PERM_USER, ROUTE_API, NULL,
      NULL, no_fields, "snapshot.delete",
      .summary = "Delete a snapshot", .reply = REPLY_OBJECT,
      .statuses = STATUSES(404, 409, 422, 502) },
    { "POST", "/vms/{id:int}/snapshots/{sid:int}/delete", snapshots_delete, PERM_USER, ROUTE_PAGE,
      NULL, NULL, no_fields, "snapshot.delete" },
    { "GET", "/vms/{id:int}/snapshot-policy", policy_show, PERM_USER, ROUTE_API,
      .summary = "A VM's automatic snapshot policy", .reply = REPLY_OBJECT,
      .statuses = STATUSES(404) },
    { "PUT", "/vms/{id:int}/snapshot-policy", policy_set, PERM_USER, ROUTE_API, NULL, NULL,
      policy_fields, "snapshot.policy",
      .summary = "Set a VM's automatic snapshot policy", .reply = REPLY_OBJECT,
      .statuses = STATUSES(400, 404) },
    { "POST", "/vms/{id:int}/snapshot-policy", policy_set, PERM_USER, ROUTE_PAGE, NULL, NULL,
      policy_fields, "snapshot.policy" },
    { NULL },
};

int main(int argc, char **argv)
{
    (void)argc;
    return app_run(argv[0], routes);
}
