#include "db.h"

#include <errmsg.h>
#include <mysql.h>
#include <mysqld_error.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "config.h"
#include "generation.h"
#include "log.h"

/* One connection per thread: FastCGI workers have one thread, the helper
 * runs each client and job on its own. */
static _Thread_local MYSQL *db_conn;
static _Thread_local unsigned int db_last_errno;

/* A transaction lives on one connection. Once that connection is lost the
 * server has rolled it back, so the transaction is BROKEN: every statement
 * up to the caller's COMMIT or ROLLBACK fails without reaching the server,
 * and the COMMIT reports the failure. Reconnecting then would run the rest
 * in autocommit and half-apply the transaction. */
enum db_tx { DB_TX_NONE, DB_TX_OPEN, DB_TX_BROKEN };
/* A deadlock or a Galera conflict (which the server answers by rolling
 * the transaction back) breaks it the same way, on a connection kept. */
static _Thread_local enum db_tx db_tx;
/* The open transaction failed in a way that a new attempt may not: a
 * deadlock, a Galera certification conflict, a node not ready, or its
 * connection lost before its COMMIT was sent (db_transaction). */
static _Thread_local bool db_tx_retryable;
static _Thread_local bool db_committing;
/* Which of the [database] servers this thread last connected to. */
static _Thread_local int db_server;

/* Closes the connection; an open transaction goes with it. */
static void db_drop(void)
{
    if (db_conn)
        mysql_close(db_conn);
    db_conn = NULL;
    if (db_tx == DB_TX_OPEN)
        db_tx = DB_TX_BROKEN;
}

/* The servers to try, in order: [database] servers (comma separated: a
 * path is a socket, anything else host or host:port), else the socket.
 * Several are the nodes of a Galera cluster: a worker whose node is gone
 * connects to the next. */
static int db_servers(char ***out)
{
    const char *list = config_str("database", "servers", NULL);
    if (!list || !list[strspn(list, ", ")]) {
        const char *socket = config_str("database", "socket", NULL);
        *out = calloc(2, sizeof **out);
        (*out)[0] = strdup(socket ? socket : "");
        return 1;
    }
    int n = 0;
    char *copy = strdup(list), *save = NULL;
    *out = calloc(strlen(list) / 2 + 2, sizeof **out);
    for (char *tok = strtok_r(copy, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save))
        (*out)[n++] = strdup(tok);
    free(copy);
    return n;
}

/* Connects to one server: a socket path, host or host:port ("" is the
 * client library's default socket). */
