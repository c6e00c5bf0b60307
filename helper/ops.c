#include "ops.h"

#include <stdint.h>
#include <string.h>

#include "host.h"
#include "import.h"
#include "ops/hardware.h"
#include "ops/alert_action.h"
#include "ops/migrate.h"
#include "ops/placement.h"
#include "ops/ova_export.h"
#include "ops/snapshot.h"
#include "ops/backup.h"
#include "reconcile.h"
#include "upload.h"
#include "vm.h"
#include "ops/ip_pool.h"
#include "ops/network.h"
#include "ops/port_forward.h"
#include "ops/storage.h"

static int op_ping(struct op_call *call)
{
    call->result = json_pack("{s:b}", "pong", 1);
    return 0;
}

static int op_reconcile(struct op_call *call)
{
    call->result = reconcile_report(&call->err);
    return call->result ? 0 : -1;
}

/* Resolves the rows left behind, then reports what still does not match. */
static int op_resolve(struct op_call *call)
{
    json_t *resolved = reconcile_resolve(&call->err);
    json_t *report = resolved ? reconcile_report(&call->err) : NULL;
    if (!report) {
        json_decref(resolved);
        return -1;
    }
    json_object_set_new(report, "resolved", resolved);
    call->result = report;
    return 0;
}

static int op_host_info(struct op_call *call)
{
    call->result = host_info(&call->err);
    return call->result ? 0 : -1;
}

static int op_host_cpu_models(struct op_call *call)
{
    const char *arch = json_string_value(json_object_get(call->args, "arch"));
    call->result = host_cpu_models(arch, &call->err);
    return call->result ? 0 : -1;
}

#define VM_ID { "vm_id", FIELD_INT, true, 1, INT64_MAX, NULL }

static const struct field upload_args[] = {
    { "upload_id", FIELD_INT, true, 1, INT64_MAX }, { NULL },
};
static const struct field ova_import_args[] = {
    { "ova_import_id", FIELD_INT, true, 1, INT64_MAX }, { NULL },
};
static const struct field iso_args[] = { { "iso_id", FIELD_INT, true, 1, INT64_MAX }, { NULL } };
static const struct field template_args[] = {
    { "template_id", FIELD_INT, true, 1, INT64_MAX }, { NULL },
};

static const char *const reboot_modes[] = { "graceful", "force", NULL };
static const char *const boot_devices[] = { "normal", "cdrom", NULL };

static const struct field no_args[] = { { NULL } };
static const struct field vm_args[] = { VM_ID, { NULL } };
/* ticket: a one-time password for a console opened now (issue 19: a VM on
 * another host; a local VM keeps its own password). */
static const struct field console_args[] = { VM_ID, { "ticket", FIELD_BOOL }, { NULL } };
static const struct field start_args[] = {
    VM_ID, { "boot", FIELD_ENUM, false, 0, 0, boot_devices }, { NULL },
};
static const struct field create_args[] = {
    VM_ID, { "start", FIELD_BOOL }, { "job_id", FIELD_INT, false, 1, INT64_MAX },
    { "ova_import_id", FIELD_INT, false, 1, INT64_MAX },   /* issue 19: its disk */
    { NULL },
};
static const struct field clone_args[] = {
    /* 0: a backup restored as a new VM, whose own VM may be gone */
    VM_ID, { "source_id", FIELD_INT, true, 0, INT64_MAX },
    { "snapshot_id", FIELD_INT, false, 1, INT64_MAX },
    { "backup_id", FIELD_INT, false, 1, INT64_MAX }, { "start", FIELD_BOOL },
    { "job_id", FIELD_INT, true, 1, INT64_MAX }, { NULL },
};
static const struct field stop_args[] = {
    VM_ID, { "force", FIELD_BOOL }, { "timeout", FIELD_INT, false, 0, 300 },
    { "wait_s", FIELD_INT, false, 0, 60 }, { NULL },
};
static const struct field reboot_args[] = {
    VM_ID, { "mode", FIELD_ENUM, false, 0, 0, reboot_modes }, { NULL },
};
static const struct field arch_args[] = {
    { .name = "arch", .type = FIELD_STRING, .required = true, .min = 1, .max = 16 }, { NULL },
};
static const struct field delete_args[] = { VM_ID, { "delete_disks", FIELD_BOOL }, { NULL } };

/* VM ops need an actor: the helper checks that they may touch the VM. */
static const struct op ops[] = {
    { "ping", op_ping, no_args, false, false },
    { "host.info", op_host_info, no_args, false, false },
    { .name = "host.cpu_models", .run = op_host_cpu_models, .args = arch_args },
    { "host.reconcile", op_reconcile, no_args, true, true },
    { "host.resolve", op_resolve, no_args, true, true },
    { "vm.create", vm_op_create, create_args, false, true },
    { .name = "vm.clone", .run = vm_op_clone, .args = clone_args, .needs_actor = true },
    { "vm.start", vm_op_start, start_args, false, true },
    { "vm.stop", vm_op_stop, stop_args, false, true },
    { "vm.reboot", vm_op_reboot, reboot_args, false, true },
    { "vm.pause", vm_op_pause, vm_args, false, true },
    { "vm.resume", vm_op_resume, vm_args, false, true },
    { "vm.suspend", vm_op_suspend, vm_args, false, true },
    { "vm.wakeup", vm_op_wakeup, vm_args, false, true },
    { "vm.delete", vm_op_delete, delete_args, false, true },
    { "vm.update", vm_op_update, vm_args, false, true },
    { "vm.console", vm_op_console, console_args, false, true },
    { .name = "vm.spice_ticket", .run = vm_op_spice_ticket, .args = vm_args, .needs_actor = true },
    { .name = "vm.vnc_password", .run = vm_op_vnc_password, .args = vm_args, .needs_actor = true },
    { "upload.create", upload_op_create, upload_args, false, true, true },
    { "upload.finish", upload_op_finish, upload_args, false, true, true },
    { "upload.delete", upload_op_delete, upload_args, false, true, true },
    { "iso.verify", iso_op_verify, iso_args, false, true },
    { "iso.delete", iso_op_delete, iso_args, false, true },
    { "template.delete", template_op_delete, template_args, false, true },
    { "ova_import.discard", ova_import_op_discard, ova_import_args, false, true },
    /* vmm-scheduler (issue 11): the action of a firing alert rule. */
    { "alert.action", alert_op_action, alert_action_args, .scheduler_only = true },
    { NULL },
};

/* The tables of helper/ops/, one per resource. */
static const struct op *const op_tables[] = { ops, hardware_ops, network_ops, ip_pool_ops, storage_ops, snapshot_ops, migrate_ops, placement_ops, ova_export_ops, backup_ops, port_forward_ops, NULL };

const struct op *op_find(const char *name)
{
    for (const struct op *const *table = op_tables; name && *table; table++)
        for (const struct op *op = *table; op->name; op++)
            if (!strcmp(op->name, name))
                return op;
    return NULL;
}

int op_request_parse(json_t *request, struct op_request *req, struct err *err)
{
    memset(req, 0, sizeof *req);
    req->name = json_string_value(json_object_get(request, "op"));
    req->op = op_find(req->name);
    if (!req->op)
        return err_set(err, 400, "unknown_op", "op", "Unknown operation.");
    json_t *args = json_object_get(request, "args");
    req->args = args ? json_incref(args) : json_object();
    return input_validate(req->args, req->op->args, err);
}
