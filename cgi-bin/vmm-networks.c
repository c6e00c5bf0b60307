/* vmm-networks: virtual networks (NAT, routed, bridged onto a host
 * bridge, isolated), for administrators. The row is ours, the network is
 * the helper's: create inserts the row and asks the helper to define and
 * start it, removing the row again if that fails. The helper checks
 * everything again, and what only the host knows (its own addresses, the
 * other libvirt networks, which bridges exist). */
#include <stdint.h>
#include <string.h>

#include "app.h"
#include "audit.h"
#include "db.h"
#include "dns_servers.h"
#include "helper_client.h"
#include "i18n.h"
#include "ipv4.h"
#include "list.h"

#define NETWORK_COLUMNS                                                                     \
    "n.id, n.name, n.mode, n.cidr, n.dhcp_start, n.dhcp_end, n.dns, n.domain, n.bridge, "   \
    "n.autostart, n.builtin, DATE_FORMAT(n.created_at, '%Y-%m-%dT%TZ'), "                   \
    "(SELECT COUNT(*) FROM vm_nics c WHERE c.network_id = n.id) + (SELECT COUNT(*) FROM "   \
    "vms v WHERE v.network = n.name AND NOT EXISTS (SELECT 1 FROM vm_nics c WHERE "         \
    "c.vm_id = v.id))"

static json_t *network_from_row(const struct db_rows *rows, int i)
{
    json_t *dhcp = *db_cell(rows, i, 4) ? json_pack("{s:s, s:s}", "start", db_cell(rows, i, 4),
                                                    "end", db_cell(rows, i, 5))
                                        : json_null();
    return json_pack("{s:I, s:s, s:s, s:s, s:o, s:o, s:s, s:s, s:b, s:b, s:s, s:I}",
                     "id", (json_int_t)db_cell_int(rows, i, 0, 0), "name", db_cell(rows, i, 1),
                     "mode", db_cell(rows, i, 2), "cidr", db_cell(rows, i, 3), "dhcp", dhcp,
                     "dns", dns_servers_json(db_cell(rows, i, 6)), "domain", db_cell(rows, i, 7),
                     "bridge", db_cell(rows, i, 8), "autostart", db_cell_int(rows, i, 9, 0) != 0,
                     "builtin", db_cell_int(rows, i, 10, 0) != 0, "created_at",
                     db_cell(rows, i, 11), "vm_count", (json_int_t)db_cell_int(rows, i, 12, 0));
}

/* The helper's facts of every network, by id; NULL when it cannot say,
 * which leaves each network "unknown" rather than failing the page. */
static json_t *network_states(struct req *r)
{
    json_t *states = helper_call(r, "network.states", NULL);
    memset(&r->err, 0, sizeof r->err);
    return states;
}

/* Adds what libvirt says (state, its autostart, the bridge device) to a
 * network object, from its entry in states (network_states). */
static void add_facts(json_t *network, json_t *states)
{
    char key[24];
    snprintf(key, sizeof key, "%lld", (long long)json_integer_value(json_object_get(network, "id")));
    json_t *facts = json_object_get(states, key);
    const char *state = !facts ? "unknown"
                        : !json_is_true(json_object_get(facts, "defined")) ? "missing"
                        : json_is_true(json_object_get(facts, "active"))   ? "active"
                                                                           : "inactive";
    json_object_set_new(network, "state", json_string(state));
    const char *bridge = json_string_value(json_object_get(facts, "bridge_device"));
    json_object_set_new(network, "bridge_device", json_string(bridge ? bridge : ""));
}

static json_t *network_load(struct req *r, long long id)
{
    return list_one(r, db_query("SELECT " NETWORK_COLUMNS " FROM networks n WHERE n.id = ?",
                                DB_INT(id)),
                    network_from_row, _("There is no such network."));
}

/* The network with its live state. */
static json_t *network_visible(struct req *r, long long id)
{
    json_t *network = network_load(r, id);
    if (!network)
        return NULL;
    json_t *states = network_states(r);
    add_facts(network, states);
    json_decref(states);
    return network;
}

static const struct list_sort network_sorts[] = {
    { "name", "n.name" }, { "id", "n.id" }, { "created_at", "n.created_at" }, { NULL },
};

