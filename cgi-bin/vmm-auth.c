/* vmm-auth: logging in and out, registration and the language switch.
 * The caller's own settings are vmm-profile's. */
#include <string.h>

#include "app.h"
#include "config.h"
#include "db.h"
#include "i18n.h"
#include "login_throttle.h"
#include "password.h"
#include "session.h"
#include "settings.h"
#include "user.h"

/* Verifying against a real hash when the user does not exist keeps the
 * answer time the same, so timing does not tell which names exist. */
static void verify_dummy(const char *password)
{
    static char dummy[PASSWORD_HASH_MAX];
    if (!dummy[0] && password_hash("no such user", dummy) < 0)
        return;
    password_verify(password, dummy);
}

static void login_history(struct req *r, long long user_id, const char *username, bool ok,
                          const char *reason)
{
    db_exec("INSERT INTO login_history (created_at, user_id, username, success, reason, ip, "
            "user_agent) VALUES (UTC_TIMESTAMP(3), ?, LEFT(?, 64), ?, ?, ?, LEFT(?, 255))",
            user_id ? DB_INT(user_id) : DB_NULL, DB_TEXT(username), DB_INT(ok), DB_TEXT(reason),
            DB_TEXT(r->remote_addr ? r->remote_addr : ""),
            DB_TEXT(r->user_agent ? r->user_agent : ""));
}

static int reply_logged_in(struct req *r)
{
    r->data = json_pack("{s:o, s:s}", "user", user_to_json(r->user), "csrf_token", r->csrf_token);
    const char *next = local_path(input_str(r, "next"));
    r->location = g_strdup(next ? next : "/");
    return 0;
}

/* Wrong passwords slow down the address they come from (and, past a much
 * higher ceiling, unknown addresses of that account): lib/login_throttle.h.
 * No count ever locks the account for its owner. */
static int login(struct req *r)
{
    const char *username = input_str(r, "username");
    const char *password = input_str(r, "password");
    r->audit_detail = json_pack("{s:s}", "username", username);

    struct db_rows *rows = db_query("SELECT id, password_hash, enabled FROM users "
                                    "WHERE username = ?", DB_TEXT(username));
    if (!rows)
        return fail_db(r);
    bool known = rows->nrows == 1;
    long long id = known ? db_cell_int(rows, 0, 0, 0) : 0;
    bool enabled = known && db_cell_int(rows, 0, 2, 0) != 0;
    char *hash = known ? g_strdup(db_cell(rows, 0, 1)) : NULL;
    db_rows_free(rows);
    if (known)
        r->audit_target_id = id;

    long long wait = login_throttle_wait(r, username, id);
    if (wait != 0) {
        g_free(hash);
        if (wait < 0)
            return fail_db(r);
        login_history(r, id, username, false, "throttled");
        return login_throttle_refuse(r, NULL, wait);
    }
    bool match;
    if (known) {
        match = password_verify(password, hash);
    } else {
        verify_dummy(password);
        match = false;
    }
    g_free(hash);
    if (!match) {
        if (login_throttle_failure(r, username) < 0)
            return fail_db(r);
        login_history(r, id, username, false, known ? "bad_password" : "unknown_user");
        return req_fail(r, 401, "invalid_credentials", NULL, _("Wrong user name or password."));
    }
    if (login_throttle_success(r, username) < 0)
        return fail_db(r);
    if (!enabled) {
        login_history(r, id, username, false, "disabled");
        return req_fail(r, 403, "account_disabled", NULL, _("This account is disabled."));
    }

    if (db_exec("UPDATE users SET last_login_at = UTC_TIMESTAMP() WHERE id = ?", DB_INT(id)) < 0)
        return fail_db(r);
    struct user *user = user_by_id(id);
    int rc = user ? session_start(r, user) : -1;
    user_free(user);
    if (rc < 0)
        return fail_db(r);
    login_history(r, id, username, true, "");
    return reply_logged_in(r);
}

static int login_page(struct req *r)
{
    /* After a failed form, where the user was heading comes from the form. */
    const char *next = local_path(input_str(r, "next"));
    if (!next)
        next = local_path(req_query(r, "next"));
    if (r->user && !r->api) {
        /* Already in: go where they were heading. */
        r->location = g_strdup(next ? next : "/");
    }
    r->data = json_pack("{s:s, s:b}", "next", next ? next : "/", "registration",
                        settings_registration_open());
    return 0;
}

static int logout(struct req *r)
{
    if (session_end(r) < 0)
        return fail_db(r);
    r->location = g_strdup("/login");
    r->data = json_pack("{s:b}", "logged_out", 1);
    return 0;
}

static int me(struct req *r)
{
    r->data = json_pack("{s:o, s:s}", "user", user_to_json(r->user), "csrf_token", r->csrf_token);
    return 0;
}

static int registration_open(struct req *r)
{
    if (!settings_registration_open())
        return req_fail(r, 403, "registration_disabled",
                    NULL, _("Self-registration is turned off. Ask an administrator for an account."));
    return 0;
}

