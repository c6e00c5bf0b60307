#define _GNU_SOURCE
#include "metrics.h"

#include <ctype.h>
#include <errno.h>
#include <glib.h>
#include <libvirt/virterror.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "db.h"
#include "log.h"
#include "pool.h"
#include "virt.h"

/* ------------------------------------------------------------- the VMs --- */

static long long param_ll(const virDomainStatsRecord *record, const char *name)
{
    unsigned long long v = 0;
    if (virTypedParamsGetULLong(record->params, record->nparams, name, &v) == 1)
        return (long long)v;
    return -1;
}

/* Sums "<prefix>.<i>.<field>" over the devices libvirt counted. */
static long long sum_devices(const virDomainStatsRecord *record, const char *count_name,
                             const char *prefix, const char *field)
{
    unsigned int count = 0;
    if (virTypedParamsGetUInt(record->params, record->nparams, count_name, &count) != 1)
        return -1;
    long long sum = 0;
    for (unsigned int i = 0; i < count; i++) {
        char name[VIR_TYPED_PARAM_FIELD_LENGTH];
        snprintf(name, sizeof name, "%s.%u.%s", prefix, i, field);
        long long v = param_ll(record, name);
        if (v > 0)
            sum += v;
    }
    return sum;
}

void metrics_read_record(const virDomainStatsRecord *record, struct vm_counters *out)
{
    out->cpu_time_ns = param_ll(record, "cpu.time");
    out->rd_bytes = sum_devices(record, "block.count", "block", "rd.bytes");
    out->wr_bytes = sum_devices(record, "block.count", "block", "wr.bytes");
    out->rx_bytes = sum_devices(record, "net.count", "net", "rx.bytes");
    out->tx_bytes = sum_devices(record, "net.count", "net", "tx.bytes");
    /* The guest's own view when its balloon driver reports it (used =
     * available - unused), else what QEMU holds (rss). KiB both. */
    long long available = param_ll(record, "balloon.available");
    long long unused = param_ll(record, "balloon.unused");
    long long rss = param_ll(record, "balloon.rss");
    if (available > 0 && unused >= 0 && unused <= available)
        out->memory_used_mb = (double)(available - unused) / 1024.0;
    else if (rss >= 0)
        out->memory_used_mb = (double)rss / 1024.0;
    else
        out->memory_used_mb = NAN;
}

static double rate(long long before, long long now, double dt)
{
    if (before < 0 || now < 0 || now < before || dt <= 0)
        return NAN;
    return (double)(now - before) / dt;
}

void metrics_vm_rates(const struct vm_counters *prev, const struct vm_counters *now, double dt,
                      int vcpus, double *values)
{
    double cpu = rate(prev->cpu_time_ns, now->cpu_time_ns, dt);
    /* Percent of the VM's own vCPUs: 100 is all of them busy. */
    values[0] = isnan(cpu) ? NAN : fmin(100.0, cpu / 1e9 * 100.0 / (vcpus > 0 ? vcpus : 1));
    values[1] = now->memory_used_mb;
    values[2] = rate(prev->rd_bytes, now->rd_bytes, dt);
    values[3] = rate(prev->wr_bytes, now->wr_bytes, dt);
    values[4] = rate(prev->rx_bytes, now->rx_bytes, dt);
    values[5] = rate(prev->tx_bytes, now->tx_bytes, dt);
}

/* What a VM looked like at the last cycle, by VM id. */
struct vm_seen {
    struct vm_counters counters;
    double at;          /* monotonic seconds */
    long long cycle;    /* the cycle that last saw it */
};

struct vm_row {
    long long id;
    int vcpus;
};

static double monotonic_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* domain name -> struct vm_row, from one query. NULL when the database is down. */
static GHashTable *vm_rows(long long host_id)
{
    struct db_rows *rows =
        db_query("SELECT id, domain_name, vcpus FROM vms WHERE domain_name IS NOT NULL AND "
                 "host_id = ?", DB_INT(host_id));
    if (!rows)
        return NULL;
    GHashTable *map = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    for (int i = 0; i < rows->nrows; i++) {
        struct vm_row *row = g_new(struct vm_row, 1);
        row->id = db_cell_int(rows, i, 0, 0);
        row->vcpus = (int)db_cell_int(rows, i, 2, 1);
        g_hash_table_insert(map, g_strdup(db_cell(rows, i, 1)), row);
    }
    db_rows_free(rows);
    return map;
}

