/* vmm-ip-pools: IP address pools on networks, for administrators. The
 * database is the registry (one ip_allocations row per address handed
 * out, unique per pool; lib/web/ip_alloc.h); the helper gives the addresses
 * to guests as DHCP host entries and finds the addresses in use that the
 * registry does not know (conflicts), which are never handed out. */
#include <stdint.h>
#include <string.h>

#include "app.h"
#include "audit.h"
#include "db.h"
#include "dns_servers.h"
#include "helper_client.h"
#include "i18n.h"
#include "ip_alloc.h"
#include "ipv4.h"
#include "list.h"

#define POOL_COLUMNS                                                                        \
    "p.id, p.name, p.network_id, n.name, p.cidr, p.range_start, p.range_end, p.gateway, "   \
    "p.dns, DATE_FORMAT(p.created_at, '%Y-%m-%dT%TZ'), p.range_end_num - p.range_start_num " \
    "+ 1, (SELECT COUNT(*) FROM ip_allocations a WHERE a.pool_id = p.id), (SELECT COUNT(*) " \
    "FROM ip_conflicts x WHERE x.pool_id = p.id)"
#define POOL_FROM "FROM ip_pools p JOIN networks n ON n.id = p.network_id"

static json_t *pool_from_row(const struct db_rows *rows, int i)
{
    long long size = db_cell_int(rows, i, 10, 0), used = db_cell_int(rows, i, 11, 0);
    return json_pack("{s:I, s:s, s:I, s:s, s:s, s:s, s:s, s:s, s:o, s:s, s:I, s:I, s:I, s:I, s:I}",
                     "id", (json_int_t)db_cell_int(rows, i, 0, 0), "name", db_cell(rows, i, 1),
                     "network_id", (json_int_t)db_cell_int(rows, i, 2, 0), "network",
                     db_cell(rows, i, 3), "cidr", db_cell(rows, i, 4), "range_start",
                     db_cell(rows, i, 5), "range_end", db_cell(rows, i, 6), "gateway",
                     db_cell(rows, i, 7), "dns", dns_servers_json(db_cell(rows, i, 8)), "created_at",
                     db_cell(rows, i, 9), "size", (json_int_t)size, "used", (json_int_t)used,
                     "free", (json_int_t)(size - used), "usage_percent",
                     (json_int_t)(size ? used * 100 / size : 0), "conflicts",
                     (json_int_t)db_cell_int(rows, i, 12, 0));
}

static json_t *pool_load(struct req *r, long long id)
{
    return list_one(r, db_query("SELECT " POOL_COLUMNS " " POOL_FROM " WHERE p.id = ?", DB_INT(id)),
                    pool_from_row, _("There is no such IP pool."));
}

static const struct list_sort pool_sorts[] = {
    { "name", "p.name" }, { "id", "p.id" }, { "created_at", "p.created_at" }, { NULL },
};

static int pools_list(struct req *r)
{
    struct list_query q;
    if (list_query_parse(r, pool_sorts, &q) < 0)
        return -1;
    return list_run(r, &q, POOL_COLUMNS,
                    POOL_FROM " WHERE (? IS NULL OR p.name LIKE ? OR p.cidr LIKE ?)",
                    DB_PARAMS(DB_TEXT(q.like), DB_TEXT(q.like), DB_TEXT(q.like)), pool_from_row);
}

