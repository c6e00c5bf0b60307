#include "ova.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <glib.h>
#include <limits.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define OVF_MAX_BYTES (4 << 20)

static const char *local_name(xmlNodePtr n)
{
    return (const char *)n->name;
}

/* An attribute by local name, whatever its namespace prefix. */
static char *attr(xmlNodePtr n, const char *name)
{
    for (xmlAttrPtr a = n->properties; a; a = a->next)
        if (!strcmp((const char *)a->name, name))
            return (char *)xmlNodeGetContent((xmlNodePtr)a);
    return NULL;
}

static xmlNodePtr child(xmlNodePtr n, const char *name)
{
    for (xmlNodePtr c = n->children; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE && !strcmp(local_name(c), name))
            return c;
    return NULL;
}

static long long child_int(xmlNodePtr n, const char *name)
{
    xmlNodePtr c = child(n, name);
    xmlChar *text = c ? xmlNodeGetContent(c) : NULL;
    long long v = text ? strtoll((const char *)text, NULL, 10) : 0;
    xmlFree(text);
    return v;
}

static void child_text(xmlNodePtr n, const char *name, char *out, size_t size)
{
    xmlNodePtr c = child(n, name);
    xmlChar *text = c ? xmlNodeGetContent(c) : NULL;
    g_strlcpy(out, text ? (const char *)text : "", size);
    xmlFree(text);
}

/* A size in bytes from a count and OVF's units ("byte * 2^30"); 0 when it
 * does not fit (no wrapped-around product). */
static long long scaled(long long quantity, const char *units)
{
    int shift = !units ? 0 : strstr(units, "2^40") ? 40 : strstr(units, "2^30") ? 30
                           : strstr(units, "2^20") ? 20 : strstr(units, "2^10") ? 10 : 0;
    return quantity >= 0 && quantity <= (LLONG_MAX >> shift) ? quantity << shift : 0;
}

/* A virtual hardware item: ResourceType 3 is CPUs, 4 memory, 10 an
 * Ethernet adapter. */
static void read_item(xmlNodePtr item, struct ovf_info *info)
{
    long long type = child_int(item, "ResourceType");
    long long quantity = child_int(item, "VirtualQuantity");
    if (type == 10) {
        if (info->n_nics < OVF_MAX_NICS) {
            struct ovf_nic *nic = &info->nics[info->n_nics];
            child_text(item, "ElementName", nic->name, sizeof nic->name);
            child_text(item, "Connection", nic->network, sizeof nic->network);
            child_text(item, "ResourceSubType", nic->model, sizeof nic->model);
        }
        info->n_nics++;
    }
    if (type == 3 && quantity > 0)
        info->vcpus = quantity;
    if (type == 4 && quantity > 0) {
        xmlNodePtr u = child(item, "AllocationUnits");
        xmlChar *units = u ? xmlNodeGetContent(u) : NULL;
        const char *s = units ? (const char *)units : "byte * 2^20";
        /* A size beyond what MiB can count is no size (the import then
         * uses its default), never a wrapped-around product. */
        if (strstr(s, "2^30") || strstr(s, "GigaBytes"))
            info->memory_mb = quantity <= LLONG_MAX / 1024 ? quantity * 1024 : 0;
        else if (strstr(s, "2^10") || strstr(s, "KiloBytes"))
            info->memory_mb = quantity / 1024;
        else
            info->memory_mb = quantity;
        xmlFree(units);
    }
}

