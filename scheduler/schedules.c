/* The snapshot and backup schedules (issue 16): tasks snapshots.schedule
 * and backups.schedule, one runner over two policy tables. For each
 * enabled policy, the latest due minute of its cron schedule since the
 * later of its last run and when it was set; if there is one, the helper
 * is asked (snapshot.scheduled or backup.scheduled on the scheduler's own
 * socket) to take it and prune. The helper claims the slot in the policy row itself, so a
 * slot runs once even if two schedulers or a retry ask twice, and slots
 * missed while the scheduler was down run once, as the latest of them.
 *
 * The clock: [scheduler] clock_file, when set and readable, holds the
 * unix time the schedules see (tests move it; it is never set in
 * production), else the real time. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <glib.h>

#include "config.h"
#include "cron.h"
#include "db.h"
#include "frame.h"
#include "log.h"
#include "tasks.h"

static time_t schedule_now(time_t now)
{
    const char *path = config_str("scheduler", "clock_file", "");
    FILE *f = *path ? fopen(path, "r") : NULL;
    long long t = 0;
    if (f) {
        if (fscanf(f, "%lld", &t) != 1)
            t = 0;
        fclose(f);
    }
    return t > 0 ? (time_t)t : now;
}

/* Asks the helper for op on the scheduler's socket; the reply, or NULL. */
static json_t *helper_ask(const char *op, json_t *args, const char *request_id)
{
    const char *path =
        config_str("helper", "scheduler_socket", "/run/vmm/helper-scheduler.sock");
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    if (strlen(path) >= sizeof addr.sun_path)
        return NULL;
    strcpy(addr.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return NULL;
    json_t *reply = NULL;
    json_t *request = json_pack("{s:s, s:O, s:s}", "op", op, "args", args, "request_id",
                                request_id);
    /* A snapshot with memory under TCG takes a while: up to 10 minutes. */
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0 ||
        frame_write(fd, request) != FRAME_OK ||
        frame_read_within(fd, FRAME_REPLY_MAX_BYTES, &reply, 600000) != FRAME_OK) {
        json_decref(reply);
        reply = NULL;
    }
    json_decref(request);
    close(fd);
    return reply;
}

/* What differs between the two: the policies' table (a constant of ours,
 * never input), the helper's op, and a word for request ids and logs. */
struct schedule_kind {
    const char *table;
    const char *op;
    const char *word;
};

static int schedules_run(const struct schedule_kind *kind, time_t real_now, char *error,
                         size_t error_size)
{
    time_t now = schedule_now(real_now);
    char *sql = g_strdup_printf("SELECT vm_id, schedule, TIMESTAMPDIFF(SECOND, '1970-01-01', "
                                "GREATEST(COALESCE(last_slot, set_at), set_at)) FROM %s "
                                "WHERE enabled = 1 ORDER BY vm_id", kind->table);
    struct db_rows *rows = db_query(sql);
    g_free(sql);
    if (!rows) {
        snprintf(error, error_size, "the database is not available");
        return -1;
    }
    int failed = 0;
    for (int i = 0; i < rows->nrows; i++) {
        long long vm_id = db_cell_int(rows, i, 0, 0);
        struct cron cron;
        if (cron_parse(db_cell(rows, i, 1), &cron) < 0)
            continue;   /* the program refuses such rows; one written by hand waits */
        time_t slot = cron_latest(&cron, (time_t)db_cell_int(rows, i, 2, 0), now);
        if (!slot)
            continue;
        char request_id[64];
        snprintf(request_id, sizeof request_id, "sched-%s-%lld-%lld", kind->word, vm_id,
                 (long long)slot);
        json_t *args = json_pack("{s:I, s:I}", "vm_id", (json_int_t)vm_id, "slot",
                                 (json_int_t)slot);
        json_t *reply = helper_ask(kind->op, args, request_id);
        json_decref(args);
        if (!json_is_true(json_object_get(reply, "ok"))) {
            /* The helper wrote its reason in the policy; a helper that
             * did not answer leaves the slot unclaimed, for the next tick. */
            log_warn("%s schedule of VM %lld, slot %lld: %s", kind->word, vm_id, (long long)slot,
                     reply ? json_string_value(json_object_get(json_object_get(reply, "error"),
                                                               "code"))
                           : "no answer from the helper");
            failed++;
        }
        json_decref(reply);
    }
    db_rows_free(rows);
    if (failed)
        snprintf(error, error_size, "%d schedule(s) failed; see their policies", failed);
    return failed ? -1 : 0;
}

int snapshots_schedule(time_t now, char *error, size_t error_size)
{
    static const struct schedule_kind kind = { "snapshot_policies", "snapshot.scheduled",
                                               "snapshot" };
    return schedules_run(&kind, now, error, error_size);
}

/* A backup's helper answer comes at once: the backup itself is a job. */
int backups_schedule(time_t now, char *error, size_t error_size)
{
    static const struct schedule_kind kind = { "backup_policies", "backup.scheduled", "backup" };
    return schedules_run(&kind, now, error, error_size);
}
