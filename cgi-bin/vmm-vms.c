/* vmm-vms: virtual machines. A user sees and acts on their own, an admin
 * on all; anyone else's VM is a 404. The row is ours, the guest is the
 * helper's: create inserts the row and its job (quota checked in the same
 * transaction) and hands the job to the helper, which makes the disk and
 * domain in it; the answer (201, the VM still `creating`, its job named)
 * does not wait for libvirt or QEMU. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "audit.h"
#include "audit_list.h"
#include "audit_text.h"
#include "config.h"
#include "db.h"
#include "graphics.h"
#include "hardware.h"
#include "helper_client.h"
#include "i18n.h"
#include "install_form.h"
#include "ip_alloc.h"
#include "job_text.h"
#include "list.h"
#include "quota.h"
#include "rbac.h"
#include "token.h"
#include "user.h"
#include "vm_error.h"
#include "vm_limits.h"
#include "vm_row.h"


#define VM_COLUMNS                                                                          \
    "id, uuid, name, description, owner_id, state, vcpus, memory_mb, disk_gb, arch, "        \
    "template_id, autostart, DATE_FORMAT(created_at, '%Y-%m-%dT%TZ'), network, cpu_model, iso_id, "  \
    "boot_order, "                                                                           \
    "IF(pending_since > UTC_TIMESTAMP() - INTERVAL " PENDING_STALE_S " SECOND, pending, NULL), " \
    "(SELECT j.progress FROM jobs j WHERE j.vm_id = vms.id AND j.state IN ('queued', 'running') " \
    "ORDER BY j.id DESC LIMIT 1), " VM_NETWORK_IDS ", host_id, "                             \
    "(SELECT h.name FROM hosts h WHERE h.id = vms.host_id), graphics, console_listen, "     \
    "console_keymap, error_reason, error_detail, "                                          \
    "(SELECT GROUP_CONCAT(a.ip ORDER BY a.position) FROM vm_addresses a WHERE a.vm_id = vms.id), " \
    "storage_pool_id, stop_reason"

/* Issue 12: the networks of the VM's NICs in order; a VM without NIC rows
 * is on vms.network alone. */
#define VM_NETWORK_IDS                                                                      \
    "COALESCE((SELECT GROUP_CONCAT(c.network_id ORDER BY c.position) FROM vm_nics c WHERE "  \
    "c.vm_id = vms.id), (SELECT CAST(n.id AS CHAR) FROM networks n WHERE n.name = vms.network))"

/* A transitional state older than this is from a program that died half
 * way: the VM shows its settled state again. */
#define PENDING_STALE_S "600"

/* Issue 15: why a VM is in `error`: a known reason, its message in the
 * reader's language, and libvirt's and QEMU's own words whole (the page
 * keeps them behind a details element). null in any other state. */
static json_t *vm_error_json(const char *state, const char *reason, const char *detail)
{
    if (strcmp(state, "error"))
        return json_null();
    const char *code = reason && *reason ? reason : vm_error_classify(detail);
    return json_pack("{s:s, s:s, s:s}", "reason", code, "message", vm_error_message(code),
                     "detail", detail ? detail : "");
}

/* Why the machine stopped when nobody asked (sql/028_stop_reason.sql), or
 * null. */
static json_t *stop_reason(const char *code)
{
    static const struct { const char *code, *message; } reasons[] = {
        { "guest_panic", N_("Guest kernel panic") },
        { "qemu_failed", N_("QEMU stopped unexpectedly") },
    };
    for (size_t i = 0; code && i < G_N_ELEMENTS(reasons); i++)
        if (!strcmp(code, reasons[i].code))
            return json_pack("{s:s, s:s}", "code", code, "message", _(reasons[i].message));
    return json_null();
}

/* The row's state is where libvirt left the machine; while an action is
 * under way (vms.pending) the VM shows that instead ("stopping"), with the
 * settled one beside it; a VM with a job under way shows its progress. */
static json_t *vm_from_row(const struct db_rows *rows, int i)
{
    json_t *template_id = db_cell(rows, i, 10) ? json_integer(db_cell_int(rows, i, 10, 0))
                                               : json_null();
    json_t *iso_id = db_cell(rows, i, 15) ? json_integer(db_cell_int(rows, i, 15, 0)) : json_null();
    json_t *boot_order = json_array();
    gchar **boot = g_strsplit(db_cell(rows, i, 16) ? db_cell(rows, i, 16) : "", ",", 3);
    for (gchar **b = boot; *b; b++)
        if (**b)
            json_array_append_new(boot_order, json_string(*b));
    g_strfreev(boot);
    json_t *network_ids = json_array();
    gchar **nets = g_strsplit(db_cell(rows, i, 19) ? db_cell(rows, i, 19) : "", ",", 16);
    for (gchar **n = nets; *n; n++)
        if (**n)
            json_array_append_new(network_ids, json_integer(g_ascii_strtoll(*n, NULL, 10)));
    g_strfreev(nets);
    /* Issue 12: what the guest really has, as the helper's address watcher
     * last saw it (helper/addresses.h); never a call to libvirt here. */
    json_t *addresses = json_array();
    gchar **seen = g_strsplit(db_cell(rows, i, 27) ? db_cell(rows, i, 27) : "", ",", 64);
    for (gchar **a = seen; *a; a++)
        if (**a)
            json_array_append_new(addresses, json_string(*a));
    g_strfreev(seen);
    json_t *vm = json_pack("{s:I, s:s, s:s, s:s, s:I, s:s, s:I, s:I, s:I, s:s, s:o, s:o, s:o, s:o, "
                     "s:b, s:s, s:s, s:s, s:o}",
                     "id", (json_int_t)db_cell_int(rows, i, 0, 0), "uuid", db_cell(rows, i, 1),
                     "name", db_cell(rows, i, 2), "description", db_cell(rows, i, 3),
                     "owner_id", (json_int_t)db_cell_int(rows, i, 4, 0), "state", db_cell(rows, i, 5),
                     "vcpus", (json_int_t)db_cell_int(rows, i, 6, 0),
                     "memory_mb", (json_int_t)db_cell_int(rows, i, 7, 0),
                     "disk_gb", (json_int_t)db_cell_int(rows, i, 8, 0), "arch", db_cell(rows, i, 9),
                     "template_id", template_id, "iso_id", iso_id, "network_ids", network_ids,
                     "ip_addresses", addresses,
                     "autostart", db_cell_int(rows, i, 11, 0) != 0, "created_at", db_cell(rows, i, 12),
                     "network", db_cell(rows, i, 13), "cpu_model", db_cell(rows, i, 14),
                     "boot_order", boot_order);
    const char *pending = db_cell(rows, i, 17);
    json_object_set_new(vm, "settled_state", json_string(db_cell(rows, i, 5)));
    /* Issue 12: the storage pool of its first disk; null: the portal's own. */
    json_object_set_new(vm, "storage_pool_id", db_cell(rows, i, 28)
                                                   ? json_integer(db_cell_int(rows, i, 28, 0))
                                                   : json_null());
    if (pending)
        json_object_set_new(vm, "state", json_string(pending));
    json_object_set_new(vm, "in_transition", json_boolean(pending != NULL));
    /* Issue 19: the host the machine is on. */
    json_object_set_new(vm, "host_id", json_integer(db_cell_int(rows, i, 20, 1)));
    json_object_set_new(vm, "host_name", json_string(db_cell(rows, i, 21) ? db_cell(rows, i, 21) : ""));
    json_object_set_new(vm, "progress", db_cell(rows, i, 18)
                                            ? json_integer(db_cell_int(rows, i, 18, 0))
                                            : json_null());
    /* issue 20: VNC or SPICE, where it listens, its keymap (null: QEMU's, en-us). */
    json_object_set_new(vm, "graphics", json_string(db_cell(rows, i, 22)));
    json_object_set_new(vm, "console_listen", json_string(db_cell(rows, i, 23) ? db_cell(rows, i, 23)
                                                                          : GRAPHICS_LOOPBACK));
    json_object_set_new(vm, "console_keymap", db_cell(rows, i, 24) ? json_string(db_cell(rows, i, 24))
                                                                  : json_null());
    json_object_set_new(vm, "state_error", vm_error_json(db_cell(rows, i, 5), db_cell(rows, i, 25),
                                                   db_cell(rows, i, 26)));
    json_object_set_new(vm, "stop_reason", stop_reason(db_cell(rows, i, 29)));
    return vm;
}

/* The VM of the path if the caller may see it, else a 404. */
static json_t *vm_visible(struct req *r, long long id)
{
    return list_one_owned(r, db_query("SELECT " VM_COLUMNS " FROM vms WHERE id = ?", DB_INT(id)), 4,
                          vm_from_row, _("There is no such virtual machine."));
}

static const struct list_sort vm_sorts[] = {
    { "id", "id" }, { "name", "name" }, { "state", "state" }, { "created_at", "created_at" },
    { "vcpus", "vcpus" }, { "memory_mb", "memory_mb" }, { "disk_gb", "disk_gb" }, { NULL },
};

static const char *const vm_states[] = { "creating", "stopped", "running", "paused",
                                         "suspended", "installing", "error", NULL };
static const char *const pending_states[] = { "starting", "stopping", "rebooting", "pausing",
                                              "resuming", "suspending", "deleting", NULL };
static const char *const arches[] = { "x86_64", "aarch64", NULL };

static bool in_list(const char *value, const char *const *list)
{
    for (; value && *list; list++)
        if (!strcmp(value, *list))
            return true;
    return false;
}

static int query_id(struct req *r, const char *name, long long *out)
{
    const char *text = req_query(r, name);
    char *end;
    *out = 0;
    if (!text)
        return 0;
    long long v = strtoll(text, &end, 10);
    if (!*text || *end || v <= 0)
        return req_fail(r, 400, "invalid_parameter", name, _("%s must be a positive integer."), name);
    *out = v;
    return 0;
}

/* The state menu of the list page: every state, settled and transitional. */
static json_t *state_options(const char *chosen)
{
    static const char *const labels[] = {
        N_("Creating"), N_("Stopped"), N_("Running"), N_("Paused"), N_("Suspended"),
        N_("Installing"), N_("Error"), N_("Starting"), N_("Stopping"), N_("Rebooting"),
        N_("Pausing"), N_("Resuming"), N_("Suspending"), N_("Deleting"),
    };
    json_t *options = json_array();
    int n = 0;
    for (int pass = 0; pass < 2; pass++)
        for (const char *const *v = pass ? pending_states : vm_states; *v; v++, n++)
            json_array_append_new(options, json_pack("{s:s, s:s, s:b}", "value", *v, "label",
                                                     _(labels[n]), "selected",
                                                     chosen && !strcmp(chosen, *v)));
    return options;
}

/* What the list page adds to the rows: the filters as chosen (they stay
 * put), sort links, paging, and whether the list is empty because nothing
 * exists or because nothing matches. */
static int list_page_extras(struct req *r, const char *state, long long page, long long per_page)
{
    static const char *const keys[] = { "q", "state", "owner_id", "template_id", "arch", "sort",
                                        "per_page", NULL };
    long long total = json_integer_value(json_object_get(r->meta, "total"));
    const char *text = req_query(r, "q");
    bool filtered = (text && *text) || (state && *state) || req_query(r, "template_id") ||
                    req_query(r, "arch") || req_query(r, "owner_id");
    json_t *data = json_object();
    json_object_set(data, "vms", r->data);
    json_object_set_new(data, "q", json_string(text ? text : ""));
    json_object_set_new(data, "states", state_options(state));
    json_object_set_new(data, "filtered", json_boolean(filtered));
    json_object_set_new(data, "sorts", list_sort_links(r, "/vms", keys, vm_sorts));
    json_object_set_new(data, "paging", list_paging(r, "/vms", keys, page, per_page, total));
    json_object_set_new(data, "has_vms", json_boolean(total > 0));
    json_decref(r->data);
    r->data = data;
    return 0;
}

static int vms_list(struct req *r)
{
    struct list_query q;
    long long owner = 0, template_id = 0;
    const char *state = req_query(r, "state");
    const char *arch = req_query(r, "arch");
    if (query_id(r, "owner_id", &owner) < 0 || query_id(r, "template_id", &template_id) < 0)
        return -1;
    bool pending = state && in_list(state, pending_states);
    if (state && !pending && !in_list(state, vm_states))
        return req_fail(r, 400, "invalid_parameter", "state", _("Unknown state."));
    if (arch && !in_list(arch, arches))
        return req_fail(r, 400, "invalid_parameter", "arch", _("Unknown architecture."));
    if (list_query_parse(r, vm_sorts, &q) < 0)
        return -1;
    /* A user's list is their own, whatever owner_id says. */
    if (r->user->role != ROLE_ADMIN)
        owner = r->user->id;

    /* "owner_id = ?" on its own, not inside an OR, so the owner index is
     * used; an admin's unfiltered list matches every owner id (> 0). */
    char *scoped = g_strconcat(owner ? "FROM vms WHERE owner_id = ?" : "FROM vms WHERE owner_id > ?",
                               " AND (? IS NULL OR name LIKE ? OR description LIKE ?) AND (? IS "
                               "NULL OR ",
                               /* A settled state is one no action is changing now. */
                               pending ? "(pending = ? AND pending_since > UTC_TIMESTAMP() - "
                                         "INTERVAL " PENDING_STALE_S " SECOND)"
                                       : "(state = ? AND (pending IS NULL OR pending_since <= "
                                         "UTC_TIMESTAMP() - INTERVAL " PENDING_STALE_S " SECOND))",
                               ") AND (? = 0 OR template_id = ?) AND (? IS NULL "
                               "OR arch = ?)", NULL);
    long long page = q.page, per_page = q.per_page;
    int rc = list_run(r, &q, VM_COLUMNS, scoped,
                      DB_PARAMS(DB_INT(owner), DB_TEXT(q.like), DB_TEXT(q.like), DB_TEXT(q.like),
                                DB_TEXT(state), DB_TEXT(state), DB_INT(template_id),
                                DB_INT(template_id), DB_TEXT(arch), DB_TEXT(arch)),
                      vm_from_row);
    g_free(scoped);
    if (rc == 0 && !r->api)
        rc = list_page_extras(r, state, page, per_page);
    return rc;
}

/* Issue 12: the VM's NICs with their allocated addresses (what the guest
 * really has is in ip_addresses, from the row). */
static void add_nics(json_t *vm, long long id)
{
    json_t *nics = hardware_nics(id);
    json_object_set_new(vm, "nics", nics ? nics : json_array());
}

/* The VM page's last tasks about this VM (the API has GET /jobs?vm_id=). */
static json_t *vm_recent_jobs(long long id)
{
    struct db_rows *rows = db_query(
        "SELECT id, kind, state, progress, message, DATE_FORMAT(created_at, '%Y-%m-%dT%TZ') "
        "FROM jobs WHERE vm_id = ? ORDER BY id DESC LIMIT 5", DB_INT(id));
    json_t *out = json_array();
    for (int i = 0; rows && i < rows->nrows; i++)
        json_array_append_new(
            out, json_pack("{s:I, s:s, s:s, s:i, s:s, s:s}", "id",
                           (json_int_t)db_cell_int(rows, i, 0, 0), "kind_label",
                           job_kind_label(db_cell(rows, i, 1)), "state", db_cell(rows, i, 2),
                           "progress", (int)db_cell_int(rows, i, 3, 0), "message",
                           *db_cell(rows, i, 4) ? _(db_cell(rows, i, 4)) : "", "created_at",
                           db_cell(rows, i, 5)));
    db_rows_free(rows);
    return out;
}

/* Who may see which rows of a VM's history: everything for an admin; for
 * its owner, others' failed attempts only if an admin made them. */
static struct audit_scope history_scope(const struct req *r, long long id)
{
    return (struct audit_scope){ .target_type = "vm", .target_id = id,
                                 .failures_of = r->user->role == ROLE_ADMIN ? 0 : r->user->id };
}

/* The VM page's last audited operations on it, in words (the API has
 * GET /vms/{id}/history). */
static json_t *vm_recent_history(const struct req *r, long long id)
{
    struct audit_scope scope = history_scope(r, id);
    json_t *items = audit_recent(&scope, 10);
    if (!items)
        return json_array();
    audit_rows_in_words(items);
    return items;
}

/* The Migrate form's destinations: every host but the VM's own. */
static json_t *migrate_destinations(long long host_id)
{
    struct db_rows *rows = db_query("SELECT id, name, state FROM hosts WHERE id <> ? ORDER BY id",
                                    DB_INT(host_id));
    json_t *out = json_array();
    for (int i = 0; rows && i < rows->nrows; i++)
        json_array_append_new(out, json_pack("{s:I, s:s, s:s}", "id",
                                             (json_int_t)db_cell_int(rows, i, 0, 0), "name",
                                             db_cell(rows, i, 1), "state", db_cell(rows, i, 2)));
    db_rows_free(rows);
    return out;
}