static int register_page(struct req *r)
{
    if (registration_open(r) < 0)
        return -1;
    r->data = json_object();
    return 0;
}

static int register_user(struct req *r)
{
    const char *username = input_str(r, "username");
    const char *password = input_str(r, "password");
    const char *display_name = input_str(r, "display_name");
    char hash[PASSWORD_HASH_MAX];
    long long id = 0;

    r->audit_detail = json_pack("{s:s}", "username", username);
    if (registration_open(r) < 0)
        return -1;
    if (!username_valid(username))
        return req_fail(r, 400, "invalid_username", "username",
                    _("User names are 3 to 32 letters, digits, dots, dashes or underscores."));
    char why[PASSWORD_REASON_MAX];
    if (!password_strong(password, username, NULL, why))
        return req_fail(r, 422, "weak_password", "password", "%s", why);
    if (password_hash(password, hash) < 0)
        return req_fail(r, 503, "internal", NULL, _("The password could not be stored."));
    if (db_exec_id("INSERT INTO users (username, display_name, password_hash, role) "
                   "VALUES (?, ?, ?, 'user')", &id,
                   DB_TEXT(username), DB_TEXT(display_name ? display_name : ""), DB_TEXT(hash)) < 0)
        return db_errno() == DB_ER_DUP_ENTRY
                   ? req_fail(r, 409, "username_taken", "username", _("This user name is taken."))
                   : fail_db(r);
    r->audit_target_id = id;
    struct user *user = user_by_id(id);
    int rc = user ? session_start(r, user) : -1;
    user_free(user);
    if (rc < 0)
        return fail_db(r);
    r->status = 201;
    return reply_logged_in(r);
}

/* The 中文 / English switch in every page's header. */
static int set_language(struct req *r)
{
    const char *language = input_str(r, "language");
    const char *next = local_path(input_str(r, "next"));
    resp_cookie(r, "vmm_lang", language, 365L * 86400);
    if (r->user) {
        r->audit_target_id = r->user->id;
        if (db_exec("UPDATE users SET language = ? WHERE id = ?", DB_TEXT(language),
                    DB_INT(r->user->id)) < 0)
            return fail_db(r);
    }
    r->location = g_strdup(next ? next : "/");
    return 0;
}

static const char *const languages[] = { "en", "zh-CN", NULL };

static const struct field login_fields[] = {
    { "username", FIELD_STRING, true, 1, 64, NULL },
    { "password", FIELD_STRING, true, 1, 256, NULL },
    { "next", FIELD_STRING, false, 0, 512, NULL },
    { NULL },
};
static const struct field register_fields[] = {
    { "username", FIELD_NAME, true, 3, 32, NULL },
    { "password", FIELD_STRING, true, 8, 128, NULL },
    { "display_name", FIELD_NAME, false, 0, 64, NULL },
    { NULL },
};
static const struct field language_fields[] = {
    { "language", FIELD_ENUM, true, 0, 0, languages },
    { "next", FIELD_STRING, false, 0, 512, NULL },
    { NULL },
};

static const struct route routes[] = {
    { "GET", "/login", login_page, PERM_ANON, ROUTE_PAGE, "login.tpl", N_("Log in") },
    { "POST", "/login", login, PERM_ANON, ROUTE_PAGE, NULL, NULL, login_fields, "auth.login" },
    { "POST", "/auth/login", login, PERM_ANON, ROUTE_API, NULL, NULL, login_fields, "auth.login",
      .summary = "Log in: sets the session cookie, returns the user and the CSRF token", .reply = REPLY_OBJECT,
      .statuses = STATUSES(403) },
    { "POST", "/logout", logout, PERM_USER, ROUTE_PAGE, NULL, NULL, NULL, "auth.logout" },
    { "POST", "/auth/logout", logout, PERM_USER, ROUTE_API, NULL, NULL, NULL, "auth.logout",
      .summary = "Log out: ends this session", .reply = REPLY_OBJECT },
    { "GET", "/auth/me", me, PERM_USER, ROUTE_API,
      .summary = "The logged-in user and the CSRF token", .reply = REPLY_OBJECT },
    { "GET", "/register", register_page, PERM_ANON, ROUTE_PAGE, "register.tpl", N_("Register") },
    { "POST", "/register", register_user, PERM_ANON, ROUTE_PAGE, NULL, NULL, register_fields,
      "user.register" },
    { "POST", "/auth/register", register_user, PERM_ANON, ROUTE_API, NULL, NULL, register_fields,
      "user.register",
      .summary = "Register an account (when the administrator allows it)", .reply = REPLY_CREATED,
      .statuses = STATUSES(400, 403, 409, 422) },
    { "POST", "/language", set_language, PERM_ANON, ROUTE_PAGE, NULL, NULL, language_fields,
      "user.language" },
    { NULL },
};

int main(int argc, char **argv)
{
    return app_run(argv[0], routes);
}
