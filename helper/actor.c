#include "actor.h"

#include <string.h>

#include "db.h"
#include "log.h"
#include "session.h"
#include "token.h"

/* The user of a session token, if the session is live. NULL with err
 * set only when the database fails. */
static struct user *by_session(const char *token, long long actor_id, struct err *err)
{
    char digest[TOKEN_HEX_LEN + 1];
    token_digest(token, digest);
    struct db_rows *rows = db_query(
        "SELECT " USER_COLUMNS_OF("u.") ", UNIX_TIMESTAMP(s.created_at), "
        "UNIX_TIMESTAMP(s.last_seen_at), UNIX_TIMESTAMP(UTC_TIMESTAMP()) "
        "FROM sessions s JOIN users u ON u.id = s.user_id "
        "WHERE s.token_hash = ? AND s.user_id = ?",
        DB_TEXT(digest), DB_INT(actor_id));
    if (!rows) {
        err_set(err, 503, "database_unavailable", NULL, "The database is not available.");
        return NULL;
    }
    struct user *user = NULL;
    if (rows->nrows == 1 &&
        !session_timed_out(db_cell_int(rows, 0, USER_NCOLUMNS, 0),
                           db_cell_int(rows, 0, USER_NCOLUMNS + 1, 0),
                           db_cell_int(rows, 0, USER_NCOLUMNS + 2, 0)))
        user = user_from_row(rows, 0);
    db_rows_free(rows);
    return user;
}

/* The user of an API token, if it exists. */
static struct user *by_api_token(const char *token, long long actor_id, struct err *err)
{
    char digest[TOKEN_HEX_LEN + 1];
    token_digest(token, digest);
    struct db_rows *rows = db_query("SELECT " USER_COLUMNS_OF("u.") " FROM api_tokens t "
                                    "JOIN users u ON u.id = t.user_id "
                                    "WHERE t.token_hash = ? AND t.user_id = ?",
                                    DB_TEXT(digest), DB_INT(actor_id));
    if (!rows) {
        err_set(err, 503, "database_unavailable", NULL, "The database is not available.");
        return NULL;
    }
    struct user *user = rows->nrows == 1 ? user_from_row(rows, 0) : NULL;
    db_rows_free(rows);
    return user;
}

static bool api_token_well_formed(const char *token)
{
    size_t prefix = strlen(API_TOKEN_PREFIX);
    return token && !strncmp(token, API_TOKEN_PREFIX, prefix) && token_well_formed(token + prefix);
}

/* The user the credential proves, or NULL (why in *reason). */
static struct user *by_credential(json_t *credential, long long actor_id, const char **reason,
                                  struct err *err)
{
    const char *session = json_string_value(json_object_get(credential, "session"));
    const char *api_token = json_string_value(json_object_get(credential, "api_token"));
    if (!json_is_object(credential) || json_object_size(credential) != 1) {
        *reason = "no credential, or more than one";
        return NULL;
    }
    struct user *user = NULL;
    if (token_well_formed(session))
        user = by_session(session, actor_id, err);
    else if (api_token_well_formed(api_token))
        user = by_api_token(api_token, actor_id, err);
    else
        *reason = "a malformed credential";
    if (!user && !*reason)
        *reason = session ? "no live session of this user" : "no API token of this user";
    return user;
}

struct user *actor_verify(json_t *request, const struct peer *peer, struct err *err)
{
    json_t *actor_id = json_object_get(request, "actor");
    if (!actor_id || json_is_null(actor_id))
        return NULL;

    const char *reason = NULL;
    struct user *user = NULL;
    long long id = json_is_integer(actor_id) ? json_integer_value(actor_id) : 0;
    if (id <= 0)
        reason = "a malformed actor";
    else if (peer->uid == 0)
        user = user_by_id(id);
    else
        user = by_credential(json_object_get(request, "credential"), id, &reason, err);
    if (err->status) {
        user_free(user);
        return NULL;
    }
    if (user && !user->enabled) {
        reason = "a disabled user";
        user_free(user);
        user = NULL;
    }
    if (user)
        return user;

    const char *op = json_string_value(json_object_get(request, "op"));
    const char *request_id = json_string_value(json_object_get(request, "request_id"));
    log_warn("refused op %.40s for actor %lld from uid %d pid %d (request %.40s): %s",
             op ? op : "?", id, (int)peer->uid, (int)peer->pid, request_id ? request_id : "-",
             reason ? reason : "no such user");
    err_set(err, 403, "forbidden", NULL, "The acting user could not be verified.");
    return NULL;
}
