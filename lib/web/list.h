/* Paging, sorting and search of lists: ?page=&per_page=&sort=&q= as in
 * API.md. Sort fields come from a whitelist, never from the request. */
#ifndef VMM_LIST_H
#define VMM_LIST_H

#include "db.h"
#include "http.h"

#define LIST_DEFAULT_PER_PAGE 50
#define LIST_MAX_PER_PAGE 500

struct list_sort {
    const char *name;     /* as in ?sort=name or ?sort=-name */
    const char *column;   /* the SQL column it orders by */
    bool descending;      /* as the default (no ?sort): newest first */
};

struct list_query {
    long long page;
    long long per_page;
    long long offset;
    char order_by[96];      /* "column ASC|DESC", from the whitelist */
    char *like;             /* "%q%" with LIKE wildcards escaped, or NULL */
};

/* Reads page, per_page, sort and q. sorts is {NULL}-terminated; the first
 * is the default. 0, or -1 with a 400 naming the parameter. */
int list_query_parse(struct req *r, const struct list_sort *sorts, struct list_query *q);
void list_query_free(struct list_query *q);
/* Sets r->data to items and r->meta to {total, page, per_page}. */
void list_reply(struct req *r, json_t *items, long long total, const struct list_query *q);

typedef json_t *(*list_row_fn)(const struct db_rows *rows, int row);

/* Runs "SELECT columns from_where ORDER BY ... LIMIT ... OFFSET ..." and
 * "SELECT COUNT(*) from_where" with the same params (DB_PARAMS(...)),
 * turns each row into JSON with to_json and replies the page with its
 * meta. Frees q. 0, or -1 with a 503 when the database fails. */
int list_run(struct req *r, struct list_query *q, const char *columns, const char *from_where,
             const struct db_param *params, list_row_fn to_json);

/* The one row of rows (a query by id, freed here) as to_json makes it;
 * NULL with a 503 when the query failed (rows NULL), or a 404 not_found
 * saying missing (translated) when it found no row. */
json_t *list_one(struct req *r, struct db_rows *rows, list_row_fn to_json, const char *missing);
/* list_one of an object someone owns (their id in column owner_col): one
 * the caller may not touch (rbac_may_touch) gets the same 404 as none. */
json_t *list_one_owned(struct req *r, struct db_rows *rows, int owner_col, list_row_fn to_json,
                       const char *missing);
/* The VM of the path's {id} ({id, owner_id, name, state}) if the caller may
 * touch it, else the 404 of none (NULL): what a VM's snapshots and backups
 * hang on. */
json_t *list_path_vm(struct req *r);

/* For list pages: links that keep the query's other parameters (keys,
 * NULL-terminated) and change one. list_paging gives {prev, next} hrefs of
 * base for page of a list of total; list_sort_links gives, per sort name,
 * {href, current, descending}: the column's link sorts by it ascending, or
 * descending when it is the current ascending one. */
json_t *list_paging(struct req *r, const char *base, const char *const *keys, long long page,
                    long long per_page, long long total);
json_t *list_sort_links(struct req *r, const char *base, const char *const *keys,
                        const struct list_sort *sorts);

#endif
