#include "audit_list.h"

#include <string.h>

#include "csv.h"
#include "db.h"
#include "i18n.h"
#include "list.h"

#define CSV_MAX_ROWS 100000

/* A WHERE clause built from the filters present, so each query uses the
 * index of its narrowest filter. Strings bound stay alive in owned. */
struct where {
    GString *sql;
    GArray *params;
    GPtrArray *owned;
};

static void where_init(struct where *w, const char *from)
{
    w->sql = g_string_new(from);
    g_string_append(w->sql, " WHERE 1 = 1");
    w->params = g_array_new(TRUE, TRUE, sizeof(struct db_param));
    w->owned = g_ptr_array_new_with_free_func(g_free);
}

static void where_free(struct where *w)
{
    g_string_free(w->sql, TRUE);
    g_array_free(w->params, TRUE);
    g_ptr_array_free(w->owned, TRUE);
}

static void where_add(struct where *w, const char *condition, struct db_param p)
{
    g_string_append_printf(w->sql, " AND %s", condition);
    g_array_append_val(w->params, p);
}

static void where_add_owned(struct where *w, const char *condition, char *text)
{
    g_ptr_array_add(w->owned, text);
    where_add(w, condition, DB_TEXT(text));
}

/* "2026-11-23", "2026-11-23T12:00:00Z" (UTC unless an offset is given)
 * as a DATETIME literal in UTC, or NULL. */
static char *utc_datetime(const char *text)
{
    char *full = strchr(text, 'T') ? g_strdup(text) : g_strdup_printf("%sT00:00:00", text);
    GTimeZone *utc = g_time_zone_new_utc();
    GDateTime *t = g_date_time_new_from_iso8601(full, utc);
    char *out = NULL;
    if (t) {
        GDateTime *u = g_date_time_to_utc(t);
        out = g_date_time_format(u, "%Y-%m-%d %H:%M:%S");
        g_date_time_unref(u);
        g_date_time_unref(t);
    }
    g_time_zone_unref(utc);
    g_free(full);
    return out;
}

/* from= and to=, and result=; 0 or -1 with a 400 naming the parameter. */
static int add_common(struct req *r, struct where *w, const char *result_sql)
{
    static const char *const names[] = { "from", "to" };
    static const char *const conditions[] = { "created_at >= ?", "created_at < ?" };
    for (int i = 0; i < 2; i++) {
        const char *text = req_query(r, names[i]);
        if (!text || !*text)
            continue;
        char *at = utc_datetime(text);
        if (!at)
            return req_fail(r, 400, "invalid_parameter", names[i],
                            _("%s must be a date (2026-01-31) or a time (2026-01-31T08:00:00Z)."),
                            names[i]);
        where_add_owned(w, conditions[i], at);
    }
    const char *result = req_query(r, "result");
    if (result && *result) {
        if (strcmp(result, "success") && strcmp(result, "failure"))
            return req_fail(r, 400, "invalid_parameter", "result",
                            _("result must be success or failure."));
        where_add(w, result_sql, DB_INT(!strcmp(result, "success")));
    }
    const char *ip = req_query(r, "ip");
    if (ip && *ip)
        where_add(w, "ip = ?", DB_TEXT(ip));
    return 0;
}

static int query_id(struct req *r, const char *name, long long *out)
{
    const char *text = req_query(r, name);
    *out = 0;
    if (!text || !*text)
        return 0;
    char *end;
    long long v = g_ascii_strtoll(text, &end, 10);
    if (*end || v <= 0)
        return req_fail(r, 400, "invalid_parameter", name, _("%s must be a positive integer."), name);
    *out = v;
    return 0;
}

/* An action filter: exact, or "vm.*" for every action starting "vm.". */
static void add_action(struct where *w, const char *action)
{
    size_t len = strlen(action);
    if (len && action[len - 1] == '*') {
        GString *like = g_string_new(NULL);
        for (size_t i = 0; i + 1 < len; i++) {
            if (action[i] == '%' || action[i] == '_' || action[i] == '\\')
                g_string_append_c(like, '\\');
            g_string_append_c(like, action[i]);
        }
        g_string_append_c(like, '%');
        where_add_owned(w, "action LIKE ?", g_string_free(like, FALSE));
    } else {
        where_add(w, "action = ?", DB_TEXT(action));
    }
}

#define AUDIT_COLUMNS                                                                     \
    "id, DATE_FORMAT(created_at, '%Y-%m-%dT%H:%i:%s.%fZ'), actor_id, actor_name, action, " \
    "target_type, target_id, result, status, detail, changes, ip, user_agent, request_id"

static json_t *json_or_null(const char *text)
{
    json_t *v = text ? json_loads(text, 0, NULL) : NULL;
    return v ? v : json_null();
}