static int vms_show(struct req *r)
{
    long long id = req_param(r, "id")->num;
    json_t *vm = vm_visible(r, id);
    if (!vm)
        return -1;
    /* issue 17: its disks and vCPU room; the page's CD-ROM form its ISOs */
    if (hardware_describe(vm, r->api ? 0 : r->user->id) < 0) {
        json_decref(vm);
        return fail_db(r);
    }
    add_nics(vm, id);
    /* The page's Migrate form (admins): inside the VM's section, where
     * the template finds its id. */
    if (!r->api && r->user->role == ROLE_ADMIN) {
        json_object_set_new(vm, "may_migrate", json_true());
        json_object_set_new(vm, "migrate_hosts",
                            migrate_destinations(json_integer_value(json_object_get(vm, "host_id"))));
    }
    /* The CPU form of a stopped machine: the models libvirt offers (a
     * helper that cannot say leaves the form without them). */
    if (!r->api && !strcmp(json_string_value(json_object_get(vm, "state")), "stopped") &&
        hardware_cpu_choices(r, vm) < 0)
        memset(&r->err, 0, sizeof r->err);
    /* The Graphics card: a .vv file only for a machine that is on. */
    if (!r->api) {
        const char *state = json_string_value(json_object_get(vm, "state"));
        json_object_set_new(vm, "console_on",
                            json_boolean(!strcmp(state, "running") || !strcmp(state, "paused")));
    }
    req_set_object(r, "vm", vm);
    if (!r->api) {
        json_object_set_new(r->data, "recent_jobs", vm_recent_jobs(id));
        json_object_set_new(r->data, "history", vm_recent_history(r, id));
    }
    return 0;
}

/* Issue 12: the networks a VM may join, the default first. */
static json_t *network_choices(long long chosen)
{
    struct db_rows *rows = db_query("SELECT id, name FROM networks ORDER BY builtin DESC, name");
    json_t *networks = json_array();
    for (int i = 0; rows && i < rows->nrows; i++)
        json_array_append_new(networks, json_pack("{s:I, s:s, s:b}", "id",
                                                  (json_int_t)db_cell_int(rows, i, 0, 0), "name",
                                                  db_cell(rows, i, 1), "selected",
                                                  db_cell_int(rows, i, 0, 0) == chosen));
    db_rows_free(rows);
    return networks;
}

/* The create form's defaults for a template: its recommended size, else
 * the user guide's 2 vCPUs, 2048 MB and 20 GB, never below its minimums. */
#define DEFAULT_VCPUS 2
#define DEFAULT_MEMORY_MB 2048
#define DEFAULT_DISK_GB 20

static long long at_least(long long value, long long min)
{
    return value < min ? min : value;
}

/* value within [min, max] (an admin's limits win over a template's). */
static long long within(long long value, long long min, long long max)
{
    return value > max ? max : at_least(value, min);
}

/* A failed submit comes back with what was sent (r->input); the chosen
 * template and clone are marked here, as a template cannot compare. */
static char *host_arches(json_t *host);

/* The architectures the form offers images of: those the host runs; all
 * when the helper does not answer (creating then says why it fails). */
static char *offered_arches(struct req *r)
{
    json_t *host = helper_call(r, "host.info", NULL);
    if (!host) {
        memset(&r->err, 0, sizeof r->err);
        return g_strdup("x86_64,aarch64");
    }
    char *runnable = host_arches(host);
    json_decref(host);
    return runnable;
}

/* The ISOs the caller may install from, of the architectures in
 * runnable (comma-separated), chosen marked; NULL when the database fails. */
static json_t *iso_choices(struct req *r, long long chosen, const char *runnable)
{
    struct db_rows *rows = db_query("SELECT id, name, size_bytes, arch FROM isos WHERE status = "
                                    "'ready' AND (visibility = 'public' OR owner_id = ?) AND "
                                    "FIND_IN_SET(arch, ?) ORDER BY name",
                                    DB_INT(r->user->id), DB_TEXT(runnable));
    if (!rows)
        return NULL;
    json_t *isos = json_array();
    for (int i = 0; i < rows->nrows; i++)
        json_array_append_new(isos, json_pack("{s:I, s:s, s:I, s:s, s:b}",
                                              "id", (json_int_t)db_cell_int(rows, i, 0, 0),
                                              "name", db_cell(rows, i, 1),
                                              "size_mb", (json_int_t)(db_cell_int(rows, i, 2, 0) >> 20),
                                              "arch", db_cell(rows, i, 3),
                                              "selected", db_cell_int(rows, i, 0, 0) == chosen));
    db_rows_free(rows);
    return isos;
}

/* The create form's CPU models: the host modes and the named models
 * libvirt offers x86_64 guests (an aarch64 template gets the API's check
 * at create: host modes only). Without the helper's answer, the host
 * modes alone: the page still works. */
static void new_page_cpu_choices(struct req *r)
{
    const char *asked = input_str(r, "cpu_model");
    json_t *vm = json_pack("{s:s, s:s}", "arch", "x86_64", "cpu_model",
                           asked && *asked ? asked : "host-model");
    if (hardware_cpu_choices(r, vm) < 0) {
        r->err = (struct err){ 0 };
        json_object_set_new(vm, "cpu_choices",
                            json_pack("[{s:s, s:b}, {s:s, s:b}]", "name", "host-model", "selected",
                                      1, "name", "host-passthrough", "selected", 0));
    }
    json_object_set(r->data, "cpu_choices", json_object_get(vm, "cpu_choices"));
    json_decref(vm);
}

static int vms_new_page(struct req *r)
{
    long long chosen = input_int(r, "template_id", 0);
    const char *clone = input_str(r, "clone");
    struct vm_limits lim;
    if (vm_limits_get(&lim) < 0)
        return fail_db(r);
    char *runnable = offered_arches(r);
    struct db_rows *rows = db_query(
        "SELECT id, name, os, min_vcpus, min_memory_mb, min_disk_gb, recommended_vcpus, "
        "recommended_memory_mb, recommended_disk_gb, arch FROM templates "
        "WHERE status = 'ready' AND (visibility = 'public' OR owner_id = ?) AND "
        "FIND_IN_SET(arch, ?) ORDER BY name", DB_INT(r->user->id), DB_TEXT(runnable));
    if (!rows) {
        g_free(runnable);
        return fail_db(r);
    }
    json_t *templates = json_array();
    for (int i = 0; i < rows->nrows; i++) {
        long long min_vcpus = db_cell_int(rows, i, 3, 1), min_memory = db_cell_int(rows, i, 4, 0);
        long long min_disk = db_cell_int(rows, i, 5, 1);
        json_array_append_new(templates, json_pack(
            "{s:I, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:b}",
            "id", (json_int_t)db_cell_int(rows, i, 0, 0), "name", db_cell(rows, i, 1),
            "os", db_cell(rows, i, 2), "min_vcpus", (json_int_t)min_vcpus,
            "min_memory_mb", (json_int_t)min_memory, "min_disk_gb", (json_int_t)min_disk,
            "default_vcpus",
            (json_int_t)within(at_least(db_cell_int(rows, i, 6, DEFAULT_VCPUS), min_vcpus),
                               lim.min_vcpus, lim.max_vcpus),
            "default_memory_mb",
            (json_int_t)within(at_least(db_cell_int(rows, i, 7, DEFAULT_MEMORY_MB), min_memory),
                               lim.min_memory_mb, lim.max_memory_mb),
            "default_disk_gb",
            (json_int_t)within(at_least(db_cell_int(rows, i, 8, DEFAULT_DISK_GB), min_disk),
                               lim.min_disk_gb, lim.max_disk_gb),
            "selected", chosen == db_cell_int(rows, i, 0, 0)));
        json_object_set_new(json_array_get(templates, json_array_size(templates) - 1), "arch",
                            json_string(db_cell(rows, i, 9)));
    }
    db_rows_free(rows);

    json_t *isos = iso_choices(r, 0, runnable);
    g_free(runnable);
    if (!isos) {
        json_decref(templates);
        return fail_db(r);
    }
    json_t *networks = network_choices(0);
    /* The first form's size fields start at the chosen (else the first)
     * template's defaults, unless the user's own values come back. */
    json_t *first = NULL;
    size_t k;
    json_t *t;
    json_array_foreach(templates, k, t)
        if (!first || json_is_true(json_object_get(t, "selected")))
            first = t;
    r->data = json_pack("{s:o, s:o, s:o, s:I, s:I, s:I, s:b}", "templates", templates, "isos", isos,
                        "networks", networks,
                        "vcpus", input_int(r, "vcpus", first ? json_integer_value(json_object_get(first, "default_vcpus")) : DEFAULT_VCPUS),
                        "memory_mb", input_int(r, "memory_mb", first ? json_integer_value(json_object_get(first, "default_memory_mb")) : DEFAULT_MEMORY_MB),
                        "disk_gb", input_int(r, "disk_gb", first ? json_integer_value(json_object_get(first, "default_disk_gb")) : DEFAULT_DISK_GB),
                        "full_clone", clone && !strcmp(clone, "full"));
    /* The size fields' min and max (lib/web/vm_limits.h), and the ISO form's
     * starting sizes within them. */
    json_t *limits = vm_limits_json(&lim);
    json_object_update(r->data, limits);
    json_decref(limits);
    json_object_set_new(r->data, "iso_vcpus", json_integer(within(1, lim.min_vcpus, lim.max_vcpus)));
    json_object_set_new(r->data, "iso_memory_mb",
                        json_integer(within(512, lim.min_memory_mb, lim.max_memory_mb)));
    json_object_set_new(r->data, "iso_disk_gb",
                        json_integer(within(10, lim.min_disk_gb, lim.max_disk_gb)));
    long long max_memory = input_int(r, "max_memory_mb", 0);
    json_object_set_new(r->data, "max_memory_mb",
                        max_memory ? json_integer(max_memory) : json_string(""));
    new_page_cpu_choices(r);
    /* Issue 12: the storage pools the caller may put the disk in. */
    json_t *pools = hardware_pool_choices(r, input_int(r, "pool", 0));
    json_object_set_new(r->data, "has_storage_pools", json_boolean(json_array_size(pools) > 0));
    json_object_set_new(r->data, "storage_pools", pools ? pools : json_array());
    return 0;
}

struct usage {
    long long vms, vcpus, memory_mb, disk_gb;
};

/* The caller's limits: their quota row, else the configured defaults. */
static int quota_limits(long long user_id, struct usage *limit)
{
    struct db_rows *rows = db_query("SELECT max_vms, max_vcpus, max_memory_mb, max_disk_gb "
                                    "FROM quotas WHERE user_id = ?", DB_INT(user_id));
    if (!rows)
        return -1;
    limit->vms = db_cell_int(rows, 0, 0, config_int("quota", "max_vms", 10));
    limit->vcpus = db_cell_int(rows, 0, 1, config_int("quota", "max_vcpus", 16));
    limit->memory_mb = db_cell_int(rows, 0, 2, config_int("quota", "max_memory_mb", 32768));
    limit->disk_gb = db_cell_int(rows, 0, 3, config_int("quota", "max_disk_gb", 500));
    db_rows_free(rows);
    return 0;
}

/* Checks the new VM against the owner's quota. Runs inside the create
 * transaction after quota_lock(), so parallel creates of one user queue
 * here (or conflict across Galera nodes) and never together pass the limit. */
static int quota_check(struct req *r, long long owner, const struct usage *want)
{
    struct usage used, limit;
    int locked = quota_lock(owner);
    struct db_rows *rows = db_query("SELECT COUNT(*), COALESCE(SUM(vcpus), 0), "
                                    "COALESCE(SUM(memory_mb), 0), COALESCE(SUM(disk_gb), 0) + "
                                    "(SELECT COALESCE(SUM(d.size_gb), 0) FROM vm_disks d JOIN vms w "
                                    "ON w.id = d.vm_id WHERE w.owner_id = ?) + "   /* issue 17 */
                                    /* the space snapshots reserve (issue 16) */
                                    "(SELECT CEIL(COALESCE(SUM(s.size_bytes), 0) / 1073741824) "
                                    "FROM snapshots s JOIN vms sv ON sv.id = s.vm_id WHERE "
                                    "sv.owner_id = ?) + "
                                    /* and the owner's backups */
                                    "(SELECT CEIL(COALESCE(SUM(size_bytes), 0) / 1073741824) "
                                    "FROM backups WHERE owner_id = ? AND status <> 'failed') "
                                    "FROM vms WHERE owner_id = ?",
                                    DB_INT(owner), DB_INT(owner), DB_INT(owner), DB_INT(owner));
    int ok = locked == 0 && rows && quota_limits(owner, &limit) == 0;
    if (ok) {
        used = (struct usage){ db_cell_int(rows, 0, 0, 0), db_cell_int(rows, 0, 1, 0),
                               db_cell_int(rows, 0, 2, 0), db_cell_int(rows, 0, 3, 0) };
    }
    db_rows_free(rows);
    if (!ok)
        return fail_db(r);
    if (used.vms + want->vms > limit.vms)
        return req_fail(r, 409, "quota_exceeded", NULL,
                        _("Your quota allows %lld virtual machines."), limit.vms);
    if (used.vcpus + want->vcpus > limit.vcpus)
        return req_fail(r, 409, "quota_exceeded", "vcpus",
                        _("Your quota allows %lld vCPUs in all; %lld are in use."), limit.vcpus,
                        used.vcpus);
    if (used.memory_mb + want->memory_mb > limit.memory_mb)
        return req_fail(r, 409, "quota_exceeded", "memory_mb",
                        _("Your quota allows %lld MiB of memory in all; %lld are in use."),
                        limit.memory_mb, used.memory_mb);
    if (used.disk_gb + want->disk_gb > limit.disk_gb)
        return req_fail(r, 409, "quota_exceeded", "disk_gb",
                        _("Your quota allows %lld GiB of disk in all; %lld are in use."),
                        limit.disk_gb, used.disk_gb);
    return 0;
}

/* The template if the caller may use it and the sizes fit it; a disk size
 * not given becomes the template's minimum. */
static int template_check(struct req *r, long long id, struct usage *want, char *arch,
                          size_t arch_size)
{
    struct db_rows *rows = db_query(
        "SELECT arch, min_vcpus, min_memory_mb, min_disk_gb, status, quarantine_reason "
        "FROM templates WHERE id = ? AND status IN ('ready', 'quarantined') AND "
        "((visibility = 'public' AND (status = 'ready' OR ? = 1)) OR owner_id = ?)",
        DB_INT(id), DB_INT(r->user->role == ROLE_ADMIN), DB_INT(r->user->id));
    if (!rows)
        return fail_db(r);
    int rc = 0;
    if (rows->nrows == 0) {
        db_rows_free(rows);
        return req_fail(r, 404, "unknown_template", "template_id", _("There is no such template."));
    }
    /* Its owner and admins learn why; for others a quarantined template is gone. */
    if (!strcmp(db_cell(rows, 0, 4), "quarantined")) {
        rc = req_fail(r, 409, "template_quarantined", "template_id",
                      _("This template is quarantined and cannot be used: %s"),
                      _(db_cell(rows, 0, 5)));
        db_rows_free(rows);
        return rc;
    }
    snprintf(arch, arch_size, "%s", db_cell(rows, 0, 0));
    if (want->vcpus < db_cell_int(rows, 0, 1, 1))
        rc = req_fail(r, 422, "below_template_minimum", "vcpus",
                      _("This template needs at least %lld vCPUs."), db_cell_int(rows, 0, 1, 1));
    else if (want->memory_mb < db_cell_int(rows, 0, 2, 0))
        rc = req_fail(r, 422, "below_template_minimum", "memory_mb",
                      _("This template needs at least %lld MiB of memory."),
                      db_cell_int(rows, 0, 2, 0));
    else if (want->disk_gb == 0)
        want->disk_gb = db_cell_int(rows, 0, 3, 1);   /* not given: the template's minimum */
    else if (want->disk_gb < db_cell_int(rows, 0, 3, 1))
        rc = req_fail(r, 422, "below_template_minimum", "disk_gb",
                      _("This template needs a disk of at least %lld GiB."),
                      db_cell_int(rows, 0, 3, 1));
    db_rows_free(rows);
    return rc;
}

/* The ISO if the caller may use it; a VM installed from it (no template)
 * names its disk size and has its architecture, which a template given
 * too must share. */
