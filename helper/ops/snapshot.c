#include "snapshot.h"

#include <glib.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "../domain_xml.h"
#include "vm_ref.h"
#include "../job.h"
#include "../virt.h"
#include "../vm.h"
#include "config.h"
#include "db.h"
#include "log.h"
#include "quota.h"
#include "rbac.h"

/* libvirt's name of snapshot id: ours, so a user's name is never a tag
 * inside QEMU's image. */
static void snap_libvirt_name(long long id, char *out, size_t size)
{
    snprintf(out, size, "vmm-s%lld", id);
}

/* Refuses (422) what internal snapshots cannot hold, before anything is
 * made: a writable disk that is not qcow2 (any snapshot), and UEFI
 * firmware, whose NVRAM is a raw pflash file (a snapshot with memory:
 * libvirt refuses savevm then). */
static int snap_supported(virDomainPtr dom, bool with_memory, struct err *err)
{
    char *xml = virDomainGetXMLDesc(dom, VIR_DOMAIN_XML_INACTIVE);
    if (!xml)
        return virt_error(err, "Reading the machine");
    int blocker = domain_xml_snapshot_blocker(xml);
    free(xml);
    if (blocker < 0)
        return err_set(err, 502, "libvirt_error", NULL, "The machine's definition is unreadable.");
    if (blocker == SNAPSHOT_RAW_DISK)
        return err_set(err, 422, "raw_disk", NULL,
                       "This machine has a disk that is not qcow2: it cannot hold snapshots.");
    if (blocker == SNAPSHOT_UEFI && with_memory)
        return err_set(err, 422, "uefi_memory", "include_memory",
                       "A UEFI machine's snapshot cannot hold its memory (its firmware variables "
                       "are a raw file); take a disk-only snapshot of it stopped.");
    return 0;
}

/* The space a new snapshot reserves: what the machine's disks hold now,
 * wherever they are (the portal's pool or a storage pool: libvirt's
 * definition names them; the snapshot keeps those clusters however the
 * disks change) plus the memory state. */
static long long snap_estimate(const struct vm_ref *vm, virDomainPtr dom, bool with_memory)
{
    char *xml = virDomainGetXMLDesc(dom, VIR_DOMAIN_XML_INACTIVE);
    struct domain_disk disks[DOMAIN_MAX_DISKS];
    int n = xml ? domain_xml_disks(xml, disks, DOMAIN_MAX_DISKS) : 0;
    free(xml);
    long long bytes = 0;
    for (int i = 0; i < n; i++) {
        struct stat info;
        if (stat(disks[i].file, &info) == 0)
            bytes += (long long)info.st_blocks * 512;
        g_free(disks[i].file);
    }
    return bytes + (with_memory ? vm->memory_mb << 20 : 0);
}

/* Checks the estimate against the owner's disk quota (VMs' disks, all
 * their snapshots and the owner's backups) and inserts the row, in one transaction with the
 * owner's quota lock held (quota_lock), as a VM create does. The row's id, or -1 with err. */
struct snap_insert_tx {
    const struct vm_ref *vm;
    const struct user *actor;
    json_t *args;
    bool with_memory;
    const char *vm_state;
    long long size;
    struct err *err;
    long long id;
};

