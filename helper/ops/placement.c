/* host.place {vcpus, memory_mb, disk_gb, arch, host_id?}: the hosts a new
 * VM may be made on. A host has room when it runs the architecture, has at
 * least the vCPUs as CPUs, the memory free (free, buffers and page cache:
 * what the kernel gives a new guest) and the disk free in its disks pool.
 * Asked for a host, the answer is that host or why it has no room; else
 * every host with room, the fewest VMs first (then the lowest id), each
 * with what it has free: {host_id (the first), candidates: [{host_id,
 * memory_mb, disk_gb}]}. The portal reserves its choice among them in the
 * create's transaction, counting the VMs placed there and still being
 * made (cgi-bin/vmm-vms.c), which this measure cannot see. Quotas and the
 * IP registry are the portal's, global, and checked before this. */
#include "placement.h"

#include <glib.h>
#include <libvirt/virterror.h>
#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <string.h>

#include "db.h"
#include "pool.h"
#include "virt.h"

static const struct field place_args[] = {
    { .name = "vcpus", .type = FIELD_INT, .required = true, .min = 1, .max = 4096 },
    { .name = "memory_mb", .type = FIELD_INT, .required = true, .min = 1, .max = INT64_MAX },
    { .name = "disk_gb", .type = FIELD_INT, .required = true, .min = 0, .max = INT64_MAX },
    { .name = "arch", .type = FIELD_STRING, .required = true, .min = 1, .max = 15 },
    { .name = "host_id", .type = FIELD_INT, .min = 1, .max = INT64_MAX },
    { NULL },
};

struct want {
    long long vcpus, memory_mb, disk_gb;
    const char *arch;
};

/* Whether the capabilities list hvm guests of arch. */
static bool runs_arch(virConnectPtr conn, const char *arch)
{
    char *caps = virConnectGetCapabilities(conn);
    xmlDocPtr doc = caps ? xmlReadMemory(caps, (int)strlen(caps), "caps.xml", NULL,
                                         XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING)
                         : NULL;
    free(caps);
    if (!doc)
        return false;
    xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
    xmlXPathObjectPtr found =
        xmlXPathEvalExpression(BAD_CAST "/capabilities/guest[os_type='hvm']/arch/@name", ctx);
    bool yes = false;
    for (int i = 0; found && found->nodesetval && i < found->nodesetval->nodeNr && !yes; i++) {
        xmlChar *name = xmlNodeGetContent(found->nodesetval->nodeTab[i]);
        yes = name && !strcmp((const char *)name, arch);
        xmlFree(name);
    }
    xmlXPathFreeObject(found);
    xmlXPathFreeContext(ctx);
    xmlFreeDoc(doc);
    return yes;
}

/* MiB a new guest can have now: free memory, buffers and page cache. */
static long long spare_memory_mb(virConnectPtr conn)
{
    int n = 0;
    if (virNodeGetMemoryStats(conn, VIR_NODE_MEMORY_STATS_ALL_CELLS, NULL, &n, 0) < 0 || n <= 0)
        return -1;
    virNodeMemoryStatsPtr stats = g_new0(virNodeMemoryStats, n);
    unsigned long long spare = 0;
    if (virNodeGetMemoryStats(conn, VIR_NODE_MEMORY_STATS_ALL_CELLS, stats, &n, 0) == 0)
        for (int i = 0; i < n; i++)
            if (!strcmp(stats[i].field, VIR_NODE_MEMORY_STATS_FREE) ||
                !strcmp(stats[i].field, VIR_NODE_MEMORY_STATS_BUFFERS) ||
                !strcmp(stats[i].field, VIR_NODE_MEMORY_STATS_CACHED))
                spare += stats[i].value;   /* KiB */
    g_free(stats);
    return (long long)(spare / 1024);
}

/* GiB free in the host's disks pool, or -1 (with err) when it has none.
 * A refresh that fails is no refusal: parallel creates refresh the same
 * pool at once and libvirt refuses all but one; the figure it last had
 * serves. */
static long long spare_disk_gb(virConnectPtr conn, struct err *err)
{
    virStoragePoolPtr pool = pool_get(conn, "disks", err);
    virStoragePoolInfo info;
    long long gb = -1;
    if (pool)
        (void)virStoragePoolRefresh(pool, 0);
    if (pool && virStoragePoolGetInfo(pool, &info) == 0)
        gb = (long long)(info.available >> 30);
    if (pool)
        virStoragePoolFree(pool);
    return gb;
}

