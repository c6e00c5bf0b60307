#include "port_forward_filter.h"

#include <glib.h>
#include <string.h>

#include "log.h"
#include "../pool.h"

/* libvirt's own chain (iptables, table filter) that its FORWARD chain
 * jumps to before LIBVIRT_FWI and LIBVIRT_FWO. */
#define FILTER_CHAIN "LIBVIRT_FWX"

/* Runs iptables with args; its standard output in *out when asked
 * (g_free). Whether it ran and exited 0. */
static bool iptables(const char *const *args, char **out)
{
    const char *what = args[0];
    GPtrArray *argv = g_ptr_array_new();
    g_ptr_array_add(argv, "iptables");
    g_ptr_array_add(argv, "-w");   /* libvirtd may hold the xtables lock */
    for (; *args; args++)
        g_ptr_array_add(argv, (gpointer)*args);
    g_ptr_array_add(argv, NULL);
    int status = 0;
    char *errors = NULL;
    bool ok = g_spawn_sync(NULL, (char **)argv->pdata, NULL,
                           G_SPAWN_SEARCH_PATH | (out ? 0 : G_SPAWN_STDOUT_TO_DEV_NULL), NULL,
                           NULL, out, &errors, &status, NULL) &&
              g_spawn_check_wait_status(status, NULL);
    if (!ok && errors && *errors)
        log_info("iptables %s: %s", what, g_strstrip(errors));
    g_free(errors);
    g_ptr_array_free(argv, TRUE);
    return ok;
}

/* This installation's mark on its rules, so that a sync takes away its
 * own and no one else's. */
static char *rule_comment(void)
{
    return g_strdup_printf("vmm_pf_%s", instance_id());
}

/* Deletes the rules of ours that `iptables -S` lists in the chain. */
static void delete_ours(const char *listing, const char *comment)
{
    gchar **lines = g_strsplit(listing, "\n", -1);
    for (int i = 0; lines[i]; i++) {
        gint argc = 0;
        gchar **argv = NULL;
        if (!g_str_has_prefix(lines[i], "-A " FILTER_CHAIN " ") || !strstr(lines[i], comment) ||
            !g_shell_parse_argv(lines[i], &argc, &argv, NULL))
            continue;
        g_free(argv[0]);
        argv[0] = g_strdup("-D");   /* the same rule, deleted */
        if (!iptables((const char *const *)argv, NULL))
            log_warn("port forwards: an old filter rule stayed: %s", lines[i]);
        g_strfreev(argv);
    }
    g_strfreev(lines);
}

/* The rule that lets one forward's new connections through: DNATed by
 * us (conntrack's original destination port is the host's), to the
 * guest's address and port. */
static bool insert_forward(const struct port_forward_flow *f, const char *comment)
{
    char daddr[32], dport[8], origport[8];
    g_snprintf(daddr, sizeof daddr, "%s/32", f->guest_ip);
    g_snprintf(dport, sizeof dport, "%d", f->guest_port);
    g_snprintf(origport, sizeof origport, "%d", f->host_port);
    const char *args[] = {
        "-I", FILTER_CHAIN, "-d", daddr, "-p", f->protocol, "-m", f->protocol, "--dport", dport,
        "-m", "conntrack", "--ctstate", "DNAT", "--ctorigdstport", origport,
        "-m", "comment", "--comment", comment, "-j", "ACCEPT", NULL,
    };
    return iptables(args, NULL);
}

int port_forward_filter_sync(const struct port_forward_flow *flows, int n)
{
    char *listing = NULL;
    const char *list[] = { "-S", FILTER_CHAIN, NULL };
    if (!iptables(list, &listing)) {
        /* No NAT network has started yet: the first that does brings the
         * chain, and its start event brings us back. */
        g_free(listing);
        if (n)
            log_info("port forwards: no %s chain yet; rules follow the network's start",
                     FILTER_CHAIN);
        return n ? -1 : 0;
    }
    char *comment = rule_comment();
    delete_ours(listing, comment);
    int rc = 0;
    for (int i = 0; i < n; i++)
        if (!insert_forward(&flows[i], comment)) {
            log_warn("port forwards: iptables refused the filter rule for %s/%d",
                     flows[i].protocol, flows[i].host_port);
            rc = -1;
        }
    g_free(comment);
    g_free(listing);
    return rc;
}
