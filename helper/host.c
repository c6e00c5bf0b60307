#include "host.h"

#include <libvirt/virterror.h>
#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <stdio.h>
#include <string.h>

#include "accel.h"
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
    free(x86_emulator);
    free(caps);
    free(hostname);
    virConnectClose(conn);
    return info;
}
