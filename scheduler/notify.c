#define _GNU_SOURCE
#include "notify.h"

#include <curl/curl.h>
#include <glib.h>
#include <jansson.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "db.h"
#include "i18n.h"
#include "log.h"
#include "tasks.h"

void notify_queue(long long rule_id, long long alert_id, const char *event)
{
    db_exec("INSERT INTO notification_deliveries (channel_id, alert_id, event) "
            "SELECT c.channel_id, ?, ? FROM alert_rule_channels c "
            "JOIN notification_channels n ON n.id = c.channel_id "
            "WHERE c.rule_id = ? AND n.enabled = 1",
            DB_INT(alert_id), DB_TEXT(event), DB_INT(rule_id));
}

/* ------------------------------------------------------------ signing --- */

static void hmac_sha256(const char *key, const void *data, size_t len, unsigned char out[32])
{
    unsigned int n = 32;
    HMAC(EVP_sha256(), key, (int)strlen(key), data, len, out, &n);
}

void notify_webhook_signature(const char *key, const char *body, size_t len, char out[72])
{
    unsigned char mac[32];
    hmac_sha256(key, body, len, mac);
    strcpy(out, "sha256=");
    for (int i = 0; i < 32; i++)
        sprintf(out + 7 + 2 * i, "%02x", mac[i]);
}

char *notify_dingtalk_sign(const char *secret, long long timestamp_ms)
{
    char *text = g_strdup_printf("%lld\n%s", timestamp_ms, secret);
    unsigned char mac[32];
    hmac_sha256(secret, text, strlen(text), mac);
    g_free(text);
    gchar *b64 = g_base64_encode(mac, sizeof mac);
    char *sign = g_uri_escape_string(b64, NULL, FALSE);
    g_free(b64);
    return sign;
}

/* ----------------------------------------------------------- messages --- */

/* What one message says, in the channel's language. */
struct message {
    char *title;
    char *text;      /* plain text (email, webhook) */
    json_t *alert;   /* the alert's facts for the webhook body, or NULL (a test) */
};

static void message_free(struct message *m)
{
    g_free(m->title);
    g_free(m->text);
    json_decref(m->alert);
}

static const char *metric_name(const char *metric)
{
    if (!strcmp(metric, "cpu"))
        return _("CPU");
    if (!strcmp(metric, "memory"))
        return _("Memory");
    if (!strcmp(metric, "disk"))
        return _("Disk I/O");
    if (!strcmp(metric, "network"))
        return _("Network traffic");
    if (!strcmp(metric, "pool_free"))
        return _("Free pool space");
    if (!strcmp(metric, "host_unreachable"))
        return _("Seconds without samples");
    return metric;
}

static const char *unit_of(const char *metric)
{
    if (!strcmp(metric, "host_unreachable"))
        return " s";
    return !strcmp(metric, "cpu") || !strcmp(metric, "memory") || !strcmp(metric, "pool_free")
               ? "%" : " B/s";
}

/* What an event alert says happened. */
static const char *event_title(const char *metric)
{
    if (!strcmp(metric, "vm_crashed"))
        return _("Virtual machine crashed");
    if (!strcmp(metric, "vm_stopped"))
        return _("Virtual machine stopped unexpectedly");
    if (!strcmp(metric, "job_failed"))
        return _("Job failed");
    return metric;
}

static const char *event_name(const char *event)
{
    if (!strcmp(event, "firing"))
        return _("Firing");
    if (!strcmp(event, "resolved"))
        return _("Resolved");
    if (!strcmp(event, "repeat"))
        return _("Still firing");
    return _("Test");
}

