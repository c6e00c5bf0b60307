#include "reconcile.h"

#include <glib.h>
#include <libvirt/virterror.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "domain_xml.h"
#include "pool.h"
#include "virt.h"

/* Our metadata of dom: 1 ours (this installation), 0 another portal's, -1 none. */
static int domain_owner(virDomainPtr dom, long long *vm_id)
{
    char *meta = virDomainGetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT, VMM_XML_NS, 0);
    long long owner = 0;
    char *instance = NULL;
    int rc = -1;
    if (meta && domain_xml_owner(meta, vm_id, &owner, &instance) == 0)
        rc = instance && !strcmp(instance, instance_id()) ? 1 : 0;
    free(instance);
    free(meta);
    return rc;
}

json_t *reconcile_report(struct err *err)
{
    virConnectPtr conn = virt_conn(err);
    if (!conn)
        return NULL;
    struct db_rows *rows = db_query("SELECT id, name, domain_name FROM vms WHERE state <> 'creating'");
    virDomainPtr *doms = NULL;
    int n = rows ? virConnectListAllDomains(conn, &doms, 0) : -1;
    if (n < 0) {
        err_set(err, 503, rows ? "libvirt_unavailable" : "database_unavailable", NULL,
                "The report could not be made.");
        db_rows_free(rows);
        virConnectClose(conn);
        return NULL;
    }

    json_t *orphans = json_array(), *missing = json_array(), *unmanaged = json_array();
    GHashTable *seen = g_hash_table_new(g_str_hash, g_str_equal);
    for (int i = 0; i < n; i++) {
        const char *name = virDomainGetName(doms[i]);
        long long vm_id = 0;
        int mine = domain_owner(doms[i], &vm_id);
        bool has_row = false;
        for (int r = 0; r < rows->nrows; r++)
            if (!strcmp(db_cell(rows, r, 2), name))
                has_row = true;
        if (has_row)
            g_hash_table_add(seen, (gpointer)g_intern_string(name));
        else if (mine == 1)
            json_array_append_new(orphans, json_pack("{s:s, s:I}", "domain", name, "vm_id",
                                                     (json_int_t)vm_id));
        else if (mine < 0)
            json_array_append_new(unmanaged, json_pack("{s:s}", "domain", name));
        virDomainFree(doms[i]);
    }
    for (int r = 0; r < rows->nrows; r++)
        if (!g_hash_table_contains(seen, g_intern_string(db_cell(rows, r, 2))))
            json_array_append_new(missing, json_pack("{s:I, s:s, s:s}", "vm_id",
                                                     (json_int_t)db_cell_int(rows, r, 0, 0), "name",
                                                     db_cell(rows, r, 1), "domain", db_cell(rows, r, 2)));
    g_hash_table_destroy(seen);
    free(doms);
    db_rows_free(rows);
    virConnectClose(conn);
    return json_pack("{s:o, s:o, s:o}", "orphan_domains", orphans, "missing_domains", missing,
                     "unmanaged_domains", unmanaged);
}