/* Adds each running VM of one host to vms ({id: [values]}): its domains'
 * statistics from its own libvirt. */
static void sample_host_vms(long long host_id, GHashTable *seen, long long cycle, json_t *vms)
{
    struct err err = { 0 };
    virConnectPtr conn = virt_conn_host(host_id, &err);
    if (!conn)
        return;
    GHashTable *rows = vm_rows(host_id);
    virDomainStatsRecordPtr *records = NULL;
    int n = rows ? virConnectGetAllDomainStats(conn, METRICS_STATS_GROUPS, &records,
                                               METRICS_STATS_FLAGS)
                 : -1;
    if (n < 0 && rows)
        log_warn("metrics: domain stats: %s", virGetLastErrorMessage());
    double now = monotonic_s();
    for (int i = 0; i < n; i++) {
        struct vm_row *row = g_hash_table_lookup(rows, virDomainGetName(records[i]->dom));
        if (!row)
            continue;   /* not one of ours */
        struct vm_counters counters;
        metrics_read_record(records[i], &counters);
        struct vm_seen *prev = g_hash_table_lookup(seen, &row->id);
        double values[METRICS_VM_SERIES];
        if (prev && prev->cycle == cycle - 1) {
            metrics_vm_rates(&prev->counters, &counters, now - prev->at, row->vcpus, values);
        } else {
            /* First sight, or missed last cycle: no rate yet, but memory is known. */
            for (int k = 0; k < METRICS_VM_SERIES; k++)
                values[k] = NAN;
            values[1] = counters.memory_used_mb;
        }
        if (!prev) {
            prev = g_new0(struct vm_seen, 1);
            long long *key = g_new(long long, 1);
            *key = row->id;
            g_hash_table_insert(seen, key, prev);
        }
        prev->counters = counters;
        prev->at = now;
        prev->cycle = cycle;
        char id[24];
        snprintf(id, sizeof id, "%lld", row->id);
        json_object_set_new(vms, id, metrics_values_json(values, METRICS_VM_SERIES));
    }
    if (records)
        virDomainStatsRecordListFree(records);
    if (rows)
        g_hash_table_destroy(rows);
    virConnectClose(conn);
}

/* Every host the monitor last found up (and the helper's own): a host
 * that is down costs no connection attempt per cycle. */
static void sample_vms(GHashTable *seen, long long cycle, json_t *vms)
{
    struct db_rows *hosts = db_query("SELECT id FROM hosts WHERE id = ? OR state = 'up'",
                                     DB_INT(VIRT_LOCAL_HOST));
    for (int i = 0; hosts && i < hosts->nrows; i++)
        sample_host_vms(db_cell_int(hosts, i, 0, VIRT_LOCAL_HOST), seen, cycle, vms);
    db_rows_free(hosts);
    /* Forget VMs not running any more, so the table does not grow. */
    GHashTableIter it;
    gpointer key, value;
    g_hash_table_iter_init(&it, seen);
    while (g_hash_table_iter_next(&it, &key, &value))
        if (((struct vm_seen *)value)->cycle < cycle - 1)
            g_hash_table_iter_remove(&it);
}

static void pool_space(virStoragePoolPtr pool, json_t *pools)
{
    virStoragePoolInfo info;
    if (pool && virStoragePoolIsActive(pool) == 1 && virStoragePoolGetInfo(pool, &info) == 0 &&
        info.capacity > 0)
        json_object_set_new(pools, virStoragePoolGetName(pool),
                            json_pack("{s:I, s:I}", "capacity", (json_int_t)info.capacity,
                                      "available", (json_int_t)info.available));
    if (pool)
        virStoragePoolFree(pool);
}

/* This portal's pools' {capacity, available} bytes into pools, for the
 * pool_free alerts (the scheduler keeps them in storage_pool_space): its
 * disks pool and the pools admins made, not other portals' on the same
 * libvirtd. NFS pools are left out: a server that is down would hang the
 * cycle in statvfs (the storage pages ask them with a deadline). */