static int iso_check(struct req *r, long long id, const struct usage *want, bool with_template,
                     char *arch, size_t arch_size)
{
    struct db_rows *rows = db_query(
        "SELECT arch FROM isos WHERE id = ? AND status = 'ready' AND "
        "(visibility = 'public' OR owner_id = ?)", DB_INT(id), DB_INT(r->user->id));
    if (!rows)
        return fail_db(r);
    char iso_arch[16] = "";
    if (rows->nrows)
        snprintf(iso_arch, sizeof iso_arch, "%s", db_cell(rows, 0, 0));
    db_rows_free(rows);
    if (!iso_arch[0])
        return req_fail(r, 404, "unknown_iso", "iso_id", _("There is no such ISO image."));
    if (with_template && strcmp(iso_arch, arch))
        return req_fail(r, 422, "arch_mismatch", "iso_id",
                        _("The ISO image is for %s and the template for %s."), iso_arch, arch);
    snprintf(arch, arch_size, "%s", iso_arch);
    if (want->disk_gb == 0)
        return req_fail(r, 400, "missing_field", "disk_gb",
                        _("A machine installed from an ISO needs a disk size."));
    return 0;
}

/* The guest architectures the host runs (libvirt's capabilities, as
 * host.info tells them), e.g. "x86_64,aarch64"; "" when it runs none. */
static char *host_arches(json_t *host)
{
    GString *list = g_string_new(NULL);
    size_t i;
    json_t *entry;
    json_array_foreach(json_object_get(host, "arches"), i, entry)
        g_string_append_printf(list, "%s%s", list->len ? "," : "",
                               json_string_value(json_object_get(entry, "arch")));
    return g_string_free(list, FALSE);
}

static bool arch_listed(const char *list, const char *arch)
{
    gchar **names = g_strsplit(list, ",", -1);
    bool found = g_strv_contains((const gchar *const *)names, arch);
    g_strfreev(names);
    return found;
}

/* The host must be able to run it: its architecture (an aarch64 image on
 * a host without qemu-system-aarch64 is refused here, before anything is
 * made), no more vCPUs than it has CPUs, no more memory than it has. */
static int host_check(struct req *r, const struct usage *want, const char *arch)
{
    json_t *host = helper_call(r, "host.info", NULL);
    if (!host)
        return -1;
    long long cpus = json_integer_value(json_object_get(host, "cpus"));
    long long memory = json_integer_value(json_object_get(host, "memory_mb"));
    char *runnable = host_arches(host);
    json_decref(host);
    int rc = arch_listed(runnable, arch)
                 ? 0
                 : req_fail(r, 422, "arch_unsupported", "arch",
                            _("This host does not run %s guests (it runs: %s)."), arch,
                            runnable[0] ? runnable : "-");
    g_free(runnable);
    if (rc < 0)
        return rc;
    if (want->vcpus > cpus)
        return req_fail(r, 422, "exceeds_host", "vcpus", _("This host has only %lld CPUs."), cpus);
    if (want->memory_mb > memory)
        return req_fail(r, 422, "exceeds_host", "memory_mb",
                        _("This host has only %lld MiB of memory."), memory);
    return 0;
}

/* Issue 19: the hosts the new VM may be made on: fixed_host (a clone's:
 * its source's), or the one an admin asked for (host_id), else those the helper finds with room (free memory,
 * CPUs, disk in their disks pool, enabled and up), the fewest VMs first,
 * each with what it has free. Quotas and the IP registry are global:
 * checked apart from this. The choice among them is place_reserve's, in
 * the create's transaction. 0 with *candidates set (json_decref it), or
 * -1 with the reason (422 no_room, 409 when the host asked for takes no
 * VMs or is down). */
static int place_vm(struct req *r, const struct usage *want, const char *arch, long long pool_id,
                    long long fixed_host, json_t **candidates)
{
    *candidates = NULL;
    long long asked = fixed_host ? fixed_host : input_int(r, "host_id", 0);
    if (!fixed_host && asked && r->user->role != ROLE_ADMIN)
        return req_fail(r, 403, "forbidden", "host_id",
                        _("Only an administrator chooses the host of a virtual machine."));
    /* The storage pools are this host's (issue 12): a disk in one puts the
     * machine here. */
    if (pool_id && asked && asked != 1)
        return req_fail(r, 422, "pool_other_host", "pool",
                        _("This storage pool is on this host; the machine cannot be made on another."));
    if (pool_id)
        asked = 1;
    json_t *args = json_pack("{s:I, s:I, s:I, s:s}", "vcpus", (json_int_t)want->vcpus,
                             "memory_mb", (json_int_t)want->memory_mb, "disk_gb",
                             (json_int_t)want->disk_gb, "arch", arch);
    if (asked)
        json_object_set_new(args, "host_id", json_integer(asked));
    json_t *placed = helper_call(r, "host.place", args);
    json_decref(args);
    if (!placed)
        return -1;
    *candidates = json_incref(json_object_get(placed, "candidates"));
    json_decref(placed);
    if (!json_is_array(*candidates)) {
        json_decref(*candidates);
        *candidates = NULL;
        return req_fail(r, 502, "helper_error", NULL, _("The helper gave no host."));
    }
    return 0;
}

/* Issue 19: the host of the new VM, reserved in the create's transaction
 * (after db_begin). The candidates' rows are locked first, so a parallel
 * create waits here until this one commits, and then counts this VM: each
 * candidate's free memory and disk, as the helper measured them, less
 * what the VMs placed there and still being made (state creating) will
 * take, which that measure cannot see yet. The first with room, the
 * fewest VMs first; none: 422 no_room. */
static int place_reserve(struct req *r, json_t *candidates, const struct usage *want,
                         long long *host_id)
{
    GString *ids = g_string_new("");
    size_t i;
    json_t *c;
    json_array_foreach(candidates, i, c)
        g_string_append_printf(ids, "%s%lld", i ? "," : "",
                               (long long)json_integer_value(json_object_get(c, "host_id")));
    struct db_rows *locked = db_query("SELECT id FROM hosts WHERE FIND_IN_SET(id, ?) ORDER BY id "
                                      "FOR UPDATE", DB_TEXT(ids->str));
    bool ok = locked != NULL;
    db_rows_free(locked);
    struct db_rows *rows = !ok ? NULL : db_query(
        "SELECT h.id, COALESCE(SUM(IF(v.state = 'creating', v.memory_mb, 0)), 0), "
        "COALESCE(SUM(IF(v.state = 'creating', v.disk_gb, 0)), 0), COUNT(v.id) FROM hosts h "
        "LEFT JOIN vms v ON v.host_id = h.id WHERE FIND_IN_SET(h.id, ?) GROUP BY h.id "
        "ORDER BY COUNT(v.id), h.id", DB_TEXT(ids->str));
    g_string_free(ids, TRUE);
    if (!rows)
        return fail_db(r);
    *host_id = 0;
    for (int k = 0; k < rows->nrows && !*host_id; k++) {
        long long id = db_cell_int(rows, k, 0, 0);
        json_array_foreach(candidates, i, c) {
            if (json_integer_value(json_object_get(c, "host_id")) != id)
                continue;
            long long memory = json_integer_value(json_object_get(c, "memory_mb")) -
                               db_cell_int(rows, k, 1, 0);
            long long disk = json_integer_value(json_object_get(c, "disk_gb")) -
                             db_cell_int(rows, k, 2, 0);
            if (memory >= want->memory_mb && disk >= want->disk_gb)
                *host_id = id;
        }
    }
    db_rows_free(rows);
    if (!*host_id)
        return req_fail(r, 422, "no_room", "memory_mb",
                        _("No host has room for this machine now: the machines being made take "
                          "what is free."));
    if (input_int(r, "host_id", 0) || *host_id != 1)
        json_object_set_new(r->audit_detail, "host_id", json_integer(*host_id));
    return 0;
}

static bool full_clone(const struct req *r)
{
    const char *clone = input_str(r, "clone");
    return clone && !strcmp(clone, "full");
}

/* Issue 12: the networks the VM asked for (network_ids, or network_id),
 * each of which must exist; none asked: the default network's. */
static int networks_check(struct req *r, json_t **out)
{
    json_t *ids = json_object_get(r->input, "network_ids");
    long long one = input_int(r, "network_id", 0);
    *out = json_array();
    if (ids && one)
        return req_fail(r, 400, "invalid_choice", "network_id",
                        _("Give network_ids or network_id, not both."));
    if (one)
        json_array_append_new(*out, json_integer(one));
    else if (ids)
        json_array_extend(*out, ids);
    else {
        /* None asked: the NIC on vms.network (the default network) gets its
         * row as well, so that it can be changed and others added (issue 17). */
        struct db_rows *rows = db_query("SELECT n.id FROM networks n WHERE n.name = 'default'");
        if (!rows)
            return fail_db(r);
        if (rows->nrows == 1)
            json_array_append_new(*out, json_integer(db_cell_int(rows, 0, 0, 0)));
        db_rows_free(rows);
    }
    size_t i;
    json_t *id;
    json_array_foreach(*out, i, id) {
        struct db_rows *rows = db_query("SELECT id FROM networks WHERE id = ?",
                                        DB_INT(json_integer_value(id)));
        if (!rows)
            return fail_db(r);
        int found = rows->nrows;
        db_rows_free(rows);
        if (!found)
            return req_fail(r, 404, "unknown_network", "network_ids",
                            _("There is no network %lld."), (long long)json_integer_value(id));
    }
    return 0;
}

/* The IP pools the new VM's NICs draw from get a fresh sweep first, so
 * that an address taken behind the registry's back is not handed out. */
static int sweep_pools(struct req *r, json_t *network_ids)
{
    size_t i;
    json_t *id;
    bool pooled = false;
    json_array_foreach(network_ids, i, id) {
        long long pool = ip_pool_of_network(json_integer_value(id));
        if (pool < 0)
            return fail_db(r);
        if (!pool)
            continue;
        pooled = true;
        json_t *args = json_pack("{s:I}", "pool_id", (json_int_t)pool);
        json_t *done = helper_call(r, "ip_pool.sweep", args);
        json_decref(args);
        if (!done)
            return -1;
        json_decref(done);
    }
    if (input_str(r, "ip") && !pooled)
        return req_fail(r, 422, "no_ip_pool", "ip",
                        _("None of the VM's networks has an IP pool to take the address from."));
    return 0;
}

/* One vm_nics row per network asked for, each with a fresh MAC in QEMU's
 * 52:54:00 range, and an address from its network's IP pool (the one
 * asked for goes to the first NIC that has a pool), in the create
 * transaction. */
static int insert_nics(struct req *r, long long vm_id, json_t *network_ids)
{
    size_t i;
    json_t *id;
    const char *asked = input_str(r, "ip");
    json_array_foreach(network_ids, i, id) {
        char mac[18], ip[16];
        long long nic = 0, pool = ip_pool_of_network(json_integer_value(id));
        if (pool < 0 || hardware_mac_new(mac) < 0)
            return -1;
        if (db_exec_id("INSERT INTO vm_nics (vm_id, network_id, position, mac) VALUES (?, ?, ?, ?)",
                       &nic, DB_INT(vm_id), DB_INT(json_integer_value(id)), DB_INT((long long)i),
                       DB_TEXT(mac)) < 0)
            return -1;
        if (pool && ip_allocate(pool, vm_id, nic, asked, ip, &r->err) < 0)
            return -1;
        if (pool)
            asked = NULL;
    }
    return 0;
}

/* VNC's password is ASCII (its DES challenge); SPICE's too, as ours. */
static int vnc_password_check(struct req *r)
{
    const char *vnc_password = input_str(r, "vnc_password");
    for (const char *c = vnc_password; c && *c; c++)
        if ((unsigned char)*c < 0x20 || (unsigned char)*c > 0x7e)
            return req_fail(r, 400, "invalid_characters", "vnc_password",
                            _("A VNC password may hold only ASCII letters, digits and symbols."));
    return 0;
}

/* The creation's job, queued with its VM row in one transaction. */
static long long insert_job(struct req *r, long long vm_id, const char *kind)
{
    long long id = 0;
    return db_exec_id("INSERT INTO jobs (kind, owner_id, vm_id, target_name) "
                      "SELECT ?, ?, id, name FROM vms WHERE id = ?", &id, DB_TEXT(kind),
                      DB_INT(r->user->id), DB_INT(vm_id)) < 0 ? -1 : id;
}

/* What a new row holds beside its sizes: from the create form, or from
 * the VM a clone copies. */
struct new_vm {
    const char *name, *description, *cpu_model;
    long long template_id, iso_id;
    bool full, autostart;
    const char *vnc_password;   /* NULL: a random one */
    const char *graphics;       /* "vnc" (NULL) or "spice" (issue 20) */
    long long pool_id;          /* issue 12: the disk's storage pool; 0: the helper's */
    long long host_id;          /* issue 19: where it is made (0: the local host) */
};

static long long insert_vm(struct req *r, const struct usage *want, const char *arch,
                           const struct new_vm *nv)
{
    return vm_row_insert(&(struct vm_row){
        .owner_id = r->user->id, .name = nv->name, .description = nv->description,
        .cpu_model = nv->cpu_model, .arch = arch, .vcpus = want->vcpus,
        .memory_mb = want->memory_mb, .disk_gb = want->disk_gb, .template_id = nv->template_id,
        .iso_id = nv->iso_id, .full = nv->full, .autostart = nv->autostart,
        .vnc_password = nv->vnc_password, .graphics = nv->graphics, .pool_id = nv->pool_id,
        .host_id = nv->host_id });
}

/* issue 17: the most vCPUs the machine may have live: the one asked for,
 * else twice its vCPUs (room to grow without a restart). */
static int set_maxima(struct req *r, long long id, const struct usage *want)
{
    long long vcpus = want->vcpus, memory = want->memory_mb;
    long long max = input_int(r, "max_vcpus", vcpus * 2 < 64 ? vcpus * 2 : 64);
    if (max < vcpus)
        return req_fail(r, 422, "below_vcpus", "max_vcpus",
                        _("max_vcpus must be at least vcpus (%lld)."), vcpus);
    /* Memory's room is asked for (no default headroom): it puts a NUMA
     * cell and memory slots in the definition, which not every guest
     * wants. */
    long long max_memory = input_int(r, "max_memory_mb", memory);
    if (max_memory < memory)
        return req_fail(r, 422, "below_memory", "max_memory_mb",
                        _("max_memory_mb must be at least memory_mb (%lld)."), memory);
    return db_exec("UPDATE vms SET max_vcpus = ?, max_memory_mb = ? WHERE id = ?", DB_INT(max),
                   max_memory > memory ? DB_INT(max_memory) : DB_NULL, DB_INT(id)) < 0
               ? fail_db(r)
               : 0;
}

/* After a failed vm.create call: whether the creation is given up (then
 * nothing was made and the row and job are gone, its quota free). The
 * helper takes a job only while it is queued, so marking it failed while
 * still queued settles it for good; a job already running goes on and the
 * creation stands, whatever the helper's late answer. */
static bool create_given_up(struct req *r, long long id, long long job_id)
{
    unsigned long long n = 0;
    if (db_exec_count("UPDATE jobs SET state = 'failed', error_code = LEFT(?, 48), "
                      "message = LEFT(?, 255), finished_at = UTC_TIMESTAMP() WHERE id = ? AND "
                      "state = 'queued'", &n, DB_TEXT(r->err.code), DB_TEXT(r->err.message),
                      DB_INT(job_id)) < 0)
        return true;   /* unknown: the reconcile expires the job and removes the row */
    if (n == 0) {
        struct db_rows *rows = db_query("SELECT state FROM jobs WHERE id = ?", DB_INT(job_id));
        bool taken = rows && rows->nrows == 1 && strcmp(db_cell(rows, 0, 0), "failed") != 0;
        db_rows_free(rows);
        if (taken)
            return false;
    }
    db_exec("DELETE FROM jobs WHERE id = ?", DB_INT(job_id));
    db_exec("DELETE FROM vms WHERE id = ? AND state = 'creating'", DB_INT(id));
    return true;
}

/* Hands the new row id and its queued job (of kind op) to the helper's
 * op with args (taken): 201 with the VM, still `creating`, and the job in
 * meta.job; the helper makes the disk and the domain, and starts it, in
 * that job. A call that fails gives the creation up (see above). */
static int hand_over(struct req *r, const char *op, json_t *args, long long id, long long job_id)
{
    json_t *taken = helper_call(r, op, args);
    json_decref(args);
    if (!taken && !create_given_up(r, id, job_id))
        memset(&r->err, 0, sizeof r->err);   /* the helper had taken the job up after all */
    else if (!taken)
        return -1;
    json_decref(taken);
    json_t *vm = vm_visible(r, id);
    if (!vm)
        return -1;
    r->status = 201;
    req_set_object(r, "vm", vm);
    req_set_job(r, json_pack("{s:I, s:s, s:s, s:i}", "id", (json_int_t)job_id, "kind", op,
                             "state", "running", "progress", 0));
    r->location = g_strdup_printf("/vms/%lld", id);
    return 0;
}

