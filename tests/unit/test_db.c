/* lib/db.c against a real MariaDB: the test stack's (tools/dev test
 * exports VMM_CONFIG), in a scratch database of its own. A connection
 * killed by the server inside a transaction must fail that transaction,
 * never half-apply it; outside one, a statement reconnects and runs. */
#include <mysql.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "db.h"
#include "unit.h"

static MYSQL *ctl;            /* root's own connection, to look and to kill */
static char db_name[64];

static void ctl_exec(const char *sql)
{
    ck_assert_msg(mysql_query(ctl, sql) == 0, "%s: %s", sql, mysql_error(ctl));
}

static long long ctl_count(const char *sql)
{
    ctl_exec(sql);
    MYSQL_RES *res = mysql_store_result(ctl);
    ck_assert_ptr_nonnull(res);
    MYSQL_ROW row = mysql_fetch_row(res);
    long long n = row && row[0] ? strtoll(row[0], NULL, 10) : -1;
    mysql_free_result(res);
    return n;
}

static long long rows_in_t(void)
{
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM `%s`.t", db_name);
    return ctl_count(sql);
}

/* The server's id of lib/db.c's connection (connecting if need be). */
static long long my_connection_id(void)
{
    struct db_rows *rows = db_query("SELECT CONNECTION_ID()");
    ck_assert_ptr_nonnull(rows);
    long long id = db_cell_int(rows, 0, 0, 0);
    db_rows_free(rows);
    ck_assert_int_gt(id, 0);
    return id;
}

/* Kills a connection and waits, with a deadline, until the server has
 * let it go: what a MariaDB restart or an idle timeout looks like. */
static void kill_connection(long long id)
{
    char sql[128];
    snprintf(sql, sizeof sql, "KILL CONNECTION %lld", id);
    ctl_exec(sql);
    snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM information_schema.processlist WHERE id = %lld",
             id);
    struct timespec pause = { 0, 10 * 1000 * 1000 };
    for (int i = 0; ctl_count(sql) > 0; i++) {
        ck_assert_msg(i < 500, "connection %lld still there 5 s after KILL", id);
        nanosleep(&pause, NULL);
    }
}

static void setup(void)
{
    const char *path = getenv("VMM_CONFIG");
    GKeyFile *file = g_key_file_new();
    ck_assert_msg(path && g_key_file_load_from_file(file, path, G_KEY_FILE_NONE, NULL),
                  "VMM_CONFIG names no readable config");
    char *socket = g_key_file_get_string(file, "database", "socket", NULL);
    ck_assert_ptr_nonnull(socket);
    g_key_file_free(file);

    ctl = mysql_init(NULL);
    ck_assert_msg(mysql_real_connect(ctl, NULL, "root", NULL, NULL, 0, socket, 0), "root: %s",
                  mysql_error(ctl));
    snprintf(db_name, sizeof db_name, "vmm_unit_%d", (int)getpid());
    char sql[256];
    snprintf(sql, sizeof sql, "CREATE DATABASE `%s`", db_name);
    ctl_exec(sql);
    snprintf(sql, sizeof sql,
             "CREATE TABLE `%s`.t (id INT PRIMARY KEY, v VARCHAR(16)) ENGINE=InnoDB", db_name);
    ctl_exec(sql);

    /* lib/db.c connects as root to the scratch database, and bumps no
     * generation file of the stack. */
    setenv("VMM_DATABASE_SOCKET", socket, 1);
    setenv("VMM_DATABASE_USER", "root", 1);
    setenv("VMM_DATABASE_NAME", db_name, 1);
    setenv("VMM_CACHE_GENERATION_FILE", "", 1);
    setenv("VMM_CONFIG", "", 1); /* no file: defaults and overrides only */
    ck_assert_int_eq(config_load(), 0);
    g_free(socket);
}

static void teardown(void)
{
    db_close();
    char sql[128];
    snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS `%s`", db_name);
    mysql_query(ctl, sql);
    mysql_close(ctl);
}

static void empty_t(void)
{
    char sql[128];
    snprintf(sql, sizeof sql, "DELETE FROM `%s`.t", db_name);
    ctl_exec(sql);
}

