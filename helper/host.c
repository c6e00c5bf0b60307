#include "host.h"

#include <glib.h>
#include <libvirt/virterror.h>
#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

#include "accel.h"
#include "domain_xml.h"
#include "pool.h"
#include "virt.h"

static json_t *xpath_strings(xmlXPathContextPtr ctx, xmlNodePtr node, const char *expr)
{
    json_t *list = json_array();
    ctx->node = node;
    xmlXPathObjectPtr result = xmlXPathEvalExpression(BAD_CAST expr, ctx);
    for (int i = 0; result && result->nodesetval && i < result->nodesetval->nodeNr; i++) {
        xmlChar *text = xmlNodeGetContent(result->nodesetval->nodeTab[i]);
        json_array_append_new(list, json_string((const char *)text));
        xmlFree(text);
    }
    xmlXPathFreeObject(result);
    return list;
}

/* Each hvm guest architecture with its emulator and machine types. */
static json_t *capability_arches(const char *caps, char **x86_emulator)
{
    json_t *arches = json_array();
    xmlDocPtr doc = xmlReadMemory(caps, (int)strlen(caps), "caps.xml", NULL,
                                  XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (!doc)
        return arches;
    xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
    xmlXPathObjectPtr guests =
        xmlXPathEvalExpression(BAD_CAST "/capabilities/guest[os_type='hvm']/arch", ctx);
    for (int i = 0; guests && guests->nodesetval && i < guests->nodesetval->nodeNr; i++) {
        xmlNodePtr arch = guests->nodesetval->nodeTab[i];
        xmlChar *name = xmlGetProp(arch, BAD_CAST "name");
        json_t *emulator = xpath_strings(ctx, arch, "emulator");
        /* The stable names (q35, pc, virt): aliases of the newest versioned type. */
        json_t *machines = xpath_strings(ctx, arch, "machine[@canonical]");
        const char *emulator_path = json_string_value(json_array_get(emulator, 0));
        if (name && (!strcmp((char *)name, "x86_64") || !strcmp((char *)name, "aarch64"))) {
            json_t *entry = json_pack("{s:s, s:s?, s:o}", "arch", name, "emulator", emulator_path,
                                      "machines", machines);
            json_t *verdict = accel_verdict((char *)name);
            json_object_update(entry, verdict);
            json_decref(verdict);
            json_array_append_new(arches, entry);
            machines = NULL;
            if (!strcmp((char *)name, "x86_64") && emulator_path && x86_emulator)
                *x86_emulator = strdup(emulator_path);
        }
        json_decref(machines);
        json_decref(emulator);
        xmlFree(name);
    }
    xmlXPathFreeObject(guests);
    xmlXPathFreeContext(ctx);
    xmlFreeDoc(doc);
    return arches;
}

/* --- issue 15 (dashboard): what the host is using now. The load average
 * stands for CPU use (no sampling delay); memory in use leaves out the
 * page cache; disk is the filesystem of the disk pool. Fields the host
 * cannot tell are left out. */
static json_t *host_usage(virConnectPtr conn, int cpus)
{
    json_t *usage = json_object();
    double load[1];
    if (getloadavg(load, 1) == 1 && cpus > 0) {
        json_object_set_new(usage, "load_1m", json_real(load[0]));
        json_object_set_new(usage, "cpu_percent",
                            json_integer(load[0] >= cpus ? 100 : (json_int_t)(load[0] * 100 / cpus)));
    }
    int n = 0;
    if (virNodeGetMemoryStats(conn, VIR_NODE_MEMORY_STATS_ALL_CELLS, NULL, &n, 0) == 0 && n > 0) {
        virNodeMemoryStatsPtr stats = calloc((size_t)n, sizeof *stats);
        unsigned long long total = 0, spare = 0;
        if (stats && virNodeGetMemoryStats(conn, VIR_NODE_MEMORY_STATS_ALL_CELLS, stats, &n, 0) == 0)
            for (int i = 0; i < n; i++) {
                if (!strcmp(stats[i].field, VIR_NODE_MEMORY_STATS_TOTAL))
                    total = stats[i].value;
                else if (!strcmp(stats[i].field, VIR_NODE_MEMORY_STATS_FREE) ||
                         !strcmp(stats[i].field, VIR_NODE_MEMORY_STATS_BUFFERS) ||
                         !strcmp(stats[i].field, VIR_NODE_MEMORY_STATS_CACHED))
                    spare += stats[i].value;
            }
        free(stats);
        if (total) {   /* KiB */
            json_object_set_new(usage, "memory_total_mb", json_integer((json_int_t)(total / 1024)));
            json_object_set_new(usage, "memory_used_mb",
                                json_integer((json_int_t)((total - (spare < total ? spare : total)) / 1024)));
        }
    }
    char *disks = pool_path("disks", "");
    struct statvfs fs;
    if (disks && statvfs(disks, &fs) == 0 && fs.f_blocks) {
        unsigned long long size = (unsigned long long)fs.f_blocks * fs.f_frsize;
        unsigned long long avail = (unsigned long long)fs.f_bavail * fs.f_frsize;
        json_object_set_new(usage, "disk_total_gb", json_integer((json_int_t)(size >> 30)));
        json_object_set_new(usage, "disk_used_gb", json_integer((json_int_t)((size - avail) >> 30)));
    }
    g_free(disks);
    return usage;
}
/* --- end issue 15 */

json_t *host_info(struct err *err)
{
    virConnectPtr conn = virt_conn(err);
    if (!conn)
        return NULL;
    virNodeInfo node;
    char *caps = virConnectGetCapabilities(conn);
    char *hostname = virConnectGetHostname(conn);
    unsigned long version = 0;
    virConnectGetLibVersion(conn, &version);
    if (!caps || virNodeGetInfo(conn, &node) < 0) {
        err_set(err, 503, "libvirt_unavailable", NULL, "libvirt did not answer: %s",
                virGetLastErrorMessage());
        free(caps);
        free(hostname);
        virConnectClose(conn);
        return NULL;
    }
    char *x86_emulator = NULL;
    json_t *arches = capability_arches(caps, &x86_emulator);
    char version_text[32];
    snprintf(version_text, sizeof version_text, "%lu.%lu.%lu", version / 1000000,
             version / 1000 % 1000, version % 1000);
    json_t *info = json_pack("{s:s, s:i, s:I, s:o, s:s}", "hostname", hostname ? hostname : "",
                             "cpus", (int)node.cpus, "memory_mb", (json_int_t)(node.memory / 1024),
                             "arches", arches, "libvirt_version", version_text);
    /* The x86_64 verdict at the top, where the accelerator always was. */
    json_t *verdict = accel_verdict("x86_64");
    json_object_update(info, verdict);
    json_decref(verdict);
    json_object_set_new(info, "usage", host_usage(conn, (int)node.cpus));
    free(x86_emulator);
    free(caps);
    free(hostname);
    virConnectClose(conn);
    return info;
}

/* Whether domain capabilities' <mode name=mode> says supported='yes'. */
static bool cpu_mode_supported(xmlXPathContextPtr ctx, const char *mode)
{
    char *path = g_strdup_printf("/domainCapabilities/cpu/mode[@name='%s']/@supported", mode);
    xmlXPathObjectPtr found = xmlXPathEvalExpression(BAD_CAST path, ctx);
    g_free(path);
    bool yes = false;
    if (found && found->nodesetval && found->nodesetval->nodeNr == 1) {
        xmlChar *v = xmlNodeGetContent(found->nodesetval->nodeTab[0]);
        yes = v && !strcmp((const char *)v, "yes");
        xmlFree(v);
    }
    xmlXPathFreeObject(found);
    return yes;
}

json_t *host_cpu_models(const char *arch, struct err *err)
{
    const char *machine = domain_xml_machine(arch);
    if (!machine) {
        err_set(err, 422, "unknown_arch", "arch", "This host runs no %s guests.", arch);
        return NULL;
    }
    const char *type = accel_domain_type(arch, 0, err);
    if (!type)
        return NULL;
    virConnectPtr conn = virt_conn(err);
    if (!conn)
        return NULL;
    char *caps = virConnectGetDomainCapabilities(conn, NULL, arch, machine, type, 0);
    virConnectClose(conn);
    xmlDocPtr doc = caps ? xmlReadMemory(caps, (int)strlen(caps), "domcaps.xml", NULL,
                                         XML_PARSE_NONET | XML_PARSE_NOERROR |
                                             XML_PARSE_NOWARNING)
                         : NULL;
    if (!doc) {
        err_set(err, 502, "libvirt_error", NULL, "libvirt has no domain capabilities: %s",
                virGetLastErrorMessage());
        free(caps);
        return NULL;
    }
    free(caps);
    xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
    json_t *models = json_array();
    xmlXPathObjectPtr found =
        xmlXPathEvalExpression(BAD_CAST "/domainCapabilities/cpu/mode[@name='custom']/model", ctx);
    for (int i = 0; found && found->nodesetval && i < found->nodesetval->nodeNr; i++) {
        xmlNodePtr m = found->nodesetval->nodeTab[i];
        xmlChar *name = xmlNodeGetContent(m), *usable = xmlGetProp(m, BAD_CAST "usable"),
                *vendor = xmlGetProp(m, BAD_CAST "vendor");
        json_array_append_new(models, json_pack("{s:s, s:b, s:s}", "name", (const char *)name,
                                                "usable", usable && !strcmp((const char *)usable, "yes"),
                                                "vendor", vendor ? (const char *)vendor : ""));
        xmlFree(name);
        xmlFree(usable);
        xmlFree(vendor);
    }
    xmlXPathFreeObject(found);
    json_t *out = json_pack("{s:s, s:s, s:b, s:b, s:b, s:o}", "arch", arch, "accel", type,
                            "host_passthrough", cpu_mode_supported(ctx, "host-passthrough"),
                            "host_model", cpu_mode_supported(ctx, "host-model"), "maximum",
                            cpu_mode_supported(ctx, "maximum"), "models", models);
    xmlXPathFreeContext(ctx);
    xmlFreeDoc(doc);
    return out;
}