/* Issue 18: the `install` object checked and rendered (user-data merged,
 * ks.cfg or preseed.cfg) before anything is made, so bad input is a 4xx
 * and nothing else. The rendered file in *config (g_free it), or NULL
 * when the create has no install. */
static int install_check(struct req *r, struct install_form *form, char **config)
{
    *config = NULL;
    json_t *install = json_object_get(r->input, "install");
    long long config_id = input_int(r, "install_config_id", 0);
    if (!install && !config_id)
        return 0;
    if (install_form_resolve(install, config_id, r->user, form, &r->err) < 0)
        return -1;
    if (strcmp(form->type, "cloud-init") && !input_int(r, "iso_id", 0))
        return req_fail(r, 422, "install_needs_iso", "iso_id",
                        _("A kickstart or preseed install runs from an installer ISO: give iso_id."));
    *config = install_form_render(form, &r->err);
    return *config ? 0 : -1;
}

static int insert_install(struct req *r, long long vm_id, const struct install_form *form,
                          const char *config)
{
    if (!config)
        return 0;
    return db_exec("INSERT INTO vm_installs (vm_id, type, hostname, config, after_install) "
                   "VALUES (?, ?, ?, ?, ?)", DB_INT(vm_id), DB_TEXT(form->type),
                   DB_TEXT(form->hostname), DB_TEXT(config),
                   DB_TEXT(form->wait_after_install ? "wait" : "start")) < 0
               ? fail_db(r)
               : 0;
}

/* Issue 12: the storage pool the first disk goes in (`pool`; none: the
 * helper's own), checked with its whole size (lib/web/hardware.h). */
static int disk_pool_check(struct req *r, const struct usage *want, long long *pool_id)
{
    *pool_id = input_int(r, "pool", 0);
    return hardware_pool_check(r, *pool_id, want->disk_gb > 0 ? want->disk_gb : 1);
}

/* The rows of a new VM, its NICs, its install and its job, in one
 * transaction (run again whole after a deadlock: lib/app.h). */
struct create_tx {
    const struct usage *want;
    const char *arch;
    struct new_vm *nv;          /* its host_id set here, where the room is reserved */
    json_t *hosts;              /* the hosts with room (place_vm) */
    json_t *network_ids;
    const struct install_form *form;
    const char *install_config;
    long long id, job_id;
};

static int create_body(struct req *r, void *ctx)
{
    struct create_tx *t = ctx;
    if (place_reserve(r, t->hosts, t->want, &t->nv->host_id) < 0 ||
        quota_check(r, r->user->id, t->want) < 0 ||
        (t->id = insert_vm(r, t->want, t->arch, t->nv)) < 0 || set_maxima(r, t->id, t->want) < 0 ||
        insert_nics(r, t->id, t->network_ids) < 0 ||
        insert_install(r, t->id, t->form, t->install_config) < 0 ||
        (t->job_id = insert_job(r, t->id, "vm.create")) < 0)
        return -1;
    return 0;
}

static int vms_create(struct req *r)
{
    struct usage want = { 1, input_int(r, "vcpus", 1), input_int(r, "memory_mb", 512),
                          input_int(r, "disk_gb", 0) };
    char arch[16] = "x86_64";
    long long template_id = input_int(r, "template_id", 0);
    long long iso_id = input_int(r, "iso_id", 0);
    r->audit_detail = json_pack("{s:s, s:I, s:I}", "name", input_str(r, "name"), "template_id",
                                (json_int_t)template_id, "iso_id", (json_int_t)iso_id);
    json_t *install_type = json_object_get(json_object_get(r->input, "install"), "type");
    if (json_is_string(install_type))
        json_object_set(r->audit_detail, "install", install_type);
    if (vnc_password_check(r) < 0)
        return -1;
    /* A template, an ISO to install from, or both (the ISO in the CD-ROM). */
    if (!template_id && !iso_id)
        return req_fail(r, 400, "missing_field", "template_id",
                        _("Give either a template or an ISO image to install from."));
    if (!template_id && full_clone(r))
        return req_fail(r, 400, "invalid_choice", "clone", _("Only a template can be cloned."));
    if ((template_id && template_check(r, template_id, &want, arch, sizeof arch) < 0) ||
        (iso_id && iso_check(r, iso_id, &want, template_id != 0, arch, sizeof arch) < 0))
        return -1;
    /* arch is the image's; a client that names one must name the same. */
    const char *asked_arch = input_str(r, "arch");
    if (asked_arch && strcmp(asked_arch, arch))
        return req_fail(r, 422, "arch_mismatch", "arch", _("The image is for %s, not %s."), arch,
                        asked_arch);
    const char *cpu_model = input_str(r, "cpu_model");
    if (cpu_model && !strcmp(cpu_model, "qemu64") && strcmp(arch, "x86_64"))
        return req_fail(r, 422, "arch_mismatch", "cpu_model",
                        _("qemu64 is an x86_64 CPU model; this image is for %s."), arch);
    long long pool_id = 0, host_id = 1;
    json_t *hosts = NULL;
    if (host_check(r, &want, arch) < 0 || hardware_cpu_model_check(r, arch, cpu_model) < 0 ||
        vm_limits_enforce(r, want.vcpus, want.memory_mb, want.disk_gb > 0 ? want.disk_gb : -1) < 0 ||
        disk_pool_check(r, &want, &pool_id) < 0 || place_vm(r, &want, arch, pool_id, 0, &hosts) < 0)
        return -1;
    struct install_form form = { 0 };
    char *install_config = NULL;
    json_t *network_ids = NULL;
    if (install_check(r, &form, &install_config) < 0 || networks_check(r, &network_ids) < 0 ||
        sweep_pools(r, network_ids) < 0) {
        json_decref(hosts);
        json_decref(network_ids);
        install_form_clear(&form);
        g_free(install_config);
        return r->err.status ? -1 : fail_db(r);
    }
    struct new_vm nv = {
        .name = input_str(r, "name"), .description = input_str(r, "description"),
        .cpu_model = input_str(r, "cpu_model"), .template_id = template_id, .iso_id = iso_id,
        .full = full_clone(r), .autostart = json_is_true(json_object_get(r->input, "autostart")),
        .vnc_password = input_str(r, "vnc_password"), .graphics = input_str(r, "graphics"),
        .pool_id = pool_id,
        .host_id = host_id,
    };
    struct create_tx tx = { .want = &want, .arch = arch, .nv = &nv, .hosts = hosts,
                            .network_ids = network_ids, .form = &form,
                            .install_config = install_config, .id = -1 };
    int rc = req_transaction(r, create_body, &tx);
    json_decref(hosts);
    json_decref(network_ids);
    install_form_clear(&form);
    g_free(install_config);
    if (rc < 0)
        return -1;
    long long id = tx.id, job_id = tx.job_id;
    r->audit_target_id = id;

    json_t *start = json_object_get(r->input, "start");
    json_t *args = json_pack("{s:I, s:b, s:I}", "vm_id", (json_int_t)id, "start",
                             !json_is_false(start), "job_id", (json_int_t)job_id);
    return hand_over(r, "vm.create", args, id, job_id);
}

/* The source of a clone if the caller may see it: its sizes in want, the
 * row's fields in nv (strings owned by *rows), its networks. 404 (-1) for
 * a VM the caller may not see; 409 unless it is stopped; 422 for what a
 * clone cannot copy. */
static int clone_source(struct req *r, long long id, struct db_rows **rows, struct usage *want,
                        struct new_vm *nv, char *arch, size_t arch_size, json_t **networks)
{
    *rows = db_query("SELECT owner_id, state, vcpus, memory_mb, disk_gb, arch, template_id, "
                     "clone, cpu_model, description, boot_order, "
                     "(SELECT COUNT(*) FROM vm_disks d WHERE d.vm_id = v.id), graphics, host_id "
                     "FROM vms v WHERE id = ?", DB_INT(id));
    if (!*rows)
        return fail_db(r);
    if ((*rows)->nrows != 1 || !rbac_may_touch(r->user, db_cell_int(*rows, 0, 0, 0)))
        return req_fail(r, 404, "not_found", NULL, _("There is no such virtual machine."));
    const char *mode = input_str(r, "mode") ? input_str(r, "mode") : "linked";
    long long template_id = db_cell_int(*rows, 0, 6, 0);
    long long bid = input_int(r, "backup_id", 0);
    if (bid && input_int(r, "snapshot_id", 0))
        return req_fail(r, 400, "invalid_combination", "backup_id",
                        _("Clone from a snapshot or from a backup, not both."));
    if (bid) {
        /* A backup is at rest: the source may run; the new disk is whole. */
        struct db_rows *b = db_query("SELECT 1 FROM backups WHERE id = ? AND vm_id = ? AND "
                                     "status = 'ready'", DB_INT(bid), DB_INT(id));
        bool ok = b && b->nrows == 1;
        db_rows_free(b);
        if (!ok)
            return req_fail(r, 404, "not_found", "backup_id", _("There is no such backup."));
        mode = "full";
    } else if (strcmp(db_cell(*rows, 0, 1), "stopped"))
        return req_fail(r, 409, "wrong_state", NULL,
                        _("A virtual machine is cloned while it is stopped; stop it first."));
    if (db_cell_int(*rows, 0, 11, 0) > 0)
        return req_fail(r, 422, "clone_extra_disks", NULL,
                        _("A machine with added disks cannot be cloned yet."));
    /* Issue 19: on another host than this one a clone is a copy of its
     * source there, made by that host's libvirt: whole, of the disk as it
     * is now. */
    long long host_id = db_cell_int(*rows, 0, 13, 1);
    if (host_id != 1 && (bid || input_int(r, "snapshot_id", 0)))
        return req_fail(r, 422, "clone_other_host", "host_id",
                        _("A machine on another host is cloned as it is, not from a snapshot or a "
                          "backup."));
    if (host_id != 1 && input_str(r, "mode") && !strcmp(mode, "linked"))
        return req_fail(r, 422, "clone_other_host", "mode",
                        _("A machine on another host is cloned whole: make a full clone."));
    if (host_id != 1)
        mode = "full";
    if (!strcmp(mode, "linked") && !template_id)
        return req_fail(r, 422, "no_template", "mode",
                        _("A linked clone shares its template; this machine has none. Make a "
                          "full clone."));
    *want = (struct usage){ 1, db_cell_int(*rows, 0, 2, 1), db_cell_int(*rows, 0, 3, 0),
                            db_cell_int(*rows, 0, 4, 0) };
    snprintf(arch, arch_size, "%s", db_cell(*rows, 0, 5));
    *nv = (struct new_vm){ .name = input_str(r, "name"), .description = db_cell(*rows, 0, 9),
                           .cpu_model = db_cell(*rows, 0, 8), .template_id = template_id,
                           .full = !strcmp(mode, "full"), .graphics = db_cell(*rows, 0, 12) };
    long long sid = input_int(r, "snapshot_id", 0);
    struct db_rows *snap = sid ? db_query("SELECT 1 FROM snapshots WHERE id = ? AND vm_id = ? AND "
                                          "status = 'ready'", DB_INT(sid), DB_INT(id))
                               : NULL;
    bool snap_ok = !sid || (snap && snap->nrows == 1);
    db_rows_free(snap);
    if (!snap_ok)
        return req_fail(r, 404, "not_found", "snapshot_id", _("This machine has no such snapshot."));
    struct db_rows *nics = db_query("SELECT network_id FROM vm_nics WHERE vm_id = ? ORDER BY "
                                    "position", DB_INT(id));
    if (!nics)
        return fail_db(r);
    *networks = json_array();
    for (int i = 0; i < nics->nrows; i++)
        json_array_append_new(*networks, json_integer(db_cell_int(nics, i, 0, 0)));
    db_rows_free(nics);
    return 0;
}

/* The source's hardware beyond its sizes, which insert_vm and set_maxima
 * do not know: the most vCPUs and memory it may grow to live, its CPU
 * topology, boot order, console keymap and address, and its network. */
static int clone_hardware(long long id, long long source_id)
{
    return db_exec("UPDATE vms n JOIN vms s ON s.id = ? SET n.max_vcpus = s.max_vcpus, "
                   "n.max_memory_mb = s.max_memory_mb, n.cpu_sockets = s.cpu_sockets, "
                   "n.cpu_cores = s.cpu_cores, n.cpu_threads = s.cpu_threads, "
                   "n.boot_order = s.boot_order, n.console_keymap = s.console_keymap, "
                   "n.console_listen = s.console_listen, n.network = s.network WHERE n.id = ?",
                   DB_INT(source_id), DB_INT(id));
}

/* Each NIC's model and link state as the source's NIC in its place. */
static int clone_nic_models(long long id, long long source_id)
{
    return db_exec("UPDATE vm_nics n JOIN vm_nics s ON s.vm_id = ? AND s.position = n.position "
                   "SET n.model = s.model, n.link_state = s.link_state WHERE n.vm_id = ?",
                   DB_INT(source_id), DB_INT(id));
}

/* Issue 19: a clone's host is its source's: host_id, when an admin gives
 * it, must name that one (placement then checks its room as for a
 * create). */
static int clone_host(struct req *r, long long source_host)
{
    long long asked = input_int(r, "host_id", 0);
    if (asked && r->user->role != ROLE_ADMIN)
        return req_fail(r, 403, "forbidden", "host_id",
                        _("Only an administrator chooses the host of a virtual machine."));
    if (asked && asked != source_host)
        return req_fail(r, 422, "clone_other_host", "host_id",
                        _("A clone is made on the host of the machine it copies; migrate it "
                          "afterwards."));
    return 0;
}

/* POST /vms/{id}/clone {name, mode, snapshot_id | backup_id, start}: a new VM (the
 * caller's, its quota checked in the transaction that makes the row, as
 * a create) with a new UUID, MACs and VNC password, whose vm.clone job
 * copies the disk. 201 with the new VM and meta.job, as a create. */
struct clone_tx {
    const struct usage *want;
    const char *arch;
    struct new_vm *nv;          /* its host_id set here, where the room is reserved */
    json_t *hosts;              /* the source's host, if it has room (place_vm) */
    json_t *networks;
    long long source_id;
    long long id, job_id;
};

static int clone_body(struct req *r, void *ctx)
{
    struct clone_tx *t = ctx;
    if (place_reserve(r, t->hosts, t->want, &t->nv->host_id) < 0 ||
        quota_check(r, r->user->id, t->want) < 0 ||
        (t->id = insert_vm(r, t->want, t->arch, t->nv)) < 0 || set_maxima(r, t->id, t->want) < 0 ||
        clone_hardware(t->id, t->source_id) < 0 || insert_nics(r, t->id, t->networks) < 0 ||
        clone_nic_models(t->id, t->source_id) < 0 ||
        (t->job_id = insert_job(r, t->id, "vm.clone")) < 0)
        return -1;
    return 0;
}

static int vms_clone(struct req *r)
{
    long long source_id = req_param(r, "id")->num;
    struct db_rows *rows = NULL;
    struct usage want;
    struct new_vm nv;
    char arch[16];
    json_t *networks = NULL, *hosts = NULL;
    r->audit_target_id = source_id;
    r->audit_detail = json_pack("{s:s, s:s}", "name", input_str(r, "name"), "mode",
                                input_str(r, "mode") ? input_str(r, "mode") : "linked");
    /* Issue 19: the clone is made on its source's host (a clone from a
     * backup: here, where backups are), with the checks of a create; an
     * admin may name that host, no other. */
    long long source_host = 1;
    if (clone_source(r, source_id, &rows, &want, &nv, arch, sizeof arch, &networks) < 0 ||
        host_check(r, &want, arch) < 0 ||
        (source_host = input_int(r, "backup_id", 0) ? 1 : db_cell_int(rows, 0, 13, 1)) < 1 ||
        clone_host(r, source_host) < 0 || place_vm(r, &want, arch, 0, source_host, &hosts) < 0) {
        db_rows_free(rows);
        json_decref(networks);
        json_decref(hosts);
        return -1;
    }
    struct clone_tx tx = { .want = &want, .arch = arch, .nv = &nv, .hosts = hosts,
                           .networks = networks, .source_id = source_id, .id = -1 };
    if (req_transaction(r, clone_body, &tx) < 0) {
        db_rows_free(rows);
        json_decref(networks);
        json_decref(hosts);
        return -1;
    }
    long long id = tx.id, job_id = tx.job_id;
    db_rows_free(rows);
    json_decref(networks);
    json_decref(hosts);
    json_t *args = json_pack("{s:I, s:I, s:b, s:I}", "vm_id", (json_int_t)id, "source_id",
                             (json_int_t)source_id, "start",
                             json_is_true(json_object_get(r->input, "start")), "job_id",
                             (json_int_t)job_id);
    if (input_int(r, "snapshot_id", 0))
        json_object_set_new(args, "snapshot_id", json_integer(input_int(r, "snapshot_id", 0)));
    if (input_int(r, "backup_id", 0))
        json_object_set_new(args, "backup_id", json_integer(input_int(r, "backup_id", 0)));
    return hand_over(r, "vm.clone", args, id, job_id);
}

