/* Many hosts and migration between them (issue 19): the hosts the helper
 * drives (host.add, host.remove, and a monitor that keeps each host's row
 * and its VMs' states current), the pre-check of a migration and the
 * migration itself, libvirt's own (virDomainMigrate3, the helper holding
 * both connections: no host needs to reach another's libvirtd). */
#include "migrate.h"

#include <glib.h>
#include <libvirt/virterror.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xpath.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "db.h"
#include "domain_xml.h"
#include "graphics.h"
#include "ip_pool.h"
#include "job.h"
#include "log.h"
#include "pool.h"
#include "rbac.h"
#include "vm.h"
#include "virt.h"

/* ------------------------------------------------------------ host facts */

/* Calls each(doc, node, data) for the nodes expr matches in xml (at most
 * max of them); a document libxml2 cannot read matches nothing. */
static void xml_each(const char *xml, const char *expr, int max,
                     void (*each)(xmlDocPtr doc, xmlNodePtr node, void *data), void *data)
{
    xmlDocPtr doc = xml ? xmlReadMemory(xml, (int)strlen(xml), "x.xml", NULL,
                                        XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING)
                        : NULL;
    if (!doc)
        return;
    xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
    xmlXPathObjectPtr res = xmlXPathEvalExpression(BAD_CAST expr, ctx);
    for (int i = 0; res && res->nodesetval && i < res->nodesetval->nodeNr && i < max; i++)
        each(doc, res->nodesetval->nodeTab[i], data);
    xmlXPathFreeObject(res);
    xmlXPathFreeContext(ctx);
    xmlFreeDoc(doc);
}

static void add_content(xmlDocPtr doc, xmlNodePtr node, void *list)
{
    xmlChar *t = xmlNodeGetContent(node);
    g_ptr_array_add(list, g_strdup((const char *)t));
    xmlFree(t);
}

static void add_serialized(xmlDocPtr doc, xmlNodePtr node, void *list)
{
    xmlBufferPtr buf = xmlBufferCreate();
    xmlNodeDump(buf, doc, node, 0, 0);
    g_ptr_array_add(list, g_strdup((const char *)xmlBufferContent(buf)));
    xmlBufferFree(buf);
}

/* Every match of expr in xml as strings (node content). */
static GPtrArray *xml_all(const char *xml, const char *expr)
{
    GPtrArray *list = g_ptr_array_new_with_free_func(g_free);
    xml_each(xml, expr, G_MAXINT, add_content, list);
    return list;
}

static char *first_of(GPtrArray *list)
{
    char *out = list->len ? g_strdup(g_ptr_array_index(list, 0)) : NULL;
    g_ptr_array_free(list, TRUE);
    return out;
}

/* The text of the first node expr matches in xml, or NULL (g_free it). */
static char *xml_first(const char *xml, const char *expr)
{
    return first_of(xml_all(xml, expr));
}

/* The serialized first element expr matches (the <cpu> of a domain or of
 * the host's capabilities), for libvirt's CPU comparison; NULL if none. */
static char *xml_element(const char *xml, const char *expr)
{
    GPtrArray *list = g_ptr_array_new_with_free_func(g_free);
    xml_each(xml, expr, 1, add_serialized, list);
    return first_of(list);
}

/* Each host decides KVM or TCG by its own capabilities: KVM when its
 * libvirt offers a kvm domain for x86_64 guests. */
static const char *host_accel(virConnectPtr conn)
{
    char *caps = virConnectGetDomainCapabilities(conn, NULL, "x86_64", NULL, "kvm", 0);
    free(caps);
    return caps ? "kvm" : "qemu";
}

/* Reads what the hosts page shows from the host and writes it to its row. */
static void host_refresh(long long host_id, virConnectPtr conn)
{
    virNodeInfo node;
    unsigned long version = 0;
    char *caps = virConnectGetCapabilities(conn);
    char *uuid = xml_first(caps, "/capabilities/host/uuid");
    char *hostname = virConnectGetHostname(conn);
    unsigned long long free_bytes = virNodeGetFreeMemory(conn);
    virConnectGetLibVersion(conn, &version);
    bool have_node = virNodeGetInfo(conn, &node) == 0;
    char version_text[32];
    snprintf(version_text, sizeof version_text, "%lu.%lu.%lu", version / 1000000,
             version / 1000 % 1000, version % 1000);
    db_exec("UPDATE hosts SET state = 'up', host_uuid = ?, hostname = LEFT(?, 255), "
            "libvirt_version = ?, cpus = ?, memory_mb = ?, free_memory_mb = ?, accel = ?, "
            "last_error = NULL, checked_at = UTC_TIMESTAMP() WHERE id = ?",
            DB_TEXT(uuid), DB_TEXT(hostname), DB_TEXT(version_text),
            DB_INT(have_node ? node.cpus : 0), DB_INT(have_node ? (long long)(node.memory / 1024) : 0),
            DB_INT((long long)(free_bytes >> 20)), DB_TEXT(host_accel(conn)), DB_INT(host_id));
    free(caps);
    g_free(uuid);
    free(hostname);
}

