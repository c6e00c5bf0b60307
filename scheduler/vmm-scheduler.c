/* vmm-scheduler: the unprivileged daemon that runs periodic work (alert
 * evaluation, notification delivery, pruning; snapshot and backup
 * schedules later) from the scheduler_tasks table (tasks.h). It keeps no
 * state of its own between runs: everything is in the database, so a
 * restart (its own, the helper's, the database's) loses nothing, and two
 * schedulers started by mistake still run each slot once. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "db.h"
#include "i18n.h"
#include "log.h"
#include "metrics_store.h"
#include "tasks.h"

static int prune(time_t now, char *error, size_t error_size)
{
    /* Claims older than a day say nothing any more; delivered messages
     * and resolved alerts are kept for [scheduler] history_days. */
    long long days = config_int("scheduler", "history_days", 90);
    if (db_exec("DELETE FROM scheduler_runs WHERE claimed_at < UTC_TIMESTAMP() - INTERVAL 1 DAY") < 0 ||
        db_exec("DELETE FROM notification_deliveries WHERE state <> 'queued' AND "
                "created_at < UTC_TIMESTAMP() - INTERVAL ? DAY", DB_INT(days)) < 0 ||
        db_exec("DELETE FROM alerts WHERE state = 'resolved' AND "
                "resolved_at < UTC_TIMESTAMP() - INTERVAL ? DAY", DB_INT(days)) < 0) {
        snprintf(error, error_size, "the database refused the clean-up");
        return -1;
    }
    return 0;
}

const struct task scheduler_tasks[] = {
    { "alerts.evaluate", alerts_evaluate },
    { "notifications.deliver", notifications_deliver },
    { "scheduler.prune", prune },
    { "snapshots.schedule", snapshots_schedule },
    { NULL },
};

const struct task *task_find(const char *name)
{
    for (const struct task *t = scheduler_tasks; name && t->name; t++)
        if (!strcmp(t->name, name))
            return t;
    return NULL;
}

static char instance[96];

/* Claims (task, slot) for this scheduler: true when no one had. */
static bool claim(const char *task, long long slot)
{
    unsigned long long n = 0;
    if (db_exec_count("INSERT IGNORE INTO scheduler_runs (task, slot, claimed_by) VALUES (?, ?, ?)",
                      &n, DB_TEXT(task), DB_INT(slot), DB_TEXT(instance)) < 0)
        return false;
    return n == 1;
}

static void run_task(const struct task *task, time_t now)
{
    char error[256] = "";
    db_exec("UPDATE scheduler_tasks SET last_started_at = UTC_TIMESTAMP() WHERE name = ?",
            DB_TEXT(task->name));
    int rc = task->run(now, error, sizeof error);
    if (db_in_transaction()) {
        log_error("task %s left a transaction open; rolled back", task->name);
        db_rollback();
        rc = -1;
    }
    if (rc < 0 && !error[0])
        snprintf(error, sizeof error, "failed");
    if (rc < 0)
        log_warn("task %s: %s", task->name, error);
    db_exec("UPDATE scheduler_tasks SET last_finished_at = UTC_TIMESTAMP(), last_error = ? "
            "WHERE name = ?", DB_TEXT(error), DB_TEXT(task->name));
}

/* One pass over the table: every due task whose slot this scheduler wins. */
static void tick(void)
{
    struct db_rows *rows =
        db_query("SELECT name, interval_s FROM scheduler_tasks WHERE enabled = 1 ORDER BY name");
    if (!rows)
        return;   /* the database is down: try again next tick */
    time_t now = time(NULL);
    for (int i = 0; i < rows->nrows; i++) {
        const struct task *task = task_find(db_cell(rows, i, 0));
        long long interval = db_cell_int(rows, i, 1, 0);
        /* interval 0: follow the metrics sampling interval. */
        if (interval <= 0)
            interval = metrics_interval_s();
        if (!task)
            continue;   /* a row for a newer scheduler */
        if (claim(task->name, (long long)now / interval))
            run_task(task, now);
    }
    db_rows_free(rows);
}

static volatile sig_atomic_t stopping;
static void on_term(int sig) { stopping = 1; }

int main(int argc, char **argv)
{
    log_init("vmm-scheduler");
    signal(SIGPIPE, SIG_IGN);
    signal(SIGTERM, on_term);
    signal(SIGINT, on_term);
    /* Its writes (claims, alerts, deliveries) touch nothing a worker
     * caches; bumping the write generation every second would throw away
     * every worker's cached VM list for nothing. */
    setenv("VMM_CACHE_GENERATION_FILE", "", 1);
    if (config_load() < 0)
        return 1;
    if (geteuid() == 0) {
        log_error("refusing to run as root: start me as [scheduler] user");
        return 1;
    }
    i18n_init(config_str("paths", "locale_dir", VMM_LOCALE_DIR));
    char host[64] = "";
    gethostname(host, sizeof host - 1);
    snprintf(instance, sizeof instance, "%s:%d", host, (int)getpid());
    if (db_connect() < 0)
        log_warn("starting without a database connection");
    log_info("running as %s", instance);
    while (!stopping) {
        tick();
        /* Wake at the next whole second: slots are whole seconds. */
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        struct timespec nap = { 0, 1000000000L - now.tv_nsec };
        nanosleep(&nap, NULL);
    }
    log_info("stopping");
    db_close();
    return 0;
}