static int snap_insert_body(void *ctx)
{
    struct snap_insert_tx *t = ctx;
    const struct vm_ref *vm = t->vm;
    json_t *args = t->args;
    struct err *err = t->err;
    bool with_memory = t->with_memory;
    long long size = t->size;
    const char *name = json_string_value(json_object_get(args, "name"));
    const char *description = json_string_value(json_object_get(args, "description"));
    const char *origin = json_string_value(json_object_get(args, "origin"));
    memset(err, 0, sizeof *err);
    int locked = quota_lock(vm->owner_id);
    struct db_rows *used = db_query(
        "SELECT (SELECT COALESCE(SUM(disk_gb), 0) FROM vms WHERE owner_id = ?) * 1073741824 + "
        "(SELECT COALESCE(SUM(s.size_bytes), 0) FROM snapshots s JOIN vms v ON v.id = s.vm_id "
        "WHERE v.owner_id = ?) + (SELECT COALESCE(SUM(size_bytes), 0) FROM backups WHERE "
        "owner_id = ? AND status <> 'failed'), (SELECT max_disk_gb FROM quotas WHERE user_id = ?), "
        "(SELECT COUNT(*) FROM snapshots WHERE vm_id = ? AND name = ?)",
        DB_INT(vm->owner_id), DB_INT(vm->owner_id), DB_INT(vm->owner_id), DB_INT(vm->owner_id),
        DB_INT(vm->id), DB_TEXT(name));
    long long id = -1;
    if (locked < 0 || !used) {
        err_set(err, 503, "database_unavailable", NULL, "The database is not available.");
    } else if (db_cell_int(used, 0, 2, 0) > 0) {
        err_set(err, 409, "name_taken", "name", "This machine already has a snapshot called %s.",
                name);
    } else if (db_cell_int(used, 0, 0, 0) + size >
               db_cell_int(used, 0, 1, config_int("quota", "max_disk_gb", 500)) * (1LL << 30)) {
        err_set(err, 409, "quota_exceeded", NULL,
                "This snapshot (%lld MiB) would pass the owner's disk quota.", size >> 20);
    } else if (db_exec_id("INSERT INTO snapshots (vm_id, name, description, with_memory, "
                          "vm_state, origin, size_bytes, created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                          &id, DB_INT(vm->id), DB_TEXT(name), DB_TEXT(description ? description : ""),
                          DB_INT(with_memory), DB_TEXT(t->vm_state),
                          DB_TEXT(origin ? origin : "user"), DB_INT(size), DB_INT(t->actor->id)) < 0) {
        err_set(err, 503, "database_unavailable", NULL, "The database is not available.");
        id = -1;
    }
    db_rows_free(used);
    t->id = id;
    return id < 0 ? -1 : 0;
}

static long long snap_insert(const struct vm_ref *vm, virDomainPtr dom, const struct user *actor,
                             json_t *args, bool with_memory, const char *vm_state,
                             struct err *err)
{
    struct snap_insert_tx tx = { vm, actor, args, with_memory, vm_state,
                                 snap_estimate(vm, dom, with_memory), err, -1 };
    if (db_transaction(snap_insert_body, &tx) < 0) {
        if (!err->status)
            err_set(err, 503, "database_unavailable", NULL, "The database is not available.");
        return -1;
    }
    return tx.id;
}

static char *snap_xml(long long id, const char *description, bool with_memory)
{
    char name[32];
    snap_libvirt_name(id, name, sizeof name);
    xmlDocPtr doc = xmlNewDoc(BAD_CAST "1.0");
    xmlNodePtr root = xmlNewNode(NULL, BAD_CAST "domainsnapshot");
    xmlDocSetRootElement(doc, root);
    xmlNewTextChild(root, NULL, BAD_CAST "name", BAD_CAST name);
    if (description && *description)
        xmlNewTextChild(root, NULL, BAD_CAST "description", BAD_CAST description);
    xmlNodePtr memory = xmlNewChild(root, NULL, BAD_CAST "memory", NULL);
    xmlNewProp(memory, BAD_CAST "snapshot", BAD_CAST(with_memory ? "internal" : "no"));
    return xml_doc_string(doc);
}

/* Takes snapshot id of dom in libvirt (atomic: all of it or nothing). */
static int snap_take(virDomainPtr dom, long long id, const char *description, bool with_memory,
                     struct err *err)
{
    char *xml = snap_xml(id, description, with_memory);
    virDomainSnapshotPtr snap = xml ? virDomainSnapshotCreateXML(
                                          dom, xml, VIR_DOMAIN_SNAPSHOT_CREATE_ATOMIC)
                                    : NULL;
    g_free(xml);
    if (!snap)
        return virt_error(err, "Taking the snapshot");
    virDomainSnapshotFree(snap);
    return 0;
}

static void snap_finish(long long id, int rc)
{
    if (rc == 0)
        db_exec("UPDATE snapshots SET status = 'ready' WHERE id = ?", DB_INT(id));
    else
        db_exec("DELETE FROM snapshots WHERE id = ?", DB_INT(id));
}

/* A snapshot with memory, in a job (QEMU's savevm writes all of the guest's
 * RAM; under TCG that takes seconds). The row goes if it fails. */
