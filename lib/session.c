#include "session.h"

#include <string.h>
#include <time.h>

#include "config.h"
#include "log.h"
#include "session_cache.h"
#include "token.h"

static long long idle_timeout(void)
{
    return config_int("session", "idle_timeout_s", 1800);
}

static long long absolute_timeout(void)
{
    return config_int("session", "absolute_timeout_s", 43200);
}

bool session_expired(long long created, long long last_seen, long long now,
                     long long idle, long long absolute)
{
    return now - last_seen >= idle || now - created >= absolute || now < created;
}

bool session_timed_out(long long created, long long last_seen, long long now)
{
    return session_expired(created, last_seen, now, idle_timeout(), absolute_timeout());
}

int session_start(struct req *r, const struct user *user)
{
    char token[TOKEN_HEX_LEN + 1], digest[TOKEN_HEX_LEN + 1], csrf[TOKEN_HEX_LEN + 1];

    if (token_new(token) < 0 || token_new(csrf) < 0)
        return -1;
    token_digest(token, digest);
    if (db_exec("INSERT INTO sessions (token_hash, user_id, csrf_token, ip, user_agent, "
                "created_at, last_seen_at) VALUES (?, ?, ?, ?, LEFT(?, 255), "
                "UTC_TIMESTAMP(), UTC_TIMESTAMP())",
                DB_TEXT(digest), DB_INT(user->id), DB_TEXT(csrf),
                DB_TEXT(r->remote_addr ? r->remote_addr : ""),
                DB_TEXT(r->user_agent ? r->user_agent : "")) < 0)
        return -1;

    resp_cookie(r, SESSION_COOKIE, token, (long)absolute_timeout());
    user_free(r->user);
    r->user = user_by_id(user->id);
    g_free(r->session_token);
    r->session_token = g_strdup(token);
    memcpy(r->csrf_token, csrf, sizeof csrf);
    return r->user ? 0 : -1;
}

/* Sessions are refreshed in the database at most once a minute: reads
 * should not all write. */
#define LAST_SEEN_REFRESH_S 60

/* Fills the request from a valid session; takes user. */
static void session_adopt(struct req *r, const char *token, struct user *user, const char *csrf)
{
    r->user = user;
    snprintf(r->csrf_token, sizeof r->csrf_token, "%s", csrf);
    r->session_token = g_strdup(token);
}

/* The session from this worker's cache, if it is still valid and needs no
 * refresh. */
static bool session_resume_cached(struct req *r, const char *token, const char *digest)
{
    const struct cached_session *s = session_cache_get(digest);
    long long now = (long long)time(NULL);
    if (!s || session_expired(s->created, s->last_seen, now, idle_timeout(), absolute_timeout()) ||
        now - s->last_seen >= LAST_SEEN_REFRESH_S)
        return false;
    session_adopt(r, token, user_copy(s->user), s->csrf);
    return true;
}

int session_resume(struct req *r)
{
    char *token = req_cookie(r, SESSION_COOKIE);
    if (!token_well_formed(token)) {
        g_free(token);
        return 0;
    }
    char digest[TOKEN_HEX_LEN + 1];
    token_digest(token, digest);
    if (session_resume_cached(r, token, digest)) {
        g_free(token);
        return 0;
    }

    /* One query for the session and its user, when the cache has not got it. */
    struct generation_mark mark = generation_mark();
    struct db_rows *rows = db_query(
        "SELECT " USER_COLUMNS_OF("u.") ", UNIX_TIMESTAMP(s.created_at), "
        "UNIX_TIMESTAMP(s.last_seen_at), UNIX_TIMESTAMP(UTC_TIMESTAMP()), s.csrf_token "
        "FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?",
        DB_TEXT(digest));
    if (!rows) {
        g_free(token);
        return -1;
    }
    if (rows->nrows == 1) {
        enum { CREATED = USER_NCOLUMNS, LAST_SEEN, NOW, CSRF };
        long long created = db_cell_int(rows, 0, CREATED, 0);
        long long last_seen = db_cell_int(rows, 0, LAST_SEEN, 0);
        long long now = db_cell_int(rows, 0, NOW, 0);
        struct user *user = user_from_row(rows, 0);

        if (!user->enabled ||
            session_expired(created, last_seen, now, idle_timeout(), absolute_timeout())) {
            user_free(user);
            db_exec("DELETE FROM sessions WHERE token_hash = ?", DB_TEXT(digest));
        } else if (now - last_seen >= LAST_SEEN_REFRESH_S && !r->background) {
            session_adopt(r, token, user, db_cell(rows, 0, CSRF));
            db_exec("UPDATE sessions SET last_seen_at = UTC_TIMESTAMP() WHERE token_hash = ?",
                    DB_TEXT(digest));
        } else {
            session_cache_put(digest, user, created, last_seen, db_cell(rows, 0, CSRF), mark);
            session_adopt(r, token, user, db_cell(rows, 0, CSRF));
        }
    }
    db_rows_free(rows);
    g_free(token);
    return 0;
}

int session_end(struct req *r)
{
    int rc = 0;
    if (r->session_token) {
        char digest[TOKEN_HEX_LEN + 1];
        token_digest(r->session_token, digest);
        session_cache_drop(digest);
        rc = db_exec("DELETE FROM sessions WHERE token_hash = ?", DB_TEXT(digest));
    }
    resp_cookie(r, SESSION_COOKIE, "", 0);
    user_free(r->user);
    r->user = NULL;
    r->csrf_token[0] = '\0';
    return rc;
}

int session_end_all(long long user_id)
{
    return db_exec("DELETE FROM sessions WHERE user_id = ?", DB_INT(user_id));
}
