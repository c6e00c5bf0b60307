#include "alert_action.h"

#include <stdint.h>
#include <string.h>

#include "db.h"
#include "log.h"
#include "rbac.h"
#include "vm.h"

const struct field alert_action_args[] = {
    { "alert_id", FIELD_INT, true, 1, INT64_MAX }, { NULL },
};

int alert_op_action(struct op_call *call)
{
    long long alert_id = json_integer_value(json_object_get(call->args, "alert_id"));
    struct db_rows *rows = db_query(
        "SELECT a.vm_id, r.action, r.owner_id, v.owner_id FROM alerts a "
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
    db_rows_free(rows);
    if (!owner || !owner->enabled || !rbac_may_touch(owner, vm_owner)) {
        user_free(owner);
        return err_set(&call->err, 403, "forbidden", NULL,
                       "The rule's owner may not act on this virtual machine.");
    }
    /* Once per alert: the claim is the message written before acting. */
    unsigned long long claimed = 0;
    if (db_exec_count("UPDATE alerts SET message = ? WHERE id = ? AND message = ''", &claimed,
                      DB_TEXT(restart ? "action: restart" : "action: suspend"),
                      DB_INT(alert_id)) < 0 || claimed != 1) {
        user_free(owner);
        return err_set(&call->err, 409, "already_done", NULL, "This alert's action has run already.");
    }
    struct op_call sub = { .args = json_pack("{s:I, s:s}", "vm_id", (json_int_t)vm_id, "mode",
                                             "force"),
                           .actor = owner };
    if (!restart)
        json_object_del(sub.args, "mode");
    log_info("alert %lld: %s VM %lld as user %lld", alert_id, restart ? "restarting" : "suspending",
             vm_id, owner->id);
    int rc = restart ? vm_op_reboot(&sub) : vm_op_suspend(&sub);
    call->result = sub.result;
    call->err = sub.err;
    json_decref(sub.args);
    user_free(owner);
    return rc;
}