/* --- issue 19: an OVA imported as a VM, after a review -------------------
 * The upload (kind "vm") is inspected by its import job in the helper (in
 * the sandbox, the disk judged by the hostile-image rules) into an
 * ova_imports row and a staged disk; the review shows what the package
 * asks for and how it maps onto this portal; the create is a create (the
 * same checks, placement, quota, NICs and job) whose disk is a copy of
 * the staged one. */

struct ova_import {
    long long id, owner_id, vcpus, memory_mb, virtual_size, vm_id;
    const char *name, *filename, *firmware, *disk_format, *source_format, *state;
    json_t *nics;   /* the package's: [{name, network, model}] */
    struct db_rows *rows;
};

static void ova_import_clear(struct ova_import *o)
{
    json_decref(o->nics);
    db_rows_free(o->rows);
}

static long long gib_ceil(long long bytes)
{
    long long gb = (bytes + (1LL << 30) - 1) >> 30;
    return gb > 0 ? gb : 1;
}

/* The import if the caller may see it, else the 404 of one that does not
 * exist. */
static int ova_import_load(struct req *r, long long id, struct ova_import *o)
{
    memset(o, 0, sizeof *o);
    o->rows = db_query("SELECT id, owner_id, name, filename, vcpus, memory_mb, firmware, "
                       "disk_format, source_format, virtual_size_bytes, nics, state, vm_id "
                       "FROM ova_imports WHERE id = ?", DB_INT(id));
    if (!o->rows)
        return fail_db(r);
    if (o->rows->nrows != 1 || !rbac_may_touch(r->user, db_cell_int(o->rows, 0, 1, 0)))
        return req_fail(r, 404, "not_found", NULL, _("There is no such import."));
    struct db_rows *w = o->rows;
    o->id = db_cell_int(w, 0, 0, 0);
    o->owner_id = db_cell_int(w, 0, 1, 0);
    o->name = db_cell(w, 0, 2);
    o->filename = db_cell(w, 0, 3);
    o->vcpus = db_cell_int(w, 0, 4, 1);
    o->memory_mb = db_cell_int(w, 0, 5, 512);
    o->firmware = db_cell(w, 0, 6);
    o->disk_format = db_cell(w, 0, 7);
    o->source_format = db_cell(w, 0, 8);
    o->virtual_size = db_cell_int(w, 0, 9, 0);
    o->nics = json_loads(db_cell(w, 0, 10), 0, NULL);
    if (!json_is_array(o->nics)) {
        json_decref(o->nics);
        o->nics = json_array();
    }
    o->state = db_cell(w, 0, 11);
    o->vm_id = db_cell_int(w, 0, 12, 0);
    return 0;
}

/* Our network for a package's: the one of the same name, else the
 * default network; 0 when there is neither. */
static long long network_for(const char *name)
{
    struct db_rows *rows = db_query("SELECT id FROM networks WHERE name = ? OR name = 'default' "
                                    "ORDER BY name = ? DESC LIMIT 1", DB_TEXT(name ? name : ""),
                                    DB_TEXT(name ? name : ""));
    long long id = rows && rows->nrows == 1 ? db_cell_int(rows, 0, 0, 0) : 0;
    db_rows_free(rows);
    return id;
}

/* GET /vms/imports/{iid}: the review. What the package asks for (CPUs,
 * memory, firmware, its disk, its NICs) and what it becomes here: each
 * NIC's network (ours of the same name, else the default network), the
 * disk's size in GiB, whether the firmware can be had. */
static int vms_import_show(struct req *r)
{
    struct ova_import o;
    if (ova_import_load(r, req_param(r, "iid")->num, &o) < 0) {
        ova_import_clear(&o);
        return -1;
    }
    json_t *nics = json_array();
    size_t i;
    json_t *nic;
    json_array_foreach(o.nics, i, nic) {
        const char *network = json_string_value(json_object_get(nic, "network"));
        long long ours = network_for(network);
        json_t *row = json_pack("{s:I, s:O, s:O, s:O, s:I, s:o}", "position", (json_int_t)i,
                                "name", json_object_get(nic, "name"), "network",
                                json_object_get(nic, "network"), "model",
                                json_object_get(nic, "model"), "network_id", (json_int_t)ours,
                                "choices", network_choices(ours));
        json_array_append_new(nics, row);
    }
    bool review = !strcmp(o.state, "review");
    json_t *data = json_pack(
        "{s:I, s:s, s:s, s:s, s:I, s:I, s:s, s:b, s:[{s:s, s:s, s:I, s:I}], s:o, s:o, s:b}",
        "id", (json_int_t)o.id, "name", o.name, "filename", o.filename, "state", o.state,
        "vcpus", (json_int_t)o.vcpus, "memory_mb", (json_int_t)o.memory_mb, "firmware",
        o.firmware, "firmware_supported", !strcmp(o.firmware, "bios"), "disks", "format",
        o.disk_format, "source_format", o.source_format, "virtual_size_bytes",
        (json_int_t)o.virtual_size, "disk_gb", (json_int_t)gib_ceil(o.virtual_size), "nics",
        nics, "vm_id", o.vm_id ? json_integer(o.vm_id) : json_null(), "reviewable", review);
    if (r->user->role == ROLE_ADMIN) {
        struct db_rows *pools = db_query("SELECT id, name FROM storage_pools ORDER BY name");
        json_t *choices = json_array();
        for (int k = 0; pools && k < pools->nrows; k++)
            json_array_append_new(choices, json_pack("{s:I, s:s}", "id",
                                                     (json_int_t)db_cell_int(pools, k, 0, 0),
                                                     "name", db_cell(pools, k, 1)));
        db_rows_free(pools);
        json_object_set_new(data, "has_pools", json_boolean(json_array_size(choices) > 0));
        json_object_set_new(data, "pools", choices);
    }
    ova_import_clear(&o);
    req_set_object(r, "ova_import", data);
    return 0;
}

/* After a create that gave up (nothing made): the import back to its
 * review. */
static void ova_import_release(long long id, long long vm_id)
{
    db_exec("UPDATE ova_imports SET state = 'review', vm_id = NULL WHERE id = ? AND vm_id = ? AND "
            "NOT EXISTS (SELECT 1 FROM vms WHERE id = ?)", DB_INT(id), DB_INT(vm_id),
            DB_INT(vm_id));
}

/* The VM of a reviewed import, as a create's rows (create_body), the
 * import claimed in the same transaction so only one VM comes of it. */
struct import_tx {
    const struct usage *want;
    struct new_vm *nv;
    json_t *hosts, *network_ids;
    long long iid, id, job_id;
};

static int import_body(struct req *r, void *ctx)
{
    struct import_tx *t = ctx;
    unsigned long long claimed = 0;
    if (db_exec_count("UPDATE ova_imports SET state = 'creating' WHERE id = ? AND "
                      "state = 'review'", &claimed, DB_INT(t->iid)) < 0)
        return -1;
    if (claimed != 1)
        return req_fail(r, 409, "wrong_state", NULL,
                        _("A virtual machine was already made from this import."));
    if (place_reserve(r, t->hosts, t->want, &t->nv->host_id) < 0 ||
        quota_check(r, r->user->id, t->want) < 0 ||
        (t->id = insert_vm(r, t->want, "x86_64", t->nv)) < 0 ||
        set_maxima(r, t->id, t->want) < 0 || insert_nics(r, t->id, t->network_ids) < 0 ||
        (t->job_id = insert_job(r, t->id, "vm.create")) < 0 ||
        db_exec("UPDATE ova_imports SET vm_id = ? WHERE id = ?", DB_INT(t->id), DB_INT(t->iid)) < 0)
        return -1;
    return 0;
}

/* POST /vms/imports/{iid} {name, network_ids (one per NIC, in order),
 * pool, vcpus, memory_mb, start}: the VM, made by a vm.create job that
 * copies the staged disk (201 as POST /vms). The import is claimed in the
 * create's transaction: a second create from it is a 409. */
static int vms_import_create(struct req *r)
{
    struct ova_import o;
    long long iid = req_param(r, "iid")->num;
    r->audit_detail = json_pack("{s:I}", "ova_import_id", (json_int_t)iid);
    if (ova_import_load(r, iid, &o) < 0) {
        ova_import_clear(&o);
        return -1;
    }
    const char *name = input_str(r, "name") ? input_str(r, "name") : o.name;
    json_object_set_new(r->audit_detail, "name", json_string(name));
    struct usage want = { 1, input_int(r, "vcpus", o.vcpus), input_int(r, "memory_mb", o.memory_mb),
                          gib_ceil(o.virtual_size) };
    int rc = 0;
    if (strcmp(o.state, "review"))
        rc = req_fail(r, 409, "wrong_state", NULL,
                      _("A virtual machine was already made from this import."));
    else if (strcmp(o.firmware, "bios"))
        rc = req_fail(r, 422, "firmware_unsupported", NULL,
                      _("The package asks for UEFI firmware; x86_64 machines here boot with BIOS."));
    else if (!input_name_clean(name) || !name[0])
        rc = req_fail(r, 400, "invalid_name", "name", _("Give the virtual machine a name."));
    /* One network per NIC of the package, in its order; none given: the
     * review's mapping. */
    json_t *asked = json_object_get(r->input, "network_ids");
    if (rc == 0 && asked && json_array_size(asked) != json_array_size(o.nics))
        rc = req_fail(r, 422, "nic_count", "network_ids",
                      _("The package has %zu network adapters: give one network for each."),
                      json_array_size(o.nics));
    if (rc == 0 && !asked) {
        json_t *mapped = json_array();
        size_t i;
        json_t *nic;
        json_array_foreach(o.nics, i, nic) {
            long long ours = network_for(json_string_value(json_object_get(nic, "network")));
            if (ours)
                json_array_append_new(mapped, json_integer(ours));
        }
        json_object_set_new(r->input, "network_ids", mapped);
    }
    long long pool_id = 0, host_id = 1;
    json_t *network_ids = NULL, *hosts = NULL;
    if (rc < 0 || host_check(r, &want, "x86_64") < 0 ||
        vm_limits_enforce(r, want.vcpus, want.memory_mb, want.disk_gb) < 0 ||
        disk_pool_check(r, &want, &pool_id) < 0 ||
        place_vm(r, &want, "x86_64", pool_id, 0, &hosts) < 0 ||
        networks_check(r, &network_ids) < 0 || sweep_pools(r, network_ids) < 0) {
        json_decref(hosts);
        json_decref(network_ids);
        ova_import_clear(&o);
        return r->err.status ? -1 : fail_db(r);
    }
    struct new_vm nv = {
        .name = name, .description = input_str(r, "description"),
        .autostart = json_is_true(json_object_get(r->input, "autostart")),
        .pool_id = pool_id, .host_id = host_id,
    };
    struct import_tx tx = { .want = &want, .nv = &nv, .hosts = hosts, .network_ids = network_ids,
                            .iid = iid, .id = -1 };
    rc = req_transaction(r, import_body, &tx);
    json_decref(hosts);
    json_decref(network_ids);
    ova_import_clear(&o);
    if (rc < 0)
        return -1;
    long long id = tx.id, job_id = tx.job_id;
    r->audit_target_id = id;
    json_t *args = json_pack("{s:I, s:b, s:I, s:I}", "vm_id", (json_int_t)id, "start",
                             !json_is_false(json_object_get(r->input, "start")), "job_id",
                             (json_int_t)job_id, "ova_import_id", (json_int_t)iid);
    rc = hand_over(r, "vm.create", args, id, job_id);
    if (rc < 0)
        ova_import_release(iid, id);
    return rc;
}

/* DELETE /vms/imports/{iid}: the import given up before a VM was made
 * from it; the helper removes its staged disk. */
static int vms_import_discard(struct req *r)
{
    long long iid = req_param(r, "iid")->num;
    struct ova_import o;
    r->audit_detail = json_pack("{s:I}", "ova_import_id", (json_int_t)iid);
    int rc = ova_import_load(r, iid, &o);
    if (rc == 0)
        json_object_set_new(r->audit_detail, "name", json_string(o.name));
    ova_import_clear(&o);
    if (rc < 0)
        return -1;
    json_t *args = json_pack("{s:I}", "ova_import_id", (json_int_t)iid);
    json_t *done = helper_call(r, "ova_import.discard", args);
    json_decref(args);
    if (!done)
        return -1;
    json_decref(done);
    if (!r->api) {
        r->location = g_strdup("/uploads");
        r->status = 303;
        return 0;
    }
    r->data = json_pack("{s:b}", "deleted", 1);
    return 0;
}

/* Issue 18: what the VM's installer or first boot is given, for its
 * owner: the rendered user-data, ks.cfg or preseed.cfg (a password only
 * as its hash), and the seed's meta-data and network-config once built. */
static int vms_install_show(struct req *r)
{
    long long id = req_param(r, "id")->num;
    json_t *vm = vm_visible(r, id);
    if (!vm)
        return -1;
    json_decref(vm);
    struct db_rows *rows = db_query(
        "SELECT type, hostname, config, meta_data, network_config, seed_state, after_install, "
        "revision FROM vm_installs WHERE vm_id = ?", DB_INT(id));
    if (!rows)
        return fail_db(r);
    if (rows->nrows != 1) {
        db_rows_free(rows);
        return req_fail(r, 404, "no_install", NULL,
                        _("This virtual machine was not made with an automated install."));
    }
    const char *type = db_cell(rows, 0, 0);
    json_t *data = json_pack(
        "{s:s, s:s, s:s, s:o, s:o, s:s, s:s, s:I}", "type", type, "hostname", db_cell(rows, 0, 1),
        !strcmp(type, "cloud-init") ? "user_data" : !strcmp(type, "kickstart") ? "kickstart"
                                                                                : "preseed",
        db_cell(rows, 0, 2),
        "meta_data", db_cell(rows, 0, 3) ? json_string(db_cell(rows, 0, 3)) : json_null(),
        "network_config", db_cell(rows, 0, 4) ? json_string(db_cell(rows, 0, 4)) : json_null(),
        "seed_state", db_cell(rows, 0, 5), "after_install", db_cell(rows, 0, 6), "revision",
        (json_int_t)db_cell_int(rows, 0, 7, 1));
    db_rows_free(rows);
    req_set_object(r, "install", data);
    return 0;
}

/* --- issue 18: the install wizard (/vms/install) ---------------------------
 * Three steps in one form that carries what was chosen so far: the ISO,
 * sizes and automation; the install settings; a review with the file the
 * installer gets. Each step is checked as the API checks it (the review
 * renders the install), and the last one is POST /vms itself. */

static const char *const wizard_types[] = { "none", "cloud-init", "kickstart", "preseed", NULL };
static const char *const wizard_steps[] = { "fields", "review", "create", NULL };
static const char *const after_choices[] = { "start", "wait", NULL };

static const char *automation_label(const char *type)
{
    return !strcmp(type, "cloud-init") ? _("cloud-init (NoCloud seed)")
           : !strcmp(type, "kickstart") ? _("Kickstart (Anaconda)")
           : !strcmp(type, "preseed")   ? _("Preseed (Debian installer)")
                                        : _("None: install by hand");
}

/* The wizard's text fields as the API's install object (NULL: none). */
static json_t *wizard_install(struct req *r)
{
    const char *type = input_str(r, "install_type");
    if (!type || !strcmp(type, "none"))
        return NULL;
    json_t *install = json_pack("{s:s}", "type", type);
    static const char *const plain[] = { "hostname", "user", "password", "user_data",
                                         "after_install", NULL };
    for (const char *const *f = plain; *f; f++) {
        const char *v = input_str(r, *f);
        if (v && *v)
            json_object_set_new(install, *f, json_string(v));
    }
    /* keys and commands one a line, packages separated by spaces */
    static const struct { const char *name, *separators; } lists[] = {
        { "ssh_keys", "\r\n" }, { "commands", "\r\n" }, { "packages", " \t\r\n," },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(lists); i++) {
        const char *v = input_str(r, lists[i].name);
        gchar **items = g_strsplit_set(v ? v : "", lists[i].separators, -1);
        json_t *list = json_array();
        for (gchar **it = items; *it; it++)
            if (**it)
                json_array_append_new(list, json_string(*it));
        g_strfreev(items);
        if (json_array_size(list))
            json_object_set_new(install, lists[i].name, list);
        else
            json_decref(list);
    }
    return install;
}