static int snap_create_job(struct job *job)
{
    struct err err = { 0 };
    struct user *actor = user_by_id(job->actor_id);
    struct vm_ref vm;
    virConnectPtr conn = NULL;
    virDomainPtr dom = NULL;
    int rc = vm_ref_load(job->vm_id, actor, &vm, &err);
    if (rc == 0)
        rc = (dom = virt_domain(vm.host_id, vm.domain_name, &conn, &err)) ? 0 : -1;
    struct db_rows *rows = db_query("SELECT description FROM snapshots WHERE id = ?",
                                    DB_INT(job->object_id));
    if (rc == 0 && (!rows || rows->nrows != 1))
        rc = err_set(&err, 409, "gone", NULL, "The snapshot's row is gone.");
    job_progress(job, 10);
    if (rc == 0)
        rc = snap_take(dom, job->object_id, db_cell(rows, 0, 0), true, &err);
    db_rows_free(rows);
    snap_finish(job->object_id, rc);
    if (rc == 0) {
        json_t *result = json_pack("{s:I, s:I}", "vm_id", (json_int_t)job->vm_id, "snapshot_id",
                                   (json_int_t)job->object_id);
        job_result(job, result);
        json_decref(result);
    } else {
        job_message(job, err.message);
    }
    vm_ref_release(dom, conn);
    user_free(actor);
    return rc;
}

/* Starts fn in a new job of kind about VM vm_id and object_id; its id,
 * or -1 with err. */
static long long snap_job(const char *kind, const struct user *actor, long long vm_id,
                          long long object_id, int (*fn)(struct job *), struct err *err)
{
    long long job_id = job_insert(kind, actor->id);
    if (job_id < 0 ||
        db_exec("UPDATE jobs SET vm_id = ? WHERE id = ?", DB_INT(vm_id), DB_INT(job_id)) < 0 ||
        job_launch((struct job){ .id = job_id, .vm_id = vm_id, .actor_id = actor->id,
                                 .object_id = object_id },
                   fn) < 0) {
        err_set(err, 503, "job_failed", NULL, "The job could not be started.");
        return -1;
    }
    return job_id;
}

/* A macro, so the format stays a literal the compiler checks. */
#define wrong_state(err, format, state) err_set(err, 409, "wrong_state", NULL, format, state)

/* snapshot.create {vm_id, name, description, include_memory, origin}:
 * a disk-only snapshot of a stopped VM at once ({snapshot_id}); one with
 * memory of a running or paused VM in a job ({snapshot_id, job_id}). */
static int op_create(struct op_call *call)
{
    struct vm_ref vm;
    virConnectPtr conn = NULL;
    virDomainPtr dom = NULL;
    bool with_memory = json_is_true(json_object_get(call->args, "include_memory"));
    if (vm_ref_load(json_integer_value(json_object_get(call->args, "vm_id")), call->actor, &vm,
                     &call->err) < 0 ||
        !(dom = virt_domain(vm.host_id, vm.domain_name, &conn, &call->err)))
        return -1;
    int rc = -1;
    const char *state = vm_state_name(dom);
    bool on = !strcmp(state, "running") || !strcmp(state, "paused");
    if (with_memory && !on)
        wrong_state(&call->err, "A snapshot with memory needs a running machine; this one is %s.",
                    state);
    else if (!with_memory && strcmp(state, "stopped"))
        wrong_state(&call->err, "A disk-only snapshot needs a stopped machine (libvirt 9.0 "
                    "cannot take one of a running machine without its memory); this one is %s. "
                    "Stop it, or include the memory.", state);
    else if (!with_memory && virDomainListAllCheckpoints(dom, NULL, 0) > 0)
        /* libvirt 9.0: "cannot perform block operations while checkpoint exists". */
        err_set(&call->err, 409, "has_checkpoints", NULL,
                "This machine's backups keep checkpoints, and libvirt cannot take a disk-only "
                "snapshot of a stopped machine that has them; take one with its memory while it "
                "runs, or delete its backups.");
    else if (snap_supported(dom, with_memory, &call->err) == 0) {
        long long id = snap_insert(&vm, dom, call->actor, call->args, with_memory, state, &call->err);
        if (id < 0) {
            rc = -1;
        } else if (with_memory) {
            long long job_id = snap_job("snapshot.create", call->actor, vm.id, id, snap_create_job,
                                        &call->err);
            if (job_id < 0)
                snap_finish(id, -1);
            else
                call->result = json_pack("{s:I, s:I}", "snapshot_id", (json_int_t)id, "job_id",
                                         (json_int_t)job_id);
            rc = job_id < 0 ? -1 : 0;
        } else {
            rc = snap_take(dom, id, json_string_value(json_object_get(call->args, "description")),
                           false, &call->err);
            snap_finish(id, rc);
            if (rc == 0)
                call->result = json_pack("{s:I}", "snapshot_id", (json_int_t)id);
        }
    }
    vm_ref_release(dom, conn);
    return rc;
}

