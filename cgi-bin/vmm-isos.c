/* vmm-isos: the ISO library. Public ISOs are everyone's to use and the
 * admins' to manage; a user's own uploads are private to them. Uploading
 * is vmm-uploads (tus); the files are the helper's, so deleting and
 * verifying go through it. */
#include <string.h>

#include "app.h"
#include "audit.h"
#include "db.h"
#include "helper_client.h"
#include "i18n.h"
#include "list.h"
#include "user.h"

#define ISO_COLUMNS                                                                            \
    "id, name, size_bytes, md5, sha256, volume_label, status, visibility, owner_id, "          \
    "DATE_FORMAT(created_at, '%Y-%m-%dT%TZ'), "                                                \
    "(SELECT GROUP_CONCAT(v.id ORDER BY v.id) FROM vms v WHERE v.iso_id = isos.id), arch"

/* "3,7" -> [3, 7] */
static json_t *id_list(const char *text)
{
    json_t *ids = json_array();
    gchar **parts = text ? g_strsplit(text, ",", -1) : NULL;
    for (int i = 0; parts && parts[i]; i++)
        json_array_append_new(ids, json_integer(g_ascii_strtoll(parts[i], NULL, 10)));
    g_strfreev(parts);
    return ids;
}

static json_t *iso_from_row(const struct db_rows *rows, int i)
{
    json_t *iso = json_pack(
        "{s:I, s:s, s:I, s:s, s:s, s:s, s:s, s:s, s:o, s:s, s:o}",
        "id", (json_int_t)db_cell_int(rows, i, 0, 0), "name", db_cell(rows, i, 1),
        "size_bytes", (json_int_t)db_cell_int(rows, i, 2, 0), "md5", db_cell(rows, i, 3),
        "sha256", db_cell(rows, i, 4), "volume_label", db_cell(rows, i, 5),
        "status", db_cell(rows, i, 6), "visibility", db_cell(rows, i, 7),
        "owner_id", db_cell(rows, i, 8) ? json_integer(db_cell_int(rows, i, 8, 0)) : json_null(),
        "created_at", db_cell(rows, i, 9), "in_use_by", id_list(db_cell(rows, i, 10)));
    json_object_set_new(iso, "in_use", json_boolean(json_array_size(json_object_get(iso, "in_use_by"))));
    json_object_set_new(iso, "arch", json_string(db_cell(rows, i, 11)));
    return iso;
}

/* The ISO if the caller may see it (public, theirs, or an admin). */
static json_t *iso_visible(struct req *r, long long id)
{
    return list_one(r, db_query("SELECT " ISO_COLUMNS " FROM isos WHERE id = ? AND "
                                "(? = 1 OR visibility = 'public' OR owner_id = ?)",
                                DB_INT(id), DB_INT(r->user->role == ROLE_ADMIN),
                                DB_INT(r->user->id)),
                    iso_from_row, _("There is no such ISO."));
}

static const char *const arches[] = { "x86_64", "aarch64", NULL };

static const struct list_sort iso_sorts[] = {
    { "name", "name" }, { "created_at", "created_at" }, { "size_bytes", "size_bytes" },
    { "id", "id" }, { NULL },
};

static int isos_list(struct req *r)
{
    struct list_query q;
    if (list_query_parse(r, iso_sorts, &q) < 0)
        return -1;
    int admin = r->user->role == ROLE_ADMIN;
    const char *arch = req_query(r, "arch");
    if (arch && strcmp(arch, "x86_64") && strcmp(arch, "aarch64")) {
        list_query_free(&q);
        return req_fail(r, 400, "invalid_parameter", "arch", _("arch must be x86_64 or aarch64."));
    }
    return list_run(r, &q, ISO_COLUMNS,
                    "FROM isos WHERE (? = 1 OR visibility = 'public' OR owner_id = ?) "
                    "AND (? IS NULL OR name LIKE ?) AND (? IS NULL OR arch = ?)",
                    DB_PARAMS(DB_INT(admin), DB_INT(r->user->id), DB_TEXT(q.like),
                              DB_TEXT(q.like), DB_TEXT(arch), DB_TEXT(arch)),
                    iso_from_row);
}

static int isos_show(struct req *r)
{
    r->data = iso_visible(r, req_param(r, "id")->num);
    return r->data ? 0 : -1;
}

/* Its uploader or an admin corrects what the ISO boots (detection sees
 * only the boot entries and EFI loaders). */
