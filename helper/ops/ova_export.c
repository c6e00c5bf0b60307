/* OVA export of a stopped VM (issue 19): a job that writes
 * pool_dir/exports/<job>.ova, a ustar archive (libarchive) holding, in the
 * order tools expect, the OVF 1.0 descriptor, its SHA-256 manifest, then
 * each disk as a streamOptimized VMDK (qemu-img convert). The portal
 * sends it with X-Accel-Redirect (GET /vms/{id}/exports/{job}); a newer
 * export of the same VM replaces the older file. */
#include "ova_export.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <jansson.h>
#include <libvirt/virterror.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xpath.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "db.h"
#include "domain_xml.h"
#include "job.h"
#include "log.h"
#include "pool.h"
#include "rbac.h"
#include "user.h"
#include "virt.h"

#define OVF_NS "http://schemas.dmtf.org/ovf/envelope/1"
#define RASD_NS "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData"
#define VSSD_NS "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_VirtualSystemSettingData"
#define VMDK_STREAM "http://www.vmware.com/interfaces/specifications/vmdk.html#streamOptimized"
#define MAX_DISKS 16

static const struct field export_args[] = {
    { .name = "vm_id", .type = FIELD_INT, .required = true, .min = 1, .max = INT64_MAX },
    { NULL },
};

struct export_vm {
    long long id, host_id, memory_mb;
    int vcpus;
    char *name, *domain_name, *state;
};

struct export_disk {
    char *source;      /* the VM's disk file */
    char *file;        /* diskN.vmdk, in the archive and the work directory */
    long long capacity, size;
};

static void export_vm_clear(struct export_vm *vm)
{
    g_free(vm->name);
    g_free(vm->domain_name);
    g_free(vm->state);
}

/* The VM if actor may touch it: 0, or -1 with a 404 in err. */
static int export_vm_load(long long id, const struct user *actor, struct export_vm *vm,
                          struct err *err)
{
    memset(vm, 0, sizeof *vm);
    struct db_rows *rows = db_query("SELECT owner_id, host_id, name, domain_name, state, vcpus, "
                                    "memory_mb FROM vms WHERE id = ?", DB_INT(id));
    if (!rows)
        return err_set(err, 503, "database_unavailable", NULL, "The database is not available.");
    int rc = -1;
    if (rows->nrows == 1 && rbac_may_touch(actor, db_cell_int(rows, 0, 0, 0))) {
        vm->id = id;
        vm->host_id = db_cell_int(rows, 0, 1, VIRT_LOCAL_HOST);
        vm->name = g_strdup(db_cell(rows, 0, 2));
        vm->domain_name = g_strdup(db_cell(rows, 0, 3));
        vm->state = g_strdup(db_cell(rows, 0, 4));
        vm->vcpus = (int)db_cell_int(rows, 0, 5, 1);
        vm->memory_mb = db_cell_int(rows, 0, 6, 0);
        rc = 0;
    } else {
        err_set(err, 404, "not_found", NULL, "There is no such virtual machine.");
    }
    db_rows_free(rows);
    return rc;
}

/* The disk files of the stopped domain (its definition), at most max;
 * how many. */
static int domain_disks(virDomainPtr dom, struct export_disk *disks, int max)
{
    char *xml = virDomainGetXMLDesc(dom, VIR_DOMAIN_XML_INACTIVE);
    xmlDocPtr doc = xml ? xmlReadMemory(xml, (int)strlen(xml), "domain.xml", NULL,
                                        XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING)
                        : NULL;
    free(xml);
    if (!doc)
        return -1;
    xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
    xmlXPathObjectPtr found =
        xmlXPathEvalExpression(BAD_CAST "/domain/devices/disk[@device='disk']/source/@file", ctx);
    int n = 0;
    for (int i = 0; found && found->nodesetval && i < found->nodesetval->nodeNr && n < max; i++) {
        xmlChar *path = xmlNodeGetContent(found->nodesetval->nodeTab[i]);
        disks[n].source = g_strdup((const char *)path);
        disks[n].file = g_strdup_printf("disk%d.vmdk", n + 1);
        n++;
        xmlFree(path);
    }
    xmlXPathFreeObject(found);
    xmlXPathFreeContext(ctx);
    xmlFreeDoc(doc);
    return n;
}

/* Runs argv (no shell); its stdout in *out when out is given. */
static bool run(char **argv, char **out)
{
    int status = -1;
    GSpawnFlags flags = G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL |
                        (out ? 0 : G_SPAWN_STDOUT_TO_DEV_NULL);
    return g_spawn_sync(NULL, argv, NULL, flags, NULL, NULL, out, NULL, &status, NULL) &&
           g_spawn_check_wait_status(status, NULL);
}

