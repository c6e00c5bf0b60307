#include "login_throttle.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "db.h"
#include "i18n.h"

/* The longest a key gets: an IPv6 /64 in text and its suffix. */
#define KEY_MAX 64

void login_throttle_address_key(const char *address, char out[KEY_MAX])
{
    unsigned char a6[16];
    const char *text = address ? address : "";
    if (inet_pton(AF_INET6, text, a6) == 1) {
        static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
        if (!memcmp(a6, mapped, sizeof mapped)) {
            inet_ntop(AF_INET, a6 + 12, out, KEY_MAX);
            return;
        }
        /* One host usually holds a whole /64: count it as one. */
        memset(a6 + 8, 0, 8);
        char prefix[INET6_ADDRSTRLEN];
        inet_ntop(AF_INET6, a6, prefix, sizeof prefix);
        snprintf(out, KEY_MAX, "%s/64", prefix);
        return;
    }
    snprintf(out, KEY_MAX, "%.45s", text);
}

struct limits {
    long long free, base_s, max_s;
};

static struct limits address_limits(void)
{
    return (struct limits){ config_int("auth", "throttle_free_failures", 5),
                            config_int("auth", "throttle_base_s", 1),
                            config_int("auth", "throttle_max_s", 900) };
}

static struct limits account_limits(void)
{
    return (struct limits){ config_int("auth", "throttle_account_free_failures", 50),
                            config_int("auth", "throttle_base_s", 1),
                            config_int("auth", "throttle_account_max_s", 60) };
}

/* Seconds left of the wait on one counter (0: none), or -1. */
static long long wait_of(const char *username, const char *key)
{
    struct db_rows *rows = db_query(
        "SELECT CEIL(TIMESTAMPDIFF(MICROSECOND, UTC_TIMESTAMP(3), blocked_until) / 1000000) "
        "FROM login_throttle WHERE username = ? AND address = ? "
        "AND blocked_until > UTC_TIMESTAMP(3)", DB_TEXT(username), DB_TEXT(key));
    if (!rows)
        return -1;
    long long wait = rows->nrows ? db_cell_int(rows, 0, 0, 1) : 0;
    db_rows_free(rows);
    return wait > 0 ? wait : 0;
}

/* Whether the account has logged in from this address before. */
static int address_known(long long user_id, const char *address)
{
    if (user_id <= 0)
        return 0;
    struct db_rows *rows = db_query(
        "SELECT 1 FROM login_history WHERE user_id = ? AND ip = ? AND success = 1 LIMIT 1",
        DB_INT(user_id), DB_TEXT(address));
    if (!rows)
        return -1;
    int known = rows->nrows > 0;
    db_rows_free(rows);
    return known;
}

long long login_throttle_wait(struct req *r, const char *username, long long user_id)
{
    char key[KEY_MAX];
    login_throttle_address_key(r->remote_addr, key);
    long long mine = wait_of(username, key);
    if (mine != 0)
        return mine;
    long long all = wait_of(username, "");
    if (all <= 0)
        return all;
    int known = address_known(user_id, r->remote_addr ? r->remote_addr : "");
    return known < 0 ? -1 : known ? 0 : all;
}

/* One more failure on a counter, and the wait it earns: base * 2^(n -
 * free) from the free-th failure on, at most max. */
static int count_on(const char *username, const char *key, struct limits l)
{
    long long forget = config_int("auth", "throttle_forget_s", 86400);
    if (db_exec("INSERT INTO login_throttle (username, address, failures, last_failure_at) "
                "VALUES (?, ?, 1, UTC_TIMESTAMP(3)) ON DUPLICATE KEY UPDATE "
                "failures = IF(last_failure_at < UTC_TIMESTAMP(3) - INTERVAL ? SECOND, 1, "
                "failures + 1), last_failure_at = UTC_TIMESTAMP(3)",
                DB_TEXT(username), DB_TEXT(key), DB_INT(forget)) < 0)
        return -1;
    return db_exec("UPDATE login_throttle SET blocked_until = IF(failures >= ?, "
                   "UTC_TIMESTAMP(3) + INTERVAL LEAST(?, ? * POW(2, LEAST(failures - ?, 40))) "
                   "SECOND, NULL) WHERE username = ? AND address = ?",
                   DB_INT(l.free), DB_INT(l.max_s), DB_INT(l.base_s), DB_INT(l.free),
                   DB_TEXT(username), DB_TEXT(key));
}

int login_throttle_failure(struct req *r, const char *username)
{
    char key[KEY_MAX];
    login_throttle_address_key(r->remote_addr, key);
    /* Old counters go here, a few at a time: nothing else needs them. */
    db_exec("DELETE FROM login_throttle WHERE last_failure_at < UTC_TIMESTAMP(3) - INTERVAL ? "
            "SECOND LIMIT 100", DB_INT(config_int("auth", "throttle_forget_s", 86400)));
    if (count_on(username, key, address_limits()) < 0 ||
        count_on(username, "", account_limits()) < 0)
        return -1;
    return 0;
}

int login_throttle_success(struct req *r, const char *username)
{
    char key[KEY_MAX];
    login_throttle_address_key(r->remote_addr, key);
    return db_exec("DELETE FROM login_throttle WHERE username = ? AND address = ?",
                   DB_TEXT(username), DB_TEXT(key));
}

int login_throttle_forget(const char *username)
{
    return db_exec("DELETE FROM login_throttle WHERE username = ?", DB_TEXT(username));
}

int login_throttle_refuse(struct req *r, const char *field, long long wait_s)
{
    char value[24];
    snprintf(value, sizeof value, "%lld", wait_s);
    resp_header(r, "Retry-After", value);
    return req_fail(r, 429, "too_many_attempts", field,
                    ngettext("Too many wrong passwords. Try again in %lld second.",
                             "Too many wrong passwords. Try again in %lld seconds.", wait_s),
                    wait_s);
}