/* A host that answers again: its VMs' states from libvirt once more. */
static void host_resync(long long host_id, virConnectPtr conn)
{
    struct db_rows *rows = db_query("SELECT domain_name FROM vms WHERE host_id = ? AND "
                                    "state = 'unknown'", DB_INT(host_id));
    for (int i = 0; rows && i < rows->nrows; i++) {
        virDomainPtr dom = virDomainLookupByName(conn, db_cell(rows, i, 0));
        if (dom) {
            vm_state_sync(dom);
            virDomainFree(dom);
        }
    }
    db_rows_free(rows);
}

static void host_check(long long host_id)
{
    struct err err = { 0 };
    virConnectPtr conn = virt_conn_host(host_id, &err);
    if (conn) {
        host_refresh(host_id, conn);
        host_resync(host_id, conn);
        virConnectClose(conn);
        return;
    }
    if (err.status == 404)
        return;
    /* Down: what its VMs do is not known; nothing else changes. */
    db_exec("UPDATE hosts SET state = 'down', last_error = LEFT(?, 255), "
            "checked_at = UTC_TIMESTAMP() WHERE id = ?", DB_TEXT(err.message), DB_INT(host_id));
    db_exec("UPDATE vms SET state = 'unknown' WHERE host_id = ? AND state <> 'creating'",
            DB_INT(host_id));
}

static void *host_monitor(void *unused)
{
    for (;;) {
        struct db_rows *rows = db_query("SELECT id FROM hosts ORDER BY id");
        for (int i = 0; rows && i < rows->nrows; i++)
            host_check(db_cell_int(rows, i, 0, 0));
        db_rows_free(rows);
        long long s = config_int("hosts", "check_interval_s", 5);
        sleep(s < 1 ? 1 : s > 3600 ? 3600 : (unsigned)s);
    }
    return NULL;
}

void host_monitor_start(void)
{
    pthread_t thread;
    if (pthread_create(&thread, NULL, host_monitor, NULL) == 0)
        pthread_detach(thread);
}

/* ------------------------------------------------------------- host ops */

const struct field host_add_args[] = {
    { .name = "name", .type = FIELD_NAME, .required = true, .min = 1, .max = 64 },
    { .name = "uri", .type = FIELD_STRING, .required = true, .min = 1, .max = 255 },
    { .name = "migration_address", .type = FIELD_STRING, .min = 1, .max = 64 },
    { NULL },
};
const struct field host_id_args[] = {
    { .name = "host_id", .type = FIELD_INT, .required = true, .min = 1, .max = INT64_MAX },
    { NULL },
};

/* Only remote URIs libvirt connects to by itself with a key, certificates
 * or (tests) plain TCP; never a local socket path or a command. */
static bool uri_allowed(const char *uri)
{
    static const char *const prefixes[] = { "qemu+ssh://", "qemu+tls://", "qemu+tcp://", NULL };
    bool ok = false;
    for (int i = 0; prefixes[i]; i++)
        ok = ok || g_str_has_prefix(uri, prefixes[i]);
    return ok && g_str_has_suffix(uri, "/system") && !strchr(uri, '?');
}

int host_op_add(struct op_call *call)
{
    const char *name = json_string_value(json_object_get(call->args, "name"));
    const char *uri = json_string_value(json_object_get(call->args, "uri"));
    const char *maddr = json_string_value(json_object_get(call->args, "migration_address"));
    if (!uri_allowed(uri))
        return err_set(&call->err, 400, "invalid_uri", "uri",
                       "The URI must be qemu+ssh://, qemu+tls:// or qemu+tcp://HOST/system.");
    virConnectPtr conn = virConnectOpen(uri);
    if (!conn)
        return err_set(&call->err, 422, "host_unreachable", "uri",
                       "The host does not answer at this URI: %s", virGetLastErrorMessage());
    char *caps = virConnectGetCapabilities(conn);
    char *uuid = xml_first(caps, "/capabilities/host/uuid");
    free(caps);
    virConnectClose(conn);
    struct db_rows *same = db_query("SELECT name FROM hosts WHERE host_uuid = ? OR name = ? OR "
                                    "uri = ?", DB_TEXT(uuid), DB_TEXT(name), DB_TEXT(uri));
    int rc = -1;
    long long id = 0;
    if (!same)
        err_set(&call->err, 503, "database_unavailable", NULL, "The database is not available.");
    else if (same->nrows)
        err_set(&call->err, 409, "host_exists", "uri",
                "This host (or its name, or its libvirt host UUID) is already known as %s.",
                db_cell(same, 0, 0));
    else if (db_exec_id("INSERT INTO hosts (name, uri, migration_address, host_uuid) VALUES "
                        "(?, ?, ?, ?)", &id, DB_TEXT(name), DB_TEXT(uri), DB_TEXT(maddr),
                        DB_TEXT(uuid)) < 0)
        err_set(&call->err, 409, "host_exists", "name", "This host is already known.");
    else
        rc = 0;
    db_rows_free(same);
    g_free(uuid);
    if (rc == 0) {
        host_check(id);
        call->result = json_pack("{s:I}", "id", (json_int_t)id);
    }
    return rc;
}

