#include "port_forward.h"

#include <arpa/inet.h>
#include <errno.h>
#include <glib.h>
#include <netinet/in.h>
#include <nftables/libnftables.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "db.h"
#include "log.h"
#include "../pool.h"
#include "port_forward_filter.h"

#define TABLE_PREFIX "vmm_pf_"

static int db_down(struct err *err)
{
    return err ? err_set(err, 503, "database_unavailable", NULL, "The database is not available.")
               : -1;
}

/* This installation's table: portals sharing a host each keep their own. */
static char *table_name(void)
{
    return g_strdup_printf(TABLE_PREFIX "%s", instance_id());
}

/* Runs a JSON batch (nft's JSON schema) in one transaction; what nft
 * printed in *output when asked (g_free). */
static int nft_run(json_t *batch, char **output, struct err *err)
{
    struct nft_ctx *nft = nft_ctx_new(NFT_CTX_DEFAULT);
    if (!nft)
        return err ? err_set(err, 503, "nftables_unavailable", NULL, "nftables is not available.")
                   : -1;
    nft_ctx_output_set_flags(nft, NFT_CTX_OUTPUT_JSON);
    nft_ctx_buffer_output(nft);
    nft_ctx_buffer_error(nft);
    char *text = json_dumps(batch, JSON_COMPACT);
    int rc = nft_run_cmd_from_buffer(nft, text);
    free(text);
    if (rc != 0) {
        const char *why = nft_ctx_get_error_buffer(nft);
        log_warn("nftables refused the port forwards: %s", why ? why : "");
        if (err)
            err_set(err, 502, "nftables_error", NULL, "nftables refused the rules: %.200s",
                    why ? why : "");
        rc = -1;
    } else if (output) {
        *output = g_strdup(nft_ctx_get_output_buffer(nft));
    }
    nft_ctx_free(nft);
    return rc;
}

static json_t *match(json_t *left, json_t *right, const char *op)
{
    return json_pack("{s:{s:s, s:o, s:o}}", "match", "op", op, "left", left, "right", right);
}

static json_t *payload(const char *protocol, const char *field)
{
    return json_pack("{s:{s:s, s:s}}", "payload", "protocol", protocol, "field", field);
}

static json_t *fib_type(const char *which)
{
    return json_pack("{s:{s:s, s:[s]}}", "fib", "result", "type", "flags", which);
}

static json_t *chain(const char *table, const char *name, const char *hook, int prio)
{
    return json_pack("{s:{s:{s:s, s:s, s:s, s:s, s:s, s:i, s:s}}}", "add", "chain", "family",
                     "ip", "table", table, "name", name, "type", "nat", "hook", hook, "prio",
                     prio, "policy", "accept");
}

static json_t *rule(const char *table, const char *chain_name, const char *comment, json_t *expr)
{
    return json_pack("{s:{s:{s:s, s:s, s:s, s:s, s:o}}}", "add", "rule", "family", "ip",
                     "table", table, "chain", chain_name, "comment", comment, "expr", expr);
}

/* The three rules of one forward: from outside (prerouting), from the
 * host itself to one of its addresses (output), and, for the latter, the
 * host's own source address made the network's (postrouting), so that
 * the guest answers on that network whatever its default route. */
