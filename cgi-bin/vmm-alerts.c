/* vmm-alerts: alert rules, their alerts (the history), notification
 * channels with their delivery log and Test button. vmm-scheduler
 * evaluates the rules and delivers (scheduler/). A user owns their rules
 * and channels and sees alerts of their own VMs; an admin sees all and
 * alone may watch the host. Secrets of a channel are write-only. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "audit.h"
#include "db.h"
#include "i18n.h"
#include "list.h"
#include "rbac.h"
#include "user.h"

/* Sampled values, then events (alert_events: no condition or threshold). */
static const char *const metrics[] = { "cpu", "memory", "disk", "network", "pool_free",
                                       "host_unreachable", "vm_crashed", "vm_stopped",
                                       "job_failed", NULL };
/* The PUT /vms/{id}/alerts shape: a VM's own values. */
static const char *const vm_metrics[] = { "cpu", "memory", "disk", "network", NULL };

static const char *const conditions[] = { ">", "<", "=", "!=", ">=", "<=", NULL };
static const char *const severities[] = { "info", "warning", "critical", NULL };
static const char *const actions[] = { "notify", "restart", "suspend", NULL };
static const char *const channel_types[] = { "email", "webhook", "dingtalk", NULL };
static const char *const languages[] = { "en", "zh-CN", NULL };

/* A double bound as text (the db layer binds integers and strings). */
#define NUM_TEXT(buf, v) (snprintf(buf, sizeof buf, "%.17g", (double)(v)), buf)

static bool is_event(const char *metric)
{
    return !strcmp(metric, "vm_crashed") || !strcmp(metric, "vm_stopped") ||
           !strcmp(metric, "job_failed");
}

/* ----------------------------------------------------------- the forms --- */

/* What the forms' choices say, beside the values the API takes. */
struct choice {
    const char *value, *label;
};
static const struct choice metric_choices[] = {
    { "cpu", N_("CPU (%)") }, { "memory", N_("Memory (%)") },
    { "disk", N_("Disk I/O (bytes/s)") }, { "network", N_("Network traffic (bytes/s)") },
    { "pool_free", N_("Free space of a storage pool (%, host)") },
    { "host_unreachable", N_("Seconds without samples from the host (host)") },
    { "vm_crashed", N_("Event: virtual machine crashed") },
    { "vm_stopped", N_("Event: virtual machine stopped unexpectedly") },
    { "job_failed", N_("Event: job failed") }, { NULL },
};
static const struct choice condition_choices[] = {
    { ">", ">" }, { ">=", "≥" }, { "<", "<" }, { "<=", "≤" }, { "=", "=" }, { "!=", "≠" }, { NULL },
};
static const struct choice severity_choices[] = {
    { "info", N_("Info") }, { "warning", N_("Warning") }, { "critical", N_("Critical") }, { NULL },
};
static const struct choice action_choices[] = {
    { "notify", N_("Notify only") }, { "restart", N_("Notify and restart the VM") },
    { "suspend", N_("Notify and suspend the VM") }, { NULL },
};
static const struct choice type_choices[] = {
    { "webhook", N_("Webhook") }, { "dingtalk", N_("DingTalk robot") }, { "email", N_("Email") },
    { NULL },
};
static const struct choice language_choices[] = {
    { "en", "English" }, { "zh-CN", "简体中文" }, { NULL },
};

/* [{value, label, selected}] with current (or, after a failed form, what
 * was typed) selected. */
static json_t *options(const struct choice *choices, const char *current)
{
    json_t *list = json_array();
    for (const struct choice *c = choices; c->value; c++)
        json_array_append_new(list, json_pack("{s:s, s:s, s:b}", "value", c->value, "label",
                                              _(c->label), "selected",
                                              current && !strcmp(current, c->value)));
    return list;
}

/* The caller's channels as checkboxes, those of ids checked. */
static json_t *channel_choices(struct req *r, json_t *ids)
{
    long long owner = r->user->role == ROLE_ADMIN ? 0 : r->user->id;
    struct db_rows *rows = db_query("SELECT id, name, type FROM notification_channels "
                                    "WHERE ? = 0 OR owner_id = ? ORDER BY name, id",
                                    DB_INT(owner), DB_INT(owner));
    json_t *list = json_array();
    for (int i = 0; rows && i < rows->nrows; i++) {
        long long id = db_cell_int(rows, i, 0, 0);
        bool checked = false;
        size_t k;
        json_t *v;
        json_array_foreach(ids, k, v)
            checked = checked || json_integer_value(v) == id;
        json_array_append_new(list, json_pack("{s:I, s:s, s:s, s:b}", "id", (json_int_t)id,
                                              "name", db_cell(rows, i, 1), "type",
                                              db_cell(rows, i, 2), "checked", checked));
    }
    db_rows_free(rows);
    return list;
}

/* rule's string member key, or dflt. */
static const char *member_or(json_t *rule, const char *key, const char *dflt)
{
    const char *v = json_string_value(json_object_get(rule, key));
    return v ? v : dflt;
}

/* The choices of the rule form, for a rule (NULL: a new one). */
static json_t *rule_form(struct req *r, json_t *rule)
{
    return json_pack(
        "{s:o, s:o, s:o, s:o, s:o}", "metric_options",
        options(metric_choices, member_or(rule, "metric", "cpu")), "condition_options",
        options(condition_choices, member_or(rule, "condition", ">")), "severity_options",
        options(severity_choices, member_or(rule, "severity", "warning")), "action_options",
        options(action_choices, member_or(rule, "action", "notify")), "channel_options",
        channel_choices(r, json_object_get(rule, "channel_ids")));
}

/* ----------------------------------------------------------------- rules --- */

#define RULE_COLUMNS                                                                       \
    "r.id, r.owner_id, r.name, r.metric, r.scope, r.vm_id, r.user_id, r.operator, "       \
    "r.threshold, r.hysteresis, r.duration_s, r.severity, r.action, r.repeat_s, "        \
    "DATE_FORMAT(r.silenced_until, '%Y-%m-%dT%TZ'), r.enabled, "                          \
    "DATE_FORMAT(r.created_at, '%Y-%m-%dT%TZ'), "                                          \
    "(SELECT GROUP_CONCAT(c.channel_id ORDER BY c.channel_id) FROM alert_rule_channels c " \
    "WHERE c.rule_id = r.id)"

static json_t *id_or_null(const struct db_rows *rows, int i, int col)
{
    return db_cell(rows, i, col) ? json_integer(db_cell_int(rows, i, col, 0)) : json_null();
}