static int networks_list(struct req *r)
{
    struct list_query q;
    if (list_query_parse(r, network_sorts, &q) < 0)
        return -1;
    int rc = list_run(r, &q, NETWORK_COLUMNS,
                      "FROM networks n WHERE (? IS NULL OR n.name LIKE ? OR n.cidr LIKE ?)",
                      DB_PARAMS(DB_TEXT(q.like), DB_TEXT(q.like), DB_TEXT(q.like)),
                      network_from_row);
    if (rc < 0)
        return -1;
    json_t *states = network_states(r);
    size_t i;
    json_t *network;
    json_array_foreach(r->data, i, network)
        add_facts(network, states);
    json_decref(states);
    return 0;
}

static int networks_show(struct req *r)
{
    json_t *network = network_visible(r, req_param(r, "id")->num);
    if (!network)
        return -1;
    req_set_object(r, "network", network);
    return 0;
}

/* A network's values, as the API (dhcp {start, end}, dns [...]) or a form
 * (dhcp_start, dhcp_end, dns "a, b") sends them, in one shape. */
struct network_values {
    const char *name, *mode, *cidr, *dhcp_start, *dhcp_end, *domain, *bridge;
    char dns[256];
    bool autostart;
};

static const char *dhcp_value(const struct req *r, const char *key, const char *fallback)
{
    char flat[16];
    snprintf(flat, sizeof flat, "dhcp_%s", key);
    json_t *dhcp = json_object_get(r->input, "dhcp");
    if (json_is_null(dhcp))
        return "";
    const char *v = dhcp ? json_string_value(json_object_get(dhcp, key)) : input_str(r, flat);
    return v ? v : dhcp ? "" : fallback;
}

/* What the program can check: the mode's needs, the CIDR, the DHCP range
 * inside it, the domain, and no overlap with another network row. */
static int values_check(struct req *r, const struct network_values *v, long long self)
{
    if (!net_name_valid(v->name))
        return req_fail(r, 400, "invalid_name", "name",
                        _("A network name is 1-48 letters, digits, '-', '_' or '.', starting "
                          "with a letter or digit."));
    if (!strcmp(v->mode, "bridge")) {
        if (!*v->bridge)
            return req_fail(r, 400, "missing_field", "bridge",
                            _("A bridged network needs the host bridge to join."));
        if (*v->cidr || *v->dhcp_start || *v->dhcp_end)
            return req_fail(r, 400, "invalid_choice", "cidr",
                            _("A bridged network takes its addresses from the host's LAN; "
                              "give no CIDR or DHCP range."));
        return 0;
    }
    if (*v->bridge)
        return req_fail(r, 400, "invalid_choice", "bridge",
                        _("Only a bridged network names a host bridge."));
    struct cidr c;
    if (!*v->cidr)
        return req_fail(r, 400, "missing_field", "cidr", _("Give the network's CIDR."));
    if (cidr_parse(v->cidr, &c) < 0)
        return req_fail(r, 400, "invalid_cidr", "cidr",
                        _("Give the CIDR as a.b.c.d/n with n from 8 to 30 and no host bits."));
    uint32_t start, end;
    if (!*v->dhcp_start != !*v->dhcp_end)
        return req_fail(r, 400, "missing_field", "dhcp", _("Give both ends of the DHCP range."));
    if (*v->dhcp_start) {
        if (ipv4_parse(v->dhcp_start, &start) < 0 || ipv4_parse(v->dhcp_end, &end) < 0)
            return req_fail(r, 400, "invalid_address", "dhcp",
                            _("The DHCP range needs two IPv4 addresses."));
        if (start > end || !cidr_contains(&c, start) || !cidr_contains(&c, end) ||
            start <= cidr_first_host(&c) || end > cidr_last_host(&c))
            return req_fail(r, 422, "dhcp_outside_cidr", "dhcp",
                            _("The DHCP range must lie inside %s, after the gateway %s."),
                            v->cidr, ipv4_format(cidr_first_host(&c), (char[16]){ 0 }));
    }
    if (*v->domain && !net_domain_valid(v->domain))
        return req_fail(r, 400, "invalid_domain", "domain",
                        _("A domain is lower-case letters, digits and '-', in labels joined by dots."));
    struct db_rows *rows = db_query("SELECT name, cidr FROM networks WHERE cidr <> '' AND id <> ?",
                                    DB_INT(self));
    if (!rows)
        return fail_db(r);
    int rc = 0;
    for (int i = 0; i < rows->nrows && rc == 0; i++) {
        struct cidr other;
        if (cidr_parse(db_cell(rows, i, 1), &other) == 0 && cidr_overlap(&c, &other))
            rc = req_fail(r, 409, "network_overlap", "cidr", _("%s overlaps the network %s (%s)."),
                          v->cidr, db_cell(rows, i, 0), db_cell(rows, i, 1));
    }
    db_rows_free(rows);
    return rc;
}