/* The pool's allocations and last known conflicts, for its page and JSON. */
static int add_registry(struct req *r, json_t *pool, long long id)
{
    struct db_rows *rows = db_query(
        "SELECT a.ip, a.vm_id, v.name, c.mac, DATE_FORMAT(a.created_at, '%Y-%m-%dT%TZ') FROM "
        "ip_allocations a JOIN vms v ON v.id = a.vm_id JOIN vm_nics c ON c.id = a.nic_id WHERE "
        "a.pool_id = ? ORDER BY a.ip_num", DB_INT(id));
    if (!rows)
        return fail_db(r);
    json_t *allocations = json_array();
    for (int i = 0; i < rows->nrows; i++)
        json_array_append_new(allocations, json_pack("{s:s, s:I, s:s, s:s, s:s}", "ip",
                                                     db_cell(rows, i, 0), "vm_id",
                                                     (json_int_t)db_cell_int(rows, i, 1, 0),
                                                     "vm_name", db_cell(rows, i, 2), "mac",
                                                     db_cell(rows, i, 3), "created_at",
                                                     db_cell(rows, i, 4)));
    db_rows_free(rows);
    json_object_set_new(pool, "allocations", allocations);
    return 0;
}

/* The pool's conflicts as the last sweep found them; NULL (database). */
static json_t *conflicts_of(long long id)
{
    struct db_rows *rows = db_query("SELECT ip, kind, sources, macs, DATE_FORMAT(seen_at, "
                                    "'%Y-%m-%dT%TZ') FROM ip_conflicts WHERE pool_id = ? ORDER BY "
                                    "ip_num", DB_INT(id));
    if (!rows)
        return NULL;
    json_t *list = json_array();
    for (int i = 0; i < rows->nrows; i++) {
        /* Sources and MACs are comma-joined columns too, as DNS servers are. */
        json_t *sources = dns_servers_json(db_cell(rows, i, 2));
        json_t *macs = dns_servers_json(db_cell(rows, i, 3));
        json_array_append_new(list, json_pack("{s:s, s:s, s:o, s:o, s:s}", "ip", db_cell(rows, i, 0),
                                              "kind", db_cell(rows, i, 1), "sources", sources,
                                              "macs", macs, "seen_at", db_cell(rows, i, 4)));
    }
    db_rows_free(rows);
    return list;
}

static int pools_show(struct req *r)
{
    long long id = req_param(r, "id")->num;
    json_t *pool = pool_load(r, id);
    if (!pool)
        return -1;
    json_t *conflicts = conflicts_of(id);
    if (!conflicts || add_registry(r, pool, id) < 0) {
        json_decref(conflicts);
        json_decref(pool);
        return r->err.status ? -1 : fail_db(r);
    }
    json_object_set_new(pool, "conflict_list", conflicts);
    req_set_object(r, "ip_pool", pool);
    return 0;
}

/* GET /ip-pools/{id}/conflicts: a fresh sweep by the helper. */
static int pools_conflicts(struct req *r)
{
    long long id = req_param(r, "id")->num;
    json_t *pool = pool_load(r, id);
    if (!pool)
        return -1;
    json_decref(pool);
    json_t *done = helper_call_id(r, "ip_pool.sweep", "pool_id", id);
    if (!done)
        return -1;
    json_decref(done);
    json_t *list = conflicts_of(id);
    if (!list)
        return fail_db(r);
    list_reply(r, list, (long long)json_array_size(list),
               &(struct list_query){ .page = 1, .per_page = LIST_MAX_PER_PAGE });
    return 0;
}

struct pool_values {
    const char *name;
    long long network_id;
    char cidr[19], gateway[16], dns[256];
    uint32_t start, end;
};

/* The pool's block must be the network's (or inside it), its range inside
 * the block and outside the network's dynamic DHCP range (dnsmasq hands
 * those out to anyone), and apart from every other pool's range there. */
