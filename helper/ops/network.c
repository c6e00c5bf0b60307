#include "network.h"

#include <arpa/inet.h>
#include <glib.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <libvirt/virterror.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xpath.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>

#include "db.h"
#include "ipv4.h"
#include "log.h"
#include "virt.h"

/* A networks row, as the program wrote it. */
struct network_row {
    long long id;
    char *name, *mode, *cidr, *dhcp_start, *dhcp_end, *dns, *domain, *bridge;
    bool autostart, builtin;
};

static void network_row_free(struct network_row *n)
{
    if (!n)
        return;
    g_free(n->name);
    g_free(n->mode);
    g_free(n->cidr);
    g_free(n->dhcp_start);
    g_free(n->dhcp_end);
    g_free(n->dns);
    g_free(n->domain);
    g_free(n->bridge);
    g_free(n);
}
typedef struct network_row network_row;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(network_row, network_row_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(virNetwork, virNetworkFree)
typedef struct _virConnect virConnectHandle;
static void conn_close(virConnectPtr c) { virConnectClose(c); }
G_DEFINE_AUTOPTR_CLEANUP_FUNC(virConnectHandle, conn_close)

static int db_down(struct err *err)
{
    return err_set(err, 503, "database_unavailable", NULL, "The database is not available.");
}

static struct network_row *network_row_load(long long id, struct err *err)
{
    struct db_rows *rows = db_query("SELECT id, name, mode, cidr, dhcp_start, dhcp_end, dns, "
                                    "domain, bridge, autostart, builtin FROM networks WHERE id = ?",
                                    DB_INT(id));
    if (!rows) {
        db_down(err);
        return NULL;
    }
    struct network_row *n = NULL;
    if (rows->nrows == 1) {
        n = g_new0(struct network_row, 1);
        n->id = db_cell_int(rows, 0, 0, 0);
        n->name = g_strdup(db_cell(rows, 0, 1));
        n->mode = g_strdup(db_cell(rows, 0, 2));
        n->cidr = g_strdup(db_cell(rows, 0, 3));
        n->dhcp_start = g_strdup(db_cell(rows, 0, 4));
        n->dhcp_end = g_strdup(db_cell(rows, 0, 5));
        n->dns = g_strdup(db_cell(rows, 0, 6));
        n->domain = g_strdup(db_cell(rows, 0, 7));
        n->bridge = g_strdup(db_cell(rows, 0, 8));
        n->autostart = db_cell_int(rows, 0, 9, 0) != 0;
        n->builtin = db_cell_int(rows, 0, 10, 0) != 0;
    } else {
        err_set(err, 404, "not_found", NULL, "There is no such network.");
    }
    db_rows_free(rows);
    return n;
}

static struct network_row *row_of_call(struct op_call *call)
{
    return network_row_load(json_integer_value(json_object_get(call->args, "network_id")),
                            &call->err);
}

bool network_name_valid(const char *name)
{
    return net_name_valid(name);
}

/* A host interface name that is a Linux bridge. */
static bool host_bridge_exists(const char *name)
{
    if (!name || !*name || strlen(name) > 15 || strchr(name, '/') || name[0] == '.')
        return false;
    char *path = g_strdup_printf("/sys/class/net/%s/bridge", name);
    struct stat st;
    bool ok = stat(path, &st) == 0 && S_ISDIR(st.st_mode);
    g_free(path);
    return ok;
}

/* Which of the host's own IPv4 networks (its interfaces' addresses with
 * their masks) overlaps c: its interface name in out, or false. */
static bool host_overlap(const struct cidr *c, const char *own_bridge, char *out, size_t out_size)
{
    struct ifaddrs *list = NULL, *ifa;
    bool found = false;
    if (getifaddrs(&list) < 0)
        return false;
    for (ifa = list; ifa && !found; ifa = ifa->ifa_next) {
        if (!ifa->ifa_addr || ifa->ifa_addr->sa_family != AF_INET || !ifa->ifa_netmask ||
            (own_bridge && !strcmp(ifa->ifa_name, own_bridge)))
            continue;
        uint32_t ip = ntohl(((struct sockaddr_in *)ifa->ifa_addr)->sin_addr.s_addr);
        uint32_t mask = ntohl(((struct sockaddr_in *)ifa->ifa_netmask)->sin_addr.s_addr);
        int prefix = __builtin_popcount(mask);
        struct cidr theirs = { ip & mask, prefix };
        if (cidr_overlap(c, &theirs)) {
            snprintf(out, out_size, "%s", ifa->ifa_name);
            found = true;
        }
    }
    freeifaddrs(list);
    return found;
}

/* The IPv4 <ip> blocks of a network's XML. */
static int xml_cidrs(const char *xml, struct cidr *out, int max)
{
    xmlDocPtr doc = xml ? xmlReadMemory(xml, (int)strlen(xml), "network.xml", NULL,
                                        XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING)
                        : NULL;
    if (!doc)
        return 0;
    int n = 0;
    xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
    xmlXPathObjectPtr ips = xmlXPathEvalExpression(BAD_CAST "/network/ip", ctx);
    for (int i = 0; ips && ips->nodesetval && i < ips->nodesetval->nodeNr && n < max; i++) {
        xmlNodePtr ip = ips->nodesetval->nodeTab[i];
        xmlChar *address = xmlGetProp(ip, BAD_CAST "address");
        xmlChar *netmask = xmlGetProp(ip, BAD_CAST "netmask");
        xmlChar *prefix = xmlGetProp(ip, BAD_CAST "prefix");
        uint32_t a = 0, m = 0;
        if (address && ipv4_parse((const char *)address, &a) == 0) {
            int p = -1;
            if (netmask && ipv4_parse((const char *)netmask, &m) == 0)
                p = __builtin_popcount(m);
            else if (prefix)
                p = atoi((const char *)prefix);
            if (p > 0 && p <= 32) {
                out[n].prefix = p;
                out[n].net = a & cidr_mask(&out[n]);
                n++;
            }
        }
        xmlFree(address);
        xmlFree(netmask);
        xmlFree(prefix);
    }
    xmlXPathFreeObject(ips);
    xmlXPathFreeContext(ctx);
    xmlFreeDoc(doc);
    return n;
}

/* Checks the row's values again, as if the program had not: the name,
 * the mode's needs, the CIDR and the DHCP range inside it, and that the
 * CIDR overlaps neither the host's own addresses nor any other libvirt
 * network (this portal's or not). */
static int network_row_check(virConnectPtr conn, const struct network_row *n, struct err *err)
{
    if (!network_name_valid(n->name))
        return err_set(err, 422, "invalid_network", "name",
                       "A network name is 1-48 letters, digits, '-', '_' or '.', "
                       "starting with a letter or digit.");
    if (*n->domain && !net_domain_valid(n->domain))
        return err_set(err, 422, "invalid_network", "domain", "The domain is not valid.");
    if (!strcmp(n->mode, "bridge")) {
        if (!host_bridge_exists(n->bridge))
            return err_set(err, 422, "no_bridge", "bridge",
                           "There is no bridge called %s on this host.", n->bridge);
        return 0;
    }
    struct cidr c;
    uint32_t start, end;
    if (cidr_parse(n->cidr, &c) < 0)
        return err_set(err, 422, "invalid_network", "cidr", "The CIDR is not valid.");
    if (*n->dhcp_start || *n->dhcp_end) {
        if (ipv4_parse(n->dhcp_start, &start) < 0 || ipv4_parse(n->dhcp_end, &end) < 0 ||
            start > end || start <= cidr_first_host(&c) || end > cidr_last_host(&c) ||
            !cidr_contains(&c, start) || !cidr_contains(&c, end))
            return err_set(err, 422, "invalid_network", "dhcp",
                           "The DHCP range must lie inside the network, after its gateway.");
    }
    /* A running network's own bridge carries its gateway: not an overlap. */
    virNetworkPtr self = virNetworkLookupByName(conn, n->name);
    char *own_bridge = self && virNetworkIsActive(self) == 1 ? virNetworkGetBridgeName(self) : NULL;
    if (self)
        virNetworkFree(self);
    char where[IF_NAMESIZE + 1];
    bool overlap = host_overlap(&c, own_bridge, where, sizeof where);
    free(own_bridge);
    if (overlap)
        return err_set(err, 409, "network_overlap", "cidr",
                       "%s overlaps the host's own addresses (on %s).", n->cidr, where);
    virNetworkPtr *nets = NULL;
    int count = virConnectListAllNetworks(conn, &nets, 0);
    if (count < 0)
        return virt_error(err, "Listing the networks");
    int rc = 0;
    for (int i = 0; i < count; i++) {
        const char *other = virNetworkGetName(nets[i]);
        if (rc == 0 && strcmp(other, n->name) != 0) {
            char *xml = virNetworkGetXMLDesc(nets[i], VIR_NETWORK_XML_INACTIVE);
            struct cidr theirs[8];
            int k = xml_cidrs(xml, theirs, 8);
            for (int j = 0; j < k && rc == 0; j++)
                if (cidr_overlap(&c, &theirs[j]))
                    rc = err_set(err, 409, "network_overlap", "cidr",
                                 "%s overlaps the libvirt network %s.", n->cidr, other);
            free(xml);
        }
        virNetworkFree(nets[i]);
    }
    free(nets);
    return rc;
}

static xmlNodePtr child(xmlNodePtr parent, const char *name, const char *text)
{
    return xmlNewTextChild(parent, NULL, BAD_CAST name, text ? BAD_CAST text : NULL);
}

static void attr(xmlNodePtr node, const char *name, const char *value)
{
    xmlNewProp(node, BAD_CAST name, BAD_CAST value);
}

/* The network XML of a checked row. libvirt names the bridge of the
 * networks it runs (virbrN), so stacks sharing a libvirtd never collide. */
static char *network_xml(const struct network_row *n, const char *uuid)
{
    xmlDocPtr doc = xmlNewDoc(BAD_CAST "1.0");
    xmlNodePtr net = xmlNewNode(NULL, BAD_CAST "network");
    xmlDocSetRootElement(doc, net);
    child(net, "name", n->name);
    if (uuid)
        child(net, "uuid", uuid);
    if (!strcmp(n->mode, "bridge")) {
        attr(child(net, "forward", NULL), "mode", "bridge");
        attr(child(net, "bridge", NULL), "name", n->bridge);
        return xml_doc_string(doc);
    }
    if (!strcmp(n->mode, "nat"))
        attr(child(net, "forward", NULL), "mode", "nat");
    else if (!strcmp(n->mode, "routed"))
        attr(child(net, "forward", NULL), "mode", "route");
    /* isolated: no <forward>, guests reach each other and the host only */
    xmlNodePtr bridge = child(net, "bridge", NULL);
    attr(bridge, "stp", "on");
    attr(bridge, "delay", "0");
    if (*n->domain) {
        xmlNodePtr domain = child(net, "domain", NULL);
        attr(domain, "name", n->domain);
        attr(domain, "localOnly", "yes");
    }
    if (*n->dns && strcmp(n->mode, "isolated") != 0) {
        xmlNodePtr dns = child(net, "dns", NULL);
        gchar **servers = g_strsplit(n->dns, ",", 8);
        for (gchar **s = servers; *s; s++) {
            uint32_t ip;
            if (ipv4_parse(*s, &ip) == 0)
                attr(child(dns, "forwarder", NULL), "addr", *s);
        }
        g_strfreev(servers);
    }
    struct cidr c;
    cidr_parse(n->cidr, &c);
    char gateway[16], netmask[16];
    xmlNodePtr ip = child(net, "ip", NULL);
    attr(ip, "address", ipv4_format(cidr_first_host(&c), gateway));
    attr(ip, "netmask", ipv4_format(cidr_mask(&c), netmask));
    if (*n->dhcp_start) {
        xmlNodePtr range = child(child(ip, "dhcp", NULL), "range", NULL);
        attr(range, "start", n->dhcp_start);
        attr(range, "end", n->dhcp_end);
    }
    return xml_doc_string(doc);
}

virNetworkPtr network_lookup(virConnectPtr conn, long long network_id, struct err *err)
{
    g_autoptr(network_row) n = network_row_load(network_id, err);
    if (!n)
        return NULL;
    virNetworkPtr net = virNetworkLookupByName(conn, n->name);
    if (!net)
        err_set(err, 409, "no_network", NULL,
                "The network %s is not defined in libvirt.", n->name);
    return net;
}

/* The live facts of one network: whether libvirt has it, runs it,
 * starts it at boot, and the bridge its guests are on. */
static json_t *network_facts(virConnectPtr conn, const char *name)
{
    g_autoptr(virNetwork) net = virNetworkLookupByName(conn, name);
    if (!net)
        return json_pack("{s:b, s:b, s:b, s:s}", "defined", 0, "active", 0, "autostart", 0,
                         "bridge_device", "");
    int autostart = 0;
    virNetworkGetAutostart(net, &autostart);
    char *bridge = virNetworkGetBridgeName(net);
    json_t *facts = json_pack("{s:b, s:b, s:b, s:s}", "defined", 1, "active",
                              virNetworkIsActive(net) == 1, "autostart", autostart != 0,
                              "bridge_device", bridge ? bridge : "");
    free(bridge);
    return facts;
}

/* {network_id}: defines the network from its row, starts it, and sets
 * its autostart. On failure nothing stays defined. */
static int op_create(struct op_call *call)
{
    g_autoptr(network_row) n = row_of_call(call);
    if (!n)
        return -1;
    g_autoptr(virConnectHandle) conn = virt_conn(&call->err);
    if (!conn || network_row_check(conn, n, &call->err) < 0)
        return -1;
    virNetworkPtr existing = virNetworkLookupByName(conn, n->name);
    if (existing) {
        virNetworkFree(existing);
        return err_set(&call->err, 409, "network_exists", "name",
                       "libvirt already has a network called %s.", n->name);
    }
    char *xml = network_xml(n, NULL);
    g_autoptr(virNetwork) net = xml ? virNetworkDefineXML(conn, xml) : NULL;
    g_free(xml);
    if (!net)
        return virt_error(&call->err, "Defining the network");
    if (virNetworkCreate(net) < 0 || virNetworkSetAutostart(net, n->autostart) < 0) {
        virt_error(&call->err, "Starting the network");
        if (virNetworkIsActive(net) == 1)
            virNetworkDestroy(net);
        virNetworkUndefine(net);
        return -1;
    }
    log_info("network %s (%s %s) defined and started", n->name, n->mode, n->cidr);
    call->result = network_facts(conn, n->name);
    return 0;
}

static int start_or_stop(struct op_call *call, bool start)
{
    g_autoptr(network_row) n = row_of_call(call);
    g_autoptr(virConnectHandle) conn = n ? virt_conn(&call->err) : NULL;
    if (!conn)
        return -1;
    g_autoptr(virNetwork) net = network_lookup(conn, n->id, &call->err);
    if (!net)
        return -1;
    int active = virNetworkIsActive(net);
    if (start && active != 1 && virNetworkCreate(net) < 0)
        return virt_error(&call->err, "Starting the network");
    if (!start && active == 1 && virNetworkDestroy(net) < 0)
        return virt_error(&call->err, "Stopping the network");
    call->result = network_facts(conn, n->name);
    return 0;
}

static int op_start(struct op_call *call) { return start_or_stop(call, true); }

/* A network guests are running on is not stopped under them. */
static int op_stop(struct op_call *call)
{
    g_autoptr(network_row) n = row_of_call(call);
    if (!n)
        return -1;
    struct db_rows *rows = db_query(
        "SELECT COUNT(*) FROM vms v WHERE v.state IN ('running', 'paused') AND "
        "(EXISTS (SELECT 1 FROM vm_nics c WHERE c.vm_id = v.id AND c.network_id = ?) OR "
        "(NOT EXISTS (SELECT 1 FROM vm_nics c WHERE c.vm_id = v.id) AND v.network = ?))",
        DB_INT(n->id), DB_TEXT(n->name));
    if (!rows)
        return db_down(&call->err);
    long long running = db_cell_int(rows, 0, 0, 0);
    db_rows_free(rows);
    if (running)
        return err_set(&call->err, 409, "network_in_use", NULL,
                       "%lld running virtual machines use this network; stop them first.",
                       running);
    return start_or_stop(call, false);
}

/* The live DHCP range of an active network, from its XML. */
static bool live_range(virNetworkPtr net, char *start, char *end)
{
    char *xml = virNetworkGetXMLDesc(net, 0);
    xmlDocPtr doc = xml ? xmlReadMemory(xml, (int)strlen(xml), "network.xml", NULL,
                                        XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING)
                        : NULL;
    free(xml);
    if (!doc)
        return false;
    bool found = false;
    xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
    xmlXPathObjectPtr r = xmlXPathEvalExpression(BAD_CAST "/network/ip/dhcp/range", ctx);
    if (r && r->nodesetval && r->nodesetval->nodeNr >= 1) {
        xmlChar *s = xmlGetProp(r->nodesetval->nodeTab[0], BAD_CAST "start");
        xmlChar *e = xmlGetProp(r->nodesetval->nodeTab[0], BAD_CAST "end");
        if (s && e) {
            snprintf(start, 16, "%s", (const char *)s);
            snprintf(end, 16, "%s", (const char *)e);
            found = true;
        }
        xmlFree(s);
        xmlFree(e);
    }
    xmlXPathFreeObject(r);
    xmlXPathFreeContext(ctx);
    xmlFreeDoc(doc);
    return found;
}

static char *range_xml(const char *start, const char *end)
{
    xmlDocPtr doc = xmlNewDoc(BAD_CAST "1.0");
    xmlNodePtr range = xmlNewNode(NULL, BAD_CAST "range");
    xmlDocSetRootElement(doc, range);
    attr(range, "start", start);
    attr(range, "end", end);
    char *text = xml_doc_string(doc);
    /* virNetworkUpdate wants the element alone, without the declaration. */
    char *body = text ? strstr(text, "<range") : NULL;
    char *out = g_strdup(body);
    g_free(text);
    return out;
}

/* {network_id}: the row changed; the persistent definition follows it,
 * and a running network gets its new DHCP range at once (libvirt changes
 * that live). Its DNS servers and domain wait for the next start: the
 * answer says so in restart_required. */
static int op_update(struct op_call *call)
{
    g_autoptr(network_row) n = row_of_call(call);
    g_autoptr(virConnectHandle) conn = n ? virt_conn(&call->err) : NULL;
    if (!conn || network_row_check(conn, n, &call->err) < 0)
        return -1;
    g_autoptr(virNetwork) old = network_lookup(conn, n->id, &call->err);
    if (!old)
        return -1;
    bool active = virNetworkIsActive(old) == 1;
    char start[16] = "", end[16] = "";
    bool had_range = active && live_range(old, start, end);
    char *before = active ? virNetworkGetXMLDesc(old, 0) : NULL;
    char uuid[VIR_UUID_STRING_BUFLEN];
    char *xml = virNetworkGetUUIDString(old, uuid) == 0 ? network_xml(n, uuid) : NULL;
    g_autoptr(virNetwork) net = xml ? virNetworkDefineXML(conn, xml) : NULL;
    g_free(xml);
    if (!net) {
        free(before);
        return virt_error(&call->err, "Changing the network");
    }
    bool range_changed = strcmp(start, n->dhcp_start) || strcmp(end, n->dhcp_end);
    if (active && range_changed && had_range && *n->dhcp_start) {
        char *old_xml = range_xml(start, end), *new_xml = range_xml(n->dhcp_start, n->dhcp_end);
        int rc = virNetworkUpdate(net, VIR_NETWORK_UPDATE_COMMAND_DELETE,
                                  VIR_NETWORK_SECTION_IP_DHCP_RANGE, -1, old_xml,
                                  VIR_NETWORK_UPDATE_AFFECT_LIVE);
        if (rc == 0)
            rc = virNetworkUpdate(net, VIR_NETWORK_UPDATE_COMMAND_ADD_LAST,
                                  VIR_NETWORK_SECTION_IP_DHCP_RANGE, -1, new_xml,
                                  VIR_NETWORK_UPDATE_AFFECT_LIVE);
        g_free(old_xml);
        g_free(new_xml);
        if (rc < 0) {
            free(before);
            return virt_error(&call->err, "Changing the DHCP range");
        }
    }
    /* What the running network still lacks: the live XML against the new
     * definition, without the range (applied above). */
    json_t *pending = json_array();
    char *after = active ? virNetworkGetXMLDesc(net, VIR_NETWORK_XML_INACTIVE) : NULL;
    if (active && before && after) {
        bool dns_differs = (strstr(before, "<forwarder") != NULL) != (*n->dns != 0);
        gchar **servers = g_strsplit(n->dns, ",", 8);
        for (gchar **s = servers; *s && !dns_differs; s++) {
            char *needle = g_strdup_printf("addr='%s'", *s);
            dns_differs = !strstr(before, needle);
            g_free(needle);
        }
        g_strfreev(servers);
        if (dns_differs)
            json_array_append_new(pending, json_string("dns"));
        char *domain = g_strdup_printf("name='%s'", n->domain);
        if ((*n->domain && !strstr(before, domain)) || (!*n->domain && strstr(before, "<domain ")))
            json_array_append_new(pending, json_string("domain"));
        g_free(domain);
    }
    free(before);
    free(after);
    virNetworkSetAutostart(net, n->autostart);
    call->result = network_facts(conn, n->name);
    json_object_set_new(call->result, "restart_required", pending);
    return 0;
}

/* {network_id}: stops and removes the network. The program refused this
 * while VMs use it; checked again here, where the row is still there. */
static int op_delete(struct op_call *call)
{
    g_autoptr(network_row) n = row_of_call(call);
    if (!n)
        return -1;
    if (n->builtin)
        return err_set(&call->err, 409, "builtin_network", NULL,
                       "The network %s was not made here and is not removed from here.", n->name);
    struct db_rows *rows = db_query(
        "SELECT (SELECT COUNT(*) FROM vm_nics WHERE network_id = ?) + "
        "(SELECT COUNT(*) FROM vms v WHERE v.network = ? AND NOT EXISTS "
        "(SELECT 1 FROM vm_nics c WHERE c.vm_id = v.id))", DB_INT(n->id), DB_TEXT(n->name));
    if (!rows)
        return db_down(&call->err);
    long long users = db_cell_int(rows, 0, 0, 0);
    db_rows_free(rows);
    if (users)
        return err_set(&call->err, 409, "network_in_use", NULL,
                       "%lld virtual machines use this network.", users);
    g_autoptr(virConnectHandle) conn = virt_conn(&call->err);
    if (!conn)
        return -1;
    g_autoptr(virNetwork) net = virNetworkLookupByName(conn, n->name);
    if (net) {
        if (virNetworkIsActive(net) == 1 && virNetworkDestroy(net) < 0)
            return virt_error(&call->err, "Stopping the network");
        if (virNetworkUndefine(net) < 0)
            return virt_error(&call->err, "Removing the network");
    }
    call->result = json_pack("{s:b}", "deleted", 1);
    return 0;
}

/* {}: the live facts of every network row, by id. */
static int op_states(struct op_call *call)
{
    struct db_rows *rows = db_query("SELECT id, name FROM networks");
    if (!rows)
        return db_down(&call->err);
    g_autoptr(virConnectHandle) conn = virt_conn(&call->err);
    if (!conn) {
        db_rows_free(rows);
        return -1;
    }
    call->result = json_object();
    for (int i = 0; i < rows->nrows; i++)
        json_object_set_new(call->result, db_cell(rows, i, 0), network_facts(conn, db_cell(rows, i, 1)));
    db_rows_free(rows);
    return 0;
}

void network_nic_limits(const struct db_rows *rows, int i, int col, struct domain_nic *nic)
{
    unsigned *into[] = { &nic->in_average, &nic->in_peak, &nic->in_burst,
                         &nic->out_average, &nic->out_peak, &nic->out_burst, &nic->vlan };
    for (size_t k = 0; k < G_N_ELEMENTS(into); k++)
        *into[k] = (unsigned)db_cell_int(rows, i, col + (int)k, 0);
}

int network_vm_nics(long long vm_id, struct domain_nic *nics, int max)
{
    /* A NIC being added is not in the definition until its attach is. */
    struct db_rows *rows = db_query(
        "SELECT n.name, c.mac, c.model, c.link_state, " NETWORK_NIC_LIMITS " FROM vm_nics c "
        "JOIN networks n ON n.id = c.network_id WHERE c.vm_id = ? AND c.state <> 'adding' "
        "ORDER BY c.position", DB_INT(vm_id));
    if (!rows)
        return -1;
    int n = 0;
    for (; n < rows->nrows && n < max; n++) {
        nics[n].network = g_strdup(db_cell(rows, n, 0));
        nics[n].mac = g_strdup(db_cell(rows, n, 1));
        nics[n].model = g_strdup(db_cell(rows, n, 2));
        nics[n].link_down = !strcmp(db_cell(rows, n, 3), "down");
        network_nic_limits(rows, n, 4, &nics[n]);
    }
    db_rows_free(rows);
    return n;
}

void network_vm_nics_free(struct domain_nic *nics, int n)
{
    for (int i = 0; i < n; i++) {
        g_free((char *)nics[i].network);
        g_free((char *)nics[i].mac);
        g_free((char *)nics[i].model);
    }
}

static const struct field network_args[] = {
    { "network_id", FIELD_INT, true, 1, INT64_MAX }, { NULL },
};
static const struct field no_args[] = { { NULL } };

const struct op network_ops[] = {
    { "network.create", op_create, network_args, true, true },
    { "network.start", op_start, network_args, true, true },
    { "network.stop", op_stop, network_args, true, true },
    { "network.update", op_update, network_args, true, true },
    { "network.delete", op_delete, network_args, true, true },
    { "network.states", op_states, no_args, true, true },
    { NULL },
};