int host_op_remove(struct op_call *call)
{
    long long id = json_integer_value(json_object_get(call->args, "host_id"));
    if (id == VIRT_LOCAL_HOST)
        return err_set(&call->err, 409, "host_in_use", NULL, "The helper's own host stays.");
    unsigned long long n = 0;
    if (db_exec_count("DELETE FROM hosts WHERE id = ? AND NOT EXISTS "
                      "(SELECT 1 FROM vms WHERE host_id = ?)", &n, DB_INT(id), DB_INT(id)) < 0)
        return err_set(&call->err, 409, "host_in_use", NULL,
                       "Virtual machines are on this host; migrate or delete them first.");
    if (!n)
        return err_set(&call->err, 409, "host_in_use", NULL,
                       "Virtual machines are on this host (or there is no such host).");
    virt_forget_host(id);
    call->result = json_pack("{s:I}", "id", (json_int_t)id);
    return 0;
}

/* ------------------------------------------------------------ migration */

static const char *const migrate_modes[] = { "live", "live_storage", "offline", NULL };
const struct field migrate_args[] = {
    { .name = "vm_id", .type = FIELD_INT, .required = true, .min = 1, .max = INT64_MAX },
    { .name = "host_id", .type = FIELD_INT, .required = true, .min = 1, .max = INT64_MAX },
    { .name = "mode", .type = FIELD_ENUM, .choices = migrate_modes },
    { .name = "max_downtime_ms", .type = FIELD_INT, .min = 1, .max = 60000 },
    { .name = "max_bandwidth_mibs", .type = FIELD_INT, .min = 1, .max = 1000000 },
    { .name = "auto_converge", .type = FIELD_BOOL },
    { NULL },
};

struct migration {
    long long vm_id, owner_id, src_id, dst_id;
    char *vm_name, *domain_name, *mode, *address;
    char *vnc_password;       /* the row's, NULL: none */
    bool own_listen;          /* the console listens where the portal says (no console_listen) */
    char *dest_xml, *persist_xml;   /* NULL: libvirt's own (graphics unchanged) */
    long long memory_mb;
    long long max_downtime_ms;
    long long max_bandwidth_mibs;   /* 0: libvirt's default (unlimited) */
    bool auto_converge;
    bool dst_shared;          /* the destination sees the helper's pool at the same path */
    virConnectPtr src, dst;
    virDomainPtr dom;
};

static void migration_free(struct migration *m)
{
    if (m->dom)
        virDomainFree(m->dom);
    if (m->src)
        virConnectClose(m->src);
    if (m->dst)
        virConnectClose(m->dst);
    g_free(m->vm_name);
    g_free(m->domain_name);
    g_free(m->mode);
    g_free(m->address);
    g_free(m->vnc_password);
    g_free(m->dest_xml);
    g_free(m->persist_xml);
}

/* The URI the source's QEMU sends to: tcp://ADDRESS of the destination,
 * its migration_address or the host part of its libvirt URI. */
static char *migration_address(const char *uri, const char *address)
{
    if (address && *address)
        return g_strdup_printf("tcp://%s", address);
    const char *start = uri ? strstr(uri, "://") : NULL;
    const char *end = start ? strpbrk(start + 3, "/:") : NULL;
    if (!end || end == start + 3)
        return NULL;   /* a local URI (qemu:///system): no address of its own */
    char *host = g_strndup(start + 3, (gsize)(end - start - 3));
    const char *at = strrchr(host, '@');
    char *out = g_strdup_printf("tcp://%s", at ? at + 1 : host);
    g_free(host);
    return out;
}

/* Loads what the check and the job need; 0, or -1 with err (404 for a VM
 * the actor may not touch). Connections stay open in m. */