/* The message of a delivery; false when its alert is gone. */
static bool message_build(long long alert_id, const char *event, struct message *m)
{
    memset(m, 0, sizeof *m);
    if (!strcmp(event, "test")) {
        m->title = g_strdup(_("VMManager: test message"));
        m->text = g_strdup(_("This is a test message from VMManager. This channel works."));
        return true;
    }
    struct db_rows *rows = db_query(
        "SELECT a.id, a.rule_id, a.state, a.severity, a.metric, a.value, a.peak_value, "
        "a.threshold, a.object_key, a.vm_id, v.name, r.operator, r.name, r.duration_s, "
        "DATE_FORMAT(a.started_at, '%Y-%m-%dT%TZ'), DATE_FORMAT(a.fired_at, '%Y-%m-%dT%TZ'), "
        "DATE_FORMAT(a.resolved_at, '%Y-%m-%dT%TZ'), a.kind, a.message "
        "FROM alerts a LEFT JOIN vms v ON v.id = a.vm_id LEFT JOIN alert_rules r ON r.id = a.rule_id "
        "WHERE a.id = ?", DB_INT(alert_id));
    if (!rows || rows->nrows != 1) {
        db_rows_free(rows);
        return false;
    }
    const char *metric = db_cell(rows, 0, 4);
    const char *op = db_cell(rows, 0, 11) ? db_cell(rows, 0, 11) : "";
    /* The VM's name; else a pool or job as its key says ("pool:default"). */
    const char *key = db_cell(rows, 0, 8);
    const char *object = db_cell(rows, 0, 10) ? db_cell(rows, 0, 10)
                         : strcmp(key, "host") ? key
                                               : _("the host");
    double value = db_cell(rows, 0, 5) ? strtod(db_cell(rows, 0, 5), NULL) : 0;
    double peak = db_cell(rows, 0, 6) ? strtod(db_cell(rows, 0, 6), NULL) : value;
    double threshold = db_cell(rows, 0, 7) ? strtod(db_cell(rows, 0, 7), NULL) : 0;
    bool is_event = !strcmp(db_cell(rows, 0, 17), "event");
    const char *what = db_cell(rows, 0, 18);
    if (is_event) {
        /* TRANSLATORS: "Firing: Virtual machine crashed: web" */
        m->title = g_strdup_printf(_("%s: %s: %s"), event_name(event), event_title(metric), object);
        m->text = g_strdup_printf(_("%s\n%s\nSeverity: %s\nSince: %s"), m->title, what,
                                  db_cell(rows, 0, 3), db_cell(rows, 0, 14));
    } else {
        /* TRANSLATORS: "Firing: CPU > 80% on web" */
        m->title = g_strdup_printf(_("%s: %s %s %g%s on %s"), event_name(event), metric_name(metric),
                                   op, threshold, unit_of(metric), object);
        m->text = g_strdup_printf(_("%s\nNow: %.1f%s (peak %.1f%s)\nCondition: %s %s %g%s for %lld s\n"
                                    "Severity: %s\nSince: %s"),
                                  m->title, value, unit_of(metric), peak, unit_of(metric),
                                  metric_name(metric), op, threshold, unit_of(metric),
                                  db_cell_int(rows, 0, 13, 0), db_cell(rows, 0, 3),
                                  db_cell(rows, 0, 14));
    }
    m->alert = json_pack(
        "{s:I, s:o, s:s, s:s, s:s, s:f, s:f, s:f, s:s, s:s, s:o, s:s?, s:s, s:s?, s:s?, s:s, s:s}",
        "id", (json_int_t)db_cell_int(rows, 0, 0, 0), "rule_id",
        db_cell(rows, 0, 1) ? json_integer(db_cell_int(rows, 0, 1, 0)) : json_null(), "state",
        db_cell(rows, 0, 2), "severity", db_cell(rows, 0, 3), "metric", metric, "value", value,
        "peak_value", peak, "threshold", threshold, "condition", op, "object",
        db_cell(rows, 0, 8), "vm_id",
        db_cell(rows, 0, 9) ? json_integer(db_cell_int(rows, 0, 9, 0)) : json_null(), "vm_name",
        db_cell(rows, 0, 10), "started_at", db_cell(rows, 0, 14), "fired_at",
        db_cell(rows, 0, 15), "resolved_at", db_cell(rows, 0, 16), "kind", db_cell(rows, 0, 17),
        "message", what);
    db_rows_free(rows);
    return true;
}

