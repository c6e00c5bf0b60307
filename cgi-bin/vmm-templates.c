/* vmm-templates: the template library. Public templates are everyone's
 * to use and the admins' to manage; a user's uploads are private to them.
 * Uploading is vmm-uploads (tus); the files live in the helper's template
 * pool, so deleting goes through the helper, and downloads are sent by
 * nginx (X-Accel-Redirect) once the caller is checked here. */
#include <stdint.h>
#include <string.h>

#include "app.h"
#include "audit.h"
#include "db.h"
#include "helper_client.h"
#include "i18n.h"
#include "list.h"
#include "user.h"

#define TEMPLATE_COLUMNS                                                                      \
    "t.id, t.name, t.category, t.os, t.arch, t.format, t.virtual_size_bytes, t.size_bytes, "  \
    "t.min_vcpus, t.min_memory_mb, t.min_disk_gb, t.description, t.visibility, t.owner_id, "  \
    "t.status, DATE_FORMAT(t.created_at, '%Y-%m-%dT%TZ'), "                                   \
    "(SELECT COUNT(*) FROM vms v WHERE v.template_id = t.id), "                               \
    "(SELECT COUNT(*) FROM vms v WHERE v.template_id = t.id AND v.clone = 'linked'), "        \
    "t.file_name, t.quarantine_reason, t.storage_pool_id, "                                    \
    "(SELECT sp.path FROM storage_pools sp WHERE sp.id = t.storage_pool_id)"

/* Admins see every template; others the public ones and their own. A
 * quarantined template is shown to admins and its owner only, with its
 * reason: for everyone else it is gone from the library. */
#define VISIBLE "(? = 1 OR (t.visibility = 'public' AND t.status <> 'quarantined') OR t.owner_id = ?)"

static json_t *template_from_row(const struct db_rows *rows, int i)
{
    return json_pack(
        "{s:I, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:s, s:s, s:o, s:s, s:s, "
        "s:I, s:I, s:o, s:o}",
        "id", (json_int_t)db_cell_int(rows, i, 0, 0), "name", db_cell(rows, i, 1),
        "category", db_cell(rows, i, 2), "os", db_cell(rows, i, 3), "arch", db_cell(rows, i, 4),
        "format", db_cell(rows, i, 5),
        "virtual_size_bytes", (json_int_t)db_cell_int(rows, i, 6, 0),
        "size_bytes", (json_int_t)db_cell_int(rows, i, 7, 0),
        "min_vcpus", (json_int_t)db_cell_int(rows, i, 8, 0),
        "min_memory_mb", (json_int_t)db_cell_int(rows, i, 9, 0),
        "min_disk_gb", (json_int_t)db_cell_int(rows, i, 10, 0),
        "description", db_cell(rows, i, 11), "visibility", db_cell(rows, i, 12),
        "owner_id", db_cell(rows, i, 13) ? json_integer(db_cell_int(rows, i, 13, 0)) : json_null(),
        "status", db_cell(rows, i, 14), "created_at", db_cell(rows, i, 15),
        "usage_count", (json_int_t)db_cell_int(rows, i, 16, 0),
        "linked_clones", (json_int_t)db_cell_int(rows, i, 17, 0),
        /* The helper's reason is one of lib/image.c's N_() messages. */
        "quarantine_reason", !strcmp(db_cell(rows, i, 14), "quarantined")
                                 ? json_string(_(db_cell(rows, i, 19))) : json_null(),
        /* Issue 12: the storage pool an administrator put it in; null: the portal's. */
        "storage_pool_id", db_cell(rows, i, 20) ? json_integer(db_cell_int(rows, i, 20, 0))
                                                : json_null());
}

/* The template's row if the caller may see it; NULL with a 404 otherwise. */
static struct db_rows *template_row(struct req *r, long long id)
{
    struct db_rows *rows = db_query("SELECT " TEMPLATE_COLUMNS " FROM templates t WHERE t.id = ? "
                                    "AND " VISIBLE, DB_INT(id),
                                    DB_INT(r->user->role == ROLE_ADMIN), DB_INT(r->user->id));
    if (!rows) {
        fail_db(r);
        return NULL;
    }
    if (rows->nrows != 1) {
        db_rows_free(rows);
        req_fail(r, 404, "not_found", NULL, _("There is no such template."));
        return NULL;
    }
    return rows;
}

/* Visible, and the caller's to change (its owner or an admin). */
static struct db_rows *template_mine(struct req *r, long long id)
{
    struct db_rows *rows = template_row(r, id);
    if (rows && r->user->role != ROLE_ADMIN && db_cell_int(rows, 0, 13, 0) != r->user->id) {
        db_rows_free(rows);
        req_fail(r, 403, "forbidden", NULL, _("You may not change this template."));
        return NULL;
    }
    return rows;
}