static json_t *rule_from_row(const struct db_rows *rows, int i)
{
    const char *scope = db_cell(rows, i, 4);
    char target[48];
    if (!strcmp(scope, "vm"))
        snprintf(target, sizeof target, "vm:%s", db_cell(rows, i, 5));
    else if (!strcmp(scope, "user"))
        snprintf(target, sizeof target, "user:%s", db_cell(rows, i, 6));
    else
        snprintf(target, sizeof target, "host");
    json_t *channels = json_array();
    if (db_cell(rows, i, 17)) {
        gchar **ids = g_strsplit(db_cell(rows, i, 17), ",", -1);
        for (gchar **p = ids; *p; p++)
            json_array_append_new(channels, json_integer(strtoll(*p, NULL, 10)));
        g_strfreev(ids);
    }
    return json_pack("{s:I, s:I, s:s, s:s, s:s, s:s, s:o, s:o, s:s, s:f, s:f, s:I, s:s, s:s, "
                     "s:I, s:s?, s:b, s:s, s:o}",
                     "id", (json_int_t)db_cell_int(rows, i, 0, 0), "owner_id",
                     (json_int_t)db_cell_int(rows, i, 1, 0), "name", db_cell(rows, i, 2),
                     "metric", db_cell(rows, i, 3), "scope", scope, "target", target, "vm_id",
                     id_or_null(rows, i, 5), "user_id", id_or_null(rows, i, 6), "condition",
                     db_cell(rows, i, 7), "threshold", strtod(db_cell(rows, i, 8), NULL),
                     "hysteresis", strtod(db_cell(rows, i, 9), NULL), "duration_s",
                     (json_int_t)db_cell_int(rows, i, 10, 0), "severity", db_cell(rows, i, 11),
                     "action", db_cell(rows, i, 12), "repeat_s",
                     (json_int_t)db_cell_int(rows, i, 13, 0), "silenced_until",
                     db_cell(rows, i, 14), "enabled", (int)db_cell_int(rows, i, 15, 1),
                     "created_at", db_cell(rows, i, 16), "channel_ids", channels);
}

static json_t *rule_visible(struct req *r, long long id)
{
    return list_one_owned(r, db_query("SELECT " RULE_COLUMNS " FROM alert_rules r WHERE r.id = ?",
                                      DB_INT(id)),
                          1, rule_from_row, _("There is no such alert rule."));
}

static const struct list_sort rule_sorts[] = { { "id", "r.id" }, { "name", "r.name" }, { NULL } };

static int rules_list(struct req *r)
{
    struct list_query q;
    if (list_query_parse(r, rule_sorts, &q) < 0)
        return -1;
    long long owner = r->user->role == ROLE_ADMIN ? 0 : r->user->id;
    /* The page's new-rule form: after a failed one, what was typed. */
    if (!r->api) {
        json_decref(r->page_extra);
        r->page_extra = rule_form(r, r->input);
    }
    return list_run(r, &q, RULE_COLUMNS, "FROM alert_rules r WHERE (? = 0 OR r.owner_id = ?)",
                    DB_PARAMS(DB_INT(owner), DB_INT(owner)), rule_from_row);
}

static int rules_show(struct req *r)
{
    json_t *rule = rule_visible(r, req_param(r, "id")->num);
    if (!rule)
        return -1;
    if (!r->api) {
        /* The edit form: the rule, or what a failed submission typed. */
        json_t *current = json_deep_copy(rule);
        if (json_is_object(r->input))
            json_object_update(current, r->input);
        json_decref(r->page_extra);
        r->page_extra = rule_form(r, current);
        json_decref(current);
    }
    req_set_object(r, "rule", rule);
    return 0;
}

/* What a rule is checked against, resolved from the request. */
struct rule_spec {
    const char *name, *metric, *scope, *condition, *severity, *action;
    long long vm_id, user_id, duration_s, repeat_s, silence_s;
    double threshold, hysteresis;
    bool enabled, has_silence;
    json_t *channel_ids;   /* borrowed; NULL: leave as is */
};

static bool vm_visible(struct req *r, long long vm_id)
{
    struct db_rows *rows = db_query("SELECT owner_id FROM vms WHERE id = ?", DB_INT(vm_id));
    bool ok = rows && rows->nrows == 1 && rbac_may_touch(r->user, db_cell_int(rows, 0, 0, 0));
    db_rows_free(rows);
    return ok;
}

/* "vm:12", "user:3" or "host" into scope and ids. */
static int parse_target(struct req *r, const char *target, struct rule_spec *s)
{
    char *end = NULL;
    s->vm_id = s->user_id = 0;
    if (!strcmp(target, "host")) {
        s->scope = "host";
        return 0;
    }
    if (!strncmp(target, "vm:", 3)) {
        s->scope = "vm";
        s->vm_id = strtoll(target + 3, &end, 10);
    } else if (!strncmp(target, "user:", 5)) {
        s->scope = "user";
        s->user_id = strtoll(target + 5, &end, 10);
    }
    if (!end || *end || (s->vm_id < 1 && s->user_id < 1))
        return req_fail(r, 400, "invalid_target", "target",
                        _("The target is vm:ID, user:ID or host."));
    return 0;
}

/* Who may watch what, and what makes sense. */
static int spec_check(struct req *r, const struct rule_spec *s)
{
    bool admin = r->user->role == ROLE_ADMIN;
    if (!strcmp(s->scope, "host") && !admin)
        return req_fail(r, 403, "forbidden", "target", _("Only administrators may watch the host."));
    if (!strcmp(s->scope, "vm") && !vm_visible(r, s->vm_id))
        return req_fail(r, 404, "not_found", "target", _("There is no such virtual machine."));
    if (!strcmp(s->scope, "user") && s->user_id != r->user->id && !admin)
        return req_fail(r, 403, "forbidden", "target",
                        _("You may watch only your own virtual machines."));
    if (!strcmp(s->scope, "host") && strcmp(s->action, "notify"))
        return req_fail(r, 422, "invalid_action", "action",
                        _("A rule on the host can only notify."));
    if ((!strcmp(s->metric, "pool_free") || !strcmp(s->metric, "host_unreachable")) &&
        strcmp(s->scope, "host"))
        return req_fail(r, 422, "invalid_target", "target",
                        _("Pool space and host reachability are watched on the host."));
    if ((!strcmp(s->metric, "cpu") || !strcmp(s->metric, "memory") ||
         !strcmp(s->metric, "pool_free")) &&
        (s->threshold < 0 || s->threshold > 100))
        return req_fail(r, 422, "out_of_range", "threshold",
                        _("CPU, memory and pool space thresholds are percentages (0 to 100)."));
    size_t i;
    json_t *id;
    json_array_foreach(s->channel_ids, i, id) {
        struct db_rows *rows = db_query("SELECT owner_id FROM notification_channels WHERE id = ?",
                                        DB_INT(json_integer_value(id)));
        bool ok = rows && rows->nrows == 1 && rbac_may_touch(r->user, db_cell_int(rows, 0, 0, 0));
        db_rows_free(rows);
        if (!ok)
            return req_fail(r, 422, "invalid_channel", "channel_ids",
                            _("There is no such notification channel."));
    }
    return 0;
}

