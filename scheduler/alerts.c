/* Alert evaluation: every rule against the latest sample of each object in
 * its scope. An object breaching the condition opens a pending alert;
 * still breaching after duration_s it fires (notifications queued, the
 * action taken); it resolves when the value is back past the threshold by
 * the rule's hysteresis, so a value hovering at the threshold does not
 * flap. A firing alert is notified again every repeat_s (0: never); a
 * silenced rule still tracks its alerts but sends nothing. All state is in
 * the alerts table (one open row per rule and object), so a restarted
 * scheduler carries on where it stopped. */
#include <glib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "log.h"
#include "metrics_store.h"
#include "alerts.h"
#include "notify.h"
#include "tasks.h"


static bool compare(double v, const char *op, double t)
{
    if (!strcmp(op, ">"))
        return v > t;
    if (!strcmp(op, "<"))
        return v < t;
    if (!strcmp(op, ">="))
        return v >= t;
    if (!strcmp(op, "<="))
        return v <= t;
    if (!strcmp(op, "="))
        return fabs(v - t) < 1e-9;
    return fabs(v - t) >= 1e-9;   /* != */
}

/* Back to normal, hysteresis included: for "> 80" with hysteresis 5, the
 * value must fall below 75. */
static bool cleared(double v, const struct rule *r)
{
    double h = r->hysteresis;
    if (!strcmp(r->op, ">") || !strcmp(r->op, ">="))
        return v < r->threshold - h || (h == 0 && !compare(v, r->op, r->threshold));
    if (!strcmp(r->op, "<") || !strcmp(r->op, "<="))
        return v > r->threshold + h || (h == 0 && !compare(v, r->op, r->threshold));
    if (!strcmp(r->op, "="))
        return fabs(v - r->threshold) > h || (h == 0 && !compare(v, r->op, r->threshold));
    return fabs(v - r->threshold) <= h && !compare(v, r->op, r->threshold);
}

/* The mean of the known points of one series. */
static double mean_of(json_t *series, const char *name)
{
    json_t *points = json_object_get(series, name), *p;
    size_t i, n = 0;
    double sum = 0;
    json_array_foreach(points, i, p)
        if (json_is_number(p)) {
            sum += json_number_value(p);
            n++;
        }
    return n ? sum / (double)n : NAN;
}

/* The rule's metric of one object over the last 10 s (at least the last
 * sample): cpu %, memory % (of the VM's memory, or the host's), disk and
 * network bytes/s (read + write, in + out). A mean, so that one noisy
 * sample on a busy host neither fires nor drops a pending alert. NAN when
 * there is no recent sample (a stopped VM, a stopped sampler). */
static double object_value(long long vm_id, long long memory_mb, const char *metric, time_t now)
{
    char name[32];
    const struct metrics_kind *kind = vm_id ? &metrics_vm_kind : &metrics_host_kind;
    if (vm_id)
        snprintf(name, sizeof name, "vm-%lld", vm_id);
    else
        snprintf(name, sizeof name, "host");
    int interval = metrics_interval_s();
    time_t span = interval * 2 > 10 ? interval * 2 : 10;
    struct err err = { 0 };
    json_t *m = metrics_store_fetch(name, kind, now - span, now, (unsigned long)interval, &err);
    json_t *series = json_object_get(m, "series");
    double v = NAN;
    if (!strcmp(metric, "cpu")) {
        v = mean_of(series, "cpu_percent");
    } else if (!strcmp(metric, "memory")) {
        double used = mean_of(series, "memory_used_mb");
        double total = vm_id ? (double)memory_mb : mean_of(series, "memory_total_mb");
        v = total > 0 ? 100.0 * used / total : NAN;
    } else if (!strcmp(metric, "disk")) {
        v = mean_of(series, "disk_rd_bytes_per_s") + mean_of(series, "disk_wr_bytes_per_s");
    } else {
        v = mean_of(series, "net_rx_bytes_per_s") + mean_of(series, "net_tx_bytes_per_s");
    }
    json_decref(m);
    return v;
}

struct open_alert {
    long long id;
    bool firing;
    long long age_s, since_notified_s;   /* -1: never notified */
    double peak;
};

