/* vmm-jobs: the task log. Long operations the helper runs (a full clone,
 * a graceful stop, an import, a verify), their state, progress, target
 * and log lines, and cancelling them. A user sees their own jobs, an
 * admin all; anyone else's is a 404. */
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "app.h"
#include "db.h"
#include "helper_client.h"
#include "i18n.h"
#include "job_text.h"
#include "list.h"
#include "rbac.h"
#include "user.h"

/* The job, who started it, and what it works on: a VM by vm_id, anything
 * else by target_type/target_id; the name of a target that is gone is
 * the one recorded when the job began. */
#define JOB_COLUMNS                                                                        \
    "j.id, j.kind, j.state, j.progress, j.message, j.result, j.owner_id, j.vm_id, "          \
    "DATE_FORMAT(j.created_at, '%Y-%m-%dT%TZ'), DATE_FORMAT(j.finished_at, '%Y-%m-%dT%TZ'), " \
    "DATE_FORMAT(j.started_at, '%Y-%m-%dT%TZ'), "                                           \
    "TIMESTAMPDIFF(SECOND, COALESCE(j.started_at, j.created_at), "                         \
    "COALESCE(j.finished_at, UTC_TIMESTAMP())), "                                           \
    "u.username, IF(u.display_name = '', u.username, u.display_name), "                    \
    "IF(j.vm_id IS NULL, j.target_type, 'vm'), COALESCE(j.vm_id, j.target_id), "            \
    "COALESCE(v.name, i.name, t.name, sp.name, NULLIF(j.target_name, '')), "               \
    "(v.id IS NOT NULL OR i.id IS NOT NULL OR t.id IS NOT NULL OR sp.id IS NOT NULL "        \
    "OR o.id IS NOT NULL), j.error_code"

#define JOB_FROM                                                                           \
    "FROM jobs j JOIN users u ON u.id = j.owner_id "                                        \
    "LEFT JOIN vms v ON v.id = j.vm_id "                                                    \
    "LEFT JOIN isos i ON j.target_type = 'iso' AND i.id = j.target_id "                    \
    "LEFT JOIN templates t ON j.target_type = 'template' AND t.id = j.target_id "           \
    "LEFT JOIN storage_pools sp ON j.target_type = 'storage_pool' AND sp.id = j.target_id " \
    "LEFT JOIN ova_imports o ON j.target_type = 'ova_import' AND o.id = j.target_id "

enum {
    C_ID, C_KIND, C_STATE, C_PROGRESS, C_MESSAGE, C_RESULT, C_OWNER, C_VM, C_CREATED,
    C_FINISHED, C_STARTED, C_SECONDS, C_USERNAME, C_WHO, C_TTYPE, C_TID, C_TNAME, C_TEXISTS, C_ERROR,
};

static const char *const job_states[] = { "queued", "running", "succeeded", "failed",
                                          "cancelled", NULL };

/* Lines the helper writes into jobs (it has no catalog of its own): listed
 * here so that they are translated when shown. */
static const char *const helper_lines[] G_GNUC_UNUSED = {
    N_("Started."), N_("Finished."), N_("Failed."), N_("Cancelled."),
    N_("The ISO is gone."), N_("The upload is gone."),
    N_("The file no longer matches its recorded MD5 and SHA-256."),
    N_("The guest did not power off in time: it was forced off."),
    N_("The machine is gone."), N_("Interrupted by a restart of the helper."),
    N_("The helper went away."),
    /* the job runner and backups (issue 16) */
    N_("Queued."),
    N_("The machine is stopped: starting it paused for the backup."),
    N_("Incremental from the previous backup's checkpoint."),
    N_("Checksums match."),
    /* storage volumes (issue 12) */
    N_("Creating the volume."), N_("Growing the volume."), N_("Deleting the volume."),
    N_("The machine no longer has a disk the backup holds; left out."),
    N_("A raw disk cannot be backed up incrementally: this is a full backup."),
    N_("The machine no longer has the previous backup's checkpoint (a restore or a deleted "
       "backup): this is a full backup."),
    N_("The previous backup's bitmap was unusable (the host crashed?): this is a full backup."),
};