static void sample_pools(json_t *pools)
{
    struct err err = { 0 };
    virConnectPtr conn = virt_conn(&err);
    if (!conn)
        return;
    pool_space(pool_get(conn, "disks", &err), pools);
    struct db_rows *rows = db_query("SELECT name FROM storage_pools WHERE type <> 'netfs'");
    for (int i = 0; rows && i < rows->nrows; i++)
        pool_space(virStoragePoolLookupByName(conn, db_cell(rows, i, 0)), pools);
    db_rows_free(rows);
    virConnectClose(conn);
}

/* ------------------------------------------------------------ the host --- */

struct host_counters {
    long long cpu_busy, cpu_total;
    long long rd_bytes, wr_bytes, rx_bytes, tx_bytes;
    double memory_used_mb, memory_total_mb;
    double psi[3];
};

static void read_cpu(struct host_counters *h)
{
    FILE *f = fopen("/proc/stat", "r");
    long long v[8] = { 0 };
    h->cpu_busy = h->cpu_total = -1;
    if (!f)
        return;
    if (fscanf(f, "cpu %lld %lld %lld %lld %lld %lld %lld %lld", &v[0], &v[1], &v[2], &v[3],
               &v[4], &v[5], &v[6], &v[7]) == 8) {
        h->cpu_total = v[0] + v[1] + v[2] + v[3] + v[4] + v[5] + v[6] + v[7];
        h->cpu_busy = h->cpu_total - v[3] - v[4];   /* less idle and iowait */
    }
    fclose(f);
}

static void read_memory(struct host_counters *h)
{
    FILE *f = fopen("/proc/meminfo", "r");
    char line[256];
    long long total = -1, available = -1;
    while (f && fgets(line, sizeof line, f)) {
        sscanf(line, "MemTotal: %lld kB", &total);
        sscanf(line, "MemAvailable: %lld kB", &available);
    }
    if (f)
        fclose(f);
    h->memory_total_mb = total >= 0 ? (double)total / 1024.0 : NAN;
    h->memory_used_mb = total >= 0 && available >= 0 ? (double)(total - available) / 1024.0 : NAN;
}

/* Whole disks only (a partition or device-mapper volume would count twice). */
static bool whole_disk(const char *name)
{
    char path[300];
    if (!strncmp(name, "loop", 4) || !strncmp(name, "ram", 3) || !strncmp(name, "dm-", 3) ||
        !strncmp(name, "md", 2) || !strncmp(name, "sr", 2))
        return false;
    snprintf(path, sizeof path, "/sys/block/%s", name);
    return access(path, F_OK) == 0;
}

static void read_disks(struct host_counters *h)
{
    FILE *f = fopen("/proc/diskstats", "r");
    char line[512], name[128];
    long long rd = 0, wr = 0, sectors_rd, sectors_wr, skip;
    h->rd_bytes = h->wr_bytes = -1;
    if (!f)
        return;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, " %*u %*u %127s %lld %lld %lld %lld %lld %lld %lld", name, &skip, &skip,
                   &sectors_rd, &skip, &skip, &skip, &sectors_wr) == 8 &&
            whole_disk(name)) {
            rd += sectors_rd * 512;   /* diskstats sectors are always 512 bytes */
            wr += sectors_wr * 512;
        }
    fclose(f);
    h->rd_bytes = rd;
    h->wr_bytes = wr;
}

/* Traffic in and out of the host: guests' tap devices and bridges would count
 * their traffic again. */
static bool host_interface(const char *name)
{
    return strcmp(name, "lo") && strncmp(name, "vnet", 4) && strncmp(name, "virbr", 5) &&
           strncmp(name, "tap", 3) && strncmp(name, "vmm", 3);
}

static void read_network(struct host_counters *h)
{
    FILE *f = fopen("/proc/net/dev", "r");
    char line[512];
    long long rx = 0, tx = 0;
    h->rx_bytes = h->tx_bytes = -1;
    if (!f)
        return;
    while (fgets(line, sizeof line, f)) {
        char *colon = strchr(line, ':');
        if (!colon)
            continue;   /* the two header lines */
        *colon = '\0';
        char *name = line;
        while (isspace((unsigned char)*name))
            name++;
        long long r, t, skip;
        if (sscanf(colon + 1, "%lld %lld %lld %lld %lld %lld %lld %lld %lld", &r, &skip, &skip,
                   &skip, &skip, &skip, &skip, &skip, &t) == 9 &&
            host_interface(name)) {
            rx += r;
            tx += t;
        }
    }
    fclose(f);
    h->rx_bytes = rx;
    h->tx_bytes = tx;
}

