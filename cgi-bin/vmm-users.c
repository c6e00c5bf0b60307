/* vmm-users: accounts, for admins: list, create, edit role and state,
 * disable (ending the user's sessions at once), reset the password,
 * delete (handing their VMs to another user), and set quotas. */
#include <string.h>

#include "app.h"
#include "audit.h"
#include "db.h"
#include "i18n.h"
#include "list.h"
#include "login_throttle.h"
#include "password.h"
#include "quota.h"
#include "session.h"
#include "settings.h"
#include "vm_limits.h"
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

/* For the page's rows: how many VMs each user owns, so that one without
 * any is deleted from its row and one with some is sent to their page to
 * choose who takes them over. */
static int add_vm_counts(struct req *r)
{
    struct db_rows *rows = db_query("SELECT owner_id, COUNT(*) FROM vms GROUP BY owner_id");
    if (!rows)
        return fail_db(r);
    size_t i;
    json_t *user;
    json_array_foreach(r->data, i, user) {
        long long id = json_integer_value(json_object_get(user, "id")), n = 0;
        for (int k = 0; k < rows->nrows; k++)
            if (db_cell_int(rows, k, 0, 0) == id)
                n = db_cell_int(rows, k, 1, 0);
        json_object_set_new(user, "vm_count", json_integer(n));
        json_object_set_new(user, "owns_vms", json_boolean(n > 0));
        json_object_set_new(user, "is_me", json_boolean(id == r->user->id));
    }
    db_rows_free(rows);
    return 0;
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
    if (list_run(r, &q, USER_COLUMNS, where,
                 DB_PARAMS(DB_TEXT(q.like), DB_TEXT(q.like), DB_TEXT(q.like), DB_TEXT(q.like),
                           DB_TEXT(role), DB_TEXT(role),
                           enabled ? DB_INT(enabled_value) : DB_NULL, DB_INT(enabled_value)),
                 user_json_from_row) < 0)
        return -1;
    return r->api ? 0 : add_vm_counts(r);
}

/* 422 weak_password naming why, or 0: checked before anything changes. */
static int refuse_weak(struct req *r, const char *password, const char *username)
{
    char why[PASSWORD_REASON_MAX];
    if (!password || password_strong(password, username, NULL, why))
        return 0;
    return req_fail(r, 422, "weak_password", "password", "%s", why);
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
    if (refuse_weak(r, password, username) < 0)
        return -1;
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
    req_set_object(r, "user", user_to_json(user));
    r->location = g_strdup_printf("/users/%lld", id);
    user_free(user);
    return 0;
}

static bool is_update(const struct req *r)
{
    return strcmp(r->method, "GET") != 0 && strcmp(r->method, "HEAD") != 0;
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
    req_set_object(r, "user", user_to_json(user));
    user_free(user);
    if (!r->api && !is_update(r)) {
        /* The page also edits the quota. */
        json_t *quota = quota_report(req_param(r, "id")->num);
        if (!quota)
            return fail_db(r);
        json_object_set_new(r->data, "user_id", json_integer(req_param(r, "id")->num));
        json_object_set_new(r->data, "quota_rows", quota_rows(quota));
        json_object_set_new(r->data, "quota", json_object_get(quota, "quota") ? json_incref(json_object_get(quota, "quota")) : json_object());
        json_decref(quota);
        /* Who may take over the VMs of a deleted user: a menu, not an id. */
        struct db_rows *others = db_query("SELECT id, username FROM users WHERE id <> ? AND "
                                          "enabled = 1 ORDER BY username LIMIT 500",
                                          DB_INT(req_param(r, "id")->num));
        if (!others)
            return fail_db(r);
        json_t *list = json_array();
        for (int i = 0; i < others->nrows; i++)
            json_array_append_new(list, json_pack("{s:I, s:s}", "id",
                                                  (json_int_t)db_cell_int(others, i, 0, 0),
                                                  "username", db_cell(others, i, 1)));
        db_rows_free(others);
        json_object_set_new(r->data, "others", list);
    }
    return 0;
}

/* Refuses a change that would leave no enabled admin to run the portal.
 * Inside a transaction the admins' rows stay locked until its end, so two
 * admins demoting each other at once cannot both pass. */
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
        db_query("SELECT COUNT(*) FROM users WHERE role = 'admin' AND enabled = 1 FOR UPDATE");
    long long admins = db_cell_int(rows, 0, 0, -1);
    db_rows_free(rows);
    if (admins < 0)
        return fail_db(r);
    if (admins <= 1)
        return req_fail(r, 409, "last_admin", NULL, _("The last enabled admin must stay."));
    return 0;
}

