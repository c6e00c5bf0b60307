#include "quota.h"

#include <stdio.h>

#include "config.h"
#include "db.h"

static json_t *quota_limits(long long user_id)
{
    struct db_rows *rows = db_query("SELECT max_vms, max_vcpus, max_memory_mb, max_disk_gb, "
                                    "max_image_gb FROM quotas WHERE user_id = ?",
                                    DB_INT(user_id));
    if (!rows)
        return NULL;
    json_t *quota = json_pack(
        "{s:I, s:I, s:I, s:I, s:I, s:b}",
        "max_vms", (json_int_t)db_cell_int(rows, 0, 0, config_int("quota", "max_vms", 10)),
        "max_vcpus", (json_int_t)db_cell_int(rows, 0, 1, config_int("quota", "max_vcpus", 16)),
        "max_memory_mb",
        (json_int_t)db_cell_int(rows, 0, 2, config_int("quota", "max_memory_mb", 32768)),
        "max_disk_gb", (json_int_t)db_cell_int(rows, 0, 3, config_int("quota", "max_disk_gb", 500)),
        "max_image_gb",
        (json_int_t)db_cell_int(rows, 0, 4, config_int("quota", "max_image_gb", 100)),
        "custom", rows->nrows == 1);
    db_rows_free(rows);
    return quota;
}

/* VMs from the vms table, their disk_gb with the space their snapshots
 * reserve and their owner's backups take (or reserve while being made;
 * each rounded up to GiB); image storage from the files of the ISOs and
 * templates the user owns and the full length of their unfinished uploads
 * (public library images have no owner and count for no one). */
static json_t *quota_usage(long long user_id)
{
    struct db_rows *rows = db_query(
        "SELECT COUNT(*), IFNULL(SUM(vcpus), 0), IFNULL(SUM(memory_mb), 0), "
        "IFNULL(SUM(disk_gb), 0) + (SELECT IFNULL(SUM(d.size_gb), 0) FROM vm_disks d "
        "JOIN vms w ON w.id = d.vm_id WHERE w.owner_id = ?) + "
        "(SELECT CEIL(IFNULL(SUM(s.size_bytes), 0) / 1073741824) "
        "FROM snapshots s JOIN vms sv ON sv.id = s.vm_id WHERE sv.owner_id = ?) + "
        "(SELECT CEIL(IFNULL(SUM(size_bytes), 0) / 1073741824) FROM backups WHERE owner_id = ? "
        "AND status <> 'failed'), "
        "(SELECT IFNULL(SUM(size_bytes), 0) FROM isos WHERE owner_id = ?) + "
        "(SELECT IFNULL(SUM(size_bytes), 0) FROM templates WHERE owner_id = ?) + "
        "(SELECT IFNULL(SUM(length_bytes), 0) FROM uploads WHERE owner_id = ?), "
        "(SELECT CEIL(IFNULL(SUM(size_bytes), 0) / 1073741824) FROM backups WHERE owner_id = ? "
        "AND status <> 'failed') FROM vms WHERE owner_id = ?",
        DB_INT(user_id), DB_INT(user_id), DB_INT(user_id), DB_INT(user_id), DB_INT(user_id),
        DB_INT(user_id), DB_INT(user_id), DB_INT(user_id));
    if (!rows)
        return NULL;
    long long image_bytes = db_cell_int(rows, 0, 4, 0);
    json_t *usage = json_pack(
        "{s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "vms", (json_int_t)db_cell_int(rows, 0, 0, 0),
        "vcpus", (json_int_t)db_cell_int(rows, 0, 1, 0),
        "memory_mb", (json_int_t)db_cell_int(rows, 0, 2, 0),
        "disk_gb", (json_int_t)db_cell_int(rows, 0, 3, 0),
        "image_bytes", (json_int_t)image_bytes,
        "image_gb", (json_int_t)((image_bytes + (1LL << 30) - 1) >> 30),
        /* the part of disk_gb that backups take (issue 16) */
        "backup_gb", (json_int_t)db_cell_int(rows, 0, 5, 0));
    db_rows_free(rows);
    return usage;
}

json_t *quota_report(long long user_id)
{
    json_t *quota = quota_limits(user_id);
    json_t *usage = quota ? quota_usage(user_id) : NULL;
    if (!usage) {
        json_decref(quota);
        return NULL;
    }
    return json_pack("{s:o, s:o}", "quota", quota, "usage", usage);
}

long long quota_image_room(long long user_id)
{
    json_t *report = quota_report(user_id);
    if (!report)
        return -1;
    long long limit = json_integer_value(json_object_get(json_object_get(report, "quota"),
                                                         "max_image_gb"));
    long long used = json_integer_value(json_object_get(json_object_get(report, "usage"),
                                                        "image_bytes"));
    json_decref(report);
    return limit * (1LL << 30) > used ? limit * (1LL << 30) - used : 0;
}

json_t *quota_rows(json_t *report)
{
    static const char *const kinds[] = { "vms", "vcpus", "memory_mb", "disk_gb", "image_gb", NULL };
    json_t *rows = json_array();
    json_t *quota = json_object_get(report, "quota");
    json_t *usage = json_object_get(report, "usage");
    for (const char *const *kind = kinds; *kind; kind++) {
        char limit_key[32];
        snprintf(limit_key, sizeof limit_key, "max_%s", *kind);
        json_array_append_new(rows, json_pack("{s:s, s:O, s:O}", "kind", *kind, "used",
                                              json_object_get(usage, *kind), "limit",
                                              json_object_get(quota, limit_key)));
    }
    return rows;
}

int quota_lock(long long user_id)
{
    /* A write, not SELECT ... FOR UPDATE: it queues this user's changes on
     * one server and, on Galera, makes two nodes' checks conflict (see
     * sql/036_quota_serial.sql), so the retried body reads the other's use. */
    return db_exec("UPDATE users SET quota_serial = quota_serial + 1 WHERE id = ?",
                   DB_INT(user_id));
}

int quota_fits_locked(long long user_id, const struct quota_want *want, const char **kind,
                      long long *limit, long long *used)
{
    json_t *report = quota_lock(user_id) == 0 ? quota_report(user_id) : NULL;
    if (!report)
        return -1;
    json_t *quota = json_object_get(report, "quota");
    json_t *usage = json_object_get(report, "usage");
    static const char *const kinds[] = { "vms", "vcpus", "memory_mb", "disk_gb", NULL };
    const long long wants[] = { want->vms, want->vcpus, want->memory_mb, want->disk_gb };
    int rc = 0;
    for (int i = 0; kinds[i] && rc == 0; i++) {
        char key[32];
        snprintf(key, sizeof key, "max_%s", kinds[i]);
        long long max = json_integer_value(json_object_get(quota, key));
        long long now = json_integer_value(json_object_get(usage, kinds[i]));
        if (wants[i] > 0 && now + wants[i] > max) {
            *kind = kinds[i];
            *limit = max;
            *used = now;
            rc = 1;
        }
    }
    json_decref(report);
    return rc;
}