static MYSQL *db_open_one(const char *server)
{
    const char *name = config_str("database", "name", "vmm");
    const char *user = config_str("database", "user", "vmm");
    const char *password = config_str("database", "password", NULL);
    char host[256] = "";
    const char *socket = NULL;
    unsigned int port = 0;
    if (!*server || server[0] == '/') {
        socket = *server ? server : NULL;
    } else {
        snprintf(host, sizeof host, "%s", server);
        char *colon = strrchr(host, ':');
        if (colon && !strchr(colon, ']')) {
            *colon = '\0';
            port = (unsigned int)strtoul(colon + 1, NULL, 10);
        }
    }

    MYSQL *conn = mysql_init(NULL);
    if (!conn)
        return NULL;
    mysql_options(conn, MYSQL_SET_CHARSET_NAME, "utf8mb4");
    unsigned int timeout = 5;
    mysql_options(conn, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
    if (!mysql_real_connect(conn, *host ? host : NULL, user, password, name, port, socket, 0)) {
        log_error("database connect to %s failed: %s", *server ? server : "(default)",
                  mysql_error(conn));
        mysql_close(conn);
        return NULL;
    }
    /* Times are stored and shown as UTC (RFC 3339 ...Z). */
    if (mysql_query(conn, "SET time_zone = '+00:00'")) {
        log_error("database setup on %s failed: %s", server, mysql_error(conn));
        mysql_close(conn);
        return NULL;
    }
    return conn;
}

/* Connects to the server this thread used last, else to the next ones in
 * turn; advance: begin with the one after it (it failed us). */
static int db_open_from(bool advance)
{
    char **servers;
    int n = db_servers(&servers);
    db_drop();
    if (advance)
        db_server++;
    for (int i = 0; i < n && !db_conn; i++) {
        int k = (db_server + i) % n;
        db_conn = db_open_one(servers[k]);
        if (db_conn) {
            if (k != db_server % n && n > 1)
                log_warn("database: now on %s", servers[k]);
            db_server = k;
        }
    }
    for (int i = 0; i < n; i++)
        free(servers[i]);
    free(servers);
    return db_conn ? 0 : -1;
}

static int db_open(void)
{
    return db_open_from(false);
}

/* An explicit (re)connect or close starts afresh: whatever transaction the
 * thread had is over. */
int db_connect(void)
{
    db_tx = DB_TX_NONE;
    return db_open();
}

void db_close(void)
{
    db_drop();
    db_tx = DB_TX_NONE;
}

bool db_in_transaction(void)
{
    return db_tx != DB_TX_NONE;
}

unsigned int db_errno(void)
{
    return db_last_errno;
}

/* The connection is gone, or about to be: the server killed it, shuts
 * down, or dropped it as idle. */
static bool db_connection_lost(unsigned int err)
{
    return err == CR_SERVER_GONE_ERROR || err == CR_SERVER_LOST || err == ER_CONNECTION_KILLED ||
           err == ER_SERVER_SHUTDOWN || err == 4031 /* idle timeout */;
}

/* The server refused the work but would do it again: a deadlock (InnoDB
 * chose this transaction), a Galera certification conflict (reported as a
 * deadlock, at any statement or at COMMIT), a commit the cluster failed. */
static bool db_conflict(unsigned int err)
{
    return err == ER_LOCK_DEADLOCK || err == ER_ERROR_DURING_COMMIT;
}

/* A Galera node that is not part of the primary component (cut off,
 * joining): "WSREP has not yet prepared node for application use".
 * Another node may serve. */
static bool db_node_not_ready(unsigned int err)
{
    return err == ER_UNKNOWN_COM_ERROR;
}

/* Parameter buffers must live until the statement has executed: the
 * client reads the values and lengths at execute time. */
struct db_binding {
    MYSQL_BIND *bind;
    unsigned long *lengths;
};

static void db_binding_free(struct db_binding *b)
{
    free(b->bind);
    free(b->lengths);
}

static int db_bind_params(MYSQL_STMT *stmt, const struct db_param *params, struct db_binding *b)
{
    int n = 0;
    while (params[n].type != DB_END)
        n++;
    if ((unsigned long)n != mysql_stmt_param_count(stmt)) {
        log_error("database: statement wants %lu parameters, got %d",
                  mysql_stmt_param_count(stmt), n);
        return -1;
    }
    if (n == 0)
        return 0;

    b->bind = calloc((size_t)n, sizeof *b->bind);
    b->lengths = calloc((size_t)n, sizeof *b->lengths);
    for (int i = 0; i < n; i++) {
        MYSQL_BIND *bind = &b->bind[i];
        switch (params[i].type) {
        case DB_INT_T:
            bind->buffer_type = MYSQL_TYPE_LONGLONG;
            bind->buffer = (void *)&params[i].i;
            break;
        case DB_TEXT_T:
            b->lengths[i] = strlen(params[i].s);
            bind->buffer_type = MYSQL_TYPE_STRING;
            bind->buffer = (void *)params[i].s;
            bind->buffer_length = b->lengths[i];
            bind->length = &b->lengths[i];
            break;
        default:
            bind->buffer_type = MYSQL_TYPE_NULL;
            break;
        }
    }
    return mysql_stmt_bind_param(stmt, b->bind) ? -1 : 0;
}

/* Prepares and executes. Outside a transaction, a statement that meets a
 * lost connection or a node not ready is tried once more on a new
 * connection (the next server after a node not ready), and one that meets
 * a deadlock, which rolled back only itself, once more as it is. Inside a
 * transaction nothing is retried here (see enum db_tx and db_transaction).
 * Returns the statement or NULL. */
static MYSQL_STMT *db_run(const char *sql, const struct db_param *params)
{
    if (db_tx == DB_TX_BROKEN) {
        log_error("database: transaction rolled back or lost; not running: %.120s", sql);
        if (!db_conn)
            db_last_errno = 0;
        return NULL;
    }
    bool next_server = false;
    for (int attempt = 0; attempt < 2; attempt++) {
        if (!db_conn && (db_tx != DB_TX_NONE || db_open_from(next_server) < 0)) {
            db_last_errno = 0;
            if (db_tx == DB_TX_OPEN)
                db_tx_retryable = true;
            return NULL;
        }
        MYSQL_STMT *stmt = mysql_stmt_init(db_conn);
        if (!stmt)
            return NULL;
        struct db_binding binding = { 0 };
        bool ok = !mysql_stmt_prepare(stmt, sql, strlen(sql)) &&
                  !db_bind_params(stmt, params, &binding) && !mysql_stmt_execute(stmt);
        db_binding_free(&binding);
        if (ok)
            return stmt;

        unsigned int err = mysql_stmt_errno(stmt);
        bool lost = db_connection_lost(err);
        bool not_ready = db_node_not_ready(err);
        if ((lost || not_ready || db_conflict(err)) && db_tx == DB_TX_NONE && attempt == 0) {
            log_warn("database: %s (%u); trying again", mysql_stmt_error(stmt), err);
            mysql_stmt_close(stmt);
            if (lost || not_ready)
                db_drop();
            next_server = not_ready;
            continue;
        }
        /* A COMMIT whose connection is lost may have been applied or not:
         * not ours to try again. Any other loss rolled it all back. */
        if (db_tx == DB_TX_OPEN && (db_conflict(err) || not_ready || (lost && !db_committing)))
            db_tx_retryable = true;
        /* The server rolled the whole transaction back: what follows
         * would run in autocommit, so it fails here as after a loss. */
        if (db_tx == DB_TX_OPEN && db_conflict(err))
            db_tx = DB_TX_BROKEN;
        db_last_errno = lost ? 0 : err;
        if (err != DB_ER_DUP_ENTRY)
            log_error("database: %s (%u) in: %.120s", mysql_stmt_error(stmt), err, sql);
        mysql_stmt_close(stmt);
        /* A node not ready is left for the next server. */
        if (lost || not_ready) {
            db_drop();
            if (not_ready)
                db_server++;
        }
        return NULL;
    }
    return NULL;
}

int db_exec_params(const char *sql, const struct db_param *params,
                   unsigned long long *affected, long long *insert_id)
{
    MYSQL_STMT *stmt = db_run(sql, params);
    if (!stmt)
        return -1;
    my_ulonglong changed = mysql_stmt_affected_rows(stmt);
    if (affected)
        *affected = changed;
    if (insert_id)
        *insert_id = (long long)mysql_stmt_insert_id(stmt);
    mysql_stmt_close(stmt);
    /* Inside a transaction the COMMIT bumps it. A write that changed no
     * row (a libvirt event about a domain that is not ours, a state that
     * was already so) leaves it: live pages must not refresh for nothing. */
    if (db_tx == DB_TX_NONE && changed != 0)
        generation_bump();
    return 0;
}

struct db_rows *db_query_params(const char *sql, const struct db_param *params)
{
    MYSQL_STMT *stmt = db_run(sql, params);
    if (!stmt)
        return NULL;

    struct db_rows *rows = calloc(1, sizeof *rows);
    MYSQL_RES *meta = mysql_stmt_result_metadata(stmt);
    MYSQL_BIND *bind = NULL;
    unsigned long *lengths = NULL;
    my_bool *nulls = NULL;
    bool update_max = true;
    bool lost = false;

    if (!meta)
        goto done;
    /* Buffer sizes come from the longest value of each column. */
    mysql_stmt_attr_set(stmt, STMT_ATTR_UPDATE_MAX_LENGTH, &update_max);
    if (mysql_stmt_store_result(stmt))
        goto error;

    int ncols = (int)mysql_num_fields(meta);
    MYSQL_FIELD *fields = mysql_fetch_fields(meta);
    rows->ncols = ncols;
    rows->names = calloc((size_t)ncols, sizeof *rows->names);
    bind = calloc((size_t)ncols, sizeof *bind);
    lengths = calloc((size_t)ncols, sizeof *lengths);
    nulls = calloc((size_t)ncols, sizeof *nulls);
    for (int c = 0; c < ncols; c++) {
        rows->names[c] = strdup(fields[c].name);
        bind[c].buffer_type = MYSQL_TYPE_STRING;
        bind[c].buffer_length = fields[c].max_length + 1;
        bind[c].buffer = malloc(bind[c].buffer_length);
        bind[c].length = &lengths[c];
        bind[c].is_null = &nulls[c];
    }
    if (mysql_stmt_bind_result(stmt, bind))
        goto error;

    rows->cells = calloc((size_t)mysql_stmt_num_rows(stmt) * (size_t)ncols + 1, sizeof(char *));
    int status;
    while ((status = mysql_stmt_fetch(stmt)) == 0) {
        for (int c = 0; c < ncols; c++)
            rows->cells[rows->nrows * ncols + c] =
                nulls[c] ? NULL : strndup(bind[c].buffer, lengths[c]);
        rows->nrows++;
    }
    if (status != MYSQL_NO_DATA)
        goto error;
    goto done;

error:
    log_error("database: %s in: %.120s", mysql_stmt_error(stmt), sql);
    db_last_errno = mysql_stmt_errno(stmt);
    db_rows_free(rows);
    rows = NULL;
    lost = db_connection_lost(db_last_errno);
    if (db_tx == DB_TX_OPEN && (lost || db_conflict(db_last_errno)))
        db_tx_retryable = true;
    if (db_tx == DB_TX_OPEN && db_conflict(db_last_errno))
        db_tx = DB_TX_BROKEN;
    if (lost)
        db_last_errno = 0;
done:
    if (bind)
        for (int c = 0; meta && c < (int)mysql_num_fields(meta); c++)
            free(bind[c].buffer);
    free(bind);
    free(lengths);
    free(nulls);
    if (meta)
        mysql_free_result(meta);
    mysql_stmt_close(stmt);
    /* Only now: the statement and its metadata belong to the connection. */
    if (lost)
        db_drop();
    return rows;
}

void db_rows_free(struct db_rows *rows)
{
    if (!rows)
        return;
    for (int i = 0; rows->cells && i < rows->nrows * rows->ncols; i++)
        free(rows->cells[i]);
    for (int c = 0; rows->names && c < rows->ncols; c++)
        free(rows->names[c]);
    free(rows->cells);
    free(rows->names);
    free(rows);
}

const char *db_cell(const struct db_rows *rows, int row, int col)
{
    if (!rows || row < 0 || row >= rows->nrows || col < 0 || col >= rows->ncols)
        return NULL;
    return rows->cells[row * rows->ncols + col];
}

long long db_cell_int(const struct db_rows *rows, int row, int col, long long fallback)
{
    const char *text = db_cell(rows, row, col);
    return text ? strtoll(text, NULL, 10) : fallback;
}

int db_begin(void)
{
    if (db_tx != DB_TX_NONE) {
        log_error("database: a transaction is already open");
        return -1;
    }
    /* Outside a transaction still: a lost connection may be retried. */
    if (db_exec("START TRANSACTION") < 0)
        return -1;
    db_tx = DB_TX_OPEN;
    return 0;
}

/* Ends the transaction with COMMIT or ROLLBACK on the connection it began
 * on, never on a new one: a COMMIT retried after a reconnect would succeed
 * with nothing to commit. */
static int db_end(const char *sql)
{
    if (db_tx == DB_TX_NONE) {
        log_error("database: %s without a transaction", sql);
        return -1;
    }
    db_committing = strcmp(sql, "COMMIT") == 0;
    int rc = db_exec_params(sql, DB_PARAMS(), NULL, NULL);
    db_committing = false;
    /* Whatever failed, the server must not keep a half-done transaction
     * for the next statement (a START TRANSACTION would commit it). */
    if (rc < 0)
        db_drop();
    db_tx = DB_TX_NONE;
    return rc;
}

/* A broken transaction whose connection is kept (a deadlock): the server
 * rolled it back; a ROLLBACK makes sure nothing of it stays open. */
static void db_end_broken(void)
{
    if (db_conn)
        mysql_query(db_conn, "ROLLBACK");
    db_tx = DB_TX_NONE;
}

int db_commit(void)
{
    if (db_tx == DB_TX_BROKEN) {
        if (!db_conn)
            db_last_errno = 0;
        log_error("database: COMMIT of a transaction that was rolled back or lost");
        db_end_broken();
        return -1;
    }
    if (db_end("COMMIT") < 0)
        return -1;
    generation_bump();
    return 0;
}

int db_rollback(void)
{
    /* Callers roll back after any failure, a failed COMMIT included (which
     * has ended the transaction already); and the server rolled back a
     * transaction whose connection it lost. */
    if (db_tx == DB_TX_NONE)
        return 0;
    if (db_tx == DB_TX_BROKEN) {
        db_end_broken();
        return 0;
    }
    /* A ROLLBACK that finds the connection gone has what it wanted. */
    if (db_end("ROLLBACK") < 0 && db_last_errno != 0)
        return -1;
    return 0;
}

/* Milliseconds to wait before attempt (2, 3, ...): growing, with jitter so
 * that two front-ends that collided do not collide again in step. */
static void db_retry_pause(int attempt)
{
    static _Thread_local unsigned int seed;
    if (!seed)
        seed = (unsigned int)time(NULL) ^ (unsigned int)(uintptr_t)&seed;
    long ms = 5L * (1L << (attempt - 2)) + rand_r(&seed) % 20;
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

int db_transaction(int (*body)(void *ctx), void *ctx)
{
    for (int attempt = 1;; attempt++) {
        db_tx_retryable = false;
        int rc = db_begin();
        if (rc == 0) {
            rc = body(ctx);
            if (rc < 0)
                db_rollback();
            else if (db_commit() < 0)
                rc = -1;
        }
        if (rc >= 0)
            return rc;
        /* A body that left its transaction open has failed it. */
        db_rollback();
        if (!db_tx_retryable || attempt >= DB_TX_ATTEMPTS)
            return rc;
        log_warn("database: transaction rolled back (%u); attempt %d of %d", db_last_errno,
                 attempt + 1, DB_TX_ATTEMPTS);
        db_retry_pause(attempt + 1);
    }
}