static void walk(xmlNodePtr n, struct ovf_info *info, char *disk_ref, size_t ref_size,
                 GHashTable *files)
{
    for (; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        const char *name = local_name(n);
        if (!strcmp(name, "VirtualSystem") && !info->name[0]) {
            xmlNodePtr nm = child(n, "Name");
            xmlChar *text = nm ? xmlNodeGetContent(nm) : NULL;
            char *id = text ? NULL : attr(n, "id");
            g_strlcpy(info->name, text ? (const char *)text : id ? id : "", sizeof info->name);
            xmlFree(text);
            xmlFree(id);
        } else if (!strcmp(name, "Item") || !strcmp(name, "StorageItem")) {
            read_item(n, info);
        } else if (!strcmp(name, "File")) {
            char *id = attr(n, "id"), *href = attr(n, "href");
            if (id && href)
                g_hash_table_insert(files, g_strdup(id), g_strdup(href));
            xmlFree(id);
            xmlFree(href);
        } else if (!strcmp(name, "Config")) {
            /* VMware's <vmw:Config vmw:key="firmware" vmw:value="efi"/>. */
            char *key = attr(n, "key"), *value = attr(n, "value");
            if (key && value && !strcmp(key, "firmware") && !g_ascii_strcasecmp(value, "efi"))
                g_strlcpy(info->firmware, "efi", sizeof info->firmware);
            xmlFree(key);
            xmlFree(value);
        } else if (!strcmp(name, "Disk")) {
            info->n_disks++;
        }
        if (!strcmp(name, "Disk") && !disk_ref[0]) {
            char *ref = attr(n, "fileRef"), *format = attr(n, "format");
            char *capacity = attr(n, "capacity"), *units = attr(n, "capacityAllocationUnits");
            info->disk_capacity = capacity ? scaled(strtoll(capacity, NULL, 10), units) : 0;
            xmlFree(capacity);
            xmlFree(units);
            if (ref) {
                g_strlcpy(disk_ref, ref, ref_size);
                const char *f = format ? format : "";
                g_strlcpy(info->disk_format, strstr(f, "vmdk") ? "vmdk" : strstr(f, "qcow") ? "qcow2"
                                             : strstr(f, "raw") ? "raw" : "vmdk",
                          sizeof info->disk_format);
            }
            xmlFree(ref);
            xmlFree(format);
        }
        walk(n->children, info, disk_ref, ref_size, files);
    }
}

/* A file name of the package itself: no directory, no "..". */
static bool plain_name(const char *name)
{
    return name[0] && !strchr(name, '/') && !strchr(name, '\\') && strcmp(name, ".") &&
           strcmp(name, "..");
}

/* Whether a member's path stays inside the package: relative, no ".."
 * step. */
static bool inside(const char *path)
{
    if (!path || !path[0] || path[0] == '/')
        return false;
    gchar **steps = g_strsplit(path, "/", -1);
    bool ok = true;
    for (gchar **s = steps; *s && ok; s++)
        ok = strcmp(*s, "..") != 0;
    g_strfreev(steps);
    return ok;
}

static int escaped(const char *path, struct err *err)
{
    return err_set(err, 422, "ova_path_escape", NULL,
                   "A member of the package has a path outside it (%.64s).", path ? path : "");
}

int ovf_parse(const char *xml, size_t len, struct ovf_info *info, struct err *err)
{
    memset(info, 0, sizeof *info);
    g_strlcpy(info->firmware, "bios", sizeof info->firmware);
    /* No network, no entity expansion: the descriptor is untrusted. */
    xmlDocPtr doc = xmlReadMemory(xml, (int)len, "package.ovf", NULL,
                                  XML_PARSE_NONET | XML_PARSE_NOWARNING | XML_PARSE_NOERROR);
    if (!doc)
        return err_set(err, 422, "bad_ovf", NULL, "The OVF descriptor is not valid XML.");
    char disk_ref[256] = "";
    GHashTable *files = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    walk(xmlDocGetRootElement(doc), info, disk_ref, sizeof disk_ref, files);
    const char *href = disk_ref[0] ? g_hash_table_lookup(files, disk_ref) : NULL;
    if (href)
        g_strlcpy(info->disk_href, href, sizeof info->disk_href);
    g_hash_table_destroy(files);
    xmlFreeDoc(doc);
    if (!info->disk_href[0])
        return err_set(err, 422, "bad_ovf", NULL, "The OVF descriptor names no disk.");
    if (!plain_name(info->disk_href))
        return err_set(err, 422, "ova_path_escape", NULL,
                       "The OVF names its disk by a path (%.64s), not a file of the package.",
                       info->disk_href);
    return 0;
}

