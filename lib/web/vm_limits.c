#include "vm_limits.h"

#include <stddef.h>
#include <string.h>

#include "config.h"
#include "db.h"
#include "i18n.h"

/* Each limit: its name in the settings table and the API, its
 * configuration key, the guide's default, and where it lives. */
static const struct {
    const char *name, *key;
    long long fallback;
    size_t offset;
} limit_table[] = {
    { "vm_min_vcpus", "min_vcpus", 1, offsetof(struct vm_limits, min_vcpus) },
    { "vm_max_vcpus", "max_vcpus", 16, offsetof(struct vm_limits, max_vcpus) },
    { "vm_min_memory_mb", "min_memory_mb", 512, offsetof(struct vm_limits, min_memory_mb) },
    { "vm_max_memory_mb", "max_memory_mb", 32768, offsetof(struct vm_limits, max_memory_mb) },
    { "vm_min_disk_gb", "min_disk_gb", 10, offsetof(struct vm_limits, min_disk_gb) },
    { "vm_max_disk_gb", "max_disk_gb", 500, offsetof(struct vm_limits, max_disk_gb) },
};

static long long *slot(struct vm_limits *limits, size_t i)
{
    return (long long *)((char *)limits + limit_table[i].offset);
}

int vm_limits_get(struct vm_limits *out)
{
    for (size_t i = 0; i < G_N_ELEMENTS(limit_table); i++)
        *slot(out, i) = config_int("limits", limit_table[i].key, limit_table[i].fallback);
    struct db_rows *rows = db_query("SELECT name, value FROM settings WHERE name LIKE 'vm\\_%'");
    if (!rows)
        return -1;
    for (int r = 0; r < rows->nrows; r++)
        for (size_t i = 0; i < G_N_ELEMENTS(limit_table); i++)
            if (!strcmp(db_cell(rows, r, 0), limit_table[i].name))
                *slot(out, i) = g_ascii_strtoll(db_cell(rows, r, 1), NULL, 10);
    db_rows_free(rows);
    return 0;
}

int vm_limits_set(const struct vm_limits *limits)
{
    for (size_t i = 0; i < G_N_ELEMENTS(limit_table); i++) {
        char value[24];
        snprintf(value, sizeof value, "%lld", *slot((struct vm_limits *)limits, i));
        if (db_exec("INSERT INTO settings (name, value) VALUES (?, ?) ON DUPLICATE KEY UPDATE "
                    "value = VALUES(value), updated_at = UTC_TIMESTAMP()",
                    DB_TEXT(limit_table[i].name), DB_TEXT(value)) < 0)
            return -1;
    }
    return 0;
}

json_t *vm_limits_json(const struct vm_limits *limits)
{
    json_t *out = json_object();
    for (size_t i = 0; i < G_N_ELEMENTS(limit_table); i++)
        json_object_set_new(out, limit_table[i].name,
                            json_integer(*slot((struct vm_limits *)limits, i)));
    return out;
}

int vm_limits_merge(struct req *r, json_t *input, struct vm_limits *limits)
{
    for (size_t i = 0; i < G_N_ELEMENTS(limit_table); i++) {
        json_t *value = json_object_get(input, limit_table[i].name);
        if (json_is_integer(value))
            *slot(limits, i) = json_integer_value(value);
    }
    /* Pairs: a least above its most would let no VM be made. */
    for (size_t i = 0; i + 1 < G_N_ELEMENTS(limit_table); i += 2)
        if (*slot(limits, i) > *slot(limits, i + 1))
            return req_fail(r, 400, "out_of_range", limit_table[i].name,
                            _("%s (%lld) must not be above %s (%lld)."), limit_table[i].name,
                            *slot(limits, i), limit_table[i + 1].name, *slot(limits, i + 1));
    return 0;
}

static int outside(struct req *r, const char *field, const char *what, long long value,
                   long long min, long long max)
{
    (void)value;
    return req_fail(r, 400, "out_of_range", field,
                    /* TRANSLATORS: "vCPUs must be between 1 and 16 (the limits an
                       administrator set)." */
                    _("%s must be between %lld and %lld (the limits an administrator set)."),
                    what, min, max);
}

int vm_limits_enforce(struct req *r, long long vcpus, long long memory_mb, long long disk_gb)
{
    struct vm_limits l;
    if (vm_limits_get(&l) < 0)
        return req_fail(r, 503, "database_unavailable", NULL,
                        _("The database is not available. Try again shortly."));
    const struct vm_limits *limits = &l;
    if (vcpus >= 0 && (vcpus < limits->min_vcpus || vcpus > limits->max_vcpus))
        return outside(r, "vcpus", _("vCPUs"), vcpus, limits->min_vcpus, limits->max_vcpus);
    if (memory_mb >= 0 &&
        (memory_mb < limits->min_memory_mb || memory_mb > limits->max_memory_mb))
        return outside(r, "memory_mb", _("Memory (MiB)"), memory_mb, limits->min_memory_mb,
                       limits->max_memory_mb);
    if (disk_gb >= 0 && (disk_gb < limits->min_disk_gb || disk_gb > limits->max_disk_gb))
        return outside(r, "disk_gb", _("Disk (GiB)"), disk_gb, limits->min_disk_gb,
                       limits->max_disk_gb);
    return 0;
}