static int pool_check(struct req *r, struct pool_values *v)
{
    struct db_rows *rows = db_query("SELECT mode, cidr, dhcp_start, dhcp_end FROM networks "
                                    "WHERE id = ?", DB_INT(v->network_id));
    if (!rows)
        return fail_db(r);
    if (rows->nrows != 1) {
        db_rows_free(rows);
        return req_fail(r, 404, "unknown_network", "network_id", _("There is no such network."));
    }
    bool bridged = !strcmp(db_cell(rows, 0, 0), "bridge");
    struct cidr net = { 0 }, block;
    bool has_net = cidr_parse(db_cell(rows, 0, 1), &net) == 0;
    uint32_t dhcp_start = 0, dhcp_end = 0;
    bool has_dhcp = ipv4_parse(db_cell(rows, 0, 2), &dhcp_start) == 0 &&
                    ipv4_parse(db_cell(rows, 0, 3), &dhcp_end) == 0;
    db_rows_free(rows);
    const char *cidr = input_str(r, "cidr");
    char text[16];
    if (!cidr && has_net)
        g_snprintf(v->cidr, sizeof v->cidr, "%s/%d", ipv4_format(net.net, text), net.prefix);
    else
        g_strlcpy(v->cidr, cidr ? cidr : "", sizeof v->cidr);
    if (!*v->cidr)
        return req_fail(r, 400, "missing_field", "cidr", _("Give the pool's CIDR."));
    if (cidr_parse(v->cidr, &block) < 0)
        return req_fail(r, 400, "invalid_cidr", "cidr",
                        _("Give the CIDR as a.b.c.d/n with n from 8 to 30 and no host bits."));
    if (has_net && (block.prefix < net.prefix || !cidr_contains(&net, block.net)))
        return req_fail(r, 422, "cidr_outside_network", "cidr",
                        _("The pool's CIDR must lie inside its network's."));
    if (!bridged && !has_dhcp)
        return req_fail(r, 422, "no_dhcp", "network_id",
                        _("Addresses reach guests by DHCP: give the network a DHCP range first."));
    const char *start = input_str(r, "range_start"), *end = input_str(r, "range_end");
    if (ipv4_parse(start, &v->start) < 0 || ipv4_parse(end, &v->end) < 0)
        return req_fail(r, 400, "invalid_address", "range_start",
                        _("The range needs two IPv4 addresses."));
    if (v->start > v->end || v->start < cidr_first_host(&block) || v->end > cidr_last_host(&block))
        return req_fail(r, 422, "range_outside_cidr", "range_start",
                        _("The range must lie inside %s."), v->cidr);
    const char *gateway = input_str(r, "gateway");
    uint32_t gw = cidr_first_host(&block);
    if (gateway && (ipv4_parse(gateway, &gw) < 0 || !cidr_contains(&block, gw)))
        return req_fail(r, 422, "invalid_gateway", "gateway",
                        _("The gateway must be an address inside %s."), v->cidr);
    ipv4_format(gw, v->gateway);
    if (has_dhcp && v->start <= dhcp_end && dhcp_start <= v->end)
        return req_fail(r, 422, "range_overlaps_dhcp", "range_start",
                        _("The range overlaps the network's DHCP range, whose addresses dnsmasq "
                          "gives to anyone; pick addresses outside it."));
    rows = db_query("SELECT name FROM ip_pools WHERE network_id = ? AND range_start_num <= ? AND "
                    "range_end_num >= ?", DB_INT(v->network_id), DB_INT((long long)v->end),
                    DB_INT((long long)v->start));
    if (!rows)
        return fail_db(r);
    int rc = 0;
    if (rows->nrows)
        rc = req_fail(r, 409, "pool_overlap", "range_start",
                      _("The range overlaps the pool %s on this network."), db_cell(rows, 0, 0));
    db_rows_free(rows);
    return rc;
}