static int set_channels(long long rule_id, json_t *channel_ids)
{
    if (!channel_ids)
        return 0;
    if (db_exec("DELETE FROM alert_rule_channels WHERE rule_id = ?", DB_INT(rule_id)) < 0)
        return -1;
    size_t i;
    json_t *id;
    json_array_foreach(channel_ids, i, id)
        if (db_exec("INSERT INTO alert_rule_channels (rule_id, channel_id) VALUES (?, ?)",
                    DB_INT(rule_id), DB_INT(json_integer_value(id))) < 0)
            return -1;
    return 0;
}

struct rule_save_tx {
    long long *id;
    bool is_new;
    const struct rule_spec *s;
};

static int rule_save_body(struct req *r, void *ctx)
{
    struct rule_save_tx *t = ctx;
    long long *id = t->id;
    const struct rule_spec *s = t->s;
    char threshold[32], hysteresis[32];
    int rc;
    if (t->is_new) {
        rc = db_exec_id(
            "INSERT INTO alert_rules (owner_id, name, metric, scope, vm_id, user_id, operator, "
            "threshold, hysteresis, duration_s, severity, action, repeat_s, silenced_until, "
            "enabled) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
            "IF(? > 0, UTC_TIMESTAMP() + INTERVAL ? SECOND, NULL), ?)",
            id, DB_INT(r->user->id), DB_TEXT(s->name), DB_TEXT(s->metric), DB_TEXT(s->scope),
            s->vm_id ? DB_INT(s->vm_id) : DB_NULL, s->user_id ? DB_INT(s->user_id) : DB_NULL,
            DB_TEXT(s->condition), DB_TEXT(NUM_TEXT(threshold, s->threshold)),
            DB_TEXT(NUM_TEXT(hysteresis, s->hysteresis)), DB_INT(s->duration_s),
            DB_TEXT(s->severity), DB_TEXT(s->action), DB_INT(s->repeat_s), DB_INT(s->silence_s),
            DB_INT(s->silence_s), DB_INT(s->enabled));
    } else {
        rc = db_exec(
            "UPDATE alert_rules SET name = ?, metric = ?, scope = ?, vm_id = ?, user_id = ?, "
            "operator = ?, threshold = ?, hysteresis = ?, duration_s = ?, severity = ?, "
            "action = ?, repeat_s = ?, silenced_until = IF(? = 0, silenced_until, "
            "IF(? > 0, UTC_TIMESTAMP() + INTERVAL ? SECOND, NULL)), enabled = ? WHERE id = ?",
            DB_TEXT(s->name), DB_TEXT(s->metric), DB_TEXT(s->scope),
            s->vm_id ? DB_INT(s->vm_id) : DB_NULL, s->user_id ? DB_INT(s->user_id) : DB_NULL,
            DB_TEXT(s->condition), DB_TEXT(NUM_TEXT(threshold, s->threshold)),
            DB_TEXT(NUM_TEXT(hysteresis, s->hysteresis)), DB_INT(s->duration_s),
            DB_TEXT(s->severity), DB_TEXT(s->action), DB_INT(s->repeat_s),
            DB_INT(s->has_silence), DB_INT(s->silence_s), DB_INT(s->silence_s),
            DB_INT(s->enabled), DB_INT(*id));
    }
    if (rc < 0 || set_channels(*id, s->channel_ids) < 0)
        return fail_db(r);
    return 0;
}

/* Writes the rule (id 0: a new one) and its channels in one transaction. */
static int rule_save(struct req *r, long long *id, const struct rule_spec *s)
{
    struct rule_save_tx tx = { id, *id == 0, s };
    int rc = req_transaction(r, rule_save_body, &tx);
    if (rc < 0 && tx.is_new)
        *id = 0;
    return rc;
}

/* Fills s from the validated input over the defaults (or the rule's
 * current values, for PATCH). */
static int spec_from_input(struct req *r, json_t *current, struct rule_spec *s)
{
    json_t *in = r->input;
#define STR(name, key, dflt)                                                               \
    (json_object_get(in, key) ? json_string_value(json_object_get(in, key))                \
     : current                ? json_string_value(json_object_get(current, name))          \
                              : (dflt))
    s->name = STR("name", "name", "");
    s->metric = STR("metric", "metric", NULL);
    s->condition = STR("condition", "condition", NULL);
    s->severity = STR("severity", "severity", "warning");
    s->action = STR("action", "action", "notify");
#undef STR
    const char *target = json_string_value(json_object_get(in, "target"));
    if (!target && current)
        target = json_string_value(json_object_get(current, "target"));
    /* An event has happened or not: no condition to compare. */
    bool event = s->metric && is_event(s->metric);
    if (event && !s->condition)
        s->condition = ">";
    if (!s->metric || !s->condition || !target ||
        (!event && !json_object_get(in, "threshold") && !current))
        return req_fail(r, 400, "missing_field",
                        !s->metric ? "metric" : !s->condition ? "condition"
                                           : !target          ? "target"
                                                              : "threshold",
                        _("metric, target, condition and threshold are needed."));
    if (parse_target(r, target, s) < 0)
        return -1;
#define NUM(key, dflt)                                                                      \
    (json_object_get(in, key) ? json_number_value(json_object_get(in, key))                 \
     : current                ? json_number_value(json_object_get(current, key))            \
                              : (dflt))
    s->threshold = NUM("threshold", 0);
    s->hysteresis = NUM("hysteresis", 0);
    s->duration_s = (long long)NUM("duration_s", 0);
    s->repeat_s = (long long)NUM("repeat_s", 0);
#undef NUM
    s->enabled = json_object_get(in, "enabled") ? json_is_true(json_object_get(in, "enabled"))
                 : current ? json_is_true(json_object_get(current, "enabled")) : true;
    s->has_silence = json_object_get(in, "silence_s") != NULL;
    s->silence_s = s->has_silence ? json_integer_value(json_object_get(in, "silence_s")) : 0;
    /* silence_s 0 lifts a silence: -1 in the statement's terms. */
    if (s->has_silence && s->silence_s == 0)
        s->silence_s = -1;
    s->channel_ids = json_object_get(in, "channel_ids");
    return spec_check(r, s);
}

static const struct field rule_fields[] = {
    { "name", FIELD_STRING, false, 0, 100 },
    { "metric", FIELD_ENUM, false, 0, 0, metrics },
    { "target", FIELD_STRING, false, 1, 40 },
    { "condition", FIELD_ENUM, false, 0, 0, conditions },
    { "threshold", FIELD_NUMBER, false, -1000000000000LL, 1000000000000LL },
    { "hysteresis", FIELD_NUMBER, false, 0, 1000000000000LL },
    { "duration_s", FIELD_INT, false, 0, 86400 },
    { "severity", FIELD_ENUM, false, 0, 0, severities },
    { "action", FIELD_ENUM, false, 0, 0, actions },
    { "repeat_s", FIELD_INT, false, 0, 7 * 86400 },
    { "silence_s", FIELD_INT, false, 0, 30 * 86400 },
    { "enabled", FIELD_BOOL },
    { "channel_ids", FIELD_ID_LIST, false, 0, 20 },
    { NULL },
};

