/* vmm-host: this host's capabilities (CPUs, memory, the accelerator's
 * verdict and its reason, architectures and machine types), as the helper
 * reads them from libvirt; the reconcile report and its resolution. */
#include "app.h"
#include "hardware.h"
#include "helper_client.h"
#include "db.h"
#include "i18n.h"

#include <string.h>

static int host_show(struct req *r)
{
    json_t *info = helper_call(r, "host.info", NULL);
    if (!info)
        return -1;
    r->data = info;
    return 0;
}

/* What does not match between the database and libvirt (admins). */
static int host_reconcile(struct req *r)
{
    json_t *report = helper_call(r, "host.reconcile", NULL);
    if (!report)
        return -1;
    r->data = report;
    return 0;
}

/* Resolves the rows nothing else will (a creation that did not finish),
 * then reports what still does not match (admins; audited). */
static int host_resolve(struct req *r)
{
    json_t *report = helper_call(r, "host.resolve", NULL);
    if (!report)
        return -1;
    r->audit_detail = json_incref(json_object_get(report, "resolved"));
    r->data = report;
    return 0;
}

/* --- issue 19: the hosts the helper drives (admins). The helper keeps
 * each row current (its monitor); the list reads the rows. */
#define HOST_COLUMNS                                                                        \
    "h.id, h.name, IF(h.id = 1, '', h.uri), h.migration_address, h.state, h.host_uuid, "    \
    "h.hostname, h.libvirt_version, h.cpus, h.memory_mb, h.free_memory_mb, h.accel, "       \
    "h.last_error, DATE_FORMAT(h.checked_at, '%Y-%m-%dT%TZ'), "                             \
    "(SELECT COUNT(*) FROM vms v WHERE v.host_id = h.id), "                                 \
    "(SELECT COALESCE(SUM(v.memory_mb), 0) FROM vms v WHERE v.host_id = h.id AND "          \
    "v.state IN ('running', 'paused')), h.enabled"

static json_t *host_from_row(const struct db_rows *rows, int i)
{
    json_t *host = json_pack("{s:I, s:s, s:s, s:s?, s:s, s:b}", "id",
                             (json_int_t)db_cell_int(rows, i, 0, 0), "name", db_cell(rows, i, 1),
                             "uri", db_cell(rows, i, 2), "migration_address", db_cell(rows, i, 3),
                             "state", db_cell(rows, i, 4), "local", db_cell_int(rows, i, 0, 0) == 1);
    /* What the monitor read, null until it reached the host once. */
    static const struct { int col; const char *key; bool number; } facts[] = {
        { 5, "host_uuid" }, { 6, "hostname" }, { 7, "libvirt_version" }, { 8, "cpus", true },
        { 9, "memory_mb", true }, { 10, "free_memory_mb", true }, { 11, "accel" },
        { 12, "last_error" }, { 13, "checked_at" },
    };
    for (size_t f = 0; f < sizeof facts / sizeof *facts; f++) {
        const char *cell = db_cell(rows, i, facts[f].col);
        json_object_set_new(host, facts[f].key,
                            !cell            ? json_null()
                            : facts[f].number ? json_integer(db_cell_int(rows, i, facts[f].col, 0))
                                              : json_string(cell));
    }
    json_object_set_new(host, "vm_count", json_integer(db_cell_int(rows, i, 14, 0)));
    json_object_set_new(host, "vm_memory_mb", json_integer(db_cell_int(rows, i, 15, 0)));
    json_object_set_new(host, "enabled", json_boolean(db_cell_int(rows, i, 16, 1) != 0));
    json_object_set_new(host, "disabled", json_boolean(db_cell_int(rows, i, 16, 1) == 0));   /* for the page */
    json_object_set_new(host, "removable", json_boolean(db_cell_int(rows, i, 0, 0) != 1));
    json_object_set_new(host, "state_is_up", json_boolean(!strcmp(db_cell(rows, i, 4), "up")));
    json_object_set_new(host, "state_is_down", json_boolean(!strcmp(db_cell(rows, i, 4), "down")));
    return host;
}

static int hosts_list(struct req *r)
{
    struct db_rows *rows = db_query("SELECT " HOST_COLUMNS " FROM hosts h ORDER BY h.id");
    if (!rows)
        return fail_db(r);
    r->data = json_array();
    for (int i = 0; i < rows->nrows; i++)
        json_array_append_new(r->data, host_from_row(rows, i));
    db_rows_free(rows);
    return 0;
}

static int hosts_show(struct req *r)
{
    struct db_rows *rows = db_query("SELECT " HOST_COLUMNS " FROM hosts h WHERE h.id = ?",
                                    DB_INT(req_param(r, "id")->num));
    if (!rows)
        return fail_db(r);
    if (rows->nrows == 1)
        r->data = host_from_row(rows, 0);
    db_rows_free(rows);
    return r->data ? 0 : req_fail(r, 404, "not_found", NULL, _("There is no such host."));
}

/* POST /hosts {name, uri, migration_address}: the helper connects first;
 * a host that does not answer, or is already known, is not added. */
static int hosts_add(struct req *r)
{
    json_t *done = helper_call(r, "host.add", r->input);
    if (!done)
        return -1;
    long long id = json_integer_value(json_object_get(done, "id"));
    json_decref(done);
    r->status = 201;
    r->location = g_strdup_printf("/hosts/%lld", id);
    r->audit_detail = json_pack("{s:O}", "uri", json_object_get(r->input, "uri"));
    struct db_rows *rows = db_query("SELECT " HOST_COLUMNS " FROM hosts h WHERE h.id = ?", DB_INT(id));
    if (!rows)
        return fail_db(r);
    if (rows->nrows == 1)
        req_set_object(r, "host", host_from_row(rows, 0));
    db_rows_free(rows);
    return 0;
}

