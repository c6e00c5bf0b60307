/* Accounts as the rest of the code sees them. */
#ifndef VMM_USER_H
#define VMM_USER_H

#include <jansson.h>
#include <stdbool.h>

#include "db.h"

enum role { ROLE_USER, ROLE_ADMIN };

struct user {
    long long id;
    char *username;
    char *display_name;
    char *email;
    enum role role;
    bool enabled;
    char *language;        /* "" (browser decides), "en" or "zh_CN" */
    char *created_at;      /* RFC 3339 */
    char *last_login_at;   /* RFC 3339 or NULL */
};

/* The column list user_from_row expects first, for SELECTs on users (p:
 * the table's alias and a dot in a join, else ""). */
#define USER_COLUMNS_OF(p)                                                                \
    p "id, " p "username, " p "display_name, " p "email, " p "role, " p "enabled, "       \
    p "language, DATE_FORMAT(" p "created_at, '%Y-%m-%dT%TZ'), "                          \
    "DATE_FORMAT(" p "last_login_at, '%Y-%m-%dT%TZ')"
#define USER_COLUMNS USER_COLUMNS_OF("")
#define USER_NCOLUMNS 9

struct user *user_from_row(const struct db_rows *rows, int row);
struct user *user_by_id(long long id);
struct user *user_by_username(const char *username);
struct user *user_copy(const struct user *user);
void user_free(struct user *user);
json_t *user_to_json(const struct user *user);

const char *role_name(enum role role);
/* 3-32 characters of A-Z a-z 0-9 . _ -, starting with a letter or digit. */
bool username_valid(const char *name);
/* Empty, or one @ with text on both sides and no spaces. */
bool email_valid(const char *email);

#endif