static int rules_create(struct req *r)
{
    struct rule_spec s = { 0 };
    if (spec_from_input(r, NULL, &s) < 0)
        return -1;
    long long id = 0;
    if (rule_save(r, &id, &s) < 0)
        return -1;
    r->audit_target_id = id;
    r->status = 201;
    r->location = g_strdup_printf("/alert-rules/%lld", id);
    json_t *rule = rule_visible(r, id);
    if (!rule)
        return -1;
    req_set_object(r, "rule", rule);
    return 0;
}

static int rules_update(struct req *r)
{
    long long id = req_param(r, "id")->num;
    json_t *current = rule_visible(r, id);
    if (!current)
        return -1;
    struct rule_spec s = { 0 };
    /* s points into current: it lives until the rule is saved. */
    int rc = spec_from_input(r, current, &s);
    if (rc == 0)
        rc = rule_save(r, &id, &s);
    json_decref(current);
    if (rc < 0)
        return -1;
    if (!r->api)
        r->location = g_strdup("/alert-rules");
    return rules_show(r);
}

static int rules_delete(struct req *r)
{
    long long id = req_param(r, "id")->num;
    json_t *rule = rule_visible(r, id);
    if (!rule)
        return -1;
    json_decref(rule);
    if (db_exec("DELETE FROM alert_rules WHERE id = ?", DB_INT(id)) < 0)
        return fail_db(r);
    if (!r->api)
        r->location = g_strdup("/alert-rules");
    req_set_object(r, "rule", json_pack("{s:I, s:b}", "id", (json_int_t)id, "deleted", 1));
    return 0;
}

/* The user guide's PUT /vms/{id}/alerts {alerts: [{metric, threshold,
 * condition, duration, action}]}: the caller's rules on this VM become
 * exactly these (channels: all of the caller's enabled channels). */
static const struct field guide_alert_fields[] = {
    { "metric", FIELD_ENUM, true, 0, 0, vm_metrics },
    { "threshold", FIELD_NUMBER, true, -1000000000000LL, 1000000000000LL },
    { "condition", FIELD_ENUM, true, 0, 0, conditions },
    { "duration", FIELD_INT, false, 0, 86400 },
    { "action", FIELD_ENUM, false, 0, 0, actions },
    { NULL },
};
static const struct field guide_fields[] = { { "alerts", FIELD_ARRAY, true, 0, 20 }, { NULL } };

static int vm_rules_list(struct req *r, long long vm_id)
{
    struct db_rows *rows = db_query("SELECT " RULE_COLUMNS " FROM alert_rules r WHERE "
                                    "r.scope = 'vm' AND r.vm_id = ? AND (? = 0 OR r.owner_id = ?) "
                                    "ORDER BY r.id",
                                    DB_INT(vm_id),
                                    DB_INT(r->user->role == ROLE_ADMIN ? 0 : r->user->id),
                                    DB_INT(r->user->id));
    if (!rows)
        return fail_db(r);
    json_t *list = json_array();
    for (int i = 0; i < rows->nrows; i++) {
        json_t *rule = rule_from_row(rows, i);
        /* The guide's names beside ours. */
        json_object_set(rule, "duration", json_object_get(rule, "duration_s"));
        json_array_append_new(list, rule);
    }
    db_rows_free(rows);
    req_set_object(r, "alerts", json_pack("{s:I, s:o}", "vm_id", (json_int_t)vm_id, "alerts", list));
    return 0;
}

static int vm_alerts_show(struct req *r)
{
    long long vm_id = req_param(r, "id")->num;
    if (!vm_visible(r, vm_id))
        return req_fail(r, 404, "not_found", NULL, _("There is no such virtual machine."));
    return vm_rules_list(r, vm_id);
}

static int vm_alerts_body(struct req *r, void *ctx);

static int vm_alerts_put(struct req *r)
{
    long long vm_id = req_param(r, "id")->num;
    if (!vm_visible(r, vm_id))
        return req_fail(r, 404, "not_found", NULL, _("There is no such virtual machine."));
    json_t *alerts = json_object_get(r->input, "alerts");
    size_t i;
    json_t *item;
    /* All checked before anything changes. */
    json_array_foreach(alerts, i, item) {
        struct err err = { 0 };
        if (!json_is_object(item) || input_validate(item, guide_alert_fields, &err) < 0) {
            if (!err.status)
                err_set(&err, 400, "invalid_type", "alerts", _("Each alert is an object."));
            r->err = err;
            return -1;
        }
        const char *metric = json_string_value(json_object_get(item, "metric"));
        double threshold = json_number_value(json_object_get(item, "threshold"));
        if ((!strcmp(metric, "cpu") || !strcmp(metric, "memory")) &&
            (threshold < 0 || threshold > 100))
            return req_fail(r, 422, "out_of_range", "threshold",
                            _("CPU and memory thresholds are percentages (0 to 100)."));
    }
    if (req_transaction(r, vm_alerts_body, &vm_id) < 0)
        return -1;
    return vm_rules_list(r, vm_id);
}

/* The VM's alerts (r->input's, checked) replace its rules of the caller's. */
static int vm_alerts_body(struct req *r, void *ctx)
{
    long long vm_id = *(long long *)ctx;
    json_t *alerts = json_object_get(r->input, "alerts");
    size_t i;
    json_t *item;
    int rc = db_exec("DELETE FROM alert_rules WHERE scope = 'vm' AND vm_id = ? AND owner_id = ?",
                     DB_INT(vm_id), DB_INT(r->user->id));
    json_array_foreach(alerts, i, item) {
        char threshold[32];
        const char *action = json_string_value(json_object_get(item, "action"));
        long long rule_id = 0;
        if (rc == 0)
            rc = db_exec_id(
                "INSERT INTO alert_rules (owner_id, metric, scope, vm_id, operator, threshold, "
                "duration_s, action) VALUES (?, ?, 'vm', ?, ?, ?, ?, ?)",
                &rule_id, DB_INT(r->user->id),
                DB_TEXT(json_string_value(json_object_get(item, "metric"))), DB_INT(vm_id),
                DB_TEXT(json_string_value(json_object_get(item, "condition"))),
                DB_TEXT(NUM_TEXT(threshold, json_number_value(json_object_get(item, "threshold")))),
                DB_INT(json_integer_value(json_object_get(item, "duration"))),
                DB_TEXT(action ? action : "notify"));
        if (rc == 0)
            rc = db_exec("INSERT INTO alert_rule_channels (rule_id, channel_id) SELECT ?, id "
                         "FROM notification_channels WHERE owner_id = ? AND enabled = 1",
                         DB_INT(rule_id), DB_INT(r->user->id));
    }
    return rc < 0 ? fail_db(r) : 0;
}

