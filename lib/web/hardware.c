#include "hardware.h"

#include <netinet/ether.h>
#include <stdio.h>
#include <string.h>

#include "app.h"
#include "db.h"
#include "helper_client.h"
#include "i18n.h"
#include "token.h"
#include "user.h"

json_t *hardware_disks(long long vm_id, long long disk_gb)
{
    struct db_rows *rows = db_query("SELECT target, bus, format, cache, size_gb, state, "
                                    "storage_pool_id FROM vm_disks WHERE vm_id = ? ORDER BY target",
                                    DB_INT(vm_id));
    if (!rows)
        return NULL;
    json_t *disks = json_array();
    /* The first disk, made with the VM: it grows, and goes only with it;
     * in the VM's storage pool (issue 12: an administrator's, or null). */
    struct db_rows *vm = db_query("SELECT storage_pool_id FROM vms WHERE id = ?", DB_INT(vm_id));
    json_t *first = json_pack("{s:s, s:s, s:s, s:s, s:I, s:s, s:b}", "target", "vda", "bus",
                              "virtio", "format", "qcow2", "cache", "default", "size_gb",
                              (json_int_t)disk_gb, "state", "attached", "removable", 0);
    json_object_set_new(first, "storage_pool_id",
                        vm && vm->nrows == 1 && db_cell(vm, 0, 0)
                            ? json_integer(db_cell_int(vm, 0, 0, 0)) : json_null());
    db_rows_free(vm);
    json_array_append_new(disks, first);
    for (int i = 0; i < rows->nrows; i++) {
        json_t *disk = json_pack("{s:s, s:s, s:s, s:s, s:I, s:s, s:b}", "target",
                                 db_cell(rows, i, 0), "bus", db_cell(rows, i, 1), "format",
                                 db_cell(rows, i, 2), "cache", db_cell(rows, i, 3), "size_gb",
                                 (json_int_t)db_cell_int(rows, i, 4, 0), "state",
                                 db_cell(rows, i, 5), "removable", 1);
        /* Issue 12: the administrator's storage pool it is in; null: the portal's. */
        json_object_set_new(disk, "storage_pool_id", db_cell(rows, i, 6)
                                                         ? json_integer(db_cell_int(rows, i, 6, 0))
                                                         : json_null());
        json_array_append_new(disks, disk);
    }
    db_rows_free(rows);
    return disks;
}

/* One direction's limits from cells col.. (average, peak, burst), or
 * null when it has none. */
static json_t *bandwidth_way(const struct db_rows *rows, int i, int col)
{
    if (!db_cell(rows, i, col))
        return json_null();
    json_t *way = json_pack("{s:I}", "average", (json_int_t)db_cell_int(rows, i, col, 0));
    if (db_cell(rows, i, col + 1))
        json_object_set_new(way, "peak", json_integer(db_cell_int(rows, i, col + 1, 0)));
    if (db_cell(rows, i, col + 2))
        json_object_set_new(way, "burst", json_integer(db_cell_int(rows, i, col + 2, 0)));
    return way;
}

json_t *hardware_nics(long long vm_id)
{
    struct db_rows *rows = db_query(
        "SELECT c.network_id, n.name, c.mac, c.model, c.link_state, c.state, a.ip, a.pool_id, "
        "c.in_average, c.in_peak, c.in_burst, c.out_average, c.out_peak, c.out_burst, c.vlan "
        "FROM vm_nics c JOIN networks n ON n.id = c.network_id LEFT JOIN ip_allocations a ON "
        "a.nic_id = c.id WHERE c.vm_id = ? ORDER BY c.position", DB_INT(vm_id));
    if (!rows)
        return NULL;
    json_t *nics = json_array();
    for (int i = 0; i < rows->nrows; i++)
        json_array_append_new(
            nics, json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s?, s:o, s:{s:o, s:o}, s:o}",
                            "network_id", (json_int_t)db_cell_int(rows, i, 0, 0), "network",
                            db_cell(rows, i, 1), "mac", db_cell(rows, i, 2), "model",
                            db_cell(rows, i, 3), "link_state", db_cell(rows, i, 4), "state",
                            db_cell(rows, i, 5), "ip", db_cell(rows, i, 6), "ip_pool_id",
                            db_cell(rows, i, 7) ? json_integer(db_cell_int(rows, i, 7, 0))
                                                : json_null(),
                            "bandwidth", "inbound", bandwidth_way(rows, i, 8), "outbound",
                            bandwidth_way(rows, i, 11), "vlan",
                            db_cell(rows, i, 14) ? json_integer(db_cell_int(rows, i, 14, 0))
                                                 : json_null()));
    db_rows_free(rows);
    return nics;
}