static int migration_load(struct migration *m, json_t *args, const struct user *actor,
                          struct err *err)
{
    memset(m, 0, sizeof *m);
    m->vm_id = json_integer_value(json_object_get(args, "vm_id"));
    m->dst_id = json_integer_value(json_object_get(args, "host_id"));
    const char *mode = json_string_value(json_object_get(args, "mode"));
    m->mode = g_strdup(mode ? mode : "live");
    m->max_downtime_ms = json_integer_value(json_object_get(args, "max_downtime_ms"));
    m->max_bandwidth_mibs = json_integer_value(json_object_get(args, "max_bandwidth_mibs"));
    m->auto_converge = json_is_true(json_object_get(args, "auto_converge"));
    struct db_rows *rows = db_query(
        "SELECT v.owner_id, v.host_id, v.name, v.domain_name, v.memory_mb, h.uri, "
        "h.migration_address, v.vnc_password, v.console_listen IS NULL FROM vms v "
        "JOIN hosts h ON h.id = ? WHERE v.id = ?",
        DB_INT(m->dst_id), DB_INT(m->vm_id));
    if (!rows)
        return err_set(err, 503, "database_unavailable", NULL, "The database is not available.");
    int rc = -1;
    struct db_rows *vm = rows->nrows ? NULL : db_query("SELECT owner_id FROM vms WHERE id = ?",
                                                       DB_INT(m->vm_id));
    if (rows->nrows == 1 && rbac_may_touch(actor, db_cell_int(rows, 0, 0, 0))) {
        m->owner_id = db_cell_int(rows, 0, 0, 0);
        m->src_id = db_cell_int(rows, 0, 1, 1);
        m->vm_name = g_strdup(db_cell(rows, 0, 2));
        m->domain_name = g_strdup(db_cell(rows, 0, 3));
        m->memory_mb = db_cell_int(rows, 0, 4, 0);
        m->address = migration_address(db_cell(rows, 0, 5), db_cell(rows, 0, 6));
        m->vnc_password = g_strdup(db_cell(rows, 0, 7));
        m->own_listen = db_cell_int(rows, 0, 8, 0) == 1;
        rc = 0;
    } else if (vm && vm->nrows == 1 && rbac_may_touch(actor, db_cell_int(vm, 0, 0, 0))) {
        err_set(err, 404, "not_found", "host_id", "There is no such host.");
    } else {
        err_set(err, 404, "not_found", NULL, "There is no such virtual machine.");
    }
    db_rows_free(vm);
    db_rows_free(rows);
    if (rc < 0)
        return -1;
    if (!(m->src = virt_conn_host(m->src_id, err)))
        return -1;
    if (!(m->dom = virDomainLookupByName(m->src, m->domain_name)))
        return err_set(err, 409, "no_domain", NULL,
                       "This virtual machine has no domain in libvirt; see the reconcile report.");
    m->dst = virt_conn_host(m->dst_id, err);   /* NULL: a blocker the check names */
    memset(err, 0, sizeof *err);
    return 0;
}

static void blocker(json_t *list, const char *code, const char *fmt, ...) G_GNUC_PRINTF(3, 4);
static void blocker(json_t *list, const char *code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *text = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    json_array_append_new(list, json_pack("{s:s, s:s}", "code", code, "message", text));
    g_free(text);
}

/* The destination's answer on the VM's CPU: libvirt compares the CPU the
 * running guest was given (host-model expanded at start, or a named
 * model) with what the destination's hypervisor offers. */
static void check_cpu(struct migration *m, const char *xml, json_t *blockers, json_t *checks)
{
    char *cpu = xml_element(xml, "/domain/cpu");
    char *mode = xml_first(xml, "/domain/cpu/@mode");
    char *virttype = xml_first(xml, "/domain/@type");
    char *arch = xml_first(xml, "/domain/os/type/@arch");
    if (mode && !strcmp(mode, "host-passthrough")) {
        /* The guest sees the host's own CPU: the source host's must fit. */
        char *caps = virConnectGetCapabilities(m->src);
        g_free(cpu);
        cpu = xml_element(caps, "/capabilities/host/cpu");
        free(caps);
    }
    const char *verdict = "not_checked";
    if (cpu) {
        int r = virConnectCompareHypervisorCPU(m->dst, NULL, arch, NULL, virttype, cpu, 0);
        verdict = r == VIR_CPU_COMPARE_INCOMPATIBLE ? "incompatible"
                  : r < 0                           ? "not_checked"
                                                    : "compatible";
        if (r == VIR_CPU_COMPARE_INCOMPATIBLE)
            blocker(blockers, "cpu_incompatible",
                    "The destination's CPU lacks features the guest's CPU has.");
    }
    json_object_set_new(checks, "cpu", json_string(verdict));
    g_free(cpu);
    g_free(mode);
    g_free(virttype);
    g_free(arch);
}

/* Networks of the guest's NICs, active on the destination. */
static void check_networks(struct migration *m, const char *xml, json_t *blockers, json_t *checks)
{
    GPtrArray *nets = xml_all(xml, "/domain/devices/interface[@type='network']/source/@network");
    json_t *list = json_array();
    for (guint i = 0; i < nets->len; i++) {
        const char *net = g_ptr_array_index(nets, i);
        virNetworkPtr n = virNetworkLookupByName(m->dst, net);
        bool ok = n && virNetworkIsActive(n) == 1;
        if (n)
            virNetworkFree(n);
        json_array_append_new(list, json_pack("{s:s, s:b}", "network", net, "present", ok));
        if (!ok)
            blocker(blockers, "network_missing", "The network %s is not active on the destination.",
                    net);
    }
    json_object_set_new(checks, "networks", list);
    g_ptr_array_free(nets, TRUE);
}

/* Each disk's directory is a pool on the destination (the helper's own
 * disks pool is defined there if need be), and the destination sees the
 * disk itself (shared storage) unless the migration copies it: then it
 * must not, or the copy would be written onto the disk being read. */