static void add_forward(json_t *batch, const char *table, const struct db_rows *rows, int i)
{
    const char *protocol = db_cell(rows, i, 0), *address = db_cell(rows, i, 1);
    long long host_port = db_cell_int(rows, i, 2, 0), guest_port = db_cell_int(rows, i, 3, 0);
    const char *guest = db_cell(rows, i, 4);
    char *comment = g_strdup_printf("vm %lld", db_cell_int(rows, i, 5, 0));
    for (int output = 0; output < 2; output++) {
        json_t *expr = json_array();
        if (output)
            json_array_append_new(expr, match(fib_type("daddr"), json_string("local"), "=="));
        if (*address)
            json_array_append_new(expr, match(payload("ip", "daddr"), json_string(address), "=="));
        json_array_append_new(expr, match(payload(protocol, "dport"), json_integer(host_port), "=="));
        json_array_append_new(expr, json_pack("{s:{s:s, s:I}}", "dnat", "addr", guest, "port",
                                              (json_int_t)guest_port));
        json_array_append_new(batch, rule(table, output ? "output" : "prerouting", comment, expr));
    }
    json_t *expr = json_array();
    json_array_append_new(expr, match(json_pack("{s:{s:s}}", "ct", "key", "status"),
                                      json_string("dnat"), "in"));
    json_array_append_new(expr, match(fib_type("saddr"), json_string("local"), "=="));
    json_array_append_new(expr, match(payload("ip", "daddr"), json_string(guest), "=="));
    json_array_append_new(expr, match(payload(protocol, "dport"), json_integer(guest_port), "=="));
    json_array_append_new(expr, json_pack("{s:n}", "masquerade"));
    json_array_append_new(batch, rule(table, "postrouting", comment, expr));
    g_free(comment);
}

static int port_forward_sync_locked(long long skip_vm_id, struct err *err);

/* The filter rules of rows (those port_forward_sync writes to nftables). */
static void filter_sync(const struct db_rows *rows)
{
    struct port_forward_flow *flows = g_new0(struct port_forward_flow, rows->nrows + 1);
    for (int i = 0; i < rows->nrows; i++)
        flows[i] = (struct port_forward_flow){
            .protocol = db_cell(rows, i, 0),
            .guest_ip = db_cell(rows, i, 4),
            .host_port = (int)db_cell_int(rows, i, 2, 0),
            .guest_port = (int)db_cell_int(rows, i, 3, 0),
        };
    /* The host's own connections do not need them; a host without the
     * chain yet gets them at its network's start (logged there). */
    port_forward_filter_sync(flows, rows->nrows);
    g_free(flows);
}

/* Requests, the start-up and network events sync at once: each writes the
 * whole state, one at a time. */
static pthread_mutex_t sync_lock = PTHREAD_MUTEX_INITIALIZER;

int port_forward_sync(long long skip_vm_id, struct err *err)
{
    pthread_mutex_lock(&sync_lock);
    int rc = port_forward_sync_locked(skip_vm_id, err);
    pthread_mutex_unlock(&sync_lock);
    return rc;
}

static int port_forward_sync_locked(long long skip_vm_id, struct err *err)
{
    /* The guest's address is its NIC's allocation: fixed, and what its
     * DHCP client gets. A forward whose NIC lost it has no rule. */
    struct db_rows *rows = db_query(
        "SELECT f.protocol, f.host_address, f.host_port, f.guest_port, a.ip, f.vm_id FROM "
        "vm_port_forwards f JOIN ip_allocations a ON a.nic_id = f.nic_id WHERE f.vm_id <> ? "
        "ORDER BY f.id", DB_INT(skip_vm_id));
    if (!rows)
        return db_down(err);
    char *table = table_name();
    json_t *t = json_pack("{s:{s:s, s:s}}", "table", "family", "ip", "name", table);
    /* add + delete + add: the old table goes whether or not it was there. */
    json_t *batch = json_pack("[{s:O}, {s:O}, {s:O}]", "add", t, "delete", t, "add", t);
    json_decref(t);
    json_array_append_new(batch, chain(table, "prerouting", "prerouting", -100));
    json_array_append_new(batch, chain(table, "output", "output", -100));
    json_array_append_new(batch, chain(table, "postrouting", "postrouting", 100));
    for (int i = 0; i < rows->nrows; i++)
        add_forward(batch, table, rows, i);
    json_t *doc = json_pack("{s:o}", "nftables", batch);
    int rc = nft_run(doc, NULL, err);
    if (rc == 0) {
        log_info("port forwards: %d in table %s", rows->nrows, table);
        filter_sync(rows);
    }
    json_decref(doc);
    db_rows_free(rows);
    g_free(table);
    return rc;
}