START_TEST(test_lost_connection_fails_the_transaction)
{
    empty_t();
    long long id = my_connection_id();
    ck_assert_int_eq(db_begin(), 0);
    ck_assert_int_eq(db_exec("INSERT INTO t VALUES (1, 'first')"), 0);
    kill_connection(id);
    /* The rest must not reconnect and run in autocommit. */
    ck_assert_int_eq(db_exec("INSERT INTO t VALUES (2, 'second')"), -1);
    ck_assert_uint_eq(db_errno(), 0);
    ck_assert_int_eq(db_exec("INSERT INTO t VALUES (3, 'third')"), -1);
    ck_assert_ptr_null(db_query("SELECT COUNT(*) FROM t"));
    ck_assert(db_in_transaction());
    ck_assert_int_eq(db_commit(), -1);
    ck_assert(!db_in_transaction());
    ck_assert_int_eq(rows_in_t(), 0);

    /* Outside a transaction the next statement reconnects and runs. */
    ck_assert_int_eq(db_exec("INSERT INTO t VALUES (4, 'after')"), 0);
    ck_assert_int_eq(rows_in_t(), 1);
    ck_assert_int_ne(my_connection_id(), id);
}
END_TEST

/* The fault of old: COMMIT retried on a new connection "succeeded". */
START_TEST(test_commit_on_a_lost_connection_fails)
{
    empty_t();
    long long id = my_connection_id();
    ck_assert_int_eq(db_begin(), 0);
    ck_assert_int_eq(db_exec("INSERT INTO t VALUES (1, 'a')"), 0);
    ck_assert_int_eq(db_exec("INSERT INTO t VALUES (2, 'b')"), 0);
    kill_connection(id);
    ck_assert_int_eq(db_commit(), -1);
    ck_assert_int_eq(db_rollback(), 0);   /* what callers do next: harmless */
    ck_assert_int_eq(rows_in_t(), 0);

    /* A new transaction works on the new connection. */
    ck_assert_int_eq(db_begin(), 0);
    ck_assert_int_eq(db_exec("INSERT INTO t VALUES (5, 'c')"), 0);
    ck_assert_int_eq(db_commit(), 0);
    ck_assert_int_eq(rows_in_t(), 1);
}
END_TEST

START_TEST(test_rollback_after_a_lost_connection)
{
    empty_t();
    long long id = my_connection_id();
    ck_assert_int_eq(db_begin(), 0);
    ck_assert_int_eq(db_exec("INSERT INTO t VALUES (1, 'a')"), 0);
    kill_connection(id);
    ck_assert_int_eq(db_rollback(), 0);
    ck_assert(!db_in_transaction());
    ck_assert_int_eq(rows_in_t(), 0);
}
END_TEST

/* Killed between transactions (idle in a worker): START TRANSACTION
 * itself may reconnect, and then the transaction holds. */
START_TEST(test_begin_reconnects)
{
    empty_t();
    kill_connection(my_connection_id());
    ck_assert_int_eq(db_begin(), 0);
    ck_assert_int_eq(db_exec("INSERT INTO t VALUES (1, 'a')"), 0);
    ck_assert_int_eq(db_exec("INSERT INTO t VALUES (2, 'b')"), 0);
    ck_assert_int_eq(db_commit(), 0);
    ck_assert_int_eq(rows_in_t(), 2);
}
END_TEST

START_TEST(test_transaction_rules)
{
    empty_t();
    ck_assert_int_eq(db_commit(), -1);       /* nothing to commit */
    ck_assert_int_eq(db_begin(), 0);
    ck_assert_int_eq(db_begin(), -1);        /* no nesting */
    ck_assert_int_eq(db_exec("INSERT INTO t VALUES (1, 'a')"), 0);
    /* A refused statement leaves the transaction for the caller to end. */
    ck_assert_int_eq(db_exec("INSERT INTO t VALUES (1, 'again')"), -1);
    ck_assert_uint_eq(db_errno(), DB_ER_DUP_ENTRY);
    ck_assert(db_in_transaction());
    ck_assert_int_eq(db_rollback(), 0);
    ck_assert_int_eq(rows_in_t(), 0);
}
END_TEST

/* Two connections in a real InnoDB deadlock: root's (ctl) holds row 2 and
 * has written many rows, so that InnoDB picks the body's lighter
 * transaction as the victim; the body holds row 1 and asks for row 2 while
 * ctl waits for row 1. db_transaction runs the body again, whole, once ctl
 * has committed. */
