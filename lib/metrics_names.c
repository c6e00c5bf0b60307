/* The parts of the metrics store that need no librrd: the series' names,
 * the interval, the file paths and the spool (lib/metrics_store.h). Kept
 * apart from metrics_store.c so that vmm-helper, which runs as root and
 * only collects samples, links none of librrd (and the libpng, cairo and
 * pango it pulls in): it spools each cycle and vmm-scheduler writes it. */
#include "metrics_store.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "log.h"

static const char *const vm_names[] = {
    "cpu_percent", "memory_used_mb", "disk_rd_bytes_per_s", "disk_wr_bytes_per_s",
    "net_rx_bytes_per_s", "net_tx_bytes_per_s",
};
static const char *const host_names[] = {
    "cpu_percent", "memory_used_mb", "disk_rd_bytes_per_s", "disk_wr_bytes_per_s",
    "net_rx_bytes_per_s", "net_tx_bytes_per_s", "memory_total_mb",
    "psi_cpu_some", "psi_memory_some", "psi_io_some",
};
const struct metrics_kind metrics_vm_kind = { vm_names, METRICS_VM_SERIES };
const struct metrics_kind metrics_host_kind = { host_names, METRICS_HOST_SERIES };

int metrics_interval_s(void)
{
    long long s = config_int("metrics", "interval_s", 10);
    /* The roll-ups are whole minutes of samples. */
    if (s < 1 || s > 60 || 60 % s)
        s = 10;
    return (int)s;
}

void metrics_path(char *buf, size_t size, const char *name)
{
    snprintf(buf, size, "%s/%s.rrd", config_str("metrics", "dir", "/var/lib/vmm/metrics"), name);
}

void metrics_store_remove(const char *name)
{
    char path[4096];
    metrics_path(path, sizeof path, name);
    if (unlink(path) < 0 && errno != ENOENT)
        log_warn("metrics: cannot remove %s: %s", path, strerror(errno));
}

void metrics_spool_dir(char *buf, size_t size)
{
    const char *dir = config_str("metrics", "spool_dir", "");
    if (*dir)
        snprintf(buf, size, "%s", dir);
    else
        snprintf(buf, size, "%s/spool", config_str("metrics", "dir", "/var/lib/vmm/metrics"));
}

json_t *metrics_values_json(const double *values, int n)
{
    json_t *list = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(list, isnan(values[i]) ? json_null() : json_real(values[i]));
    return list;
}

void metrics_values_read(json_t *list, double *values, int n)
{
    for (int i = 0; i < n; i++) {
        json_t *v = json_array_get(list, (size_t)i);
        values[i] = json_is_number(v) ? json_number_value(v) : NAN;
    }
}

int metrics_spool_write(time_t t, json_t *cycle)
{
    char dir[4096], tmp[4200], path[4200];
    metrics_spool_dir(dir, sizeof dir);
    /* Written aside and renamed: the scheduler never reads half a cycle
     * (it skips dot files). */
    snprintf(tmp, sizeof tmp, "%s/.%lld.json", dir, (long long)t);
    snprintf(path, sizeof path, "%s/%lld.json", dir, (long long)t);
    json_object_set_new(cycle, "t", json_integer((json_int_t)t));
    if (json_dump_file(cycle, tmp, JSON_COMPACT) < 0) {
        log_warn("metrics: cannot write %s: %s", tmp, strerror(errno));
        unlink(tmp);
        return -1;
    }
    chmod(tmp, 0644);
    if (rename(tmp, path) < 0) {
        log_warn("metrics: cannot spool %s: %s", path, strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}