static int find_open(const char *key, struct open_alert *a)
{
    struct db_rows *rows = db_query(
        "SELECT id, state, TIMESTAMPDIFF(SECOND, started_at, UTC_TIMESTAMP()), "
        "IFNULL(TIMESTAMPDIFF(SECOND, notified_at, UTC_TIMESTAMP()), -1), IFNULL(peak_value, 0) "
        "FROM alerts WHERE open_key = ?", DB_TEXT(key));
    if (!rows)
        return -1;
    int found = rows->nrows == 1;
    if (found) {
        a->id = db_cell_int(rows, 0, 0, 0);
        a->firing = !strcmp(db_cell(rows, 0, 1), "firing");
        a->age_s = db_cell_int(rows, 0, 2, 0);
        a->since_notified_s = db_cell_int(rows, 0, 3, -1);
        a->peak = strtod(db_cell(rows, 0, 4), NULL);
    }
    db_rows_free(rows);
    return found;
}

#define NUM(buf, v) (snprintf(buf, sizeof buf, "%.6g", (double)(v)), buf)

void alert_fire(const struct rule *r, long long alert_id, long long vm_id, const char *event)
{
    if (db_exec("UPDATE alerts SET state = 'firing', fired_at = IFNULL(fired_at, UTC_TIMESTAMP()) "
                "WHERE id = ?", DB_INT(alert_id)) < 0)
        return;
    if (!r->silenced) {
        notify_queue(r->id, alert_id, event);
        db_exec("UPDATE alerts SET notified_at = UTC_TIMESTAMP() WHERE id = ?", DB_INT(alert_id));
    }
    if (vm_id && strcmp(r->action, "notify") && !strcmp(event, "firing"))
        notify_vm_action(r->owner_id, r->id, alert_id, vm_id, r->action);
}

/* One object of a rule ("vm:12", "host", "pool:default") at value v. */
static void evaluate_object(const struct rule *r, long long vm_id, const char *object, double v)
{
    char key[300], value_text[32], threshold_text[32];
    snprintf(key, sizeof key, "r%lld:%s", r->id, object);
    struct open_alert a = { 0 };
    int open = find_open(key, &a);
    if (open < 0)
        return;
    if (isnan(v)) {
        /* No data: a pending alert did not last; a firing one waits. */
        if (open && !a.firing)
            db_exec("DELETE FROM alerts WHERE id = ?", DB_INT(a.id));
        return;
    }
    bool breach = compare(v, r->op, r->threshold);
    if (!open) {
        if (!breach)
            return;
        long long id = 0;
        if (db_exec_id("INSERT INTO alerts (rule_id, owner_id, vm_id, object_key, state, severity, "
                       "metric, value, peak_value, threshold, open_key) "
                       "VALUES (?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?, ?)",
                       &id, DB_INT(r->id), DB_INT(r->owner_id), vm_id ? DB_INT(vm_id) : DB_NULL,
                       DB_TEXT(key + strcspn(key, ":") + 1), DB_TEXT(r->severity),
                       DB_TEXT(r->metric), DB_TEXT(NUM(value_text, v)), DB_TEXT(value_text),
                       DB_TEXT(NUM(threshold_text, r->threshold)), DB_TEXT(key)) < 0)
            return;
        if (r->duration_s == 0)
            alert_fire(r, id, vm_id, "firing");
        return;
    }
    double peak = compare(v, ">", a.peak) ? v : a.peak;
    char peak_text[32];
    db_exec("UPDATE alerts SET value = ?, peak_value = ? WHERE id = ?", DB_TEXT(NUM(value_text, v)),
            DB_TEXT(NUM(peak_text, peak)), DB_INT(a.id));
    if (!a.firing) {
        if (!breach)
            db_exec("DELETE FROM alerts WHERE id = ?", DB_INT(a.id));   /* never lasted */
        else if (a.age_s >= r->duration_s)
            alert_fire(r, a.id, vm_id, "firing");
        return;
    }
    if (cleared(v, r)) {
        if (db_exec("UPDATE alerts SET state = 'resolved', resolved_at = UTC_TIMESTAMP(), "
                    "open_key = NULL WHERE id = ?", DB_INT(a.id)) == 0 && !r->silenced)
            notify_queue(r->id, a.id, "resolved");
        return;
    }
    if (r->repeat_s > 0 && a.since_notified_s >= r->repeat_s && !r->silenced) {
        notify_queue(r->id, a.id, "repeat");
        db_exec("UPDATE alerts SET notified_at = UTC_TIMESTAMP() WHERE id = ?", DB_INT(a.id));
    }
}

/* Seconds since the helper's last sample of the host reached the store:
 * it grows while the helper (or the host under it) does not answer. */
static double sample_age(time_t now)
{
    double values[METRICS_MAX_SERIES];
    time_t t = 0;
    if (metrics_store_last("host", &metrics_host_kind, &t, values) < 0)
        return NAN;   /* never sampled: nothing to compare with */
    return (double)(now - t);
}