/* ------------------------------------------------------------ sending --- */

struct channel {
    long long id;
    char type[16];
    char lang[8];        /* "en" or "zh-CN" */
    json_t *config;
    json_t *secret;
};

static const char *cfg(const struct channel *c, const char *key)
{
    const char *v = json_string_value(json_object_get(c->config, key));
    return v ? v : json_string_value(json_object_get(c->secret, key));
}

static size_t collect(char *data, size_t size, size_t n, void *out)
{
    GString *s = out;
    if (s->len < 65536)
        g_string_append_len(s, data, (gssize)(size * n));
    return size * n;
}

static CURL *curl_for(const char *url, GString *response)
{
    CURL *curl = curl_easy_init();
    if (!curl)
        return NULL;
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 5L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, config_int("notifications", "timeout_s", 10));
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, response);
    return curl;
}

/* POSTs a JSON body; 0 when the answer is 2xx. */
static int post_json(const char *url, const char *body, struct curl_slist *headers,
                     GString *response, char *error, size_t error_size)
{
    CURL *curl = curl_for(url, response);
    if (!curl) {
        snprintf(error, error_size, "libcurl cannot start");
        return -1;
    }
    headers = curl_slist_append(headers, "Content-Type: application/json; charset=utf-8");
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    CURLcode rc = curl_easy_perform(curl);
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(curl);
    curl_slist_free_all(headers);
    if (rc != CURLE_OK) {
        snprintf(error, error_size, "%s", curl_easy_strerror(rc));
        return -1;
    }
    if (status < 200 || status > 299) {
        snprintf(error, error_size, "HTTP %ld", status);
        return -1;
    }
    return 0;
}

static int send_webhook(const struct channel *c, const char *event, const struct message *m,
                        char *error, size_t error_size)
{
    json_t *body = json_pack("{s:s, s:s, s:s, s:s, s:O?}", "event", event, "language", c->lang,
                             "title", m->title, "text", m->text, "alert", m->alert);
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    struct curl_slist *headers = NULL;
    const char *key = cfg(c, "secret");
    if (key) {
        char sig[72], header[96];
        notify_webhook_signature(key, text, strlen(text), sig);
        snprintf(header, sizeof header, "X-VMM-Signature: %s", sig);
        headers = curl_slist_append(headers, header);
    }
    char event_header[64];
    snprintf(event_header, sizeof event_header, "X-VMM-Event: %s", event);
    headers = curl_slist_append(headers, event_header);
    GString *response = g_string_new(NULL);
    int rc = post_json(cfg(c, "url"), text, headers, response, error, error_size);
    g_string_free(response, TRUE);
    free(text);
    return rc;
}

/* The robot's base URL is a setting (tests point it at their receiver):
 * the settings table, else [notifications] dingtalk_url. */
static char *dingtalk_base(void)
{
    struct db_rows *rows =
        db_query("SELECT value FROM settings WHERE name = 'notifications.dingtalk_url'");
    const char *v = db_cell(rows, 0, 0);
    char *url = g_strdup(v && *v ? v
                                 : config_str("notifications", "dingtalk_url",
                                              "https://oapi.dingtalk.com/robot/send"));
    db_rows_free(rows);
    return url;
}