/* The wizard at step (choose, fields or review) with what was chosen. */
static int wizard_render(struct req *r, const char *step)
{
    const char *type = input_str(r, "install_type");
    if (!type)
        type = "cloud-init";
    long long iso_id = input_int(r, "iso_id", 0);
    char *runnable = offered_arches(r);
    json_t *isos = iso_choices(r, iso_id, runnable);
    g_free(runnable);
    if (!isos)
        return fail_db(r);
    json_t *values = json_deep_copy(r->input ? r->input : json_object());
    json_object_del(values, "csrf_token");
    if (strcmp(step, "review"))   /* a password is carried only into the review */
        json_object_del(values, "password");
    json_t *automations = json_array();
    for (const char *const *t = wizard_types; *t; t++)
        json_array_append_new(automations, json_pack("{s:s, s:s, s:b}", "value", *t, "label",
                                                     automation_label(*t), "selected",
                                                     !strcmp(*t, type)));
    const char *iso_name = "";
    size_t i;
    json_t *iso;
    json_array_foreach(isos, i, iso)
        if (json_integer_value(json_object_get(iso, "id")) == iso_id)
            iso_name = json_string_value(json_object_get(iso, "name"));
    json_t *configs = json_array();
    struct db_rows *rows = db_query("SELECT id, name, shared FROM install_configs WHERE owner_id = ? "
                                    "OR shared = 1 ORDER BY name", DB_INT(r->user->id));
    long long config_id = input_int(r, "install_config_id", 0);
    for (int k = 0; rows && k < rows->nrows; k++)
        json_array_append_new(configs, json_pack("{s:I, s:s, s:b, s:b}", "id",
                                                 (json_int_t)db_cell_int(rows, k, 0, 0), "name",
                                                 db_cell(rows, k, 1), "shared",
                                                 db_cell_int(rows, k, 2, 0) != 0, "selected",
                                                 db_cell_int(rows, k, 0, 0) == config_id));
    db_rows_free(rows);
    const char *after = input_str(r, "after_install");
    json_object_update(values, json_pack(
        "{s:o, s:o, s:o, s:o, s:s, s:s, s:b, s:b, s:b, s:b, s:b, s:I, s:I, s:I}", "isos", isos,
        "networks", network_choices(input_int(r, "network_id", 0)), "automations", automations,
        "configs", configs, "iso_name", iso_name, "automation_label", automation_label(type),
        "automated", strcmp(type, "none") != 0, "not_automated", !strcmp(type, "none"),
        "is_cloud_init", !strcmp(type, "cloud-init"), "after_start", !after || strcmp(after, "wait"),
        "after_wait", after && !strcmp(after, "wait"), "vcpus", (json_int_t)input_int(r, "vcpus", 1),
        "memory_mb", (json_int_t)input_int(r, "memory_mb", 1024),
        "disk_gb", (json_int_t)input_int(r, "disk_gb", 10)));
    /* What the later steps carry in hidden fields, never empty. */
    json_object_set_new(values, "install_type", json_string(type));
    json_object_set_new(values, "after_install", json_string(after && !strcmp(after, "wait") ? "wait" : "start"));
    json_object_set_new(values, "install_config_id", json_integer(config_id));
    json_object_set_new(values, "network_id", json_integer(input_int(r, "network_id", 0)));
    r->data = json_pack("{s:o, s:b, s:b, s:b}", "values", values, "step_choose",
                        !strcmp(step, "choose"), "step_fields", !strcmp(step, "fields"),
                        "step_review", !strcmp(step, "review"));
    return 0;
}

/* The first step; or, as the page of a submission that failed, the step
 * it was sent from, with the message. */
static int vms_wizard_page(struct req *r)
{
    const char *to = !strcmp(r->method, "POST") ? input_str(r, "step") : NULL;
    return wizard_render(r, !to || !strcmp(to, "fields") ? "choose" : "fields");
}

/* The chosen step's checks, then the next page (the create, last). */
static int vms_wizard_step(struct req *r)
{
    const char *step = input_str(r, "step");
    if (!input_str(r, "name") || !input_int(r, "iso_id", 0))
        return req_fail(r, 400, "missing_field", "iso_id", _("Give a name and an ISO image."));
    json_t *install = wizard_install(r);
    long long config_id = input_int(r, "install_config_id", 0);
    char *rendered = NULL;
    if (strcmp(step, "fields") && (install || config_id)) {
        struct install_form form;
        int rc = install_form_resolve(install, config_id, r->user, &form, &r->err);
        rendered = rc == 0 ? install_form_render(&form, &r->err) : NULL;
        install_form_clear(&form);
        if (!rendered) {
            json_decref(install);
            return -1;
        }
    }
    if (strcmp(step, "create")) {
        json_decref(install);
        int rc = wizard_render(r, !strcmp(step, "fields") ? "fields" : "review");
        if (rc == 0 && rendered) {
            json_t *values = json_object_get(r->data, "values");
            json_object_set_new(values, "rendered", json_string(rendered));
            json_object_set_new(values, "has_rendered", json_true());
        }
        g_free(rendered);
        r->audit_action = "vm.wizard_step";   /* nothing is made until the last step */
        return rc;
    }
    g_free(rendered);
    /* The create, with the wizard's answers in the API's shape. */
    json_t *input = json_pack("{s:s, s:I, s:I, s:I, s:I, s:b}", "name", input_str(r, "name"),
                              "iso_id", (json_int_t)input_int(r, "iso_id", 0), "vcpus",
                              (json_int_t)input_int(r, "vcpus", 1), "memory_mb",
                              (json_int_t)input_int(r, "memory_mb", 1024), "disk_gb",
                              (json_int_t)input_int(r, "disk_gb", 10), "start", 1);
    if (input_int(r, "network_id", 0))
        json_object_set_new(input, "network_id", json_integer(input_int(r, "network_id", 0)));
    if (install)
        json_object_set_new(input, "install", install);
    if (config_id)
        json_object_set_new(input, "install_config_id", json_integer(config_id));
    json_decref(r->input);
    r->input = input;
    return vms_create(r);
}

static const char *const actions[] = { "start", "stop", "reboot", "pause", "resume",
                                       "suspend", "wakeup", NULL };

static const char *pending_of(const char *action)
{
    static const char *const map[][2] = {
        { "start", "starting" }, { "stop", "stopping" }, { "reboot", "rebooting" },
        { "pause", "pausing" }, { "resume", "resuming" }, { "suspend", "suspending" },
        { "wakeup", "starting" }, { "delete", "deleting" },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(map); i++)
        if (!strcmp(map[i][0], action))
            return map[i][1];
    return NULL;
}

/* Marks the VM as in transition while its action runs; one action at a
 * time: a VM already in transition is a 409. */
static int pending_set(struct req *r, long long id, const char *pending)
{
    unsigned long long n = 0;
    if (db_exec_count("UPDATE vms SET pending = ?, pending_since = UTC_TIMESTAMP() WHERE id = ? "
                      "AND (pending IS NULL OR pending_since <= UTC_TIMESTAMP() - INTERVAL "
                      PENDING_STALE_S " SECOND)", &n, DB_TEXT(pending), DB_INT(id)) < 0)
        return fail_db(r);
    if (n == 0)
        return req_fail(r, 409, "wrong_state", NULL,
                        _("Another action on this virtual machine is under way; wait for it to "
                          "finish."));
    return 0;
}

static void pending_clear(long long id)
{
    db_exec("UPDATE vms SET pending = NULL, pending_since = NULL WHERE id = ?", DB_INT(id));
}

/* Asks the helper to do action to VM id (which the caller may see), with
 * the options that action takes. The helper's answer ({state}, and the
 * job_id of a stop that goes on in a job), or NULL with r->err. */
static json_t *run_action(struct req *r, long long id, const char *action, json_t *options)
{
    json_t *vm = vm_visible(r, id);
    if (!vm)
        return NULL;
    json_decref(vm);
    json_t *args = options ? json_deep_copy(options) : json_object();
    json_object_set_new(args, "vm_id", json_integer(id));
    if (strcmp(action, "stop"))
        json_object_del(args, "force"), json_object_del(args, "timeout"),
            json_object_del(args, "wait_s");
    if (strcmp(action, "reboot"))
        json_object_del(args, "mode");
    if (strcmp(action, "start"))
        json_object_del(args, "boot");
    char op[32];
    snprintf(op, sizeof op, "vm.%s", action);
    if (pending_set(r, id, pending_of(action)) < 0) {
        json_decref(args);
        return NULL;
    }
    json_t *done = helper_call(r, op, args);
    json_decref(args);
    /* A stop that goes on in a job stays "stopping" until the job ends
     * (the helper clears it). */
    if (!done || !json_integer_value(json_object_get(done, "job_id")))
        pending_clear(id);
    return done;
}

/* POST /vms/{id}/{action}: the helper checks the state (409) and acts. */
static int vms_action(struct req *r)
{
    const char *action = req_param(r, "action")->text;
    long long id = req_param(r, "id")->num;
    if (!in_list(action, actions))
        return req_fail(r, 404, "not_found", NULL, _("There is nothing at this address."));
    char *audit_action = g_strdup_printf("vm.%s", action);
    r->audit_action = g_intern_string(audit_action);   /* one of seven, kept for good */
    g_free(audit_action);

    json_t *done = run_action(r, id, action, r->input);
    if (!done)
        return -1;
    long long job_id = json_integer_value(json_object_get(done, "job_id"));
    json_decref(done);
    json_t *vm = vm_visible(r, id);
    if (!vm)
        return -1;
    req_set_object(r, "vm", vm);
    if (job_id) {
        /* A guest slow to power off: the stop goes on in a job. */
        r->status = 202;
        req_set_job(r, json_pack("{s:I, s:s, s:s}", "id", (json_int_t)job_id, "kind", "vm.stop",
                                 "state", "running"));
        r->location = g_strdup_printf("/jobs/%lld", job_id);
    } else {
        r->location = g_strdup_printf("/vms/%lld", id);
    }
    return 0;
}

/* Issue 19: POST /vms/{id}/migrate/check (the pre-check's verdict, nothing
 * moves) and POST /vms/{id}/migrate (a job). Admins only: a migration
 * spends another host's memory. */
static json_t *migrate_args(struct req *r)
{
    json_t *args = json_pack("{s:I}", "vm_id", (json_int_t)req_param(r, "id")->num);
    const char *keys[] = { "host_id", "mode", "max_downtime_ms", "max_bandwidth_mibs",
                           "auto_converge", NULL };
    for (int i = 0; keys[i]; i++)
        if (json_object_get(r->input, keys[i]))
            json_object_set(args, keys[i], json_object_get(r->input, keys[i]));
    return args;
}

/* The page's words for the helper's blockers (its messages are English);
 * a code not here shows the helper's message. */
static const struct {
    const char *code, *text;
} blocker_texts[] = {
    { "same_host", N_("The virtual machine is already on this host.") },
    { "wrong_state", N_("This mode needs the machine in another state: offline needs it stopped, "
                        "live needs it running or paused.") },
    { "no_migration_address", N_("The destination has no migration address; set one on the "
                                 "hosts page.") },
    { "host_unavailable", N_("The destination host does not answer.") },
    { "same_host_uuid", N_("Both hosts have the same libvirt host UUID.") },
    { "cpu_incompatible", N_("The destination cannot run this machine's CPU.") },
    { "network_missing", N_("A network of this machine is not active on the destination.") },
    { "pool_missing", N_("A disk of this machine is in no active storage pool on the "
                         "destination.") },
    { "disk_not_shared", N_("The destination does not see this machine's disk: migrate live "
                            "with its storage.") },
    { "disk_shared", N_("The destination already sees this machine's disk (shared storage): "
                        "migrate live without copying the storage.") },
    { "no_memory", N_("The destination has not enough free memory for this machine.") },
    { "domain_exists", N_("The destination already has a domain of this name.") },
    { NULL, NULL },
};

/* The verdict page (the Migrate form's first step): the VM, where it would
 * go, and either the blockers or the form that confirms. */
static void migrate_check_page(struct req *r, json_t *verdict)
{
    json_t *blockers = json_object_get(verdict, "blockers");
    size_t i;
    json_t *b;
    json_array_foreach(blockers, i, b) {
        const char *code = json_string_value(json_object_get(b, "code"));
        for (int k = 0; code && blocker_texts[k].code; k++)
            if (!strcmp(code, blocker_texts[k].code))
                json_object_set_new(b, "text", json_string(_(blocker_texts[k].text)));
        if (!json_object_get(b, "text"))
            json_object_set(b, "text", json_object_get(b, "message"));
    }
    long long id = req_param(r, "id")->num;
    struct db_rows *rows = db_query("SELECT h.name FROM hosts h WHERE h.id = ?",
                                    DB_INT(json_integer_value(json_object_get(verdict, "host_id"))));
    json_object_set_new(r->data, "destination_name",
                        json_string(rows && rows->nrows ? db_cell(rows, 0, 0) : ""));
    db_rows_free(rows);
    json_t *vm = vm_visible(r, id);
    if (vm)
        json_object_set_new(r->data, "vm", vm);
}

static int vms_migrate_check(struct req *r)
{
    json_t *args = migrate_args(r);
    json_t *verdict = helper_call(r, "vm.migrate_check", args);
    json_decref(args);
    if (!verdict)
        return -1;
    req_set_object(r, "check", verdict);
    if (!r->api)
        migrate_check_page(r, verdict);
    return 0;
}

static int vms_migrate(struct req *r)
{
    long long id = req_param(r, "id")->num;
    json_t *args = migrate_args(r);
    json_t *done = helper_call(r, "vm.migrate", args);
    json_decref(args);
    if (!done)
        return -1;
    long long job_id = json_integer_value(json_object_get(done, "job_id"));
    json_decref(done);
    json_t *vm = vm_visible(r, id);
    if (!vm)
        return -1;
    req_set_object(r, "vm", vm);
    r->status = 202;
    req_set_job(r, json_pack("{s:I, s:s, s:s}", "id", (json_int_t)job_id, "kind", "vm.migrate",
                             "state", "queued"));
    r->location = g_strdup_printf("/jobs/%lld", job_id);
    r->audit_detail = json_pack("{s:O}", "host_id", json_object_get(r->input, "host_id"));
    return 0;
}

/* POST /vms/{id}/export (issue 19): a stopped VM's OVA, made in a
 * vm.export job; its result names the download. */
static int vms_export(struct req *r)
{
    long long id = req_param(r, "id")->num;
    r->audit_target_id = id;
    json_t *vm = vm_visible(r, id);
    if (!vm)
        return -1;
    json_t *args = json_pack("{s:I}", "vm_id", (json_int_t)id);
    json_t *done = helper_call(r, "vm.export", args);
    json_decref(args);
    if (!done) {
        json_decref(vm);
        return -1;
    }
    long long job_id = json_integer_value(json_object_get(done, "job_id"));
    json_decref(done);
    req_set_object(r, "vm", vm);
    r->status = 202;
    req_set_job(r, json_pack("{s:I, s:s, s:s}", "id", (json_int_t)job_id, "kind", "vm.export",
                             "state", "queued"));
    r->location = g_strdup_printf("/jobs/%lld", job_id);
    return 0;
}

/* GET /vms/{id}/exports/{job}: the OVA of a finished export of a VM the
 * caller may see, sent by nginx (X-Accel-Redirect); named after the VM,
 * made safe. */
static int vms_export_download(struct req *r)
{
    long long id = req_param(r, "id")->num, job_id = req_param(r, "job")->num;
    json_t *vm = vm_visible(r, id);
    if (!vm)
        return -1;
    struct db_rows *rows = db_query("SELECT state FROM jobs WHERE id = ? AND vm_id = ? AND "
                                    "kind = 'vm.export'", DB_INT(job_id), DB_INT(id));
    int rc = 0;
    if (!rows)
        rc = fail_db(r);
    else if (rows->nrows != 1)
        rc = req_fail(r, 404, "not_found", "job", _("This virtual machine has no such export."));
    else if (strcmp(db_cell(rows, 0, 0), "succeeded"))
        rc = req_fail(r, 409, "wrong_state", "job", _("This export is not finished."));
    if (rc == 0) {
        GString *name = g_string_new(NULL);
        for (const char *p = json_string_value(json_object_get(vm, "name")); p && *p; p++)
            g_string_append_c(name, g_ascii_isalnum(*p) || *p == '-' || *p == '_' ? *p : '_');
        char *accel = g_strdup_printf("/_files/exports/%lld.ova", job_id);
        char *disposition = g_strdup_printf("attachment; filename=\"%s.ova\"", name->str);
        resp_header(r, "X-Accel-Redirect", accel);
        resp_header(r, "Content-Disposition", disposition);
        g_free(accel);
        g_free(disposition);
        g_string_free(name, TRUE);
        r->resp_type = "application/x-tar";
        r->resp_raw = true;
        g_string_truncate(r->resp_body, 0);
    }
    db_rows_free(rows);
    json_decref(vm);
    return rc;
}

static int vm_remove(struct req *r, long long id, bool disks, bool check_typed, char **name);
static bool disks_asked(const struct req *r);