/* Whether a socket of the host holds protocol/port (on address, or any). */
static bool port_bound(const char *protocol, const char *address, int port)
{
    int fd = socket(AF_INET, strcmp(protocol, "udp") ? SOCK_STREAM : SOCK_DGRAM, 0);
    if (fd < 0)
        return false;
    struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    sin.sin_addr.s_addr = htonl(INADDR_ANY);
    if (address && *address)
        inet_pton(AF_INET, address, &sin.sin_addr);
    bool taken = bind(fd, (struct sockaddr *)&sin, sizeof sin) < 0 && errno == EADDRINUSE;
    close(fd);
    return taken;
}

/* Whether another portal's table on this host forwards protocol/port. */
static bool port_forwarded_elsewhere(const char *protocol, int port)
{
    json_t *list = json_pack("{s:[{s:{s:{s:s}}}]}", "nftables", "list", "ruleset", "family", "ip");
    char *output = NULL;
    int rc = nft_run(list, &output, NULL);
    json_decref(list);
    json_t *ruleset = rc == 0 && output ? json_loads(output, 0, NULL) : NULL;
    g_free(output);
    char *mine = table_name();
    bool found = false;
    size_t i, j;
    json_t *item, *e;
    json_array_foreach(json_object_get(ruleset, "nftables"), i, item) {
        json_t *r = json_object_get(item, "rule");
        const char *table = json_string_value(json_object_get(r, "table"));
        if (!table || strncmp(table, TABLE_PREFIX, strlen(TABLE_PREFIX)) || !strcmp(table, mine) ||
            strcmp(json_string_value(json_object_get(r, "chain")), "prerouting"))
            continue;
        json_array_foreach(json_object_get(r, "expr"), j, e) {
            json_t *m = json_object_get(e, "match");
            json_t *p = json_object_get(json_object_get(m, "left"), "payload");
            if (p && !g_strcmp0(json_string_value(json_object_get(p, "protocol")), protocol) &&
                !g_strcmp0(json_string_value(json_object_get(p, "field")), "dport") &&
                json_integer_value(json_object_get(m, "right")) == port)
                found = true;
        }
    }
    g_free(mine);
    json_decref(ruleset);
    return found;
}

/* port_forward.check {protocol, host_address, host_port}: 409 port_taken
 * when a program of the host listens there or another portal forwards
 * it (this portal's own forwards are its database's unique key). */
static int op_check(struct op_call *call)
{
    const char *protocol = json_string_value(json_object_get(call->args, "protocol"));
    const char *address = json_string_value(json_object_get(call->args, "host_address"));
    int port = (int)json_integer_value(json_object_get(call->args, "host_port"));
    if (port_bound(protocol, address, port))
        return err_set(&call->err, 409, "port_taken", "host_port",
                       "A program of the host listens on %s port %d.", protocol, port);
    if (port_forwarded_elsewhere(protocol, port))
        return err_set(&call->err, 409, "port_taken", "host_port",
                       "Another portal on this host forwards %s port %d.", protocol, port);
    call->result = json_pack("{s:b}", "free", 1);
    return 0;
}

static int op_sync(struct op_call *call)
{
    if (port_forward_sync(0, &call->err) < 0)
        return -1;
    call->result = json_pack("{s:b}", "synced", 1);
    return 0;
}

static const char *const protocols[] = { "tcp", "udp", NULL };
static const struct field check_args[] = {
    { .name = "protocol", .type = FIELD_ENUM, .required = true, .choices = protocols },
    { .name = "host_address", .type = FIELD_STRING, .min = 0, .max = 15 },
    { .name = "host_port", .type = FIELD_INT, .required = true, .min = 1, .max = 65535 },
    { NULL },
};
static const struct field no_args[] = { { NULL } };

const struct op port_forward_ops[] = {
    { .name = "port_forward.check", .run = op_check, .args = check_args, .needs_actor = true },
    { .name = "port_forward.sync", .run = op_sync, .args = no_args, .needs_actor = true },
    { NULL },
};
