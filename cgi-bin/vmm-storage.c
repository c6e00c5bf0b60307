/* vmm-storage: storage pools (dir, logical, netfs) and their volumes, for
 * administrators. A pool operation runs in the helper as a job with a
 * deadline (an NFS server that is down never hangs a request): create,
 * start, stop, refresh and delete answer 202 with the job, and so do a
 * volume's create, resize and delete (libvirt's volumes); what the helper
 * can refuse without waiting on the storage it refuses at once. */
#include <stdint.h>
#include <string.h>

#include "app.h"
#include "audit.h"
#include "db.h"
#include "helper_client.h"
#include "i18n.h"
#include "ipv4.h"
#include "list.h"
#include "storage_path.h"

#define POOL_COLUMNS                                                                        \
    "id, name, type, path, source_host, source_path, source_name, autostart, "             \
    "DATE_FORMAT(created_at, '%Y-%m-%dT%TZ'), users_allowed"

static json_t *pool_from_row(const struct db_rows *rows, int i)
{
    return json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:s, s:b}", "id",
                     (json_int_t)db_cell_int(rows, i, 0, 0), "name", db_cell(rows, i, 1), "type",
                     db_cell(rows, i, 2), "path", db_cell(rows, i, 3), "source_host",
                     db_cell(rows, i, 4), "source_path", db_cell(rows, i, 5), "source_name",
                     db_cell(rows, i, 6), "autostart", db_cell_int(rows, i, 7, 0) != 0,
                     "created_at", db_cell(rows, i, 8), "users_allowed",
                     db_cell_int(rows, i, 9, 0) != 0);
}

/* libvirt's figures for the pool (state, capacity, allocation, free), or
 * "unknown" when the helper cannot say. */
static void add_figures(json_t *pool, json_t *figures)
{
    const char *state = json_string_value(json_object_get(figures, "state"));
    json_object_set_new(pool, "state", json_string(state ? state : "unknown"));
    const char *keys[] = { "capacity_bytes", "allocation_bytes", "available_bytes" };
    for (size_t k = 0; k < G_N_ELEMENTS(keys); k++) {
        json_t *v = json_object_get(figures, keys[k]);
        json_object_set_new(pool, keys[k], json_is_integer(v) ? json_incref(v) : json_null());
    }
    json_t *capacity = json_object_get(figures, "capacity_bytes");
    json_t *allocation = json_object_get(figures, "allocation_bytes");
    long long c = json_integer_value(capacity), a = json_integer_value(allocation);
    json_object_set_new(pool, "usage_percent", json_integer(c > 0 ? a * 100 / c : 0));
    json_object_set_new(pool, "capacity_gb", json_integer(c >> 30));
    json_object_set_new(pool, "available_gb",
                        json_integer(json_integer_value(json_object_get(figures, "available_bytes")) >> 30));
}

static json_t *pool_load(struct req *r, long long id)
{
    return list_one(r, db_query("SELECT " POOL_COLUMNS " FROM storage_pools WHERE id = ?",
                                DB_INT(id)),
                    pool_from_row, _("There is no such storage pool."));
}

static json_t *pool_states(struct req *r)
{
    json_t *states = helper_call(r, "storage.states", NULL);
    memset(&r->err, 0, sizeof r->err);
    return states;
}

static json_t *pool_visible(struct req *r, long long id)
{
    json_t *pool = pool_load(r, id);
    if (!pool)
        return NULL;
    json_t *states = pool_states(r);
    char key[24];
    snprintf(key, sizeof key, "%lld", id);
    add_figures(pool, json_object_get(states, key));
    json_decref(states);
    return pool;
}

static const struct list_sort pool_sorts[] = {
    { "name", "name" }, { "id", "id" }, { "created_at", "created_at" }, { NULL },
};

