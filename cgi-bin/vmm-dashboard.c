/* vmm-dashboard: the home page. What the user has (VMs by state, each
 * linked to the filtered list; quota use), what this host is using (from
 * the helper), recent tasks and failures, and for admins what the portal
 * holds. Also the answer for every address no other program claims (a
 * 404). */
#include <string.h>

#include "app.h"
#include "db.h"
#include "helper_client.h"
#include "i18n.h"
#include "job_text.h"
#include "quota.h"
#include "user.h"

static long long count(const char *sql, long long id)
{
    struct db_rows *rows = id ? db_query(sql, DB_INT(id)) : db_query(sql);
    long long n = db_cell_int(rows, 0, 0, -1);
    db_rows_free(rows);
    return n;
}

/* Every state, with how many of the user's VMs (an admin: all) are in it;
 * a VM in transition counts under the transitional state. */
static json_t *vm_states(long long owner)
{
    static const struct {
        const char *state, *label;
    } states[] = {
        { "running", N_("Running") },       { "stopped", N_("Stopped") },
        { "paused", N_("Paused") },         { "suspended", N_("Suspended") },
        { "creating", N_("Creating") },     { "installing", N_("Installing") },
        { "error", N_("Error") },           { "starting", N_("Starting") },
        { "stopping", N_("Stopping") },     { "rebooting", N_("Rebooting") },
        { "pausing", N_("Pausing") },       { "resuming", N_("Resuming") },
        { "suspending", N_("Suspending") }, { "deleting", N_("Deleting") },
    };
    struct db_rows *rows = db_query(
        "SELECT IF(pending IS NOT NULL AND pending_since > UTC_TIMESTAMP() - INTERVAL 600 SECOND, "
        "pending, state), COUNT(*) FROM vms WHERE (? = 0 OR owner_id = ?) GROUP BY 1",
        DB_INT(owner), DB_INT(owner));
    if (!rows)
        return NULL;
    json_t *out = json_array();
    for (size_t s = 0; s < G_N_ELEMENTS(states); s++) {
        long long n = 0;
        for (int i = 0; i < rows->nrows; i++)
            if (!strcmp(db_cell(rows, i, 0), states[s].state))
                n = db_cell_int(rows, i, 1, 0);
        /* The settled states always show; a transitional one when it has VMs. */
        if (n == 0 && s >= 7)
            continue;
        char *href = g_strdup_printf("/vms?state=%s", states[s].state);
        json_array_append_new(out, json_pack("{s:s, s:s, s:I, s:s}", "state", states[s].state,
                                             "label", _(states[s].label), "count", (json_int_t)n,
                                             "href", href));
        g_free(href);
    }
    db_rows_free(rows);
    return out;
}

/* The quota as bars: used, limit and the percent of it. */
static json_t *quota_bars(long long user_id)
{
    static const struct {
        const char *kind, *label;
    } labels[] = {
        { "vms", N_("Virtual machines") }, { "vcpus", N_("vCPUs") },
        { "memory_mb", N_("Memory (MiB)") }, { "disk_gb", N_("Disk (GiB)") },
        { "image_gb", N_("Images (GiB)") },
    };
    json_t *report = quota_report(user_id);
    if (!report)
        return NULL;
    json_t *rows = quota_rows(report);
    json_decref(report);
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row) {
        const char *kind = json_string_value(json_object_get(row, "kind"));
        long long used = json_integer_value(json_object_get(row, "used"));
        long long limit = json_integer_value(json_object_get(row, "limit"));
        for (size_t l = 0; kind && l < G_N_ELEMENTS(labels); l++)
            if (!strcmp(labels[l].kind, kind))
                json_object_set_new(row, "label", json_string(_(labels[l].label)));
        json_object_set_new(row, "percent",
                            json_integer(limit > 0 ? (used >= limit ? 100 : used * 100 / limit) : 0));
        json_object_set_new(row, "full", json_boolean(limit > 0 && used >= limit));
    }
    return rows;
}