/* The disk's virtual size in bytes (qemu-img info), or -1. */
static long long virtual_size(const char *path)
{
    char *argv[] = { "qemu-img", "info", "-U", "--output=json", (char *)path, NULL };
    char *out = NULL;
    long long size = -1;
    if (run(argv, &out)) {
        json_t *info = json_loads(out, 0, NULL);
        json_t *v = json_object_get(info, "virtual-size");
        size = json_is_integer(v) ? (long long)json_integer_value(v) : -1;
        json_decref(info);
    }
    g_free(out);
    return size;
}

static xmlNodePtr text_child(xmlNodePtr parent, xmlNsPtr ns, const char *name, const char *text)
{
    return xmlNewTextChild(parent, ns, BAD_CAST name, BAD_CAST text);
}

static void ovf_prop(xmlNodePtr node, xmlNsPtr ovf, const char *name, const char *value)
{
    xmlNewNsProp(node, ovf, BAD_CAST name, BAD_CAST value);
}

/* One RASD Item; its children in the schema's (alphabetical) order. */
static xmlNodePtr rasd_item(xmlNodePtr hw, xmlNsPtr ns, xmlNsPtr rasd,
                            const char *const *pairs)
{
    xmlNodePtr item = xmlNewChild(hw, ns, BAD_CAST "Item", NULL);
    for (int i = 0; pairs[i]; i += 2)
        text_child(item, rasd, pairs[i], pairs[i + 1]);
    return item;
}

/* The OVF 1.0 descriptor: the disks, one network, one virtual system with
 * its CPUs, memory, a SCSI controller, the disks on it and one NIC. */