static int pools_list(struct req *r)
{
    struct list_query q;
    if (list_query_parse(r, pool_sorts, &q) < 0)
        return -1;
    if (list_run(r, &q, POOL_COLUMNS, "FROM storage_pools WHERE (? IS NULL OR name LIKE ? OR path LIKE ?)",
                 DB_PARAMS(DB_TEXT(q.like), DB_TEXT(q.like), DB_TEXT(q.like)), pool_from_row) < 0)
        return -1;
    json_t *states = pool_states(r);
    size_t i;
    json_t *pool;
    json_array_foreach(r->data, i, pool) {
        char key[24];
        snprintf(key, sizeof key, "%lld", (long long)json_integer_value(json_object_get(pool, "id")));
        add_figures(pool, json_object_get(states, key));
    }
    json_decref(states);
    return 0;
}

static json_t *volumes_of(struct req *r, long long id)
{
    json_t *args = json_pack("{s:I}", "pool_id", (json_int_t)id);
    json_t *volumes = helper_call(r, "storage.volumes", args);
    json_decref(args);
    return volumes;
}

static int pools_show(struct req *r)
{
    long long id = req_param(r, "id")->num;
    json_t *pool = pool_visible(r, id);
    if (!pool)
        return -1;
    /* The page shows the pool even when its volumes cannot be listed. */
    json_t *volumes = !strcmp(json_string_value(json_object_get(pool, "state")), "active")
                          ? volumes_of(r, id) : NULL;
    if (!volumes && r->err.status)
        json_object_set_new(pool, "volumes_error", json_string(r->err.message));
    memset(&r->err, 0, sizeof r->err);
    json_object_set_new(pool, "volumes", volumes ? volumes : json_array());
    req_set_object(r, "storage_pool", pool);
    return 0;
}

/* The job a pool operation started, as the 202 answer names it. */
static int answer_job(struct req *r, long long id, json_t *done, bool gone)
{
    long long job_id = json_integer_value(json_object_get(done, "job_id"));
    const char *kind = json_string_value(json_object_get(done, "kind"));
    json_t *job = json_pack("{s:I, s:s, s:s}", "id", (json_int_t)job_id, "kind", kind ? kind : "",
                            "state", "running");
    json_decref(done);
    json_t *pool = gone ? NULL : pool_load(r, id);
    r->status = 202;
    if (pool)
        req_set_object(r, "storage_pool", pool);
    req_set_job(r, job);
    r->location = g_strdup_printf("/jobs/%lld", job_id);
    return 0;
}

static bool host_name_valid(const char *host)
{
    size_t n = host ? strlen(host) : 0;
    if (n < 1 || n > 253 || host[0] == '-' || host[0] == '.')
        return false;
    for (const char *c = host; *c; c++)
        if (!g_ascii_isalnum(*c) && *c != '-' && *c != '.')
            return false;
    return true;
}

/* An NFS export as the server names it: absolute, plain components. */
static bool export_path_valid(const char *path)
{
    if (path[0] != '/' || strstr(path, "//") || strlen(path) > 200)
        return false;
    gchar **parts = g_strsplit(path + 1, "/", -1);
    bool ok = true;
    for (gchar **p = parts; *p && ok; p++) {
        ok = strcmp(*p, "..") && strcmp(*p, ".");
        for (const char *c = *p; *c && ok; c++)
            ok = g_ascii_isalnum(*c) || *c == '.' || *c == '_' || *c == '-';
    }
    g_strfreev(parts);
    return ok;
}

