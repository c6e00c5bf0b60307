/* What the snapshot and backup ops share: the VM row they act on, checked
 * against the actor (its domain: virt_domain). */
#include "vm_ref.h"

#include <glib.h>

#include "../virt.h"
#include "db.h"
#include "rbac.h"

int vm_ref_load(long long vm_id, const struct user *actor, struct vm_ref *vm, struct err *err)
{
    struct db_rows *rows = db_query("SELECT id, owner_id, memory_mb, domain_name, name, host_id "
                                    "FROM vms WHERE id = ?", DB_INT(vm_id));
    if (!rows)
        return err_set(err, 503, "database_unavailable", NULL, "The database is not available.");
    int rc = -1;
    if (rows->nrows == 1 && actor && rbac_may_touch(actor, db_cell_int(rows, 0, 1, 0))) {
        vm->id = db_cell_int(rows, 0, 0, 0);
        vm->owner_id = db_cell_int(rows, 0, 1, 0);
        vm->memory_mb = db_cell_int(rows, 0, 2, 0);
        g_strlcpy(vm->domain_name, db_cell(rows, 0, 3), sizeof vm->domain_name);
        g_strlcpy(vm->name, db_cell(rows, 0, 4), sizeof vm->name);
        vm->host_id = db_cell_int(rows, 0, 5, VIRT_LOCAL_HOST);
        rc = 0;
    } else {
        err_set(err, 404, "not_found", NULL, "There is no such virtual machine.");
    }
    db_rows_free(rows);
    return rc;
}

void vm_ref_release(virDomainPtr dom, virConnectPtr conn)
{
    if (dom)
        virDomainFree(dom);
    if (conn)
        virConnectClose(conn);
}


bool schedule_claim(const char *table, long long vm_id, long long slot)
{
    /* table is one of our constants, never input. */
    char *sql = g_strdup_printf("UPDATE %s SET last_slot = DATE_ADD('1970-01-01', INTERVAL ? "
                                "SECOND) WHERE vm_id = ? AND (last_slot IS NULL OR last_slot < "
                                "DATE_ADD('1970-01-01', INTERVAL ? SECOND))", table);
    unsigned long long claimed = 0;
    int rc = db_exec_count(sql, &claimed, DB_INT(slot), DB_INT(vm_id), DB_INT(slot));
    g_free(sql);
    return rc == 0 && claimed == 1;
}