/* Stores a hashed password and ends the user's sessions. A reset password
 * is a suspected leak: their API tokens go too unless the admin says
 * revoke_tokens: false. */
static int store_password(struct req *r, long long id, const char *username, const char *hash)
{
    bool revoke_tokens = !json_is_false(json_object_get(r->input, "revoke_tokens"));
    unsigned long long revoked = 0;
    if (db_exec("UPDATE users SET password_hash = ?, failed_logins = 0, locked_until = NULL, "
                "updated_at = UTC_TIMESTAMP() WHERE id = ?", DB_TEXT(hash), DB_INT(id)) < 0 ||
        session_end_all(id) < 0 ||
        (revoke_tokens && db_exec_count("DELETE FROM api_tokens WHERE user_id = ?", &revoked,
                                        DB_INT(id)) < 0) ||
        /* A new password starts with no wrong ones counted against it. */
        login_throttle_forget(username) < 0)
        return fail_db(r);
    if (!json_is_object(r->audit_detail))
        r->audit_detail = json_object();
    json_object_set_new(r->audit_detail, "tokens_revoked", json_integer((json_int_t)revoked));
    return 0;
}

static int set_password(struct req *r, long long id, const char *username, const char *password)
{
    char hash[PASSWORD_HASH_MAX];
    if (password_hash(password, hash) < 0)
        return req_fail(r, 503, "internal", NULL, _("The password could not be stored."));
    return store_password(r, id, username, hash);
}

/* The row changes of users_update, inside its transaction. */
static int users_apply(struct req *r, long long id, const char *username,
                       const char *password_hash)
{
    const char *role = input_str(r, "role");
    const char *display_name = input_str(r, "display_name");
    const char *email = input_str(r, "email");
    json_t *enabled = json_object_get(r->input, "enabled");

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
    if (password_hash && store_password(r, id, username, password_hash) < 0)
        return -1;
    if (db_exec("UPDATE users SET updated_at = UTC_TIMESTAMP() WHERE id = ?", DB_INT(id)) < 0)
        return fail_db(r);
    return 0;
}

struct users_update_tx {
    const struct user *user;
    const char *role;
    json_t *enabled;
    const char *password_hash;
};

static int users_update_body(struct req *r, void *ctx)
{
    struct users_update_tx *t = ctx;
    if (keep_an_admin(r, t->user, t->role, t->enabled) < 0)
        return -1;
    return users_apply(r, t->user->id, t->user->username, t->password_hash);
}

static int users_update(struct req *r)
{
    const char *role = input_str(r, "role");
    const char *email = input_str(r, "email");
    const char *password = input_str(r, "password");
    json_t *enabled = json_object_get(r->input, "enabled");
    char hash[PASSWORD_HASH_MAX];

    struct user *user = target_user(r);
    if (!user)
        return -1;
    r->audit_detail = json_pack("{s:o, s:o}", "before", user_to_json(user), "changes",
                                json_deep_copy(r->input));
    json_object_del(json_object_get(r->audit_detail, "changes"), "password");
    char username[64];
    snprintf(username, sizeof username, "%s", user->username);
    if (refuse_weak(r, password, username) < 0) {
        user_free(user);
        return -1;
    }
    /* Hashed before the transaction: it is slow and needs no rows. */
    if (password && password_hash(password, hash) < 0) {
        user_free(user);
        return req_fail(r, 503, "internal", NULL, _("The password could not be stored."));
    }

    if (email && !email_valid(email)) {
        user_free(user);
        return req_fail(r, 400, "invalid_email", "email", _("This is not an email address."));
    }
    /* All of it or nothing: a refusal or a lost database half way leaves
     * the account as it was. */
    struct users_update_tx tx = { user, role, enabled, password ? hash : NULL };
    int rc = req_transaction(r, users_update_body, &tx);
    user_free(user);
    if (rc < 0)
        return -1;

    if (users_show(r) < 0)
        return -1;
    audit_changes_between(r, json_object_get(r->audit_detail, "before"),
                          json_object_get(r->data, "user"), NULL);
    if (password)
        audit_change_secret(r, "password");
    return 0;
}