static int pools_create(struct req *r)
{
    const char *name = input_str(r, "name"), *type = input_str(r, "type");
    const char *path = input_str(r, "path") ?: "", *host = input_str(r, "source_host") ?: "";
    const char *source = input_str(r, "source_path") ?: "";
    const char *vg = input_str(r, "source_name") ?: name;
    char why[256], *vg_path = NULL;
    r->audit_detail = json_pack("{s:s, s:s, s:s}", "name", name, "type", type, "path", path);
    if (!net_name_valid(name))
        return req_fail(r, 400, "invalid_name", "name",
                        _("A pool name is 1-48 letters, digits, '-', '_' or '.', starting with a "
                          "letter or digit."));
    if (!strcmp(type, "logical")) {
        if (!net_name_valid(vg))
            return req_fail(r, 400, "invalid_name", "source_name",
                            _("A volume group name is 1-48 letters, digits, '-', '_' or '.'."));
        if (*source && !path_under(source, "/dev"))
            return req_fail(r, 400, "invalid_device", "source_path",
                            _("The volume group's device is a block device under /dev."));
        vg_path = g_strdup_printf("/dev/%s", vg);
        path = vg_path;
    } else {
        if (!*path)
            return req_fail(r, 400, "missing_field", "path", _("Give the pool's directory."));
        if (!storage_path_allowed(path, why, sizeof why))
            return req_fail(r, 422, "path_not_allowed", "path", "%s", why);
        if (!strcmp(type, "netfs") && !*host)
            return req_fail(r, 400, "missing_field", "source_host",
                            _("An NFS pool needs the server's name or address."));
        if (!strcmp(type, "netfs") && !host_name_valid(host))
            return req_fail(r, 400, "invalid_host", "source_host",
                            _("The NFS server is a host name or an IPv4 address."));
        if (!strcmp(type, "netfs") && !*source)
            return req_fail(r, 400, "missing_field", "source_path",
                            _("An NFS pool needs the exported directory."));
        if (!strcmp(type, "netfs") && !export_path_valid(source))
            return req_fail(r, 400, "invalid_export", "source_path",
                            _("The NFS export is an absolute path of letters, digits, '.', '_' "
                              "and '-' (no '..')."));
        if (strcmp(type, "netfs") && (*host || *source))
            return req_fail(r, 400, "invalid_choice", "source_host",
                            _("Only NFS and LVM pools have a source."));
        vg = "";
    }
    struct db_rows *rows = db_query("SELECT name, path FROM storage_pools");
    if (!rows) {
        g_free(vg_path);
        return fail_db(r);
    }
    int rc = 0;
    for (int i = 0; i < rows->nrows && rc == 0; i++)
        if (path_under(path, db_cell(rows, i, 1)) || path_under(db_cell(rows, i, 1), path))
            rc = req_fail(r, 409, "path_in_use", "path", _("The pool %s is already at %s."),
                          db_cell(rows, i, 0), db_cell(rows, i, 1));
    db_rows_free(rows);
    long long id = 0;
    if (rc == 0 &&
        db_exec_id("INSERT INTO storage_pools (name, type, path, source_host, source_path, "
                   "source_name, autostart, users_allowed) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", &id,
                   DB_TEXT(name), DB_TEXT(type), DB_TEXT(path), DB_TEXT(host), DB_TEXT(source),
                   DB_TEXT(vg), DB_INT(!json_is_false(json_object_get(r->input, "autostart"))),
                   DB_INT(json_is_true(json_object_get(r->input, "users_allowed")))) < 0)
        rc = db_errno() == 1062 ? req_fail(r, 409, "name_taken", "name",
                                           _("A storage pool with this name exists."))
                                : fail_db(r);
    g_free(vg_path);
    if (rc < 0)
        return -1;
    r->audit_target_id = id;
    json_t *args = json_pack("{s:I}", "pool_id", (json_int_t)id);
    json_t *done = helper_call(r, "storage.create", args);
    json_decref(args);
    if (!done) {
        db_exec("DELETE FROM storage_pools WHERE id = ?", DB_INT(id));
        return -1;
    }
    return answer_job(r, id, done, false);
}

/* PATCH: autostart, and whether users may place disks in the pool
 * (users_allowed; the portal's own, no libvirt call). Where a pool is,
 * and its kind, do not change. */
