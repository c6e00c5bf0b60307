/* vmm-metrics: the samples the helper keeps (lib/metrics_store.h) as
 * series for charts, a performance report per VM, and the Prometheus
 * exposition at /metrics. A user sees their own VMs' metrics, an admin
 * all and the host's; anyone else's VM is a 404. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "api_token.h"
#include "app.h"
#include "db.h"
#include "i18n.h"
#include "metrics_store.h"
#include "rbac.h"
#include "user.h"

/* The ranges the pages offer, and the widest a query may ask for. */
static const struct {
    const char *name;
    long long seconds;
} ranges[] = {
    { "1h", 3600 }, { "24h", 86400 }, { "7d", 7 * 86400 }, { "30d", 30 * 86400 }, { "1y", 366 * 86400 },
    { NULL, 0 },
};
#define MAX_SPAN_S (366LL * 86400)
#define MAX_BULK_VMS 500

/* A time in a query: Unix seconds or RFC 3339. */
static int parse_time(struct req *r, const char *name, time_t *out)
{
    const char *text = req_query(r, name);
    if (!text || !*text)
        return 0;
    char *end = NULL;
    long long v = strtoll(text, &end, 10);
    if (end && !*end && v > 0 && v < (1LL << 40)) {
        *out = (time_t)v;
        return 0;
    }
    GDateTime *dt = g_date_time_new_from_iso8601(text, NULL);
    if (!dt)
        return req_fail(r, 400, "invalid_time", name,
                        _("Give the time as Unix seconds or an RFC 3339 time."));
    *out = (time_t)g_date_time_to_unix(dt);
    g_date_time_unref(dt);
    return 0;
}

struct span {
    time_t from, to;
    unsigned long step;
};

/* from/to/step, or range=1h|24h|7d|30d|1y ending now (default 1h). */
static int parse_span(struct req *r, struct span *s)
{
    time_t now = time(NULL);
    const char *range = req_query(r, "range");
    long long seconds = 3600;
    if (range) {
        seconds = 0;
        for (int i = 0; ranges[i].name; i++)
            if (!strcmp(ranges[i].name, range))
                seconds = ranges[i].seconds;
        if (!seconds)
            return req_fail(r, 400, "invalid_range", "range",
                            _("The range must be one of 1h, 24h, 7d, 30d or 1y."));
    }
    s->to = now;
    s->from = 0;
    if (parse_time(r, "to", &s->to) < 0 || parse_time(r, "from", &s->from) < 0)
        return -1;
    if (!s->from)
        s->from = s->to - (time_t)seconds;
    if (s->from >= s->to)
        return req_fail(r, 400, "invalid_time", "from", _("from must be before to."));
    if (s->to - s->from > MAX_SPAN_S)
        return req_fail(r, 400, "invalid_time", "from", _("Ask for at most a year at once."));
    s->step = 0;
    const char *step = req_query(r, "step");
    if (step) {
        char *end = NULL;
        long long v = strtoll(step, &end, 10);
        if (!end || *end || v < 1 || v > 86400)
            return req_fail(r, 400, "invalid_step", "step",
                            _("The step is a number of seconds from 1 to 86400."));
        s->step = (unsigned long)v;
    }
    return 0;
}

/* The VM's name if the caller may see it; else a 404 (or 503) in r. */
static char *vm_visible(struct req *r, long long id)
{
    struct db_rows *rows = db_query("SELECT owner_id, name FROM vms WHERE id = ?", DB_INT(id));
    if (!rows) {
        fail_db(r);
        return NULL;
    }
    char *name = NULL;
    if (rows->nrows == 1 && rbac_may_touch(r->user, db_cell_int(rows, 0, 0, 0)))
        name = g_strdup(db_cell(rows, 0, 1));
    else
        req_fail(r, 404, "not_found", NULL, _("There is no such virtual machine."));
    db_rows_free(rows);
    return name;
}

static json_t *vm_series(struct req *r, long long id, const struct span *s)
{
    char name[32];
    snprintf(name, sizeof name, "vm-%lld", id);
    json_t *series = metrics_store_fetch(name, &metrics_vm_kind, s->from, s->to, s->step, &r->err);
    if (series)
        json_object_set_new(series, "vm_id", json_integer(id));
    return series;
}