static int users_reset_password(struct req *r)
{
    struct user *user = target_user(r);
    if (!user)
        return -1;
    long long id = user->id;
    const char *password = input_str(r, "password");
    int rc = refuse_weak(r, password, user->username);
    if (rc == 0)
        rc = set_password(r, id, user->username, password);
    user_free(user);
    if (rc < 0)
        return -1;
    audit_change_secret(r, "password");
    r->location = g_strdup_printf("/users/%lld", id);
    r->data = json_object();
    return 0;
}

/* The new owner named by reassign_to (query or form), 0 when none, or -1
 * with a 4xx. */
static long long reassign_target(struct req *r, long long deleted)
{
    const char *text = input_str(r, "reassign_to");
    if (!text)
        text = req_query(r, "reassign_to");
    if (!text || !*text)
        return 0;
    char *end;
    long long id = g_ascii_strtoll(text, &end, 10);
    struct user *to = *end || id <= 0 ? NULL : user_by_id(id);
    bool ok = to && to->id != deleted;
    user_free(to);
    if (!ok)
        return req_fail(r, 422, "invalid_reassign", "reassign_to",
                        _("Choose another existing user to take over the virtual machines."));
    return id;
}

/* Hands everything the user owns to `to`, or refuses with 409 when they
 * own VMs and no one takes them. Runs in the delete's transaction. */
static int hand_over(struct req *r, long long id, long long to)
{
    struct db_rows *rows = db_query("SELECT COUNT(*) FROM vms WHERE owner_id = ? FOR UPDATE",
                                    DB_INT(id));
    long long vms = db_cell_int(rows, 0, 0, -1);
    db_rows_free(rows);
    if (vms < 0)
        return fail_db(r);
    if (vms > 0 && !to)
        return req_fail(r, 409, "user_owns_vms", "reassign_to",
                        _("This user owns %lld virtual machines. Choose who takes them over."), vms);
    json_object_set_new(r->audit_detail, "vms", json_integer(vms));
    if (to && (db_exec("UPDATE vms SET owner_id = ? WHERE owner_id = ?", DB_INT(to), DB_INT(id)) < 0 ||
               db_exec("UPDATE jobs SET owner_id = ? WHERE owner_id = ?", DB_INT(to), DB_INT(id)) < 0 ||
               db_exec("UPDATE isos SET owner_id = ? WHERE owner_id = ?", DB_INT(to), DB_INT(id)) < 0 ||
               db_exec("UPDATE templates SET owner_id = ? WHERE owner_id = ?", DB_INT(to),
                       DB_INT(id)) < 0))
        return fail_db(r);
    /* No VMs: their finished jobs go with them. */
    if (!to && db_exec("DELETE FROM jobs WHERE owner_id = ?", DB_INT(id)) < 0)
        return fail_db(r);
    return 0;
}

/* ctx: the user's id and who takes over (0: no one). */
static int users_delete_body(struct req *r, void *ctx)
{
    const long long *ids = ctx;
    if (hand_over(r, ids[0], ids[1]) < 0)
        return -1;
    return db_exec("DELETE FROM users WHERE id = ?", DB_INT(ids[0])) < 0 ? fail_db(r) : 0;
}

/* DELETE /users/{id}[?reassign_to=ID]: never oneself, never the last
 * admin, and never a user who still owns VMs that no one takes over. */
static int users_delete(struct req *r)
{
    struct user *user = target_user(r);
    if (!user)
        return -1;
    long long id = user->id;
    r->audit_detail = json_pack("{s:o}", "before", user_to_json(user));
    int rc = 0;
    if (id == r->user->id)
        rc = req_fail(r, 409, "cannot_change_self", NULL, _("You cannot delete your own account."));
    else
        rc = keep_an_admin(r, user, "user", NULL);
    user_free(user);
    if (rc < 0)
        return -1;
    long long to = reassign_target(r, id);
    if (to < 0)
        return -1;
    if (to)
        json_object_set_new(r->audit_detail, "reassign_to", json_integer(to));
    long long ids[2] = { id, to };
    if (req_transaction(r, users_delete_body, ids) < 0)
        return -1;
    r->data = json_pack("{s:b}", "deleted", 1);
    r->location = g_strdup("/users");
    return 0;
}

static int quota_show(struct req *r)
{
    struct user *user = target_user(r);
    if (!user)
        return -1;
    user_free(user);
    r->data = quota_report(req_param(r, "id")->num);
    return r->data ? 0 : fail_db(r);
}