static int networks_create(struct req *r)
{
    struct network_values v = {
        .name = input_str(r, "name"), .mode = input_str(r, "mode"),
        .cidr = input_str(r, "cidr") ?: "", .dhcp_start = dhcp_value(r, "start", ""),
        .dhcp_end = dhcp_value(r, "end", ""), .domain = input_str(r, "domain") ?: "",
        .bridge = input_str(r, "bridge") ?: "",
        .autostart = !json_is_false(json_object_get(r->input, "autostart")),
    };
    r->audit_detail = json_pack("{s:s, s:s, s:s}", "name", v.name, "mode", v.mode, "cidr", v.cidr);
    if (dns_servers_input(r, v.dns, sizeof v.dns, NULL) < 0 || values_check(r, &v, 0) < 0)
        return -1;
    long long id = 0;
    if (db_exec_id("INSERT INTO networks (name, mode, cidr, dhcp_start, dhcp_end, dns, domain, "
                   "bridge, autostart) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", &id,
                   DB_TEXT(v.name), DB_TEXT(v.mode), DB_TEXT(v.cidr), DB_TEXT(v.dhcp_start),
                   DB_TEXT(v.dhcp_end), DB_TEXT(v.dns), DB_TEXT(v.domain), DB_TEXT(v.bridge),
                   DB_INT(v.autostart)) < 0) {
        if (db_errno() == 1062)
            return req_fail(r, 409, "name_taken", "name", _("A network with this name exists."));
        return fail_db(r);
    }
    r->audit_target_id = id;
    json_t *made = helper_call_id(r, "network.create", "network_id", id);
    if (!made) {
        /* The helper removed what it made (or made nothing): so goes the row. */
        db_exec("DELETE FROM networks WHERE id = ?", DB_INT(id));
        return -1;
    }
    json_decref(made);
    json_t *network = network_visible(r, id);
    if (!network)
        return -1;
    r->status = 201;
    req_set_object(r, "network", network);
    r->location = g_strdup_printf("/networks/%lld", id);
    return 0;
}

static bool is_builtin(struct req *r, json_t *network)
{
    if (!json_is_true(json_object_get(network, "builtin")))
        return false;
    req_fail(r, 409, "builtin_network", NULL,
             _("This network was not made here; change it with libvirt's own tools."));
    return true;
}

/* PATCH: the DHCP range, DNS servers, domain and autostart. The row
 * first, then the helper redefines the network (and changes the range of
 * a running one live); if libvirt refuses, the row goes back. What waits
 * for a restart of the network is named in restart_required. */
