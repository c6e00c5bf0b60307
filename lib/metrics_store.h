/* Where samples live: one round-robin database (librrd) per VM and one for
 * the host, under [metrics] dir. Why RRD and not MariaDB tables: a file of
 * fixed size per VM that consolidates itself (10 s for an hour, 1 min for
 * a day, 30 min for a month, 1 day for a year: 178 KiB a VM, for ever),
 * no roll-up job, no table to ALTER (a new series is `rrdtool tune` on
 * each file, milliseconds a VM), no database write every 10 s that would
 * bump the cache generation of every worker, and a missed sample is an
 * unknown value, never interpolated. Proxmox keeps its graphs the same way.
 *
 * The helper (root) only collects: each cycle is one JSON file in the
 * spool ([metrics] spool_dir), which vmm-scheduler (unprivileged) drains
 * into the RRD files; the programs read the files, which are 0644. The
 * helper uses only what lib/metrics_names.c defines, so it links no
 * librrd. */
#ifndef VMM_METRICS_STORE_H
#define VMM_METRICS_STORE_H

#include <jansson.h>
#include <stdbool.h>
#include <time.h>

#include "http.h"

/* The series of one kind of file, in file order. */
struct metrics_kind {
    const char *const *names;
    int n;
};

enum { METRICS_VM_SERIES = 6, METRICS_HOST_SERIES = 10, METRICS_MAX_SERIES = 10 };
extern const struct metrics_kind metrics_vm_kind;    /* cpu_percent ... net_tx_bytes_per_s */
extern const struct metrics_kind metrics_host_kind;  /* the same, memory total and PSI */

/* The sampling interval (seconds, [metrics] interval_s: 1..60 dividing 60). */
int metrics_interval_s(void);
/* "vm-<id>" or "host" as a path under [metrics] dir, in buf. */
void metrics_path(char *buf, size_t size, const char *name);

/* Records one sample at time t (NAN: unknown), creating the file on first
 * use. -1 with the reason logged. */
int metrics_store_update(const char *name, const struct metrics_kind *kind, time_t t,
                         const double *values);
/* The series from..to at step (0: the finest kept for that range) as
 * {from, to, step, timestamps: [...], series: {name: [number|null]}}.
 * A file not made yet gives nulls. NULL with a 503 in err on failure. */
json_t *metrics_store_fetch(const char *name, const struct metrics_kind *kind, time_t from,
                            time_t to, unsigned long step, struct err *err);
/* The last values written (NAN where unknown) and their time. -1 when
 * there is no file. */
int metrics_store_last(const char *name, const struct metrics_kind *kind, time_t *t,
                       double *values);
/* Removes a VM's file (the VM was deleted). */
void metrics_store_remove(const char *name);

/* The spool: one file per sampling cycle, {t, host: [values], vms: {id:
 * [values]}, pools: {name: {capacity, available}}} with null for
 * unknown, named <t>.json. */
void metrics_spool_dir(char *buf, size_t size);
/* Writes cycle (t added) into the spool atomically. -1 with the reason logged. */
int metrics_spool_write(time_t t, json_t *cycle);
/* values[0..n) as a JSON list (NAN: null), and back. */
json_t *metrics_values_json(const double *values, int n);
void metrics_values_read(json_t *list, double *values, int n);

#endif
