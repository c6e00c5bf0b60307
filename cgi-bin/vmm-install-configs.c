/* vmm-install-configs: the library of saved install configs (issue 18).
 * A config is the `install` object of a VM create (lib/web/install_form.h),
 * checked as a create checks it, with the password kept only as its
 * hash; POST /vms takes one by `install_config_id`. A user sees and uses
 * their own and the shared ones; only an admin shares, and an admin
 * manages all. */
#include <string.h>

#include "app.h"
#include "db.h"
#include "i18n.h"
#include "install_form.h"
#include "list.h"
#include "rbac.h"
#include "user.h"

#define CONFIG_COLUMNS                                                                   \
    "c.id, c.owner_id, c.name, c.shared, c.body, DATE_FORMAT(c.created_at, '%Y-%m-%dT%TZ')"

/* The saved body without its hash: whether there is a password is all a
 * reader learns of it. */
static json_t *config_from_row(const struct db_rows *rows, int i)
{
    json_t *body = json_loads(db_cell(rows, i, 4), 0, NULL);
    if (!json_is_object(body)) {
        json_decref(body);
        body = json_object();
    }
    bool has_password = json_object_get(body, "password_hash") != NULL;
    json_object_del(body, "password_hash");
    return json_pack("{s:I, s:I, s:s, s:b, s:o, s:b, s:s}", "id",
                     (json_int_t)db_cell_int(rows, i, 0, 0), "owner_id",
                     (json_int_t)db_cell_int(rows, i, 1, 0), "name", db_cell(rows, i, 2), "shared",
                     db_cell_int(rows, i, 3, 0) != 0, "install", body, "has_password",
                     has_password, "created_at", db_cell(rows, i, 5));
}

/* The config if the caller may see it (own, shared, or an admin); else a
 * 404, the same as for one that does not exist. */
static json_t *config_visible(struct req *r, long long id, bool to_change)
{
    struct db_rows *rows = db_query("SELECT " CONFIG_COLUMNS " FROM install_configs c WHERE c.id = ?",
                                    DB_INT(id));
    if (!rows) {
        req_fail(r, 503, "database_unavailable", NULL, _("The database is not available."));
        return NULL;
    }
    json_t *config = NULL;
    if (rows->nrows == 1 && (rbac_may_touch(r->user, db_cell_int(rows, 0, 1, 0)) ||
                             (!to_change && db_cell_int(rows, 0, 3, 0))))
        config = config_from_row(rows, 0);
    else
        req_fail(r, 404, "not_found", NULL, _("There is no such install config."));
    db_rows_free(rows);
    return config;
}

static const struct list_sort config_sorts[] = {
    { "name", "c.name" }, { "id", "c.id" }, { "created_at", "c.created_at", true }, { NULL },
};

static int configs_list(struct req *r)
{
    struct list_query q;
    if (list_query_parse(r, config_sorts, &q) < 0)
        return -1;
    long long me = r->user->role == ROLE_ADMIN ? 0 : r->user->id;
    return list_run(r, &q, CONFIG_COLUMNS,
                    "FROM install_configs c WHERE (? = 0 OR c.owner_id = ? OR c.shared = 1) "
                    "AND (? IS NULL OR c.name LIKE ?)",
                    DB_PARAMS(DB_INT(me), DB_INT(me), DB_TEXT(q.like), DB_TEXT(q.like)),
                    config_from_row);
}

static int configs_show(struct req *r)
{
    json_t *config = config_visible(r, req_param(r, "id")->num, false);
    if (!config)
        return -1;
    req_set_object(r, "install_config", config);
    return 0;
}

static int configs_create(struct req *r)
{
    bool shared = json_is_true(json_object_get(r->input, "shared"));
    if (shared && r->user->role != ROLE_ADMIN)
        return req_fail(r, 403, "forbidden", "shared", _("Only an administrator shares install configs."));
    json_t *install = json_object_get(r->input, "install");
    r->audit_detail = json_pack("{s:s, s:b}", "name", input_str(r, "name"), "shared", shared);
    /* Checked as a create would check it, so a saved config always works. */
    struct install_form form;
    char *rendered = NULL;
    int rc = install_form_resolve(install, 0, r->user, &form, &r->err);
    if (rc == 0 && !(rendered = install_form_render(&form, &r->err)))
        rc = -1;
    json_t *body = rc == 0 ? install_config_body(install, &form) : NULL;
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    install_form_clear(&form);
    g_free(rendered);
    json_decref(body);
    if (rc < 0)
        return -1;
    long long id = 0;
    rc = db_exec_id("INSERT INTO install_configs (owner_id, name, shared, body) VALUES (?, ?, ?, ?)",
                    &id, DB_INT(r->user->id), DB_TEXT(input_str(r, "name")), DB_INT(shared),
                    DB_TEXT(text));
    free(text);
    if (rc < 0)
        return db_errno() == DB_ER_DUP_ENTRY ? req_fail(r, 409, "name_taken", "name",
                                         _("You already have an install config of that name."))
                              : req_fail(r, 503, "database_unavailable", NULL,
                                         _("The database is not available."));
    r->audit_target_id = id;
    json_t *config = config_visible(r, id, false);
    if (!config)
        return -1;
    r->status = 201;
    req_set_object(r, "install_config", config);
    r->location = g_strdup_printf("/install-configs/%lld", id);
    return 0;
}

static int configs_delete(struct req *r)
{
    long long id = req_param(r, "id")->num;
    json_t *config = config_visible(r, id, true);
    if (!config)
        return -1;
    r->audit_target_id = id;
    r->audit_detail = json_pack("{s:O}", "name", json_object_get(config, "name"));
    json_decref(config);
    if (db_exec("DELETE FROM install_configs WHERE id = ?", DB_INT(id)) < 0)
        return req_fail(r, 503, "database_unavailable", NULL, _("The database is not available."));
    req_set_object(r, "install_config", json_pack("{s:b}", "deleted", 1));
    return 0;
}

static const struct field create_fields[] = {
    { "name", FIELD_NAME, true, 1, 64, NULL },
    { "shared", FIELD_BOOL },
    { "install", FIELD_FREE_OBJECT, true, 1, 9 },
    { NULL },
};

static const struct route routes[] = {
    { "GET", "/install-configs", configs_list, PERM_USER, ROUTE_API,
      .summary = "Saved install configs the caller may use (own and shared)", .reply = REPLY_LIST,
      .statuses = STATUSES(400) },
    { "POST", "/install-configs", configs_create, PERM_USER, ROUTE_API, NULL, NULL, create_fields,
      "install_config.create",
      .summary = "Save an install config (checked as a VM create checks its install)",
      .reply = REPLY_CREATED, .statuses = STATUSES(403, 409, 422) },
    { "GET", "/install-configs/{id:int}", configs_show, PERM_USER, ROUTE_API,
      .summary = "Show a saved install config", .reply = REPLY_OBJECT, .statuses = STATUSES(404) },
    { "DELETE", "/install-configs/{id:int}", configs_delete, PERM_USER, ROUTE_API, NULL, NULL, NULL,
      "install_config.delete",
      .summary = "Delete a saved install config (its owner or an admin)", .reply = REPLY_OBJECT,
      .statuses = STATUSES(404) },
    { NULL },
};

int main(int argc, char **argv)
{
    return app_run(argv[0], routes);
}