static int pools_create(struct req *r)
{
    struct pool_values v = { .name = input_str(r, "name"),
                             .network_id = input_int(r, "network_id", 0) };
    r->audit_detail = json_pack("{s:s, s:I}", "name", v.name, "network_id",
                                (json_int_t)v.network_id);
    if (dns_servers_input(r, v.dns, sizeof v.dns, NULL) < 0 || pool_check(r, &v) < 0)
        return -1;
    char start[16], end[16];
    long long id = 0;
    if (db_exec_id("INSERT INTO ip_pools (name, network_id, cidr, range_start, range_end, "
                   "range_start_num, range_end_num, gateway, dns) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   &id, DB_TEXT(v.name), DB_INT(v.network_id), DB_TEXT(v.cidr),
                   DB_TEXT(ipv4_format(v.start, start)), DB_TEXT(ipv4_format(v.end, end)),
                   DB_INT((long long)v.start), DB_INT((long long)v.end), DB_TEXT(v.gateway),
                   DB_TEXT(v.dns)) < 0) {
        if (db_errno() == 1062)
            return req_fail(r, 409, "name_taken", "name", _("An IP pool with this name exists."));
        return fail_db(r);
    }
    r->audit_target_id = id;
    json_t *pool = pool_load(r, id);
    if (!pool)
        return -1;
    r->status = 201;
    req_set_object(r, "ip_pool", pool);
    r->location = g_strdup_printf("/ip-pools/%lld", id);
    return 0;
}

static int pools_delete(struct req *r)
{
    long long id = req_param(r, "id")->num;
    json_t *pool = pool_load(r, id);
    if (!pool)
        return -1;
    long long used = json_integer_value(json_object_get(pool, "used"));
    json_decref(pool);
    if (used)
        return req_fail(r, 409, "pool_in_use", NULL,
                        _("%lld addresses of this pool are allocated; release them first."), used);
    unsigned long long n = 0;
    if (db_exec_count("DELETE FROM ip_pools WHERE id = ? AND NOT EXISTS (SELECT 1 FROM "
                      "ip_allocations WHERE pool_id = ?)", &n, DB_INT(id), DB_INT(id)) < 0)
        return fail_db(r);
    if (n == 0)
        return req_fail(r, 409, "pool_in_use", NULL, _("Addresses of this pool are allocated."));
    r->data = json_pack("{s:b}", "deleted", 1);
    r->location = g_strdup("/ip-pools");
    return 0;
}

static int sync_vm(struct req *r, long long vm_id)
{
    json_t *done = helper_call_id(r, "ip_pool.sync_vm", "vm_id", vm_id);
    json_decref(done);
    return done ? 0 : -1;
}

struct allocate_tx {
    long long pool, vm_id, nic;
    const char *asked;
    char *ip;   /* 16 bytes */
};

static int allocate_body(struct req *r, void *ctx)
{
    struct allocate_tx *t = ctx;
    return ip_allocate(t->pool, t->vm_id, t->nic, t->asked, t->ip, &r->err);
}

/* POST /ip-pools/{id}/allocations {vm_id, ip?}: gives the VM's NIC on the
 * pool's network an address (the one asked for, or the next free one),
 * replacing the one it had, and its DHCP host entry follows. A running
 * guest sees it at its next DHCP renewal. */
