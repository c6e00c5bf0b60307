/* vmm-jobs: long operations the helper runs (a full clone), their state
 * and progress, and cancelling them. A user sees their own jobs, an admin
 * all; anyone else's is a 404. */
#include <string.h>

#include "app.h"
#include "db.h"
#include "helper_client.h"
#include "i18n.h"
#include "list.h"
#include "rbac.h"
#include "user.h"

#define JOB_COLUMNS                                                                       \
    "id, kind, state, progress, message, result, owner_id, vm_id, "                      \
    "DATE_FORMAT(created_at, '%Y-%m-%dT%TZ'), DATE_FORMAT(finished_at, '%Y-%m-%dT%TZ'), "      \
    "error_code"

static json_t *job_from_row(const struct db_rows *rows, int i)
{
    json_t *result = db_cell(rows, i, 5) ? json_loads(db_cell(rows, i, 5), 0, NULL) : NULL;
    /* A failure's message in the reader's language, by its code. */
    char *message = helper_error_text(db_cell(rows, i, 10), db_cell(rows, i, 4));
    json_t *job = json_pack("{s:I, s:s, s:s, s:i, s:s, s:o, s:I, s:o, s:s, s:s?, s:s}",
                     "id", (json_int_t)db_cell_int(rows, i, 0, 0), "kind", db_cell(rows, i, 1),
                     "state", db_cell(rows, i, 2), "progress", (int)db_cell_int(rows, i, 3, 0),
                     "message", message, "result", result ? result : json_object(),
                     "owner_id", (json_int_t)db_cell_int(rows, i, 6, 0),
                     "vm_id", db_cell(rows, i, 7) ? json_integer(db_cell_int(rows, i, 7, 0))
                                                  : json_null(),
                     "created_at", db_cell(rows, i, 8), "finished_at", db_cell(rows, i, 9),
                     "error_code", db_cell(rows, i, 10) ? db_cell(rows, i, 10) : "");
    g_free(message);
    return job;
}

static json_t *job_visible(struct req *r, long long id)
{
    struct db_rows *rows = db_query("SELECT " JOB_COLUMNS " FROM jobs WHERE id = ?", DB_INT(id));
    if (!rows) {
        fail_db(r);
        return NULL;
    }
    json_t *job = NULL;
    if (rows->nrows == 1 && rbac_may_touch(r->user, db_cell_int(rows, 0, 6, 0)))
        job = job_from_row(rows, 0);
    else
        req_fail(r, 404, "not_found", NULL, _("There is no such job."));
    db_rows_free(rows);
    return job;
}

static const struct list_sort job_sorts[] = {
    { "id", "id" }, { "created_at", "created_at" }, { "state", "state" }, { NULL },
};

static int jobs_list(struct req *r)
{
    struct list_query q;
    if (list_query_parse(r, job_sorts, &q) < 0)
        return -1;
    long long owner = r->user->role == ROLE_ADMIN ? 0 : r->user->id;
    return list_run(r, &q, JOB_COLUMNS, "FROM jobs WHERE (? = 0 OR owner_id = ?)",
                    DB_PARAMS(DB_INT(owner), DB_INT(owner)), job_from_row);
}

static int jobs_show(struct req *r)
{
    json_t *job = job_visible(r, req_param(r, "id")->num);
    if (!job)
        return -1;
    req_set_object(r, "job", job);
    return 0;
}

/* Asks a queued or running job to stop; it does at its next progress
 * report, and removes what it made. */
static int jobs_cancel(struct req *r)
{
    long long id = req_param(r, "id")->num;
    json_t *job = job_visible(r, id);
    if (!job)
        return -1;
    json_decref(job);
    unsigned long long n = 0;
    if (db_exec_count("UPDATE jobs SET cancel_requested = 1 WHERE id = ? AND "
                      "state IN ('queued', 'running')", &n, DB_INT(id)) < 0)
        return fail_db(r);
    if (n == 0)
        return req_fail(r, 409, "wrong_state", NULL, _("This job has already finished."));
    r->location = g_strdup_printf("/jobs/%lld", id);
    return jobs_show(r);
}

static const struct route routes[] = {
    { "GET", "/jobs", jobs_list, PERM_USER, ROUTE_API },
    { "GET", "/jobs/{id:int}", jobs_show, PERM_USER, ROUTE_BOTH, "job.tpl", N_("Job") },
    { "POST", "/jobs/{id:int}/cancel", jobs_cancel, PERM_USER, ROUTE_BOTH, NULL, NULL, NULL,
      "job.cancel" },
    { NULL },
};

int main(int argc, char **argv)
{
    return app_run(argv[0], routes);
}