/* A line of the job's log in the reader's language: the runner's "N% done."
 * lines by their number, the rest as listed above. */
static char *log_line_text(const char *line)
{
    int percent = 0;
    char rest[8] = "";
    if (sscanf(line, "%d%% done%7s", &percent, rest) == 2 && !strcmp(rest, "."))
        return g_strdup_printf(_("%d%% done."), percent);
    return g_strdup(_(line));
}

static bool known(const char *value, const char *const *list)
{
    for (; *list; list++)
        if (!strcmp(value, *list))
            return true;
    return false;
}

/* "45 s", "3 min 5 s", "2 h 4 min", in the user's language. */
static char *duration_text(long long s)
{
    if (s < 60)
        return g_strdup_printf(_("%lld s"), s);
    if (s < 3600)
        return g_strdup_printf(_("%lld min %lld s"), s / 60, s % 60);
    return g_strdup_printf(_("%lld h %lld min"), s / 3600, s % 3600 / 60);
}

/* The result of a finished job in words ("Checksums match"). */
static const char *result_summary(const char *kind, const char *state, json_t *result)
{
    if (!strcmp(state, "queued"))
        return _("Waiting to start");
    if (!strcmp(state, "running"))
        return _("Under way");
    if (!strcmp(state, "cancelled"))
        return _("Cancelled before it finished");
    if (!strcmp(kind, "iso.verify") && json_is_boolean(json_object_get(result, "match")))
        return json_is_true(json_object_get(result, "match"))
                   ? _("The checksums match the recorded MD5 and SHA-256.")
                   : _("The checksums differ from the recorded ones.");
    if (!strcmp(state, "failed"))
        return _("Failed");
    if (!strcmp(kind, "upload.import"))
        return json_object_get(result, "iso_id")          ? _("The ISO image was added to the library.")
               : json_object_get(result, "ova_import_id") ? _("The OVA was read: review it to make the virtual machine.")
                                                          : _("The template was added to the library.");
    if (!strcmp(kind, "vm.create"))
        return _("The virtual machine was made.");
    if (!strcmp(kind, "vm.stop"))
        return _("The virtual machine is off.");
    if (!strcmp(kind, "vm.clone"))
        return _("The clone was made.");
    if (!strcmp(kind, "backup.create"))
        return _("The backup is ready.");
    if (!strcmp(kind, "backup.restore"))
        return _("The backup was restored.");
    if (!strcmp(kind, "vm.export"))
        return _("The OVA is ready to download.");
    return _("Done");
}

static json_t *target_from_row(const struct db_rows *rows, int i)
{
    const char *type = db_cell(rows, i, C_TTYPE);
    if (!type)
        return json_null();
    long long id = db_cell_int(rows, i, C_TID, 0);
    const char *name = db_cell(rows, i, C_TNAME);
    json_t *target = json_pack("{s:s, s:I}", "type", type, "id", (json_int_t)id);
    char *fallback = g_strdup_printf("#%lld", id);
    json_object_set_new(target, "name", json_string(name ? name : fallback));
    g_free(fallback);
    /* Only what still exists is linked; an upload's page is the list. */
    const char *base = !strcmp(type, "vm") ? "/vms" : !strcmp(type, "iso") ? "/isos"
                       : !strcmp(type, "template") ? "/templates"
                       : !strcmp(type, "storage_pool") ? "/storage-pools"
                       : !strcmp(type, "ova_import") ? "/vms/imports" : NULL;
    char *href = base && db_cell_int(rows, i, C_TEXISTS, 0) ? g_strdup_printf("%s/%lld", base, id)
                 : !strcmp(type, "upload") ? g_strdup("/uploads") : NULL;
    json_object_set_new(target, "href", href ? json_string(href) : json_null());
    json_object_set_new(target, "linked", json_boolean(href != NULL));
    g_free(href);
    return target;
}