json_t *hardware_port_forwards(long long vm_id)
{
    struct db_rows *rows = db_query(
        "SELECT f.id, f.protocol, f.host_address, f.host_port, f.guest_port, c.mac, a.ip FROM "
        "vm_port_forwards f JOIN vm_nics c ON c.id = f.nic_id LEFT JOIN ip_allocations a ON "
        "a.nic_id = f.nic_id WHERE f.vm_id = ? ORDER BY f.protocol, f.host_port", DB_INT(vm_id));
    if (!rows)
        return NULL;
    json_t *out = json_array();
    for (int i = 0; i < rows->nrows; i++)
        json_array_append_new(
            out, json_pack("{s:I, s:I, s:s, s:s, s:I, s:I, s:s, s:s?}", "id",
                           (json_int_t)db_cell_int(rows, i, 0, 0), "vm_id", (json_int_t)vm_id,
                           "protocol", db_cell(rows, i, 1),
                           "host_address", db_cell(rows, i, 2), "host_port",
                           (json_int_t)db_cell_int(rows, i, 3, 0), "guest_port",
                           (json_int_t)db_cell_int(rows, i, 4, 0), "mac", db_cell(rows, i, 5),
                           "guest_ip", db_cell(rows, i, 6)));
    db_rows_free(rows);
    return out;
}

int hardware_describe(json_t *vm, long long isos_for)
{
    long long id = json_integer_value(json_object_get(vm, "id"));
    long long vcpus = json_integer_value(json_object_get(vm, "vcpus"));
    struct db_rows *rows = db_query("SELECT max_vcpus, cpu_sockets, cpu_cores, cpu_threads, "
                                    "max_memory_mb FROM vms WHERE id = ?", DB_INT(id));
    json_t *disks = rows ? hardware_disks(id, json_integer_value(json_object_get(vm, "disk_gb")))
                         : NULL;
    if (!disks) {
        db_rows_free(rows);
        return -1;
    }
    json_object_set_new(vm, "disks", disks);
    json_t *forwards = hardware_port_forwards(id);
    if (!forwards) {
        db_rows_free(rows);
        return -1;
    }
    json_object_set_new(vm, "port_forwards", forwards);
    json_object_set_new(vm, "max_vcpus", json_integer(db_cell_int(rows, 0, 0, vcpus)));
    json_object_set_new(vm, "max_memory_mb",
                        json_integer(db_cell_int(rows, 0, 4,
                                                 json_integer_value(json_object_get(vm, "memory_mb")))));
    json_object_set_new(vm, "cpu_topology",
                        db_cell(rows, 0, 1)
                            ? json_pack("{s:I, s:I, s:I}",
                                        "sockets", (json_int_t)db_cell_int(rows, 0, 1, 1),
                                        "cores", (json_int_t)db_cell_int(rows, 0, 2, 1),
                                        "threads", (json_int_t)db_cell_int(rows, 0, 3, 1))
                            : json_null());
    db_rows_free(rows);
    if (!isos_for)
        return 0;
    rows = db_query("SELECT id, name FROM isos WHERE status = 'ready' AND "
                    "(visibility = 'public' OR owner_id = ?) ORDER BY name", DB_INT(isos_for));
    if (!rows)
        return -1;
    long long current = json_integer_value(json_object_get(vm, "iso_id"));
    json_t *isos = json_array();
    for (int i = 0; i < rows->nrows; i++) {
        long long iso = db_cell_int(rows, i, 0, 0);
        json_array_append_new(isos, json_pack("{s:I, s:s, s:b}", "id", (json_int_t)iso, "name",
                                              db_cell(rows, i, 1), "inserted", iso == current));
        if (iso == current)
            json_object_set_new(vm, "cdrom_name", json_string(db_cell(rows, i, 1)));
    }
    db_rows_free(rows);
    if (!json_object_get(vm, "cdrom_name"))
        json_object_set_new(vm, "cdrom_empty", json_true());
    json_object_set_new(vm, "cdrom_isos", isos);
    /* The networks a NIC may join (as at create: any the portal has). */
    rows = db_query("SELECT id, name FROM networks ORDER BY name");
    if (!rows)
        return -1;
    json_t *networks = json_array();
    for (int i = 0; i < rows->nrows; i++)
        json_array_append_new(networks, json_pack("{s:I, s:s}", "id",
                                                  (json_int_t)db_cell_int(rows, i, 0, 0), "name",
                                                  db_cell(rows, i, 1)));
    db_rows_free(rows);
    json_object_set_new(vm, "nic_networks", networks);
    return 0;
}

int hardware_mac_normalize(const char *text, char out[18])
{
    struct ether_addr mac;
    /* glibc's parser takes "a:b:c:d:e:f" with one or two hex digits each;
     * a MAC's six groups of two are what people and libvirt write. */
    if (!text || strlen(text) != 17 || !ether_aton_r(text, &mac))
        return -1;
    const unsigned char *o = mac.ether_addr_octet;
    if (o[0] & 1)
        return -2;   /* multicast (and broadcast): no NIC's own address */
    if (o[0] == 0xfe || !(o[0] | o[1] | o[2] | o[3] | o[4] | o[5]))
        return -3;   /* libvirt keeps fe: for the host's side of a tap; zero is no address */
    snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", o[0], o[1], o[2], o[3], o[4], o[5]);
    return 0;
}

