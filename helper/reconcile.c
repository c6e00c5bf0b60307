#include "reconcile.h"

#include <glib.h>
#include <pthread.h>
#include <libvirt/virterror.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "domain_xml.h"
#include "pool.h"
#include "virt.h"
#include "vm.h"
#include "config.h"
#include "log.h"

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
    struct db_rows *rows = db_query("SELECT id, name, domain_name FROM vms WHERE state <> 'creating' "
                                    "AND host_id = ?", DB_INT(VIRT_LOCAL_HOST));   /* the others are their hosts' */
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
        if (g_str_has_prefix(name, "vmm-probe-")) {   /* an accelerator probe, transient */
            virDomainFree(doms[i]);
            continue;
        }
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

/* Live: a job that will still do something for its VM. */
#define NO_LIVE_JOB                                                                          \
    "NOT EXISTS (SELECT 1 FROM jobs j WHERE j.vm_id = v.id AND j.state IN ('queued', 'running'))"

static json_t *expire_queued_jobs(void)
{
    json_t *ids = json_array();
    long long expire_s = config_int("helper", "queued_job_expire_s", 120);
    struct db_rows *rows = db_query("SELECT id FROM jobs WHERE state = 'queued' AND created_at < "
                                    "UTC_TIMESTAMP() - INTERVAL ? SECOND", DB_INT(expire_s));
    for (int i = 0; rows && i < rows->nrows; i++) {
        unsigned long long n = 0;
        long long id = db_cell_int(rows, i, 0, 0);
        /* Still queued: job_launch only takes a queued job, so this wins or
         * the job is running and left alone. */
        db_exec_count("UPDATE jobs SET state = 'failed', error_code = 'job_expired', message = "
                      "'The helper never took this job up.', finished_at = UTC_TIMESTAMP() "
                      "WHERE id = ? AND state = 'queued'", &n, DB_INT(id));
        if (n)
            json_array_append_new(ids, json_integer(id));
    }
    db_rows_free(rows);
    return ids;
}

static void remove_disk(virStoragePoolPtr pool, const char *domain_name)
{
    char *name = g_strdup_printf("%s.qcow2", domain_name);
    virStoragePoolRefresh(pool, 0);
    virStorageVolPtr vol = virStorageVolLookupByName(pool, name);
    if (vol) {
        virStorageVolDelete(vol, 0);
        virStorageVolFree(vol);
    }
    g_free(name);
}

json_t *reconcile_resolve(struct err *err)
{
    json_t *expired = expire_queued_jobs();
    virConnectPtr conn = virt_conn(err);
    virStoragePoolPtr pool = conn ? pool_get(conn, "disks", err) : NULL;
    struct db_rows *rows = pool ? db_query("SELECT v.id, v.name, v.domain_name FROM vms v WHERE "
                                           "v.state = 'creating' AND " NO_LIVE_JOB)
                                : NULL;
    if (!rows) {
        if (pool && !err->status)
            err_set(err, 503, "database_unavailable", NULL, "The database is not available.");
        json_decref(expired);
        if (pool)
            virStoragePoolFree(pool);
        if (conn)
            virConnectClose(conn);
        return NULL;
    }
    json_t *adopted = json_array(), *removed = json_array();
    for (int i = 0; i < rows->nrows; i++) {
        long long id = db_cell_int(rows, i, 0, 0);
        const char *domain_name = db_cell(rows, i, 2);
        unsigned long long n = 0;
        virDomainPtr dom = virDomainLookupByName(conn, domain_name);
        if (dom) {
            /* The creation finished after all (a late helper): libvirt's state. */
            const char *state = vm_state_name(dom);
            db_exec_count("UPDATE vms v SET v.state = ?, v.updated_at = UTC_TIMESTAMP() WHERE "
                          "v.id = ? AND v.state = 'creating' AND " NO_LIVE_JOB,
                          &n, DB_TEXT(state), DB_INT(id));
            if (n)
                json_array_append_new(adopted, json_pack("{s:I, s:s}", "vm_id", (json_int_t)id,
                                                         "state", state));
            virDomainFree(dom);
            continue;
        }
        if (virGetLastErrorCode() != VIR_ERR_NO_DOMAIN)
            continue;   /* libvirt did not say: leave the row for the next time */
        db_exec_count("DELETE v FROM vms v WHERE v.id = ? AND v.state = 'creating' AND "
                      NO_LIVE_JOB, &n, DB_INT(id));
        if (!n)
            continue;
        remove_disk(pool, domain_name);
        /* The job keeps its own reason (a restart, an expiry) first. */
        db_exec("UPDATE jobs SET message = LEFT(TRIM(CONCAT(message, ' The creation did not "
                "finish; the half-made machine was removed.')), 255) WHERE vm_id = ? AND "
                "kind = 'vm.create' AND state <> 'succeeded'", DB_INT(id));
        log_warn("removed %s (VM %lld), left half-made by a creation that did not finish",
                 domain_name, id);
        json_array_append_new(removed, json_pack("{s:I, s:s, s:s}", "vm_id", (json_int_t)id,
                                                 "name", db_cell(rows, i, 1), "domain",
                                                 domain_name));
    }
    db_rows_free(rows);
    virStoragePoolFree(pool);
    virConnectClose(conn);
    return json_pack("{s:o, s:o, s:o}", "expired_jobs", expired, "adopted", adopted, "removed",
                     removed);
}

static void log_json(const char *what, json_t *value)
{
    char *text = json_dumps(value, JSON_COMPACT);
    log_info("%s: %s", what, text);
    free(text);
    json_decref(value);
}

static void *start_thread(void *unused)
{
    struct err err = { 0 };
    json_t *resolved = reconcile_resolve(&err);
    if (resolved)
        log_json("reconcile resolved", resolved);
    else
        log_warn("reconcile at start: %s", err.message);
    memset(&err, 0, sizeof err);
    json_t *report = reconcile_report(&err);
    if (report)
        log_json("reconcile", report);
    db_close();
    return NULL;
}

void reconcile_start(void)
{
    pthread_t thread;
    if (pthread_create(&thread, NULL, start_thread, NULL) == 0)
        pthread_detach(thread);
}