/* Our id of a libvirt snapshot name, or 0 for one we did not make. */
static long long snap_id_of(const char *name)
{
    if (!name || strncmp(name, "vmm-s", 5))
        return 0;
    char *end;
    long long id = g_ascii_strtoll(name + 5, &end, 10);
    return *end || id <= 0 ? 0 : id;
}

/* snapshot.list {vm_id}: {snapshots: [{id, parent_id, current}]} from
 * libvirt (the rows hold the rest); the parent is the nearest ancestor we
 * made, NULL for a root. Snapshots made behind our back are left out. */
static int op_list(struct op_call *call)
{
    struct vm_ref vm;
    virConnectPtr conn = NULL;
    virDomainPtr dom = NULL;
    if (vm_ref_load(json_integer_value(json_object_get(call->args, "vm_id")), call->actor, &vm,
                     &call->err) < 0 ||
        !(dom = virt_domain(vm.host_id, vm.domain_name, &conn, &call->err)))
        return -1;
    virDomainSnapshotPtr *snaps = NULL;
    int n = virDomainListAllSnapshots(dom, &snaps, 0);
    if (n < 0) {
        vm_ref_release(dom, conn);
        return virt_error(&call->err, "Listing the snapshots");
    }
    json_t *list = json_array();
    for (int i = 0; i < n; i++) {
        long long id = snap_id_of(virDomainSnapshotGetName(snaps[i]));
        long long parent_id = 0;
        virDomainSnapshotPtr up = virDomainSnapshotGetParent(snaps[i], 0);
        while (up && !(parent_id = snap_id_of(virDomainSnapshotGetName(up)))) {
            virDomainSnapshotPtr next = virDomainSnapshotGetParent(up, 0);
            virDomainSnapshotFree(up);
            up = next;
        }
        if (up)
            virDomainSnapshotFree(up);
        if (id)
            json_array_append_new(list, json_pack("{s:I, s:o, s:b}", "id", (json_int_t)id,
                                                  "parent_id", parent_id ? json_integer(parent_id)
                                                                         : json_null(),
                                                  "current",
                                                  virDomainSnapshotIsCurrent(snaps[i], 0) == 1));
        virDomainSnapshotFree(snaps[i]);
    }
    free(snaps);
    virResetLastError();   /* GetParent of a root "fails" */
    call->result = json_pack("{s:o}", "snapshots", list);
    vm_ref_release(dom, conn);
    return 0;
}

/* The libvirt snapshot of row snapshot_id of the VM, checked to be the
 * VM's and ready; NULL with a 404 (or 409 while it is being made). */
static virDomainSnapshotPtr snap_lookup(virDomainPtr dom, const struct vm_ref *vm,
                                        long long snapshot_id, bool *with_memory, struct err *err)
{
    struct db_rows *rows = db_query("SELECT status, with_memory FROM snapshots WHERE id = ? AND "
                                    "vm_id = ?", DB_INT(snapshot_id), DB_INT(vm->id));
    if (!rows || rows->nrows != 1) {
        db_rows_free(rows);
        err_set(err, 404, "not_found", NULL, "This machine has no such snapshot.");
        return NULL;
    }
    bool ready = !strcmp(db_cell(rows, 0, 0), "ready");
    if (with_memory)
        *with_memory = db_cell_int(rows, 0, 1, 0) != 0;
    db_rows_free(rows);
    if (!ready) {
        err_set(err, 409, "snapshot_busy", NULL, "This snapshot is still being taken.");
        return NULL;
    }
    char name[32];
    snap_libvirt_name(snapshot_id, name, sizeof name);
    virDomainSnapshotPtr snap = virDomainSnapshotLookupByName(dom, name, 0);
    if (!snap)
        err_set(err, 409, "snapshot_missing", NULL,
                "libvirt no longer has this snapshot; delete it here.");
    return snap;
}

/* Reverts dom to snap; a disk-only snapshot leaves it stopped, started
 * again when asked. */
static int snap_revert(virDomainPtr dom, virDomainSnapshotPtr snap, bool start, struct err *err)
{
    if (virDomainRevertToSnapshot(snap, 0) < 0)
        return virt_error(err, "Reverting to the snapshot");
    if (start && virDomainIsActive(dom) == 0 && virDomainCreate(dom) < 0)
        return virt_error(err, "Starting the machine");
    vm_state_sync(dom);
    return 0;
}