static json_t *job_from_row(const struct db_rows *rows, int i)
{
    const char *result_text = db_cell(rows, i, C_RESULT);
    json_t *result = result_text ? json_loads(result_text, 0, NULL) : NULL;
    if (!json_is_object(result)) {
        json_decref(result);
        result = json_object();
    }
    const char *kind = db_cell(rows, i, C_KIND), *state = db_cell(rows, i, C_STATE);
    long long seconds = db_cell_int(rows, i, C_SECONDS, 0);
    char *duration = duration_text(seconds < 0 ? 0 : seconds);
    /* A failure's message in the reader's language, by its code. */
    const char *error_code = db_cell(rows, i, C_ERROR) ? db_cell(rows, i, C_ERROR) : "";
    char *message = helper_error_text(error_code, db_cell(rows, i, C_MESSAGE));
    json_t *job = json_pack(
        "{s:I, s:s, s:s, s:s, s:i, s:s, s:s, s:O, s:I, s:s, s:s, s:o, s:o, s:s, s:s?, s:s?, "
        "s:I, s:s, s:b}",
        "id", (json_int_t)db_cell_int(rows, i, C_ID, 0), "kind", kind, "kind_label",
        job_kind_label(kind), "state", state, "progress", (int)db_cell_int(rows, i, C_PROGRESS, 0),
        "message", message, "message_text", *message ? _(message) : "", "result", result,
        "owner_id", (json_int_t)db_cell_int(rows, i, C_OWNER, 0), "owner_username",
        db_cell(rows, i, C_USERNAME), "owner_name", db_cell(rows, i, C_WHO), "vm_id",
        db_cell(rows, i, C_VM) ? json_integer(db_cell_int(rows, i, C_VM, 0)) : json_null(),
        "target", target_from_row(rows, i), "created_at", db_cell(rows, i, C_CREATED),
        "started_at", db_cell(rows, i, C_STARTED), "finished_at", db_cell(rows, i, C_FINISHED),
        "duration_s", (json_int_t)(seconds < 0 ? 0 : seconds), "duration", duration,
        "cancellable", !strcmp(state, "queued") || !strcmp(state, "running"));
    json_object_set_new(job, "summary", json_string(result_summary(kind, state, result)));
    json_object_set_new(job, "error_code", json_string(error_code));
    g_free(message);
    json_decref(result);
    g_free(duration);
    return job;
}

static json_t *job_log_lines(long long id)
{
    struct db_rows *rows = db_query("SELECT DATE_FORMAT(at, '%Y-%m-%dT%T.%fZ'), line FROM job_log "
                                    "WHERE job_id = ? ORDER BY id LIMIT 500", DB_INT(id));
    json_t *lines = json_array();
    for (int i = 0; rows && i < rows->nrows; i++) {
        char *text = log_line_text(db_cell(rows, i, 1));
        json_array_append_new(lines, json_pack("{s:s, s:s}", "at", db_cell(rows, i, 0), "line",
                                               text));
        g_free(text);
    }
    db_rows_free(rows);
    return lines;
}

static json_t *job_visible(struct req *r, long long id)
{
    return list_one_owned(r, db_query("SELECT " JOB_COLUMNS " " JOB_FROM "WHERE j.id = ?", DB_INT(id)),
                          C_OWNER, job_from_row, _("There is no such job."));
}

/* Newest first unless asked otherwise. */
static const struct list_sort job_sorts[] = {
    { "created_at", "j.id", true }, { "id", "j.id" }, { "state", "j.state" },
    { "kind", "j.kind" }, { NULL },
};

/* The page's filter menus, with the chosen value marked. */
static json_t *filter_options(const char *chosen_state, const char *chosen_kind)
{
    static const char *const state_labels[] = { N_("Queued"), N_("Running"), N_("Done"),
                                                N_("Failed"), N_("Cancelled") };
    json_t *states = json_array(), *kinds = json_array();
    for (int i = 0; job_states[i]; i++)
        json_array_append_new(states, json_pack("{s:s, s:s, s:b}", "value", job_states[i],
                                                "label", _(state_labels[i]), "selected",
                                                chosen_state && !strcmp(chosen_state, job_states[i])));
    for (int i = 0; job_kind_at(i); i++)
        json_array_append_new(kinds, json_pack("{s:s, s:s, s:b}", "value", job_kind_at(i),
                                               "label", job_kind_label(job_kind_at(i)), "selected",
                                               chosen_kind && !strcmp(chosen_kind, job_kind_at(i))));
    return json_pack("{s:o, s:o}", "states", states, "kinds", kinds);
}