/* PUT /users/{id}/quota: every limit at once (max_image_gb may be left
 * out: the configured default). Bounds are in the field table. */
static int quota_update(struct req *r)
{
    struct user *user = target_user(r);
    if (!user)
        return -1;
    long long id = user->id;
    user_free(user);
    json_t *before = quota_report(id);
    if (!before)
        return fail_db(r);
    json_t *image = json_object_get(r->input, "max_image_gb");
    int rc = db_exec(
        "INSERT INTO quotas (user_id, max_vms, max_vcpus, max_memory_mb, max_disk_gb, max_image_gb) "
        "VALUES (?, ?, ?, ?, ?, ?) ON DUPLICATE KEY UPDATE max_vms = VALUES(max_vms), "
        "max_vcpus = VALUES(max_vcpus), max_memory_mb = VALUES(max_memory_mb), "
        "max_disk_gb = VALUES(max_disk_gb), max_image_gb = VALUES(max_image_gb)",
        DB_INT(id), DB_INT(input_int(r, "max_vms", 0)), DB_INT(input_int(r, "max_vcpus", 0)),
        DB_INT(input_int(r, "max_memory_mb", 0)), DB_INT(input_int(r, "max_disk_gb", 0)),
        image ? DB_INT(json_integer_value(image)) : DB_NULL);
    if (rc < 0) {
        json_decref(before);
        return fail_db(r);
    }
    r->data = quota_report(id);
    if (!r->data) {
        json_decref(before);
        return fail_db(r);
    }
    static const char *const skip[] = { "custom", NULL };
    audit_changes_between(r, json_object_get(before, "quota"), json_object_get(r->data, "quota"),
                          skip);
    json_decref(before);
    r->location = g_strdup_printf("/users/%lld", id);
    return 0;
}

/* GET /settings: what admins switch at run time: self-registration and
 * the sizes a VM may have (lib/web/vm_limits.h). */
static int settings_show(struct req *r)
{
    struct vm_limits limits;
    if (vm_limits_get(&limits) < 0)
        return fail_db(r);
    r->data = vm_limits_json(&limits);
    json_object_set_new(r->data, "registration", json_boolean(settings_registration_open()));
    return 0;
}

/* The limits a PATCH carries, all checked before any is stored. */
static int limits_update(struct req *r)
{
    struct vm_limits before, after;
    if (vm_limits_get(&before) < 0)
        return fail_db(r);
    after = before;
    if (vm_limits_merge(r, r->input, &after) < 0)
        return -1;
    if (!memcmp(&before, &after, sizeof before))
        return 0;
    if (vm_limits_set(&after) < 0)
        return fail_db(r);
    json_t *old = vm_limits_json(&before), *now = vm_limits_json(&after);
    audit_changes_between(r, old, now, NULL);
    json_decref(old);
    json_decref(now);
    return 0;
}

static int settings_update(struct req *r)
{
    if (limits_update(r) < 0)
        return -1;
    json_t *registration = json_object_get(r->input, "registration");
    if (registration) {
        bool before = settings_registration_open();
        if (settings_set_registration(json_is_true(registration)) < 0)
            return fail_db(r);
        audit_change(r, "registration", json_boolean(before), registration);
    }
    r->location = g_strdup("/settings");
    return settings_show(r);
}

static const char *const roles[] = { "admin", "user", NULL };

static const struct field create_fields[] = {
    { "username", FIELD_NAME, true, 3, 32, NULL },
    { "password", FIELD_STRING, true, 8, 128, NULL },
    { "role", FIELD_ENUM, false, 0, 0, roles },
    { "display_name", FIELD_NAME, false, 0, 64, NULL },
    { "email", FIELD_STRING, false, 0, 254, NULL },
    { NULL },
};
static const struct field update_fields[] = {
    { "role", FIELD_ENUM, false, 0, 0, roles },
    { "enabled", FIELD_BOOL, false, 0, 0, NULL },
    { "display_name", FIELD_NAME, false, 0, 64, NULL },
    { "email", FIELD_STRING, false, 0, 254, NULL },
    { "password", FIELD_STRING, false, 8, 128, NULL },
    { "revoke_tokens", FIELD_BOOL, false, 0, 0, NULL },   /* with password; default true */
    { NULL },
};
static const struct field password_fields[] = {
    { "password", FIELD_STRING, true, 8, 128, NULL },
    { "revoke_tokens", FIELD_BOOL, false, 0, 0, NULL },
    { NULL },
};