/* A revert to a snapshot with memory, in a job (QEMU's loadvm). */
static int snap_revert_job(struct job *job)
{
    struct err err = { 0 };
    struct user *actor = user_by_id(job->actor_id);
    struct vm_ref vm;
    virConnectPtr conn = NULL;
    virDomainPtr dom = NULL;
    virDomainSnapshotPtr snap = NULL;
    int rc = vm_ref_load(job->vm_id, actor, &vm, &err);
    if (rc == 0 && !(dom = virt_domain(vm.host_id, vm.domain_name, &conn, &err)))
        rc = -1;
    if (rc == 0 && !(snap = snap_lookup(dom, &vm, job->object_id, NULL, &err)))
        rc = -1;
    job_progress(job, 10);
    if (rc == 0)
        rc = snap_revert(dom, snap, false, &err);
    if (rc == 0) {
        json_t *result = json_pack("{s:I, s:I, s:s}", "vm_id", (json_int_t)job->vm_id,
                                   "snapshot_id", (json_int_t)job->object_id, "state",
                                   vm_state_name(dom));
        job_result(job, result);
        json_decref(result);
    } else {
        job_message(job, err.message);
    }
    if (snap)
        virDomainSnapshotFree(snap);
    vm_ref_release(dom, conn);
    user_free(actor);
    return rc;
}

/* snapshot.revert {vm_id, snapshot_id, start}: the VM comes back as it was
 * when the snapshot was taken (running or paused with memory, in a job;
 * stopped without, at once, and only from stopped: a disk-only revert
 * would pull the power of a running guest). */
static int op_revert(struct op_call *call)
{
    struct vm_ref vm;
    virConnectPtr conn = NULL;
    virDomainPtr dom = NULL;
    virDomainSnapshotPtr snap = NULL;
    long long sid = json_integer_value(json_object_get(call->args, "snapshot_id"));
    bool with_memory = false;
    if (vm_ref_load(json_integer_value(json_object_get(call->args, "vm_id")), call->actor, &vm,
                     &call->err) < 0 ||
        !(dom = virt_domain(vm.host_id, vm.domain_name, &conn, &call->err)))
        return -1;
    int rc = -1;
    const char *state = vm_state_name(dom);
    if (!(snap = snap_lookup(dom, &vm, sid, &with_memory, &call->err))) {
        rc = -1;
    } else if (!with_memory && strcmp(state, "stopped")) {
        wrong_state(&call->err, "Reverting to a disk-only snapshot needs a stopped machine; "
                    "this one is %s.", state);
    } else if (!strcmp(state, "suspended")) {
        wrong_state(&call->err, "This machine is %s; wake it up or stop it first.", state);
    } else if (with_memory) {
        long long job_id = snap_job("snapshot.revert", call->actor, vm.id, sid, snap_revert_job,
                                    &call->err);
        if (job_id >= 0) {
            call->result = json_pack("{s:I, s:I}", "snapshot_id", (json_int_t)sid, "job_id",
                                     (json_int_t)job_id);
            rc = 0;
        }
    } else if ((rc = snap_revert(dom, snap, json_is_true(json_object_get(call->args, "start")),
                                 &call->err)) == 0) {
        call->result = json_pack("{s:I, s:s}", "snapshot_id", (json_int_t)sid, "state",
                                 vm_state_name(dom));
    }
    if (snap)
        virDomainSnapshotFree(snap);
    vm_ref_release(dom, conn);
    return rc;
}

/* Deletes row sid's libvirt snapshot (its children are kept: libvirt
 * re-parents them) and the row. */
static int snap_delete_one(virDomainPtr dom, const struct vm_ref *vm, long long sid,
                           struct err *err)
{
    virDomainSnapshotPtr snap = snap_lookup(dom, vm, sid, NULL, err);
    if (!snap && strcmp(err->code, "snapshot_missing"))
        return -1;
    /* One libvirt no longer has: only its row is left to remove. */
    if (snap && virDomainSnapshotDelete(snap, 0) < 0) {
        virDomainSnapshotFree(snap);
        return virt_error(err, "Deleting the snapshot");
    }
    if (snap)
        virDomainSnapshotFree(snap);
    *err = (struct err){ 0 };
    db_exec("DELETE FROM snapshots WHERE id = ?", DB_INT(sid));
    return 0;
}

