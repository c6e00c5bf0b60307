#include "network_started.h"

#include <glib.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xpath.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "db.h"
#include "log.h"
#include "port_forward.h"
#include "../virt.h"

/* A tap name as libvirt makes them (vnet12, or a <target dev> we gave):
 * checked before it is a command's argument. */
static bool tap_name_valid(const char *name)
{
    size_t n = strlen(name);
    if (n < 1 || n > 15)
        return false;
    for (const char *p = name; *p; p++)
        if (!g_ascii_isalnum(*p) && *p != '-' && *p != '_' && *p != '.')
            return false;
    return true;
}

/* Whether tap is enslaved to bridge now. */
static bool tap_on_bridge(const char *tap, const char *bridge)
{
    char *link = g_strdup_printf("/sys/class/net/%s/master", tap);
    char *target = g_file_read_link(link, NULL);
    char *name = target ? g_path_get_basename(target) : NULL;
    bool on = name && !strcmp(name, bridge);
    g_free(name);
    g_free(target);
    g_free(link);
    return on;
}

/* The taps of dom's NICs on network (its live definition). */
static GPtrArray *taps_of(virDomainPtr dom, const char *network)
{
    GPtrArray *taps = g_ptr_array_new_with_free_func(g_free);
    char *xml = virDomainGetXMLDesc(dom, 0);
    xmlDocPtr doc = xml ? xmlReadMemory(xml, (int)strlen(xml), "domain.xml", NULL,
                                        XML_PARSE_NONET | XML_PARSE_NOERROR |
                                            XML_PARSE_NOWARNING)
                        : NULL;
    free(xml);
    if (!doc)
        return taps;
    xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
    xmlXPathObjectPtr found = xmlXPathEvalExpression(
        BAD_CAST "/domain/devices/interface[@type='network']", ctx);
    for (int i = 0; found && found->nodesetval && i < found->nodesetval->nodeNr; i++) {
        xmlChar *net = NULL, *dev = NULL;
        for (xmlNodePtr c = found->nodesetval->nodeTab[i]->children; c; c = c->next) {
            if (c->type == XML_ELEMENT_NODE && !xmlStrcmp(c->name, BAD_CAST "source") && !net)
                net = xmlGetProp(c, BAD_CAST "network");
            if (c->type == XML_ELEMENT_NODE && !xmlStrcmp(c->name, BAD_CAST "target") && !dev)
                dev = xmlGetProp(c, BAD_CAST "dev");
        }
        if (net && dev && !strcmp((const char *)net, network))
            g_ptr_array_add(taps, g_strdup((const char *)dev));
        xmlFree(net);
        xmlFree(dev);
    }
    xmlXPathFreeObject(found);
    xmlXPathFreeContext(ctx);
    xmlFreeDoc(doc);
    return taps;
}

/* Whether the domain is one of this portal's VMs (never touch others'). */
static bool ours(virDomainPtr dom)
{
    struct db_rows *rows = db_query("SELECT 1 FROM vms WHERE domain_name = ?",
                                    DB_TEXT(virDomainGetName(dom)));
    bool mine = rows && rows->nrows == 1;
    db_rows_free(rows);
    return mine;
}

/* Plugs the running guests' taps on network back into its bridge. */
static void replug(const char *network)
{
    struct err err = { 0 };
    virConnectPtr conn = virt_conn_host(VIRT_LOCAL_HOST, &err);
    virNetworkPtr net = conn ? virNetworkLookupByName(conn, network) : NULL;
    char *bridge = net ? virNetworkGetBridgeName(net) : NULL;
    virDomainPtr *doms = NULL;
    int n = bridge ? virConnectListAllDomains(conn, &doms, VIR_CONNECT_LIST_DOMAINS_ACTIVE) : 0;
    for (int i = 0; i < n; i++) {
        GPtrArray *taps = ours(doms[i]) ? taps_of(doms[i], network) : NULL;
        for (guint t = 0; taps && t < taps->len; t++) {
            const char *tap = g_ptr_array_index(taps, t);
            if (!tap_name_valid(tap) || tap_on_bridge(tap, bridge))
                continue;
            char *argv[] = { "ip", "link", "set", "dev", (char *)tap, "master", bridge, NULL };
            int status = 0;
            bool ok = g_spawn_sync(NULL, argv, NULL,
                                   G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL |
                                       G_SPAWN_STDERR_TO_DEV_NULL,
                                   NULL, NULL, NULL, NULL, &status, NULL) &&
                      g_spawn_check_wait_status(status, NULL);
            if (ok)
                log_info("network %s restarted: %s of %s back on %s", network, tap,
                         virDomainGetName(doms[i]), bridge);
            else
                log_warn("network %s restarted: %s could not join %s", network, tap, bridge);
        }
        if (taps)
            g_ptr_array_free(taps, TRUE);
        virDomainFree(doms[i]);
    }
    free(doms);
    free(bridge);
    if (net)
        virNetworkFree(net);
    if (conn)
        virConnectClose(conn);
}

static void *started_thread(void *arg)
{
    char *network = arg;
    if (network)
        replug(network);
    port_forward_sync(0, NULL);
    g_free(network);
    db_close();
    return NULL;
}

static void on_network_started(const char *network)
{
    pthread_t thread;
    char *name = g_strdup(network);
    if (pthread_create(&thread, NULL, started_thread, name) == 0) {
        pthread_detach(thread);
    } else {
        g_free(name);
        log_warn("network start: taps and port forwards not looked at");
    }
}

void network_started_init(void)
{
    virt_on_network_started(on_network_started);
}
