#include "addresses.h"

#include <glib.h>
#include <libvirt/libvirt.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "db.h"
#include "ipv4.h"
#include "log.h"
#include "virt.h"

/* An address worth showing: IPv4, not loopback nor link-local. */
static bool address_shown(const virDomainIPAddress *a)
{
    uint32_t ip;
    return a->type == VIR_IP_ADDR_TYPE_IPV4 && ipv4_parse(a->addr, &ip) == 0 &&
           (ip >> 24) != 127 && (ip >> 16) != 0xa9fe;
}

/* Appends "ip mac source" lines for what libvirt's source knows of dom,
 * skipping addresses already listed; how many it added. */
static int addresses_from(virDomainPtr dom, unsigned int source, const char *name, GString *out)
{
    virDomainInterfacePtr *ifaces = NULL;
    int n = virDomainInterfaceAddresses(dom, &ifaces, source, 0);
    int added = 0;
    for (int i = 0; i < n; i++) {
        for (unsigned k = 0; k < ifaces[i]->naddrs; k++) {
            const virDomainIPAddress *a = &ifaces[i]->addrs[k];
            /* out starts with "\n": every line follows one */
            char *needle = g_strdup_printf("\n%s ", a->addr);
            bool known = strstr(out->str, needle) != NULL;
            g_free(needle);
            if (!address_shown(a) || known)
                continue;
            g_string_append_printf(out, "%s %s %s\n", a->addr, ifaces[i]->hwaddr ? ifaces[i]->hwaddr : "",
                                   name);
            added++;
        }
        virDomainInterfaceFree(ifaces[i]);
    }
    free(ifaces);
    return added;
}

/* The guest's addresses as lines "ip mac source": leases, then the
 * agent (when connected), then ARP when the first two found none. */
static char *domain_addresses(virDomainPtr dom)
{
    GString *out = g_string_new("\n");
    int found = addresses_from(dom, VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_LEASE, "lease", out);
    char *xml = virDomainGetXMLDesc(dom, 0);
    bool agent = xml && strstr(xml, "name='org.qemu.guest_agent.0' state='connected'");
    free(xml);
    if (agent)
        found += addresses_from(dom, VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_AGENT, "agent", out);
    if (!found)
        addresses_from(dom, VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_ARP, "arp", out);
    g_string_erase(out, 0, 1);
    return g_string_free(out, FALSE);
}

/* vm id -> its rows as domain_addresses writes them, for one host. */
static GHashTable *stored_addresses(long long host_id)
{
    struct db_rows *rows = db_query(
        "SELECT a.vm_id, a.ip, a.mac, a.source FROM vm_addresses a JOIN vms v ON v.id = a.vm_id "
        "WHERE v.host_id = ? ORDER BY a.vm_id, a.position", DB_INT(host_id));
    if (!rows)
        return NULL;
    GHashTable *map = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, g_free);
    for (int i = 0; i < rows->nrows; i++) {
        gint64 id = db_cell_int(rows, i, 0, 0);
        char *had = g_hash_table_lookup(map, &id);
        char *lines = g_strdup_printf("%s%s %s %s\n", had ? had : "", db_cell(rows, i, 1),
                                      db_cell(rows, i, 2), db_cell(rows, i, 3));
        g_hash_table_insert(map, g_memdup2(&id, sizeof id), lines);
    }
    db_rows_free(rows);
    return map;
}

struct store_tx {
    long long vm_id;
    const char *lines;
};

static int store_body(void *ctx)
{
    struct store_tx *t = ctx;
    int rc = db_exec("DELETE FROM vm_addresses WHERE vm_id = ?", DB_INT(t->vm_id));
    gchar **each = g_strsplit(t->lines, "\n", 64);
    for (int i = 0; rc == 0 && each[i]; i++) {
        gchar **f = g_strsplit(each[i], " ", 3);
        if (g_strv_length(f) == 3)
            rc = db_exec("INSERT IGNORE INTO vm_addresses (vm_id, position, ip, mac, source) "
                         "VALUES (?, ?, ?, ?, ?)", DB_INT(t->vm_id), DB_INT(i), DB_TEXT(f[0]),
                         DB_TEXT(f[1]), DB_TEXT(f[2]));
        g_strfreev(f);
    }
    g_strfreev(each);
    return rc;
}

/* Replaces the VM's rows with lines ("ip mac source" each, in order). */
static void store(long long vm_id, const char *lines)
{
    struct store_tx tx = { vm_id, lines };
    db_transaction(store_body, &tx);
}

/* One pass over one host: each running VM's addresses where they changed,
 * and no rows for a VM that no longer runs. */
static void watch_host(long long host_id)
{
    struct err err = { 0 };
    virConnectPtr conn = virt_conn_host(host_id, &err);
    if (!conn)
        return;
    GHashTable *stored = stored_addresses(host_id);
    struct db_rows *vms = stored ? db_query("SELECT id, domain_name FROM vms WHERE host_id = ? "
                                            "AND domain_name IS NOT NULL", DB_INT(host_id))
                                 : NULL;
    for (int i = 0; vms && i < vms->nrows; i++) {
        gint64 id = db_cell_int(vms, i, 0, 0);
        virDomainPtr dom = virDomainLookupByName(conn, db_cell(vms, i, 1));
        char *now = dom && virDomainIsActive(dom) == 1 ? domain_addresses(dom) : g_strdup("");
        const char *had = g_hash_table_lookup(stored, &id);
        if (strcmp(now, had ? had : ""))
            store(id, now);
        g_free(now);
        if (dom)
            virDomainFree(dom);
    }
    db_rows_free(vms);
    if (stored)
        g_hash_table_destroy(stored);
    virConnectClose(conn);
}

static void *watcher(void *unused)
{
    (void)unused;
    long long interval = config_int("ip_pools", "address_interval_s", 10);
    for (;;) {
        struct db_rows *hosts = db_query("SELECT id FROM hosts WHERE id = ? OR state = 'up'",
                                         DB_INT(VIRT_LOCAL_HOST));
        for (int i = 0; hosts && i < hosts->nrows; i++)
            watch_host(db_cell_int(hosts, i, 0, VIRT_LOCAL_HOST));
        db_rows_free(hosts);
        sleep((unsigned)interval);
    }
    return NULL;
}

void addresses_start(void)
{
    if (config_int("ip_pools", "address_interval_s", 10) <= 0)
        return;
    pthread_t thread;
    if (pthread_create(&thread, NULL, watcher, NULL) == 0)
        pthread_detach(thread);
    else
        log_warn("the address watcher could not start");
}