/* "some avg10" of a pressure file: the share of the last 10 s some task
 * stalled, in percent. NAN when the kernel has no PSI. */
static double read_psi(const char *resource)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/pressure/%s", resource);
    FILE *f = fopen(path, "r");
    double v = NAN;
    if (f) {
        if (fscanf(f, "some avg10=%lf", &v) != 1)
            v = NAN;
        fclose(f);
    }
    return v;
}

static void read_host(struct host_counters *h)
{
    read_cpu(h);
    read_memory(h);
    read_disks(h);
    read_network(h);
    h->psi[0] = read_psi("cpu");
    h->psi[1] = read_psi("memory");
    h->psi[2] = read_psi("io");
}

/* The host's values, as a JSON list. */
static json_t *sample_host(struct host_counters *prev, bool have_prev, double dt)
{
    struct host_counters now;
    read_host(&now);
    double values[METRICS_HOST_SERIES];
    for (int i = 0; i < METRICS_HOST_SERIES; i++)
        values[i] = NAN;
    if (have_prev) {
        long long total = now.cpu_total - prev->cpu_total;
        if (prev->cpu_total >= 0 && total > 0)
            values[0] = 100.0 * (double)(now.cpu_busy - prev->cpu_busy) / (double)total;
        values[2] = rate(prev->rd_bytes, now.rd_bytes, dt);
        values[3] = rate(prev->wr_bytes, now.wr_bytes, dt);
        values[4] = rate(prev->rx_bytes, now.rx_bytes, dt);
        values[5] = rate(prev->tx_bytes, now.tx_bytes, dt);
    }
    values[1] = now.memory_used_mb;
    values[6] = now.memory_total_mb;
    values[7] = now.psi[0];
    values[8] = now.psi[1];
    values[9] = now.psi[2];
    *prev = now;
    return metrics_values_json(values, METRICS_HOST_SERIES);
}

/* ------------------------------------------------------------ the loop --- */

/* Sleeps until the next multiple of interval on the wall clock, so every
 * sample lands in its own step of the store; returns that time. */
static time_t sleep_until_next(int interval)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    struct timespec next = { .tv_sec = now.tv_sec - now.tv_sec % interval + interval };
    while (clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &next, NULL) == EINTR)
        ;
    return next.tv_sec;
}

static void *sampler(void *unused)
{
    int interval = metrics_interval_s();
    GHashTable *seen = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, g_free);
    struct host_counters host = { 0 };
    double host_at = 0;
    long long cycle = 0, last_host = -2;
    for (;;) {
        time_t t = sleep_until_next(interval);
        cycle++;
        double started = monotonic_s();
        json_t *vms = json_object();
        json_t *pools = json_object();
        json_t *spooled = json_pack("{s:o, s:o, s:o}", "host",
                                    sample_host(&host, last_host == cycle - 1, started - host_at),
                                    "vms", vms, "pools", pools);
        host_at = started;
        last_host = cycle;
        sample_vms(seen, cycle, vms);
        sample_pools(pools);
        metrics_spool_write(t, spooled);
        json_decref(spooled);
        double took = monotonic_s() - started;
        if (took > interval / 2.0)
            log_warn("metrics: a sampling cycle took %.1f s (interval %d s)", took, interval);
    }
    return NULL;
}

int metrics_start(void)
{
    if (!config_bool("metrics", "enabled", true))
        return 0;
    /* The spool is made (and owned) by the scheduler's user at install;
     * made here as a last resort, the scheduler could not empty it. */
    char dir[4096];
    metrics_spool_dir(dir, sizeof dir);
    if (g_mkdir_with_parents(dir, 0755) < 0) {
        log_error("metrics: cannot make %s: %s", dir, strerror(errno));
        return -1;
    }
    pthread_t thread;
    if (pthread_create(&thread, NULL, sampler, NULL) != 0)
        return -1;
    pthread_detach(thread);
    log_info("metrics: sampling every %d s", metrics_interval_s());
    return 0;
}
