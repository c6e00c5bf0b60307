/* vmm-profile: the caller's own account: settings and password, personal
 * API tokens, their sessions, their avatar and their quota, and the
 * profile page that shows all of it. */
#include <string.h>

#include "api_token.h"
#include "app.h"
#include "audit.h"
#include "config.h"
#include "db.h"
#include "i18n.h"
#include "login_throttle.h"
#include "picture.h"
#include "password.h"
#include "quota.h"
#include "session.h"
#include "token.h"
#include "user.h"

static int me(struct req *r)
{
    req_set_object(r, "user", user_to_json(r->user));
    return 0;
}

/* --- password ------------------------------------------------------- */

/* Ends the caller's other sessions (all of them for a token request). */
static int end_other_sessions(struct req *r)
{
    char digest[TOKEN_HEX_LEN + 1] = "";
    if (r->session_token)
        token_digest(r->session_token, digest);
    return db_exec("DELETE FROM sessions WHERE user_id = ? AND token_hash <> ?",
                   DB_INT(r->user->id), DB_TEXT(digest));
}

static int change_password(struct req *r, const char *password)
{
    const char *current = input_str(r, "current_password");
    if (!current)
        return req_fail(r, 400, "missing_field", "current_password",
                        _("Enter your current password to set a new one."));
    /* A stolen session must not guess the password without limit: the
     * guesses are counted and slowed down as logins are. */
    const char *username = r->user->username;
    long long wait = login_throttle_wait(r, username, r->user->id);
    if (wait != 0)
        return wait < 0 ? fail_db(r) : login_throttle_refuse(r, "current_password", wait);
    struct db_rows *rows =
        db_query("SELECT password_hash FROM users WHERE id = ?", DB_INT(r->user->id));
    if (!rows)
        return fail_db(r);
    bool match = rows->nrows == 1 && password_verify(current, db_cell(rows, 0, 0));
    db_rows_free(rows);
    if (!match) {
        if (login_throttle_failure(r, username) < 0)
            return fail_db(r);
        return req_fail(r, 403, "wrong_password", "current_password",
                        _("The current password is wrong."));
    }
    if (login_throttle_success(r, username) < 0)
        return fail_db(r);
    char why[PASSWORD_REASON_MAX];
    if (!password_strong(password, username, current, why))
        return req_fail(r, 422, "weak_password", "password", "%s", why);
    char hash[PASSWORD_HASH_MAX];
    if (password_hash(password, hash) < 0)
        return req_fail(r, 503, "internal", NULL, _("The password could not be stored."));
    if (db_exec("UPDATE users SET password_hash = ?, updated_at = UTC_TIMESTAMP() WHERE id = ?",
                DB_TEXT(hash), DB_INT(r->user->id)) < 0 ||
        end_other_sessions(r) < 0)
        return fail_db(r);
    audit_change_secret(r, "password");
    return 0;
}

/* PATCH /me: display name, email, language, and the password (with the
 * current one). No field can change the role or the state: they are not
 * in the field table, so they are refused as unknown. */
static int update_me(struct req *r)
{
    const char *display_name = input_str(r, "display_name");
    const char *email = input_str(r, "email");
    const char *language = input_str(r, "language");
    const char *password = input_str(r, "password");
    long long id = r->user->id;

    r->audit_target_id = id;
    if (input_has(r, "current_password") && !password)
        return req_fail(r, 400, "missing_field", "password", _("Enter the new password."));
    if (email && !email_valid(email))
        return req_fail(r, 400, "invalid_email", "email", _("This is not an email address."));
    if (password && change_password(r, password) < 0)
        return -1;
    if ((display_name && db_exec("UPDATE users SET display_name = ? WHERE id = ?",
                                 DB_TEXT(display_name), DB_INT(id)) < 0) ||
        (email && db_exec("UPDATE users SET email = ? WHERE id = ?", DB_TEXT(email), DB_INT(id)) < 0) ||
        (language && db_exec("UPDATE users SET language = ? WHERE id = ?", DB_TEXT(language),
                             DB_INT(id)) < 0))
        return fail_db(r);
    struct user *user = user_by_id(id);
    if (!user)
        return fail_db(r);
    json_t *before = user_to_json(r->user);
    json_t *after = user_to_json(user);
    audit_changes_between(r, before, after, NULL);
    json_decref(before);
    req_set_object(r, "user", after);
    r->location = g_strdup("/profile");
    user_free(user);
    return 0;
}

/* --- API tokens ----------------------------------------------------- */

