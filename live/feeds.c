#include "feeds.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db.h"
#include "generation.h"
#include "i18n.h"
#include "metrics_store.h"
#include "rbac.h"
#include "user.h"

#define MAX_SUBS 32
#define MIN_INTERVAL_MS 1000
#define MAX_INTERVAL_MS 300000
#define DEFAULT_INTERVAL_MS 5000
/* Jobs are looked at when the write generation moves, and at least this
 * often (no generation file: nothing else says when). */
#define JOBS_POLL_MS 2000

enum topic { TOPIC_VM_METRICS, TOPIC_JOB_PROGRESS };
static const char *const topic_names[] = { "vm-metrics", "job-progress" };

struct live_sub {
    enum topic topic;
    long long id;           /* the VM or job; 0 for "all my jobs" */
    json_t *echo;           /* the id as the client wrote it (the guide compares with ===) */
    long interval_ms;
    int64_t next_ms;
    char *since;            /* all my jobs: those finished after this (UTC, SQL) */
    GHashTable *last;       /* job id -> the last state sent, as JSON text */
};

static void sub_free(struct live_sub *s)
{
    json_decref(s->echo);
    g_free(s->since);
    if (s->last)
        g_hash_table_destroy(s->last);
    g_free(s);
}

void live_conn_free(struct live_conn *c)
{
    if (!c)
        return;
    if (c->credential)
        explicit_bzero(c->credential, strlen(c->credential));
    g_free(c->credential);
    user_free(c->user);
    if (c->subs)
        g_ptr_array_free(c->subs, TRUE);
    if (c->out)
        g_queue_free_full(c->out, free);
    if (c->in)
        g_string_free(c->in, TRUE);
    g_free(c);
}

struct live_conn *live_conn_new(void)
{
    struct live_conn *c = g_new0(struct live_conn, 1);
    c->subs = g_ptr_array_new_with_free_func((GDestroyNotify)sub_free);
    c->out = g_queue_new();
    c->in = g_string_new(NULL);
    return c;
}

/* {"type": "error", "data": {code, message, topic?, <id name>?}}. */
static void send_error(struct live_conn *c, const char *code, const char *message,
                       const char *topic, const char *id_name, json_t *id)
{
    json_t *data = json_pack("{s:s, s:s}", "code", code, "message", message);
    if (topic)
        json_object_set_new(data, "topic", json_string(topic));
    if (id_name && id)
        json_object_set(data, id_name, id);
    live_send(c, json_pack("{s:s, s:o}", "type", "error", "data", data));
}

/* An id as a number or a string of digits; 0 when it is neither. */
static long long parse_id(json_t *v)
{
    if (json_is_integer(v))
        return json_integer_value(v) > 0 ? json_integer_value(v) : 0;
    if (!json_is_string(v))
        return 0;
    const char *s = json_string_value(v);
    char *end = NULL;
    long long n = strtoll(s, &end, 10);
    return *s && end && !*end && n > 0 ? n : 0;
}

static const char *id_name(enum topic t)
{
    return t == TOPIC_VM_METRICS ? "vmId" : "jobId";
}

/* The owner of a VM or job, and a VM's memory; false when there is none
 * or the user may not see it (both are "not found", as in the API). */
static bool visible(const struct user *user, enum topic t, long long id, long long *memory_mb,
                    bool *db_down)
{
    struct db_rows *rows =
        t == TOPIC_VM_METRICS
            ? db_query("SELECT owner_id, memory_mb FROM vms WHERE id = ?", DB_INT(id))
            : db_query("SELECT owner_id, 0 FROM jobs WHERE id = ?", DB_INT(id));
    *db_down = !rows;
    if (!rows)
        return false;
    bool ok = rows->nrows == 1 && rbac_may_touch(user, db_cell_int(rows, 0, 0, 0));
    if (ok && memory_mb)
        *memory_mb = db_cell_int(rows, 0, 1, 0);
    db_rows_free(rows);
    return ok;
}

static struct live_sub *find_sub(struct live_conn *c, enum topic t, long long id, guint *index)
{
    for (guint i = 0; i < c->subs->len; i++) {
        struct live_sub *s = g_ptr_array_index(c->subs, i);
        if (s->topic == t && s->id == id) {
            if (index)
                *index = i;
            return s;
        }
    }
    return NULL;
}

/* A number rounded to 2 places, or null when unknown. */
static json_t *num(double v)
{
    return isnan(v) || isinf(v) ? json_null() : json_real(round(v * 100) / 100);
}

/* The guide's metrics object from a VM's last sample; nulls when there is
 * none recent (a stopped VM, a stopped sampler). */