static int vm_metrics(struct req *r)
{
    long long id = req_param(r, "id")->num;
    struct span s;
    char *name = vm_visible(r, id);
    if (!name)
        return -1;
    g_free(name);
    if (parse_span(r, &s) < 0)
        return -1;
    json_t *series = vm_series(r, id, &s);
    if (!series)
        return -1;
    req_set_object(r, "metrics", series);
    return 0;
}

/* "1,2,3" into ids; NULL: every VM the caller may see. */
static GArray *parse_ids(struct req *r)
{
    GArray *ids = g_array_new(FALSE, FALSE, sizeof(long long));
    const char *text = req_query(r, "ids");
    if (text && *text) {
        gchar **parts = g_strsplit(text, ",", -1);
        for (gchar **p = parts; *p; p++) {
            char *end = NULL;
            long long v = strtoll(*p, &end, 10);
            if (!**p || !end || *end || v < 1 || ids->len >= MAX_BULK_VMS) {
                req_fail(r, 400, "invalid_ids", "ids",
                         _("ids is a comma-separated list of at most 500 VM ids."));
                break;
            }
            g_array_append_val(ids, v);
        }
        g_strfreev(parts);
        if (r->err.status) {
            g_array_free(ids, TRUE);
            return NULL;
        }
        return ids;
    }
    long long owner = r->user->role == ROLE_ADMIN ? 0 : r->user->id;
    struct db_rows *rows = db_query("SELECT id FROM vms WHERE (? = 0 OR owner_id = ?) "
                                    "ORDER BY id LIMIT 500",
                                    DB_INT(owner), DB_INT(owner));
    if (!rows) {
        g_array_free(ids, TRUE);
        fail_db(r);
        return NULL;
    }
    for (int i = 0; i < rows->nrows; i++) {
        long long v = db_cell_int(rows, i, 0, 0);
        g_array_append_val(ids, v);
    }
    db_rows_free(rows);
    return ids;
}

/* Many VMs in one call (the dashboard's sparklines): {from, to, step,
 * vms: [{vm_id, name, timestamps, series}]}. */