/* Each pool's free space in percent, as last sampled (an hour at most:
 * a pool gone from libvirt stops being watched). */
static void evaluate_pools(const struct rule *r)
{
    struct db_rows *rows = db_query(
        "SELECT pool, 100 * available_bytes / capacity_bytes FROM storage_pool_space "
        "WHERE capacity_bytes > 0 AND sampled_at > UTC_TIMESTAMP() - INTERVAL 1 HOUR");
    for (int i = 0; rows && i < rows->nrows; i++) {
        char object[300];
        snprintf(object, sizeof object, "pool:%s", db_cell(rows, i, 0));
        evaluate_object(r, 0, object, strtod(db_cell(rows, i, 1), NULL));
    }
    db_rows_free(rows);
}

static void evaluate_rule(const struct rule *r, time_t now)
{
    if (alert_metric_is_event(r->metric))
        return;   /* scheduler/events.c */
    if (!strcmp(r->metric, "pool_free")) {
        evaluate_pools(r);
        return;
    }
    if (!strcmp(r->metric, "host_unreachable")) {
        evaluate_object(r, 0, "host", sample_age(now));
        return;
    }
    if (!strcmp(r->scope, "host")) {
        evaluate_object(r, 0, "host", object_value(0, 0, r->metric, now));
        return;
    }
    struct db_rows *rows =
        !strcmp(r->scope, "vm")
            ? db_query("SELECT id, memory_mb FROM vms WHERE id = ?", DB_INT(r->vm_id))
            : db_query("SELECT id, memory_mb FROM vms WHERE owner_id = ?", DB_INT(r->user_id));
    for (int i = 0; rows && i < rows->nrows; i++) {
        char object[32];
        long long vm_id = db_cell_int(rows, i, 0, 0);
        snprintf(object, sizeof object, "vm:%lld", vm_id);
        evaluate_object(r, vm_id, object,
                        object_value(vm_id, db_cell_int(rows, i, 1, 0), r->metric, now));
    }
    db_rows_free(rows);
}

bool alert_metric_is_event(const char *metric)
{
    return !strcmp(metric, "vm_crashed") || !strcmp(metric, "vm_stopped") ||
           !strcmp(metric, "job_failed");
}

struct db_rows *alert_rules_query(const char *where, const struct db_param *params)
{
    char *sql = g_strdup_printf(
        "SELECT id, owner_id, IFNULL(vm_id, 0), IFNULL(user_id, 0), duration_s, repeat_s, metric, "
        "scope, operator, severity, action, threshold, hysteresis, "
        "IFNULL(silenced_until > UTC_TIMESTAMP(), 0) FROM alert_rules WHERE enabled = 1%s", where);
    struct db_rows *rows = db_query_params(sql, params);
    g_free(sql);
    return rows;
}

void alert_rule_read(struct db_rows *rows, int i, struct rule *r)
{
    *r = (struct rule){
        .id = db_cell_int(rows, i, 0, 0), .owner_id = db_cell_int(rows, i, 1, 0),
        .vm_id = db_cell_int(rows, i, 2, 0), .user_id = db_cell_int(rows, i, 3, 0),
        .duration_s = db_cell_int(rows, i, 4, 0), .repeat_s = db_cell_int(rows, i, 5, 0),
        .threshold = strtod(db_cell(rows, i, 11), NULL),
        .hysteresis = strtod(db_cell(rows, i, 12), NULL),
        .silenced = db_cell_int(rows, i, 13, 0) != 0,
    };
    snprintf(r->metric, sizeof r->metric, "%s", db_cell(rows, i, 6));
    snprintf(r->scope, sizeof r->scope, "%s", db_cell(rows, i, 7));
    snprintf(r->op, sizeof r->op, "%s", db_cell(rows, i, 8));
    snprintf(r->severity, sizeof r->severity, "%s", db_cell(rows, i, 9));
    snprintf(r->action, sizeof r->action, "%s", db_cell(rows, i, 10));
}

int alerts_evaluate(time_t now, char *error, size_t error_size)
{
    struct db_rows *rows = alert_rules_query("", DB_PARAMS());
    if (!rows) {
        snprintf(error, error_size, "cannot read the rules");
        return -1;
    }
    for (int i = 0; i < rows->nrows; i++) {
        struct rule r;
        alert_rule_read(rows, i, &r);
        evaluate_rule(&r, now);
    }
    db_rows_free(rows);
    return 0;
}