static struct archive *ova_open(const char *path)
{
    struct archive *a = archive_read_new();
    archive_read_support_format_tar(a);
    if (archive_read_open_filename(a, path, 1 << 16) != ARCHIVE_OK) {
        archive_read_free(a);
        return NULL;
    }
    return a;
}

static bool is_ovf(const char *name)
{
    return name && g_str_has_suffix(name, ".ovf");
}

/* The first .ovf member, read into memory (bounded). */
static char *read_ovf(const char *ova, size_t *len, struct err *err)
{
    struct archive *a = ova_open(ova);
    struct archive_entry *e;
    char *xml = NULL;
    if (!a) {
        err_set(err, 422, "bad_ova", NULL, "The file is not an OVA (tar) package.");
        return NULL;
    }
    int rc;
    while ((rc = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
        if (!inside(archive_entry_pathname(e))) {
            escaped(archive_entry_pathname(e), err);
            break;
        }
        if (!is_ovf(archive_entry_pathname(e)))
            continue;
        la_int64_t size = archive_entry_size(e);
        if (size <= 0 || size > OVF_MAX_BYTES) {
            err_set(err, 422, "bad_ovf", NULL, "The OVF descriptor is empty or too large.");
            break;
        }
        xml = g_malloc((size_t)size + 1);
        la_ssize_t got = archive_read_data(a, xml, (size_t)size);
        if (got != size) {
            g_free(xml);
            xml = NULL;
            err_set(err, 422, "bad_ova", NULL, "The OVA package is truncated.");
            break;
        }
        xml[size] = '\0';
        *len = (size_t)size;
        break;
    }
    if (!xml && !err->status)
        err_set(err, 422, rc == ARCHIVE_EOF ? "ova_without_ovf" : "bad_ova", NULL,
                rc == ARCHIVE_EOF ? "The OVA package has no OVF descriptor."
                                  : "The file is not an OVA (tar) package.");
    archive_read_free(a);
    return xml;
}

static int write_member(struct archive *a, const char *disk_path, struct err *err)
{
    int fd = open(disk_path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return err_set(err, 503, "storage_error", NULL, "The disk cannot be extracted.");
    const void *buf;
    size_t size;
    la_int64_t offset;
    int rc, result = 0;
    while ((rc = archive_read_data_block(a, &buf, &size, &offset)) == ARCHIVE_OK) {
        if (pwrite(fd, buf, size, offset) != (ssize_t)size) {
            result = err_set(err, 507, "insufficient_storage", NULL,
                             "The disk could not be extracted (no space left?).");
            break;
        }
    }
    if (result == 0 && rc != ARCHIVE_EOF)
        result = err_set(err, 422, "bad_ova", NULL, "The OVA package is truncated.");
    close(fd);
    if (result < 0)
        unlink(disk_path);
    return result;
}

int ova_extract(const char *ova, const char *disk_path, struct ovf_info *info, struct err *err)
{
    size_t len = 0;
    char *xml = read_ovf(ova, &len, err);
    if (!xml)
        return -1;
    int rc = ovf_parse(xml, len, info, err);
    g_free(xml);
    if (rc < 0)
        return -1;
    struct archive *a = ova_open(ova);
    struct archive_entry *e;
    rc = -1;
    while (a && archive_read_next_header(a, &e) == ARCHIVE_OK) {
        const char *name = archive_entry_pathname(e);
        if (!inside(name)) {
            escaped(name, err);
            break;
        }
        if (!strncmp(name, "./", 2))
            name += 2;
        if (!strcmp(name, info->disk_href)) {
            if (archive_entry_filetype(e) != AE_IFREG || archive_entry_hardlink(e))
                err_set(err, 422, "bad_ova", NULL, "The disk of the package is not a plain file.");
            else
                rc = write_member(a, disk_path, err);
            break;
        }
    }
    if (a)
        archive_read_free(a);
    if (rc < 0 && !err->status)
        err_set(err, 422, "bad_ova", NULL, "The disk named by the OVF is not in the package.");
    return rc;
}
