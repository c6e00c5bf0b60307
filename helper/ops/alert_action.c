#include "alert_action.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "db.h"
#include "log.h"
#include "rbac.h"
#include "vm.h"

const struct field alert_action_args[] = {
    { "alert_id", FIELD_INT, true, 1, INT64_MAX }, { NULL },
};

/* The audit row of an action: the rule's owner acted, through the alert. */
static void audit_action(const struct user *owner, const char *action, long long vm_id,
                         long long alert_id, long long rule_id, const struct op_call *sub)
{
    bool ok = sub->err.status == 0;
    json_t *detail = json_pack("{s:s, s:I, s:I}", "by", "alert", "alert_id", (json_int_t)alert_id,
                               "rule_id", (json_int_t)rule_id);
    if (!ok)
        json_object_set_new(detail, "error", json_string(sub->err.code));
    char *text = json_dumps(detail, JSON_COMPACT);
    char request_id[48];
    snprintf(request_id, sizeof request_id, "sched-alert-%lld", alert_id);
    if (audit_insert(&(struct audit_row){
            .actor_id = owner->id, .actor_name = owner->username, .action = action,
            .target_type = "vm", .target_id = vm_id, .ok = ok, .status = ok ? 200 : sub->err.status,
            .detail = text, .user_agent = "vmm-scheduler", .request_id = request_id }) < 0)
        log_error("alert %lld: the audit row of %s was not written", alert_id, action);
    free(text);
    json_decref(detail);
}

int alert_op_action(struct op_call *call)
{
    long long alert_id = json_integer_value(json_object_get(call->args, "alert_id"));
    struct db_rows *rows = db_query(
        "SELECT a.vm_id, r.action, r.owner_id, v.owner_id, r.id, v.state FROM alerts a "
        "JOIN alert_rules r ON r.id = a.rule_id JOIN vms v ON v.id = a.vm_id "
        "WHERE a.id = ? AND a.state = 'firing' AND a.fired_at > UTC_TIMESTAMP() - INTERVAL 5 MINUTE "
        "AND r.action IN ('restart', 'suspend') AND r.enabled = 1 "
        "AND ((r.scope = 'vm' AND r.vm_id = a.vm_id) OR (r.scope = 'user' AND r.user_id = v.owner_id))",
        DB_INT(alert_id));
    if (!rows)
        return err_set(&call->err, 503, "database_unavailable", NULL, "The database is not available.");
    if (rows->nrows != 1) {
        db_rows_free(rows);
        return err_set(&call->err, 404, "not_found", "alert_id",
                       "There is no firing alert with an action of that id.");
    }
    long long vm_id = db_cell_int(rows, 0, 0, 0);
    bool restart = !strcmp(db_cell(rows, 0, 1), "restart");
    struct user *owner = user_by_id(db_cell_int(rows, 0, 2, 0));
    long long vm_owner = db_cell_int(rows, 0, 3, 0);
    long long rule_id = db_cell_int(rows, 0, 4, 0);
    /* A VM that crashed or stopped (an event alert) is off: "restart" is
     * to start it again (and if libvirt's state is newer than the row's,
     * the reboot below says so and it is started). */
    bool off = !strcmp(db_cell(rows, 0, 5), "stopped");
    db_rows_free(rows);
    if (!owner || !owner->enabled || !rbac_may_touch(owner, vm_owner)) {
        user_free(owner);
        return err_set(&call->err, 403, "forbidden", NULL,
                       "The rule's owner may not act on this virtual machine.");
    }
    const char *what = !restart ? "suspend" : off ? "start" : "restart";
    char note[32];
    snprintf(note, sizeof note, "action: %s", what);
    /* Once per alert: the claim is action_at, stamped before acting. An
     * event alert keeps what happened in its message, the action after it. */
    unsigned long long claimed = 0;
    if (db_exec_count("UPDATE alerts SET action_at = UTC_TIMESTAMP(), message = IF(kind = "
                      "'event', LEFT(CONCAT(message, '; ', ?), 255), ?) WHERE id = ? AND "
                      "action_at IS NULL", &claimed, DB_TEXT(note), DB_TEXT(note),
                      DB_INT(alert_id)) < 0 || claimed != 1) {
        user_free(owner);
        return err_set(&call->err, 409, "already_done", NULL, "This alert's action has run already.");
    }
    struct op_call sub = { .args = json_pack("{s:I}", "vm_id", (json_int_t)vm_id), .actor = owner };
    if (restart && !off)
        json_object_set_new(sub.args, "mode", json_string("force"));
    log_info("alert %lld: %s VM %lld as user %lld", alert_id, what, vm_id, owner->id);
    int rc = !restart ? vm_op_suspend(&sub) : off ? vm_op_start(&sub) : vm_op_reboot(&sub);
    if (rc < 0 && restart && !off && !strcmp(sub.err.code, "wrong_state")) {
        what = "start";
        sub.err = (struct err){ 0 };
        json_object_del(sub.args, "mode");
        rc = vm_op_start(&sub);
    }
    char action[16];
    snprintf(action, sizeof action, "vm.%s", what);
    audit_action(owner, action, vm_id, alert_id, rule_id, &sub);
    call->result = sub.result;
    call->err = sub.err;
    json_decref(sub.args);
    user_free(owner);
    return rc;
}