static const struct field delete_fields[] = {
    { "reassign_to", FIELD_STRING, false, 0, 20, NULL },
    { NULL },
};
static const struct field settings_fields[] = {
    { "registration", FIELD_BOOL, false, 0, 0, NULL },
    VM_LIMIT_FIELDS,
    { NULL },
};
static const struct field quota_fields[] = {
    { "max_vms", FIELD_INT, true, 0, QUOTA_MAX_VMS, NULL },
    { "max_vcpus", FIELD_INT, true, 0, QUOTA_MAX_VCPUS, NULL },
    { "max_memory_mb", FIELD_INT, true, 0, QUOTA_MAX_MEMORY_MB, NULL },
    { "max_disk_gb", FIELD_INT, true, 0, QUOTA_MAX_DISK_GB, NULL },
    { "max_image_gb", FIELD_INT, false, 0, QUOTA_MAX_IMAGE_GB, NULL },
    { NULL },
};

static const struct route routes[] = {
    { "GET", "/users", users_list, PERM_ADMIN, ROUTE_BOTH, "users.tpl", N_("Users"),
      .summary = "List users", .reply = REPLY_LIST,
      .statuses = STATUSES(400) },
    { "POST", "/users", users_create, PERM_ADMIN, ROUTE_BOTH, NULL, NULL, create_fields,
      "user.create",
      .summary = "Create a user", .reply = REPLY_CREATED,
      .statuses = STATUSES(400, 409, 422) },
    { "GET", "/users/{id:int}", users_show, PERM_ADMIN, ROUTE_BOTH, "user.tpl", N_("User"),
      .summary = "Show a user", .reply = REPLY_OBJECT,
      .statuses = STATUSES(404) },
    { "PATCH", "/users/{id:int}", users_update, PERM_ADMIN, ROUTE_API, NULL, NULL, update_fields,
      "user.update",
      .summary = "Change a user (role, enabled, names, password)", .reply = REPLY_OBJECT,
      .statuses = STATUSES(400, 404, 409, 422) },
    { "POST", "/users/{id:int}", users_update, PERM_ADMIN, ROUTE_PAGE, NULL, NULL, update_fields,
      "user.update" },
    { "POST", "/users/{id:int}/password", users_reset_password, PERM_ADMIN, ROUTE_PAGE, NULL, NULL,
      password_fields, "user.reset_password" },
    { "DELETE", "/users/{id:int}", users_delete, PERM_ADMIN, ROUTE_API, NULL, NULL, delete_fields,
      "user.delete",
      .summary = "Delete a user", .reply = REPLY_OBJECT,
      .statuses = STATUSES(404, 409, 422) },
    { "POST", "/users/{id:int}/delete", users_delete, PERM_ADMIN, ROUTE_PAGE, NULL, NULL,
      delete_fields, "user.delete" },
    { "GET", "/users/{id:int}/quota", quota_show, PERM_ADMIN, ROUTE_API,
      .summary = "A user's quota and usage", .reply = REPLY_OBJECT,
      .statuses = STATUSES(404) },
    { "PUT", "/users/{id:int}/quota", quota_update, PERM_ADMIN, ROUTE_API, NULL, NULL, quota_fields,
      "quota.update",
      .summary = "Set a user's quota", .reply = REPLY_OBJECT,
      .statuses = STATUSES(404) },
    { "POST", "/users/{id:int}/quota", quota_update, PERM_ADMIN, ROUTE_PAGE, NULL, NULL,
      quota_fields, "quota.update" },
    { "GET", "/settings", settings_show, PERM_ADMIN, ROUTE_BOTH, "settings.tpl", N_("Settings"),
      .summary = "The portal settings", .reply = REPLY_OBJECT },
    { "PATCH", "/settings", settings_update, PERM_ADMIN, ROUTE_API, NULL, NULL, settings_fields,
      "settings.update",
      .summary = "Change the portal settings (self-registration, the sizes a VM may have)",
      .reply = REPLY_OBJECT, .statuses = STATUSES(400) },
    { "POST", "/settings", settings_update, PERM_ADMIN, ROUTE_PAGE, NULL, NULL, settings_fields,
      "settings.update" },
    { NULL },
};

int main(int argc, char **argv)
{
    return app_run(argv[0], routes);
}