struct deadlock {
    int attempts;
    bool deadlocked;
    MYSQL *ctl2;   /* to see that ctl waits */
};

static int deadlock_body(void *p)
{
    struct deadlock *d = p;
    d->attempts++;
    if (d->attempts == 2) {
        /* ctl's update of row 1 went through once the victim rolled back. */
        ck_assert_int_eq(mysql_read_query_result(ctl), 0);
        ctl_exec("COMMIT");
    }
    if (db_exec("UPDATE t SET v = 'body' WHERE id = 1") < 0)
        return -1;
    if (d->attempts == 1) {
        char sql[160];
        snprintf(sql, sizeof sql, "UPDATE `%s`.t SET v = 'ctl' WHERE id = 1", db_name);
        ck_assert_int_eq(mysql_send_query(ctl, sql, strlen(sql)), 0);
        /* Until the server runs ctl's update (it waits for row 1): whether
         * or not it waits yet when the body asks for row 2, the two make a
         * cycle, and InnoDB rolls back the lighter transaction, the body's. */
        char wait_sql[160];
        snprintf(wait_sql, sizeof wait_sql,
                 "SELECT COUNT(*) FROM information_schema.processlist WHERE id = %lu AND "
                 "info LIKE 'UPDATE%%'", mysql_thread_id(ctl));
        struct timespec pause = { 0, 10 * 1000 * 1000 };
        for (int i = 0;; i++) {
            ck_assert_int_eq(mysql_query(d->ctl2, wait_sql), 0);
            MYSQL_RES *res = mysql_store_result(d->ctl2);
            MYSQL_ROW row = mysql_fetch_row(res);
            bool runs = row && row[0] && strcmp(row[0], "1") == 0;
            mysql_free_result(res);
            if (runs)
                break;
            ck_assert_msg(i < 1500, "root's update does not reach the server");
            nanosleep(&pause, NULL);
        }
    }
    if (db_exec("UPDATE t SET v = 'body' WHERE id = 2") < 0) {
        d->deadlocked = db_errno() == 1213;
        return -1;
    }
    return 0;
}

START_TEST(test_transaction_retried_after_a_deadlock)
{
    empty_t();
    char sql[256];
    snprintf(sql, sizeof sql, "INSERT INTO `%s`.t VALUES (1, 'one'), (2, 'two')", db_name);
    ctl_exec(sql);
    ctl_exec("START TRANSACTION");
    snprintf(sql, sizeof sql,
             "INSERT INTO `%s`.t SELECT seq, 'heavy' FROM `%s`.seq_100_to_199", db_name, db_name);
    ctl_exec(sql);
    snprintf(sql, sizeof sql, "UPDATE `%s`.t SET v = 'ctl' WHERE id = 2", db_name);
    ctl_exec(sql);

    struct deadlock d = { 0 };
    d.ctl2 = mysql_init(NULL);
    ck_assert_ptr_nonnull(mysql_real_connect(d.ctl2, NULL, "root", NULL, NULL, 0,
                                             getenv("VMM_DATABASE_SOCKET"), 0));
    ck_assert_int_eq(db_transaction(deadlock_body, &d), 0);
    mysql_close(d.ctl2);
    ck_assert_msg(d.deadlocked, "the body's first attempt was not the deadlock's victim");
    ck_assert_int_eq(d.attempts, 2);
    ck_assert(!db_in_transaction());
    /* Both writes of the second attempt, and root's transaction whole. */
    snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM `%s`.t WHERE id IN (1, 2) AND v = 'body'",
             db_name);
    ck_assert_int_eq(ctl_count(sql), 2);
    ck_assert_int_eq(rows_in_t(), 102);
}
END_TEST

/* The connection is lost half way through the first attempt (a node that
 * dies): nothing of that attempt stays, and the second, on a new
 * connection, applies the whole body. */
static int lost_once_body(void *p)
{
    int *attempts = p;
    (*attempts)++;
    if (db_exec("INSERT INTO t VALUES (1, 'first')") < 0)
        return -1;
    if (*attempts == 1)
        kill_connection(my_connection_id());
    return db_exec("INSERT INTO t VALUES (2, 'second')");
}