/* PATCH /hosts/{id} {migration_address, enabled}: where other hosts' QEMU
 * sends this host its incoming migrations (null: the host part of its
 * URI); whether new VMs are placed on it. Either may be left out. */
static int hosts_update(struct req *r)
{
    json_t *addr = json_object_get(r->input, "migration_address");
    json_t *enabled = json_object_get(r->input, "enabled");
    long long id = req_param(r, "id")->num;
    unsigned long long n = 0;
    if (!addr && !enabled)
        return req_fail(r, 400, "missing_field", "enabled",
                        _("Give migration_address or enabled."));
    if (addr && db_exec_count("UPDATE hosts SET migration_address = ? WHERE id = ?", &n,
                              DB_TEXT(json_string_value(addr)), DB_INT(id)) < 0)
        return fail_db(r);
    if (enabled && db_exec_count("UPDATE hosts SET enabled = ? WHERE id = ?", &n,
                                 DB_INT(json_is_true(enabled)), DB_INT(id)) < 0)
        return fail_db(r);
    r->audit_detail = json_pack("{s:O?, s:O?}", "migration_address", addr, "enabled", enabled);
    return hosts_show(r);
}

static int hosts_remove(struct req *r)
{
    json_t *args = json_pack("{s:I}", "host_id", (json_int_t)req_param(r, "id")->num);
    json_t *done = helper_call(r, "host.remove", args);
    json_decref(args);
    if (!done)
        return -1;
    r->data = done;
    r->location = g_strdup("/hosts");
    return 0;
}

static const struct field add_fields[] = {
    { .name = "name", .type = FIELD_NAME, .required = true, .min = 1, .max = 64 },
    { .name = "uri", .type = FIELD_STRING, .required = true, .min = 1, .max = 255 },
    { .name = "migration_address", .type = FIELD_STRING, .min = 1, .max = 64 },
    { NULL },
};
static const struct field update_fields[] = {
    { .name = "migration_address", .type = FIELD_STRING, .min = 1, .max = 64, .nullable = true },
    { .name = "enabled", .type = FIELD_BOOL },
    { NULL },
};
/* --- end issue 19 */

/* GET /host/cpu-models?arch=: the CPU models guests may get (issue 17). */
static int host_cpu_models(struct req *r)
{
    const char *arch = req_query(r, "arch");
    r->data = hardware_cpu_models(r, arch && *arch ? arch : "x86_64");
    return r->data ? 0 : -1;
}

static const struct field no_fields[] = { { NULL } };

static const struct route routes[] = {
    { "GET", "/host", host_show, PERM_USER, ROUTE_BOTH, "host.tpl", N_("Host"),
      .summary = "This host: CPU, memory, disk, accelerator, architectures", .reply = REPLY_OBJECT,
      .statuses = STATUSES(502) },
    { "GET", "/host/reconcile", host_reconcile, PERM_ADMIN, ROUTE_API,
      .summary = "What differs between the database and libvirt", .reply = REPLY_OBJECT,
      .statuses = STATUSES(502) },
    { "GET", "/host/cpu-models", host_cpu_models, PERM_USER, ROUTE_API,
      .summary = "The CPU models guests may get on this host (?arch=)", .reply = REPLY_OBJECT,
      .statuses = STATUSES(502) },
    { "POST", "/host/reconcile", host_resolve, PERM_ADMIN, ROUTE_API, NULL, NULL, no_fields,
      "host.reconcile",
      .summary = "Reconcile the database with libvirt now", .reply = REPLY_OBJECT,
      .statuses = STATUSES(409, 422, 502) },
    { "GET", "/hosts", hosts_list, PERM_ADMIN, ROUTE_BOTH, "hosts.tpl", N_("Hosts"),
      .summary = "The libvirt hosts: state, capacity, version", .reply = REPLY_ITEMS },
    { "POST", "/hosts", hosts_add, PERM_ADMIN, ROUTE_BOTH, NULL, NULL, add_fields, "host.add",
      .summary = "Add a libvirt host by URI", .reply = REPLY_CREATED,
      .statuses = STATUSES(409, 422, 502) },
    { "GET", "/hosts/{id:int}", hosts_show, PERM_ADMIN, ROUTE_API,
      .summary = "One libvirt host", .reply = REPLY_OBJECT },
    { "PATCH", "/hosts/{id:int}", hosts_update, PERM_ADMIN, ROUTE_API, NULL, NULL, update_fields,
      "host.update", .summary = "Change a host's migration address, or whether new VMs go there",
      .reply = REPLY_OBJECT, .statuses = STATUSES(409, 422) },
    { "DELETE", "/hosts/{id:int}", hosts_remove, PERM_ADMIN, ROUTE_API, NULL, NULL, no_fields,
      "host.remove", .summary = "Remove a host that holds no VM", .reply = REPLY_OBJECT,
      .statuses = STATUSES(409) },
    { "POST", "/hosts/{id:int}/delete", hosts_remove, PERM_ADMIN, ROUTE_PAGE, NULL, NULL,
      no_fields, "host.remove" },
    { NULL },
};

int main(int argc, char **argv)
{
    return app_run(argv[0], routes);
}