static int pools_update(struct req *r)
{
    long long id = req_param(r, "id")->num;
    json_t *before = pool_load(r, id);
    if (!before)
        return -1;
    json_t *autostart = json_object_get(r->input, "autostart");
    json_t *users = json_object_get(r->input, "users_allowed");
    r->audit_detail = json_pack("{s:O, s:O}", "before", before, "changes", r->input);
    if (users && db_exec("UPDATE storage_pools SET users_allowed = ? WHERE id = ?",
                         DB_INT(json_is_true(users)), DB_INT(id)) < 0) {
        json_decref(before);
        return fail_db(r);
    }
    if (autostart) {
        if (db_exec("UPDATE storage_pools SET autostart = ? WHERE id = ?",
                    DB_INT(json_is_true(autostart)), DB_INT(id)) < 0) {
            json_decref(before);
            return fail_db(r);
        }
        json_t *args = json_pack("{s:I}", "pool_id", (json_int_t)id);
        json_t *done = helper_call(r, "storage.update", args);
        json_decref(args);
        if (!done) {
            db_exec("UPDATE storage_pools SET autostart = ? WHERE id = ?",
                    DB_INT(json_is_true(json_object_get(before, "autostart"))), DB_INT(id));
            json_decref(before);
            return -1;
        }
        json_decref(done);
    }
    json_t *pool = pool_visible(r, id);
    if (pool)
        audit_changes_between(r, before, pool, NULL);
    json_decref(before);
    if (!pool)
        return -1;
    req_set_object(r, "storage_pool", pool);
    return 0;
}

static int pools_delete(struct req *r)
{
    long long id = req_param(r, "id")->num;
    json_t *pool = pool_load(r, id);
    if (!pool)
        return -1;
    json_decref(pool);
    json_t *args = json_pack("{s:I}", "pool_id", (json_int_t)id);
    json_t *done = helper_call(r, "storage.delete", args);
    json_decref(args);
    return done ? answer_job(r, id, done, false) : -1;
}

static int pools_action(struct req *r)
{
    const char *action = req_param(r, "action")->text;
    long long id = req_param(r, "id")->num;
    if (strcmp(action, "start") && strcmp(action, "stop") && strcmp(action, "refresh"))
        return req_fail(r, 404, "not_found", NULL, _("There is nothing at this address."));
    r->audit_action = !strcmp(action, "start")  ? "storage_pool.start"
                      : !strcmp(action, "stop") ? "storage_pool.stop"
                                                : "storage_pool.refresh";
    json_t *pool = pool_load(r, id);
    if (!pool)
        return -1;
    json_decref(pool);
    char op[32];
    snprintf(op, sizeof op, "storage.%s", action);
    json_t *args = json_pack("{s:I}", "pool_id", (json_int_t)id);
    json_t *done = helper_call(r, op, args);
    json_decref(args);
    return done ? answer_job(r, id, done, false) : -1;
}

static int volumes_list(struct req *r)
{
    long long id = req_param(r, "id")->num;
    json_t *pool = pool_load(r, id);
    if (!pool)
        return -1;
    json_decref(pool);
    json_t *volumes = volumes_of(r, id);
    if (!volumes)
        return -1;
    list_reply(r, volumes, (long long)json_array_size(volumes),
               &(struct list_query){ .page = 1, .per_page = LIST_MAX_PER_PAGE });
    return 0;
}

/* A volume create, resize or delete: the helper refuses at once what it
 * can tell without waiting on the storage, else starts the job (202). */
static int volume_job(struct req *r, const char *op, json_t *args)
{
    long long id = req_param(r, "id")->num;
    json_t *pool = pool_load(r, id);
    if (!pool) {
        json_decref(args);
        return -1;
    }
    json_decref(pool);
    json_object_set_new(args, "pool_id", json_integer(id));
    r->audit_detail = json_deep_copy(args);
    json_t *done = helper_call(r, op, args);
    json_decref(args);
    return done ? answer_job(r, id, done, false) : -1;
}

static int volumes_create(struct req *r)
{
    if (!net_name_valid(input_str(r, "name")))
        return req_fail(r, 400, "invalid_name", "name",
                        _("A volume name is 1-48 letters, digits, '-', '_' or '.', starting with "
                          "a letter or digit."));
    json_t *args = json_pack("{s:s, s:I}", "name", input_str(r, "name"), "capacity_gb",
                             (json_int_t)input_int(r, "capacity_gb", 1));
    if (input_str(r, "format"))
        json_object_set_new(args, "format", json_string(input_str(r, "format")));
    return volume_job(r, "storage.volume_create", args);
}