static char *ovf_descriptor(const struct export_vm *vm, const struct export_disk *disks, int n)
{
    xmlDocPtr doc = xmlNewDoc(BAD_CAST "1.0");
    xmlNodePtr env = xmlNewNode(NULL, BAD_CAST "Envelope");
    xmlDocSetRootElement(doc, env);
    xmlNsPtr ns = xmlNewNs(env, BAD_CAST OVF_NS, NULL);
    xmlSetNs(env, ns);
    xmlNsPtr ovf = xmlNewNs(env, BAD_CAST OVF_NS, BAD_CAST "ovf");
    xmlNsPtr rasd = xmlNewNs(env, BAD_CAST RASD_NS, BAD_CAST "rasd");
    xmlNsPtr vssd = xmlNewNs(env, BAD_CAST VSSD_NS, BAD_CAST "vssd");
    ovf_prop(env, ovf, "version", "1.0");
    char buf[64];

    xmlNodePtr refs = xmlNewChild(env, ns, BAD_CAST "References", NULL);
    xmlNodePtr section = xmlNewChild(env, ns, BAD_CAST "DiskSection", NULL);
    text_child(section, ns, "Info", "The virtual disks");
    for (int i = 0; i < n; i++) {
        xmlNodePtr file = xmlNewChild(refs, ns, BAD_CAST "File", NULL);
        snprintf(buf, sizeof buf, "file%d", i + 1);
        ovf_prop(file, ovf, "href", disks[i].file);
        ovf_prop(file, ovf, "id", buf);
        snprintf(buf, sizeof buf, "%lld", disks[i].size);
        ovf_prop(file, ovf, "size", buf);
        xmlNodePtr disk = xmlNewChild(section, ns, BAD_CAST "Disk", NULL);
        snprintf(buf, sizeof buf, "%lld", disks[i].capacity);
        ovf_prop(disk, ovf, "capacity", buf);
        snprintf(buf, sizeof buf, "vmdisk%d", i + 1);
        ovf_prop(disk, ovf, "diskId", buf);
        snprintf(buf, sizeof buf, "file%d", i + 1);
        ovf_prop(disk, ovf, "fileRef", buf);
        ovf_prop(disk, ovf, "format", VMDK_STREAM);
    }
    xmlNodePtr nets = xmlNewChild(env, ns, BAD_CAST "NetworkSection", NULL);
    text_child(nets, ns, "Info", "The logical networks");
    xmlNodePtr net = xmlNewChild(nets, ns, BAD_CAST "Network", NULL);
    ovf_prop(net, ovf, "name", "default");
    text_child(net, ns, "Description", "The network of the virtual machine's first NIC");

    xmlNodePtr sys = xmlNewChild(env, ns, BAD_CAST "VirtualSystem", NULL);
    ovf_prop(sys, ovf, "id", vm->domain_name);
    text_child(sys, ns, "Info", "A virtual machine exported by VMManager");
    text_child(sys, ns, "Name", vm->name);
    xmlNodePtr hw = xmlNewChild(sys, ns, BAD_CAST "VirtualHardwareSection", NULL);
    text_child(hw, ns, "Info", "Virtual hardware requirements");
    xmlNodePtr system = xmlNewChild(hw, ns, BAD_CAST "System", NULL);
    text_child(system, vssd, "ElementName", "Virtual Hardware Family");
    text_child(system, vssd, "InstanceID", "0");
    text_child(system, vssd, "VirtualSystemIdentifier", vm->domain_name);
    text_child(system, vssd, "VirtualSystemType", "vmx-07");

    char vcpus[16], cpu_name[48], memory[32], memory_name[48];
    snprintf(vcpus, sizeof vcpus, "%d", vm->vcpus);
    snprintf(cpu_name, sizeof cpu_name, "%d virtual CPU(s)", vm->vcpus);
    snprintf(memory, sizeof memory, "%lld", vm->memory_mb);
    snprintf(memory_name, sizeof memory_name, "%lld MB of memory", vm->memory_mb);
    rasd_item(hw, ns, rasd, (const char *const[]){ "AllocationUnits", "hertz * 10^6",
        "Description", "Number of virtual CPUs", "ElementName", cpu_name, "InstanceID", "1",
        "ResourceType", "3", "VirtualQuantity", vcpus, NULL });
    rasd_item(hw, ns, rasd, (const char *const[]){ "AllocationUnits", "byte * 2^20",
        "Description", "Memory size", "ElementName", memory_name, "InstanceID", "2",
        "ResourceType", "4", "VirtualQuantity", memory, NULL });
    rasd_item(hw, ns, rasd, (const char *const[]){ "Description", "SCSI controller",
        "ElementName", "scsiController0", "InstanceID", "3", "ResourceSubType", "lsilogic",
        "ResourceType", "6", NULL });
    for (int i = 0; i < n; i++) {
        char address[16], element[24], resource[32], instance[16];
        snprintf(address, sizeof address, "%d", i);
        snprintf(element, sizeof element, "disk%d", i + 1);
        snprintf(resource, sizeof resource, "ovf:/disk/vmdisk%d", i + 1);
        snprintf(instance, sizeof instance, "%d", 4 + i);
        rasd_item(hw, ns, rasd, (const char *const[]){ "AddressOnParent", address,
            "ElementName", element, "HostResource", resource, "InstanceID", instance,
            "Parent", "3", "ResourceType", "17", NULL });
    }
    char nic_instance[16];
    snprintf(nic_instance, sizeof nic_instance, "%d", 4 + n);
    rasd_item(hw, ns, rasd, (const char *const[]){ "AutomaticAllocation", "true",
        "Connection", "default", "ElementName", "ethernet0", "InstanceID", nic_instance,
        "ResourceSubType", "E1000", "ResourceType", "10", NULL });
    return xml_doc_string(doc);
}

/* SHA-256 of a file as lowercase hex, or NULL. */
static char *file_sha256(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    GChecksum *sum = g_checksum_new(G_CHECKSUM_SHA256);
    char *buf = g_malloc(1 << 20);
    ssize_t got;
    while ((got = read(fd, buf, 1 << 20)) > 0)
        g_checksum_update(sum, (const guchar *)buf, (gssize)got);
    close(fd);
    g_free(buf);
    char *hex = got == 0 ? g_strdup(g_checksum_get_string(sum)) : NULL;
    g_checksum_free(sum);
    return hex;
}

/* Adds the file at path to the archive as name. */
static bool archive_add(struct archive *a, const char *name, const char *path)
{
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) < 0) {
        if (fd >= 0)
            close(fd);
        return false;
    }
    struct archive_entry *e = archive_entry_new();
    archive_entry_set_pathname(e, name);
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_size(e, (la_int64_t)st.st_size);
    archive_entry_set_mtime(e, st.st_mtime, 0);
    bool ok = archive_write_header(a, e) == ARCHIVE_OK;
    char *buf = g_malloc(1 << 20);
    ssize_t got = 0;
    while (ok && (got = read(fd, buf, 1 << 20)) > 0)
        ok = archive_write_data(a, buf, (size_t)got) == got;
    ok = ok && got == 0;
    g_free(buf);
    close(fd);
    archive_entry_free(e);
    return ok;
}