static const struct list_sort template_sorts[] = {
    { "name", "t.name" }, { "created_at", "t.created_at" }, { "category", "t.category" },
    { "id", "t.id" }, { NULL },
};

static int templates_list(struct req *r)
{
    struct list_query q;
    if (list_query_parse(r, template_sorts, &q) < 0)
        return -1;
    const char *category = req_query(r, "category"), *arch = req_query(r, "arch");
    if (arch && strcmp(arch, "x86_64") && strcmp(arch, "aarch64")) {
        list_query_free(&q);
        return req_fail(r, 400, "invalid_parameter", "arch", _("arch must be x86_64 or aarch64."));
    }
    return list_run(r, &q, TEMPLATE_COLUMNS,
                    "FROM templates t WHERE " VISIBLE " AND (? IS NULL OR t.category = ?) AND "
                    "(? IS NULL OR t.arch = ?) AND (? IS NULL OR t.name LIKE ? OR t.os LIKE ? "
                    "OR t.description LIKE ?)",
                    DB_PARAMS(DB_INT(r->user->role == ROLE_ADMIN), DB_INT(r->user->id),
                              DB_TEXT(category), DB_TEXT(category), DB_TEXT(arch), DB_TEXT(arch),
                              DB_TEXT(q.like), DB_TEXT(q.like), DB_TEXT(q.like), DB_TEXT(q.like)),
                    template_from_row);
}

static int templates_show(struct req *r)
{
    struct db_rows *rows = template_row(r, req_param(r, "id")->num);
    if (!rows)
        return -1;
    r->data = template_from_row(rows, 0);
    /* The page offers its forms to those who may use them. */
    if (!r->api) {
        bool admin = r->user->role == ROLE_ADMIN;
        json_object_set_new(r->data, "may_edit",
                            json_boolean(admin || db_cell_int(rows, 0, 13, 0) == r->user->id));
        json_object_set_new(r->data, "may_publish", json_boolean(admin));
    }
    db_rows_free(rows);
    return 0;
}

static const char *const arches[] = { "x86_64", "aarch64", NULL };
static const char *const visibilities[] = { "public", "private", NULL };
static const struct field update_fields[] = {
    { "name", FIELD_NAME, false, 1, 64 },
    { "category", FIELD_STRING, false, 0, 32 },
    { "os", FIELD_STRING, false, 0, 64 },
    { "arch", FIELD_ENUM, false, 0, 0, arches },
    { "min_vcpus", FIELD_INT, false, 1, 256 },
    { "min_memory_mb", FIELD_INT, false, 16, 1048576 },
    { "min_disk_gb", FIELD_INT, false, 1, 65536 },
    { "description", FIELD_TEXT, false, 0, 2000 },
    { "visibility", FIELD_ENUM, false, 0, 0, visibilities },
    { NULL },
};

/* Writes the fields the request gives; absent ones keep their value. */
static int template_write(struct req *r, long long id)
{
    const char *visibility = input_str(r, "visibility");
    if (visibility && !strcmp(visibility, "public") && r->user->role != ROLE_ADMIN)
        return req_fail(r, 403, "forbidden", "visibility",
                        _("Only administrators publish images to everyone."));
    /* Absent fields keep their value (COALESCE with NULL). */
#define OPT_TEXT(name) DB_TEXT(input_str(r, name))
#define OPT_INT(name) (input_has(r, name) ? DB_INT(input_int(r, name, 0)) : DB_NULL)
    if (db_exec("UPDATE templates SET name = COALESCE(?, name), category = COALESCE(?, category), "
                "os = COALESCE(?, os), arch = COALESCE(?, arch), "
                "min_vcpus = COALESCE(?, min_vcpus), min_memory_mb = COALESCE(?, min_memory_mb), "
                "min_disk_gb = COALESCE(?, min_disk_gb), description = COALESCE(?, description), "
                "visibility = COALESCE(?, visibility) WHERE id = ?",
                OPT_TEXT("name"), OPT_TEXT("category"), OPT_TEXT("os"), OPT_TEXT("arch"),
                OPT_INT("min_vcpus"), OPT_INT("min_memory_mb"), OPT_INT("min_disk_gb"),
                OPT_TEXT("description"), OPT_TEXT("visibility"), DB_INT(id)) < 0)
        return fail_db(r);
#undef OPT_TEXT
#undef OPT_INT
    return 0;
}

static int templates_update(struct req *r)
{
    long long id = req_param(r, "id")->num;
    struct db_rows *rows = template_mine(r, id);
    if (!rows)
        return -1;
    json_t *before = template_from_row(rows, 0);
    db_rows_free(rows);
    int rc = template_write(r, id);
    /* The page's own flags are not the template's. */
    static const char *const not_fields[] = { "may_edit", "may_publish", NULL };
    if (rc == 0 && templates_show(r) == 0)
        audit_changes_between(r, before, r->data, not_fields);
    json_decref(before);
    if (rc < 0 || !r->data)
        return -1;
    r->location = g_strdup_printf("/templates/%lld", id);
    return 0;
}