static int isos_update(struct req *r)
{
    long long id = req_param(r, "id")->num;
    json_t *before = iso_visible(r, id);
    if (!before)
        return -1;
    json_t *owner = json_object_get(before, "owner_id");
    if (r->user->role != ROLE_ADMIN && json_integer_value(owner) != r->user->id) {
        json_decref(before);
        return req_fail(r, 403, "forbidden", NULL, _("You may not change this ISO."));
    }
    const char *arch = input_str(r, "arch");
    if (arch && db_exec("UPDATE isos SET arch = ? WHERE id = ?", DB_TEXT(arch), DB_INT(id)) < 0) {
        json_decref(before);
        return fail_db(r);
    }
    r->data = iso_visible(r, id);
    if (r->data)
        audit_changes_between(r, before, r->data, NULL);
    json_decref(before);
    r->location = g_strdup_printf("/isos/%lld", id);
    return r->data ? 0 : -1;
}

/* Asks the helper to do op to ISO id, which the caller must see; its
 * answer, or NULL with r->err. */
static json_t *iso_helper_call(struct req *r, long long id, const char *op)
{
    json_t *iso = iso_visible(r, id);
    if (!iso)
        return NULL;
    json_decref(iso);
    json_t *args = json_pack("{s:I}", "iso_id", (json_int_t)id);
    json_t *done = helper_call(r, op, args);
    json_decref(args);
    return done;
}

static int isos_delete(struct req *r)
{
    long long id = req_param(r, "id")->num;
    json_t *done = iso_helper_call(r, id, "iso.delete");
    if (!done)
        return -1;
    json_decref(done);
    r->location = g_strdup("/isos");
    r->data = json_pack("{s:I, s:b}", "id", (json_int_t)id, "deleted", 1);
    return 0;
}

static json_t *job_brief(long long id)
{
    struct db_rows *rows = db_query("SELECT id, kind, state, progress FROM jobs WHERE id = ?",
                                    DB_INT(id));
    json_t *job = rows && rows->nrows == 1
                      ? json_pack("{s:I, s:s, s:s, s:i}", "id", (json_int_t)id, "kind",
                                  db_cell(rows, 0, 1), "state", db_cell(rows, 0, 2), "progress",
                                  (int)db_cell_int(rows, 0, 3, 0))
                      : json_pack("{s:I}", "id", (json_int_t)id);
    db_rows_free(rows);
    return job;
}

static int isos_verify(struct req *r)
{
    long long id = req_param(r, "id")->num;
    json_t *done = iso_helper_call(r, id, "iso.verify");
    if (!done)
        return -1;
    long long job_id = json_integer_value(json_object_get(done, "job_id"));
    json_decref(done);
    r->status = 202;
    r->location = g_strdup_printf("/jobs/%lld", job_id);
    /* The ISO the job checks is the answer; the job is its meta. */
    json_t *iso = iso_visible(r, id);
    if (!iso)
        return -1;
    req_set_object(r, "iso", iso);
    req_set_job(r, job_brief(job_id));
    return 0;
}

static const struct field update_fields[] = {
    { .name = "arch", .type = FIELD_ENUM, .choices = arches },
    { NULL },
};

static const struct route routes[] = {
    { "GET", "/isos", isos_list, PERM_USER, ROUTE_BOTH, "isos.tpl", N_("ISO images"),
      .summary = "List ISOs", .reply = REPLY_LIST },
    { "GET", "/isos/{id:int}", isos_show, PERM_USER, ROUTE_BOTH, "iso.tpl", N_("ISO image"),
      .summary = "Show an ISO", .reply = REPLY_OBJECT,
      .statuses = STATUSES(404) },
    { "PATCH", "/isos/{id:int}", isos_update, PERM_USER, ROUTE_API, NULL, NULL, update_fields,
      "iso.update",
      .summary = "Set an ISO's architecture (its owner or an admin)", .reply = REPLY_OBJECT,
      .statuses = STATUSES(400, 403, 404) },
    { "POST", "/isos/{id:int}", isos_update, PERM_USER, ROUTE_PAGE, NULL, NULL, update_fields,
      "iso.update" },
    { "DELETE", "/isos/{id:int}", isos_delete, PERM_USER, ROUTE_API, NULL, NULL, NULL,
      "iso.delete",
      .summary = "Delete an ISO (409 while a VM uses it)", .reply = REPLY_OBJECT,
      .statuses = STATUSES(404, 409, 422, 502) },
    { "POST", "/isos/{id:int}/delete", isos_delete, PERM_USER, ROUTE_PAGE, NULL, NULL, NULL,
      "iso.delete" },
    { "POST", "/isos/{id:int}/verify", isos_verify, PERM_USER, ROUTE_BOTH, NULL, NULL, NULL,
      "iso.verify",
      .summary = "Check an ISO's file against its recorded checksums", .reply = REPLY_JOB,
      .statuses = STATUSES(404, 409, 422, 502) },
    { NULL },
};

int main(int argc, char **argv)
{
    return app_run(argv[0], routes);
}
