/* Jobs: long work (a full clone, a backup) is queued to the helper's job
 * runner, a pool of worker threads with limits per kind and per owner
 * (job.c), and reports state, progress and log lines in the jobs tables,
 * where pages and API clients poll it. A job asked to cancel stops at its
 * next progress report. */
#ifndef VMM_JOB_H
#define VMM_JOB_H

#include <jansson.h>
#include <stdbool.h>

struct job {
    long long id;
    long long vm_id;
    long long actor_id;
    bool start;      /* for a create: start the machine when it is made */
    long long object_id;   /* what a job other than a VM's works on (an upload, an ISO) */
    int seconds;           /* for a graceful stop: how long the guest may still take */
    long long source_id;   /* for a clone: the VM it copies (object_id: its snapshot, or 0) */
    long long backup_id;   /* for a clone from a backup: the point it restores */
};

/* Queues fn(job) to the runner; a worker marks the job running when it
 * takes it, and succeeded/failed/cancelled by fn's return (0, -1, or
 * JOB_CANCELLED). -1 when the job's row is no longer queued. */
#define JOB_CANCELLED 1
int job_run(long long job_id, long long vm_id, long long actor_id, bool start,
            int (*fn)(struct job *job));
/* Runs fn on job as job_run does, for jobs that need more than its fields. */
int job_launch(struct job job, int (*fn)(struct job *job));
/* The same for a job about object_id (an upload to import, an ISO). */
int job_start(long long job_id, long long object_id, long long actor_id,
              int (*fn)(struct job *job));
/* Starts the runner's workers ([jobs] workers); once, before any launch. */
int job_runner_start(void);
/* Adds a queued job row of kind for owner_id; its id, or -1. */
long long job_insert(const char *kind, long long owner_id);
/* Records the job's result object (borrowed). */
void job_result(const struct job *job, json_t *result);
/* The options a job was started with (kept in its result until it writes
 * its own, by job_result before the launch): a new object, {} when none. */
json_t *job_options(const struct job *job);
/* Records progress (0-100); returns false when the job should stop. */
bool job_progress(const struct job *job, int percent);
/* Sets the job's message (the reason of a failure). */
void job_message(const struct job *job, const char *message);
/* Sets why the job failed: an error code (as the helper's replies carry,
 * so the portal can translate it) and the message. */
void job_fail_reason(const struct job *job, const char *code, const char *message);
/* Adds a line to the job's log (job_log), shown on the job's page. */
void job_log(long long job_id, const char *line);
/* Records what a job that is not about a VM works on ("iso", "template",
 * "upload") and its name now, so the task log can link and name it. */
void job_target(long long job_id, const char *type, long long id, const char *name);
/* At start: jobs a previous helper left queued or running are failed, and
 * their VMs that were being created are removed (row and disk). */
void job_fail_interrupted(void);

#endif