static void check_pools(struct migration *m, const char *xml, json_t *blockers, json_t *checks)
{
    GPtrArray *files = xml_all(xml, "/domain/devices/disk[@device='disk']/source/@file");
    char *own = pool_path("disks", "");
    bool copy = !strcmp(m->mode, "live_storage");
    json_t *list = json_array();
    for (guint i = 0; i < files->len; i++) {
        const char *file = g_ptr_array_index(files, i);
        char *dir = g_path_get_dirname(file);
        bool ours = own && g_str_has_prefix(own, dir) && strlen(dir) + 1 >= strlen(own);
        struct err e = { 0 };
        virStoragePoolPtr p = ours ? pool_get(m->dst, "disks", &e)
                                   : virStoragePoolLookupByTargetPath(m->dst, dir);
        bool ok = p && virStoragePoolIsActive(p) == 1;
        virStorageVolPtr there = NULL;
        if (ok && virStoragePoolRefresh(p, 0) == 0)
            there = virStorageVolLookupByPath(m->dst, file);
        bool shared = there != NULL;
        if (there)
            virStorageVolFree(there);
        if (p)
            virStoragePoolFree(p);
        json_array_append_new(list, json_pack("{s:s, s:b, s:b}", "path", dir, "present", ok,
                                              "shared", shared));
        if (!ok)
            blocker(blockers, "pool_missing",
                    "No active storage pool on the destination holds %s.", dir);
        else if (copy && shared)
            blocker(blockers, "disk_shared",
                    "The destination already sees the disk %s (shared storage): migrate live "
                    "without copying the storage.", file);
        else if (!copy && !shared)
            blocker(blockers, "disk_not_shared",
                    "The destination does not see the disk %s: migrate live with its storage "
                    "(live_storage).", file);
        g_free(dir);
    }
    json_object_set_new(checks, "pools", list);
    g_free(own);
    g_ptr_array_free(files, TRUE);
}

static json_t *host_uuid_of(virConnectPtr conn)
{
    char *caps = virConnectGetCapabilities(conn);
    char *uuid = xml_first(caps, "/capabilities/host/uuid");
    free(caps);
    json_t *out = uuid ? json_string(uuid) : json_null();
    g_free(uuid);
    return out;
}

/* The pre-check: {ok, blockers:[{code,message}], checks:{...}}. */
static json_t *migration_check(struct migration *m)
{
    json_t *blockers = json_array(), *checks = json_object();
    int state = 0, reason = 0;
    virDomainGetState(m->dom, &state, &reason, 0);
    bool active = state == VIR_DOMAIN_RUNNING || state == VIR_DOMAIN_PAUSED ||
                  state == VIR_DOMAIN_BLOCKED;
    bool offline = !strcmp(m->mode, "offline");
    if (m->dst_id == m->src_id)
        blocker(blockers, "same_host", "The virtual machine is already on this host.");
    if (offline && state != VIR_DOMAIN_SHUTOFF)
        blocker(blockers, "wrong_state", "An offline migration needs the machine stopped.");
    if (!offline && !active)
        blocker(blockers, "wrong_state", "A live migration needs the machine running or paused.");
    if (!m->address && !offline)
        blocker(blockers, "no_migration_address",
                "The destination has no migration address; set one on the hosts page.");
    if (!m->dst) {
        blocker(blockers, "host_unavailable", "The destination host does not answer.");
    } else if (m->dst_id != m->src_id) {
        json_t *su = host_uuid_of(m->src), *du = host_uuid_of(m->dst);
        if (json_equal(su, du))
            blocker(blockers, "same_host_uuid",
                    "Both hosts have the same libvirt host UUID (host_uuid in libvirtd.conf).");
        json_object_set_new(checks, "source_host_uuid", su);
        json_object_set_new(checks, "destination_host_uuid", du);
        char *xml = virDomainGetXMLDesc(m->dom, 0);
        if (!offline)
            check_cpu(m, xml, blockers, checks);
        check_networks(m, xml, blockers, checks);
        check_pools(m, xml, blockers, checks);
        free(xml);
        unsigned long long free_mb = virNodeGetFreeMemory(m->dst) >> 20;
        json_object_set_new(checks, "destination_free_memory_mb", json_integer((json_int_t)free_mb));
        if (!offline && free_mb < (unsigned long long)m->memory_mb)
            blocker(blockers, "no_memory",
                    "The destination has %llu MiB free; the machine needs %lld MiB.", free_mb,
                    m->memory_mb);
        virDomainPtr there = virDomainLookupByName(m->dst, m->domain_name);
        if (there) {
            blocker(blockers, "domain_exists", "The destination already has a domain of this name.");
            virDomainFree(there);
        }
    }
    json_t *out = json_pack("{s:b, s:s, s:I, s:I, s:o, s:o}", "ok", json_array_size(blockers) == 0,
                            "mode", m->mode, "source_host_id", (json_int_t)m->src_id,
                            "host_id", (json_int_t)m->dst_id, "blockers", blockers, "checks", checks);
    return out;
}

int vm_op_migrate_check(struct op_call *call)
{
    struct migration m;
    int rc = migration_load(&m, call->args, call->actor, &call->err);
    if (rc == 0)
        call->result = migration_check(&m);
    migration_free(&m);
    return rc;
}

/* Runs virDomainMigrate3 off the job's thread, so the job can poll the
 * statistics and abort while libvirt migrates. */
struct migrate_run {
    struct migration *m;
    unsigned int flags;
    virDomainPtr result;
    char *error;
    bool done;
    pthread_mutex_t lock;
};