/* The page's first step of a batch delete: what will be lost, named (the
 * machines, their disks), and nothing done yet. */
static int batch_delete_ask(struct req *r, json_t *ids)
{
    json_t *items = json_array();
    long long disk_gb = 0;
    size_t i;
    json_t *id;
    json_array_foreach(ids, i, id) {
        json_t *vm = vm_visible(r, json_integer_value(id));
        memset(&r->err, 0, sizeof r->err);
        if (!vm)
            continue;   /* not theirs to see: the result says so once asked */
        disk_gb += json_integer_value(json_object_get(vm, "disk_gb"));
        json_array_append_new(items, json_pack("{s:O, s:O, s:O}", "id", json_object_get(vm, "id"),
                                               "name", json_object_get(vm, "name"), "disk_gb",
                                               json_object_get(vm, "disk_gb")));
        json_decref(vm);
    }
    if (!json_array_size(items)) {
        json_decref(items);
        return req_fail(r, 404, "not_found", NULL, _("There is no such virtual machine."));
    }
    r->audit_action = "vm.batch_ask";   /* nothing is deleted until it is confirmed */
    r->audit_detail = json_pack("{s:s, s:O}", "action", "delete", "ids", ids);
    r->data = json_pack("{s:{s:o, s:I, s:I}}", "confirm", "items", items, "count",
                        (json_int_t)json_array_size(items), "disk_gb", (json_int_t)disk_gb);
    return 0;
}

/* One VM of a batch; its result {id, name, ok, error[, job_id]}. */
static json_t *batch_one(struct req *r, long long vm_id, const char *action, json_t *options)
{
    memset(&r->err, 0, sizeof r->err);
    char *name = NULL;
    json_t *done = NULL;
    bool ok;
    if (!strcmp(action, "delete")) {
        ok = vm_remove(r, vm_id, disks_asked(r), false, &name) == 0;
    } else {
        json_t *vm = vm_visible(r, vm_id);
        name = vm ? g_strdup(json_string_value(json_object_get(vm, "name"))) : NULL;
        json_decref(vm);
        memset(&r->err, 0, sizeof r->err);
        done = run_action(r, vm_id, action, options);
        ok = done != NULL;
    }
    json_t *result = json_pack("{s:I, s:b, s:s?, s:b}", "id", (json_int_t)vm_id, "ok", ok, "name",
                               name, "deleted", ok && !strcmp(action, "delete"));
    g_free(name);
    json_object_set_new(result, "error", ok ? json_null()
                                            : json_pack("{s:s, s:s}", "code", r->err.code,
                                                        "message", r->err.message));
    /* A stop that goes on in a job. */
    long long job_id = json_integer_value(json_object_get(done, "job_id"));
    if (job_id)
        json_object_set_new(result, "job_id", json_integer(job_id));
    json_decref(done);
    return result;
}

/* POST /vms/batch {action, ids}: each VM on its own, a result per id. On
 * the page a delete first shows what goes (batch_delete_ask), then takes
 * confirmed=true and, when the disks go, the number of machines typed. */
static int vms_batch(struct req *r)
{
    const char *action = input_str(r, "action");
    json_t *ids = json_object_get(r->input, "ids");
    bool delete = !strcmp(action, "delete");
    if (delete && !r->api && !json_is_true(json_object_get(r->input, "confirmed")))
        return batch_delete_ask(r, ids);
    if (delete && !r->api && disks_asked(r)) {
        char count[24];
        snprintf(count, sizeof count, "%zu", json_array_size(ids));
        const char *typed = input_str(r, "confirm_name");
        if (!typed || strcmp(typed, count))
            return req_fail(r, 422, "confirmation_mismatch", "confirm_name",
                            _("Type the number of machines (%s) to delete them with their disks."),
                            count);
    }
    /* A batch stop may force the machines off; a graceful one waits for no
     * guest in the request: each one slower than at once goes on in a job. */
    json_t *options = json_pack("{s:i}", "wait_s", 0);
    if (json_object_get(r->input, "force"))
        json_object_set(options, "force", json_object_get(r->input, "force"));
    json_t *results = json_array();
    size_t i;
    json_t *id;
    json_array_foreach(ids, i, id)
        json_array_append_new(results, batch_one(r, json_integer_value(id), action, options));
    json_decref(options);
    memset(&r->err, 0, sizeof r->err);
    r->audit_detail = json_pack("{s:s, s:O}", "action", action, "results", results);
    if (delete)
        json_object_set_new(r->audit_detail, "delete_disks", json_boolean(disks_asked(r)));
    r->data = results;
    return 0;
}

struct hardware_tx {
    long long id, owner;
    const struct usage *delta;
    long long vcpus, memory;
    const char *cpu_model, *boot;
};

static int hardware_body(struct req *r, void *ctx)
{
    struct hardware_tx *t = ctx;
    if ((t->delta->vcpus > 0 || t->delta->memory_mb > 0) && quota_check(r, t->owner, t->delta) < 0)
        return -1;
    if (db_exec("UPDATE vms SET vcpus = ?, memory_mb = ? WHERE id = ?", DB_INT(t->vcpus),
                DB_INT(t->memory), DB_INT(t->id)) < 0 ||
        (t->cpu_model && db_exec("UPDATE vms SET cpu_model = ? WHERE id = ?",
                                 DB_TEXT(t->cpu_model), DB_INT(t->id)) < 0) ||
        (t->boot && db_exec("UPDATE vms SET boot_order = ? WHERE id = ?", DB_TEXT(t->boot),
                            DB_INT(t->id)) < 0))
        return fail_db(r);
    return 0;
}

/* Hardware changes of a PATCH: allowed while the machine is stopped, and
 * within the host and the owner's quota (checked in the transaction that
 * writes them). */
static int update_hardware(struct req *r, json_t *before, long long id)
{
    long long vcpus = input_int(r, "vcpus", json_integer_value(json_object_get(before, "vcpus")));
    long long memory = input_int(r, "memory_mb",
                                 json_integer_value(json_object_get(before, "memory_mb")));
    json_t *order = json_object_get(r->input, "boot_order");
    const char *cpu_model = input_str(r, "cpu_model");
    if (strcmp(json_string_value(json_object_get(before, "state")), "stopped") != 0)
        return req_fail(r, 409, "wrong_state", NULL,
                        _("Stop the virtual machine to change its hardware."));
    struct usage delta = { 0, vcpus - json_integer_value(json_object_get(before, "vcpus")),
                           memory - json_integer_value(json_object_get(before, "memory_mb")), 0 };
    struct usage total = { 0, vcpus, memory, 0 };
    if (host_check(r, &total, json_string_value(json_object_get(before, "arch"))) < 0 ||
        hardware_cpu_model_check(r, json_string_value(json_object_get(before, "arch")),
                                 cpu_model) < 0 ||
        vm_limits_enforce(r, input_has(r, "vcpus") ? vcpus : -1,
                     input_has(r, "memory_mb") ? memory : -1, -1) < 0)
        return -1;
    char *boot = NULL;
    if (order) {
        GString *text = g_string_new(NULL);
        size_t i;
        json_t *device;
        json_array_foreach(order, i, device)
            g_string_append_printf(text, "%s%s", i ? "," : "", json_string_value(device));
        boot = g_string_free(text, FALSE);
    }
    long long owner = json_integer_value(json_object_get(before, "owner_id"));
    struct hardware_tx tx = { id, owner, &delta, vcpus, memory, cpu_model, boot };
    int rc = req_transaction(r, hardware_body, &tx);
    g_free(boot);
    return rc;
}

/* issue 20: the console's settings of a PATCH (graphics, listen address,
 * keymap, password): the machine is redefined with them, so stopped; only
 * the VNC password also changes on a running (or paused) machine, live
 * (*live_password: the helper's vm.vnc_password sets it). */
static int update_console(struct req *r, json_t *before, long long id, bool *live_password)
{
    const char *graphics = input_str(r, "graphics");
    const char *listen = input_str(r, "console_listen");
    const char *keymap = input_str(r, "console_keymap");
    const char *password = input_str(r, "vnc_password");
    const char *state = json_string_value(json_object_get(before, "state"));
    bool on = !strcmp(state, "running") || !strcmp(state, "paused");
    bool redefine = input_has(r, "graphics") || input_has(r, "console_listen") ||
                    input_has(r, "console_keymap");
    if (strcmp(state, "stopped") != 0 && (redefine || !on))
        return req_fail(r, 409, "wrong_state", NULL,
                        _("Stop the virtual machine to change its graphics, console address or "
                          "keymap (its VNC password also changes while it runs)."));
    *live_password = on && password;
    if (vnc_password_check(r) < 0)
        return -1;
    if (listen && !graphics_listen_allowed(listen))
        return req_fail(r, 422, "listen_not_allowed", "console_listen",
                        _("The console listens on 127.0.0.1 only, unless an administrator allows "
                          "another address ([console] allowed_listen)."));
    if ((graphics && db_exec("UPDATE vms SET graphics = ? WHERE id = ?", DB_TEXT(graphics),
                             DB_INT(id)) < 0) ||
        (listen && db_exec("UPDATE vms SET console_listen = NULLIF(?, '" GRAPHICS_LOOPBACK "') "
                           "WHERE id = ?", DB_TEXT(listen), DB_INT(id)) < 0) ||
        (keymap && db_exec("UPDATE vms SET console_keymap = ? WHERE id = ?", DB_TEXT(keymap),
                           DB_INT(id)) < 0) ||
        (password && db_exec("UPDATE vms SET vnc_password = ? WHERE id = ?", DB_TEXT(password),
                             DB_INT(id)) < 0))
        return fail_db(r);
    return 0;
}

/* PATCH /vms/{id}: the row first, then the helper makes libvirt follow;
 * if libvirt refuses, the row goes back. */
static int vms_update(struct req *r)
{
    long long id = req_param(r, "id")->num;
    json_t *before = vm_visible(r, id);
    if (!before)
        return -1;
    const char *name = input_str(r, "name");
    const char *description = input_str(r, "description");
    json_t *autostart = json_object_get(r->input, "autostart");
    /* The audit row says the VNC password changed, never what it is. */
    json_t *changes = json_deep_copy(r->input);
    if (json_object_get(changes, "vnc_password"))
        json_object_set_new(changes, "vnc_password", json_string("(changed)"));
    r->audit_detail = json_pack("{s:O, s:o}", "before", before, "changes", changes);
    bool hardware = input_has(r, "vcpus") || input_has(r, "memory_mb") ||
                    input_has(r, "cpu_model") || input_has(r, "boot_order");
    bool console = input_has(r, "graphics") || input_has(r, "console_listen") ||
                   input_has(r, "console_keymap") || input_has(r, "vnc_password");
    struct db_rows *old = db_query("SELECT boot_order, vnc_password FROM vms WHERE id = ?",
                                   DB_INT(id));
    char *old_boot = g_strdup(db_cell(old, 0, 0));
    char *old_password = g_strdup(db_cell(old, 0, 1));
    db_rows_free(old);
    bool live_password = false;
    int rc = hardware ? update_hardware(r, before, id) : 0;
    if (rc == 0 && console)
        rc = update_console(r, before, id, &live_password);
    if (rc == 0 &&
        ((name && db_exec("UPDATE vms SET name = ? WHERE id = ?", DB_TEXT(name), DB_INT(id)) < 0) ||
         (description && db_exec("UPDATE vms SET description = ? WHERE id = ?",
                                 DB_TEXT(description), DB_INT(id)) < 0) ||
         (autostart && db_exec("UPDATE vms SET autostart = ? WHERE id = ?",
                               DB_INT(json_is_true(autostart)), DB_INT(id)) < 0)))
        rc = fail_db(r);
    json_t *done = NULL;
    if (rc == 0) {
        json_t *args = json_pack("{s:I}", "vm_id", (json_int_t)id);
        /* The password first: refused, nothing of the PATCH reached libvirt. */
        json_t *set = live_password ? helper_call(r, "vm.vnc_password", args) : NULL;
        if (!live_password || set)
            done = helper_call(r, "vm.update", args);
        json_decref(set);
        json_decref(args);
    }
    if (rc == 0 && !done) {
        /* libvirt refused: the row goes back to what libvirt still has. */
        db_exec("UPDATE vms SET name = ?, description = ?, autostart = ?, vcpus = ?, "
                "memory_mb = ?, cpu_model = ?, boot_order = ? WHERE id = ?",
                DB_TEXT(json_string_value(json_object_get(before, "name"))),
                DB_TEXT(json_string_value(json_object_get(before, "description"))),
                DB_INT(json_is_true(json_object_get(before, "autostart"))),
                DB_INT(json_integer_value(json_object_get(before, "vcpus"))),
                DB_INT(json_integer_value(json_object_get(before, "memory_mb"))),
                DB_TEXT(json_string_value(json_object_get(before, "cpu_model"))),
                DB_TEXT(old_boot), DB_INT(id));
        json_t *listen = json_object_get(before, "console_listen");
        db_exec("UPDATE vms SET graphics = ?, console_listen = NULLIF(?, '" GRAPHICS_LOOPBACK "'), "
                "console_keymap = ?, vnc_password = ? WHERE id = ?",
                DB_TEXT(json_string_value(json_object_get(before, "graphics"))),
                DB_TEXT(json_string_value(listen)),
                DB_TEXT(json_string_value(json_object_get(before, "console_keymap"))),
                DB_TEXT(old_password), DB_INT(id));
        rc = -1;
    }
    json_decref(done);
    json_decref(before);
    g_free(old_boot);
    g_free(old_password);
    if (rc < 0)
        return -1;
    json_t *vm = vm_visible(r, id);
    if (!vm)
        return -1;
    audit_changes_between(r, json_object_get(r->audit_detail, "before"), vm, NULL);
    if (input_has(r, "vnc_password"))
        audit_change_secret(r, "vnc_password");
    req_set_object(r, "vm", vm);
    return 0;
}

/* POST /vms/{id}/graphics, the VM page's Graphics form: the same change
 * as PATCH /vms/{id} {"graphics"}, then back to the page. */
static int vms_graphics_form(struct req *r)
{
    if (vms_update(r) < 0)
        return -1;
    r->location = g_strdup_printf("/vms/%lld#vm-graphics", req_param(r, "id")->num);
    return 0;
}

/* GET /vms/{id}/history: every audited operation on this VM for whoever
 * may see the VM; for a non-admin, others' failed attempts only if an
 * admin made them. */
static int vms_history(struct req *r)
{
    long long id = req_param(r, "id")->num;
    json_t *vm = vm_visible(r, id);
    if (!vm)
        return -1;
    json_decref(vm);
    struct audit_scope scope = history_scope(r, id);
    if (audit_list(r, &scope) < 0)
        return -1;
    audit_rows_in_words(r->data);
    /* An owner sees what others (admins) did to their VM, not from where. */
    size_t i;
    json_t *row;
    json_array_foreach(r->data, i, row) {
        if (r->user->role != ROLE_ADMIN &&
            json_integer_value(json_object_get(row, "actor_id")) != r->user->id) {
            json_object_set_new(row, "ip", json_string(""));
            json_object_set_new(row, "user_agent", json_string(""));
        }
    }
    return 0;
}

/* A VM in `creating` whose creation no job goes on with (a helper that
 * died, a creation given up): nothing will ever finish it. */
static int creation_live(struct req *r, long long id, bool *live)
{
    struct db_rows *rows = db_query("SELECT 1 FROM jobs WHERE vm_id = ? AND kind = 'vm.create' "
                                    "AND state IN ('queued', 'running')", DB_INT(id));
    if (!rows)
        return fail_db(r);
    *live = rows->nrows > 0;
    db_rows_free(rows);
    return 0;
}

/* Deletes VM id (which the caller may see), with its disks when disks
 * (always for one being created, whose job is gone); any state but a
 * creation still under way. With check_typed, losing the disk takes the
 * machine's name typed out (confirm_name), as Proxmox asks. *name gets the
 * VM's name when it is visible (g_free). 0 or -1 with r->err. */
static int vm_remove(struct req *r, long long id, bool disks, bool check_typed, char **name)
{
    json_t *vm = vm_visible(r, id);
    if (!vm)
        return -1;
    bool creating = !strcmp(json_string_value(json_object_get(vm, "state")), "creating");
    *name = g_strdup(json_string_value(json_object_get(vm, "name")));
    json_decref(vm);
    bool live = false;
    if (creating && creation_live(r, id, &live) < 0)
        return -1;
    if (live)
        return req_fail(r, 409, "wrong_state", NULL,
                        _("This virtual machine is still being created; cancel its job first."));
    bool delete_disks = creating || disks;
    const char *typed = input_str(r, "confirm_name");
    if (check_typed && delete_disks && !(typed && !strcmp(typed, *name)))
        return req_fail(r, 422, "confirmation_mismatch", "confirm_name",
                        _("Type the machine's name exactly to delete it with its disk."));
    if (pending_set(r, id, "deleting") < 0)
        return -1;
    json_t *args = json_pack("{s:I, s:b}", "vm_id", (json_int_t)id, "delete_disks", delete_disks);
    json_t *done = helper_call(r, "vm.delete", args);
    json_decref(args);
    if (!done) {
        pending_clear(id);
        return -1;
    }
    json_decref(done);
    /* Not a row a creation took up again meanwhile. */
    if (db_exec("DELETE v FROM vms v WHERE v.id = ? AND (v.state <> 'creating' OR NOT EXISTS "
                "(SELECT 1 FROM jobs j WHERE j.vm_id = v.id AND j.kind = 'vm.create' AND "
                "j.state IN ('queued', 'running')))", DB_INT(id)) < 0)
        return fail_db(r);
    return 0;
}

