/* vmm-users: accounts, for admins: list, create, edit role and state,
 * disable (ending the user's sessions at once), reset the password. */
#include <string.h>

#include "app.h"
#include "db.h"
#include "i18n.h"
#include "list.h"
#include "password.h"
#include "session.h"
#include "user.h"

static const struct list_sort user_sorts[] = {
    { "id", "id" },
    { "username", "username" },
    { "created_at", "created_at" },
    { "last_login_at", "last_login_at" },
    { NULL },
};

static json_t *user_json_from_row(const struct db_rows *rows, int i)
{
    struct user *u = user_from_row(rows, i);
    json_t *json = user_to_json(u);
    user_free(u);
    return json;
}

static int users_list(struct req *r)
{
    struct list_query q;
    const char *role = req_query(r, "role");
    const char *enabled = req_query(r, "enabled");
    if (role && strcmp(role, "admin") && strcmp(role, "user"))
        return req_fail(r, 400, "invalid_parameter", "role", _("role must be admin or user."));
    if (enabled && strcmp(enabled, "true") && strcmp(enabled, "false"))
        return req_fail(r, 400, "invalid_parameter", "enabled", _("enabled must be true or false."));
    if (list_query_parse(r, user_sorts, &q) < 0)
        return -1;

    /* One WHERE for the page and its count; unused filters match all. */
    const char *where = "FROM users WHERE (? IS NULL OR username LIKE ? OR display_name LIKE ? "
                        "OR email LIKE ?) AND (? IS NULL OR role = ?) AND (? IS NULL OR enabled = ?)";
    long long enabled_value = enabled && !strcmp(enabled, "true");
    return list_run(r, &q, USER_COLUMNS, where,
                    DB_PARAMS(DB_TEXT(q.like), DB_TEXT(q.like), DB_TEXT(q.like), DB_TEXT(q.like),
                              DB_TEXT(role), DB_TEXT(role),
                              enabled ? DB_INT(enabled_value) : DB_NULL, DB_INT(enabled_value)),
                    user_json_from_row);
}

static int users_create(struct req *r)
{
    const char *username = input_str(r, "username");
    const char *password = input_str(r, "password");
    const char *role = input_str(r, "role");
    const char *display_name = input_str(r, "display_name");
    const char *email = input_str(r, "email");
    char hash[PASSWORD_HASH_MAX];
    long long id = 0;

    r->audit_detail = json_pack("{s:s, s:s}", "username", username, "role", role ? role : "user");
    if (!username_valid(username))
        return req_fail(r, 400, "invalid_username", "username",
                    _("User names are 3 to 32 letters, digits, dots, dashes or underscores."));
    if (email && !email_valid(email))
        return req_fail(r, 400, "invalid_email", "email", _("This is not an email address."));
    if (password_hash(password, hash) < 0)
        return req_fail(r, 503, "internal", NULL, _("The password could not be stored."));
    if (db_exec_id("INSERT INTO users (username, display_name, email, password_hash, role) "
                   "VALUES (?, ?, ?, ?, ?)", &id,
                   DB_TEXT(username), DB_TEXT(display_name ? display_name : ""),
                   DB_TEXT(email ? email : ""), DB_TEXT(hash), DB_TEXT(role ? role : "user")) < 0)
        return db_errno() == DB_ER_DUP_ENTRY
                   ? req_fail(r, 409, "username_taken", "username", _("This user name is taken."))
                   : fail_db(r);
    r->audit_target_id = id;
    struct user *user = user_by_id(id);
    if (!user)
        return fail_db(r);
    r->status = 201;
    r->data = json_pack("{s:o}", "user", user_to_json(user));
    r->location = g_strdup_printf("/users/%lld", id);
    user_free(user);
    return 0;
}

/* The user named by the path, or a 404. */
static struct user *target_user(struct req *r)
{
    struct user *user = user_by_id(req_param(r, "id")->num);
    if (!user)
        req_fail(r, 404, "not_found", NULL, _("There is no such user."));
    return user;
}

static int users_show(struct req *r)
{
    struct user *user = target_user(r);
    if (!user)
        return -1;
    r->data = json_pack("{s:o}", "user", user_to_json(user));
    user_free(user);
    return 0;
}

/* Refuses a change that would leave no enabled admin to run the portal. */
static int keep_an_admin(struct req *r, const struct user *user, const char *role, json_t *enabled)
{
    bool loses_admin = user->role == ROLE_ADMIN && user->enabled &&
                       ((role && !strcmp(role, "user")) || json_is_false(enabled));
    if (!loses_admin)
        return 0;
    if (user->id == r->user->id)
        return req_fail(r, 409, "cannot_change_self", NULL,
                    _("You cannot take away your own admin rights or disable yourself."));
    struct db_rows *rows =
        db_query("SELECT COUNT(*) FROM users WHERE role = 'admin' AND enabled = 1");
    long long admins = db_cell_int(rows, 0, 0, -1);
    db_rows_free(rows);
    if (admins < 0)
        return fail_db(r);
    if (admins <= 1)
        return req_fail(r, 409, "last_admin", NULL, _("The last enabled admin must stay."));
    return 0;
}