static void *migrate_thread(void *opaque)
{
    struct migrate_run *run = opaque;
    virTypedParameterPtr params = NULL;
    int n = 0, max = 0;
    if (run->m->address)
        virTypedParamsAddString(&params, &n, &max, VIR_MIGRATE_PARAM_URI, run->m->address);
    if (run->m->max_bandwidth_mibs)
        virTypedParamsAddULLong(&params, &n, &max, VIR_MIGRATE_PARAM_BANDWIDTH,
                                (unsigned long long)run->m->max_bandwidth_mibs);
    if (run->m->dest_xml)
        virTypedParamsAddString(&params, &n, &max, VIR_MIGRATE_PARAM_DEST_XML, run->m->dest_xml);
    if (run->m->persist_xml)
        virTypedParamsAddString(&params, &n, &max, VIR_MIGRATE_PARAM_PERSIST_XML,
                                run->m->persist_xml);
    virDomainPtr got = virDomainMigrate3(run->m->dom, run->m->dst, params, (unsigned)n, run->flags);
    char *error = got ? NULL : g_strdup(virGetLastErrorMessage());
    virTypedParamsFree(params, n);
    pthread_mutex_lock(&run->lock);
    run->result = got;
    run->error = error;
    run->done = true;
    pthread_mutex_unlock(&run->lock);
    return NULL;
}

static bool run_done(struct migrate_run *run)
{
    pthread_mutex_lock(&run->lock);
    bool done = run->done;
    pthread_mutex_unlock(&run->lock);
    return done;
}

/* One progress report from libvirt's job statistics; false to abort. */
static bool report_stats(struct job *job, struct migration *m, bool *downtime_set)
{
    int type = 0, n = 0;
    virTypedParameterPtr p = NULL;
    if (virDomainGetJobStats(m->dom, &type, &p, &n, 0) < 0 || type == VIR_DOMAIN_JOB_NONE) {
        virTypedParamsFree(p, n);
        return job_progress(job, 1);
    }
    if (m->max_downtime_ms && !*downtime_set)
        *downtime_set = virDomainMigrateSetMaxDowntime(m->dom, (unsigned long long)m->max_downtime_ms,
                                                       0) == 0;
    unsigned long long total = 0, remaining = 0, processed = 0, downtime = 0;
    virTypedParamsGetULLong(p, n, VIR_DOMAIN_JOB_DATA_TOTAL, &total);
    virTypedParamsGetULLong(p, n, VIR_DOMAIN_JOB_DATA_REMAINING, &remaining);
    virTypedParamsGetULLong(p, n, VIR_DOMAIN_JOB_DATA_PROCESSED, &processed);
    virTypedParamsGetULLong(p, n, VIR_DOMAIN_JOB_DOWNTIME, &downtime);
    virTypedParamsFree(p, n);
    int percent = total ? (int)((total - (remaining < total ? remaining : total)) * 98 / total) + 1 : 1;
    json_t *stats = json_pack("{s:I, s:I, s:I, s:I}", "data_total_bytes", (json_int_t)total,
                              "data_remaining_bytes", (json_int_t)remaining,
                              "data_processed_bytes", (json_int_t)processed,
                              "expected_downtime_ms", (json_int_t)downtime);
    job_result(job, stats);
    json_decref(stats);
    return job_progress(job, percent);
}

static unsigned int migration_flags(const struct migration *m)
{
    if (!strcmp(m->mode, "offline"))
        return VIR_MIGRATE_OFFLINE | VIR_MIGRATE_PERSIST_DEST | VIR_MIGRATE_UNDEFINE_SOURCE;
    unsigned int flags = VIR_MIGRATE_LIVE | VIR_MIGRATE_PERSIST_DEST | VIR_MIGRATE_UNDEFINE_SOURCE;
    if (!strcmp(m->mode, "live_storage"))
        flags |= VIR_MIGRATE_NON_SHARED_INC;   /* the overlay; templates are on every host */
    else
        /* Shared storage: the pre-check found each disk's directory in a
         * pool at the same path on the destination. libvirt's own safety
         * test knows only network filesystems and cache=none, so a host
         * sharing a local filesystem (the second host on this machine)
         * would be refused without this. */
        flags |= VIR_MIGRATE_UNSAFE;
    if (m->auto_converge)
        flags |= VIR_MIGRATE_AUTO_CONVERGE;
    return flags;
}

/* Deletes the volumes at paths (NULL: none) on conn, where it has them. */
static void volumes_delete(virConnectPtr conn, GPtrArray *paths)
{
    for (guint i = 0; paths && i < paths->len; i++) {
        virStorageVolPtr vol = virStorageVolLookupByPath(conn, g_ptr_array_index(paths, i));
        if (vol && virStorageVolDelete(vol, 0) < 0)
            log_warn("migration: %s stays: %s", (char *)g_ptr_array_index(paths, i),
                     virGetLastErrorMessage());
        if (vol)
            virStorageVolFree(vol);
    }
}