static int query_id(struct req *r, const char *name, long long *out)
{
    const char *text = req_query(r, name);
    char *end;
    *out = 0;
    if (!text || !*text)
        return 0;
    long long v = strtoll(text, &end, 10);
    if (*end || v <= 0)
        return req_fail(r, 400, "invalid_parameter", name, _("%s must be a positive integer."), name);
    *out = v;
    return 0;
}

static int jobs_list(struct req *r)
{
    const char *state = req_query(r, "state"), *kind = req_query(r, "kind");
    const char *mine = req_query(r, "mine");
    long long vm_id = 0;
    if (state && *state && !known(state, job_states))
        return req_fail(r, 400, "invalid_parameter", "state", _("Unknown state."));
    if (kind && *kind && !job_kind_known(kind))
        return req_fail(r, 400, "invalid_parameter", "kind", _("Unknown kind of job."));
    if (mine && *mine && strcmp(mine, "true") && strcmp(mine, "false") && strcmp(mine, "1") &&
        strcmp(mine, "0"))
        return req_fail(r, 400, "invalid_parameter", "mine", _("mine must be true or false."));
    if (query_id(r, "vm_id", &vm_id) < 0)
        return -1;
    struct list_query q;
    if (list_query_parse(r, job_sorts, &q) < 0)
        return -1;
    bool only_mine = r->user->role != ROLE_ADMIN || (mine && (!strcmp(mine, "true") ||
                                                              !strcmp(mine, "1")));
    long long owner = only_mine ? r->user->id : 0;
    const char *st = state && *state ? state : "", *kd = kind && *kind ? kind : "";
    long long page = q.page, per_page = q.per_page;
    if (list_run(r, &q, JOB_COLUMNS,
                 JOB_FROM "WHERE (? = 0 OR j.owner_id = ?) AND (? = '' OR j.state = ?) "
                 "AND (? = '' OR j.kind = ?) AND (? = 0 OR j.vm_id = ?)",
                 DB_PARAMS(DB_INT(owner), DB_INT(owner), DB_TEXT(st), DB_TEXT(st), DB_TEXT(kd),
                           DB_TEXT(kd), DB_INT(vm_id), DB_INT(vm_id)),
                 job_from_row) < 0)
        return -1;
    if (!r->api) {
        /* The page's own extras; the API answers the list alone. */
        json_t *data = json_object();
        json_object_set(data, "jobs", r->data);
        json_object_set_new(data, "filters", filter_options(st, kd));
        json_object_set_new(data, "mine", json_boolean(only_mine));
        json_object_set_new(data, "filtered", json_boolean(*st || *kd || vm_id));
        static const char *const keys[] = { "state", "kind", "mine", "vm_id", "sort", "per_page", NULL };
        json_object_set_new(data, "paging", list_paging(r, "/jobs", keys, page, per_page,
                                                        json_integer_value(json_object_get(r->meta, "total"))));
        json_decref(r->data);
        r->data = data;
    }
    return 0;
}

static int jobs_show(struct req *r)
{
    long long id = req_param(r, "id")->num;
    json_t *job = job_visible(r, id);
    if (!job)
        return -1;
    json_object_set_new(job, "log", job_log_lines(id));
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
    { "GET", "/jobs", jobs_list, PERM_USER, ROUTE_BOTH, "jobs.tpl", N_("Tasks"),
      .summary = "List the jobs the caller may see, newest first", .reply = REPLY_LIST,
      .statuses = STATUSES(400) },
    { "GET", "/jobs/{id:int}", jobs_show, PERM_USER, ROUTE_BOTH, "job.tpl", N_("Job"),
      .summary = "Show a job with its log lines", .reply = REPLY_OBJECT,
      .statuses = STATUSES(404, 502) },
    { "POST", "/jobs/{id:int}/cancel", jobs_cancel, PERM_USER, ROUTE_BOTH, NULL, NULL, NULL,
      "job.cancel",
      .summary = "Cancel a job", .reply = REPLY_OBJECT,
      .statuses = STATUSES(404, 409, 422, 502) },
    { NULL },
};

int main(int argc, char **argv)
{
    return app_run(argv[0], routes);
}