/* The .ova at out: the descriptor, the manifest, the disks (in that
 * order), from the work directory dir. */
static bool write_ova(const char *out, const char *dir, const char *ovf_name,
                      const char *mf_name, const struct export_disk *disks, int n)
{
    struct archive *a = archive_write_new();
    bool ok = archive_write_set_format_ustar(a) == ARCHIVE_OK &&
              archive_write_open_filename(a, out) == ARCHIVE_OK;
    const char *names[MAX_DISKS + 2] = { ovf_name, mf_name };
    for (int i = 0; i < n; i++)
        names[2 + i] = disks[i].file;
    for (int i = 0; ok && i < n + 2; i++) {
        char *path = g_build_filename(dir, names[i], NULL);
        ok = archive_add(a, names[i], path);
        g_free(path);
    }
    ok = archive_write_close(a) == ARCHIVE_OK && ok;
    archive_write_free(a);
    return ok;
}

/* The export files of vm_id's exports but job_id's go (job_id 0: all). */
static void older_exports_remove(long long vm_id, long long job_id)
{
    struct db_rows *rows = db_query("SELECT id FROM jobs WHERE kind = 'vm.export' AND vm_id = ? "
                                    "AND id <> ?", DB_INT(vm_id), DB_INT(job_id));
    for (int i = 0; rows && i < rows->nrows; i++) {
        char *name = g_strdup_printf("%lld.ova", db_cell_int(rows, i, 0, 0));
        char *path = pool_path("exports", name);
        g_unlink(path);
        g_free(path);
        g_free(name);
    }
    db_rows_free(rows);
}

static void work_dir_remove(const char *dir)
{
    GDir *d = g_dir_open(dir, 0, NULL);
    const char *name;
    while (d && (name = g_dir_read_name(d))) {
        char *path = g_build_filename(dir, name, NULL);
        g_unlink(path);
        g_free(path);
    }
    if (d)
        g_dir_close(d);
    g_rmdir(dir);
}