/* Whether the request asks for the disks to go too (body or ?delete_disks=true). */
static bool disks_asked(const struct req *r)
{
    const char *query = req_query(r, "delete_disks");
    return json_is_true(json_object_get(r->input, "delete_disks")) ||
           (query && !strcmp(query, "true"));
}

/* DELETE /vms/{id}: the page types the name to lose the disk; scripts (the
 * API) say delete_disks=true instead. The audit row keeps the name, which
 * the log shows once the VM is gone. */
static int vms_delete(struct req *r)
{
    char *name = NULL;
    int rc = vm_remove(r, req_param(r, "id")->num, disks_asked(r), !r->api, &name);
    if (name)
        r->audit_detail = json_pack("{s:s, s:b}", "name", name, "delete_disks", disks_asked(r));
    g_free(name);
    if (rc < 0)
        return -1;
    r->data = json_pack("{s:b}", "deleted", 1);
    r->location = g_strdup("/vms");
    return 0;
}

static const char *const clones[] = { "linked", "full", NULL };
static const char *const reboot_modes[] = { "graceful", "force", NULL };

static const struct field create_fields[] = {
    { "name", FIELD_NAME, true, 1, 64, NULL },
    { "description", FIELD_TEXT, false, 0, 1000, NULL },
    { "template_id", FIELD_INT, false, 1, INT64_MAX, NULL },
    { "iso_id", FIELD_INT, false, 1, INT64_MAX, NULL },
    { "vcpus", FIELD_INT, true, 1, 64, NULL },
    { "max_vcpus", FIELD_INT, false, 1, 64, NULL },   /* issue 17 */
    { "max_memory_mb", FIELD_INT, false, 64, 1048576, NULL },
    { "memory_mb", FIELD_INT, true, 64, 1048576, NULL },
    { "disk_gb", FIELD_INT, false, 1, 65536, NULL },
    { "clone", FIELD_ENUM, false, 0, 0, clones },
    { "cpu_model", FIELD_STRING, false, 1, 64, NULL },   /* checked with libvirt */
    { "start", FIELD_BOOL },
    { "autostart", FIELD_BOOL },
    { "vnc_password", FIELD_STRING, false, 1, VNC_PASSWORD_LEN, NULL },
    { "graphics", FIELD_ENUM, false, 0, 0, graphics_types },   /* issue 20 */
    { "network_ids", FIELD_ID_LIST, false, 1, 8, NULL },
    { "network_id", FIELD_INT, false, 1, INT64_MAX, NULL },
    { "ip", FIELD_STRING, false, 7, 15, NULL },
    { .name = "arch", .type = FIELD_ENUM, .choices = arches },
    { "install", FIELD_FREE_OBJECT, false, 1, 9 },   /* issue 18: lib/web/install_form.h */
    { "install_config_id", FIELD_INT, false, 1, INT64_MAX, NULL },
    { "pool", FIELD_INT, false, 1, INT64_MAX, NULL },   /* issue 12 */
    { "host_id", FIELD_INT, false, 1, INT64_MAX, NULL },   /* issue 19: admins only */
    { NULL },
};
static const struct field wizard_fields[] = {
    { "step", FIELD_ENUM, true, 0, 0, wizard_steps },
    { "name", FIELD_NAME, false, 1, 64, NULL },
    { "iso_id", FIELD_INT, false, 1, INT64_MAX, NULL },
    { "vcpus", FIELD_INT, false, 1, 64, NULL },
    { "memory_mb", FIELD_INT, false, 64, 1048576, NULL },
    { "disk_gb", FIELD_INT, false, 1, 65536, NULL },
    { "network_id", FIELD_INT, false, 0, INT64_MAX, NULL },   /* 0: none chosen */
    { "install_type", FIELD_ENUM, false, 0, 0, wizard_types },
    { "install_config_id", FIELD_INT, false, 0, INT64_MAX, NULL },
    { "hostname", FIELD_STRING, false, 0, 63, NULL },
    { "user", FIELD_STRING, false, 0, 32, NULL },
    { "password", FIELD_STRING, false, 0, 256, NULL },
    { "ssh_keys", FIELD_TEXT, false, 0, 65536, NULL },
    { "packages", FIELD_TEXT, false, 0, 8192, NULL },
    { "commands", FIELD_TEXT, false, 0, 65536, NULL },
    { "user_data", FIELD_TEXT, false, 0, 65536, NULL },
    { "after_install", FIELD_ENUM, false, 0, 0, after_choices },
    { NULL },
};
static const char *const boot_devices[] = { "normal", "cdrom", NULL };
static const char *const boot_order_devices[] = { "hd", "cdrom", NULL };

static const struct field action_fields[] = {
    { "boot", FIELD_ENUM, false, 0, 0, boot_devices },
    { "force", FIELD_BOOL },
    { "timeout", FIELD_INT, false, 0, 300, NULL },
    { "mode", FIELD_ENUM, false, 0, 0, reboot_modes },
    { NULL },
};
static const struct field delete_fields[] = { { "delete_disks", FIELD_BOOL }, { NULL } };
/* The page's form also carries the name typed to confirm. */
static const struct field delete_form_fields[] = {
    { "delete_disks", FIELD_BOOL }, { "confirm_name", FIELD_STRING, false, 0, 64, NULL }, { NULL },
};
/* A batch also deletes (one action is no route of its own: DELETE /vms/{id}). */
static const char *const batch_actions[] = { "start", "stop", "reboot", "pause", "resume",
                                             "suspend", "wakeup", "delete", NULL };
static const struct field batch_fields[] = {
    { "action", FIELD_ENUM, true, 0, 0, batch_actions },
    { "ids", FIELD_ID_LIST, true, 1, 100, NULL },
    { "force", FIELD_BOOL },
    { "delete_disks", FIELD_BOOL },
    /* the page's second step of a delete */
    { "confirmed", FIELD_BOOL },
    { "confirm_name", FIELD_STRING, false, 0, 64, NULL },
    { NULL },
};
static const struct field update_fields[] = {
    { "name", FIELD_NAME, false, 1, 64, NULL },
    { "description", FIELD_TEXT, false, 0, 1000, NULL },
    { "autostart", FIELD_BOOL },
    { "vcpus", FIELD_INT, false, 1, 64, NULL },
    { "memory_mb", FIELD_INT, false, 64, 1048576, NULL },
    { "cpu_model", FIELD_STRING, false, 1, 64, NULL },   /* checked with libvirt */
    { "boot_order", FIELD_ENUM_LIST, false, 1, 2, boot_order_devices },
    /* issue 20: the console */
    { "graphics", FIELD_ENUM, false, 0, 0, graphics_types },
    { "console_listen", FIELD_STRING, false, 7, 45, NULL },
    { "console_keymap", FIELD_ENUM, false, 0, 0, graphics_keymaps },
    { "vnc_password", FIELD_STRING, false, 1, VNC_PASSWORD_LEN, NULL },
    { NULL },
};
/* The VM page's Graphics form. */
static const struct field graphics_form_fields[] = {
    { "graphics", FIELD_ENUM, true, 0, 0, graphics_types },
    { NULL },
};

static const struct field export_fields[] = { { NULL } };
static const char *const migrate_modes[] = { "live", "live_storage", "offline", NULL };
static const struct field migrate_fields[] = {
    { .name = "host_id", .type = FIELD_INT, .required = true, .min = 1, .max = INT64_MAX },
    { .name = "mode", .type = FIELD_ENUM, .choices = migrate_modes },
    { .name = "max_downtime_ms", .type = FIELD_INT, .min = 1, .max = 60000 },
    { .name = "max_bandwidth_mibs", .type = FIELD_INT, .min = 1, .max = 1000000 },
    { .name = "auto_converge", .type = FIELD_BOOL },
    { NULL },
};

static const struct field import_fields[] = {
    { "name", FIELD_NAME, false, 1, 64, NULL },
    { "description", FIELD_TEXT, false, 0, 1000, NULL },
    { "vcpus", FIELD_INT, false, 1, 64, NULL },
    { "memory_mb", FIELD_INT, false, 64, 1048576, NULL },
    { "network_ids", FIELD_ID_LIST, false, 0, 8, NULL },
    { "pool", FIELD_INT, false, 1, INT64_MAX, NULL },
    { "host_id", FIELD_INT, false, 1, INT64_MAX, NULL },   /* admins only */
    { "start", FIELD_BOOL },
    { "autostart", FIELD_BOOL },
    { NULL },
};
static const struct field no_fields[] = { { NULL } };

static const char *const clone_modes[] = { "linked", "full", NULL };
static const struct field clone_fields[] = {
    { "name", FIELD_STRING, true, 1, 64 },
    { "host_id", FIELD_INT, false, 1, INT64_MAX, NULL },   /* issue 19: admins, the source's */
    { "mode", FIELD_ENUM, false, 0, 0, clone_modes },
    { "snapshot_id", FIELD_INT, false, 1, INT64_MAX },
    { "backup_id", FIELD_INT, false, 1, INT64_MAX },
    { "start", FIELD_BOOL },
    { NULL },
};

static const struct route routes[] = {
    { "GET", "/vms", vms_list, PERM_USER, ROUTE_BOTH, "vms.tpl", N_("Virtual machines"),
      .cached = true,
      .summary = "List the VMs the caller may see (filters: q, state, owner_id, template_id, arch)", .reply = REPLY_LIST,
      .statuses = STATUSES(400) },
    { "POST", "/vms", vms_create, PERM_USER, ROUTE_API, NULL, NULL, create_fields, "vm.create",
      .summary = "Create a VM from a template or an ISO (201, creating; meta.job)", .reply = REPLY_CREATED,
      .statuses = STATUSES(400, 403, 404, 409, 413, 422, 502) },
    { "GET", "/vms/new", vms_new_page, PERM_USER, ROUTE_PAGE, "vm_new.tpl", N_("New virtual machine") },
    { "POST", "/vms/new", vms_create, PERM_USER, ROUTE_PAGE, NULL, NULL, create_fields, "vm.create" },
    { "GET", "/vms/install", vms_wizard_page, PERM_USER, ROUTE_PAGE, "vm_install.tpl", N_("Install wizard") },
    { "POST", "/vms/install", vms_wizard_step, PERM_USER, ROUTE_PAGE, "vm_install.tpl",
      N_("Install wizard"), wizard_fields, "vm.create" },
    { "GET", "/vms/{id:int}", vms_show, PERM_USER, ROUTE_BOTH, "vm.tpl", N_("Virtual machine"),
      .summary = "Show a VM", .reply = REPLY_OBJECT,
      .statuses = STATUSES(404, 502) },
    { "GET", "/vms/{id:int}/history", vms_history, PERM_USER, ROUTE_API,
      .summary = "Operations on this VM", .reply = REPLY_ITEMS,
      .statuses = STATUSES(404) },
    { "GET", "/vms/{id:int}/install", vms_install_show, PERM_USER, ROUTE_API,
      .summary = "What the VM's automated install is given (user-data, ks.cfg or preseed.cfg, seed)",
      .reply = REPLY_OBJECT, .statuses = STATUSES(404) },
    { "POST", "/vms/batch", vms_batch, PERM_USER, ROUTE_BOTH, "vms_batch.tpl", N_("Batch action"),
      batch_fields, "vm.batch",
      .summary = "Run one action on many VMs (start, stop, reboot, pause, resume, suspend, wakeup, delete): per-id results", .reply = REPLY_OBJECT,
      .statuses = STATUSES(404, 409, 422, 502) },
    { "PATCH", "/vms/{id:int}", vms_update, PERM_USER, ROUTE_API, NULL, NULL, update_fields,
      "vm.update",
      .summary = "Change a VM (name, description, vCPUs, memory, CPU model, boot order, autostart, graphics, console; the VNC password also live)", .reply = REPLY_OBJECT,
      .statuses = STATUSES(404, 409, 422, 502) },
    { "POST", "/vms/{id:int}/graphics", vms_graphics_form, PERM_USER, ROUTE_PAGE, NULL, NULL,
      graphics_form_fields, "vm.update" },
    { "DELETE", "/vms/{id:int}", vms_delete, PERM_USER, ROUTE_API, NULL, NULL, delete_fields,
      "vm.delete",
      .summary = "Delete a VM (delete_disks: its disks too)", .reply = REPLY_OBJECT,
      .statuses = STATUSES(404, 409, 422, 502) },
    { "POST", "/vms/{id:int}/delete", vms_delete, PERM_USER, ROUTE_PAGE, NULL, NULL, delete_form_fields,
      "vm.delete" },
    { "POST", "/vms/{id:int}/migrate/check", vms_migrate_check, PERM_ADMIN, ROUTE_BOTH,
      "vm_migrate.tpl", N_("Migrate"), migrate_fields,
      .summary = "Whether a VM can move to a host now, and what blocks it", .reply = REPLY_OBJECT,
      .statuses = STATUSES(404, 422, 502) },
    { "POST", "/vms/{id:int}/migrate", vms_migrate, PERM_ADMIN, ROUTE_BOTH, NULL, NULL,
      migrate_fields, "vm.migrate",
      .summary = "Move a VM to another host (live, live with storage, offline)", .reply = REPLY_JOB,
      .statuses = STATUSES(404, 409, 422, 502) },
    { "POST", "/vms/{id:int}/clone", vms_clone, PERM_USER, ROUTE_API, NULL, NULL, clone_fields,
      "vm.clone",
      .summary = "Clone a stopped VM (linked or full), or make one from a snapshot or a backup", .reply = REPLY_CREATED,
      .statuses = STATUSES(404, 409, 422, 502) },
    { "POST", "/vms/{id:int}/export", vms_export, PERM_USER, ROUTE_API, NULL, NULL, export_fields,
      "vm.export",
      .summary = "Export a stopped VM as an OVA (OVF 1.0, streamOptimized VMDK, SHA-256 manifest): a job", .reply = REPLY_JOB,
      .statuses = STATUSES(404, 409, 502) },
    { "GET", "/vms/{id:int}/exports/{job:int}", vms_export_download, PERM_USER, ROUTE_API,
      .summary = "Download the OVA of a finished export", .reply = REPLY_RAW,
      .statuses = STATUSES(404, 409) },
    { "GET", "/vms/imports/{iid:int}", vms_import_show, PERM_USER, ROUTE_BOTH, "vm_import.tpl",
      N_("Import a virtual machine"),
      .summary = "The review of an OVA imported as a VM: what it asks for and how it maps here",
      .reply = REPLY_OBJECT, .statuses = STATUSES(404) },
    { "POST", "/vms/imports/{iid:int}", vms_import_create, PERM_USER, ROUTE_API, NULL, NULL,
      import_fields, "vm.import",
      .summary = "Make the VM of a reviewed OVA import (201, creating; meta.job)",
      .reply = REPLY_CREATED, .statuses = STATUSES(400, 403, 404, 409, 413, 422, 502) },
    { "POST", "/vms/imports/{iid:int}/create", vms_import_create, PERM_USER, ROUTE_PAGE, NULL,
      NULL, import_fields, "vm.import" },
    { "DELETE", "/vms/imports/{iid:int}", vms_import_discard, PERM_USER, ROUTE_API, NULL, NULL,
      no_fields, "vm.import_discard",
      .summary = "Give up an OVA import before its VM is made (its staged disk goes)",
      .reply = REPLY_OBJECT, .statuses = STATUSES(404, 409, 502) },
    { "POST", "/vms/imports/{iid:int}/discard", vms_import_discard, PERM_USER, ROUTE_PAGE, NULL,
      NULL, no_fields, "vm.import_discard" },
    { "POST", "/vms/{id:int}/{action}", vms_action, PERM_USER, ROUTE_BOTH, NULL, NULL,
      action_fields, "vm.action",
      .summary = "Power action: start, stop, reboot, pause, resume, suspend, wakeup", .reply = REPLY_JOB,
      .statuses = STATUSES(200, 404, 409, 422, 502) },
    { NULL },
};

int main(int argc, char **argv)
{
    return app_run(argv[0], routes);
}
