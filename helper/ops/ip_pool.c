#include "ip_pool.h"

#include <glib.h>
#include <libvirt/virterror.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xpath.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "db.h"
#include "ipv4.h"
#include "log.h"
#include "virt.h"

static int db_down(struct err *err)
{
    return err_set(err, 503, "database_unavailable", NULL, "The database is not available.");
}

static xmlDocPtr xml_parse(const char *xml)
{
    return xml ? xmlReadMemory(xml, (int)strlen(xml), "x.xml", NULL,
                               XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING)
               : NULL;
}

/* A network's static DHCP host entries {mac, ip}, from its live XML. */
struct host_entry {
    char mac[18];
    char ip[16];
    char name[64];
};

static GArray *static_hosts(virNetworkPtr net)
{
    GArray *hosts = g_array_new(FALSE, TRUE, sizeof(struct host_entry));
    char *xml = virNetworkGetXMLDesc(net, 0);
    xmlDocPtr doc = xml_parse(xml);
    free(xml);
    if (!doc)
        return hosts;
    xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
    xmlXPathObjectPtr r = xmlXPathEvalExpression(BAD_CAST "/network/ip/dhcp/host", ctx);
    for (int i = 0; r && r->nodesetval && i < r->nodesetval->nodeNr; i++) {
        struct host_entry h = { 0 };
        xmlChar *mac = xmlGetProp(r->nodesetval->nodeTab[i], BAD_CAST "mac");
        xmlChar *ip = xmlGetProp(r->nodesetval->nodeTab[i], BAD_CAST "ip");
        xmlChar *name = xmlGetProp(r->nodesetval->nodeTab[i], BAD_CAST "name");
        char *lower = g_ascii_strdown(mac ? (const char *)mac : "", -1);
        snprintf(h.mac, sizeof h.mac, "%s", lower);
        g_free(lower);
        snprintf(h.ip, sizeof h.ip, "%s", ip ? (const char *)ip : "");
        snprintf(h.name, sizeof h.name, "%s", name ? (const char *)name : "");
        g_array_append_val(hosts, h);
        xmlFree(mac);
        xmlFree(ip);
        xmlFree(name);
    }
    xmlXPathFreeObject(r);
    xmlXPathFreeContext(ctx);
    xmlFreeDoc(doc);
    return hosts;
}

/* <host mac= ip= name=/> as the element alone, as virNetworkUpdate takes it. */
static char *host_xml(const char *mac, const char *ip, const char *name)
{
    xmlDocPtr doc = xmlNewDoc(BAD_CAST "1.0");
    xmlNodePtr host = xmlNewNode(NULL, BAD_CAST "host");
    xmlDocSetRootElement(doc, host);
    if (mac && *mac)
        xmlNewProp(host, BAD_CAST "mac", BAD_CAST mac);
    if (name && *name)
        xmlNewProp(host, BAD_CAST "name", BAD_CAST name);
    if (ip && *ip)
        xmlNewProp(host, BAD_CAST "ip", BAD_CAST ip);
    xmlBufferPtr buf = xmlBufferCreate();
    xmlNodeDump(buf, doc, host, 0, 0);
    char *out = g_strdup((const char *)xmlBufferContent(buf));
    xmlBufferFree(buf);
    xmlFreeDoc(doc);
    return out;
}

static unsigned int update_flags(virNetworkPtr net)
{
    return VIR_NETWORK_UPDATE_AFFECT_CONFIG |
           (virNetworkIsActive(net) == 1 ? VIR_NETWORK_UPDATE_AFFECT_LIVE : 0);
}

/* Removes every host entry of net for mac or for ip (stale entries of a
 * NIC, or of another machine that had the address). */
static int hosts_remove(virNetworkPtr net, const char *mac, const char *ip, struct err *err)
{
    GArray *hosts = static_hosts(net);
    int rc = 0;
    for (guint i = 0; i < hosts->len && rc == 0; i++) {
        struct host_entry *h = &g_array_index(hosts, struct host_entry, i);
        if (!(mac && !g_ascii_strcasecmp(h->mac, mac)) && !(ip && *ip && !strcmp(h->ip, ip)))
            continue;
        char *xml = host_xml(h->mac, h->ip, h->name);
        if (virNetworkUpdate(net, VIR_NETWORK_UPDATE_COMMAND_DELETE,
                             VIR_NETWORK_SECTION_IP_DHCP_HOST, -1, xml, update_flags(net)) < 0)
            rc = err ? virt_error(err, "Removing a DHCP host entry") : -1;
        else
            log_info("network %s: removed DHCP host %s %s", virNetworkGetName(net), h->mac, h->ip);
        g_free(xml);
    }
    g_array_free(hosts, TRUE);
    return rc;
}

