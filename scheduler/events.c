/* alerts.events: the events the helper and the database recorded in
 * alert_events (a VM crashed, a VM stopped without the portal asking, a
 * job failed) become alerts of the rules that watch them, with the same
 * channels and actions as any alert. Each event is claimed once
 * (handled_at), so two schedulers never alert twice. Dedup: while a VM's
 * alert is open (the VM is still down) a new event only counts on it;
 * cooldown: within the rule's repeat_s after an alert resolved, the next
 * event reopens it without a message (a crash loop is one alert). A VM
 * alert resolves, with a message, when the VM runs again; a failed job's
 * alert is over as it fires. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alerts.h"
#include "db.h"
#include "log.h"
#include "notify.h"
#include "tasks.h"

struct event {
    long long id, owner_id, vm_id, job_id;
    const char *kind, *detail;
};

/* The alert of a rule for this object within its cooldown (0: none). */
static long long recent_alert(const struct rule *r, const char *object)
{
    struct db_rows *rows = db_query(
        "SELECT id FROM alerts WHERE rule_id = ? AND object_key = ? AND kind = 'event' AND "
        "open_key IS NULL AND resolved_at > UTC_TIMESTAMP() - INTERVAL ? SECOND "
        "ORDER BY id DESC LIMIT 1", DB_INT(r->id), DB_TEXT(object), DB_INT(r->repeat_s));
    long long id = rows && rows->nrows ? db_cell_int(rows, 0, 0, 0) : 0;
    db_rows_free(rows);
    return id;
}

static void alert_event(const struct rule *r, const struct event *e)
{
    char object[32], key[64];
    bool job = !strcmp(e->kind, "job_failed");
    snprintf(object, sizeof object, job ? "job:%lld" : "vm:%lld", job ? e->job_id : e->vm_id);
    snprintf(key, sizeof key, "r%lld:%s", r->id, object);
    /* value counts the events the alert stands for. */
    unsigned long long counted = 0;
    if (!job && db_exec_count("UPDATE alerts SET value = value + 1, message = ? WHERE open_key = ?",
                              &counted, DB_TEXT(e->detail), DB_TEXT(key)) == 0 && counted)
        return;   /* still open: the same outage */
    long long again = job ? 0 : recent_alert(r, object);
    if (again) {
        db_exec("UPDATE alerts SET state = 'firing', value = value + 1, message = ?, "
                "resolved_at = NULL, open_key = ? WHERE id = ?",
                DB_TEXT(e->detail), DB_TEXT(key), DB_INT(again));
        return;
    }
    long long id = 0;
    if (db_exec_id("INSERT INTO alerts (rule_id, owner_id, vm_id, object_key, kind, state, "
                   "severity, metric, value, message, open_key) "
                   "VALUES (?, ?, ?, ?, 'event', 'pending', ?, ?, 1, ?, ?)",
                   &id, DB_INT(r->id), DB_INT(r->owner_id), e->vm_id ? DB_INT(e->vm_id) : DB_NULL,
                   DB_TEXT(object), DB_TEXT(r->severity), DB_TEXT(e->kind), DB_TEXT(e->detail),
                   job ? DB_NULL : DB_TEXT(key)) < 0)
        return;
    alert_fire(r, id, job ? 0 : e->vm_id, "firing");
    if (job)   /* nothing to wait for: over as it is told */
        db_exec("UPDATE alerts SET state = 'resolved', resolved_at = UTC_TIMESTAMP() WHERE id = ?",
                DB_INT(id));
}

/* Every enabled rule of the event's kind whose scope holds it: the VM's
 * (or the job's VM's), its owner's, or every one (host scope, admins). */
static void handle(const struct event *e)
{
    struct db_rows *rows = alert_rules_query(
        " AND metric = ? AND (scope = 'host' OR (scope = 'vm' AND vm_id = ?) OR "
        "(scope = 'user' AND user_id = ?))",
        DB_PARAMS(DB_TEXT(e->kind), DB_INT(e->vm_id), DB_INT(e->owner_id)));
    for (int i = 0; rows && i < rows->nrows; i++) {
        struct rule r;
        alert_rule_read(rows, i, &r);
        alert_event(&r, e);
    }
    db_rows_free(rows);
}

/* A VM that runs again ends its crash or stop alert. */
static void resolve_running(void)
{
    struct db_rows *rows = db_query(
        "SELECT a.id, a.rule_id, IFNULL(r.silenced_until > UTC_TIMESTAMP(), 0) FROM alerts a "
        "JOIN vms v ON v.id = a.vm_id LEFT JOIN alert_rules r ON r.id = a.rule_id "
        "WHERE a.kind = 'event' AND a.open_key IS NOT NULL AND v.state = 'running'");
    for (int i = 0; rows && i < rows->nrows; i++) {
        unsigned long long n = 0;
        long long id = db_cell_int(rows, i, 0, 0);
        if (db_exec_count("UPDATE alerts SET state = 'resolved', resolved_at = UTC_TIMESTAMP(), "
                          "open_key = NULL WHERE id = ? AND open_key IS NOT NULL", &n,
                          DB_INT(id)) == 0 && n == 1 && db_cell(rows, i, 1) &&
            !db_cell_int(rows, i, 2, 0))
            notify_queue(db_cell_int(rows, i, 1, 0), id, "resolved");
    }
    db_rows_free(rows);
}

int alerts_events(time_t now, char *error, size_t error_size)
{
    struct db_rows *rows = db_query(
        "SELECT id, kind, owner_id, IFNULL(vm_id, 0), IFNULL(job_id, 0), detail FROM alert_events "
        "WHERE handled_at IS NULL ORDER BY id LIMIT 500");
    if (!rows) {
        snprintf(error, error_size, "cannot read the events");
        return -1;
    }
    for (int i = 0; i < rows->nrows; i++) {
        struct event e = {
            .id = db_cell_int(rows, i, 0, 0), .kind = db_cell(rows, i, 1),
            .owner_id = db_cell_int(rows, i, 2, 0), .vm_id = db_cell_int(rows, i, 3, 0),
            .job_id = db_cell_int(rows, i, 4, 0), .detail = db_cell(rows, i, 5),
        };
        unsigned long long claimed = 0;
        if (db_exec_count("UPDATE alert_events SET handled_at = UTC_TIMESTAMP() WHERE id = ? AND "
                          "handled_at IS NULL", &claimed, DB_INT(e.id)) == 0 && claimed == 1)
            handle(&e);
    }
    db_rows_free(rows);
    resolve_running();
    return 0;
}