static int volumes_resize(struct req *r)
{
    return volume_job(r, "storage.volume_resize",
                      json_pack("{s:s, s:I}", "name", req_param(r, "name")->text, "capacity_gb",
                                (json_int_t)input_int(r, "capacity_gb", 1)));
}

static int volumes_delete(struct req *r)
{
    return volume_job(r, "storage.volume_delete",
                      json_pack("{s:s}", "name", req_param(r, "name")->text));
}

/* Administrators only (volumes are theirs; a VM's owner downloads what
 * the portal lets them, templates and backups, not pool files). The
 * helper checks the volume (a plain file in a file-backed pool, no
 * running guest writing it) and lets nginx's user read it; nginx sends
 * it (X-Accel-Redirect to an internal location): this program never
 * opens the file. */
static int volumes_download(struct req *r)
{
    long long id = req_param(r, "id")->num;
    const char *name = req_param(r, "name")->text;
    json_t *pool = pool_load(r, id);
    if (!pool)
        return -1;
    json_decref(pool);
    if (!net_name_valid(name))
        return req_fail(r, 404, "not_found", NULL, _("The pool has no such volume."));
    json_t *args = json_pack("{s:I, s:s}", "pool_id", (json_int_t)id, "name", name);
    json_t *file = helper_call(r, "storage.volume_download", args);
    json_decref(args);
    if (!file)
        return -1;
    const char *path = json_string_value(json_object_get(file, "path"));
    char why[256];
    int rc = 0;
    if (!path || !storage_path_allowed(path, why, sizeof why)) {
        rc = req_fail(r, 409, "not_a_file", NULL, _("This volume cannot be sent."));
    } else {
        char *accel = g_strdup_printf("/_files/storage%s", path);
        char *disposition = g_strdup_printf("attachment; filename=\"%s\"", name);
        resp_header(r, "X-Accel-Redirect", accel);
        resp_header(r, "Content-Disposition", disposition);
        g_free(accel);
        g_free(disposition);
        /* The answer is the file's headers only (as a template's). */
        r->resp_type = "application/octet-stream";
        r->resp_raw = true;
        g_string_truncate(r->resp_body, 0);
    }
    json_decref(file);
    return rc;
}

static const char *const types[] = { "dir", "logical", "netfs", NULL };
static const char *const formats[] = { "qcow2", "raw", NULL };

static const struct field create_fields[] = {
    { "name", FIELD_STRING, true, 1, 48, NULL },
    { "type", FIELD_ENUM, true, 0, 0, types },
    { "path", FIELD_STRING, false, 0, 200, NULL },
    { "source_host", FIELD_STRING, false, 0, 253, NULL },
    { "source_path", FIELD_STRING, false, 0, 200, NULL },
    { "source_name", FIELD_STRING, false, 1, 48, NULL },
    { "autostart", FIELD_BOOL },
    { "users_allowed", FIELD_BOOL },
    { NULL },
};
static const struct field update_fields[] = {
    { "autostart", FIELD_BOOL }, { "users_allowed", FIELD_BOOL }, { NULL },
};
static const struct field volume_fields[] = {
    { "name", FIELD_STRING, true, 1, 48, NULL },
    { "capacity_gb", FIELD_INT, true, 1, 65536, NULL },
    { "format", FIELD_ENUM, false, 0, 0, formats },
    { NULL },
};
static const struct field resize_fields[] = {
    { "capacity_gb", FIELD_INT, true, 1, 65536, NULL }, { NULL },
};
static const struct field no_fields[] = { { NULL } };