static json_t *vm_metrics(long long id, long long memory_mb, json_int_t *stamp)
{
    char name[32];
    double v[METRICS_MAX_SERIES];
    time_t t = 0;
    snprintf(name, sizeof name, "vm-%lld", id);
    if (metrics_store_last(name, &metrics_vm_kind, &t, v) < 0 ||
        t < time(NULL) - 3 * metrics_interval_s()) {
        for (int i = 0; i < METRICS_VM_SERIES; i++)
            v[i] = NAN;
        t = 0;
    }
    *stamp = (json_int_t)t;
    /* cpu_percent, memory_used_mb, disk rd/wr and net rx/tx in bytes/s.
     * Memory in percent of the VM's at most 100: without the guest's
     * balloon driver the sample is what QEMU holds, its own overhead too. */
    double mb = 1e6;
    return json_pack("{s:{s:o}, s:{s:o, s:o, s:I}, s:{s:o, s:o}, s:{s:o, s:o}}",
                     "cpu", "usage", num(v[0]),
                     "memory", "usage",
                     num(memory_mb > 0 ? fmin(100.0, v[1] * 100.0 / (double)memory_mb) : NAN),
                     "usedMb", num(v[1]), "totalMb", (json_int_t)memory_mb,
                     "disk", "read", num(v[2] / mb), "write", num(v[3] / mb),
                     "network", "rx", num(v[4] / mb), "tx", num(v[5] / mb));
}

/* Sends a VM's metrics, after checking again that the user may see it. */
static bool push_metrics(struct live_conn *c, struct live_sub *s)
{
    long long memory_mb = 0;
    bool db_down = false;
    if (!visible(c->user, TOPIC_VM_METRICS, s->id, &memory_mb, &db_down)) {
        if (db_down)
            return true;   /* try again at the next interval */
        send_error(c, "not_found", _("There is no such virtual machine."), "vm-metrics", "vmId",
                   s->echo);
        return false;
    }
    json_int_t stamp = 0;
    json_t *metrics = vm_metrics(s->id, memory_mb, &stamp);
    json_t *data = json_pack("{s:O, s:I, s:o}", "vmId", s->echo, "timestamp", stamp, "metrics",
                             metrics);
    live_send(c, json_pack("{s:s, s:o}", "type", "vm-metrics", "data", data));
    return true;
}

/* The jobs a job subscription follows, as rows id, vm_id, kind, state,
 * progress, message. */
static struct db_rows *job_rows(const struct live_conn *c, const struct live_sub *s)
{
    if (s->id)
        return db_query("SELECT id, vm_id, kind, state, progress, message FROM jobs WHERE id = ?",
                        DB_INT(s->id));
    return db_query("SELECT id, vm_id, kind, state, progress, message FROM jobs "
                    "WHERE owner_id = ? AND (state IN ('queued', 'running') OR finished_at >= ?) "
                    "ORDER BY id LIMIT 100",
                    DB_INT(c->user->id), DB_TEXT(s->since));
}

/* Sends each followed job whose state, progress or message moved. */
static void push_jobs(struct live_conn *c, struct live_sub *s)
{
    struct db_rows *rows = job_rows(c, s);
    if (!rows)
        return;
    for (int i = 0; i < rows->nrows; i++) {
        long long vm = db_cell_int(rows, i, 1, 0);
        json_t *data = json_pack("{s:I, s:o, s:s, s:s, s:I, s:s}", "jobId",
                                 (json_int_t)db_cell_int(rows, i, 0, 0), "vmId",
                                 vm ? json_integer(vm) : json_null(), "kind", db_cell(rows, i, 2),
                                 "state", db_cell(rows, i, 3), "progress",
                                 (json_int_t)db_cell_int(rows, i, 4, 0), "message",
                                 db_cell(rows, i, 5));
        char *text = json_dumps(data, JSON_COMPACT | JSON_SORT_KEYS);
        gpointer key = GINT_TO_POINTER((gint)db_cell_int(rows, i, 0, 0));
        const char *before = g_hash_table_lookup(s->last, key);
        if (before && !strcmp(before, text)) {
            free(text);
            json_decref(data);
            continue;
        }
        g_hash_table_replace(s->last, key, g_strdup(text));
        free(text);
        if (s->id)
            json_object_set(data, "jobId", s->echo);
        live_send(c, json_pack("{s:s, s:o}", "type", "job-progress", "data", data));
    }
    db_rows_free(rows);
}