static int pools_allocate(struct req *r)
{
    long long id = req_param(r, "id")->num;
    long long vm_id = input_int(r, "vm_id", 0);
    const char *asked = input_str(r, "ip");
    json_t *pool = pool_load(r, id);
    if (!pool)
        return -1;
    long long network_id = json_integer_value(json_object_get(pool, "network_id"));
    json_decref(pool);
    struct db_rows *rows = db_query("SELECT c.id, a.ip FROM vm_nics c LEFT JOIN ip_allocations a "
                                    "ON a.nic_id = c.id AND a.pool_id = ? WHERE c.vm_id = ? AND "
                                    "c.network_id = ? ORDER BY c.position LIMIT 1", DB_INT(id),
                                    DB_INT(vm_id), DB_INT(network_id));
    if (!rows)
        return fail_db(r);
    long long nic = db_cell_int(rows, 0, 0, 0);
    char *old_ip = g_strdup(db_cell(rows, 0, 1));
    db_rows_free(rows);
    if (!nic) {
        g_free(old_ip);
        return req_fail(r, 422, "vm_not_on_network", "vm_id",
                        _("That virtual machine has no NIC on this pool's network."));
    }
    r->audit_detail = json_pack("{s:I, s:s?, s:s?}", "vm_id", (json_int_t)vm_id, "ip", asked,
                                "before", old_ip);
    json_t *swept = helper_call_id(r, "ip_pool.sweep", "pool_id", id);
    char ip[16];
    int rc = swept ? 0 : -1;
    json_decref(swept);
    struct allocate_tx tx = { id, vm_id, nic, asked, ip };
    if (rc == 0)
        rc = req_transaction(r, allocate_body, &tx);
    if (rc == 0 && sync_vm(r, vm_id) < 0) {
        /* libvirt refused: the registry goes back to what the guest has. */
        struct err saved = r->err;
        db_exec("DELETE FROM ip_allocations WHERE pool_id = ? AND nic_id = ?", DB_INT(id),
                DB_INT(nic));
        uint32_t num;
        if (old_ip && ipv4_parse(old_ip, &num) == 0)
            db_exec("INSERT INTO ip_allocations (pool_id, ip, ip_num, vm_id, nic_id) VALUES "
                    "(?, ?, ?, ?, ?)", DB_INT(id), DB_TEXT(old_ip), DB_INT((long long)num),
                    DB_INT(vm_id), DB_INT(nic));
        r->err = saved;
        rc = -1;
    }
    g_free(old_ip);
    if (rc < 0)
        return -1;
    r->status = 201;
    r->data = json_pack("{s:I, s:s, s:I}", "pool_id", (json_int_t)id, "ip", ip, "vm_id",
                        (json_int_t)vm_id);
    r->location = g_strdup_printf("/ip-pools/%lld", id);
    return 0;
}

/* DELETE /ip-pools/{id}/allocations/{ip}: the address is free again; the
 * VM's DHCP host entry for it goes. */
static int pools_release(struct req *r)
{
    long long id = req_param(r, "id")->num;
    const char *ip = req_param(r, "ip")->text;
    uint32_t num;
    json_t *pool = pool_load(r, id);
    if (!pool)
        return -1;
    json_decref(pool);
    if (ipv4_parse(ip, &num) < 0)
        return req_fail(r, 404, "not_found", NULL, _("This address is not allocated."));
    struct db_rows *rows = db_query("SELECT vm_id FROM ip_allocations WHERE pool_id = ? AND "
                                    "ip_num = ?", DB_INT(id), DB_INT((long long)num));
    if (!rows)
        return fail_db(r);
    long long vm_id = db_cell_int(rows, 0, 0, 0);
    db_rows_free(rows);
    if (!vm_id)
        return req_fail(r, 404, "not_found", NULL, _("This address is not allocated."));
    r->audit_detail = json_pack("{s:s, s:I}", "ip", ip, "vm_id", (json_int_t)vm_id);
    /* The entry goes first, while the registry still names it. */
    struct db_rows *nic = db_query("SELECT nic_id FROM ip_allocations WHERE pool_id = ? AND "
                                   "ip_num = ?", DB_INT(id), DB_INT((long long)num));
    long long nic_id = nic ? db_cell_int(nic, 0, 0, 0) : 0;
    db_rows_free(nic);
    if (db_exec("DELETE FROM ip_allocations WHERE pool_id = ? AND ip_num = ?", DB_INT(id),
                DB_INT((long long)num)) < 0)
        return fail_db(r);
    if (sync_vm(r, vm_id) < 0) {
        struct err saved = r->err;
        db_exec("INSERT INTO ip_allocations (pool_id, ip, ip_num, vm_id, nic_id) VALUES "
                "(?, ?, ?, ?, ?)", DB_INT(id), DB_TEXT(ip), DB_INT((long long)num), DB_INT(vm_id),
                DB_INT(nic_id));
        r->err = saved;
        return -1;
    }
    r->data = json_pack("{s:b}", "released", 1);
    r->location = g_strdup_printf("/ip-pools/%lld", id);
    return 0;
}