static const struct route routes[] = {
    { "GET", "/storage-pools", pools_list, PERM_ADMIN, ROUTE_BOTH, "storage_pools.tpl",
      N_("Storage pools"),
      .summary = "List storage pools", .reply = REPLY_LIST,
      .statuses = STATUSES(502) },
    { "POST", "/storage-pools", pools_create, PERM_ADMIN, ROUTE_BOTH, NULL, NULL, create_fields,
      "storage_pool.create",
      .summary = "Create a storage pool", .reply = REPLY_JOB,
      .statuses = STATUSES(400, 404, 409, 422, 502) },
    { "GET", "/storage-pools/{id:int}", pools_show, PERM_ADMIN, ROUTE_BOTH, "storage_pool.tpl",
      N_("Storage pool"),
      .summary = "Show a storage pool", .reply = REPLY_OBJECT,
      .statuses = STATUSES(404, 502) },
    { "PATCH", "/storage-pools/{id:int}", pools_update, PERM_ADMIN, ROUTE_API, NULL, NULL,
      update_fields, "storage_pool.update",
      .summary = "Change a storage pool", .reply = REPLY_OBJECT,
      .statuses = STATUSES(404, 409, 422, 502) },
    { "POST", "/storage-pools/{id:int}", pools_update, PERM_ADMIN, ROUTE_PAGE, NULL, NULL,
      update_fields, "storage_pool.update" },
    { "DELETE", "/storage-pools/{id:int}", pools_delete, PERM_ADMIN, ROUTE_API, NULL, NULL,
      no_fields, "storage_pool.delete",
      .summary = "Delete a storage pool", .reply = REPLY_JOB,
      .statuses = STATUSES(200, 404, 409, 422, 502) },
    { "POST", "/storage-pools/{id:int}/delete", pools_delete, PERM_ADMIN, ROUTE_PAGE, NULL, NULL,
      no_fields, "storage_pool.delete" },
    { "GET", "/storage-pools/{id:int}/volumes", volumes_list, PERM_ADMIN, ROUTE_API,
      .summary = "A pool's volumes (the pool must be running)", .reply = REPLY_LIST,
      .statuses = STATUSES(404, 502) },
    { "POST", "/storage-pools/{id:int}/volumes", volumes_create, PERM_ADMIN, ROUTE_BOTH, NULL,
      NULL, volume_fields, "storage_volume.create",
      .summary = "Create a volume (in a job)", .reply = REPLY_JOB,
      .statuses = STATUSES(400, 404, 409, 422, 502, 504) },
    { "POST", "/storage-pools/{id:int}/volumes/{name}/resize", volumes_resize, PERM_ADMIN,
      ROUTE_BOTH, NULL, NULL, resize_fields, "storage_volume.resize",
      .summary = "Grow a volume (in a job)", .reply = REPLY_JOB,
      .statuses = STATUSES(404, 409, 422, 502, 504) },
    { "GET", "/storage-pools/{id:int}/volumes/{name}/download", volumes_download, PERM_ADMIN,
      ROUTE_BOTH,
      .summary = "Download a volume (sent by nginx)", .reply = REPLY_RAW,
      .statuses = STATUSES(404, 409, 422, 502, 504) },
    { "DELETE", "/storage-pools/{id:int}/volumes/{name}", volumes_delete, PERM_ADMIN, ROUTE_API,
      NULL, NULL, no_fields, "storage_volume.delete",
      .summary = "Delete a volume (in a job)", .reply = REPLY_JOB,
      .statuses = STATUSES(404, 409, 422, 502, 504) },
    { "POST", "/storage-pools/{id:int}/volumes/{name}/delete", volumes_delete, PERM_ADMIN,
      ROUTE_PAGE, NULL, NULL, no_fields, "storage_volume.delete" },
    { "POST", "/storage-pools/{id:int}/{action}", pools_action, PERM_ADMIN, ROUTE_BOTH, NULL, NULL,
      no_fields, "storage_pool.action",
      .summary = "Start, stop or refresh a storage pool", .reply = REPLY_JOB,
      .statuses = STATUSES(200, 404, 409, 422, 502) },
    { NULL },
};

int main(int argc, char **argv)
{
    return app_run(argv[0], routes);
}
