#include "list.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "i18n.h"
#include "rbac.h"

static int query_int(struct req *r, const char *name, long long min, long long max,
                     long long *out)
{
    const char *text = req_query(r, name);
    if (!text)
        return 0;
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (errno || !*text || *end || v < min || v > max)
        return req_fail(r, 400, "invalid_parameter", name, _("%s must be between %lld and %lld."),
                    name, min, max);
    *out = v;
    return 0;
}

int list_query_parse(struct req *r, const struct list_sort *sorts, struct list_query *q)
{
    /* Nothing to free on failure: q->like is set last. */
    memset(q, 0, sizeof *q);
    q->page = 1;
    q->per_page = LIST_DEFAULT_PER_PAGE;
    if (query_int(r, "page", 1, 1000000, &q->page) < 0 ||
        query_int(r, "per_page", 1, LIST_MAX_PER_PAGE, &q->per_page) < 0)
        return -1;
    q->offset = (q->page - 1) * q->per_page;

    const char *sort = req_query(r, "sort");
    const struct list_sort *chosen = &sorts[0];
    bool desc = chosen->descending;
    if (sort && *sort) {
        desc = sort[0] == '-';
        const char *name = desc ? sort + 1 : sort;
        chosen = NULL;
        for (const struct list_sort *s = sorts; s->name; s++)
            if (!strcmp(s->name, name))
                chosen = s;
        if (!chosen)
            return req_fail(r, 400, "invalid_parameter", "sort", _("This list cannot be sorted by %s."),
                        name);
    }
    snprintf(q->order_by, sizeof q->order_by, "%s %s", chosen->column, desc ? "DESC" : "ASC");

    const char *text = req_query(r, "q");
    if (text && *text) {
        if (g_utf8_strlen(text, -1) > 100)
            return req_fail(r, 400, "invalid_parameter", "q", _("The search text is too long."));
        GString *like = g_string_new("%");
        for (const char *p = text; *p; p++) {
            if (*p == '%' || *p == '_' || *p == '\\')
                g_string_append_c(like, '\\');
            g_string_append_c(like, *p);
        }
        g_string_append_c(like, '%');
        q->like = g_string_free(like, FALSE);
    }
    return 0;
}

void list_query_free(struct list_query *q)
{
    g_free(q->like);
    q->like = NULL;
}

void list_reply(struct req *r, json_t *items, long long total, const struct list_query *q)
{
    json_decref(r->data);
    json_decref(r->meta);
    r->data = items;
    r->meta = json_pack("{s:I, s:I, s:I}", "total", (json_int_t)total, "page",
                        (json_int_t)q->page, "per_page", (json_int_t)q->per_page);
}

int list_run(struct req *r, struct list_query *q, const char *columns, const char *from_where,
             const struct db_param *params, list_row_fn to_json)
{
    size_t n = 0;
    while (params[n].type != DB_END)
        n++;
    /* The page query takes the filters, then LIMIT and OFFSET. */
    struct db_param *page_params = g_new0(struct db_param, n + 3);
    memcpy(page_params, params, n * sizeof *params);
    page_params[n] = DB_INT(q->per_page);
    page_params[n + 1] = DB_INT(q->offset);
    page_params[n + 2] = (struct db_param){ .type = DB_END };

    char *sql = g_strdup_printf("SELECT %s %s ORDER BY %s LIMIT ? OFFSET ?", columns, from_where,
                                q->order_by);
    char *count_sql = g_strdup_printf("SELECT COUNT(*) %s", from_where);
    struct db_rows *rows = db_query_params(sql, page_params);
    struct db_rows *total = rows ? db_query_params(count_sql, params) : NULL;
    g_free(sql);
    g_free(count_sql);
    g_free(page_params);

    int rc = 0;
    if (!rows || !total) {
        rc = fail_db(r);
    } else {
        json_t *items = json_array();
        for (int i = 0; i < rows->nrows; i++)
            json_array_append_new(items, to_json(rows, i));
        list_reply(r, items, db_cell_int(total, 0, 0, 0), q);
    }
    db_rows_free(rows);
    db_rows_free(total);
    list_query_free(q);
    return rc;
}