static int templates_delete(struct req *r)
{
    long long id = req_param(r, "id")->num;
    struct db_rows *rows = template_mine(r, id);
    if (!rows)
        return -1;
    db_rows_free(rows);
    json_t *args = json_pack("{s:I}", "template_id", (json_int_t)id);
    json_t *done = helper_call(r, "template.delete", args);
    json_decref(args);
    if (!done)
        return -1;
    json_decref(done);
    r->location = g_strdup("/templates");
    r->data = json_pack("{s:I, s:b}", "id", (json_int_t)id, "deleted", 1);
    return 0;
}

/* nginx sends the file; the name offered is the template's, made safe. */
static int templates_download(struct req *r)
{
    struct db_rows *rows = template_row(r, req_param(r, "id")->num);
    if (!rows)
        return -1;
    const char *file = db_cell(rows, 0, 18);
    int rc = 0;
    if (!strcmp(db_cell(rows, 0, 14), "quarantined")) {
        rc = req_fail(r, 409, "template_quarantined", NULL,
                      _("This template is quarantined and cannot be downloaded: %s"),
                      _(db_cell(rows, 0, 19)));
    } else if (strcmp(db_cell(rows, 0, 14), "ready") ||
        strspn(file, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") !=
            strlen(file) || file[0] == '.') {
        rc = req_fail(r, 409, "wrong_state", NULL, _("This template cannot be downloaded now."));
    } else {
        GString *name = g_string_new(NULL);
        for (const char *p = db_cell(rows, 0, 1); *p; p++)
            g_string_append_c(name, g_ascii_isalnum(*p) || *p == '-' || *p == '_' ? *p : '_');
        /* One in a storage pool (issue 12) is sent from there, as a volume. */
        const char *pool_dir = db_cell(rows, 0, 21);
        char *accel = pool_dir ? g_strdup_printf("/_files/storage%s/%s", pool_dir, file)
                               : g_strdup_printf("/_files/templates/%s", file);
        char *disposition = g_strdup_printf("attachment; filename=\"%s.%s\"", name->str,
                                            db_cell(rows, 0, 5));
        resp_header(r, "X-Accel-Redirect", accel);
        resp_header(r, "Content-Disposition", disposition);
        g_free(accel);
        g_free(disposition);
        g_string_free(name, TRUE);
        /* The answer is the file's headers only: nginx keeps our
         * Content-Type (not the JSON envelope's) and nosniff for the
         * body it sends, on the page route and the API route alike. */
        r->resp_type = "application/octet-stream";
        r->resp_raw = true;
        g_string_truncate(r->resp_body, 0);
    }
    db_rows_free(rows);
    return rc;
}

static const struct route routes[] = {
    { "GET", "/templates", templates_list, PERM_USER, ROUTE_BOTH, "templates.tpl", N_("Templates"),
      .summary = "List templates (filters: category, arch, q)", .reply = REPLY_LIST,
      .statuses = STATUSES(400) },
    { "GET", "/templates/{id:int}", templates_show, PERM_USER, ROUTE_BOTH, "template.tpl",
      N_("Template"),
      .summary = "Show a template", .reply = REPLY_OBJECT,
      .statuses = STATUSES(404) },
    { "PATCH", "/templates/{id:int}", templates_update, PERM_USER, ROUTE_API, NULL, NULL,
      update_fields, "template.update",
      .summary = "Change a template", .reply = REPLY_OBJECT,
      .statuses = STATUSES(403, 404) },
    { "POST", "/templates/{id:int}", templates_update, PERM_USER, ROUTE_PAGE, NULL, NULL,
      update_fields, "template.update" },
    { "DELETE", "/templates/{id:int}", templates_delete, PERM_USER, ROUTE_API, NULL, NULL, NULL,
      "template.delete",
      .summary = "Delete a template (409 while linked clones depend on it)", .reply = REPLY_OBJECT,
      .statuses = STATUSES(403, 404, 409, 422, 502) },
    { "POST", "/templates/{id:int}/delete", templates_delete, PERM_USER, ROUTE_PAGE, NULL, NULL,
      NULL, "template.delete" },
    { "GET", "/templates/{id:int}/download", templates_download, PERM_USER, ROUTE_BOTH,
      .summary = "Download a template's disk image", .reply = REPLY_RAW,
      .statuses = STATUSES(404, 409) },
    { NULL },
};

int main(int argc, char **argv)
{
    return app_run(argv[0], routes);
}
