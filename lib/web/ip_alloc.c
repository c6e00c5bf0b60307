#include "ip_alloc.h"

#include <glib.h>
#include <stdint.h>
#include <stdlib.h>

#include "db.h"
#include "i18n.h"
#include "ipv4.h"

long long ip_pool_of_network(long long network_id)
{
    struct db_rows *rows = db_query("SELECT MIN(id) FROM ip_pools WHERE network_id = ?",
                                    DB_INT(network_id));
    if (!rows)
        return -1;
    long long id = db_cell_int(rows, 0, 0, 0);
    db_rows_free(rows);
    return id;
}

static int db_down(struct err *err)
{
    return err_set(err, 503, "database_unavailable", NULL,
                   _("The database is not available. Try again shortly."));
}

/* The numbers of rows' first column, as a set. */
static GHashTable *number_set(struct db_rows *rows)
{
    GHashTable *set = g_hash_table_new(g_direct_hash, g_direct_equal);
    for (int i = 0; i < rows->nrows; i++)
        g_hash_table_add(set, GUINT_TO_POINTER((guint)db_cell_int(rows, i, 0, 0)));
    return set;
}

int ip_allocate(long long pool_id, long long vm_id, long long nic_id, const char *asked,
                char *out, struct err *err)
{
    /* FOR UPDATE: allocations of one pool queue here, so two never pick
     * the same "next free" address (the UNIQUE key would refuse it anyway). */
    struct db_rows *pool = db_query("SELECT range_start_num, range_end_num, gateway FROM ip_pools "
                                    "WHERE id = ? FOR UPDATE", DB_INT(pool_id));
    if (!pool)
        return db_down(err);
    if (pool->nrows != 1) {
        db_rows_free(pool);
        return err_set(err, 404, "unknown_ip_pool", "ip_pool_id", _("There is no such IP pool."));
    }
    uint32_t first = (uint32_t)db_cell_int(pool, 0, 0, 0), last = (uint32_t)db_cell_int(pool, 0, 1, 0);
    uint32_t gateway = 0;
    ipv4_parse(db_cell(pool, 0, 2), &gateway);
    db_rows_free(pool);

    struct db_rows *taken = db_query("SELECT ip_num FROM ip_allocations WHERE pool_id = ? AND "
                                     "nic_id <> ?", DB_INT(pool_id), DB_INT(nic_id));
    struct db_rows *seen = taken ? db_query("SELECT ip_num FROM ip_conflicts WHERE pool_id = ?",
                                            DB_INT(pool_id)) : NULL;
    if (!seen) {
        db_rows_free(taken);
        return db_down(err);
    }
    GHashTable *used = number_set(taken), *conflicts = number_set(seen);
    db_rows_free(taken);
    db_rows_free(seen);
    int rc = 0;
    uint32_t ip = 0;
    if (asked) {
        if (ipv4_parse(asked, &ip) < 0 || ip < first || ip > last || ip == gateway)
            rc = err_set(err, 422, "ip_outside_pool", "ip",
                         _("%s is not an address this pool hands out."), asked);
        else if (g_hash_table_contains(used, GUINT_TO_POINTER(ip)))
            rc = err_set(err, 409, "ip_taken", "ip", _("%s is already allocated."), asked);
        else if (g_hash_table_contains(conflicts, GUINT_TO_POINTER(ip)))
            rc = err_set(err, 409, "ip_conflict", "ip",
                         _("%s is in use by a machine the registry does not know; see the "
                           "pool's conflicts."), asked);
    } else {
        bool found = false;
        for (uint64_t candidate = first; candidate <= last && !found; candidate++) {
            ip = (uint32_t)candidate;
            found = ip != gateway && !g_hash_table_contains(used, GUINT_TO_POINTER(ip)) &&
                    !g_hash_table_contains(conflicts, GUINT_TO_POINTER(ip));
        }
        if (!found)
            rc = err_set(err, 409, "pool_exhausted", "ip_pool_id",
                         _("The IP pool has no free address left."));
    }
    g_hash_table_unref(used);
    g_hash_table_unref(conflicts);
    if (rc < 0)
        return -1;
    ipv4_format(ip, out);
    /* A NIC holds one address of a pool: a new one replaces the old. */
    if (db_exec("DELETE FROM ip_allocations WHERE pool_id = ? AND nic_id = ?", DB_INT(pool_id),
                DB_INT(nic_id)) < 0 ||
        db_exec("INSERT INTO ip_allocations (pool_id, ip, ip_num, vm_id, nic_id) "
                "VALUES (?, ?, ?, ?, ?)", DB_INT(pool_id), DB_TEXT(out), DB_INT((long long)ip),
                DB_INT(vm_id), DB_INT(nic_id)) < 0) {
        if (db_errno() == 1062)
            return err_set(err, 409, "ip_taken", "ip", _("%s is already allocated."), out);
        return db_down(err);
    }
    return 0;
}
