#include "job.h"

#include <glib.h>
#include <pthread.h>
#include <stdlib.h>

#include "db.h"
#include "log.h"

struct job_start {
    struct job job;
    int (*fn)(struct job *job);
};

static void *job_thread(void *arg)
{
    struct job_start *start = arg;
    struct job *job = &start->job;
    int rc = start->fn(job);
    const char *state = rc == 0 ? "succeeded" : rc == JOB_CANCELLED ? "cancelled" : "failed";
    job_log(job->id, rc == 0 ? "Finished." : rc == JOB_CANCELLED ? "Cancelled." : "Failed.");
    db_exec("UPDATE jobs SET state = ?, progress = IF(? = 'succeeded', 100, progress), "
            "finished_at = UTC_TIMESTAMP() WHERE id = ?",
            DB_TEXT(state), DB_TEXT(state), DB_INT(job->id));
    log_info("job %lld %s", job->id, state);
    db_close();   /* this thread's connection */
    g_free(start);
    return NULL;
}

int job_launch(struct job job, int (*fn)(struct job *job))
{
    long long job_id = job.id;
    struct job_start *start = g_new0(struct job_start, 1);
    start->job = job;
    start->fn = fn;
    /* Only a job still queued: one its caller gave up on (and marked
     * failed) never runs, so what the caller recorded stands. */
    unsigned long long claimed = 0;
    if (db_exec_count("UPDATE jobs SET state = 'running', started_at = UTC_TIMESTAMP() WHERE "
                      "id = ? AND state = 'queued'", &claimed, DB_INT(job_id)) < 0 ||
        claimed != 1) {
        g_free(start);
        return -1;
    }
    job_log(job_id, "Started.");
    pthread_t thread;
    if (pthread_create(&thread, NULL, job_thread, start) != 0) {
        db_exec("UPDATE jobs SET state = 'failed', message = 'The helper could not start it.', "
                "finished_at = UTC_TIMESTAMP() WHERE id = ?", DB_INT(job_id));
        g_free(start);
        return -1;
    }
    pthread_detach(thread);
    return 0;
}

int job_run(long long job_id, long long vm_id, long long actor_id, bool start_vm,
            int (*fn)(struct job *job))
{
    return job_launch((struct job){ job_id, vm_id, actor_id, start_vm, 0, 0 }, fn);
}

int job_start(long long job_id, long long object_id, long long actor_id,
              int (*fn)(struct job *job))
{
    return job_launch((struct job){ job_id, 0, actor_id, false, object_id, 0 }, fn);
}

long long job_insert(const char *kind, long long owner_id)
{
    long long id = -1;
    if (db_exec_id("INSERT INTO jobs (kind, owner_id) VALUES (?, ?)", &id, DB_TEXT(kind),
                   DB_INT(owner_id)) < 0)
        return -1;
    return id;
}

void job_result(const struct job *job, json_t *result)
{
    char *text = json_dumps(result, JSON_COMPACT);
    db_exec("UPDATE jobs SET result = ? WHERE id = ?", DB_TEXT(text), DB_INT(job->id));
    free(text);
}

bool job_progress(const struct job *job, int percent)
{
    db_exec("UPDATE jobs SET progress = ? WHERE id = ?", DB_INT(percent), DB_INT(job->id));
    struct db_rows *rows = db_query("SELECT cancel_requested FROM jobs WHERE id = ?", DB_INT(job->id));
    bool go_on = db_cell_int(rows, 0, 0, 0) == 0;
    db_rows_free(rows);
    return go_on;
}

void job_message(const struct job *job, const char *message)
{
    db_exec("UPDATE jobs SET message = LEFT(?, 255) WHERE id = ?", DB_TEXT(message), DB_INT(job->id));
    job_log(job->id, message);
}

void job_log(long long job_id, const char *line)
{
    db_exec("INSERT INTO job_log (job_id, line) VALUES (?, LEFT(?, 500))", DB_INT(job_id),
            DB_TEXT(line));
}

void job_target(long long job_id, const char *type, long long id, const char *name)
{
    db_exec("UPDATE jobs SET target_type = ?, target_id = ?, target_name = LEFT(?, 255) "
            "WHERE id = ?", DB_TEXT(type), DB_INT(id), DB_TEXT(name ? name : ""), DB_INT(job_id));
}

void job_fail_reason(const struct job *job, const char *code, const char *message)
{
    db_exec("UPDATE jobs SET error_code = LEFT(?, 48), message = LEFT(?, 255) WHERE id = ?",
            DB_TEXT(code ? code : ""), DB_TEXT(message ? message : ""), DB_INT(job->id));
}

void job_fail_interrupted(void)
{
    unsigned long long n = 0;
    db_exec_count("UPDATE jobs SET state = 'failed', message = 'Interrupted by a restart of the "
                  "helper.', finished_at = UTC_TIMESTAMP() WHERE state IN ('queued', 'running')", &n);
    if (n)
        log_warn("%llu interrupted jobs marked failed", n);
    /* Nothing is under way any more: no VM is still "stopping". */
    db_exec("UPDATE vms SET pending = NULL, pending_since = NULL WHERE pending IS NOT NULL");
}
