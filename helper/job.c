#include "job.h"

#include <glib.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

#include "db.h"
#include "log.h"

/* The runner: job_launch puts a job in the queue, a pool of workers
 * ([jobs] workers) takes them. A worker takes the oldest queued job whose
 * kind's class and owner are under their limits ([jobs] limit_<class>,
 * [jobs] per_owner), preferring the owner with the fewest jobs running, so
 * one user's twenty backups never hold everyone else's stop or create
 * back. The queue is in memory; the rows stay 'queued' (accepted_at set)
 * until a worker claims them, and a helper restart fails them as before. */
struct job_start {
    struct job job;
    int (*fn)(struct job *job);
    /* interned (they key the counts, which outlive this job) */
    const char *kind;
    const char *kind_class;   /* the kind up to its dot: "backup" of "backup.create" */
    long long owner_id;
};

static pthread_mutex_t queue_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t queue_cond = PTHREAD_COND_INITIALIZER;
static GQueue queue = G_QUEUE_INIT;
static GHashTable *running_by_class;   /* kind or class -> count (GINT_TO_POINTER) */
static GHashTable *running_by_owner;   /* owner id (GSIZE_TO_POINTER) -> count */
static int workers_started;

static int count_of(GHashTable *table, gconstpointer key)
{
    return GPOINTER_TO_INT(g_hash_table_lookup(table, key));
}

static void count_add(GHashTable *table, gpointer key, int delta)
{
    int n = count_of(table, key) + delta;
    if (n > 0)
        g_hash_table_replace(table, key, GINT_TO_POINTER(n));
    else
        g_hash_table_remove(table, key);
}

/* How many jobs of a kind ([jobs] limit_vm_clone for vm.clone), else of
 * its class ([jobs] limit_backup), may run at once; 0: as many as there
 * are workers. Backups and clones copy whole disks: two at a time by
 * default. */
static int kind_limit(const char *kind, const char *kind_class, const char **counted)
{
    *counted = kind;
    char key[48];
    snprintf(key, sizeof key, "limit_%s", kind);
    for (char *c = key; *c; c++)
        if (*c == '.')
            *c = '_';
    long long own = config_int("jobs", key, !strcmp(kind, "vm.clone") ? 2 : -1);
    if (own >= 0)
        return (int)own;
    snprintf(key, sizeof key, "limit_%s", kind_class);
    *counted = kind_class;
    return (int)config_int("jobs", key, !strcmp(kind_class, "backup") ? 2 : 0);
}

/* The queued job to run next (removed from the queue), or NULL when none
 * is under its limits. Called with queue_lock held. */
static struct job_start *queue_pick(void)
{
    int per_owner = (int)config_int("jobs", "per_owner", 4);
    GList *best = NULL;
    int best_owner_load = 0;
    for (GList *l = queue.head; l; l = l->next) {
        struct job_start *s = l->data;
        const char *counted;
        int limit = kind_limit(s->kind, s->kind_class, &counted);
        int owner_load = count_of(running_by_owner, GSIZE_TO_POINTER(s->owner_id));
        if ((limit > 0 && count_of(running_by_class, counted) >= limit) ||
            (per_owner > 0 && owner_load >= per_owner))
            continue;
        if (!best || owner_load < best_owner_load) {   /* fairness; FIFO among equals */
            best = l;
            best_owner_load = owner_load;
        }
    }
    if (!best)
        return NULL;
    struct job_start *s = best->data;
    g_queue_delete_link(&queue, best);
    return s;
}

static void job_finish(struct job *job, int rc)
{
    const char *state = rc == 0 ? "succeeded" : rc == JOB_CANCELLED ? "cancelled" : "failed";
    job_log(job->id, rc == 0 ? "Finished." : rc == JOB_CANCELLED ? "Cancelled." : "Failed.");
    db_exec("UPDATE jobs SET state = ?, progress = IF(? = 'succeeded', 100, progress), "
            "finished_at = UTC_TIMESTAMP() WHERE id = ?",
            DB_TEXT(state), DB_TEXT(state), DB_INT(job->id));
    log_info("job %lld %s", job->id, state);
}

/* Claims s's row (only a job still queued: one its caller gave up on, and
 * marked failed, never runs, so what the caller recorded stands) and runs
 * it. */
static void job_execute(struct job_start *s)
{
    unsigned long long claimed = 0;
    if (db_exec_count("UPDATE jobs SET state = 'running', started_at = UTC_TIMESTAMP() WHERE "
                      "id = ? AND state = 'queued'", &claimed, DB_INT(s->job.id)) < 0 ||
        claimed != 1)
        return;
    job_log(s->job.id, "Started.");
    job_finish(&s->job, s->fn(&s->job));
}