static int export_job(struct job *job)
{
    struct err err = { 0 };
    struct user *actor = user_by_id(job->actor_id);
    struct export_vm vm;
    struct export_disk disks[MAX_DISKS] = { 0 };
    int n = 0, rc = -1;
    virConnectPtr conn = NULL;
    virDomainPtr dom = NULL;
    char *exports = pool_path("exports", "");
    char *work = g_strdup_printf("%s%lld.d", exports, job->id);
    char *ova_name = g_strdup_printf("%lld.ova", job->id);
    char *ova = pool_path("exports", ova_name);
    char *ovf_name = NULL, *mf_name = NULL;
    GString *mf = g_string_new(NULL);
    if (!actor || export_vm_load(job->vm_id, actor, &vm, &err) < 0)
        goto out;
    if (!(conn = virt_conn_host(vm.host_id, &err)))
        goto out;
    if (!(dom = virDomainLookupByName(conn, vm.domain_name))) {
        err_set(&err, 409, "no_domain", NULL, "This virtual machine has no domain in libvirt.");
        goto out;
    }
    if (virDomainIsActive(dom) != 0) {
        err_set(&err, 409, "wrong_state", NULL, "Stop the machine to export it.");
        goto out;
    }
    if ((n = domain_disks(dom, disks, MAX_DISKS)) <= 0) {
        err_set(&err, 422, "no_disks", NULL, "This machine has no disk to export.");
        goto out;
    }
    g_mkdir_with_parents(exports, 0711);
    if (g_mkdir(work, 0700) < 0 && errno != EEXIST) {
        err_set(&err, 503, "storage_error", NULL, "The export directory cannot be made.");
        goto out;
    }
    for (int i = 0; i < n; i++) {
        char *dst = g_build_filename(work, disks[i].file, NULL);
        char *argv[] = { "qemu-img", "convert", "-q", "-O", "vmdk", "-o",
                         "subformat=streamOptimized", disks[i].source, dst, NULL };
        struct stat st;
        disks[i].capacity = virtual_size(disks[i].source);
        bool ok = disks[i].capacity > 0 && run(argv, NULL) && stat(dst, &st) == 0;
        disks[i].size = ok ? (long long)st.st_size : 0;
        g_free(dst);
        if (!ok) {
            err_set(&err, 503, "storage_error", NULL, "A disk could not be converted.");
            goto out;
        }
        if (!job_progress(job, 5 + (i + 1) * 80 / n)) {
            rc = JOB_CANCELLED;
            goto out;
        }
    }
    /* The names inside are the domain's: a user's VM name never becomes a path. */
    ovf_name = g_strdup_printf("%s.ovf", vm.domain_name);
    mf_name = g_strdup_printf("%s.mf", vm.domain_name);
    char *descriptor = ovf_descriptor(&vm, disks, n);
    char *ovf_path = g_build_filename(work, ovf_name, NULL);
    bool written = descriptor && g_file_set_contents(ovf_path, descriptor, -1, NULL);
    g_free(descriptor);
    g_free(ovf_path);
    const char *manifest[MAX_DISKS + 1] = { ovf_name };
    for (int i = 0; i < n; i++)
        manifest[1 + i] = disks[i].file;
    for (int i = 0; written && i < n + 1; i++) {
        char *path = g_build_filename(work, manifest[i], NULL);
        char *hex = file_sha256(path);
        if (hex)
            g_string_append_printf(mf, "SHA256(%s)= %s\n", manifest[i], hex);
        written = hex != NULL;
        g_free(hex);
        g_free(path);
    }
    char *mf_path = g_build_filename(work, mf_name, NULL);
    written = written && g_file_set_contents(mf_path, mf->str, (gssize)mf->len, NULL);
    g_free(mf_path);
    if (!written || !write_ova(ova, work, ovf_name, mf_name, disks, n) ||
        chmod(ova, 0644) < 0) {
        err_set(&err, 503, "storage_error", NULL, "The OVA could not be written.");
        goto out;
    }
    struct stat st;
    stat(ova, &st);
    older_exports_remove(vm.id, job->id);
    char *download = g_strdup_printf("/api/v1/vms/%lld/exports/%lld", vm.id, job->id);
    json_t *result = json_pack("{s:I, s:s, s:I, s:s}", "vm_id", (json_int_t)vm.id, "file",
                               ova_name, "size_bytes", (json_int_t)st.st_size, "download",
                               download);
    job_result(job, result);
    json_decref(result);
    g_free(download);
    job_progress(job, 100);
    rc = 0;
out:
    if (rc != 0) {
        g_unlink(ova);
        job_fail_reason(job, rc == JOB_CANCELLED ? "cancelled" : err.code[0] ? err.code : "not_found",
                        rc == JOB_CANCELLED ? "Cancelled." : err.message[0] ? err.message
                                                              : "The virtual machine is gone.");
    }
    work_dir_remove(work);
    for (int i = 0; i < n; i++) {
        g_free(disks[i].source);
        g_free(disks[i].file);
    }
    if (dom)
        virDomainFree(dom);
    if (conn)
        virConnectClose(conn);
    if (actor)
        export_vm_clear(&vm);
    user_free(actor);
    g_string_free(mf, TRUE);
    g_free(ovf_name);
    g_free(mf_name);
    g_free(exports);
    g_free(work);
    g_free(ova_name);
    g_free(ova);
    return rc;
}

/* vm.export {vm_id}: a stopped VM's export, in a job; {job_id}. */
static int op_export(struct op_call *call)
{
    struct export_vm vm;
    long long vm_id = json_integer_value(json_object_get(call->args, "vm_id"));
    if (export_vm_load(vm_id, call->actor, &vm, &call->err) < 0)
        return -1;
    int rc = -1;
    long long job_id = -1;
    if (strcmp(vm.state, "stopped"))
        err_set(&call->err, 409, "wrong_state", NULL, "Stop the machine to export it.");
    else if ((job_id = job_insert("vm.export", call->actor->id)) < 0 ||
             db_exec("UPDATE jobs SET vm_id = ?, target_name = ? WHERE id = ?", DB_INT(vm_id),
                     DB_TEXT(vm.name), DB_INT(job_id)) < 0)
        err_set(&call->err, 503, "database_unavailable", NULL, "The database is not available.");
    else if (job_launch((struct job){ .id = job_id, .vm_id = vm_id, .actor_id = call->actor->id },
                        export_job) < 0)
        err_set(&call->err, 503, "helper_busy", NULL, "The export could not start.");
    else {
        call->result = json_pack("{s:I}", "job_id", (json_int_t)job_id);
        rc = 0;
    }
    export_vm_clear(&vm);
    return rc;
}

void ova_exports_remove(long long vm_id)
{
    older_exports_remove(vm_id, 0);
}

const struct op ova_export_ops[] = {
    { .name = "vm.export", .run = op_export, .args = export_args, .needs_actor = true },
    { NULL },
};