/* One markdown message for all of messages (batched). */
static int send_dingtalk(const struct channel *c, GPtrArray *messages, char *error,
                         size_t error_size)
{
    const char *keyword = cfg(c, "keyword");
    GString *md = g_string_new(NULL);
    const struct message *first = g_ptr_array_index(messages, 0);
    for (guint i = 0; i < messages->len; i++) {
        const struct message *m = g_ptr_array_index(messages, i);
        gchar **lines = g_strsplit(m->text, "\n", -1);
        g_string_append_printf(md, "%s### %s\n", i ? "\n---\n" : "", m->title);
        for (gchar **l = lines + 1; *l; l++)
            g_string_append_printf(md, "- %s\n", *l);
        g_strfreev(lines);
    }
    /* Keyword mode: DingTalk drops messages without the robot's keyword. */
    char *title = keyword ? g_strdup_printf("%s %s", keyword, first->title) : g_strdup(first->title);
    if (keyword)
        g_string_append_printf(md, "\n%s", keyword);
    json_t *body = json_pack("{s:s, s:{s:s, s:s}}", "msgtype", "markdown", "markdown", "title",
                             title, "text", md->str);
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    g_free(title);
    g_string_free(md, TRUE);

    char *base = dingtalk_base();
    char *token = g_uri_escape_string(cfg(c, "access_token"), NULL, FALSE);
    char *url;
    const char *secret = cfg(c, "secret");
    if (secret) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        long long ms = (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
        char *sign = notify_dingtalk_sign(secret, ms);
        url = g_strdup_printf("%s?access_token=%s&timestamp=%lld&sign=%s", base, token, ms, sign);
        g_free(sign);
    } else {
        url = g_strdup_printf("%s?access_token=%s", base, token);
    }
    GString *response = g_string_new(NULL);
    int rc = post_json(url, text, NULL, response, error, error_size);
    if (rc == 0) {
        /* DingTalk answers 200 with {"errcode": 0} or an error code. */
        json_t *answer = json_loads(response->str, 0, NULL);
        json_t *code = json_object_get(answer, "errcode");
        if (!json_is_integer(code) || json_integer_value(code) != 0) {
            const char *msg = json_string_value(json_object_get(answer, "errmsg"));
            snprintf(error, error_size, "DingTalk errcode %lld: %s",
                     json_is_integer(code) ? (long long)json_integer_value(code) : -1LL,
                     msg ? msg : "no errmsg");
            rc = -1;
        }
        json_decref(answer);
    }
    g_string_free(response, TRUE);
    g_free(url);
    g_free(token);
    g_free(base);
    free(text);
    return rc;
}

struct payload {
    const char *data;
    size_t len, off;
};

static size_t read_payload(char *buf, size_t size, size_t n, void *arg)
{
    struct payload *p = arg;
    size_t left = p->len - p->off, room = size * n;
    size_t k = left < room ? left : room;
    memcpy(buf, p->data + p->off, k);
    p->off += k;
    return k;
}

/* "=?UTF-8?B?...?=" so a Chinese subject survives every mail server. */
static char *encoded_subject(const char *subject)
{
    gchar *b64 = g_base64_encode((const guchar *)subject, strlen(subject));
    char *out = g_strdup_printf("=?UTF-8?B?%s?=", b64);
    g_free(b64);
    return out;
}

static bool header_safe(const char *s)
{
    return s && !strpbrk(s, "\r\n");
}