/* A removed guest's address must not look taken afterwards: its DHCP
 * lease is released at dnsmasq (dhcp_release, as OpenStack does) and the
 * host forgets its neighbour entry. Both best effort. */
static void forget_guest(virNetworkPtr net, const char *mac, const char *ip)
{
    char *bridge = virNetworkIsActive(net) == 1 ? virNetworkGetBridgeName(net) : NULL;
    if (!bridge)
        return;
    char *release[] = { "dhcp_release", bridge, (char *)ip, (char *)mac, NULL };
    char *neigh[] = { "ip", "neigh", "del", (char *)ip, "dev", bridge, NULL };
    char **commands[] = { release, neigh };
    for (size_t i = 0; i < G_N_ELEMENTS(commands); i++) {
        int status = 0;
        if (!g_spawn_sync(NULL, commands[i], NULL,
                          G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL,
                          NULL, NULL, NULL, NULL, &status, NULL))
            log_warn("%s is not available; %s may look in use until its lease ends", commands[i][0], ip);
    }
    free(bridge);
}

/* The entries of VM vm_id's NICs, or (nic_id not 0) of that one NIC. */
static int hosts_follow(virConnectPtr conn, long long vm_id, long long nic_id, bool keep,
                        struct err *err)
{
    /* Each NIC on a network libvirt serves DHCP on, with its allocation. */
    struct db_rows *rows = db_query(
        "SELECT n.name, c.mac, a.ip FROM vm_nics c JOIN networks n ON n.id = c.network_id "
        "LEFT JOIN ip_allocations a ON a.nic_id = c.id WHERE c.vm_id = ? AND (? = 0 OR c.id = ?) "
        "AND n.mode IN ('nat', 'routed', 'isolated') ORDER BY c.position", DB_INT(vm_id),
        DB_INT(nic_id), DB_INT(nic_id));
    if (!rows)
        return err ? db_down(err) : -1;
    int rc = 0;
    for (int i = 0; i < rows->nrows && rc == 0; i++) {
        const char *ip = db_cell(rows, i, 2), *mac = db_cell(rows, i, 1);
        virNetworkPtr net = virNetworkLookupByName(conn, db_cell(rows, i, 0));
        if (!net)
            continue;   /* gone: nothing to serve, nothing stale */
        rc = hosts_remove(net, mac, ip, err);
        /* dhcp_release and the neighbour table are this machine's: a
         * network of another host (issue 19) is left to its lease time. */
        if (!keep && ip && virt_host_of(conn) <= VIRT_LOCAL_HOST)
            forget_guest(net, mac, ip);
        if (rc == 0 && keep && ip) {
            char *xml = host_xml(mac, ip, NULL);
            if (virNetworkUpdate(net, VIR_NETWORK_UPDATE_COMMAND_ADD_LAST,
                                 VIR_NETWORK_SECTION_IP_DHCP_HOST, -1, xml, update_flags(net)) < 0)
                rc = err ? virt_error(err, "Adding the DHCP host entry") : -1;
            else
                log_info("network %s: DHCP host %s -> %s", db_cell(rows, i, 0), mac, ip);
            g_free(xml);
        }
        virNetworkFree(net);
    }
    db_rows_free(rows);
    return rc;
}

int ip_pool_vm_hosts(virConnectPtr conn, long long vm_id, bool keep, struct err *err)
{
    return hosts_follow(conn, vm_id, 0, keep, err);
}

int ip_pool_nic_hosts(virConnectPtr conn, long long vm_id, long long nic_id, bool keep,
                      struct err *err)
{
    return hosts_follow(conn, vm_id, nic_id, keep, err);
}

/* One address seen in use, and where. */
struct sighting {
    uint32_t ip;
    char mac[18];
    const char *source;   /* lease, static_host, agent, neighbour */
};

static void seen(GArray *out, const char *ip, const char *mac, const char *source)
{
    struct sighting s = { 0 };
    if (!ip || ipv4_parse(ip, &s.ip) < 0)
        return;
    char *lower = g_ascii_strdown(mac ? mac : "", -1);
    snprintf(s.mac, sizeof s.mac, "%s", lower);
    g_free(lower);
    s.source = source;
    g_array_append_val(out, s);
}

