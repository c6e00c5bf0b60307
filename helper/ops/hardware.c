#include "hardware.h"

#include <glib.h>
#include <libvirt/virterror.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xpath.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "db.h"
#include "../job.h"
#include "log.h"
#include "../pool.h"
#include "ip_pool.h"
#include "network.h"
#include "port_forward.h"
#include "rbac.h"
#include "../virt.h"

/* ------------------------------------------------------------ the VM --- */

struct hw_vm {
    long long id;
    long long owner_id;
    long long host_id;     /* the host its domain is on (issue 19) */
    char *domain_name;
    char *arch;
    char *iso_file;        /* the CD-ROM's ISO, NULL when empty */
    int vcpus;
    long long disk_gb;
    long long storage_pool_id;   /* issue 12: its first disk's pool; 0: the helper's */
};

static void hw_vm_free(struct hw_vm *vm)
{
    if (!vm)
        return;
    g_free(vm->domain_name);
    g_free(vm->arch);
    g_free(vm->iso_file);
    g_free(vm);
}
typedef struct hw_vm hw_vm;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(hw_vm, hw_vm_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(virConnect, virConnectClose)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(virDomain, virDomainFree)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(virStoragePool, virStoragePoolFree)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(virStorageVol, virStorageVolFree)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(virNetwork, virNetworkFree)

/* VM id if actor may touch it; else the 404 of a VM that does not exist. */
static struct hw_vm *hw_vm_load(long long id, const struct user *actor, struct err *err)
{
    struct db_rows *rows = db_query(
        "SELECT v.id, v.owner_id, v.domain_name, v.arch, i.file_name, v.vcpus, v.disk_gb, v.host_id, "
        "v.storage_pool_id "
        "FROM vms v LEFT JOIN isos i ON i.id = v.iso_id AND i.status = 'ready' WHERE v.id = ?",
        DB_INT(id));
    if (!rows) {
        err_set(err, 503, "database_unavailable", NULL, "The database is not available.");
        return NULL;
    }
    struct hw_vm *vm = NULL;
    if (rows->nrows == 1 && actor && rbac_may_touch(actor, db_cell_int(rows, 0, 1, 0))) {
        vm = g_new0(struct hw_vm, 1);
        vm->id = db_cell_int(rows, 0, 0, 0);
        vm->owner_id = db_cell_int(rows, 0, 1, 0);
        vm->domain_name = g_strdup(db_cell(rows, 0, 2));
        vm->arch = g_strdup(db_cell(rows, 0, 3));
        vm->iso_file = g_strdup(db_cell(rows, 0, 4));
        vm->vcpus = (int)db_cell_int(rows, 0, 5, 1);
        vm->disk_gb = db_cell_int(rows, 0, 6, 0);
        vm->host_id = db_cell_int(rows, 0, 7, VIRT_LOCAL_HOST);
        vm->storage_pool_id = db_cell_int(rows, 0, 8, 0);
    } else {
        err_set(err, 404, "not_found", NULL, "There is no such virtual machine.");
    }
    db_rows_free(rows);
    return vm;
}

/* Running or paused: a change must reach QEMU as well as the definition. */
static bool hw_active(virDomainPtr dom)
{
    return virDomainIsActive(dom) == 1;
}

static unsigned int hw_flags(virDomainPtr dom)
{
    return hw_active(dom) ? VIR_DOMAIN_AFFECT_LIVE | VIR_DOMAIN_AFFECT_CONFIG
                          : VIR_DOMAIN_AFFECT_CONFIG;
}

/* ------------------------------------------------------------ disks --- */

struct hw_disk {
    long long id;
    char *target;
    char *bus;
    char *format;
    char *cache;
    long long size_gb;
    char *file_name;
    char *state;
    long long storage_pool_id;   /* issue 12: an administrator's pool; 0: the helper's */
};

static void hw_disk_free(struct hw_disk *d)
{
    if (!d)
        return;
    g_free(d->target);
    g_free(d->bus);
    g_free(d->format);
    g_free(d->cache);
    g_free(d->file_name);
    g_free(d->state);
    g_free(d);
}
typedef struct hw_disk hw_disk;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(hw_disk, hw_disk_free)

#define DISK_COLUMNS "id, target, bus, format, cache, size_gb, file_name, state, storage_pool_id"

static struct hw_disk *disk_from_row(const struct db_rows *rows, int i)
{
    struct hw_disk *d = g_new0(struct hw_disk, 1);
    d->id = db_cell_int(rows, i, 0, 0);
    d->target = g_strdup(db_cell(rows, i, 1));
    d->bus = g_strdup(db_cell(rows, i, 2));
    d->format = g_strdup(db_cell(rows, i, 3));
    d->cache = g_strdup(db_cell(rows, i, 4));
    d->size_gb = db_cell_int(rows, i, 5, 0);
    d->file_name = g_strdup(db_cell(rows, i, 6));
    d->state = g_strdup(db_cell(rows, i, 7));
    d->storage_pool_id = db_cell_int(rows, i, 8, 0);
    return d;
}

/* The VM's disk by id or (id 0) by target; its file name must be the one
 * the program derives (<domain>-<target>.<format>), so a row edited by
 * hand cannot point the helper at another file. */
static struct hw_disk *disk_load(const struct hw_vm *vm, long long id, const char *target,
                                 struct err *err)
{
    struct db_rows *rows = db_query("SELECT " DISK_COLUMNS " FROM vm_disks WHERE vm_id = ? AND "
                                    "(id = ? OR (? = 0 AND target = ?))",
                                    DB_INT(vm->id), DB_INT(id), DB_INT(id), DB_TEXT(target));
    if (!rows) {
        err_set(err, 503, "database_unavailable", NULL, "The database is not available.");
        return NULL;
    }
    struct hw_disk *d = rows->nrows == 1 ? disk_from_row(rows, 0) : NULL;
    db_rows_free(rows);
    if (!d) {
        err_set(err, 404, "no_such_disk", NULL, "This virtual machine has no such disk.");
        return NULL;
    }
    char *expected = g_strdup_printf("%s-%s.%s", vm->domain_name, d->target, d->format);
    bool ok = !strcmp(expected, d->file_name) && pool_name_valid(d->file_name);
    g_free(expected);
    if (!ok) {
        err_set(err, 409, "disk_mismatch", NULL, "This disk's record does not match its volume.");
        hw_disk_free(d);
        return NULL;
    }
    return d;
}

static char *disk_xml_of(const struct hw_disk *d, char **path_out)
{
    char *path = pool_chosen_path(d->storage_pool_id, d->file_name);
    if (!path)
        return NULL;
    struct disk_spec spec = { .path = path, .format = d->format, .target = d->target,
                              .bus = d->bus, .cache = d->cache };
    char *xml = domain_xml_disk(&spec);
    if (path_out)
        *path_out = path;
    else
        free(path);
    return xml;
}

static char *volume_xml(const char *name, long long size_gb, const char *format)
{
    char capacity[32];
    snprintf(capacity, sizeof capacity, "%lld", size_gb);
    xmlDocPtr doc = xmlNewDoc(BAD_CAST "1.0");
    xmlNodePtr vol = xmlNewNode(NULL, BAD_CAST "volume");
    xmlDocSetRootElement(doc, vol);
    xmlNewTextChild(vol, NULL, BAD_CAST "name", BAD_CAST name);
    xmlNodePtr cap = xmlNewTextChild(vol, NULL, BAD_CAST "capacity", BAD_CAST capacity);
    xmlNewProp(cap, BAD_CAST "unit", BAD_CAST "GiB");
    /* Sparse either way: a raw file takes its space as the guest writes. */
    xmlNodePtr alloc = xmlNewTextChild(vol, NULL, BAD_CAST "allocation", BAD_CAST "0");
    xmlNewProp(alloc, BAD_CAST "unit", BAD_CAST "B");
    xmlNodePtr target = xmlNewChild(vol, NULL, BAD_CAST "target", NULL);
    xmlNewProp(xmlNewChild(target, NULL, BAD_CAST "format", NULL), BAD_CAST "type",
               BAD_CAST format);
    if (!strcmp(format, "qcow2"))   /* v3, for the bitmaps of incremental backups */
        xmlNewTextChild(target, NULL, BAD_CAST "compat", BAD_CAST "1.1");
    return xml_doc_string(doc);
}

static virStorageVolPtr volume_find(virStoragePoolPtr pool, const char *name)
{
    virStoragePoolRefresh(pool, 0);
    return virStorageVolLookupByName(pool, name);
}

static void volume_delete(virStoragePoolPtr pool, const char *name)
{
    g_autoptr(virStorageVol) vol = volume_find(pool, name);
    if (vol && virStorageVolDelete(vol, 0) < 0)
        log_warn("volume %s could not be deleted: %s", name, virGetLastErrorMessage());
}

static long long arg_int(const struct op_call *call, const char *name)
{
    return json_integer_value(json_object_get(call->args, name));
}

/* disk.add {vm_id, disk_id}: the row is 'adding'; makes its volume and
 * attaches it (live too when the machine runs). SATA has no hotplug on
 * q35 (AHCI): such a disk is added while the machine is stopped. */
static int op_disk_add(struct op_call *call)
{
    g_autoptr(hw_vm) vm = hw_vm_load(arg_int(call, "vm_id"), call->actor, &call->err);
    if (!vm)
        return -1;
    g_autoptr(hw_disk) d = disk_load(vm, arg_int(call, "disk_id"), NULL, &call->err);
    if (!d)
        return -1;
    if (strcmp(d->state, "adding"))
        return err_set(&call->err, 409, "wrong_state", NULL, "This disk is attached already.");
    g_autoptr(virConnect) conn = NULL;
    g_autoptr(virDomain) dom = virt_domain(vm->host_id, vm->domain_name, &conn, &call->err);
    if (!dom)
        return -1;
    bool active = hw_active(dom);
    if (active && !strcmp(d->bus, "sata"))
        return err_set(&call->err, 409, "no_hotplug", "bus",
                       "A SATA disk cannot be added while the machine runs; use virtio or scsi, "
                       "or stop it first.");
    g_autoptr(virStoragePool) pool = pool_get_chosen(conn, d->storage_pool_id, &call->err);
    if (!pool)
        return -1;
    char *xml = disk_xml_of(d, NULL);
    if (!xml)
        return err_set(&call->err, 422, "invalid_spec", NULL, "This disk cannot be built.");
    char *vxml = volume_xml(d->file_name, d->size_gb, d->format);
    g_autoptr(virStorageVol) vol = virStorageVolCreateXML(pool, vxml, 0);
    g_free(vxml);
    int rc = 0;
    if (!vol)
        rc = virt_error(&call->err, "Creating the disk");
    else if (virDomainAttachDeviceFlags(dom, xml, hw_flags(dom)) < 0) {
        rc = virt_error(&call->err, "Attaching the disk");
        virStorageVolDelete(vol, 0);
    } else if (db_exec("UPDATE vm_disks SET state = 'attached' WHERE id = ?", DB_INT(d->id)) < 0) {
        rc = err_set(&call->err, 503, "database_unavailable", NULL, "The database is not available.");
    }
    g_free(xml);
    if (rc == 0)
        call->result = json_pack("{s:s, s:b}", "target", d->target, "live", active);
    return rc;
}

/* The volume of a target: vda is the machine's first disk. */
static char *volume_name_of(const struct hw_vm *vm, const struct hw_disk *d)
{
    return d ? g_strdup(d->file_name) : g_strdup_printf("%s.qcow2", vm->domain_name);
}

/* disk.resize {vm_id, target}: grows the disk to its row's size; live with
 * virDomainBlockResize (the guest sees the new size at once), else the
 * volume. Never shrinks: a smaller size than the volume has is refused. */
static int op_disk_resize(struct op_call *call)
{
    g_autoptr(hw_vm) vm = hw_vm_load(arg_int(call, "vm_id"), call->actor, &call->err);
    if (!vm)
        return -1;
    const char *target = json_string_value(json_object_get(call->args, "target"));
    g_autoptr(hw_disk) d = NULL;
    long long size_gb = vm->disk_gb;
    if (strcmp(target, "vda")) {
        if (!(d = disk_load(vm, 0, target, &call->err)))
            return -1;
        if (strcmp(d->state, "attached"))
            return err_set(&call->err, 409, "wrong_state", NULL, "This disk is being changed.");
        size_gb = d->size_gb;
    }
    g_autoptr(virConnect) conn = NULL;
    g_autoptr(virDomain) dom = virt_domain(vm->host_id, vm->domain_name, &conn, &call->err);
    g_autoptr(virStoragePool) pool =
        dom ? pool_get_chosen(conn, d ? d->storage_pool_id : vm->storage_pool_id, &call->err) : NULL;
    if (!pool)
        return -1;
    char *name = volume_name_of(vm, d);
    g_autoptr(virStorageVol) vol = volume_find(pool, name);
    g_free(name);
    virStorageVolInfo info;
    if (!vol || virStorageVolGetInfo(vol, &info) < 0)
        return virt_error(&call->err, "Reading the disk");
    unsigned long long bytes = (unsigned long long)size_gb << 30;
    if (bytes < info.capacity)
        return err_set(&call->err, 422, "shrink_refused", "size_gb",
                       "A disk cannot shrink: it has %llu GiB.", info.capacity >> 30);
    int rc = 0;
    if (bytes == info.capacity)
        rc = 0;
    else if (hw_active(dom))
        rc = virDomainBlockResize(dom, target, bytes, VIR_DOMAIN_BLOCK_RESIZE_BYTES) < 0
                 ? virt_error(&call->err, "Growing the disk")
                 : 0;
    else
        rc = virStorageVolResize(vol, bytes, 0) < 0 ? virt_error(&call->err, "Growing the disk")
                                                    : 0;
    if (rc == 0)
        call->result = json_pack("{s:s, s:I, s:b}", "target", target, "size_gb",
                                 (json_int_t)size_gb, "live", hw_active(dom));
    return rc;
}

/* --- removal from a running guest: wait for libvirt's device-removed --- */

struct removal {
    char *domain_name;
    char *alias;
    bool removed;
    struct removal *next;
};

static pthread_mutex_t removal_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t removal_cond = PTHREAD_COND_INITIALIZER;
static struct removal *removals;

/* From libvirt's event loop thread. */
static void on_device_removed(virDomainPtr dom, const char *alias)
{
    pthread_mutex_lock(&removal_lock);
    for (struct removal *w = removals; w; w = w->next)
        if (!strcmp(w->domain_name, virDomainGetName(dom)) && !strcmp(w->alias, alias))
            w->removed = true;
    pthread_cond_broadcast(&removal_cond);
    pthread_mutex_unlock(&removal_lock);
}

static void removal_add(struct removal *w)
{
    pthread_mutex_lock(&removal_lock);
    w->next = removals;
    removals = w;
    pthread_mutex_unlock(&removal_lock);
}

/* Waits until the event came or the deadline passed, and unlists w. */
static bool removal_wait(struct removal *w, int seconds)
{
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += seconds;
    pthread_mutex_lock(&removal_lock);
    while (!w->removed)
        if (pthread_cond_timedwait(&removal_cond, &removal_lock, &deadline) != 0)
            break;
    bool removed = w->removed;
    for (struct removal **p = &removals; *p; p = &(*p)->next)
        if (*p == w) {
            *p = w->next;
            break;
        }
    pthread_mutex_unlock(&removal_lock);
    return removed;
}

/* The live alias ("virtio-disk1", "net1") of the device element whose
 * child key has attribute value (a disk by its target's dev, a NIC by
 * its mac's address), or NULL. */
static char *device_alias(virDomainPtr dom, const char *element, const char *key,
                          const char *attribute, const char *value)
{
    char *xml = virDomainGetXMLDesc(dom, 0);
    xmlDocPtr doc = xml ? xmlReadMemory(xml, (int)strlen(xml), "domain.xml", NULL,
                                        XML_PARSE_NONET | XML_PARSE_NOERROR |
                                            XML_PARSE_NOWARNING)
                        : NULL;
    free(xml);
    if (!doc)
        return NULL;
    char *alias = NULL;
    char *path = g_strdup_printf("/domain/devices/%s", element);
    xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
    xmlXPathObjectPtr found = xmlXPathEvalExpression(BAD_CAST path, ctx);
    g_free(path);
    for (int i = 0; found && found->nodesetval && i < found->nodesetval->nodeNr && !alias; i++) {
        xmlChar *got = NULL, *name = NULL;
        for (xmlNodePtr c = found->nodesetval->nodeTab[i]->children; c; c = c->next) {
            if (c->type != XML_ELEMENT_NODE)
                continue;
            if (!strcmp((const char *)c->name, key) && !got)
                got = xmlGetProp(c, BAD_CAST attribute);
            else if (!strcmp((const char *)c->name, "alias") && !name)
                name = xmlGetProp(c, BAD_CAST "name");
        }
        if (got && name && !g_ascii_strcasecmp((const char *)got, value))
            alias = g_strdup((const char *)name);
        xmlFree(got);
        xmlFree(name);
    }
    xmlXPathFreeObject(found);
    xmlXPathFreeContext(ctx);
    xmlFreeDoc(doc);
    return alias;
}

static char *disk_alias(virDomainPtr dom, const char *target)
{
    return device_alias(dom, "disk", "target", "dev", target);
}

static char *nic_alias(virDomainPtr dom, const char *mac)
{
    return device_alias(dom, "interface", "mac", "address", mac);
}

/* Asks a running guest to let go of a device (PCI unplug) and waits for
 * libvirt's device-removed event, at most [hardware] detach_timeout_s.
 * alias_of finds the device in the live XML again: an event lost to a
 * reconnect is no reason to fail. 0 when it is gone (or was not there),
 * -1 with err's message saying why it stays. */
static int unplug_wait(virDomainPtr dom, const struct hw_vm *vm, const char *what,
                       char *(*alias_of)(virDomainPtr, const char *), const char *key,
                       struct err *err)
{
    int seconds = (int)config_int("hardware", "detach_timeout_s", 30);
    char *alias = alias_of(dom, key);
    if (!alias)
        return 0;
    struct removal w = { .domain_name = vm->domain_name, .alias = alias };
    removal_add(&w);
    bool asked = virDomainDetachDeviceAlias(dom, alias, VIR_DOMAIN_AFFECT_LIVE) == 0;
    if (!asked)
        virt_error(err, "Detaching the device");
    bool removed = removal_wait(&w, asked ? seconds : 0);
    char *still = removed ? NULL : alias_of(dom, key);
    g_free(alias);
    if (!removed && !still)
        removed = true;
    g_free(still);
    if (removed)
        return 0;
    if (asked)
        err_set(err, 409, "guest_holds_device", NULL,
                "The guest did not let go of %s within %d s; it stays attached.", what, seconds);
    return -1;
}

/* Takes the device of xml (freed here; NULL: it could not be built) out
 * of the domain's definition; not in it (any more) is what we want too.
 * what names it in the error: "Removing the disk from the definition". */
static int definition_detach(virDomainPtr dom, char *xml, const char *what, struct err *err)
{
    int rc = 0;
    if (!xml || virDomainDetachDeviceFlags(dom, xml, VIR_DOMAIN_AFFECT_CONFIG) < 0) {
        virErrorPtr e = virGetLastError();
        if (!e || e->code != VIR_ERR_DEVICE_MISSING)
            rc = virt_error(err, what);
    }
    g_free(xml);
    return rc;
}

/* The disk is gone from the definition and the pool, and its row. */
static int disk_forget(virDomainPtr dom, virStoragePoolPtr pool, const struct hw_disk *d,
                       struct err *err)
{
    if (definition_detach(dom, disk_xml_of(d, NULL), "Removing the disk from the definition",
                          err) < 0)
        return -1;
    volume_delete(pool, d->file_name);
    db_exec("DELETE FROM vm_disks WHERE id = ?", DB_INT(d->id));
    return 0;
}

/* The job of a removal from a running guest: asks the guest to let go
 * (PCI unplug), then waits for libvirt's device-removed event; only then
 * does the definition lose the disk. A guest that keeps it fails the job
 * and the disk stays attached. */
static int remove_job(struct job *job)
{
    struct err err = { 0 };
    struct user *actor = user_by_id(job->actor_id);
    g_autoptr(hw_vm) vm = hw_vm_load(job->vm_id, actor, &err);
    user_free(actor);
    g_autoptr(hw_disk) d = vm ? disk_load(vm, job->object_id, NULL, &err) : NULL;
    g_autoptr(virConnect) conn = NULL;
    g_autoptr(virDomain) dom = d ? virt_domain(vm->host_id, vm->domain_name, &conn, &err) : NULL;
    g_autoptr(virStoragePool) pool = dom ? pool_get_chosen(conn, d->storage_pool_id, &err) : NULL;
    if (!pool) {
        job_message(job, err.message);
        return -1;
    }
    int rc = 0;
    if (hw_active(dom) && unplug_wait(dom, vm, d->target, disk_alias, d->target, &err) < 0) {
        db_exec("UPDATE vm_disks SET state = 'attached' WHERE id = ?", DB_INT(d->id));
        job_message(job, err.message);
        rc = -1;
    }
    if (rc == 0 && disk_forget(dom, pool, d, &err) < 0) {
        job_message(job, err.message);
        rc = -1;
    }
    if (rc == 0) {
        json_t *result = json_pack("{s:s, s:b}", "target", d->target, "removed", 1);
        job_result(job, result);
        json_decref(result);
    }
    return rc;
}

/* Marks row_id of table (vm_disks, vm_nics: ours, never a client's)
 * 'removing' and starts fn as job kind on it; the job's id, or -1 with
 * call->err set and the row as it was. */
static long long removal_launch(struct op_call *call, const struct hw_vm *vm, const char *kind,
                                const char *table, long long row_id, int (*fn)(struct job *))
{
    char *mark = g_strdup_printf("UPDATE %s SET state = 'removing' WHERE id = ? AND state = "
                                 "'attached'", table);
    char *undo = g_strdup_printf("UPDATE %s SET state = 'attached' WHERE id = ?", table);
    unsigned long long changed = 0;
    long long job_id = -1;
    if (db_exec_count(mark, &changed, DB_INT(row_id)) < 0 || changed != 1 ||
        (job_id = job_insert(kind, call->actor->id)) < 0 ||
        db_exec("UPDATE jobs SET vm_id = ? WHERE id = ?", DB_INT(vm->id), DB_INT(job_id)) < 0 ||
        job_launch((struct job){ .id = job_id, .vm_id = vm->id, .actor_id = call->actor->id,
                                 .object_id = row_id },
                   fn) < 0) {
        db_exec(undo, DB_INT(row_id));
        err_set(&call->err, 503, "job_failed", NULL, "The removal could not be started.");
        job_id = -1;
    }
    g_free(mark);
    g_free(undo);
    return job_id;
}

/* disk.remove {vm_id, disk_id}: a stopped machine loses the disk now; a
 * running one in a job (its id in the result) that ends with the guest's
 * release of the device. */
static int op_disk_remove(struct op_call *call)
{
    g_autoptr(hw_vm) vm = hw_vm_load(arg_int(call, "vm_id"), call->actor, &call->err);
    if (!vm)
        return -1;
    g_autoptr(hw_disk) d = disk_load(vm, arg_int(call, "disk_id"), NULL, &call->err);
    if (!d)
        return -1;
    if (strcmp(d->state, "attached"))
        return err_set(&call->err, 409, "wrong_state", NULL, "This disk is being changed.");
    g_autoptr(virConnect) conn = NULL;
    g_autoptr(virDomain) dom = virt_domain(vm->host_id, vm->domain_name, &conn, &call->err);
    g_autoptr(virStoragePool) pool = dom ? pool_get_chosen(conn, d->storage_pool_id, &call->err) : NULL;
    if (!pool)
        return -1;
    if (!hw_active(dom)) {
        if (disk_forget(dom, pool, d, &call->err) < 0)
            return -1;
        call->result = json_pack("{s:s, s:b}", "target", d->target, "removed", 1);
        return 0;
    }
    if (!strcmp(d->bus, "sata"))
        return err_set(&call->err, 409, "no_hotplug", NULL,
                       "A SATA disk cannot be removed while the machine runs; stop it first.");
    long long job_id = removal_launch(call, vm, "disk.remove", "vm_disks", d->id, remove_job);
    if (job_id < 0)
        return -1;
    call->result = json_pack("{s:s, s:I}", "target", d->target, "job_id", (json_int_t)job_id);
    return 0;
}

/* ------------------------------------------------------------- NICs --- */

struct hw_nic {
    long long id;
    char *network;
    char *mac;
    char *model;
    char *link_state;
    char *state;
    struct domain_nic limits;   /* bandwidth and VLAN only */
};

static void hw_nic_free(struct hw_nic *n)
{
    if (!n)
        return;
    g_free(n->network);
    g_free(n->mac);
    g_free(n->model);
    g_free(n->link_state);
    g_free(n->state);
    g_free(n);
}
typedef struct hw_nic hw_nic;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(hw_nic, hw_nic_free)

static struct hw_nic *nic_load(const struct hw_vm *vm, long long id, struct err *err)
{
    struct db_rows *rows = db_query("SELECT c.id, n.name, c.mac, c.model, c.link_state, c.state, "
                                    NETWORK_NIC_LIMITS " FROM vm_nics c JOIN networks n ON "
                                    "n.id = c.network_id WHERE c.vm_id = ? AND c.id = ?",
                                    DB_INT(vm->id), DB_INT(id));
    if (!rows) {
        err_set(err, 503, "database_unavailable", NULL, "The database is not available.");
        return NULL;
    }
    struct hw_nic *n = NULL;
    if (rows->nrows == 1) {
        n = g_new0(struct hw_nic, 1);
        n->id = db_cell_int(rows, 0, 0, 0);
        n->network = g_strdup(db_cell(rows, 0, 1));
        n->mac = g_strdup(db_cell(rows, 0, 2));
        n->model = g_strdup(db_cell(rows, 0, 3));
        n->link_state = g_strdup(db_cell(rows, 0, 4));
        n->state = g_strdup(db_cell(rows, 0, 5));
        network_nic_limits(rows, 0, 6, &n->limits);
    } else {
        err_set(err, 404, "no_such_interface", NULL, "This virtual machine has no such NIC.");
    }
    db_rows_free(rows);
    return n;
}

/* What a hardware op acts on: the VM (the actor's to touch), the NIC row
 * it changes (NULL for a change of the whole machine) and the VM's domain
 * with its connection. */
struct hw_target {
    struct hw_vm *vm;
    struct hw_nic *n;
    virConnectPtr conn;
    virDomainPtr dom;
};

static void hw_target_clear(struct hw_target *t)
{
    if (t->dom)
        virDomainFree(t->dom);
    if (t->conn)
        virConnectClose(t->conn);
    hw_nic_free(t->n);
    hw_vm_free(t->vm);
}
typedef struct hw_target hw_target;
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(hw_target, hw_target_clear)

/* Fills t with VM vm_id, its NIC nic_id (0: none; the NIC ops' tables
 * take 1 and up) and its domain, in that order of refusals; a NIC row not
 * in state (NULL: any) is refused with a 409 saying refusal. 0, or -1
 * with err. */
static int hw_target_open(struct hw_target *t, long long vm_id, const struct user *actor,
                           long long nic_id, const char *state, const char *refusal,
                           struct err *err)
{
    t->vm = hw_vm_load(vm_id, actor, err);
    if (!t->vm)
        return -1;
    if (nic_id && !(t->n = nic_load(t->vm, nic_id, err)))
        return -1;
    if (t->n && state && strcmp(t->n->state, state))
        return err_set(err, 409, "wrong_state", NULL, "%s", refusal);
    t->dom = virt_domain(t->vm->host_id, t->vm->domain_name, &t->conn, err);
    return t->dom ? 0 : -1;
}

static char *nic_xml_of(const struct hw_nic *n)
{
    struct domain_nic spec = n->limits;
    spec.network = n->network;
    spec.mac = n->mac;
    spec.model = n->model;
    spec.link_down = !strcmp(n->link_state, "down");
    return domain_xml_nic(&spec);
}

/* The MACs of an XML's <interface> elements (lower case) into macs. */
static void interface_macs(const char *xml, GHashTable *macs)
{
    xmlDocPtr doc = xml ? xmlReadMemory(xml, (int)strlen(xml), "domain.xml", NULL,
                                        XML_PARSE_NONET | XML_PARSE_NOERROR |
                                            XML_PARSE_NOWARNING)
                        : NULL;
    if (!doc)
        return;
    xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
    xmlXPathObjectPtr found =
        xmlXPathEvalExpression(BAD_CAST "/domain/devices/interface/mac/@address", ctx);
    for (int i = 0; found && found->nodesetval && i < found->nodesetval->nodeNr; i++) {
        xmlChar *mac = xmlNodeGetContent(found->nodesetval->nodeTab[i]);
        g_hash_table_add(macs, g_ascii_strdown((const char *)mac, -1));
        xmlFree(mac);
    }
    xmlXPathFreeObject(found);
    xmlXPathFreeContext(ctx);
    xmlFreeDoc(doc);
}

/* Whether any domain of this host, ours or not, running or defined, has
 * a NIC with mac: the database knows only the portal's NICs. */
static int mac_on_host(virConnectPtr conn, const char *mac, struct err *err)
{
    virDomainPtr *doms = NULL;
    int n = virConnectListAllDomains(conn, &doms, 0);
    if (n < 0)
        return virt_error(err, "Listing the domains");
    GHashTable *macs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    for (int i = 0; i < n; i++) {
        char *live = virDomainGetXMLDesc(doms[i], 0);
        char *stored = virDomainIsActive(doms[i]) == 1
                           ? virDomainGetXMLDesc(doms[i], VIR_DOMAIN_XML_INACTIVE)
                           : NULL;
        interface_macs(live, macs);
        interface_macs(stored, macs);
        free(live);
        free(stored);
        virDomainFree(doms[i]);
    }
    free(doms);
    char *lower = g_ascii_strdown(mac, -1);
    bool taken = g_hash_table_contains(macs, lower);
    g_free(lower);
    g_hash_table_destroy(macs);
    return taken ? 1 : 0;
}

/* A VM made without NIC rows has one NIC on vms.network whose MAC libvirt
 * chose; before another NIC joins it, that one becomes row 0, so that a
 * definition built from the rows keeps it. */
static int nic_record_implicit(virDomainPtr dom, const struct hw_vm *vm, struct err *err)
{
    struct db_rows *rows = db_query("SELECT COUNT(*) FROM vm_nics WHERE vm_id = ? AND state <> "
                                    "'adding'", DB_INT(vm->id));
    long long have = db_cell_int(rows, 0, 0, -1);
    db_rows_free(rows);
    if (have < 0)
        return err_set(err, 503, "database_unavailable", NULL, "The database is not available.");
    if (have > 0)
        return 0;
    char *xml = virDomainGetXMLDesc(dom, VIR_DOMAIN_XML_INACTIVE);
    GHashTable *macs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    interface_macs(xml, macs);
    free(xml);
    int rc = 0;
    if (g_hash_table_size(macs) == 1) {
        GHashTableIter it;
        gpointer mac;
        g_hash_table_iter_init(&it, macs);
        g_hash_table_iter_next(&it, &mac, NULL);
        if (db_exec("INSERT INTO vm_nics (vm_id, network_id, position, mac, state) SELECT v.id, "
                    "n.id, 0, ?, 'attached' FROM vms v JOIN networks n ON n.name = v.network "
                    "WHERE v.id = ?", DB_TEXT(mac), DB_INT(vm->id)) < 0)
            rc = err_set(err, 503, "database_unavailable", NULL, "The database is not available.");
    }
    g_hash_table_destroy(macs);
    return rc;
}

/* A VLAN tag needs a network libvirt can tag on: an Open vSwitch bridge
 * (its <virtualport type='openvswitch'/>). A Linux bridge, NAT, routed
 * or isolated network passes every frame untagged, so a tag there would
 * be silently ignored, or libvirt refuses it: 422 saying why. */
static int vlan_check(virConnectPtr conn, const struct hw_nic *n, struct err *err)
{
    if (!n->limits.vlan)
        return 0;
    g_autoptr(virNetwork) net = virNetworkLookupByName(conn, n->network);
    char *xml = net ? virNetworkGetXMLDesc(net, 0) : NULL;
    xmlDocPtr doc = xml ? xmlReadMemory(xml, (int)strlen(xml), "network.xml", NULL,
                                        XML_PARSE_NONET | XML_PARSE_NOERROR |
                                            XML_PARSE_NOWARNING)
                        : NULL;
    free(xml);
    bool ovs = false;
    if (doc) {
        xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
        xmlXPathObjectPtr found = xmlXPathEvalExpression(
            BAD_CAST "/network/virtualport[@type='openvswitch']", ctx);
        ovs = found && found->nodesetval && found->nodesetval->nodeNr > 0;
        xmlXPathFreeObject(found);
        xmlXPathFreeContext(ctx);
        xmlFreeDoc(doc);
    }
    if (!net)
        return virt_error(err, "Looking up the NIC's network");
    if (!ovs)
        return err_set(err, 422, "vlan_unsupported", "vlan",
                       "Network %s is not an Open vSwitch bridge: libvirt tags VLANs only on "
                       "Open vSwitch (and SR-IOV devices), so a tag here would not reach the "
                       "wire. Leave vlan out, or use a network on an Open vSwitch bridge.",
                       n->network);
    return 0;
}

/* libvirt shapes a running NIC with tc (an htb class and an sfq qdisc
 * for inbound, a police action for outbound); a kernel built without
 * those (sch_sfq, act_police) fails the command. That is the host's
 * limit, not a fault of the request: 422 saying so, not a bare 502. */
bool hw_error_is_tc(void)
{
    const char *why = virGetLastErrorMessage();
    return why && strstr(why, "Child process (tc ");
}

static int nic_libvirt_error(struct err *err, const char *what)
{
    const char *why = virGetLastErrorMessage();
    if (hw_error_is_tc())
        return err_set(err, 422, "bandwidth_unsupported", "bandwidth",
                       "This host's kernel cannot limit a running NIC's bandwidth (libvirt's tc "
                       "rules need the htb and sfq queueing disciplines and the police action; "
                       "tc said: %.80s). Leave bandwidth out, or set it while the machine is "
                       "stopped on a host that has them.",
                       strstr(why, "Error:") ? strstr(why, "Error:") : why);
    return virt_error(err, what);
}

/* Whether the NIC has these limits already (live if it runs, else
 * stored); false when libvirt cannot say. */
static bool bandwidth_is(virDomainPtr dom, const char *mac, const virTypedParameter *want, int n)
{
    unsigned flags = hw_active(dom) ? VIR_DOMAIN_AFFECT_LIVE : VIR_DOMAIN_AFFECT_CONFIG;
    int have_n = 0;
    if (virDomainGetInterfaceParameters(dom, mac, NULL, &have_n, flags) < 0 || have_n <= 0)
        return false;
    virTypedParameterPtr have = g_new0(virTypedParameter, have_n);
    bool same = virDomainGetInterfaceParameters(dom, mac, have, &have_n, flags) == 0;
    for (int i = 0; same && i < n; i++) {
        unsigned int value = 0;
        same = virTypedParamsGetUInt(have, have_n, want[i].field, &value) == 1 &&
               value == want[i].value.ui;
    }
    virTypedParamsClear(have, have_n);
    g_free(have);
    return same;
}

/* Sets the NIC's bandwidth limits with virDomainSetInterfaceParameters:
 * live on a running machine (libvirt's tc rules on its tap) and stored. */
static int bandwidth_set(virDomainPtr dom, const struct hw_nic *n, struct err *err)
{
    const struct domain_nic *l = &n->limits;
    /* An average of 0 takes that direction's limits away. */
    virTypedParameter params[] = {
        { .field = VIR_DOMAIN_BANDWIDTH_IN_AVERAGE, .type = VIR_TYPED_PARAM_UINT,
          .value.ui = l->in_average },
        { .field = VIR_DOMAIN_BANDWIDTH_IN_PEAK, .type = VIR_TYPED_PARAM_UINT,
          .value.ui = l->in_average ? l->in_peak : 0 },
        { .field = VIR_DOMAIN_BANDWIDTH_IN_BURST, .type = VIR_TYPED_PARAM_UINT,
          .value.ui = l->in_average ? l->in_burst : 0 },
        { .field = VIR_DOMAIN_BANDWIDTH_OUT_AVERAGE, .type = VIR_TYPED_PARAM_UINT,
          .value.ui = l->out_average },
        { .field = VIR_DOMAIN_BANDWIDTH_OUT_PEAK, .type = VIR_TYPED_PARAM_UINT,
          .value.ui = l->out_average ? l->out_peak : 0 },
        { .field = VIR_DOMAIN_BANDWIDTH_OUT_BURST, .type = VIR_TYPED_PARAM_UINT,
          .value.ui = l->out_average ? l->out_burst : 0 },
    };
    if (bandwidth_is(dom, n->mac, params, G_N_ELEMENTS(params)))
        return 0;   /* a link or model change: libvirt's tc is left alone */
    if (virDomainSetInterfaceParameters(dom, n->mac, params, G_N_ELEMENTS(params),
                                        hw_flags(dom)) < 0)
        return nic_libvirt_error(err, "Setting the NIC's bandwidth");
    return 0;
}

/* nic.add {vm_id, nic_id}: the row is 'adding' (its address, if its
 * network has a pool, allocated with it); its MAC must be free on the
 * whole host. The DHCP host entry first, then the attach, live too when
 * the machine runs; the row is 'attached' only when libvirt has it. */
static int op_nic_add(struct op_call *call)
{
    g_auto(hw_target) t = { 0 };
    if (hw_target_open(&t, arg_int(call, "vm_id"), call->actor, arg_int(call, "nic_id"),
                        "adding", "This NIC is attached already.", &call->err) < 0)
        return -1;
    int taken = mac_on_host(t.conn, t.n->mac, &call->err);
    if (taken < 0)
        return -1;
    if (taken)
        return err_set(&call->err, 409, "mac_taken", "mac",
                       "Another machine on this host has the MAC address %s.", t.n->mac);
    if (vlan_check(t.conn, t.n, &call->err) < 0)
        return -1;
    char *xml = nic_xml_of(t.n);
    if (!xml)
        return err_set(&call->err, 422, "invalid_spec", NULL, "This NIC cannot be built.");
    int rc = nic_record_implicit(t.dom, t.vm, &call->err);
    if (rc == 0)
        rc = ip_pool_nic_hosts(t.conn, t.vm->id, t.n->id, true, &call->err);
    if (rc == 0 && virDomainAttachDeviceFlags(t.dom, xml, hw_flags(t.dom)) < 0) {
        rc = nic_libvirt_error(&call->err, "Attaching the NIC");
        ip_pool_nic_hosts(t.conn, t.vm->id, t.n->id, false, NULL);
    }
    g_free(xml);
    if (rc == 0 &&
        db_exec("UPDATE vm_nics SET state = 'attached' WHERE id = ?", DB_INT(t.n->id)) < 0)
        rc = err_set(&call->err, 503, "database_unavailable", NULL, "The database is not available.");
    if (rc == 0)
        call->result = json_pack("{s:s, s:b}", "mac", t.n->mac, "live", hw_active(t.dom));
    return rc;
}

/* nic.update {vm_id, nic_id}: the row's bandwidth limits, link state and
 * model, live and stored (libvirt changes a running NIC's link only; the program refuses
 * a new model while the machine runs). */
static int op_nic_update(struct op_call *call)
{
    g_auto(hw_target) t = { 0 };
    if (hw_target_open(&t, arg_int(call, "vm_id"), call->actor, arg_int(call, "nic_id"),
                        NULL, NULL, &call->err) < 0)
        return -1;
    char *xml = nic_xml_of(t.n);
    if (!xml)
        return err_set(&call->err, 422, "invalid_spec", NULL, "This NIC cannot be built.");
    /* The limits first (libvirt's own call for them), then the link and
     * model from the same row: the device's XML carries the same limits. */
    int rc = bandwidth_set(t.dom, t.n, &call->err) < 0
                 ? -1
                 : virDomainUpdateDeviceFlags(t.dom, xml, hw_flags(t.dom));
    g_free(xml);
    if (rc < 0)
        return call->err.status ? -1 : virt_error(&call->err, "Changing the NIC");
    call->result = json_pack("{s:s, s:s, s:s, s:b}", "mac", t.n->mac, "model", t.n->model,
                             "link_state", t.n->link_state, "live", hw_active(t.dom));
    return 0;
}

/* The NIC is gone from the definition, the DHCP host entries and its
 * row (its address with it: ip_allocations cascades). */
static int nic_forget(virConnectPtr conn, virDomainPtr dom, const struct hw_vm *vm,
                      const struct hw_nic *n, struct err *err)
{
    if (definition_detach(dom, nic_xml_of(n), "Removing the NIC from the definition", err) < 0)
        return -1;
    ip_pool_nic_hosts(conn, vm->id, n->id, false, NULL);
    db_exec("DELETE FROM vm_nics WHERE id = ?", DB_INT(n->id));
    port_forward_sync(0, NULL);   /* its forwards went with the row */
    return 0;
}

/* The job of a NIC's removal from a running guest, as remove_job's. */
static int nic_remove_job(struct job *job)
{
    struct err err = { 0 };
    struct user *actor = user_by_id(job->actor_id);
    g_auto(hw_target) t = { 0 };
    int rc = hw_target_open(&t, job->vm_id, actor, job->object_id, NULL, NULL, &err);
    user_free(actor);
    if (rc == 0 && hw_active(t.dom) &&
        unplug_wait(t.dom, t.vm, t.n->mac, nic_alias, t.n->mac, &err) < 0) {
        db_exec("UPDATE vm_nics SET state = 'attached' WHERE id = ?", DB_INT(t.n->id));
        rc = -1;
    }
    if (rc == 0)
        rc = nic_forget(t.conn, t.dom, t.vm, t.n, &err);
    if (rc < 0) {
        job_message(job, err.message);
        return -1;
    }
    json_t *result = json_pack("{s:s, s:b}", "mac", t.n->mac, "removed", 1);
    job_result(job, result);
    json_decref(result);
    return 0;
}

/* nic.remove {vm_id, nic_id}: from a stopped machine now, from a running
 * one in a job that ends with the guest's release of the device. */
static int op_nic_remove(struct op_call *call)
{
    g_auto(hw_target) t = { 0 };
    if (hw_target_open(&t, arg_int(call, "vm_id"), call->actor, arg_int(call, "nic_id"),
                        "attached", "This NIC is being changed.", &call->err) < 0)
        return -1;
    if (!hw_active(t.dom)) {
        if (nic_forget(t.conn, t.dom, t.vm, t.n, &call->err) < 0)
            return -1;
        call->result = json_pack("{s:s, s:b}", "mac", t.n->mac, "removed", 1);
        return 0;
    }
    long long job_id = removal_launch(call, t.vm, "nic.remove", "vm_nics", t.n->id, nic_remove_job);
    if (job_id < 0)
        return -1;
    call->result = json_pack("{s:s, s:I}", "mac", t.n->mac, "job_id", (json_int_t)job_id);
    return 0;
}

/* ----------------------------------------------------------- CD-ROM --- */

/* cdrom.set {vm_id}: puts the row's ISO (or nothing) in the drive, live
 * and stored. A guest that locked the tray is overridden (forced), with
 * a warning in the result: its reads of the old disc fail. */
static int op_cdrom_set(struct op_call *call)
{
    g_autoptr(hw_vm) vm = hw_vm_load(arg_int(call, "vm_id"), call->actor, &call->err);
    if (!vm)
        return -1;
    if (vm->iso_file && !pool_name_valid(vm->iso_file))
        return err_set(&call->err, 409, "unknown_iso", NULL, "This ISO image cannot be used.");
    g_autoptr(virConnect) conn = NULL;
    g_autoptr(virDomain) dom = virt_domain(vm->host_id, vm->domain_name, &conn, &call->err);
    if (!dom)
        return -1;
    char *path = vm->iso_file ? pool_path("isos", vm->iso_file) : NULL;
    char *xml = domain_xml_cdrom(vm->arch, path);
    free(path);
    if (!xml)
        return err_set(&call->err, 422, "invalid_spec", NULL, "This CD-ROM cannot be built.");
    bool active = hw_active(dom), forced = false;
    int rc = virDomainUpdateDeviceFlags(dom, xml, hw_flags(dom));
    if (rc < 0 && active) {
        log_info("%s: the guest holds the CD-ROM tray (%s); forcing it", vm->domain_name,
                 virGetLastErrorMessage());
        rc = virDomainUpdateDeviceFlags(dom, xml, hw_flags(dom) | VIR_DOMAIN_DEVICE_MODIFY_FORCE);
        forced = rc == 0;
    }
    g_free(xml);
    if (rc < 0)
        return virt_error(&call->err, "Changing the CD-ROM");
    call->result = json_pack("{s:b, s:b}", "live", active, "forced", forced);
    return 0;
}

/* ---------------------------------------------------- vCPUs, memory --- */

/* vm.vcpus {vm_id}: the row's vCPU count, live up to the maximum the
 * machine was defined with (libvirt refuses more). */
static int op_vcpus_set(struct op_call *call)
{
    g_auto(hw_target) t = { 0 };
    if (hw_target_open(&t, arg_int(call, "vm_id"), call->actor, 0, NULL, NULL, &call->err) < 0)
        return -1;
    bool active = hw_active(t.dom);
    if (active && virDomainSetVcpusFlags(t.dom, (unsigned)t.vm->vcpus, VIR_DOMAIN_AFFECT_LIVE) < 0)
        return virt_error(&call->err, "Adding vCPUs");
    if (virDomainSetVcpusFlags(t.dom, (unsigned)t.vm->vcpus, VIR_DOMAIN_AFFECT_CONFIG) < 0)
        return virt_error(&call->err, "Changing the vCPUs");
    int live = active ? virDomainGetVcpusFlags(t.dom, VIR_DOMAIN_AFFECT_LIVE) : -1;
    call->result = json_pack("{s:i, s:b, s:i}", "vcpus", t.vm->vcpus, "live", active, "live_vcpus",
                             live);
    return 0;
}

/* vm.memory_add {vm_id, size_mb}: a DIMM of size_mb into NUMA node 0,
 * live and stored; the program has checked the room (maxMemory) and the
 * quota. The guest gets it as ACPI hot-added memory, offline until its
 * policy (udev, memhp_default_state) or its user onlines the blocks. */
static int op_memory_add(struct op_call *call)
{
    g_auto(hw_target) t = { 0 };
    if (hw_target_open(&t, arg_int(call, "vm_id"), call->actor, 0, NULL, NULL, &call->err) < 0)
        return -1;
    if (!hw_active(t.dom))
        return err_set(&call->err, 409, "wrong_state", NULL, "The machine is not running.");
    char *xml = domain_xml_dimm(arg_int(call, "size_mb"));
    if (!xml)
        return err_set(&call->err, 422, "not_aligned", "memory_mb",
                       "Memory is added in multiples of 128 MiB.");
    int rc = virDomainAttachDeviceFlags(t.dom, xml,
                                        VIR_DOMAIN_AFFECT_LIVE | VIR_DOMAIN_AFFECT_CONFIG);
    g_free(xml);
    if (rc < 0)
        return virt_error(&call->err, "Adding memory");
    virDomainInfo info;
    json_int_t live = virDomainGetInfo(t.dom, &info) == 0 ? (json_int_t)(info.maxMem >> 10) : -1;
    call->result = json_pack("{s:I}", "live_memory_mb", live);
    return 0;
}

/* ------------------------------------------- the definition, delete --- */

struct hardware_spec {
    struct disk_spec *disks;
    char **paths;
    int n;
    struct db_rows *rows;
};

struct hardware_spec *hardware_spec_fill(long long vm_id, const char *domain_name,
                                         struct domain_spec *spec)
{
    struct hardware_spec *hw = g_new0(struct hardware_spec, 1);
    hw->rows = db_query("SELECT target, bus, format, cache, file_name, "
                        "IFNULL(storage_pool_id, 0) FROM vm_disks WHERE "
                        "vm_id = ? AND state <> 'adding' ORDER BY target", DB_INT(vm_id));
    int n = hw->rows ? hw->rows->nrows : 0;
    hw->disks = g_new0(struct disk_spec, n + 1);
    hw->paths = g_new0(char *, n + 1);
    for (int i = 0; i < n; i++) {
        const char *file = db_cell(hw->rows, i, 4);
        char *expected = g_strdup_printf("%s-%s.%s", domain_name, db_cell(hw->rows, i, 0),
                                         db_cell(hw->rows, i, 2));
        bool ok = !strcmp(expected, file) && pool_name_valid(file);
        g_free(expected);
        if (!ok)
            continue;   /* a row edited by hand names no file of ours */
        hw->paths[hw->n] = pool_chosen_path(db_cell_int(hw->rows, i, 5, 0), file);
        if (!hw->paths[hw->n])
            continue;   /* its pool's row is gone */
        hw->disks[hw->n] = (struct disk_spec){ .path = hw->paths[hw->n],
                                               .target = db_cell(hw->rows, i, 0),
                                               .bus = db_cell(hw->rows, i, 1),
                                               .format = db_cell(hw->rows, i, 2),
                                               .cache = db_cell(hw->rows, i, 3) };
        hw->n++;
    }
    spec->extra_disks = hw->disks;
    spec->n_extra_disks = hw->n;

    struct db_rows *cpu = db_query("SELECT max_vcpus, cpu_sockets, cpu_cores, cpu_threads, "
                                   "max_memory_mb FROM vms WHERE id = ?", DB_INT(vm_id));
    spec->max_vcpus = (int)db_cell_int(cpu, 0, 0, 0);
    spec->sockets = (int)db_cell_int(cpu, 0, 1, 0);
    spec->cores = (int)db_cell_int(cpu, 0, 2, 0);
    spec->threads = (int)db_cell_int(cpu, 0, 3, 0);
    spec->max_memory_mb = db_cell_int(cpu, 0, 4, 0);
    db_rows_free(cpu);
    return hw;
}

void hardware_spec_free(struct hardware_spec *hw)
{
    if (!hw)
        return;
    for (int i = 0; i < hw->n; i++)
        free(hw->paths[i]);
    g_free(hw->paths);
    g_free(hw->disks);
    db_rows_free(hw->rows);
    g_free(hw);
}

int hardware_delete_volumes(virConnectPtr conn, long long vm_id, struct err *err)
{
    struct db_rows *rows = db_query("SELECT file_name, IFNULL(storage_pool_id, 0) FROM vm_disks "
                                    "WHERE vm_id = ?", DB_INT(vm_id));
    if (!rows)
        return err_set(err, 503, "database_unavailable", NULL, "The database is not available.");
    int rc = 0;
    /* Each disk in its own pool (issue 12: the helper's, or an admin's). */
    for (int i = 0; rc == 0 && i < rows->nrows; i++) {
        g_autoptr(virStoragePool) pool = pool_get_chosen(conn, db_cell_int(rows, i, 1, 0), err);
        if (!pool)
            rc = -1;
        else if (pool_name_valid(db_cell(rows, i, 0)))
            volume_delete(pool, db_cell(rows, i, 0));
    }
    db_rows_free(rows);
    return rc;
}

void hardware_init(void)
{
    virt_on_device_removed(on_device_removed);
    /* A removal whose job a restart ended: the guest may have let go or
     * not; the disk shows attached and the next removal asks again. An
     * add that never finished made no domain device (attach is last). */
    db_exec("UPDATE vm_disks SET state = 'attached' WHERE state = 'removing'");
    db_exec("DELETE FROM vm_disks WHERE state = 'adding' AND "
            "created_at < UTC_TIMESTAMP() - INTERVAL 1 MINUTE");
    db_exec("UPDATE vm_nics SET state = 'attached' WHERE state = 'removing'");
    db_exec("DELETE FROM vm_nics WHERE state = 'adding' AND "
            "created_at < UTC_TIMESTAMP() - INTERVAL 1 MINUTE");
}

/* ------------------------------------------------------------ table --- */

#define VM_ID { "vm_id", FIELD_INT, true, 1, INT64_MAX, NULL }

static const struct field disk_args[] = {
    VM_ID, { "disk_id", FIELD_INT, true, 1, INT64_MAX, NULL }, { NULL },
};
static const struct field resize_args[] = {
    VM_ID, { "target", FIELD_STRING, true, 3, 3, NULL }, { NULL },
};
static const struct field nic_args[] = {
    VM_ID, { "nic_id", FIELD_INT, true, 1, INT64_MAX, NULL }, { NULL },
};
static const struct field memory_args[] = {
    VM_ID, { .name = "size_mb", .type = FIELD_INT, .required = true, .min = 128, .max = 1048576 },
    { NULL },
};
static const struct field vm_args[] = { VM_ID, { NULL } };

const struct op hardware_ops[] = {
    { .name = "disk.add", .run = op_disk_add, .args = disk_args, .needs_actor = true },
    { .name = "disk.resize", .run = op_disk_resize, .args = resize_args, .needs_actor = true },
    { .name = "disk.remove", .run = op_disk_remove, .args = disk_args, .needs_actor = true },
    { .name = "cdrom.set", .run = op_cdrom_set, .args = vm_args, .needs_actor = true },
    { .name = "vm.vcpus", .run = op_vcpus_set, .args = vm_args, .needs_actor = true },
    { .name = "vm.memory_add", .run = op_memory_add, .args = memory_args, .needs_actor = true },
    { .name = "nic.add", .run = op_nic_add, .args = nic_args, .needs_actor = true },
    { .name = "nic.update", .run = op_nic_update, .args = nic_args, .needs_actor = true },
    { .name = "nic.remove", .run = op_nic_remove, .args = nic_args, .needs_actor = true },
    { NULL },
};