static const struct field create_fields[] = {
    { "name", FIELD_STRING, true, 1, 64, NULL },
    { "network_id", FIELD_INT, true, 1, INT64_MAX, NULL },
    { "cidr", FIELD_STRING, false, 9, 18, NULL },
    { "range_start", FIELD_STRING, true, 7, 15, NULL },
    { "range_end", FIELD_STRING, true, 7, 15, NULL },
    { "gateway", FIELD_STRING, false, 7, 15, NULL },
    { "dns", FIELD_STRING_LIST, false, 0, 8, NULL },
    { NULL },
};
static const struct field create_form_fields[] = {
    { "name", FIELD_STRING, true, 1, 64, NULL },
    { "network_id", FIELD_INT, true, 1, INT64_MAX, NULL },
    { "range_start", FIELD_STRING, true, 7, 15, NULL },
    { "range_end", FIELD_STRING, true, 7, 15, NULL },
    { "dns", FIELD_STRING, false, 0, 255, NULL },
    { NULL },
};
static const struct field allocate_fields[] = {
    { "vm_id", FIELD_INT, true, 1, INT64_MAX, NULL },
    { "ip", FIELD_STRING, false, 7, 15, NULL },
    { NULL },
};
static const struct field no_fields[] = { { NULL } };

static const struct route routes[] = {
    { "GET", "/ip-pools", pools_list, PERM_ADMIN, ROUTE_BOTH, "ip_pools.tpl", N_("IP address pools"),
      .summary = "List IP pools", .reply = REPLY_LIST },
    { "POST", "/ip-pools", pools_create, PERM_ADMIN, ROUTE_API, NULL, NULL, create_fields,
      "ip_pool.create",
      .summary = "Create an IP pool on a network", .reply = REPLY_CREATED,
      .statuses = STATUSES(400, 404, 409, 422) },
    { "POST", "/ip-pools", pools_create, PERM_ADMIN, ROUTE_PAGE, NULL, NULL, create_form_fields,
      "ip_pool.create" },
    { "GET", "/ip-pools/{id:int}", pools_show, PERM_ADMIN, ROUTE_BOTH, "ip_pool.tpl",
      N_("IP address pool"),
      .summary = "Show an IP pool and its allocations", .reply = REPLY_OBJECT,
      .statuses = STATUSES(404) },
    { "DELETE", "/ip-pools/{id:int}", pools_delete, PERM_ADMIN, ROUTE_API, NULL, NULL, no_fields,
      "ip_pool.delete",
      .summary = "Delete an IP pool", .reply = REPLY_OBJECT,
      .statuses = STATUSES(404, 409) },
    { "POST", "/ip-pools/{id:int}/delete", pools_delete, PERM_ADMIN, ROUTE_PAGE, NULL, NULL,
      no_fields, "ip_pool.delete" },
    { "GET", "/ip-pools/{id:int}/conflicts", pools_conflicts, PERM_ADMIN, ROUTE_API,
      .summary = "Addresses in use that the pool did not hand out", .reply = REPLY_LIST,
      .statuses = STATUSES(404, 502) },
    { "POST", "/ip-pools/{id:int}/allocations", pools_allocate, PERM_ADMIN, ROUTE_BOTH, NULL, NULL,
      allocate_fields, "ip_pool.allocate",
      .summary = "Allocate an address to a VM", .reply = REPLY_CREATED,
      .statuses = STATUSES(404, 409, 422, 502) },
    { "DELETE", "/ip-pools/{id:int}/allocations/{ip}", pools_release, PERM_ADMIN, ROUTE_API, NULL,
      NULL, no_fields, "ip_pool.release",
      .summary = "Release an allocated address", .reply = REPLY_OBJECT,
      .statuses = STATUSES(404, 409, 422, 502) },
    { "POST", "/ip-pools/{id:int}/allocations/{ip}/delete", pools_release, PERM_ADMIN, ROUTE_PAGE,
      NULL, NULL, no_fields, "ip_pool.release" },
    { NULL },
};

int main(int argc, char **argv)
{
    return app_run(argv[0], routes);
}