static json_t *tokens_of(long long user_id)
{
    struct db_rows *rows = db_query(
        "SELECT id, name, prefix, DATE_FORMAT(created_at, '%Y-%m-%dT%TZ'), "
        "DATE_FORMAT(last_used_at, '%Y-%m-%dT%TZ') FROM api_tokens WHERE user_id = ? "
        "ORDER BY id", DB_INT(user_id));
    if (!rows)
        return NULL;
    json_t *items = json_array();
    for (int i = 0; i < rows->nrows; i++) {
        const char *used = db_cell(rows, i, 4);
        json_array_append_new(items,
                              json_pack("{s:I, s:s, s:s, s:s, s:o}",
                                        "id", (json_int_t)db_cell_int(rows, i, 0, 0),
                                        "name", db_cell(rows, i, 1), "prefix", db_cell(rows, i, 2),
                                        "created_at", db_cell(rows, i, 3),
                                        "last_used_at", used ? json_string(used) : json_null()));
    }
    db_rows_free(rows);
    return items;
}

static int tokens_list(struct req *r)
{
    json_t *items = tokens_of(r->user->id);
    if (!items)
        return fail_db(r);
    r->data = items;
    return 0;
}

static int tokens_create(struct req *r)
{
    const char *name = input_str(r, "name");
    char secret[API_TOKEN_LEN + 1];
    long long id = 0;
    long long max = config_int("auth", "max_api_tokens", 20);

    r->audit_detail = json_pack("{s:s}", "name", name);
    struct db_rows *rows =
        db_query("SELECT COUNT(*) FROM api_tokens WHERE user_id = ?", DB_INT(r->user->id));
    long long count = db_cell_int(rows, 0, 0, -1);
    db_rows_free(rows);
    if (count < 0)
        return fail_db(r);
    if (count >= max)
        return req_fail(r, 409, "too_many_tokens", NULL,
                        _("You have %lld API tokens, the most allowed. Revoke one first."), count);
    if (api_token_create(r->user->id, name, secret, &id) < 0)
        return fail_db(r);
    r->audit_target_id = id;
    r->status = 201;
    /* The only time the token is shown: only its digest is kept. */
    char prefix[13];
    snprintf(prefix, sizeof prefix, "%.12s", secret);
    req_set_object(r, "token", json_pack("{s:I, s:s, s:s, s:s}", "id", (json_int_t)id, "name",
                                         name, "prefix", prefix, "secret", secret));
    json_object_set_new(r->data, "secret", json_string(secret));   /* for the page */
    return 0;
}

static int tokens_revoke(struct req *r)
{
    unsigned long long n = 0;
    if (db_exec_count("DELETE FROM api_tokens WHERE id = ? AND user_id = ?", &n,
                      DB_INT(req_param(r, "id")->num), DB_INT(r->user->id)) < 0)
        return fail_db(r);
    if (n == 0)
        return req_fail(r, 404, "not_found", NULL, _("There is no such API token."));
    r->data = json_pack("{s:b}", "revoked", 1);
    r->location = g_strdup("/profile");
    return 0;
}

/* --- sessions ------------------------------------------------------- */

static json_t *sessions_of(struct req *r)
{
    char digest[TOKEN_HEX_LEN + 1] = "";
    if (r->session_token)
        token_digest(r->session_token, digest);
    struct db_rows *rows = db_query(
        "SELECT id, ip, user_agent, DATE_FORMAT(created_at, '%Y-%m-%dT%TZ'), "
        "DATE_FORMAT(last_seen_at, '%Y-%m-%dT%TZ'), token_hash = ? FROM sessions "
        "WHERE user_id = ? AND last_seen_at > UTC_TIMESTAMP() - INTERVAL ? SECOND "
        "AND created_at > UTC_TIMESTAMP() - INTERVAL ? SECOND ORDER BY last_seen_at DESC",
        DB_TEXT(digest), DB_INT(r->user->id),
        DB_INT(config_int("session", "idle_timeout_s", 1800)),
        DB_INT(config_int("session", "absolute_timeout_s", 43200)));
    if (!rows)
        return NULL;
    json_t *items = json_array();
    for (int i = 0; i < rows->nrows; i++)
        json_array_append_new(items,
                              json_pack("{s:I, s:s, s:s, s:s, s:s, s:b}",
                                        "id", (json_int_t)db_cell_int(rows, i, 0, 0),
                                        "ip", db_cell(rows, i, 1), "user_agent", db_cell(rows, i, 2),
                                        "created_at", db_cell(rows, i, 3),
                                        "last_seen_at", db_cell(rows, i, 4),
                                        "current", db_cell_int(rows, i, 5, 0) != 0));
    db_rows_free(rows);
    return items;
}

static int sessions_list(struct req *r)
{
    json_t *items = sessions_of(r);
    if (!items)
        return fail_db(r);
    r->data = items;
    return 0;
}