static void *job_worker(void *arg)
{
    (void)arg;
    for (;;) {
        pthread_mutex_lock(&queue_lock);
        struct job_start *s;
        while (!(s = queue_pick()))
            pthread_cond_wait(&queue_cond, &queue_lock);
        count_add(running_by_class, (gpointer)s->kind, 1);
        if (s->kind != s->kind_class)
            count_add(running_by_class, (gpointer)s->kind_class, 1);
        count_add(running_by_owner, GSIZE_TO_POINTER(s->owner_id), 1);
        pthread_mutex_unlock(&queue_lock);

        job_execute(s);

        pthread_mutex_lock(&queue_lock);
        count_add(running_by_class, (gpointer)s->kind, -1);
        if (s->kind != s->kind_class)
            count_add(running_by_class, (gpointer)s->kind_class, -1);
        count_add(running_by_owner, GSIZE_TO_POINTER(s->owner_id), -1);
        pthread_cond_broadcast(&queue_cond);   /* a slot is free: others may now fit */
        pthread_mutex_unlock(&queue_lock);
        g_free(s);
    }
    return NULL;
}

int job_runner_start(void)
{
    pthread_mutex_lock(&queue_lock);
    running_by_class = g_hash_table_new(g_direct_hash, g_direct_equal);   /* interned keys */
    running_by_owner = g_hash_table_new(g_direct_hash, g_direct_equal);
    pthread_mutex_unlock(&queue_lock);
    int n = (int)config_int("jobs", "workers", 8);
    for (int i = 0; i < (n > 0 ? n : 1); i++) {
        pthread_t thread;
        if (pthread_create(&thread, NULL, job_worker, NULL) != 0)
            break;
        pthread_detach(thread);
        workers_started++;
    }
    log_info("job runner: %d workers", workers_started);
    return workers_started > 0 ? 0 : -1;
}

int job_launch(struct job job, int (*fn)(struct job *job))
{
    struct db_rows *rows = db_query("SELECT kind, owner_id FROM jobs WHERE id = ? AND "
                                    "state = 'queued'", DB_INT(job.id));
    if (!rows || rows->nrows != 1 || !workers_started) {
        db_rows_free(rows);
        return -1;
    }
    struct job_start *s = g_new0(struct job_start, 1);
    s->job = job;
    s->fn = fn;
    s->owner_id = db_cell_int(rows, 0, 1, 0);
    const char *kind = db_cell(rows, 0, 0);
    s->kind = g_intern_string(kind);
    char *kind_class = g_strndup(kind, strcspn(kind, "."));
    s->kind_class = g_intern_string(kind_class);
    g_free(kind_class);
    db_rows_free(rows);
    db_exec("UPDATE jobs SET accepted_at = UTC_TIMESTAMP() WHERE id = ?", DB_INT(job.id));
    job_log(job.id, "Queued.");
    pthread_mutex_lock(&queue_lock);
    g_queue_push_tail(&queue, s);
    pthread_cond_broadcast(&queue_cond);
    pthread_mutex_unlock(&queue_lock);
    return 0;
}

int job_run(long long job_id, long long vm_id, long long actor_id, bool start_vm,
            int (*fn)(struct job *job))
{
    return job_launch((struct job){ .id = job_id, .vm_id = vm_id, .actor_id = actor_id,
                                    .start = start_vm }, fn);
}

int job_start(long long job_id, long long object_id, long long actor_id,
              int (*fn)(struct job *job))
{
    return job_launch((struct job){ .id = job_id, .actor_id = actor_id, .object_id = object_id },
                      fn);
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

json_t *job_options(const struct job *job)
{
    struct db_rows *rows = db_query("SELECT result FROM jobs WHERE id = ?", DB_INT(job->id));
    const char *text = rows && rows->nrows == 1 ? db_cell(rows, 0, 0) : NULL;
    json_t *options = text ? json_loads(text, 0, NULL) : NULL;
    db_rows_free(rows);
    if (!json_is_object(options)) {
        json_decref(options);
        options = json_object();
    }
    return options;
}

bool job_progress(const struct job *job, int percent)
{
    /* A log line at each tenth passed, so the task log shows how it went. */
    unsigned long long moved = 0;
    db_exec_count("UPDATE jobs SET progress = ? WHERE id = ? AND progress DIV 10 < ? DIV 10",
                  &moved, DB_INT(percent), DB_INT(job->id), DB_INT(percent));
    if (moved) {
        char line[32];
        snprintf(line, sizeof line, "%d%% done.", percent);
        job_log(job->id, line);
    } else {
        db_exec("UPDATE jobs SET progress = ? WHERE id = ?", DB_INT(percent), DB_INT(job->id));
    }
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
