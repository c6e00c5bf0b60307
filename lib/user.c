#include "user.h"

#include <stdlib.h>
#include <string.h>

static char *dup_or_empty(const char *s)
{
    return strdup(s ? s : "");
}

struct user *user_from_row(const struct db_rows *rows, int row)
{
    if (!rows || row >= rows->nrows)
        return NULL;
    struct user *u = calloc(1, sizeof *u);
    u->id = db_cell_int(rows, row, 0, 0);
    u->username = dup_or_empty(db_cell(rows, row, 1));
    u->display_name = dup_or_empty(db_cell(rows, row, 2));
    u->email = dup_or_empty(db_cell(rows, row, 3));
    const char *role = db_cell(rows, row, 4);
    u->role = role && !strcmp(role, "admin") ? ROLE_ADMIN : ROLE_USER;
    u->enabled = db_cell_int(rows, row, 5, 0) != 0;
    u->language = dup_or_empty(db_cell(rows, row, 6));
    u->created_at = dup_or_empty(db_cell(rows, row, 7));
    u->last_login_at = db_cell(rows, row, 8) ? strdup(db_cell(rows, row, 8)) : NULL;
    return u;
}

static struct user *user_query_one(struct db_rows *rows)
{
    struct user *u = user_from_row(rows, 0);
    db_rows_free(rows);
    return u;
}

struct user *user_by_id(long long id)
{
    return user_query_one(db_query("SELECT " USER_COLUMNS " FROM users WHERE id = ?", DB_INT(id)));
}

struct user *user_by_username(const char *username)
{
    return user_query_one(
        db_query("SELECT " USER_COLUMNS " FROM users WHERE username = ?", DB_TEXT(username)));
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

struct user *user_copy(const struct user *u)
{
    struct user *c = calloc(1, sizeof *c);
    *c = *u;
    c->username = dup_or_null(u->username);
    c->display_name = dup_or_null(u->display_name);
    c->email = dup_or_null(u->email);
    c->language = dup_or_null(u->language);
    c->created_at = dup_or_null(u->created_at);
    c->last_login_at = dup_or_null(u->last_login_at);
    return c;
}

void user_free(struct user *u)
{
    if (!u)
        return;
    free(u->username);
    free(u->display_name);
    free(u->email);
    free(u->language);
    free(u->created_at);
    free(u->last_login_at);
    free(u);
}

const char *role_name(enum role role)
{
    return role == ROLE_ADMIN ? "admin" : "user";
}

json_t *user_to_json(const struct user *u)
{
    return json_pack("{s:I, s:s, s:s, s:s, s:s, s:b, s:s, s:s, s:s?}",
                     "id", (json_int_t)u->id, "username", u->username,
                     "display_name", u->display_name, "email", u->email,
                     "role", role_name(u->role), "enabled", u->enabled,
                     "language", u->language, "created_at", u->created_at,
                     "last_login_at", u->last_login_at);
}

bool username_valid(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n < 3 || n > 32)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '-')))
            return false;
    }
    return true;
}

bool email_valid(const char *email)
{
    const char *at = strchr(email, '@');
    return !*email || (at && at != email && at[1] && !strchr(at + 1, '@') && !strchr(email, ' '));
}
