/* vmm-scheduler's periodic tasks. Each is a row of scheduler_tasks
 * (sql/013_monitoring.sql: name, interval_s, enabled) naming one entry of
 * the table in tasks.c; adding a task is a row there and a function here.
 * A task runs once per slot (unix time / interval) across every running
 * scheduler: the slot is claimed by inserting (task, slot) into
 * scheduler_runs, which only one INSERT can do. */
#ifndef VMM_SCHEDULER_TASKS_H
#define VMM_SCHEDULER_TASKS_H

#include <time.h>

struct task {
    const char *name;
    /* 0, or -1 with why in error (kept in scheduler_tasks.last_error). */
    int (*run)(time_t now, char *error, size_t error_size);
};

/* The table, {NULL}-terminated. */
extern const struct task scheduler_tasks[];
const struct task *task_find(const char *name);

/* Tasks (alerts.c, notify.c). */
int alerts_evaluate(time_t now, char *error, size_t error_size);
/* scheduler/events.c: crashes, unexpected stops, failed jobs as alerts */
int alerts_events(time_t now, char *error, size_t error_size);
int notifications_deliver(time_t now, char *error, size_t error_size);
/* scheduler/metrics.c: the helper's spooled samples into the RRD files */
int metrics_store_drain(time_t now, char *error, size_t error_size);
/* scheduler/schedules.c (issue 16) */
int snapshots_schedule(time_t now, char *error, size_t error_size);
int backups_schedule(time_t now, char *error, size_t error_size);

#endif