/* The guest agent's addresses of the running VMs on the network, where
 * the agent is connected (asking one that is not would wait for it). */
static void agent_sightings(virConnectPtr conn, long long network_id, GArray *out)
{
    struct db_rows *rows = db_query(
        "SELECT DISTINCT v.domain_name FROM vms v JOIN vm_nics c ON c.vm_id = v.id WHERE "
        "c.network_id = ? AND v.state = 'running'", DB_INT(network_id));
    for (int i = 0; rows && i < rows->nrows; i++) {
        virDomainPtr dom = virDomainLookupByName(conn, db_cell(rows, i, 0));
        char *xml = dom ? virDomainGetXMLDesc(dom, 0) : NULL;
        if (xml && strstr(xml, "name='org.qemu.guest_agent.0' state='connected'")) {
            virDomainInterfacePtr *ifaces = NULL;
            int n = virDomainInterfaceAddresses(dom, &ifaces,
                                                VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_AGENT, 0);
            for (int j = 0; j < n; j++) {
                for (unsigned k = 0; k < ifaces[j]->naddrs; k++)
                    if (ifaces[j]->addrs[k].type == VIR_IP_ADDR_TYPE_IPV4)
                        seen(out, ifaces[j]->addrs[k].addr, ifaces[j]->hwaddr, "agent");
                virDomainInterfaceFree(ifaces[j]);
            }
            free(ifaces);
        }
        free(xml);
        if (dom)
            virDomainFree(dom);
    }
    db_rows_free(rows);
}

/* The host's neighbour table (/proc/net/arp) on the network's bridge:
 * complete entries only. */
static void neighbour_sightings(const char *bridge, GArray *out)
{
    FILE *f = bridge && *bridge ? fopen("/proc/net/arp", "r") : NULL;
    char line[256];
    if (!f)
        return;
    if (!fgets(line, sizeof line, f)) {   /* the header */
        fclose(f);
        return;
    }
    while (fgets(line, sizeof line, f)) {
        char ip[64], hw_type[16], flags[16], mac[64], mask[16], dev[32];
        if (sscanf(line, "%63s %15s %15s %63s %15s %31s", ip, hw_type, flags, mac, mask, dev) != 6)
            continue;
        if (strcmp(dev, bridge) || strtoul(flags, NULL, 16) == 0 ||
            !strcmp(mac, "00:00:00:00:00:00"))
            continue;
        seen(out, ip, mac, "neighbour");
    }
    fclose(f);
}

struct pool_info {
    long long id, network_id;
    uint32_t first, last;
    char network[64];
};

static int pool_info_load(long long pool_id, struct pool_info *p, struct err *err)
{
    struct db_rows *rows = db_query("SELECT p.id, p.network_id, p.range_start_num, p.range_end_num, "
                                    "n.name FROM ip_pools p JOIN networks n ON n.id = p.network_id "
                                    "WHERE p.id = ?", DB_INT(pool_id));
    if (!rows)
        return db_down(err);
    int rc = 0;
    if (rows->nrows == 1) {
        p->id = db_cell_int(rows, 0, 0, 0);
        p->network_id = db_cell_int(rows, 0, 1, 0);
        p->first = (uint32_t)db_cell_int(rows, 0, 2, 0);
        p->last = (uint32_t)db_cell_int(rows, 0, 3, 0);
        snprintf(p->network, sizeof p->network, "%s", db_cell(rows, 0, 4));
    } else {
        rc = err_set(err, 404, "not_found", NULL, "There is no such IP pool.");
    }
    db_rows_free(rows);
    return rc;
}

/* One address of the pool that is in conflict, as found by a sweep. */
struct conflict {
    uint32_t ip;
    const char *kind;
    GString *sources, *macs;
};

static void add_word(GString *list, const char *word)
{
    if (!*word)
        return;
    gchar **parts = g_strsplit(list->str, ",", -1);
    bool there = false;
    for (gchar **p = parts; *p && !there; p++)
        there = !strcmp(*p, word);
    g_strfreev(parts);
    if (!there)
        g_string_append_printf(list, "%s%s", list->len ? "," : "", word);
}

/* The pool's conflicts become those of out (the sweep's findings). */
struct conflicts_tx {
    long long pool_id;
    json_t *out;
};