static int set_password(struct req *r, long long id, const char *password)
{
    char hash[PASSWORD_HASH_MAX];
    if (password_hash(password, hash) < 0)
        return req_fail(r, 503, "internal", NULL, _("The password could not be stored."));
    if (db_exec("UPDATE users SET password_hash = ?, failed_logins = 0, locked_until = NULL, "
                "updated_at = UTC_TIMESTAMP() WHERE id = ?", DB_TEXT(hash), DB_INT(id)) < 0 ||
        session_end_all(id) < 0)
        return fail_db(r);
    return 0;
}

static int users_update(struct req *r)
{
    const char *role = input_str(r, "role");
    const char *display_name = input_str(r, "display_name");
    const char *email = input_str(r, "email");
    const char *password = input_str(r, "password");
    json_t *enabled = json_object_get(r->input, "enabled");

    struct user *user = target_user(r);
    if (!user)
        return -1;
    long long id = user->id;
    r->audit_detail = json_pack("{s:o, s:o}", "before", user_to_json(user), "changes",
                                json_deep_copy(r->input));
    json_object_del(json_object_get(r->audit_detail, "changes"), "password");
    int rc = keep_an_admin(r, user, role, enabled);
    user_free(user);
    if (rc < 0)
        return -1;
    if (email && !email_valid(email))
        return req_fail(r, 400, "invalid_email", "email", _("This is not an email address."));

    if ((role && db_exec("UPDATE users SET role = ? WHERE id = ?", DB_TEXT(role), DB_INT(id)) < 0) ||
        (display_name && db_exec("UPDATE users SET display_name = ? WHERE id = ?",
                                 DB_TEXT(display_name), DB_INT(id)) < 0) ||
        (email && db_exec("UPDATE users SET email = ? WHERE id = ?", DB_TEXT(email), DB_INT(id)) < 0) ||
        (enabled && db_exec("UPDATE users SET enabled = ? WHERE id = ?",
                            DB_INT(json_is_true(enabled)), DB_INT(id)) < 0))
        return fail_db(r);
    /* A disabled account is out at once, not at its next idle timeout. */
    if (json_is_false(enabled) && session_end_all(id) < 0)
        return fail_db(r);
    if (password && set_password(r, id, password) < 0)
        return -1;

    db_exec("UPDATE users SET updated_at = UTC_TIMESTAMP() WHERE id = ?", DB_INT(id));
    return users_show(r);
}

static int users_reset_password(struct req *r)
{
    struct user *user = target_user(r);
    if (!user)
        return -1;
    long long id = user->id;
    user_free(user);
    if (set_password(r, id, input_str(r, "password")) < 0)
        return -1;
    r->location = g_strdup_printf("/users/%lld", id);
    r->data = json_object();
    return 0;
}

static const char *const roles[] = { "admin", "user", NULL };

static const struct field create_fields[] = {
    { "username", FIELD_STRING, true, 3, 32, NULL },
    { "password", FIELD_STRING, true, 8, 128, NULL },
    { "role", FIELD_ENUM, false, 0, 0, roles },
    { "display_name", FIELD_STRING, false, 0, 64, NULL },
    { "email", FIELD_STRING, false, 0, 254, NULL },
    { NULL },
};
static const struct field update_fields[] = {
    { "role", FIELD_ENUM, false, 0, 0, roles },
    { "enabled", FIELD_BOOL, false, 0, 0, NULL },
    { "display_name", FIELD_STRING, false, 0, 64, NULL },
    { "email", FIELD_STRING, false, 0, 254, NULL },
    { "password", FIELD_STRING, false, 8, 128, NULL },
    { NULL },
};
static const struct field password_fields[] = {
    { "password", FIELD_STRING, true, 8, 128, NULL },
    { NULL },
};

static const struct route routes[] = {
    { "GET", "/users", users_list, PERM_ADMIN, ROUTE_BOTH, "users.tpl", N_("Users") },
    { "POST", "/users", users_create, PERM_ADMIN, ROUTE_BOTH, NULL, NULL, create_fields,
      "user.create" },
    { "GET", "/users/{id:int}", users_show, PERM_ADMIN, ROUTE_BOTH, "user.tpl", N_("User") },
    { "PATCH", "/users/{id:int}", users_update, PERM_ADMIN, ROUTE_API, NULL, NULL, update_fields,
      "user.update" },
    { "POST", "/users/{id:int}", users_update, PERM_ADMIN, ROUTE_PAGE, NULL, NULL, update_fields,
      "user.update" },
    { "POST", "/users/{id:int}/password", users_reset_password, PERM_ADMIN, ROUTE_PAGE, NULL, NULL,
      password_fields, "user.reset_password" },
    { NULL },
};

int main(int argc, char **argv)
{
    return app_run(argv[0], routes);
}
