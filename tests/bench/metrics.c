/* tests/bench/metrics: the budgets of issue 11, on libvirt's test driver
 * (in-process, so its own work counts against us: an upper bound).
 *
 * 1. Sampling cost per cycle for 1000 running domains: CPU time of one
 *    virConnectGetAllDomainStats call (the helper's groups and NOWAIT)
 *    plus reading each record and computing its rates (helper/ops/metrics.c),
 *    budget 50 ms; then the same plus writing each VM's RRD file.
 * 2. A 24 h chart query for one VM with a full day of samples: the
 *    metrics_store_fetch + JSON the API serves, budget 10 ms.
 * 3. Storage per VM per year: the size of one file at the default 10 s.
 *
 * Usage: tests/bench/metrics [domains] (default 1000). Prints one line a
 * figure; exits 0 whatever the numbers (a benchmark informs). */
#include <jansson.h>
#include <libvirt/virterror.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "metrics.h"
#include "metrics_store.h"

static double cpu_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static double wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int define_domains(virConnectPtr conn, int n)
{
    for (int i = 0; i < n; i++) {
        char xml[1024];
        snprintf(xml, sizeof xml,
                 "<domain type='test'><name>bench-%d</name><memory>262144</memory>"
                 "<vcpu>1</vcpu><os><type>hvm</type></os><devices>"
                 "<disk type='file' device='disk'><source file='/dev/null'/>"
                 "<target dev='vda' bus='virtio'/></disk>"
                 "<interface type='network'><source network='default'/></interface>"
                 "</devices></domain>", i);
        virDomainPtr dom = virDomainCreateXML(conn, xml, 0);
        if (!dom) {
            fprintf(stderr, "cannot create domain %d: %s\n", i, virGetLastErrorMessage());
            return -1;
        }
        virDomainFree(dom);
    }
    return 0;
}

/* One helper cycle without the store; returns the records seen. */
static int cycle(virConnectPtr conn, struct vm_counters *prev, bool store)
{
    virDomainStatsRecordPtr *records = NULL;
    int n = virConnectGetAllDomainStats(conn, METRICS_STATS_GROUPS, &records, METRICS_STATS_FLAGS);
    time_t t = time(NULL);
    for (int i = 0; i < n; i++) {
        struct vm_counters now;
        double values[METRICS_VM_SERIES];
        metrics_read_record(records[i], &now);
        metrics_vm_rates(&prev[i], &now, 10.0, 1, values);
        prev[i] = now;
        if (store) {
            char name[32];
            snprintf(name, sizeof name, "vm-%d", i);
            metrics_store_update(name, &metrics_vm_kind, t, values);
        }
    }
    if (records)
        virDomainStatsRecordListFree(records);
    return n;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 1000;
    char dir[] = "/tmp/vmm-bench-metrics-XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    setenv("VMM_METRICS_DIR", dir, 1);
    setenv("VMM_METRICS_INTERVAL_S", "10", 1);

    virConnectPtr conn = virConnectOpen("test:///default");
    /* test:///default starts with one domain of its own. */
    if (!conn || define_domains(conn, n - 1) < 0)
        return 1;
    struct vm_counters *prev = calloc((size_t)n + 16, sizeof *prev);
    cycle(conn, prev, false);   /* warm up */
    int runs = 20;
    double best = 1e9, sum = 0;
    int seen = 0;
    for (int r = 0; r < runs; r++) {
        double c0 = cpu_ms();
        seen = cycle(conn, prev, false);
        double c = cpu_ms() - c0;
        sum += c;
        best = fmin(best, c);
    }
    printf("sampling: %d domains, %.1f ms CPU a cycle (mean of %d; best %.1f; budget 50)\n", seen,
           sum / runs, runs, best);

    double c0 = cpu_ms(), w0 = wall_ms();
    cycle(conn, prev, true);   /* creates the files */
    double create_c = cpu_ms() - c0, create_w = wall_ms() - w0;
    sleep(1);                  /* the next sample must be a later second */
    c0 = cpu_ms(), w0 = wall_ms();
    cycle(conn, prev, true);
    printf("sampling + RRD writes: %.1f ms CPU, %.1f ms wall a cycle (first cycle, creating "
           "%d files: %.0f ms CPU, %.0f ms wall)\n", cpu_ms() - c0, wall_ms() - w0, seen,
           create_c, create_w);
    virConnectClose(conn);

    /* A day of 10 s samples for one VM, then the 24 h chart query. */
    time_t now = time(NULL);
    now -= now % 10;
    double values[METRICS_VM_SERIES];
    for (time_t t = now - 86400; t <= now; t += 10) {
        for (int k = 0; k < METRICS_VM_SERIES; k++)
            values[k] = 50 + 40 * sin((double)t / 3600.0 + k);
        metrics_store_update("day", &metrics_vm_kind, t, values);
    }
    struct err err = { 0 };
    double q_best = 1e9;
    size_t points = 0, bytes = 0;
    for (int r = 0; r < 50; r++) {
        double t0 = wall_ms();
        json_t *m = metrics_store_fetch("day", &metrics_vm_kind, now - 86400, now, 0, &err);
        char *text = json_dumps(m, JSON_COMPACT);
        double t = wall_ms() - t0;
        q_best = fmin(q_best, t);
        points = json_array_size(json_object_get(m, "timestamps"));
        bytes = strlen(text);
        free(text);
        json_decref(m);
    }
    printf("24 h chart query: %.2f ms (best of 50; %zu points a series, %zu bytes of JSON; "
           "budget 10)\n", q_best, points, bytes);

    char path[4096];
    metrics_path(path, sizeof path, "day");
    struct stat st;
    stat(path, &st);
    printf("storage: %lld bytes a VM, fixed (a year and more; budget 200 KB = 204800)\n",
           (long long)st.st_size);
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : 0;
}
