/* MariaDB access: one connection per worker, prepared statements only,
 * every value bound as a parameter, results as rows of strings.
 *
 *   struct db_rows *rows = db_query("SELECT id, name FROM users WHERE id = ?",
 *                                   DB_INT(id));
 */
#ifndef VMM_DB_H
#define VMM_DB_H

#include <stdbool.h>

enum db_type { DB_END, DB_NULL_T, DB_INT_T, DB_TEXT_T };

struct db_param {
    enum db_type type;
    long long i;
    const char *s;
};

#define DB_INT(x) ((struct db_param){ .type = DB_INT_T, .i = (x) })
/* A NULL string binds SQL NULL. */
static inline struct db_param db_text(const char *s)
{
    return (struct db_param){ .type = s ? DB_TEXT_T : DB_NULL_T, .s = s };
}
#define DB_TEXT(x) db_text(x)
#define DB_NULL ((struct db_param){ .type = DB_NULL_T })
#define DB_PARAMS(...) ((const struct db_param[]){ __VA_ARGS__ __VA_OPT__(,) { .type = DB_END } })

struct db_rows {
    int nrows;
    int ncols;
    char **names;   /* column names */
    char **cells;   /* nrows * ncols; NULL for SQL NULL */
};

/* Connects (or reconnects) using the [database] config: servers (a list,
 * e.g. the nodes of a Galera cluster, tried in turn) or socket. 0 or -1. */
int db_connect(void);
void db_close(void);

/* Runs a statement; affected rows and the new AUTO_INCREMENT id are
 * returned when the pointers are non-NULL. 0 or -1 (see db_errno). */
#define db_exec(sql, ...) db_exec_params(sql, DB_PARAMS(__VA_ARGS__), NULL, NULL)
#define db_exec_id(sql, id, ...) db_exec_params(sql, DB_PARAMS(__VA_ARGS__), NULL, id)
#define db_exec_count(sql, n, ...) db_exec_params(sql, DB_PARAMS(__VA_ARGS__), n, NULL)
int db_exec_params(const char *sql, const struct db_param *params,
                   unsigned long long *affected, long long *insert_id);

/* Runs a query; NULL on error. Free with db_rows_free. */
#define db_query(sql, ...) db_query_params(sql, DB_PARAMS(__VA_ARGS__))
struct db_rows *db_query_params(const char *sql, const struct db_param *params);
void db_rows_free(struct db_rows *rows);
/* Cell accessors (NULL / fallback for SQL NULL or out of range). */
const char *db_cell(const struct db_rows *rows, int row, int col);
long long db_cell_int(const struct db_rows *rows, int row, int col, long long fallback);

/* One transaction at a time per thread. If its connection is lost, or the
 * server rolls it back (a deadlock, a Galera conflict), every statement up
 * to the end fails (never run in autocommit) and db_commit returns -1:
 * nothing of it was applied. db_rollback after a
 * lost connection is 0 (the server rolled it back). Outside a transaction
 * a statement that meets a lost connection is retried once on a new one. */
int db_begin(void);
int db_commit(void);
int db_rollback(void);
/* The one way to run a transaction: begins, runs body(ctx), and commits
 * when it returns >= 0 (rolls back when < 0). A transaction the server
 * rolled back for a reason that another attempt may not meet (a deadlock,
 * a Galera certification conflict, a node not ready, the connection lost
 * before COMMIT) is run again, whole, up to DB_TX_ATTEMPTS times with a
 * short growing pause: so body must only read and write the database, or
 * be safe to run again. Returns body's result, or -1 (db_errno says why). */
#define DB_TX_ATTEMPTS 5
int db_transaction(int (*body)(void *ctx), void *ctx);
/* Whether db_begin has not been ended yet (a handler that forgot to). */
bool db_in_transaction(void);

/* The server's error number of the last failure (e.g. 1062 duplicate key),
 * or 0 when the last failure was a lost connection. */
unsigned int db_errno(void);
#define DB_ER_DUP_ENTRY 1062

#endif