static int networks_update(struct req *r)
{
    long long id = req_param(r, "id")->num;
    json_t *before = network_load(r, id);
    if (!before)
        return -1;
    if (is_builtin(r, before)) {
        json_decref(before);
        return -1;
    }
    json_t *old_dhcp = json_object_get(before, "dhcp");
    struct db_rows *old = db_query("SELECT dns FROM networks WHERE id = ?", DB_INT(id));
    char *old_dns = old ? g_strdup(db_cell(old, 0, 0)) : NULL;
    db_rows_free(old);
    json_t *autostart = json_object_get(r->input, "autostart");
    struct network_values v = {
        .name = json_string_value(json_object_get(before, "name")),
        .mode = json_string_value(json_object_get(before, "mode")),
        .cidr = json_string_value(json_object_get(before, "cidr")),
        .dhcp_start = dhcp_value(r, "start", json_string_value(json_object_get(old_dhcp, "start")) ?: ""),
        .dhcp_end = dhcp_value(r, "end", json_string_value(json_object_get(old_dhcp, "end")) ?: ""),
        .domain = input_has(r, "domain") ? input_str(r, "domain")
                                         : json_string_value(json_object_get(before, "domain")),
        .bridge = json_string_value(json_object_get(before, "bridge")),
        .autostart = autostart ? json_is_true(autostart)
                               : json_is_true(json_object_get(before, "autostart")),
    };
    r->audit_detail = json_pack("{s:O, s:O}", "before", before, "changes", r->input);
    int rc = old_dns ? 0 : fail_db(r);
    if (rc == 0)
        rc = dns_servers_input(r, v.dns, sizeof v.dns, old_dns);
    if (rc == 0)
        rc = values_check(r, &v, id);
    if (rc == 0 && db_exec("UPDATE networks SET dhcp_start = ?, dhcp_end = ?, dns = ?, domain = ?, "
                           "autostart = ? WHERE id = ?", DB_TEXT(v.dhcp_start), DB_TEXT(v.dhcp_end),
                           DB_TEXT(v.dns), DB_TEXT(v.domain), DB_INT(v.autostart), DB_INT(id)) < 0)
        rc = fail_db(r);
    json_t *done = NULL;
    if (rc == 0) {
        done = helper_call_id(r, "network.update", "network_id", id);
        if (!done) {
            db_exec("UPDATE networks SET dhcp_start = ?, dhcp_end = ?, dns = ?, domain = ?, "
                    "autostart = ? WHERE id = ?",
                    DB_TEXT(json_string_value(json_object_get(old_dhcp, "start")) ?: ""),
                    DB_TEXT(json_string_value(json_object_get(old_dhcp, "end")) ?: ""),
                    DB_TEXT(old_dns), DB_TEXT(json_string_value(json_object_get(before, "domain"))),
                    DB_INT(json_is_true(json_object_get(before, "autostart"))), DB_INT(id));
            rc = -1;
        }
    }
    g_free(old_dns);
    json_t *network = rc == 0 ? network_visible(r, id) : NULL;
    if (network) {
        json_object_set(network, "restart_required",
                        json_object_get(done, "restart_required") ?: json_array());
        audit_changes_between(r, before, network, NULL);
        req_set_object(r, "network", network);
    }
    json_decref(done);
    json_decref(before);
    return network ? 0 : -1;
}

static int networks_delete(struct req *r)
{
    long long id = req_param(r, "id")->num;
    json_t *network = network_load(r, id);
    if (!network)
        return -1;
    long long users = json_integer_value(json_object_get(network, "vm_count"));
    bool builtin = is_builtin(r, network);
    json_decref(network);
    if (builtin)
        return -1;
    if (users)
        return req_fail(r, 409, "network_in_use", NULL,
                        _("%lld virtual machines use this network; remove them from it first."),
                        users);
    json_t *done = helper_call_id(r, "network.delete", "network_id", id);
    if (!done)
        return -1;
    json_decref(done);
    if (db_exec("DELETE FROM networks WHERE id = ?", DB_INT(id)) < 0)
        return fail_db(r);
    r->data = json_pack("{s:b}", "deleted", 1);
    r->location = g_strdup("/networks");
    return 0;
}

static int networks_action(struct req *r)
{
    const char *action = req_param(r, "action")->text;
    long long id = req_param(r, "id")->num;
    if (strcmp(action, "start") && strcmp(action, "stop"))
        return req_fail(r, 404, "not_found", NULL, _("There is nothing at this address."));
    const char *op = !strcmp(action, "start") ? "network.start" : "network.stop";
    r->audit_action = op;   /* the helper's op and the audit's action are one name */
    json_t *network = network_load(r, id);
    if (!network)
        return -1;
    json_decref(network);
    json_t *done = helper_call_id(r, op, "network_id", id);
    if (!done)
        return -1;
    json_decref(done);
    network = network_visible(r, id);
    if (!network)
        return -1;
    req_set_object(r, "network", network);
    r->location = g_strdup_printf("/networks/%lld", id);
    return 0;
}

static const char *const modes[] = { "nat", "routed", "bridge", "isolated", NULL };

static const struct field dhcp_fields[] = {
    { "start", FIELD_STRING, true, 7, 15, NULL },
    { "end", FIELD_STRING, true, 7, 15, NULL },
    { NULL },
};