static int send_email(const struct channel *c, const struct message *m, char *error,
                      size_t error_size)
{
    const char *url = cfg(c, "smtp_url"), *from = cfg(c, "from"), *to = cfg(c, "to");
    if (!header_safe(from) || !header_safe(to)) {
        snprintf(error, error_size, "bad address");
        return -1;
    }
    GString *response = g_string_new(NULL);
    CURL *curl = curl_for(url, response);
    if (!curl) {
        g_string_free(response, TRUE);
        snprintf(error, error_size, "libcurl cannot start");
        return -1;
    }
    json_t *starttls = json_object_get(c->config, "starttls");
    bool tls = !strncmp(url, "smtps://", 8) || !starttls || json_is_true(starttls);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    /* STARTTLS on smtp://, required: never send a password in clear. */
    curl_easy_setopt(curl, CURLOPT_USE_SSL, tls ? (long)CURLUSESSL_ALL : (long)CURLUSESSL_NONE);
    if (json_is_true(json_object_get(c->config, "insecure_tls"))) {
        curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    if (cfg(c, "username")) {
        curl_easy_setopt(curl, CURLOPT_USERNAME, cfg(c, "username"));
        curl_easy_setopt(curl, CURLOPT_PASSWORD, cfg(c, "password") ? cfg(c, "password") : "");
    }
    char *mail_from = g_strdup_printf("<%s>", from);
    curl_easy_setopt(curl, CURLOPT_MAIL_FROM, mail_from);
    struct curl_slist *rcpt = NULL;
    gchar **addresses = g_strsplit_set(to, ",;", -1);
    for (gchar **a = addresses; *a; a++) {
        g_strstrip(*a);
        if (**a) {
            char *r = g_strdup_printf("<%s>", *a);
            rcpt = curl_slist_append(rcpt, r);
            g_free(r);
        }
    }
    g_strfreev(addresses);
    curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, rcpt);
    char date[64];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
    char *subject = encoded_subject(m->title);
    gchar *body = g_strdup_printf("Date: %s\r\nFrom: %s\r\nTo: %s\r\nSubject: %s\r\n"
                                  "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
                                  "Content-Transfer-Encoding: 8bit\r\n\r\n%s\r\n",
                                  date, from, to, subject, m->text);
    struct payload p = { body, strlen(body), 0 };
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, read_payload);
    curl_easy_setopt(curl, CURLOPT_READDATA, &p);
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
    CURLcode rc = curl_easy_perform(curl);
    if (rc != CURLE_OK)
        snprintf(error, error_size, "%s", curl_easy_strerror(rc));
    curl_slist_free_all(rcpt);
    curl_easy_cleanup(curl);
    g_free(body);
    g_free(subject);
    g_free(mail_from);
    g_string_free(response, TRUE);
    return rc == CURLE_OK ? 0 : -1;
}

/* ------------------------------------------------------------ the task --- */

/* When each DingTalk robot last got a message (monotonic ms): at most one
 * every 3.2 s, so fewer than 20 a minute; what waits goes in the next one. */
static GHashTable *robot_last;

static long long mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void mark(GArray *ids, int rc, const char *error)
{
    long long max_attempts = config_int("notifications", "max_attempts", 8);
    for (guint i = 0; i < ids->len; i++) {
        long long id = g_array_index(ids, long long, i);
        if (rc == 0)
            db_exec("UPDATE notification_deliveries SET state = 'sent', attempts = attempts + 1, "
                    "sent_at = UTC_TIMESTAMP(), last_error = '' WHERE id = ?", DB_INT(id));
        else
            /* Back-off: 5 s, 10 s, 20 s, ... at most an hour; then failed. */
            db_exec("UPDATE notification_deliveries SET attempts = attempts + 1, last_error = ?, "
                    "state = IF(attempts >= ?, 'failed', 'queued'), "
                    "next_attempt_at = UTC_TIMESTAMP() + INTERVAL LEAST(3600, 5 * POW(2, attempts - 1)) SECOND "
                    "WHERE id = ?", DB_TEXT(error), DB_INT(max_attempts), DB_INT(id));
    }
}

/* Takes a queued delivery for a minute, so that a second scheduler, in a
 * later slot while this one still sends, does not send it too. */
static bool lease(long long id)
{
    unsigned long long n = 0;
    return db_exec_count("UPDATE notification_deliveries SET next_attempt_at = "
                         "UTC_TIMESTAMP() + INTERVAL 60 SECOND WHERE id = ? AND state = 'queued' "
                         "AND next_attempt_at <= UTC_TIMESTAMP()", &n, DB_INT(id)) == 0 && n == 1;
}