static void subscribe(struct live_conn *c, enum topic t, json_t *data)
{
    const char *topic = topic_names[t];
    json_t *given = json_object_get(data, id_name(t));
    long long id = given ? parse_id(given) : 0;
    if (t == TOPIC_VM_METRICS && !id) {
        send_error(c, "invalid_field", _("vmId must be the id of a virtual machine."), topic,
                   "vmId", given);
        return;
    }
    if (given && !id) {
        send_error(c, "invalid_field", _("jobId must be the id of a job."), topic, "jobId", given);
        return;
    }
    json_t *iv = json_object_get(data, "interval");
    long interval = DEFAULT_INTERVAL_MS;
    if (iv && !json_is_null(iv)) {
        if (!json_is_integer(iv) || json_integer_value(iv) < MIN_INTERVAL_MS ||
            json_integer_value(iv) > MAX_INTERVAL_MS) {
            send_error(c, "invalid_field",
                       _("interval is a number of milliseconds from 1000 to 300000."), topic,
                       id_name(t), given);
            return;
        }
        interval = (long)json_integer_value(iv);
    }
    bool db_down = false;
    if (id && !visible(c->user, t, id, NULL, &db_down)) {
        if (db_down)
            send_error(c, "database_unavailable",
                       _("The database is not available. Try again shortly."), topic, id_name(t),
                       given);
        else
            send_error(c, "not_found",
                       t == TOPIC_VM_METRICS ? _("There is no such virtual machine.")
                                             : _("There is no such job."),
                       topic, id_name(t), given);
        return;
    }
    struct live_sub *s = find_sub(c, t, id, NULL);
    if (!s) {
        if (c->subs->len >= MAX_SUBS) {
            send_error(c, "too_many_subscriptions",
                       _("A socket may follow at most 32 topics at once."), topic, id_name(t),
                       given);
            return;
        }
        s = g_new0(struct live_sub, 1);
        s->topic = t;
        s->id = id;
        s->echo = given ? json_incref(given) : json_null();
        s->last = g_hash_table_new_full(NULL, NULL, NULL, g_free);
        GDateTime *now = g_date_time_new_now_utc();
        s->since = g_date_time_format(now, "%Y-%m-%d %H:%M:%S");
        g_date_time_unref(now);
        g_ptr_array_add(c->subs, s);
    }
    s->interval_ms = interval;
    s->next_ms = live_now_ms();   /* the first message now */
    json_t *reply = json_pack("{s:s}", "topic", topic);
    if (id)
        json_object_set(reply, id_name(t), s->echo);
    if (t == TOPIC_VM_METRICS)
        json_object_set_new(reply, "interval", json_integer(interval));
    live_send(c, json_pack("{s:s, s:o}", "type", "subscribed", "data", reply));
    if (t == TOPIC_JOB_PROGRESS)
        push_jobs(c, s);
}

static void unsubscribe(struct live_conn *c, enum topic t, json_t *data)
{
    json_t *given = json_object_get(data, id_name(t));
    guint index = 0;
    if (!find_sub(c, t, given ? parse_id(given) : 0, &index)) {
        send_error(c, "not_subscribed", _("That topic is not subscribed on this socket."),
                   topic_names[t], id_name(t), given);
        return;
    }
    g_ptr_array_remove_index(c->subs, index);
    if (c->subs->len == 0)
        c->idle_since_ms = live_now_ms();
    json_t *reply = json_pack("{s:s}", "topic", topic_names[t]);
    if (given)
        json_object_set(reply, id_name(t), given);
    live_send(c, json_pack("{s:s, s:o}", "type", "unsubscribed", "data", reply));
}

void live_feeds_message(struct live_conn *c, const char *text, size_t len)
{
    json_t *msg = json_loadb(text, len, 0, NULL);
    const char *type = json_string_value(json_object_get(msg, "type"));
    json_t *data = json_object_get(msg, "data");
    if (!json_is_object(msg) || !type) {
        send_error(c, "bad_message",
                   _("A message is a JSON object with a type (subscribe, unsubscribe, ping)."),
                   NULL, NULL, NULL);
    } else if (!strcmp(type, "ping")) {
        live_send(c, json_pack("{s:s}", "type", "pong"));
    } else if (strcmp(type, "subscribe") && strcmp(type, "unsubscribe")) {
        send_error(c, "bad_message", _("The type must be subscribe, unsubscribe or ping."), NULL,
                   NULL, NULL);
    } else {
        const char *topic = json_string_value(json_object_get(data, "topic"));
        int t = -1;
        for (int i = 0; topic && i < (int)G_N_ELEMENTS(topic_names); i++)
            if (!strcmp(topic, topic_names[i]))
                t = i;
        if (t < 0)
            send_error(c, "unknown_topic", _("The topic must be vm-metrics or job-progress."),
                       topic, NULL, NULL);
        else if (!strcmp(type, "subscribe"))
            subscribe(c, (enum topic)t, data);
        else
            unsubscribe(c, (enum topic)t, data);
    }
    json_decref(msg);
}

static bool jobs_due;

void live_feeds_tick_begin(void)
{
    static uint64_t seen;
    static int64_t polled_ms;
    uint64_t now = generation_mark().generation;
    int64_t ms = live_now_ms();
    jobs_due = now != seen || ms - polled_ms >= JOBS_POLL_MS;
    if (jobs_due) {
        seen = now;
        polled_ms = ms;
    }
}

void live_feeds_tick(struct live_conn *c, int64_t now)
{
    for (guint i = 0; i < c->subs->len;) {
        struct live_sub *s = g_ptr_array_index(c->subs, i);
        bool keep = true;
        if (s->topic == TOPIC_VM_METRICS && now >= s->next_ms) {
            /* On the schedule it was given, not drifting by a tick each time. */
            s->next_ms += s->interval_ms;
            if (s->next_ms <= now)
                s->next_ms = now + s->interval_ms;
            keep = push_metrics(c, s);
        } else if (s->topic == TOPIC_JOB_PROGRESS && jobs_due) {
            push_jobs(c, s);
        }
        if (keep) {
            i++;
            continue;
        }
        g_ptr_array_remove_index(c->subs, i);
        if (c->subs->len == 0)
            c->idle_since_ms = now;
    }
}