/* ---------------------------------------------------------------- alerts --- */

#define ALERT_COLUMNS                                                                     \
    "a.id, a.rule_id, a.owner_id, a.vm_id, a.object_key, a.kind, a.state, a.severity, "  \
    "a.metric, a.value, a.peak_value, a.threshold, a.message, "                           \
    "DATE_FORMAT(a.started_at, '%Y-%m-%dT%TZ'), DATE_FORMAT(a.fired_at, '%Y-%m-%dT%TZ'), " \
    "DATE_FORMAT(a.resolved_at, '%Y-%m-%dT%TZ'), v.name"

static json_t *num_or_null(const struct db_rows *rows, int i, int col)
{
    return db_cell(rows, i, col) ? json_real(strtod(db_cell(rows, i, col), NULL)) : json_null();
}

static json_t *alert_from_row(const struct db_rows *rows, int i)
{
    return json_pack("{s:I, s:o, s:I, s:o, s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:s, s:s, "
                     "s:s?, s:s?, s:s?}",
                     "id", (json_int_t)db_cell_int(rows, i, 0, 0), "rule_id",
                     id_or_null(rows, i, 1), "owner_id", (json_int_t)db_cell_int(rows, i, 2, 0),
                     "vm_id", id_or_null(rows, i, 3), "object", db_cell(rows, i, 4), "kind",
                     db_cell(rows, i, 5), "state", db_cell(rows, i, 6), "severity",
                     db_cell(rows, i, 7), "metric", db_cell(rows, i, 8), "value",
                     num_or_null(rows, i, 9), "peak_value", num_or_null(rows, i, 10),
                     "threshold", num_or_null(rows, i, 11), "message", db_cell(rows, i, 12),
                     "started_at", db_cell(rows, i, 13), "fired_at", db_cell(rows, i, 14),
                     "resolved_at", db_cell(rows, i, 15), "vm_name", db_cell(rows, i, 16));
}

static const struct list_sort alert_sorts[] = {
    { "-id", "a.id DESC" }, { "id", "a.id" }, { "started_at", "a.started_at" }, { NULL },
};

static int alerts_list(struct req *r)
{
    struct list_query q;
    if (list_query_parse(r, alert_sorts, &q) < 0)
        return -1;
    const char *state = req_query(r, "state");
    if (state && strcmp(state, "pending") && strcmp(state, "firing") && strcmp(state, "resolved")) {
        list_query_free(&q);
        return req_fail(r, 400, "invalid_state", "state",
                        _("state is pending, firing or resolved."));
    }
    const char *vm = req_query(r, "vm_id");
    long long vm_id = vm ? strtoll(vm, NULL, 10) : 0;
    long long owner = r->user->role == ROLE_ADMIN ? 0 : r->user->id;
    /* Newest first unless asked otherwise. */
    if (!req_query(r, "sort"))
        snprintf(q.order_by, sizeof q.order_by, "a.id DESC");
    return list_run(r, &q, ALERT_COLUMNS,
                    "FROM alerts a LEFT JOIN vms v ON v.id = a.vm_id "
                    "WHERE (? = 0 OR a.owner_id = ?) AND (? IS NULL OR a.state = ?) "
                    "AND (? = 0 OR a.vm_id = ?)",
                    DB_PARAMS(DB_INT(owner), DB_INT(owner), DB_TEXT(state), DB_TEXT(state),
                              DB_INT(vm_id), DB_INT(vm_id)),
                    alert_from_row);
}

static int alerts_show(struct req *r)
{
    json_t *alert = list_one_owned(r, db_query("SELECT " ALERT_COLUMNS " FROM alerts a LEFT JOIN "
                                               "vms v ON v.id = a.vm_id WHERE a.id = ?",
                                               DB_INT(req_param(r, "id")->num)),
                                   2, alert_from_row, _("There is no such alert."));
    if (!alert)
        return -1;
    req_set_object(r, "alert", alert);
    return 0;
}

/* ------------------------------------------------------------- channels --- */

/* Per type: the config members, and which of them are secrets (write-only:
 * kept in the secret column, shown as has_<name>). */
static const struct field webhook_fields[] = {
    { "url", FIELD_STRING, true, 8, 2000 }, { "secret", FIELD_STRING, false, 1, 256 }, { NULL },
};
static const struct field dingtalk_fields[] = {
    { "access_token", FIELD_STRING, true, 1, 256 },
    { "secret", FIELD_STRING, false, 1, 256 },
    { "keyword", FIELD_STRING, false, 1, 64 },
    { NULL },
};
static const struct field email_fields[] = {
    { "smtp_url", FIELD_STRING, true, 8, 300 },
    { "starttls", FIELD_BOOL },
    { "insecure_tls", FIELD_BOOL },
    { "username", FIELD_STRING, false, 1, 200 },
    { "password", FIELD_STRING, false, 1, 256 },
    { "from", FIELD_STRING, true, 3, 254 },
    { "to", FIELD_STRING, true, 3, 2000 },
    { NULL },
};
static const char *const secret_keys[] = { "secret", "access_token", "password", NULL };

static const struct field *config_fields(const char *type)
{
    return !strcmp(type, "webhook") ? webhook_fields
           : !strcmp(type, "dingtalk") ? dingtalk_fields
                                       : email_fields;
}

static bool is_secret(const char *key)
{
    for (const char *const *k = secret_keys; *k; k++)
        if (!strcmp(*k, key))
            return true;
    return false;
}

#define CHANNEL_COLUMNS                                                                   \
    "id, owner_id, name, type, language, config, secret, enabled, "                      \
    "DATE_FORMAT(created_at, '%Y-%m-%dT%TZ')"

static json_t *channel_from_row(const struct db_rows *rows, int i)
{
    json_t *config = json_loads(db_cell(rows, i, 5), 0, NULL);
    json_t *secret = json_loads(db_cell(rows, i, 6), 0, NULL);
    if (!json_is_object(config)) {
        json_decref(config);
        config = json_object();
    }
    for (const char *const *k = secret_keys; *k; k++) {
        char has[32];
        snprintf(has, sizeof has, "has_%s", *k);
        if (json_object_get(secret, *k))
            json_object_set_new(config, has, json_true());
    }
    json_decref(secret);
    const char *lang = db_cell(rows, i, 4);
    return json_pack("{s:I, s:I, s:s, s:s, s:s, s:o, s:b, s:s}", "id",
                     (json_int_t)db_cell_int(rows, i, 0, 0), "owner_id",
                     (json_int_t)db_cell_int(rows, i, 1, 0), "name", db_cell(rows, i, 2), "type",
                     db_cell(rows, i, 3), "language", strcmp(lang, "zh_CN") ? "en" : "zh-CN",
                     "config", config, "enabled", (int)db_cell_int(rows, i, 7, 1), "created_at",
                     db_cell(rows, i, 8));
}