/* snapshot.delete {vm_id, snapshot_id}. */
static int op_delete(struct op_call *call)
{
    struct vm_ref vm;
    virConnectPtr conn = NULL;
    virDomainPtr dom = NULL;
    if (vm_ref_load(json_integer_value(json_object_get(call->args, "vm_id")), call->actor, &vm,
                     &call->err) < 0 ||
        !(dom = virt_domain(vm.host_id, vm.domain_name, &conn, &call->err)))
        return -1;
    long long sid = json_integer_value(json_object_get(call->args, "snapshot_id"));
    int rc = snap_delete_one(dom, &vm, sid, &call->err);
    if (rc == 0)
        call->result = json_pack("{s:I, s:b}", "snapshot_id", (json_int_t)sid, "deleted", 1);
    vm_ref_release(dom, conn);
    return rc;
}

/* The ids from target up to (not including) source's parent, target
 * first, when source is target or one of its ancestors; NULL otherwise. */
static GArray *snap_chain(virDomainPtr dom, long long source, long long target)
{
    char name[32];
    snap_libvirt_name(target, name, sizeof name);
    virDomainSnapshotPtr at = virDomainSnapshotLookupByName(dom, name, 0);
    GArray *chain = g_array_new(FALSE, FALSE, sizeof(long long));
    bool found = false;
    while (at && !found) {
        long long id = snap_id_of(virDomainSnapshotGetName(at));
        if (id)
            g_array_append_val(chain, id);
        found = id == source;
        virDomainSnapshotPtr up = found ? NULL : virDomainSnapshotGetParent(at, 0);
        virDomainSnapshotFree(at);
        at = up;
    }
    if (at)
        virDomainSnapshotFree(at);
    virResetLastError();
    if (!found) {
        g_array_free(chain, TRUE);
        return NULL;
    }
    return chain;
}

/* snapshot.merge {vm_id, source, target}: the chain from source down to
 * target becomes target alone. With internal snapshots that is deleting
 * source and every point between it and target (QEMU keeps what target
 * still holds); target and any other child stay. A pinned point in the
 * chain stops the merge before anything is deleted. */
static int op_merge(struct op_call *call)
{
    struct vm_ref vm;
    virConnectPtr conn = NULL;
    virDomainPtr dom = NULL;
    long long source = json_integer_value(json_object_get(call->args, "source"));
    long long target = json_integer_value(json_object_get(call->args, "target"));
    if (vm_ref_load(json_integer_value(json_object_get(call->args, "vm_id")), call->actor, &vm,
                     &call->err) < 0 ||
        !(dom = virt_domain(vm.host_id, vm.domain_name, &conn, &call->err)))
        return -1;
    int rc = -1;
    GArray *chain = NULL;
    struct db_rows *rows = db_query("SELECT COUNT(*) FROM snapshots WHERE vm_id = ? AND id IN "
                                    "(?, ?) AND status = 'ready'",
                                    DB_INT(vm.id), DB_INT(source), DB_INT(target));
    if (!rows || db_cell_int(rows, 0, 0, 0) != (source == target ? 1 : 2)) {
        err_set(&call->err, 404, "not_found", NULL, "This machine has no such snapshot.");
    } else if (source == target) {
        err_set(&call->err, 422, "not_a_chain", "source",
                "A merge needs two different snapshots, source an ancestor of target.");
    } else if (!(chain = snap_chain(dom, source, target))) {
        err_set(&call->err, 422, "not_a_chain", "source",
                "The source snapshot is not an ancestor of the target.");
    } else {
        rc = 0;
        for (guint i = 1; rc == 0 && i < chain->len; i++) {
            struct db_rows *pin = db_query("SELECT pinned FROM snapshots WHERE id = ?",
                                           DB_INT(g_array_index(chain, long long, i)));
            if (db_cell_int(pin, 0, 0, 0))
                rc = err_set(&call->err, 409, "snapshot_pinned", "source",
                             "A pinned snapshot is in the chain; unpin it first.");
            db_rows_free(pin);
        }
        json_t *deleted = json_array();
        for (guint i = 1; rc == 0 && i < chain->len; i++) {
            long long id = g_array_index(chain, long long, i);
            rc = snap_delete_one(dom, &vm, id, &call->err);
            if (rc == 0)
                json_array_append_new(deleted, json_integer(id));
        }
        if (rc == 0)
            call->result = json_pack("{s:I, s:o}", "snapshot_id", (json_int_t)target, "merged",
                                     deleted);
        else
            json_decref(deleted);
    }
    db_rows_free(rows);
    if (chain)
        g_array_free(chain, TRUE);
    vm_ref_release(dom, conn);
    return rc;
}

