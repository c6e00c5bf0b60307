/* metrics.store: drains the helper's spool (lib/metrics_store.h) into the
 * RRD files, oldest cycle first, so the root helper never runs librrd.
 * A cycle is removed once written; one the store refuses is kept for the
 * next run only if the store is not there at all, so a bad file never
 * blocks the spool. Samples of a VM no longer in the database are dropped
 * (it was deleted after the cycle was spooled: its file must not come
 * back). */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db.h"
#include "log.h"
#include "metrics_store.h"
#include "tasks.h"

static int spooled(const struct dirent *e)
{
    return e->d_name[0] != '.' && g_str_has_suffix(e->d_name, ".json");
}

/* The ids of the VMs there are, as a set of strings; NULL when the
 * database is down (then nothing is drained: nothing is lost either). */
static GHashTable *vm_ids(void)
{
    struct db_rows *rows = db_query("SELECT id FROM vms");
    if (!rows)
        return NULL;
    GHashTable *ids = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    for (int i = 0; i < rows->nrows; i++)
        g_hash_table_add(ids, g_strdup(db_cell(rows, i, 0)));
    db_rows_free(rows);
    return ids;
}

/* The pools' space, kept for the pool_free alerts. */
static void store_pools(json_t *pools, time_t t)
{
    const char *name;
    json_t *p;
    json_object_foreach(pools, name, p)
        db_exec("INSERT INTO storage_pool_space (pool, capacity_bytes, available_bytes, "
                "sampled_at) VALUES (?, ?, ?, FROM_UNIXTIME(?)) ON DUPLICATE KEY UPDATE "
                "capacity_bytes = VALUES(capacity_bytes), available_bytes = "
                "VALUES(available_bytes), sampled_at = VALUES(sampled_at)",
                DB_TEXT(name), DB_INT(json_integer_value(json_object_get(p, "capacity"))),
                DB_INT(json_integer_value(json_object_get(p, "available"))), DB_INT(t));
}

static void store_cycle(json_t *cycle, GHashTable *ids)
{
    time_t t = (time_t)json_integer_value(json_object_get(cycle, "t"));
    double values[METRICS_MAX_SERIES];
    json_t *host = json_object_get(cycle, "host");
    if (json_is_array(host)) {
        metrics_values_read(host, values, METRICS_HOST_SERIES);
        metrics_store_update("host", &metrics_host_kind, t, values);
    }
    store_pools(json_object_get(cycle, "pools"), t);
    const char *id;
    json_t *list;
    json_object_foreach(json_object_get(cycle, "vms"), id, list) {
        if (!g_hash_table_contains(ids, id))
            continue;
        char name[48];
        snprintf(name, sizeof name, "vm-%s", id);
        metrics_values_read(list, values, METRICS_VM_SERIES);
        metrics_store_update(name, &metrics_vm_kind, t, values);
    }
}

int metrics_store_drain(time_t now, char *error, size_t error_size)
{
    char dir[4096];
    metrics_spool_dir(dir, sizeof dir);
    struct dirent **entries = NULL;
    int n = scandir(dir, &entries, spooled, alphasort);
    if (n < 0) {
        snprintf(error, error_size, "cannot read the spool %s: %s", dir, strerror(errno));
        return -1;
    }
    GHashTable *ids = n ? vm_ids() : NULL;
    for (int i = 0; i < n; i++) {
        char path[4400];
        snprintf(path, sizeof path, "%s/%s", dir, entries[i]->d_name);
        if (ids) {
            json_error_t jerr;
            json_t *cycle = json_load_file(path, 0, &jerr);
            if (cycle)
                store_cycle(cycle, ids);
            else
                log_warn("metrics: dropping unreadable %s: %s", path, jerr.text);
            json_decref(cycle);
            if (unlink(path) < 0)
                log_warn("metrics: cannot remove %s: %s", path, strerror(errno));
        }
        free(entries[i]);
    }
    free(entries);
    if (n && !ids) {
        snprintf(error, error_size, "the database is down: the spool waits");
        return -1;
    }
    if (ids)
        g_hash_table_destroy(ids);
    return 0;
}