START_TEST(test_transaction_retried_after_a_lost_connection)
{
    empty_t();
    int attempts = 0;
    ck_assert_int_eq(db_transaction(lost_once_body, &attempts), 0);
    ck_assert_int_eq(attempts, 2);
    ck_assert_int_eq(rows_in_t(), 2);
}
END_TEST

static int refusing_body(void *p)
{
    int *attempts = p;
    (*attempts)++;
    db_exec("INSERT INTO t VALUES (7, 'x')");
    return -1;   /* refused for a reason of its own: not to be tried again */
}

/* Always a deadlock (SIGNAL raises the server's error 1213): tried
 * DB_TX_ATTEMPTS times, then the failure is the caller's. */
static int always_deadlocked_body(void *p)
{
    int *attempts = p;
    (*attempts)++;
    return db_exec("SIGNAL SQLSTATE '40001' SET MYSQL_ERRNO = 1213, MESSAGE_TEXT = 'forced'");
}

/* After a deadlock the server has rolled the transaction back: the rest
 * of the body must not run in autocommit. */
START_TEST(test_nothing_runs_after_a_deadlock)
{
    empty_t();
    ck_assert_int_eq(db_begin(), 0);
    ck_assert_int_eq(db_exec("INSERT INTO t VALUES (1, 'before')"), 0);
    ck_assert_int_eq(db_exec("SIGNAL SQLSTATE '40001' SET MYSQL_ERRNO = 1213"), -1);
    ck_assert_int_eq(db_exec("INSERT INTO t VALUES (2, 'after')"), -1);
    ck_assert_uint_eq(db_errno(), 1213);
    ck_assert_int_eq(db_commit(), -1);
    ck_assert(!db_in_transaction());
    ck_assert_int_eq(rows_in_t(), 0);
    ck_assert_int_gt(my_connection_id(), 0);   /* the connection goes on */
}
END_TEST

START_TEST(test_transaction_retries_are_bounded)
{
    empty_t();
    int attempts = 0;
    ck_assert_int_eq(db_transaction(refusing_body, &attempts), -1);
    ck_assert_int_eq(attempts, 1);
    ck_assert_int_eq(rows_in_t(), 0);   /* rolled back */

    attempts = 0;
    ck_assert_int_eq(db_transaction(always_deadlocked_body, &attempts), -1);
    ck_assert_uint_eq(db_errno(), 1213);
    ck_assert_int_eq(attempts, DB_TX_ATTEMPTS);
    ck_assert(!db_in_transaction());
}
END_TEST

/* [database] servers: the first that answers; one that is gone is passed. */
START_TEST(test_servers_list_skips_a_dead_one)
{
    setenv("VMM_DATABASE_SERVERS", "/nonexistent/mysqld.sock,", 1);
    char list[512];
    snprintf(list, sizeof list, "/nonexistent/mysqld.sock, %s", getenv("VMM_DATABASE_SOCKET"));
    setenv("VMM_DATABASE_SERVERS", list, 1);
    ck_assert_int_eq(config_load(), 0);
    ck_assert_int_eq(db_connect(), 0);
    ck_assert_int_gt(my_connection_id(), 0);
    unsetenv("VMM_DATABASE_SERVERS");
    ck_assert_int_eq(config_load(), 0);
}
END_TEST

static Suite *db_suite(void)
{
    Suite *s = suite_create("db");
    TCase *tc = tcase_create("reconnect");
    if (!getenv("VMM_CONFIG")) {
        /* Run by hand without a stack: nothing to talk to. */
        fprintf(stderr, "test_db: VMM_CONFIG is not set (tools/dev test sets it); not run\n");
        return s;
    }
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_lost_connection_fails_the_transaction);
    tcase_add_test(tc, test_commit_on_a_lost_connection_fails);
    tcase_add_test(tc, test_rollback_after_a_lost_connection);
    tcase_add_test(tc, test_begin_reconnects);
    tcase_add_test(tc, test_transaction_rules);
    tcase_add_test(tc, test_transaction_retried_after_a_deadlock);
    tcase_add_test(tc, test_transaction_retries_are_bounded);
    tcase_add_test(tc, test_nothing_runs_after_a_deadlock);
    tcase_add_test(tc, test_transaction_retried_after_a_lost_connection);
    tcase_add_test(tc, test_servers_list_skips_a_dead_one);
    suite_add_tcase(s, tc);
    return s;
}

UNIT_MAIN(db_suite)