/* Issue 19: the VNC console follows the machine. On the local host QEMU
 * listens on 127.0.0.1 with the row's password; on another host on that
 * host's address, its password locked until a console sets a one-time
 * one (vm.c), or, for a host with no IPv4 address, on its loopback (no
 * console there). An address an admin chose (console_listen) stays. */
static void console_follows(struct migration *m)
{
    if (!m->own_listen)
        return;
    char *address = virt_host_address(m->dst_id);
    const char *listen = address ? address : GRAPHICS_LOOPBACK;
    const char *passwd = address ? NULL : m->vnc_password;
    const char *valid_to = address ? GRAPHICS_LOCKED : NULL;
    unsigned int secure = VIR_DOMAIN_XML_SECURE | VIR_DOMAIN_XML_MIGRATABLE;
    char *inactive = virDomainGetXMLDesc(m->dom, secure | VIR_DOMAIN_XML_INACTIVE);
    if (!strcmp(m->mode, "offline")) {
        m->dest_xml = domain_xml_graphics_moved(inactive, listen, passwd, valid_to);
    } else {
        char *live = virDomainGetXMLDesc(m->dom, secure);
        m->dest_xml = domain_xml_graphics_moved(live, listen, passwd, valid_to);
        m->persist_xml = domain_xml_graphics_moved(inactive, listen, passwd, valid_to);
        if (live)
            explicit_bzero(live, strlen(live));
        free(live);
    }
    if (inactive)
        explicit_bzero(inactive, strlen(inactive));
    free(inactive);
    g_free(address);
}

static int migrate_job(struct job *job)
{
    struct user *actor = user_by_id(job->actor_id);
    json_t *args = json_pack("{s:I, s:I}", "vm_id", (json_int_t)job->vm_id, "host_id",
                             (json_int_t)job->object_id);
    json_t *given = job_options(job);
    json_object_update(args, given);
    json_decref(given);
    struct migration m;
    struct err err = { 0 };
    int rc = actor ? migration_load(&m, args, actor, &err) : -1;
    json_decref(args);
    if (rc < 0) {
        job_fail_reason(job, err.code[0] ? err.code : "not_found",
                        err.message[0] ? err.message : "The virtual machine is gone.");
        user_free(actor);
        return -1;
    }
    json_t *check = migration_check(&m);
    if (!json_is_true(json_object_get(check, "ok"))) {
        json_t *first = json_array_get(json_object_get(check, "blockers"), 0);
        job_fail_reason(job, json_string_value(json_object_get(first, "code")),
                        json_string_value(json_object_get(first, "message")));
        job_result(job, check);
        json_decref(check);
        migration_free(&m);
        user_free(actor);
        return -1;
    }
    json_decref(check);
    /* The helper's own pools, at the same path on the destination. */
    struct err perr = { 0 };
    virStoragePoolPtr pool = pool_get(m.dst, "disks", &perr);
    if (pool)
        virStoragePoolFree(pool);
    /* Its addresses from the IP pools are served by the destination's
     * DHCP from the start (a lease renewed there finds its host entry);
     * the source's entries go once it has left. */
    struct err ierr = { 0 };
    if (ip_pool_vm_hosts(m.dst, m.vm_id, true, &ierr) < 0) {
        ip_pool_vm_hosts(m.dst, m.vm_id, false, NULL);
        job_fail_reason(job, ierr.code, ierr.message);
        migration_free(&m);
        user_free(actor);
        return -1;
    }
    char *line = g_strdup_printf("Migrating %s (%s) from host %lld to host %lld.", m.vm_name,
                                 m.mode, m.src_id, m.dst_id);
    job_log(job->id, line);
    g_free(line);

    console_follows(&m);
    /* Live with storage: the disks the source holds, and the one the
     * copy is written into on the destination, an overlay on the same
     * template (libvirt would make it without its backing file). */
    bool copy = !strcmp(m.mode, "live_storage");
    char *xml = copy ? virDomainGetXMLDesc(m.dom, 0) : NULL;
    GPtrArray *disks = copy ? xml_all(xml, "/domain/devices/disk[@device='disk']/source/@file")
                            : NULL;
    free(xml);
    struct err derr = { 0 };
    if (copy && vm_disk_precreate(m.dst, m.vm_id, actor, &derr) < 0) {
        ip_pool_vm_hosts(m.dst, m.vm_id, false, NULL);
        job_fail_reason(job, derr.code, derr.message);
        g_ptr_array_free(disks, TRUE);
        migration_free(&m);
        user_free(actor);
        return -1;
    }
    struct migrate_run run = { .m = &m, .flags = migration_flags(&m) };
    pthread_mutex_init(&run.lock, NULL);
    pthread_t thread;
    pthread_create(&thread, NULL, migrate_thread, &run);
    bool downtime_set = false, aborted = false;
    while (!run_done(&run)) {
        if (!aborted && !report_stats(job, &m, &downtime_set)) {
            aborted = true;
            job_log(job->id, "Cancel asked: aborting the migration.");
            virDomainAbortJob(m.dom);
        }
        g_usleep(500 * 1000);
    }
    pthread_join(thread, NULL);
    pthread_mutex_destroy(&run.lock);

    if (run.result) {
        /* The row follows the domain: its host, then its state there. */
        db_exec("UPDATE vms SET host_id = ?, updated_at = UTC_TIMESTAMP() WHERE id = ?",
                DB_INT(m.dst_id), DB_INT(m.vm_id));
        vm_state_sync(run.result);
        ip_pool_vm_hosts(m.src, m.vm_id, false, NULL);
        /* The copy runs there now: the source's disks go. */
        volumes_delete(m.src, disks);
        json_t *result = json_pack("{s:I, s:I, s:s}", "vm_id", (json_int_t)m.vm_id, "host_id",
                                   (json_int_t)m.dst_id, "state", vm_state_name(run.result));
        /* The downtime of the completed migration: the destination keeps
         * its statistics (the source's domain is undefined by now), the
         * source's only where it still has them. */
        unsigned long long downtime = 0;
        virDomainPtr sides[] = { run.result, m.dom };
        for (size_t i = 0; i < G_N_ELEMENTS(sides); i++) {
            int type = 0, n = 0;
            virTypedParameterPtr p = NULL;
            bool got = virDomainGetJobStats(sides[i], &type, &p, &n,
                                            VIR_DOMAIN_JOB_STATS_COMPLETED) == 0 &&
                       virTypedParamsGetULLong(p, n, VIR_DOMAIN_JOB_DOWNTIME, &downtime) == 1;
            virTypedParamsFree(p, n);
            if (got) {
                json_object_set_new(result, "downtime_ms", json_integer((json_int_t)downtime));
                break;
            }
        }
        virResetLastError();
        job_result(job, result);
        json_decref(result);
        job_log(job->id, "Migrated.");
        virDomainFree(run.result);
        rc = 0;
    } else {
        /* libvirt rolled back: the machine runs where it was. */
        vm_state_sync(m.dom);
        ip_pool_vm_hosts(m.dst, m.vm_id, false, NULL);
        /* What the copy wrote there (the pre-check found none of it there before). */
        volumes_delete(m.dst, disks);
        job_fail_reason(job, aborted ? "cancelled" : "migration_failed",
                        aborted ? "Cancelled; the machine stays where it was." : run.error);
        rc = aborted ? JOB_CANCELLED : -1;
    }
    g_free(run.error);
    if (disks)
        g_ptr_array_free(disks, TRUE);
    migration_free(&m);
    user_free(actor);
    return rc;
}