static json_t *int_or_null(const struct db_rows *rows, int i, int col)
{
    return db_cell(rows, i, col) ? json_integer(db_cell_int(rows, i, col, 0)) : json_null();
}

static json_t *audit_row_json(const struct db_rows *rows, int i)
{
    /* DATE_FORMAT's %f has 6 digits; the column keeps 3. */
    char time[32];
    snprintf(time, sizeof time, "%.23sZ", db_cell(rows, i, 1) ? db_cell(rows, i, 1) : "");
    return json_pack("{s:I, s:s, s:o, s:s, s:s, s:s, s:o, s:s, s:I, s:o, s:o, s:s, s:s, s:s, s:b}",
                     "id", (json_int_t)db_cell_int(rows, i, 0, 0), "time", time,
                     "actor_id", int_or_null(rows, i, 2), "actor_name", db_cell(rows, i, 3),
                     "action", db_cell(rows, i, 4), "target_type", db_cell(rows, i, 5),
                     "target_id", int_or_null(rows, i, 6), "result", db_cell(rows, i, 7),
                     "status", (json_int_t)db_cell_int(rows, i, 8, 0),
                     "detail", json_or_null(db_cell(rows, i, 9)),
                     "changes", json_or_null(db_cell(rows, i, 10)), "ip", db_cell(rows, i, 11),
                     "user_agent", db_cell(rows, i, 12), "request_id", db_cell(rows, i, 13),
                     "success", !strcmp(db_cell(rows, i, 7), "success"));
}

static bool wants_csv(const struct req *r)
{
    const char *format = req_query(r, "format");
    return format && !strcmp(format, "csv");
}

/* The whole filtered list (up to CSV_MAX_ROWS) as a CSV download. */
static int reply_csv(struct req *r, const char *columns, const char *const *headers,
                     struct where *w, const char *order_by, const char *filename)
{
    char *sql = g_strdup_printf("SELECT %s %s ORDER BY %s LIMIT %d", columns, w->sql->str,
                                order_by, CSV_MAX_ROWS);
    struct db_rows *rows = db_query_params(sql, (const struct db_param *)w->params->data);
    g_free(sql);
    if (!rows)
        return req_fail(r, 503, "database_unavailable", NULL,
                        _("The database is not available. Try again shortly."));
    g_string_truncate(r->resp_body, 0);
    for (int c = 0; headers[c]; c++)
        csv_cell(r->resp_body, headers[c], !headers[c + 1]);
    for (int i = 0; i < rows->nrows; i++)
        for (int c = 0; c < rows->ncols; c++)
            csv_cell(r->resp_body, db_cell(rows, i, c), c == rows->ncols - 1);
    db_rows_free(rows);
    r->resp_raw = true;
    r->resp_type = "text/csv; charset=utf-8";
    char *disposition = g_strdup_printf("attachment; filename=\"%s\"", filename);
    resp_header(r, "Content-Disposition", disposition);
    g_free(disposition);
    return 0;
}

static const struct list_sort audit_sorts[] = {
    { "id", "id" }, { "time", "created_at" }, { "actor", "actor_name" }, { "action", "action" },
    { NULL },
};

/* What the handler narrows the list to, whatever the query string says. */
static void add_scope(struct where *w, const struct audit_scope *scope)
{
    if (scope->actor_id > 0)
        where_add(w, "actor_id = ?", DB_INT(scope->actor_id));
    if (scope->target_type)
        where_add(w, "target_type = ?", DB_TEXT(scope->target_type));
    if (scope->target_id > 0)
        where_add(w, "target_id = ?", DB_INT(scope->target_id));
    if (scope->changes_only)
        g_string_append(w->sql, " AND changes IS NOT NULL");
    if (scope->failures_of > 0)
        where_add(w, "(result = 'success' OR actor_id = ? OR actor_id IN "
                     "(SELECT id FROM users WHERE role = 'admin'))", DB_INT(scope->failures_of));
}

static int add_audit_filters(struct req *r, struct where *w, const struct audit_scope *scope)
{
    long long target_id = 0;
    if (query_id(r, "target_id", &target_id) < 0 || add_common(r, w, "(result = 'success') = ?") < 0)
        return -1;
    add_scope(w, scope);
    const char *actor = req_query(r, "actor");
    if (actor && *actor)
        where_add(w, "actor_name = ?", DB_TEXT(actor));
    const char *action = req_query(r, "action");
    if (action && *action)
        add_action(w, action);
    const char *target_type = req_query(r, "target_type");
    if (target_type && *target_type)
        where_add(w, "target_type = ?", DB_TEXT(target_type));
    if (target_id > 0)
        where_add(w, "target_id = ?", DB_INT(target_id));
    return 0;
}

