/* The sampler: every [metrics] interval_s, one virConnectGetAllDomainStats
 * call for all running VMs (NOWAIT: a guest whose monitor is busy is
 * skipped this cycle, never waited for) and the host from /proc, written
 * to the spool that vmm-scheduler drains into the metrics store
 * (lib/metrics_store.h). Runs in a thread of its own,
 * off the request path. */
#ifndef VMM_HELPER_METRICS_H
#define VMM_HELPER_METRICS_H

#include <libvirt/libvirt.h>
#include <stdbool.h>
#include <time.h>

#include "metrics_store.h"

/* Starts the sampling thread ([metrics] enabled, default true). */
int metrics_start(void);

/* One VM's counters at one time, as read from libvirt. */
struct vm_counters {
    long long cpu_time_ns;      /* -1: unknown */
    long long rd_bytes, wr_bytes, rx_bytes, tx_bytes;
    double memory_used_mb;      /* NAN: unknown */
};
/* Reads a stats record into counters (exposed for the bench). */
void metrics_read_record(const virDomainStatsRecord *record, struct vm_counters *out);
/* Rates between two readings dt seconds apart into the VM series
 * (NAN where a counter went back: the guest restarted). */
void metrics_vm_rates(const struct vm_counters *prev, const struct vm_counters *now, double dt,
                      int vcpus, double *values);
/* The stats groups and flags of one cycle. */
#define METRICS_STATS_GROUPS                                                          \
    (VIR_DOMAIN_STATS_STATE | VIR_DOMAIN_STATS_CPU_TOTAL | VIR_DOMAIN_STATS_BALLOON | \
     VIR_DOMAIN_STATS_INTERFACE | VIR_DOMAIN_STATS_BLOCK)
#define METRICS_STATS_FLAGS \
    (VIR_CONNECT_GET_ALL_DOMAINS_STATS_ACTIVE | VIR_CONNECT_GET_ALL_DOMAINS_STATS_NOWAIT)

#endif