json_t *list_one(struct req *r, struct db_rows *rows, list_row_fn to_json, const char *missing)
{
    return list_one_owned(r, rows, -1, to_json, missing);
}

json_t *list_one_owned(struct req *r, struct db_rows *rows, int owner_col, list_row_fn to_json,
                       const char *missing)
{
    if (!rows) {
        fail_db(r);
        return NULL;
    }
    json_t *one = rows->nrows == 1 && (owner_col < 0 ||
                                       rbac_may_touch(r->user, db_cell_int(rows, 0, owner_col, 0)))
                      ? to_json(rows, 0)
                      : NULL;
    db_rows_free(rows);
    if (!one)
        req_fail(r, 404, "not_found", NULL, "%s", missing);
    return one;
}

static json_t *path_vm_from_row(const struct db_rows *rows, int i)
{
    return json_pack("{s:I, s:I, s:s, s:s}", "id", (json_int_t)db_cell_int(rows, i, 0, 0),
                     "owner_id", (json_int_t)db_cell_int(rows, i, 1, 0), "name",
                     db_cell(rows, i, 2), "state", db_cell(rows, i, 3));
}

json_t *list_path_vm(struct req *r)
{
    return list_one_owned(r, db_query("SELECT id, owner_id, name, state FROM vms WHERE id = ?",
                                      DB_INT(req_param(r, "id")->num)),
                          1, path_vm_from_row, _("There is no such virtual machine."));
}

/* "&k=v" for each of keys the request has, except skip. */
static GString *kept_query(struct req *r, const char *const *keys, const char *skip)
{
    GString *keep = g_string_new("");
    for (int i = 0; keys[i]; i++) {
        const char *v = req_query(r, keys[i]);
        if (v && *v && strcmp(keys[i], skip)) {
            char *e = g_uri_escape_string(v, NULL, FALSE);
            g_string_append_printf(keep, "&%s=%s", keys[i], e);
            g_free(e);
        }
    }
    return keep;
}

json_t *list_paging(struct req *r, const char *base, const char *const *keys, long long page,
                    long long per_page, long long total)
{
    json_t *out = json_object();
    GString *keep = kept_query(r, keys, "page");
    char *href;
    if (page > 1) {
        href = g_strdup_printf("%s?page=%lld%s", base, page - 1, keep->str);
        json_object_set_new(out, "prev", json_string(href));
        g_free(href);
    }
    if (page * per_page < total) {
        href = g_strdup_printf("%s?page=%lld%s", base, page + 1, keep->str);
        json_object_set_new(out, "next", json_string(href));
        g_free(href);
    }
    /* Templates show sections for true, not for strings. */
    json_object_set_new(out, "has_prev", json_boolean(page > 1));
    json_object_set_new(out, "has_next", json_boolean(page * per_page < total));
    json_object_set_new(out, "page", json_integer(page));
    json_object_set_new(out, "pages", json_integer(total ? (total + per_page - 1) / per_page : 1));
    g_string_free(keep, TRUE);
    return out;
}

json_t *list_sort_links(struct req *r, const char *base, const char *const *keys,
                        const struct list_sort *sorts)
{
    json_t *out = json_object();
    const char *sort = req_query(r, "sort");
    GString *keep = kept_query(r, keys, "sort");
    for (const struct list_sort *s = sorts; s->name; s++) {
        bool asc = sort && !strcmp(sort, s->name);
        bool desc = sort && sort[0] == '-' && !strcmp(sort + 1, s->name);
        char *href = g_strdup_printf("%s?sort=%s%s%s", base, asc ? "-" : "", s->name, keep->str);
        json_object_set_new(out, s->name, json_pack("{s:s, s:b, s:b, s:b}", "href", href, "current",
                                                    asc || desc, "descending", desc, "ascending", asc));
        g_free(href);
    }
    g_string_free(keep, TRUE);
    return out;
}