/* The channel row (all columns) if the caller may see it. */
static struct db_rows *channel_rows(struct req *r, long long id)
{
    struct db_rows *rows = db_query("SELECT " CHANNEL_COLUMNS " FROM notification_channels "
                                    "WHERE id = ?", DB_INT(id));
    if (!rows) {
        fail_db(r);
        return NULL;
    }
    if (rows->nrows == 1 && rbac_may_touch(r->user, db_cell_int(rows, 0, 1, 0)))
        return rows;
    db_rows_free(rows);
    req_fail(r, 404, "not_found", NULL, _("There is no such notification channel."));
    return NULL;
}

static const struct list_sort channel_sorts[] = { { "id", "id" }, { "name", "name" }, { NULL } };

static int channels_list(struct req *r)
{
    struct list_query q;
    if (list_query_parse(r, channel_sorts, &q) < 0)
        return -1;
    long long owner = r->user->role == ROLE_ADMIN ? 0 : r->user->id;
    if (!r->api) {
        json_decref(r->page_extra);
        r->page_extra = json_pack(
            "{s:o, s:o}", "type_options",
            options(type_choices, json_string_value(json_object_get(r->input, "type"))),
            "language_options",
            options(language_choices, json_string_value(json_object_get(r->input, "language"))));
    }
    return list_run(r, &q, CHANNEL_COLUMNS,
                    "FROM notification_channels WHERE (? = 0 OR owner_id = ?)",
                    DB_PARAMS(DB_INT(owner), DB_INT(owner)), channel_from_row);
}

static json_t *delivery_from_row(const struct db_rows *rows, int i);
#define DELIVERY_COLUMNS                                                                  \
    "id, channel_id, alert_id, event, state, attempts, last_error, "                     \
    "DATE_FORMAT(created_at, '%Y-%m-%dT%TZ'), DATE_FORMAT(next_attempt_at, '%Y-%m-%dT%TZ'), " \
    "DATE_FORMAT(sent_at, '%Y-%m-%dT%TZ')"

/* The channel page: its edit form (of its type) and its last deliveries. */
static json_t *channel_page(long long id, json_t *channel)
{
    const char *type = json_string_value(json_object_get(channel, "type"));
    /* The form's boxes: the config shown (secrets only as has_*), by type. */
    json_t *edit = json_deep_copy(json_object_get(channel, "config"));
    json_object_set_new(edit, "type_is_webhook", json_boolean(!strcmp(type, "webhook")));
    json_object_set_new(edit, "type_is_dingtalk", json_boolean(!strcmp(type, "dingtalk")));
    json_object_set_new(edit, "type_is_email", json_boolean(!strcmp(type, "email")));
    json_t *extra = json_pack("{s:o, s:o}", "language_options",
                              options(language_choices,
                                      json_string_value(json_object_get(channel, "language"))),
                              "edit", edit);
    json_t *log = json_array();
    struct db_rows *rows = db_query("SELECT " DELIVERY_COLUMNS " FROM notification_deliveries "
                                    "WHERE channel_id = ? ORDER BY id DESC LIMIT 20", DB_INT(id));
    for (int i = 0; rows && i < rows->nrows; i++)
        json_array_append_new(log, delivery_from_row(rows, i));
    db_rows_free(rows);
    json_object_set_new(extra, "deliveries", log);
    json_object_set_new(extra, "deliveries_empty", json_boolean(json_array_size(log) == 0));
    return extra;
}

static int channels_show(struct req *r)
{
    long long id = req_param(r, "id")->num;
    struct db_rows *rows = channel_rows(r, id);
    if (!rows)
        return -1;
    json_t *channel = channel_from_row(rows, 0);
    db_rows_free(rows);
    if (!r->api) {
        json_decref(r->page_extra);
        r->page_extra = channel_page(id, channel);
    }
    req_set_object(r, "channel", channel);
    return 0;
}

static bool url_ok(const char *url, bool smtp)
{
    if (smtp)
        return !strncmp(url, "smtp://", 7) || !strncmp(url, "smtps://", 8);
    return !strncmp(url, "http://", 7) || !strncmp(url, "https://", 8);
}

/* Splits a validated config into what may be shown and the secrets,
 * merged over the old ones (a PATCH without a secret keeps it). */