#define COMMON_FIELDS                                                                       \
    { "domain", FIELD_STRING, false, 0, 64, NULL }, { "autostart", FIELD_BOOL },             \
    { "dhcp_start", FIELD_STRING, false, 0, 15, NULL },                                    \
    { "dhcp_end", FIELD_STRING, false, 0, 15, NULL }

static const struct field create_fields[] = {
    { "name", FIELD_STRING, true, 1, 48, NULL },
    { "mode", FIELD_ENUM, true, 0, 0, modes },
    { "cidr", FIELD_STRING, false, 0, 18, NULL },
    { "bridge", FIELD_STRING, false, 0, 15, NULL },
    { "dhcp", FIELD_OBJECT, false, 0, 0, NULL, .fields = dhcp_fields },
    { "dns", FIELD_STRING_LIST, false, 0, 8, NULL },
    COMMON_FIELDS,
    { NULL },
};
/* A form sends the DNS servers as one line, "a, b". */
static const struct field create_form_fields[] = {
    { "name", FIELD_STRING, true, 1, 48, NULL },
    { "mode", FIELD_ENUM, true, 0, 0, modes },
    { "cidr", FIELD_STRING, false, 0, 18, NULL },
    { "bridge", FIELD_STRING, false, 0, 15, NULL },
    { "dns", FIELD_STRING, false, 0, 255, NULL },
    COMMON_FIELDS,
    { NULL },
};
static const struct field update_fields[] = {
    { "dhcp", FIELD_OBJECT, false, 0, 0, NULL, .fields = dhcp_fields },
    { "dns", FIELD_STRING_LIST, false, 0, 8, NULL },
    COMMON_FIELDS,
    { NULL },
};
static const struct field update_form_fields[] = {
    { "dns", FIELD_STRING, false, 0, 255, NULL },
    COMMON_FIELDS,
    { NULL },
};
static const struct field no_fields[] = { { NULL } };

static const struct route routes[] = {
    { "GET", "/networks", networks_list, PERM_ADMIN, ROUTE_BOTH, "networks.tpl", N_("Networks"),
      .summary = "List networks", .reply = REPLY_LIST,
      .statuses = STATUSES(502) },
    { "POST", "/networks", networks_create, PERM_ADMIN, ROUTE_API, NULL, NULL, create_fields,
      "network.create",
      .summary = "Create a network (nat, bridge, isolated)", .reply = REPLY_CREATED,
      .statuses = STATUSES(400, 404, 409, 422, 502) },
    { "POST", "/networks", networks_create, PERM_ADMIN, ROUTE_PAGE, NULL, NULL,
      create_form_fields, "network.create" },
    { "GET", "/networks/{id:int}", networks_show, PERM_ADMIN, ROUTE_BOTH, "network.tpl",
      N_("Network"),
      .summary = "Show a network", .reply = REPLY_OBJECT,
      .statuses = STATUSES(404, 502) },
    { "PATCH", "/networks/{id:int}", networks_update, PERM_ADMIN, ROUTE_API, NULL, NULL,
      update_fields, "network.update",
      .summary = "Change a network", .reply = REPLY_OBJECT,
      .statuses = STATUSES(400, 404, 409, 422, 502) },
    { "POST", "/networks/{id:int}", networks_update, PERM_ADMIN, ROUTE_PAGE, NULL, NULL,
      update_form_fields, "network.update" },
    { "DELETE", "/networks/{id:int}", networks_delete, PERM_ADMIN, ROUTE_API, NULL, NULL,
      no_fields, "network.delete",
      .summary = "Delete a network", .reply = REPLY_OBJECT,
      .statuses = STATUSES(404, 409, 422, 502) },
    { "POST", "/networks/{id:int}/delete", networks_delete, PERM_ADMIN, ROUTE_PAGE, NULL, NULL,
      no_fields, "network.delete" },
    { "POST", "/networks/{id:int}/{action}", networks_action, PERM_ADMIN, ROUTE_BOTH, NULL, NULL,
      no_fields, "network.action",
      .summary = "Start or stop a network ({action}: start, stop)", .reply = REPLY_OBJECT,
      .statuses = STATUSES(404, 409, 422, 502) },
    { NULL },
};

int main(int argc, char **argv)
{
    return app_run(argv[0], routes);
}