static void load_channel(const struct db_rows *rows, int i, struct channel *c)
{
    c->id = db_cell_int(rows, i, 1, 0);
    snprintf(c->type, sizeof c->type, "%s", db_cell(rows, i, 2));
    snprintf(c->lang, sizeof c->lang, "%s", strcmp(db_cell(rows, i, 3), "zh_CN") ? "en" : "zh-CN");
    c->config = json_loads(db_cell(rows, i, 4), 0, NULL);
    c->secret = json_loads(db_cell(rows, i, 5), 0, NULL);
}

int notifications_deliver(time_t now, char *error, size_t error_size)
{
    if (!robot_last)
        robot_last = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, g_free);
    struct db_rows *rows = db_query(
        "SELECT d.id, c.id, c.type, c.language, c.config, c.secret, d.alert_id, d.event "
        "FROM notification_deliveries d JOIN notification_channels c ON c.id = d.channel_id "
        "WHERE d.state = 'queued' AND d.next_attempt_at <= UTC_TIMESTAMP() "
        "ORDER BY c.id, d.id LIMIT 200");
    if (!rows) {
        snprintf(error, error_size, "cannot read the queue");
        return -1;
    }
    for (int i = 0; i < rows->nrows;) {
        struct channel c;
        load_channel(rows, i, &c);
        i18n_use(c.lang);
        /* This channel's due deliveries: rows i..j-1. */
        int j = i;
        while (j < rows->nrows && db_cell_int(rows, j, 1, 0) == c.id)
            j++;
        bool robot = !strcmp(c.type, "dingtalk");
        long long *last = g_hash_table_lookup(robot_last, &c.id);
        if (robot && last && mono_ms() - *last < 3200) {
            i = j;   /* its turn comes in a moment, batched */
            json_decref(c.config);
            json_decref(c.secret);
            continue;
        }
        GPtrArray *batch = g_ptr_array_new();
        GArray *batch_ids = g_array_new(FALSE, FALSE, sizeof(long long));
        struct message *messages = g_new0(struct message, (size_t)(j - i));
        for (int k = i; k < j; k++) {
            long long id = db_cell_int(rows, k, 0, 0);
            struct message *m = &messages[k - i];
            if (!lease(id))
                continue;   /* another scheduler is sending it */
            if (!message_build(db_cell_int(rows, k, 6, 0), db_cell(rows, k, 7), m)) {
                db_exec("UPDATE notification_deliveries SET state = 'failed', "
                        "last_error = 'the alert is gone' WHERE id = ?", DB_INT(id));
                continue;
            }
            if (robot) {
                g_ptr_array_add(batch, m);
                g_array_append_val(batch_ids, id);
                continue;
            }
            char why[256] = "";
            int rc = !strcmp(c.type, "webhook") ? send_webhook(&c, db_cell(rows, k, 7), m, why, sizeof why)
                                                : send_email(&c, m, why, sizeof why);
            GArray *one = g_array_new(FALSE, FALSE, sizeof(long long));
            g_array_append_val(one, id);
            mark(one, rc, why);
            if (rc < 0)
                log_warn("delivery %lld to channel %lld: %s", id, c.id, why);
            g_array_free(one, TRUE);
        }
        if (robot && batch->len) {
            char why[256] = "";
            int rc = send_dingtalk(&c, batch, why, sizeof why);
            mark(batch_ids, rc, why);
            if (rc < 0)
                log_warn("DingTalk channel %lld: %s", c.id, why);
            long long *stamp = g_new(long long, 1), *key = g_new(long long, 1);
            *stamp = mono_ms();
            *key = c.id;
            g_hash_table_replace(robot_last, key, stamp);
        }
        for (int k = 0; k < j - i; k++)
            message_free(&messages[k]);
        g_free(messages);
        g_ptr_array_free(batch, TRUE);
        g_array_free(batch_ids, TRUE);
        json_decref(c.config);
        json_decref(c.secret);
        i = j;
    }
    db_rows_free(rows);
    i18n_use("en");
    return 0;
}