int audit_list(struct req *r, const struct audit_scope *scope)
{
    struct where w;
    struct list_query q;
    where_init(&w, "FROM audit_log");
    int rc = add_audit_filters(r, &w, scope);
    if (rc == 0)
        rc = list_query_parse(r, audit_sorts, &q);
    if (rc < 0) {
        where_free(&w);
        return -1;
    }
    if (!req_query(r, "sort") || !*req_query(r, "sort"))
        snprintf(q.order_by, sizeof q.order_by, "id DESC");
    if (q.like) {
        g_string_append(w.sql, " AND (actor_name LIKE ? OR action LIKE ? OR target_type LIKE ?)");
        for (int i = 0; i < 3; i++)
            g_array_append_val(w.params, ((struct db_param){ .type = DB_TEXT_T, .s = q.like }));
    }
    if (wants_csv(r)) {
        static const char *const headers[] = {
            "id", "time", "actor_id", "actor", "action", "target_type", "target_id", "result",
            "status", "detail", "changes", "ip", "user_agent", "request_id", NULL,
        };
        rc = reply_csv(r, AUDIT_COLUMNS, headers, &w, q.order_by, "audit-log.csv");
        list_query_free(&q);
    } else {
        rc = list_run(r, &q, AUDIT_COLUMNS, w.sql->str, (const struct db_param *)w.params->data,
                      audit_row_json);
    }
    where_free(&w);
    return rc;
}

json_t *audit_recent(const struct audit_scope *scope, int limit)
{
    struct where w;
    where_init(&w, "FROM audit_log");
    add_scope(&w, scope);
    /* The columns hold DATE_FORMAT's %s: not a printf format. */
    char *tail = g_strdup_printf(" ORDER BY id DESC LIMIT %d", limit);
    char *sql = g_strconcat("SELECT " AUDIT_COLUMNS " ", w.sql->str, tail, NULL);
    g_free(tail);
    struct db_rows *rows = db_query_params(sql, (const struct db_param *)w.params->data);
    g_free(sql);
    where_free(&w);
    if (!rows)
        return NULL;
    json_t *items = json_array();
    for (int i = 0; i < rows->nrows; i++)
        json_array_append_new(items, audit_row_json(rows, i));
    db_rows_free(rows);
    return items;
}

#define LOGIN_COLUMNS                                                                     \
    "id, DATE_FORMAT(created_at, '%Y-%m-%dT%H:%i:%s.%fZ'), user_id, username, success, " \
    "reason, ip, user_agent"

static json_t *login_row_json(const struct db_rows *rows, int i)
{
    char time[32];
    snprintf(time, sizeof time, "%.23sZ", db_cell(rows, i, 1) ? db_cell(rows, i, 1) : "");
    return json_pack("{s:I, s:s, s:o, s:s, s:b, s:s, s:s, s:s}",
                     "id", (json_int_t)db_cell_int(rows, i, 0, 0), "time", time,
                     "user_id", int_or_null(rows, i, 2), "username", db_cell(rows, i, 3),
                     "success", db_cell_int(rows, i, 4, 0) != 0, "reason", db_cell(rows, i, 5),
                     "ip", db_cell(rows, i, 6), "user_agent", db_cell(rows, i, 7));
}

static const struct list_sort login_sorts[] = {
    { "id", "id" }, { "time", "created_at" }, { "username", "username" }, { NULL },
};

int login_history_list(struct req *r, long long only_user)
{
    struct where w;
    struct list_query q;
    where_init(&w, "FROM login_history");
    int rc = add_common(r, &w, "success = ?");
    if (only_user > 0)
        where_add(&w, "user_id = ?", DB_INT(only_user));
    const char *username = req_query(r, "username");
    if (username && *username)
        where_add(&w, "username = ?", DB_TEXT(username));
    if (rc == 0)
        rc = list_query_parse(r, login_sorts, &q);
    if (rc < 0) {
        where_free(&w);
        return -1;
    }
    if (!req_query(r, "sort") || !*req_query(r, "sort"))
        snprintf(q.order_by, sizeof q.order_by, "id DESC");
    if (wants_csv(r)) {
        static const char *const headers[] = {
            "id", "time", "user_id", "username", "success", "reason", "ip", "user_agent", NULL,
        };
        rc = reply_csv(r, LOGIN_COLUMNS, headers, &w, q.order_by, "login-history.csv");
        list_query_free(&q);
    } else {
        rc = list_run(r, &q, LOGIN_COLUMNS, w.sql->str, (const struct db_param *)w.params->data,
                      login_row_json);
    }
    where_free(&w);
    return rc;
}