/* 0 when host_id has room for w, else -1 with why in err (the field it
 * lacks, for the form); what it has free in *memory_mb and *disk_gb. */
static int host_room(long long host_id, const char *name, const struct want *w,
                     long long *memory_mb, long long *disk_gb, struct err *err)
{
    virConnectPtr conn = virt_conn_host(host_id, err);
    if (!conn)
        return -1;
    virNodeInfo node;
    int rc = -1;
    long long memory = -1, disk = -1;
    if (virNodeGetInfo(conn, &node) < 0)
        err_set(err, 503, "host_unavailable", "host_id", "The host %s does not answer.", name);
    else if (!runs_arch(conn, w->arch))
        err_set(err, 422, "arch_unsupported", "arch", "The host %s runs no %s guests.", name,
                w->arch);
    else if (w->vcpus > (long long)node.cpus)
        err_set(err, 422, "no_room", "vcpus", "The host %s has only %u CPUs.", name, node.cpus);
    else if ((memory = spare_memory_mb(conn)) < w->memory_mb)
        err_set(err, 422, "no_room", "memory_mb", "The host %s has %lld MiB of memory free.", name,
                memory < 0 ? 0 : memory);
    else if ((disk = spare_disk_gb(conn, err)) < w->disk_gb)
        err_set(err, 422, "no_room", "disk_gb", "The host %s has %lld GiB of disk free.", name,
                disk < 0 ? 0 : disk);
    else
        rc = 0;
    *memory_mb = memory;
    *disk_gb = disk;
    virConnectClose(conn);
    return rc;
}

static int op_place(struct op_call *call)
{
    json_t *a = call->args;
    struct want w = {
        .vcpus = json_integer_value(json_object_get(a, "vcpus")),
        .memory_mb = json_integer_value(json_object_get(a, "memory_mb")),
        .disk_gb = json_integer_value(json_object_get(a, "disk_gb")),
        .arch = json_string_value(json_object_get(a, "arch")),
    };
    long long asked = json_integer_value(json_object_get(a, "host_id"));
    /* Candidates in the order they are preferred: the fewest VMs first. */
    struct db_rows *rows = db_query(
        "SELECT h.id, h.name, h.enabled, h.state, (SELECT COUNT(*) FROM vms v WHERE "
        "v.host_id = h.id) AS n FROM hosts h WHERE ? = 0 OR h.id = ? ORDER BY n, h.id",
        DB_INT(asked), DB_INT(asked));
    if (!rows)
        return err_set(&call->err, 503, "database_unavailable", NULL,
                       "The database is not available.");
    if (asked && rows->nrows == 0) {
        db_rows_free(rows);
        return err_set(&call->err, 404, "unknown_host", "host_id", "There is no such host.");
    }
    struct err first = { 0 };
    long long chosen = 0;
    json_t *candidates = json_array();
    for (int i = 0; i < rows->nrows; i++) {
        long long id = db_cell_int(rows, i, 0, 0), memory = 0, disk = 0;
        const char *name = db_cell(rows, i, 1);
        struct err why = { 0 };
        if (!db_cell_int(rows, i, 2, 0))
            err_set(&why, 409, "host_disabled", "host_id",
                    "The host %s takes no new virtual machines.", name);
        else if (id != VIRT_LOCAL_HOST && strcmp(db_cell(rows, i, 3), "up"))
            err_set(&why, 409, "host_unavailable", "host_id", "The host %s is not up.", name);
        else if (host_room(id, name, &w, &memory, &disk, &why) == 0) {
            chosen = chosen ? chosen : id;
            json_array_append_new(candidates, json_pack("{s:I, s:I, s:I}", "host_id",
                                                        (json_int_t)id, "memory_mb",
                                                        (json_int_t)memory, "disk_gb",
                                                        (json_int_t)disk));
        }
        if (!chosen && !first.status)
            first = why;
    }
    db_rows_free(rows);
    if (!chosen) {
        json_decref(candidates);
        if (!first.status)
            err_set(&first, 409, "no_host", "host_id", "No host takes new virtual machines.");
        call->err = first;
        return -1;
    }
    call->result = json_pack("{s:I, s:o}", "host_id", (json_int_t)chosen, "candidates", candidates);
    return 0;
}

const struct op placement_ops[] = {
    { .name = "host.place", .run = op_place, .args = place_args, .needs_actor = true },
    { NULL },
};
