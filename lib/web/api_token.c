#include "api_token.h"

#include <string.h>

#include "db.h"
#include "i18n.h"
#include "token.h"
#include "user.h"

bool api_token_present(const struct req *r)
{
    return r->authorization && *r->authorization;
}

/* The token of "Bearer <token>", if it has our shape. */
static const char *bearer_token(const char *header)
{
    if (g_ascii_strncasecmp(header, "Bearer ", 7) != 0)
        return NULL;
    const char *token = header + 7;
    while (*token == ' ')
        token++;
    if (strncmp(token, API_TOKEN_PREFIX, strlen(API_TOKEN_PREFIX)) != 0 ||
        !token_well_formed(token + strlen(API_TOKEN_PREFIX)))
        return NULL;
    return token;
}

static int refuse(struct req *r)
{
    resp_header(r, "WWW-Authenticate", "Bearer realm=\"vmmanager\"");
    return req_fail(r, 401, "invalid_token", NULL,
                    _("The API token is not valid: it is unknown, revoked or its user is disabled."));
}

int api_token_resume(struct req *r)
{
    const char *token = bearer_token(r->authorization);
    if (!token)
        return refuse(r);
    char digest[TOKEN_HEX_LEN + 1];
    token_digest(token, digest);

    struct db_rows *rows = db_query(
        "SELECT " USER_COLUMNS_OF("u.") ", t.id, "
        "IFNULL(TIMESTAMPDIFF(SECOND, t.last_used_at, UTC_TIMESTAMP()), 999999) "
        "FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = ?",
        DB_TEXT(digest));
    if (!rows)
        return req_fail(r, 503, "database_unavailable", NULL,
                        _("The database is not available. Try again shortly."));
    if (rows->nrows != 1) {
        db_rows_free(rows);
        return refuse(r);
    }
    struct user *user = user_from_row(rows, 0);
    long long id = db_cell_int(rows, 0, USER_NCOLUMNS, 0);
    long long idle = db_cell_int(rows, 0, USER_NCOLUMNS + 1, 0);
    db_rows_free(rows);
    if (!user->enabled) {
        user_free(user);
        return refuse(r);
    }
    r->user = user;
    r->api_token_id = id;
    /* Last use to the minute: reads should not all write. */
    if (idle >= 60)
        db_exec("UPDATE api_tokens SET last_used_at = UTC_TIMESTAMP() WHERE id = ?", DB_INT(id));
    return 0;
}

const char *api_token_of(const struct req *r)
{
    return r->api_token_id > 0 && r->authorization ? bearer_token(r->authorization) : NULL;
}

int api_token_create(long long user_id, const char *name, char out[API_TOKEN_LEN + 1],
                     long long *id)
{
    char random[TOKEN_HEX_LEN + 1], digest[TOKEN_HEX_LEN + 1], prefix[13];
    if (token_new(random) < 0)
        return -1;
    snprintf(out, API_TOKEN_LEN + 1, "%s%s", API_TOKEN_PREFIX, random);
    token_digest(out, digest);
    snprintf(prefix, sizeof prefix, "%.12s", out);
    return db_exec_id("INSERT INTO api_tokens (user_id, name, token_hash, prefix) "
                      "VALUES (?, ?, ?, ?)", id,
                      DB_INT(user_id), DB_TEXT(name), DB_TEXT(digest), DB_TEXT(prefix));
}