static int conflicts_body(void *ctx)
{
    struct conflicts_tx *t = ctx;
    if (db_exec("DELETE FROM ip_conflicts WHERE pool_id = ?", DB_INT(t->pool_id)) < 0)
        return -1;
    size_t i;
    json_t *c;
    json_array_foreach(t->out, i, c) {
        const char *ip = json_string_value(json_object_get(c, "ip"));
        uint32_t num = 0;
        ipv4_parse(ip, &num);
        if (db_exec("INSERT INTO ip_conflicts (pool_id, ip, ip_num, kind, sources, macs) "
                    "VALUES (?, ?, ?, ?, ?, ?)", DB_INT(t->pool_id), DB_TEXT(ip),
                    DB_INT((long long)num), DB_TEXT(json_string_value(json_object_get(c, "kind"))),
                    DB_TEXT(json_string_value(json_object_get(c, "sources"))),
                    DB_TEXT(json_string_value(json_object_get(c, "macs")))) < 0)
            return -1;
    }
    return 0;
}

/* Compares what is seen in use in the pool's range with the registry,
 * and writes the conflicts (replacing the pool's last ones). The
 * conflicts as JSON, or NULL with err set. */
static json_t *pool_sweep(virConnectPtr conn, long long pool_id, struct err *err)
{
    struct pool_info p;
    if (pool_info_load(pool_id, &p, err) < 0)
        return NULL;
    GArray *sightings = g_array_new(FALSE, TRUE, sizeof(struct sighting));
    virNetworkPtr net = virNetworkLookupByName(conn, p.network);
    char *bridge = NULL;
    if (net) {
        virNetworkDHCPLeasePtr *leases = NULL;
        int n = virNetworkIsActive(net) == 1 ? virNetworkGetDHCPLeases(net, NULL, &leases, 0) : 0;
        for (int i = 0; i < n; i++) {
            if (leases[i]->type == VIR_IP_ADDR_TYPE_IPV4)
                seen(sightings, leases[i]->ipaddr, leases[i]->mac, "lease");
            virNetworkDHCPLeaseFree(leases[i]);
        }
        free(leases);
        GArray *hosts = static_hosts(net);
        for (guint i = 0; i < hosts->len; i++) {
            struct host_entry *h = &g_array_index(hosts, struct host_entry, i);
            seen(sightings, h->ip, h->mac, "static_host");
        }
        g_array_free(hosts, TRUE);
        bridge = virNetworkIsActive(net) == 1 ? virNetworkGetBridgeName(net) : NULL;
        virNetworkFree(net);
    }
    agent_sightings(conn, p.network_id, sightings);
    neighbour_sightings(bridge, sightings);
    free(bridge);

    /* The registry: address -> the MAC of the NIC it was given to. */
    struct db_rows *rows = db_query("SELECT a.ip_num, c.mac, a.vm_id FROM ip_allocations a JOIN "
                                    "vm_nics c ON c.id = a.nic_id WHERE a.pool_id = ?",
                                    DB_INT(pool_id));
    if (!rows) {
        g_array_free(sightings, TRUE);
        db_down(err);
        return NULL;
    }
    GHashTable *registered = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
    for (int i = 0; i < rows->nrows; i++)
        g_hash_table_insert(registered, GUINT_TO_POINTER((guint)db_cell_int(rows, i, 0, 0)),
                            g_ascii_strdown(db_cell(rows, i, 1), -1));
    db_rows_free(rows);

    GHashTable *found = g_hash_table_new(g_direct_hash, g_direct_equal);
    GArray *list = g_array_new(FALSE, TRUE, sizeof(struct conflict));
    for (guint i = 0; i < sightings->len; i++) {
        struct sighting *s = &g_array_index(sightings, struct sighting, i);
        if (s->ip < p.first || s->ip > p.last)
            continue;
        gpointer key = GUINT_TO_POINTER(s->ip);
        if (!g_hash_table_contains(found, key)) {
            struct conflict c = { s->ip, NULL, g_string_new(NULL), g_string_new(NULL) };
            g_array_append_val(list, c);
            g_hash_table_insert(found, key, GUINT_TO_POINTER(list->len));
        }
        struct conflict *c = &g_array_index(list, struct conflict,
                                            GPOINTER_TO_UINT(g_hash_table_lookup(found, key)) - 1);
        add_word(c->sources, s->source);
        add_word(c->macs, s->mac);
    }
    json_t *out = json_array();
    for (guint i = 0; i < list->len; i++) {
        struct conflict *c = &g_array_index(list, struct conflict, i);
        const char *mine = g_hash_table_lookup(registered, GUINT_TO_POINTER(c->ip));
        gchar **macs = g_strsplit(c->macs->str, ",", -1);
        int distinct = 0;
        bool other = false;
        for (gchar **m = macs; *m; m++) {
            distinct += **m != 0;
            other = other || (**m && (!mine || strcmp(*m, mine)));
        }
        g_strfreev(macs);
        /* Seen only on the NIC it was given to: as it should be. A
         * sighting without a MAC cannot tell, and is left alone. */
        if (!other)
            goto next;
        c->kind = mine || distinct > 1 ? "duplicate" : "unknown";
        char ip[16];
        ipv4_format(c->ip, ip);
        json_array_append_new(out, json_pack("{s:s, s:s, s:s, s:s, s:s?}", "ip", ip, "kind",
                                             c->kind, "sources", c->sources->str, "macs",
                                             c->macs->str, "registered_mac", mine));
    next:
        g_string_free(c->sources, TRUE);
        g_string_free(c->macs, TRUE);
    }
    struct conflicts_tx tx = { pool_id, out };
    if (db_transaction(conflicts_body, &tx) < 0) {
        json_decref(out);
        out = NULL;
        db_down(err);
    }
    g_array_free(list, TRUE);
    g_array_free(sightings, TRUE);
    g_hash_table_unref(found);
    g_hash_table_unref(registered);
    return out;
}