static int split_config(struct req *r, const char *type, json_t *config, json_t *old_secret,
                        char **public_text, char **secret_text)
{
    struct err err = { 0 };
    if (input_validate(config, config_fields(type), &err) < 0) {
        r->err = err;
        return -1;
    }
    const char *url = json_string_value(json_object_get(config, "url"));
    const char *smtp = json_string_value(json_object_get(config, "smtp_url"));
    if ((url && !url_ok(url, false)) || (smtp && !url_ok(smtp, true)))
        return req_fail(r, 422, "invalid_url", "config",
                        _("The address must start with http:// or https:// (smtp:// or smtps:// for mail)."));
    json_t *pub = json_object(), *sec = old_secret ? json_deep_copy(old_secret) : json_object();
    const char *key;
    json_t *value;
    json_object_foreach(config, key, value)
        json_object_set(is_secret(key) ? sec : pub, key, value);
    *public_text = json_dumps(pub, JSON_COMPACT | JSON_SORT_KEYS);
    *secret_text = json_dumps(sec, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(pub);
    json_decref(sec);
    return 0;
}

static const char *db_language(const char *code)
{
    return code && !strcmp(code, "zh-CN") ? "zh_CN" : "en";
}

static const struct field channel_fields[] = {
    { "name", FIELD_STRING, false, 1, 100 },
    { "type", FIELD_ENUM, false, 0, 0, channel_types },
    { "language", FIELD_ENUM, false, 0, 0, languages },
    { "config", FIELD_FREE_OBJECT, false, 1, 10 },
    { "enabled", FIELD_BOOL },
    { NULL },
};

/* The page's form: channel_fields with config flat (config_from_form). */
static const struct field channel_form_fields[] = {
    { "name", FIELD_STRING, false, 1, 100 },
    { "type", FIELD_ENUM, false, 0, 0, channel_types },
    { "language", FIELD_ENUM, false, 0, 0, languages },
    { "enabled", FIELD_BOOL },
    { "url", FIELD_STRING, false, 0, 2000 },
    { "secret", FIELD_STRING, false, 0, 256 },
    { "access_token", FIELD_STRING, false, 0, 256 },
    { "keyword", FIELD_STRING, false, 0, 64 },
    { "smtp_url", FIELD_STRING, false, 0, 300 },
    { "starttls", FIELD_BOOL },
    { "insecure_tls", FIELD_BOOL },
    { "username", FIELD_STRING, false, 0, 200 },
    { "password", FIELD_STRING, false, 0, 256 },
    { "from", FIELD_STRING, false, 0, 254 },
    { "to", FIELD_STRING, false, 0, 2000 },
    { NULL },
};

static int channels_create(struct req *r)
{
    const char *type = input_str(r, "type");
    const char *name = input_str(r, "name");
    json_t *config = json_object_get(r->input, "config");
    if (!type || !name || !config)
        return req_fail(r, 400, "missing_field", !type ? "type" : !name ? "name" : "config",
                        _("name, type and config are needed."));
    char *pub = NULL, *sec = NULL;
    if (split_config(r, type, config, NULL, &pub, &sec) < 0)
        return -1;
    long long id = 0;
    int rc = db_exec_id("INSERT INTO notification_channels (owner_id, name, type, language, "
                        "config, secret, enabled) VALUES (?, ?, ?, ?, ?, ?, ?)",
                        &id, DB_INT(r->user->id), DB_TEXT(name), DB_TEXT(type),
                        DB_TEXT(db_language(input_str(r, "language"))), DB_TEXT(pub),
                        DB_TEXT(sec),
                        DB_INT(input_has(r, "enabled") ? json_is_true(json_object_get(r->input, "enabled")) : 1));
    free(pub);
    free(sec);
    if (rc < 0)
        return fail_db(r);
    for (const char *const *k = secret_keys; *k; k++)
        if (json_object_get(config, *k))
            audit_change_secret(r, *k);
    r->audit_target_id = id;
    r->status = 201;
    r->location = g_strdup_printf("/notification-channels/%lld", id);
    struct db_rows *rows = channel_rows(r, id);
    if (!rows)
        return -1;
    req_set_object(r, "channel", channel_from_row(rows, 0));
    db_rows_free(rows);
    return 0;
}

static int channels_update(struct req *r)
{
    long long id = req_param(r, "id")->num;
    struct db_rows *rows = channel_rows(r, id);
    if (!rows)
        return -1;
    if (input_has(r, "type") && strcmp(input_str(r, "type"), db_cell(rows, 0, 3))) {
        db_rows_free(rows);
        return req_fail(r, 422, "invalid_type", "type", _("A channel's type cannot change."));
    }
    json_t *config = json_object_get(r->input, "config");
    char *pub = NULL, *sec = NULL;
    if (config) {
        /* The members not sent keep their values: merge over the old ones. */
        json_t *old = json_loads(db_cell(rows, 0, 5), 0, NULL);
        json_t *old_secret = json_loads(db_cell(rows, 0, 6), 0, NULL);
        json_t *merged = json_is_object(old) ? json_deep_copy(old) : json_object();
        json_object_update(merged, old_secret);
        json_object_update(merged, config);
        int rc = split_config(r, db_cell(rows, 0, 3), merged, NULL, &pub, &sec);
        json_decref(old);
        json_decref(old_secret);
        json_decref(merged);
        if (rc < 0) {
            db_rows_free(rows);
            return -1;
        }
        for (const char *const *k = secret_keys; *k; k++)
            if (json_object_get(config, *k))
                audit_change_secret(r, *k);
    }
    int rc = db_exec("UPDATE notification_channels SET name = COALESCE(?, name), "
                     "language = COALESCE(?, language), config = COALESCE(?, config), "
                     "secret = COALESCE(?, secret), enabled = COALESCE(?, enabled), "
                     "updated_at = UTC_TIMESTAMP() WHERE id = ?",
                     DB_TEXT(input_str(r, "name")),
                     DB_TEXT(input_has(r, "language") ? db_language(input_str(r, "language")) : NULL),
                     DB_TEXT(pub), DB_TEXT(sec),
                     input_has(r, "enabled") ? DB_INT(json_is_true(json_object_get(r->input, "enabled")))
                                             : DB_NULL,
                     DB_INT(id));
    free(pub);
    free(sec);
    db_rows_free(rows);
    if (rc < 0)
        return fail_db(r);
    return channels_show(r);
}

/* A form sends a channel's config flat (url=..&secret=..): gathered into
 * config as the API takes it. Empty boxes are left out: a secret left
 * empty on the edit form keeps its value. */
static void config_from_form(struct req *r, const char *type)
{
    json_t *config = json_object();
    for (const struct field *f = config_fields(type); f->name; f++) {
        json_t *v = json_object_get(r->input, f->name);
        if (v && !(json_is_string(v) && !*json_string_value(v)))
            json_object_set(config, f->name, v);
    }
    for (const struct field *f = channel_form_fields; f->name; f++)
        if (strcmp(f->name, "name") && strcmp(f->name, "type") && strcmp(f->name, "language") &&
            strcmp(f->name, "enabled"))
            json_object_del(r->input, f->name);
    if (json_object_size(config))
        json_object_set_new(r->input, "config", config);
    else
        json_decref(config);
}

static int channels_create_form(struct req *r)
{
    const char *type = input_str(r, "type");
    if (!type)
        return req_fail(r, 400, "missing_field", "type", _("name, type and config are needed."));
    config_from_form(r, type);
    return channels_create(r);
}

static int channels_update_form(struct req *r)
{
    struct db_rows *rows = channel_rows(r, req_param(r, "id")->num);
    if (!rows)
        return -1;
    char type[16];
    snprintf(type, sizeof type, "%s", db_cell(rows, 0, 3));
    db_rows_free(rows);
    config_from_form(r, type);
    if (channels_update(r) < 0)
        return -1;
    r->location = g_strdup("/notification-channels");
    return 0;
}

static int channels_delete(struct req *r)
{
    long long id = req_param(r, "id")->num;
    struct db_rows *rows = channel_rows(r, id);
    if (!rows)
        return -1;
    db_rows_free(rows);
    if (db_exec("DELETE FROM notification_channels WHERE id = ?", DB_INT(id)) < 0)
        return fail_db(r);
    if (!r->api)
        r->location = g_strdup("/notification-channels");
    req_set_object(r, "channel", json_pack("{s:I, s:b}", "id", (json_int_t)id, "deleted", 1));
    return 0;
}

static json_t *delivery_from_row(const struct db_rows *rows, int i)
{
    return json_pack("{s:I, s:I, s:o, s:s, s:s, s:I, s:s, s:s, s:s, s:s?}", "id",
                     (json_int_t)db_cell_int(rows, i, 0, 0), "channel_id",
                     (json_int_t)db_cell_int(rows, i, 1, 0), "alert_id", id_or_null(rows, i, 2),
                     "event", db_cell(rows, i, 3), "state", db_cell(rows, i, 4), "attempts",
                     (json_int_t)db_cell_int(rows, i, 5, 0), "last_error", db_cell(rows, i, 6),
                     "created_at", db_cell(rows, i, 7), "next_attempt_at", db_cell(rows, i, 8),
                     "sent_at", db_cell(rows, i, 9));
}

/* The Test button: a message queued at once; the scheduler sends it
 * within [scheduler] tick (a second) and the delivery log shows the result. */
static int channels_test(struct req *r)
{
    long long id = req_param(r, "id")->num;
    struct db_rows *rows = channel_rows(r, id);
    if (!rows)
        return -1;
    db_rows_free(rows);
    long long delivery = 0;
    if (db_exec_id("INSERT INTO notification_deliveries (channel_id, event) VALUES (?, 'test')",
                   &delivery, DB_INT(id)) < 0)
        return fail_db(r);
    rows = db_query("SELECT " DELIVERY_COLUMNS " FROM notification_deliveries WHERE id = ?",
                    DB_INT(delivery));
    if (!rows || rows->nrows != 1) {
        db_rows_free(rows);
        return fail_db(r);
    }
    r->status = 202;
    /* The page's Test button comes back to the list (the log shows the result). */
    if (!r->api)
        r->location = g_strdup("/notification-channels");
    req_set_object(r, "delivery", delivery_from_row(rows, 0));
    db_rows_free(rows);
    return 0;
}

static const struct list_sort delivery_sorts[] = { { "-id", "id DESC" }, { "id", "id" }, { NULL } };

static int channels_deliveries(struct req *r)
{
    long long id = req_param(r, "id")->num;
    struct db_rows *rows = channel_rows(r, id);
    if (!rows)
        return -1;
    db_rows_free(rows);
    struct list_query q;
    if (list_query_parse(r, delivery_sorts, &q) < 0)
        return -1;
    if (!req_query(r, "sort"))
        snprintf(q.order_by, sizeof q.order_by, "id DESC");
    return list_run(r, &q, DELIVERY_COLUMNS, "FROM notification_deliveries WHERE channel_id = ?",
                    DB_PARAMS(DB_INT(id)), delivery_from_row);
}

static const struct route routes[] = {
    { "GET", "/alert-rules", rules_list, PERM_USER, ROUTE_BOTH, "alert_rules.tpl", N_("Alert rules"),
      .summary = "List the alert rules the caller may see", .reply = REPLY_LIST },
    { "POST", "/alert-rules", rules_create, PERM_USER, ROUTE_BOTH, NULL, NULL, rule_fields,
      "alert_rule.create",
      .summary = "Create an alert rule", .reply = REPLY_CREATED,
      .statuses = STATUSES(400, 403, 404, 422) },
    { "GET", "/alert-rules/{id:int}", rules_show, PERM_USER, ROUTE_BOTH, "alert_rule.tpl",
      N_("Alert rule"),
      .summary = "Show an alert rule", .reply = REPLY_OBJECT,
      .statuses = STATUSES(404) },
    { "POST", "/alert-rules/{id:int}", rules_update, PERM_USER, ROUTE_PAGE, NULL, NULL,
      rule_fields, "alert_rule.update" },
    { "POST", "/alert-rules/{id:int}/delete", rules_delete, PERM_USER, ROUTE_PAGE, NULL, NULL,
      NULL, "alert_rule.delete" },
    { "PATCH", "/alert-rules/{id:int}", rules_update, PERM_USER, ROUTE_API, NULL, NULL,
      rule_fields, "alert_rule.update",
      .summary = "Change an alert rule", .reply = REPLY_OBJECT,
      .statuses = STATUSES(400, 403, 404, 422) },
    { "DELETE", "/alert-rules/{id:int}", rules_delete, PERM_USER, ROUTE_API, NULL, NULL, NULL,
      "alert_rule.delete",
      .summary = "Delete an alert rule", .reply = REPLY_OBJECT,
      .statuses = STATUSES(404) },
    { "GET", "/vms/{id:int}/alerts", vm_alerts_show, PERM_USER, ROUTE_API,
      .summary = "A VM's alert rules", .reply = REPLY_OBJECT,
      .statuses = STATUSES(404) },
    { "PUT", "/vms/{id:int}/alerts", vm_alerts_put, PERM_USER, ROUTE_API, NULL, NULL,
      guide_fields, "alert_rule.replace",
      .summary = "Replace a VM's alert rules", .reply = REPLY_OBJECT,
      .statuses = STATUSES(400, 404, 422) },
    { "GET", "/alerts", alerts_list, PERM_USER, ROUTE_BOTH, "alerts.tpl", N_("Alerts"),
      .summary = "Alert history: firing and resolved alerts", .reply = REPLY_LIST,
      .statuses = STATUSES(400) },
    { "GET", "/alerts/{id:int}", alerts_show, PERM_USER, ROUTE_API,
      .summary = "Show an alert", .reply = REPLY_OBJECT,
      .statuses = STATUSES(404) },
    { "GET", "/notification-channels", channels_list, PERM_USER, ROUTE_BOTH,
      "notification_channels.tpl", N_("Notification channels"),
      .summary = "List notification channels", .reply = REPLY_LIST },
    { "POST", "/notification-channels", channels_create, PERM_USER, ROUTE_API, NULL, NULL,
      channel_fields, "notification_channel.create",
      .summary = "Create a notification channel (email, webhook, DingTalk)", .reply = REPLY_CREATED,
      .statuses = STATUSES(400, 404, 422) },
    { "POST", "/notification-channels", channels_create_form, PERM_USER, ROUTE_PAGE, NULL, NULL,
      channel_form_fields, "notification_channel.create" },
    { "GET", "/notification-channels/{id:int}", channels_show, PERM_USER, ROUTE_BOTH,
      "notification_channel.tpl", N_("Notification channel"),
      .summary = "Show a notification channel", .reply = REPLY_OBJECT,
      .statuses = STATUSES(404) },
    { "POST", "/notification-channels/{id:int}", channels_update_form, PERM_USER, ROUTE_PAGE,
      NULL, NULL, channel_form_fields, "notification_channel.update" },
    { "POST", "/notification-channels/{id:int}/delete", channels_delete, PERM_USER, ROUTE_PAGE,
      NULL, NULL, NULL, "notification_channel.delete" },
    { "PATCH", "/notification-channels/{id:int}", channels_update, PERM_USER, ROUTE_API, NULL,
      NULL, channel_fields, "notification_channel.update",
      .summary = "Change a notification channel", .reply = REPLY_OBJECT,
      .statuses = STATUSES(404, 422) },
    { "DELETE", "/notification-channels/{id:int}", channels_delete, PERM_USER, ROUTE_API, NULL,
      NULL, NULL, "notification_channel.delete",
      .summary = "Delete a notification channel", .reply = REPLY_OBJECT,
      .statuses = STATUSES(404) },
    { "POST", "/notification-channels/{id:int}/test", channels_test, PERM_USER, ROUTE_BOTH, NULL,
      NULL, NULL, "notification_channel.test",
      .summary = "Send a test notification (delivered in the background)", .reply = REPLY_JOB,
      .statuses = STATUSES(404) },
    { "GET", "/notification-channels/{id:int}/deliveries", channels_deliveries, PERM_USER,
      ROUTE_API,
      .summary = "A channel's delivery log", .reply = REPLY_LIST,
      .statuses = STATUSES(404) },
    { NULL },
};

int main(int argc, char **argv)
{
    return app_run(argv[0], routes);
}