int hardware_mac_new(char out[18])
{
    char random[TOKEN_HEX_LEN + 1];
    if (token_new(random) < 0)
        return -1;
    snprintf(out, 18, "52:54:00:%.2s:%.2s:%.2s", random, random + 2, random + 4);
    return 0;
}

json_t *hardware_cpu_models(struct req *r, const char *arch)
{
    json_t *args = json_pack("{s:s}", "arch", arch ? arch : "x86_64");
    json_t *offer = helper_call(r, "host.cpu_models", args);
    json_decref(args);
    return offer;
}

int hardware_cpu_model_check(struct req *r, const char *arch, const char *model)
{
    /* The host modes work with either accelerator (under TCG the helper
     * defines both as QEMU's "maximum", which libvirt supports there):
     * no question to the helper, whose answer may wait for the verdict. */
    if (!model || !strcmp(model, "host-passthrough") || !strcmp(model, "host-model"))
        return 0;
    json_t *offer = hardware_cpu_models(r, arch);
    if (!offer)
        return -1;
    const char *accel = json_string_value(json_object_get(offer, "accel"));
    size_t i;
    json_t *m, *found = NULL;
    json_array_foreach(json_object_get(offer, "models"), i, m)
        if (!strcmp(json_string_value(json_object_get(m, "name")), model))
            found = m;
    int rc = 0;
    if (!found)
        rc = req_fail(r, 422, "unknown_cpu_model", "cpu_model",
                      _("libvirt knows no CPU model %s for %s guests; GET /host/cpu-models "
                        "lists them."), model, arch ? arch : "x86_64");
    else if (!json_is_true(json_object_get(found, "usable")))
        rc = req_fail(r, 422, "cpu_model_unusable", "cpu_model",
                      _("This host cannot run the CPU model %s under %s (libvirt reports it "
                        "unusable: the host lacks some of its features)."), model, accel);
    json_decref(offer);
    return rc;
}

int hardware_cpu_choices(struct req *r, json_t *vm)
{
    json_t *offer = hardware_cpu_models(r, json_string_value(json_object_get(vm, "arch")));
    if (!offer)
        return -1;
    const char *current = json_string_value(json_object_get(vm, "cpu_model"));
    json_t *choices = json_array();
    static const char *const modes[] = { "host-model", "host-passthrough" };
    for (size_t i = 0; i < 2; i++)
        json_array_append_new(choices, json_pack("{s:s, s:b}", "name", modes[i], "selected",
                                                 current && !strcmp(current, modes[i])));
    size_t i;
    json_t *m;
    json_array_foreach(json_object_get(offer, "models"), i, m) {
        const char *name = json_string_value(json_object_get(m, "name"));
        if (json_is_true(json_object_get(m, "usable")))
            json_array_append_new(choices, json_pack("{s:s, s:b}", "name", name, "selected",
                                                     current && !strcmp(current, name)));
    }
    json_object_set_new(vm, "cpu_choices", choices);
    json_object_set(vm, "cpu_accel", json_object_get(offer, "accel"));
    json_decref(offer);
    return 0;
}

int hardware_pool_check(struct req *r, long long pool_id, long long size_gb)
{
    if (!pool_id)
        return 0;
    bool admin = r->user->role == ROLE_ADMIN;
    struct db_rows *rows = db_query("SELECT 1 FROM storage_pools WHERE id = ? AND "
                                    "(? OR users_allowed)", DB_INT(pool_id), DB_INT(admin));
    if (!rows)
        return fail_db(r);
    int found = rows->nrows;
    db_rows_free(rows);
    if (!found && !admin)
        return req_fail(r, 403, "forbidden", "pool",
                        _("This storage pool is not open to users; leave the pool out to use "
                          "the default one."));
    if (!found)
        return req_fail(r, 422, "unknown_pool", "pool", _("There is no such storage pool."));
    json_t *args = json_pack("{s:I, s:I}", "pool_id", (json_int_t)pool_id, "bytes",
                             (json_int_t)(size_gb << 30));
    json_t *room = helper_call(r, "storage.volume_room", args);
    json_decref(args);
    json_decref(room);
    return room ? 0 : -1;
}

json_t *hardware_pool_choices(struct req *r, long long chosen)
{
    struct db_rows *rows = db_query("SELECT id, name FROM storage_pools WHERE ? OR users_allowed "
                                    "ORDER BY name", DB_INT(r->user->role == ROLE_ADMIN));
    if (!rows)
        return NULL;
    json_t *pools = json_array();
    for (int i = 0; i < rows->nrows; i++)
        json_array_append_new(pools, json_pack("{s:I, s:s, s:b}", "id",
                                               (json_int_t)db_cell_int(rows, i, 0, 0), "name",
                                               db_cell(rows, i, 1),
                                               "selected", db_cell_int(rows, i, 0, 0) == chosen));
    db_rows_free(rows);
    return pools;
}