/* The last tasks and the failures of the last day. */
static json_t *recent_jobs(long long owner, bool failed_only)
{
    struct db_rows *rows = db_query(
        "SELECT j.id, j.kind, j.state, j.progress, j.message, "
        "DATE_FORMAT(j.created_at, '%Y-%m-%dT%TZ'), COALESCE(v.name, NULLIF(j.target_name, '')) "
        "FROM jobs j LEFT JOIN vms v ON v.id = j.vm_id WHERE (? = 0 OR j.owner_id = ?) AND "
        "(? = 0 OR (j.state = 'failed' AND j.created_at > UTC_TIMESTAMP() - INTERVAL 1 DAY)) "
        "ORDER BY j.id DESC LIMIT 5",
        DB_INT(owner), DB_INT(owner), DB_INT(failed_only));
    if (!rows)
        return NULL;
    json_t *out = json_array();
    for (int i = 0; i < rows->nrows; i++)
        json_array_append_new(
            out, json_pack("{s:I, s:s, s:s, s:s, s:i, s:s, s:s, s:s?}", "id",
                           (json_int_t)db_cell_int(rows, i, 0, 0), "kind", db_cell(rows, i, 1),
                           "kind_label", job_kind_label(db_cell(rows, i, 1)), "state",
                           db_cell(rows, i, 2), "progress", (int)db_cell_int(rows, i, 3, 0),
                           "message", *db_cell(rows, i, 4) ? _(db_cell(rows, i, 4)) : "",
                           "created_at", db_cell(rows, i, 5), "target", db_cell(rows, i, 6)));
    db_rows_free(rows);
    return out;
}

/* This host's use, from the helper; a helper that does not answer leaves
 * the rest of the page as it is. */
static json_t *host_usage(struct req *r)
{
    json_t *info = helper_call(r, "host.info", NULL);
    memset(&r->err, 0, sizeof r->err);
    if (!info)
        return json_pack("{s:b}", "available", 0);
    json_t *usage = json_object_get(info, "usage");
    json_t *out = json_is_object(usage) ? json_deep_copy(usage) : json_object();
    json_object_set_new(out, "available", json_true());
    json_object_set(out, "hostname", json_object_get(info, "hostname"));
    json_object_set(out, "cpus", json_object_get(info, "cpus"));
    long long total = json_integer_value(json_object_get(out, "memory_total_mb"));
    long long used = json_integer_value(json_object_get(out, "memory_used_mb"));
    long long disk_total = json_integer_value(json_object_get(out, "disk_total_gb"));
    long long disk_used = json_integer_value(json_object_get(out, "disk_used_gb"));
    json_object_set_new(out, "memory_percent", json_integer(total > 0 ? used * 100 / total : 0));
    json_object_set_new(out, "disk_percent", json_integer(disk_total > 0 ? disk_used * 100 / disk_total : 0));
    json_decref(info);
    return out;
}

/* Issue 19, for admins: each host's use as the database has it (no
 * libvirt call in the request): its state, its CPUs and memory (as the
 * helper last read them), the VMs on it, and the vCPUs and memory of
 * those running there (running or paused) against them. */