static int vms_metrics(struct req *r)
{
    struct span s;
    if (parse_span(r, &s) < 0)
        return -1;
    GArray *ids = parse_ids(r);
    if (!ids)
        return -1;
    json_t *list = json_array();
    json_t *out = json_pack("{s:I, s:I, s:o}", "from", (json_int_t)s.from, "to",
                            (json_int_t)s.to, "vms", list);
    int rc = 0;
    for (guint i = 0; i < ids->len && rc == 0; i++) {
        long long id = g_array_index(ids, long long, i);
        char *name = vm_visible(r, id);
        json_t *series = name ? vm_series(r, id, &s) : NULL;
        if (series) {
            json_object_set_new(series, "name", json_string(name));
            json_array_append_new(list, series);
        } else {
            rc = -1;
        }
        g_free(name);
    }
    g_array_free(ids, TRUE);
    if (rc < 0) {
        json_decref(out);
        return -1;
    }
    req_set_object(r, "metrics", out);
    return 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* avg, peak and p95 (nearest rank) of the known points; nulls without any. */
static json_t *summary(json_t *points)
{
    size_t n = json_array_size(points), k = 0;
    double *v = g_new(double, n ? n : 1), sum = 0;
    for (size_t i = 0; i < n; i++) {
        json_t *p = json_array_get(points, i);
        if (json_is_number(p))
            sum += v[k++] = json_number_value(p);
    }
    json_t *out;
    if (k == 0) {
        out = json_pack("{s:n, s:n, s:n, s:i}", "avg", "peak", "p95", "samples", 0);
    } else {
        qsort(v, k, sizeof *v, cmp_double);
        size_t rank = (size_t)ceil(0.95 * (double)k);
        out = json_pack("{s:f, s:f, s:f, s:I}", "avg", round(sum / (double)k * 100) / 100,
                        "peak", v[k - 1], "p95", v[rank ? rank - 1 : 0], "samples",
                        (json_int_t)k);
    }
    g_free(v);
    return out;
}

/* A VM's performance over range (1h, 24h, 7d, 30d): per series the
 * average, peak and 95th percentile of the kept points at the range's
 * resolution (10 s, 1 min, 30 min, 30 min). */
static int vm_report(struct req *r)
{
    long long id = req_param(r, "id")->num;
    struct span s;
    char *name = vm_visible(r, id);
    if (!name || parse_span(r, &s) < 0) {
        g_free(name);
        return -1;
    }
    json_t *series = vm_series(r, id, &s);
    if (!series) {
        g_free(name);
        return -1;
    }
    json_t *report = json_pack("{s:I, s:s, s:s, s:I, s:I, s:O}", "vm_id", (json_int_t)id, "name",
                               name, "range", req_query(r, "range") ? req_query(r, "range") : "1h",
                               "from", (json_int_t)s.from, "to", (json_int_t)s.to, "step",
                               json_object_get(series, "step"));
    json_t *all = json_object_get(series, "series");
    json_t *by_series = json_object();
    for (int i = 0; i < metrics_vm_kind.n; i++)
        json_object_set_new(by_series, metrics_vm_kind.names[i],
                            summary(json_object_get(all, metrics_vm_kind.names[i])));
    json_object_set_new(report, "series", by_series);
    json_decref(series);
    g_free(name);
    req_set_object(r, "report", report);
    return 0;
}

static int host_metrics(struct req *r)
{
    struct span s;
    if (parse_span(r, &s) < 0)
        return -1;
    json_t *series = metrics_store_fetch("host", &metrics_host_kind, s.from, s.to, s.step, &r->err);
    if (!series)
        return -1;
    req_set_object(r, "metrics", series);
    return 0;
}

/* ----------------------------------------------------------- Prometheus --- */

/* An admin (session, or bearer token though this is outside /api/v1), or a
 * scraper on the host itself. */
static bool may_scrape(struct req *r)
{
    if (api_token_present(r)) {
        if (api_token_resume(r) < 0)
            return false;
        return r->user && r->user->role == ROLE_ADMIN;
    }
    if (r->user && r->user->role == ROLE_ADMIN)
        return true;
    const char *addr = r->remote_addr ? r->remote_addr : "";
    return !strcmp(addr, "127.0.0.1") || !strcmp(addr, "::1") || !strncmp(addr, "127.", 4);
}

/* A label value as the text format wants it: \\, \" and \n escaped. */
static void label_value(GString *out, const char *v)
{
    for (; v && *v; v++) {
        if (*v == '\\' || *v == '"')
            g_string_append_c(out, '\\');
        if (*v == '\n') {
            g_string_append(out, "\\n");
            continue;
        }
        g_string_append_c(out, *v);
    }
}

/* How each stored series is exposed: name, help, scale to base units. */
static const struct {
    const char *name, *help;
    double scale;
} exposed[] = {
    { "cpu_usage_ratio", "CPU in use, 1 = all vCPUs (host: all CPUs) busy", 0.01 },
    { "memory_used_bytes", "Memory in use", 1048576.0 },
    { "disk_read_bytes_per_second", "Disk reads", 1 },
    { "disk_written_bytes_per_second", "Disk writes", 1 },
    { "network_received_bytes_per_second", "Network traffic received", 1 },
    { "network_transmitted_bytes_per_second", "Network traffic sent", 1 },
    { "memory_total_bytes", "Memory installed", 1048576.0 },
    { "pressure_cpu_ratio", "Share of the last 10 s some task waited for CPU", 0.01 },
    { "pressure_memory_ratio", "Share of the last 10 s some task waited for memory", 0.01 },
    { "pressure_io_ratio", "Share of the last 10 s some task waited for I/O", 0.01 },
};

/* Values older than this are a stopped VM or a stopped sampler: not shown. */
static bool fresh(time_t t)
{
    return t >= time(NULL) - 3 * metrics_interval_s();
}

static void expose_host(GString *out)
{
    double v[METRICS_MAX_SERIES];
    time_t t = 0;
    if (metrics_store_last("host", &metrics_host_kind, &t, v) < 0 || !fresh(t))
        return;
    for (int i = 0; i < metrics_host_kind.n; i++) {
        if (isnan(v[i]))
            continue;
        g_string_append_printf(out, "# HELP vmm_host_%s %s.\n# TYPE vmm_host_%s gauge\n"
                               "vmm_host_%s %.6g\n",
                               exposed[i].name, exposed[i].help, exposed[i].name,
                               exposed[i].name, v[i] * exposed[i].scale);
    }
}

static int expose_vms(struct req *r, GString *out)
{
    struct db_rows *rows = db_query("SELECT v.id, v.name, u.username FROM vms v "
                                    "JOIN users u ON u.id = v.owner_id ORDER BY v.id");
    if (!rows)
        return fail_db(r);
    GString *lines[METRICS_VM_SERIES];
    for (int i = 0; i < METRICS_VM_SERIES; i++)
        lines[i] = g_string_new(NULL);
    for (int row = 0; row < rows->nrows; row++) {
        char name[32];
        double v[METRICS_MAX_SERIES];
        time_t t = 0;
        snprintf(name, sizeof name, "vm-%lld", db_cell_int(rows, row, 0, 0));
        if (metrics_store_last(name, &metrics_vm_kind, &t, v) < 0 || !fresh(t))
            continue;
        for (int i = 0; i < METRICS_VM_SERIES; i++) {
            if (isnan(v[i]))
                continue;
            g_string_append_printf(lines[i], "vmm_vm_%s{vm_id=\"%lld\",vm_name=\"",
                                   exposed[i].name, db_cell_int(rows, row, 0, 0));
            label_value(lines[i], db_cell(rows, row, 1));
            g_string_append(lines[i], "\",owner=\"");
            label_value(lines[i], db_cell(rows, row, 2));
            g_string_append_printf(lines[i], "\"} %.6g\n", v[i] * exposed[i].scale);
        }
    }
    db_rows_free(rows);
    /* One family at a time, as the format requires. */
    for (int i = 0; i < METRICS_VM_SERIES; i++) {
        g_string_append_printf(out, "# HELP vmm_vm_%s %s.\n# TYPE vmm_vm_%s gauge\n",
                               exposed[i].name, exposed[i].help, exposed[i].name);
        g_string_append_len(out, lines[i]->str, (gssize)lines[i]->len);
        g_string_free(lines[i], TRUE);
    }
    return 0;
}

static int prometheus(struct req *r)
{
    if (!may_scrape(r)) {
        if (r->err.status)
            return -1;
        return req_fail(r, 403, "forbidden", NULL,
                        _("/metrics is for administrators and for scrapers on this host."));
    }
    GString *out = g_string_new(NULL);
    expose_host(out);
    if (expose_vms(r, out) < 0) {
        g_string_free(out, TRUE);
        return -1;
    }
    g_string_append_len(r->resp_body, out->str, (gssize)out->len);
    g_string_free(out, TRUE);
    r->resp_type = "text/plain; version=0.0.4; charset=utf-8";
    r->resp_raw = true;
    return 0;
}

static const struct route routes[] = {
    { "GET", "/vms/metrics", vms_metrics, PERM_USER, ROUTE_API,
      .summary = "Latest metrics of the VMs the caller may see", .reply = REPLY_OBJECT,
      .statuses = STATUSES(400, 404) },
    { "GET", "/vms/{id:int}/metrics", vm_metrics, PERM_USER, ROUTE_API,
      .summary = "A VM's metric series (from, to, step)", .reply = REPLY_OBJECT,
      .statuses = STATUSES(400, 404) },
    { "GET", "/vms/{id:int}/performance", vm_report, PERM_USER, ROUTE_API,
      .summary = "A VM's performance summary", .reply = REPLY_OBJECT,
      .statuses = STATUSES(400, 404) },
    { "GET", "/host/metrics", host_metrics, PERM_ADMIN, ROUTE_API,
      .summary = "The host's metric series", .reply = REPLY_OBJECT,
      .statuses = STATUSES(400) },
    { "GET", "/metrics", prometheus, PERM_ANON, ROUTE_PAGE },
    { NULL },
};

int main(int argc, char **argv)
{
    return app_run(argv[0], routes);
}