static int sessions_end(struct req *r)
{
    long long id = req_param(r, "id")->num;
    struct db_rows *rows = db_query("SELECT token_hash FROM sessions WHERE id = ? AND user_id = ?",
                                    DB_INT(id), DB_INT(r->user->id));
    if (!rows)
        return fail_db(r);
    char digest[TOKEN_HEX_LEN + 1] = "";
    if (r->session_token)
        token_digest(r->session_token, digest);
    bool found = rows->nrows == 1;
    bool current = found && !strcmp(db_cell(rows, 0, 0), digest);
    db_rows_free(rows);
    if (!found)
        return req_fail(r, 404, "not_found", NULL, _("There is no such session."));
    if (current ? session_end(r) < 0
                : db_exec("DELETE FROM sessions WHERE id = ?", DB_INT(id)) < 0)
        return fail_db(r);
    r->data = json_pack("{s:b}", "ended", 1);
    r->location = g_strdup(current ? "/login" : "/profile");
    return 0;
}

/* --- avatar --------------------------------------------------------- */

/* PUT /me/avatar: the body is the picture itself. */
static int avatar_put(struct req *r)
{
    struct picture_info info;
    r->audit_target_id = r->user->id;
    unsigned max_side = (unsigned)config_int("avatar", "max_side_px", 1024);
    if (picture_check(r, (const unsigned char *)r->body, r->body_len, max_side, &info) < 0)
        return -1;
    char *data = g_base64_encode((const guchar *)r->body, r->body_len);
    int rc = db_exec("INSERT INTO avatars (user_id, content_type, width, height, data, updated_at) "
                     "VALUES (?, ?, ?, ?, ?, UTC_TIMESTAMP()) ON DUPLICATE KEY UPDATE "
                     "content_type = VALUES(content_type), width = VALUES(width), "
                     "height = VALUES(height), data = VALUES(data), updated_at = UTC_TIMESTAMP()",
                     DB_INT(r->user->id), DB_TEXT(info.content_type), DB_INT(info.width),
                     DB_INT(info.height), DB_TEXT(data));
    g_free(data);
    if (rc < 0)
        return fail_db(r);
    r->audit_detail = json_pack("{s:s, s:I, s:I, s:I}", "content_type", info.content_type, "width",
                                (json_int_t)info.width, "height", (json_int_t)info.height, "bytes",
                                (json_int_t)r->body_len);
    req_set_object(r, "avatar", json_pack("{s:s, s:I, s:I}", "content_type", info.content_type,
                                          "width", (json_int_t)info.width, "height",
                                          (json_int_t)info.height));
    return 0;
}

/* GET /me/avatar: the picture, with its own type (and, as every answer,
 * nosniff), so a browser never reads it as anything else. */
static int avatar_get(struct req *r)
{
    struct db_rows *rows = db_query("SELECT content_type, data FROM avatars WHERE user_id = ?",
                                    DB_INT(r->user->id));
    if (!rows)
        return fail_db(r);
    if (rows->nrows != 1) {
        db_rows_free(rows);
        return req_fail(r, 404, "not_found", NULL, _("You have no picture."));
    }
    gsize len = 0;
    guchar *bytes = g_base64_decode(db_cell(rows, 0, 1), &len);
    r->resp_type = strcmp(db_cell(rows, 0, 0), "image/png") ? "image/jpeg" : "image/png";
    db_rows_free(rows);
    g_string_truncate(r->resp_body, 0);
    g_string_append_len(r->resp_body, (const char *)bytes, (gssize)len);
    g_free(bytes);
    r->resp_raw = true;
    return 0;
}

static int avatar_delete(struct req *r)
{
    r->audit_target_id = r->user->id;
    if (db_exec("DELETE FROM avatars WHERE user_id = ?", DB_INT(r->user->id)) < 0)
        return fail_db(r);
    r->data = json_pack("{s:b}", "deleted", 1);
    r->location = g_strdup("/profile");
    return 0;
}

/* --- quota and the profile page ------------------------------------- */

static int my_quota(struct req *r)
{
    r->data = quota_report(r->user->id);
    return r->data ? 0 : fail_db(r);
}

static int profile_page(struct req *r)
{
    json_t *tokens = tokens_of(r->user->id);
    json_t *sessions = tokens ? sessions_of(r) : NULL;
    json_t *quota = sessions ? quota_report(r->user->id) : NULL;
    struct db_rows *avatar =
        quota ? db_query("SELECT 1 FROM avatars WHERE user_id = ?", DB_INT(r->user->id)) : NULL;
    if (!avatar) {
        json_decref(tokens);
        json_decref(sessions);
        json_decref(quota);
        return fail_db(r);
    }
    json_t *user = user_to_json(r->user);
    /* "zh-CN" is no section name: the select needs a flag. */
    json_object_set_new(user, "language_zh", json_boolean(!strcmp(r->user->language, "zh-CN")));
    json_object_set_new(user, "has_avatar", json_boolean(avatar->nrows == 1));
    r->data = json_pack("{s:o, s:o, s:o, s:o, s:b}", "user", user, "tokens",
                        tokens, "sessions", sessions, "quota_rows", quota_rows(quota), "has_avatar",
                        avatar->nrows == 1);
    json_decref(quota);
    db_rows_free(avatar);
    return 0;
}