/* {pool_id}: a sweep of one pool now; its conflicts. */
static int op_sweep(struct op_call *call)
{
    struct err *err = &call->err;
    virConnectPtr conn = virt_conn(err);
    if (!conn)
        return -1;
    json_t *conflicts = pool_sweep(conn, json_integer_value(json_object_get(call->args, "pool_id")),
                                   err);
    virConnectClose(conn);
    if (!conflicts)
        return -1;
    call->result = json_pack("{s:o}", "conflicts", conflicts);
    return 0;
}

/* {vm_id}: the VM's DHCP host entries follow the registry (after a
 * re-assignment or a release). */
static int op_sync_vm(struct op_call *call)
{
    long long vm_id = json_integer_value(json_object_get(call->args, "vm_id"));
    /* Issue 19: on the host the VM runs on, whose dnsmasq answers it. */
    struct db_rows *rows = db_query("SELECT host_id FROM vms WHERE id = ?", DB_INT(vm_id));
    if (!rows)
        return db_down(&call->err);
    long long host_id = rows->nrows ? db_cell_int(rows, 0, 0, VIRT_LOCAL_HOST) : VIRT_LOCAL_HOST;
    db_rows_free(rows);
    virConnectPtr conn = virt_conn_host(host_id, &call->err);
    if (!conn)
        return -1;
    int rc = ip_pool_vm_hosts(conn, vm_id, true, &call->err);
    virConnectClose(conn);
    if (rc == 0)
        call->result = json_pack("{s:b}", "synced", 1);
    return rc;
}

static void *sweeper(void *unused)
{
    long long interval = config_int("ip_pools", "sweep_interval_s", 60);
    for (;;) {
        sleep((unsigned)interval);
        struct err err = { 0 };
        struct db_rows *rows = db_query("SELECT id FROM ip_pools");
        virConnectPtr conn = rows && rows->nrows ? virt_conn(&err) : NULL;
        for (int i = 0; conn && i < rows->nrows; i++) {
            json_t *conflicts = pool_sweep(conn, db_cell_int(rows, i, 0, 0), &err);
            if (conflicts && json_array_size(conflicts))
                log_warn("IP pool %s: %zu addresses in conflict", db_cell(rows, i, 0),
                         json_array_size(conflicts));
            json_decref(conflicts);
        }
        if (conn)
            virConnectClose(conn);
        db_rows_free(rows);
    }
    return NULL;
}

void ip_pool_sweeper_start(void)
{
    if (config_int("ip_pools", "sweep_interval_s", 60) <= 0)
        return;
    pthread_t thread;
    if (pthread_create(&thread, NULL, sweeper, NULL) == 0)
        pthread_detach(thread);
}

static const struct field pool_args[] = {
    { "pool_id", FIELD_INT, true, 1, INT64_MAX }, { NULL },
};
static const struct field vm_args[] = { { "vm_id", FIELD_INT, true, 1, INT64_MAX }, { NULL } };

const struct op ip_pool_ops[] = {
    { "ip_pool.sweep", op_sweep, pool_args, false, true },
    { "ip_pool.sync_vm", op_sync_vm, vm_args, true, true },
    { NULL },
};