static json_t *hosts_usage(void)
{
    struct db_rows *rows = db_query(
        "SELECT h.id, h.name, h.state, h.enabled, COALESCE(h.cpus, 0), COALESCE(h.memory_mb, 0), "
        "COUNT(v.id), COALESCE(SUM(v.state IN ('running', 'paused')), 0), "
        "COALESCE(SUM(IF(v.state IN ('running', 'paused'), v.vcpus, 0)), 0), "
        "COALESCE(SUM(IF(v.state IN ('running', 'paused'), v.memory_mb, 0)), 0) "
        "FROM hosts h LEFT JOIN vms v ON v.host_id = h.id GROUP BY h.id ORDER BY h.id");
    if (!rows)
        return NULL;
    json_t *out = json_array();
    for (int i = 0; i < rows->nrows; i++) {
        long long cpus = db_cell_int(rows, i, 4, 0), memory = db_cell_int(rows, i, 5, 0);
        long long vcpus = db_cell_int(rows, i, 8, 0), used = db_cell_int(rows, i, 9, 0);
        json_array_append_new(out, json_pack(
            "{s:I, s:s, s:s, s:b, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "id",
            (json_int_t)db_cell_int(rows, i, 0, 0), "name", db_cell(rows, i, 1), "state",
            db_cell(rows, i, 2), "enabled", db_cell_int(rows, i, 3, 1) != 0, "cpus",
            (json_int_t)cpus, "memory_mb", (json_int_t)memory, "vms",
            (json_int_t)db_cell_int(rows, i, 6, 0), "running", (json_int_t)db_cell_int(rows, i, 7, 0),
            "vcpus_used", (json_int_t)vcpus, "memory_used_mb", (json_int_t)used,
            "vcpus_percent", (json_int_t)(cpus > 0 ? vcpus * 100 / cpus : 0),
            "memory_percent", (json_int_t)(memory > 0 ? used * 100 / memory : 0)));
    }
    db_rows_free(rows);
    return out;
}

static int dashboard(struct req *r)
{
    bool admin = r->user->role == ROLE_ADMIN;
    long long owner = admin ? 0 : r->user->id;
    long long sessions = count("SELECT COUNT(*) FROM sessions WHERE user_id = ?", r->user->id);
    json_t *states = sessions < 0 ? NULL : vm_states(owner);
    json_t *quota = states ? quota_bars(r->user->id) : NULL;
    json_t *jobs = quota ? recent_jobs(owner, false) : NULL;
    json_t *failures = jobs ? recent_jobs(owner, true) : NULL;
    if (!failures) {
        json_decref(states);
        json_decref(quota);
        json_decref(jobs);
        return fail_db(r);
    }
    long long vms = 0;
    size_t i;
    json_t *s;
    json_array_foreach(states, i, s)
        vms += json_integer_value(json_object_get(s, "count"));
    json_t *data = json_pack("{s:o, s:{s:I, s:I}, s:o, s:o, s:o, s:o, s:o}", "user",
                             user_to_json(r->user), "counts", "sessions", (json_int_t)sessions,
                             "vms", (json_int_t)vms, "vm_states", states, "quota", quota,
                             "recent_jobs", jobs, "failures", failures, "host", host_usage(r));
    /* What the whole portal holds, for admins only. */
    json_t *hosts = admin ? hosts_usage() : NULL;
    if (hosts)
        json_object_set_new(data, "hosts", hosts);
    json_object_set_new(data, "has_hosts", json_boolean(hosts != NULL));
    if (admin)
        json_object_set_new(
            data, "totals",
            json_pack("{s:I, s:I, s:I, s:I}", "users",
                      (json_int_t)count("SELECT COUNT(*) FROM users", 0), "users_enabled",
                      (json_int_t)count("SELECT COUNT(*) FROM users WHERE enabled = 1", 0),
                      "isos", (json_int_t)count("SELECT COUNT(*) FROM isos", 0), "templates",
                      (json_int_t)count("SELECT COUNT(*) FROM templates", 0)));
    r->data = data;
    return 0;
}

static const struct route routes[] = {
    { "GET", "/", dashboard, PERM_USER, ROUTE_PAGE, "dashboard.tpl", N_("Dashboard") },
    { "GET", "/dashboard", dashboard, PERM_USER, ROUTE_API,
      .summary = "The dashboard's counts and recent activity", .reply = REPLY_OBJECT,
      .statuses = STATUSES(502) },
    { NULL },
};

int main(int argc, char **argv)
{
    return app_run(argv[0], routes);
}