/* Deletes the schedule's own snapshots of the VM beyond keep, oldest
 * first; pinned ones and ones made by hand are never touched. */
static int snap_prune(virDomainPtr dom, const struct vm_ref *vm, long long keep, struct err *err)
{
    struct db_rows *rows = db_query("SELECT id FROM snapshots WHERE vm_id = ? AND origin = "
                                    "'schedule' AND pinned = 0 AND status = 'ready' "
                                    "ORDER BY created_at DESC, id DESC", DB_INT(vm->id));
    int rc = rows ? 0 : err_set(err, 503, "database_unavailable", NULL,
                                "The database is not available.");
    for (int i = (int)keep; rc == 0 && i < rows->nrows; i++)
        rc = snap_delete_one(dom, vm, db_cell_int(rows, i, 0, 0), err);
    db_rows_free(rows);
    return rc;
}

/* The name of a scheduled snapshot: naming with {timestamp} the slot. */
static char *snap_scheduled_name(const char *naming, time_t slot)
{
    struct tm tm;
    char stamp[32];
    gmtime_r(&slot, &tm);
    strftime(stamp, sizeof stamp, "%Y%m%d-%H%M", &tm);
    gchar **parts = g_strsplit(naming, "{timestamp}", -1);
    char *name = g_strjoinv(stamp, parts);
    g_strfreev(parts);
    return name;   /* naming is at most 48 characters: this at most 50 */
}

/* One run of the VM's schedule for slot, under the owner's rights and
 * quota: claimed first (a slot runs once, whoever asks twice), the
 * snapshot taken (and waited for), then the schedule's own pruned. A
 * running VM's snapshot holds its memory even when the policy says
 * disk-only: libvirt 9.0 has no internal disk-only snapshot of a running
 * machine. The outcome goes in the policy's last_error ("" when fine). */
static int snap_scheduled(long long vm_id, time_t slot, struct err *err, json_t **result)
{
    struct db_rows *rows = db_query("SELECT p.keep, p.include_memory, p.naming, v.owner_id FROM "
                                    "snapshot_policies p JOIN vms v ON v.id = p.vm_id WHERE "
                                    "p.vm_id = ? AND p.enabled = 1", DB_INT(vm_id));
    if (!rows || rows->nrows != 1) {
        db_rows_free(rows);
        return err_set(err, 404, "not_found", NULL, "This machine has no snapshot schedule.");
    }
    long long keep = db_cell_int(rows, 0, 0, 1);
    bool want_memory = db_cell_int(rows, 0, 1, 0) != 0;
    char *name = snap_scheduled_name(db_cell(rows, 0, 2), slot);
    struct user *actor = user_by_id(db_cell_int(rows, 0, 3, 0));
    db_rows_free(rows);
    unsigned long long claimed = schedule_claim("snapshot_policies", vm_id, slot) ? 1 : 0;
    struct vm_ref vm;
    virConnectPtr conn = NULL;
    virDomainPtr dom = NULL;
    int rc = 0;
    if (claimed != 1) {
        *result = json_pack("{s:b}", "skipped", 1);   /* this slot ran already */
        goto out;
    }
    rc = vm_ref_load(vm_id, actor, &vm, err);
    if (rc == 0 && !(dom = virt_domain(vm.host_id, vm.domain_name, &conn, err)))
        rc = -1;
    const char *state = dom ? vm_state_name(dom) : "";
    bool on = !strcmp(state, "running") || !strcmp(state, "paused");
    if (rc == 0 && !on && strcmp(state, "stopped"))
        rc = wrong_state(err, "A scheduled snapshot cannot be taken of a machine that is %s.",
                         state);
    bool with_memory = on;   /* see above; a stopped machine has no memory to keep */
    (void)want_memory;
    if (rc == 0)
        rc = snap_supported(dom, with_memory, err);
    long long id = -1;
    if (rc == 0) {
        json_t *args = json_pack("{s:s, s:s, s:s}", "name", name, "description",
                                 "scheduled", "origin", "schedule");
        id = snap_insert(&vm, dom, actor, args, with_memory, state, err);
        json_decref(args);
        rc = id < 0 ? -1 : 0;
    }
    if (rc == 0) {
        rc = snap_take(dom, id, "scheduled", with_memory, err);
        snap_finish(id, rc);
    }
    if (rc == 0)
        rc = snap_prune(dom, &vm, keep, err);
    if (rc == 0)
        *result = json_pack("{s:I, s:s}", "snapshot_id", (json_int_t)id, "name", name);
out:
    db_exec("UPDATE snapshot_policies SET last_error = LEFT(?, 255) WHERE vm_id = ?",
            DB_TEXT(rc == 0 ? "" : err->message), DB_INT(vm_id));
    vm_ref_release(dom, conn);
    user_free(actor);
    g_free(name);
    return rc;
}