/* POST /profile/tokens: the page that shows the new token, once. */
static int profile_token_create(struct req *r)
{
    if (tokens_create(r) < 0)
        return -1;
    r->status = 200;   /* a page, not a created resource */
    return 0;
}

static const char *const languages_or_browser[] = { "", "en", "zh-CN", NULL };

static const struct field me_fields[] = {
    { "display_name", FIELD_NAME, false, 0, 64, NULL },
    { "email", FIELD_STRING, false, 0, 254, NULL },
    { "language", FIELD_ENUM, false, 0, 0, languages_or_browser },
    { "password", FIELD_STRING, false, 8, 128, NULL },
    { "current_password", FIELD_STRING, false, 1, 256, NULL },
    { NULL },
};
static const struct field token_fields[] = {
    { "name", FIELD_NAME, true, 1, 64, NULL },
    { NULL },
};

static const struct route routes[] = {
    { "GET", "/me", me, PERM_USER, ROUTE_API,
      .summary = "My account", .reply = REPLY_OBJECT },
    { "PATCH", "/me", update_me, PERM_USER, ROUTE_API, NULL, NULL, me_fields, "user.update_self",
      .summary = "Change my display name, email, language or password", .reply = REPLY_OBJECT,
      .statuses = STATUSES(400, 403, 422) },
    { "GET", "/me/quota", my_quota, PERM_USER, ROUTE_API,
      .summary = "My quota and usage", .reply = REPLY_OBJECT },
    { "GET", "/me/tokens", tokens_list, PERM_USER, ROUTE_API,
      .summary = "My API tokens", .reply = REPLY_ITEMS },
    { "POST", "/me/tokens", tokens_create, PERM_USER, ROUTE_API, NULL, NULL, token_fields,
      "api_token.create",
      .summary = "Create an API token (its secret is shown once)", .reply = REPLY_CREATED,
      .statuses = STATUSES(409) },
    { "DELETE", "/me/tokens/{id:int}", tokens_revoke, PERM_USER, ROUTE_API, NULL, NULL, NULL,
      "api_token.revoke",
      .summary = "Revoke an API token", .reply = REPLY_OBJECT,
      .statuses = STATUSES(404) },
    { "GET", "/me/sessions", sessions_list, PERM_USER, ROUTE_API,
      .summary = "My sessions", .reply = REPLY_ITEMS },
    { "DELETE", "/me/sessions/{id:int}", sessions_end, PERM_USER, ROUTE_API, NULL, NULL, NULL,
      "session.end",
      .summary = "End a session", .reply = REPLY_OBJECT,
      .statuses = STATUSES(404) },
    { "GET", "/me/avatar", avatar_get, PERM_USER, ROUTE_API,
      .summary = "My avatar picture", .reply = REPLY_RAW,
      .statuses = STATUSES(404) },
    { "PUT", "/me/avatar", avatar_put, PERM_USER, ROUTE_API, NULL, NULL, NULL, "user.avatar",
      .raw_body = true,
      .summary = "Upload my avatar (PNG or JPEG, at most 1 MiB)", .reply = REPLY_OBJECT },
    { "DELETE", "/me/avatar", avatar_delete, PERM_USER, ROUTE_API, NULL, NULL, NULL,
      "user.avatar_delete",
      .summary = "Remove my avatar", .reply = REPLY_OBJECT },
    /* The profile page and its forms. */
    { "GET", "/profile", profile_page, PERM_USER, ROUTE_PAGE, "profile.tpl", N_("Profile") },
    { "POST", "/profile", update_me, PERM_USER, ROUTE_PAGE, NULL, NULL, me_fields,
      "user.update_self" },
    { "POST", "/profile/tokens", profile_token_create, PERM_USER, ROUTE_PAGE, "token_created.tpl",
      N_("New API token"), token_fields, "api_token.create" },
    { "POST", "/profile/tokens/{id:int}/revoke", tokens_revoke, PERM_USER, ROUTE_PAGE, NULL, NULL,
      NULL, "api_token.revoke" },
    { "POST", "/profile/sessions/{id:int}/end", sessions_end, PERM_USER, ROUTE_PAGE, NULL, NULL,
      NULL, "session.end" },
    { "POST", "/profile/avatar/delete", avatar_delete, PERM_USER, ROUTE_PAGE, NULL, NULL, NULL,
      "user.avatar_delete" },
    { NULL },
};

int main(int argc, char **argv)
{
    (void)argc;
    return app_run(argv[0], routes);
}