int vm_op_migrate(struct op_call *call)
{
    struct migration m;
    if (migration_load(&m, call->args, call->actor, &call->err) < 0) {
        migration_free(&m);
        return -1;
    }
    json_t *check = migration_check(&m);
    migration_free(&m);
    if (!json_is_true(json_object_get(check, "ok"))) {
        json_t *first = json_array_get(json_object_get(check, "blockers"), 0);
        err_set(&call->err, 409, "migration_blocked", NULL, "%s",
                json_string_value(json_object_get(first, "message")));
        json_decref(check);
        return -1;
    }
    json_decref(check);
    long long job_id = job_insert("vm.migrate", call->actor->id);
    /* The job's options ride in its result until it writes its own. */
    json_t *opts = json_object();
    const char *keys[] = { "mode", "max_downtime_ms", "max_bandwidth_mibs", "auto_converge", NULL };
    for (int i = 0; keys[i]; i++)
        if (json_object_get(call->args, keys[i]))
            json_object_set(opts, keys[i], json_object_get(call->args, keys[i]));
    long long vm_id = json_integer_value(json_object_get(call->args, "vm_id"));
    long long host_id = json_integer_value(json_object_get(call->args, "host_id"));
    struct job job = { .id = job_id, .vm_id = vm_id, .actor_id = call->actor->id, .object_id = host_id };
    if (job_id < 0 ||
        db_exec("UPDATE jobs SET vm_id = ?, target_name = (SELECT name FROM vms WHERE id = ?) "
                "WHERE id = ?", DB_INT(vm_id), DB_INT(vm_id), DB_INT(job_id)) < 0) {
        json_decref(opts);
        return err_set(&call->err, 503, "database_unavailable", NULL, "The database is not available.");
    }
    job_result(&job, opts);
    json_decref(opts);
    if (job_launch(job, migrate_job) < 0)
        return err_set(&call->err, 503, "helper_busy", NULL, "The migration could not start.");
    call->result = json_pack("{s:I}", "job_id", (json_int_t)job_id);
    return 0;
}

const struct op migrate_ops[] = {
    { .name = "host.add", .run = host_op_add, .args = host_add_args, .admin_only = true,
      .needs_actor = true },
    { .name = "host.remove", .run = host_op_remove, .args = host_id_args, .admin_only = true,
      .needs_actor = true },
    { .name = "vm.migrate_check", .run = vm_op_migrate_check, .args = migrate_args,
      .admin_only = true, .needs_actor = true },
    { .name = "vm.migrate", .run = vm_op_migrate, .args = migrate_args, .admin_only = true,
      .needs_actor = true },
    { NULL },
};