/* snapshot.scheduled {vm_id, slot}: vmm-scheduler's one snapshot op. */
static int op_scheduled(struct op_call *call)
{
    return snap_scheduled(json_integer_value(json_object_get(call->args, "vm_id")),
                          (time_t)json_integer_value(json_object_get(call->args, "slot")),
                          &call->err, &call->result);
}

void snapshot_cleanup_interrupted(void)
{
    struct err err = { 0 };
    struct db_rows *rows = db_query("SELECT s.id, v.domain_name, v.host_id FROM snapshots s "
                                    "JOIN vms v ON v.id = s.vm_id WHERE s.status = 'creating'");
    for (int i = 0; rows && i < rows->nrows; i++) {
        long long id = db_cell_int(rows, i, 0, 0);
        /* Each on its VM's host; one that does not answer keeps its
         * half-made libvirt snapshot, the row goes all the same. */
        virConnectPtr conn = virt_conn_host(db_cell_int(rows, i, 2, VIRT_LOCAL_HOST), &err);
        virDomainPtr dom = conn ? virDomainLookupByName(conn, db_cell(rows, i, 1)) : NULL;
        char name[32];
        snap_libvirt_name(id, name, sizeof name);
        virDomainSnapshotPtr snap = dom ? virDomainSnapshotLookupByName(dom, name, 0) : NULL;
        if (snap) {
            virDomainSnapshotDelete(snap, 0);
            virDomainSnapshotFree(snap);
        }
        virResetLastError();
        if (dom)
            virDomainFree(dom);
        if (conn)
            virConnectClose(conn);
        db_exec("DELETE FROM snapshots WHERE id = ?", DB_INT(id));
        log_warn("removed snapshot %lld of %s, left half-made by an interrupted job", id,
                 db_cell(rows, i, 1));
    }
    db_rows_free(rows);
}

#define VM_ID { "vm_id", FIELD_INT, true, 1, INT64_MAX, NULL }
#define SNAPSHOT_ID { "snapshot_id", FIELD_INT, true, 1, INT64_MAX, NULL }

static const char *const origins[] = { "user", "schedule", NULL };
static const struct field create_args[] = {
    VM_ID,
    { "name", FIELD_STRING, true, 1, 64 },
    { "description", FIELD_STRING, false, 0, 255 },
    { "include_memory", FIELD_BOOL },
    { "origin", FIELD_ENUM, false, 0, 0, origins },
    { NULL },
};
static const struct field vm_args[] = { VM_ID, { NULL } };
static const struct field one_args[] = { VM_ID, SNAPSHOT_ID, { NULL } };
static const struct field revert_args[] = { VM_ID, SNAPSHOT_ID, { "start", FIELD_BOOL }, { NULL } };
static const struct field merge_args[] = {
    VM_ID,
    { "source", FIELD_INT, true, 1, INT64_MAX },
    { "target", FIELD_INT, true, 1, INT64_MAX },
    { NULL },
};

static const struct field scheduled_args[] = {
    VM_ID, { "slot", FIELD_INT, true, 1, INT64_MAX }, { NULL },
};

/* Each needs an actor: the helper checks that they may touch the VM; but
 * snapshot.scheduled, served on vmm-scheduler's socket alone, which acts
 * for the VM's owner after checking the VM's enabled policy itself. */
const struct op snapshot_ops[] = {
    { "snapshot.create", op_create, create_args, false, true },
    { "snapshot.list", op_list, vm_args, false, true },
    { "snapshot.revert", op_revert, revert_args, false, true },
    { "snapshot.delete", op_delete, one_args, false, true },
    { "snapshot.merge", op_merge, merge_args, false, true },
    { "snapshot.scheduled", op_scheduled, scheduled_args, false, false, .scheduler_only = true },
    { NULL },
};
