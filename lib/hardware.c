#include "hardware.h"

#include "db.h"

json_t *hardware_disks(long long vm_id, long long disk_gb)
{
    struct db_rows *rows = db_query("SELECT target, bus, format, cache, size_gb, state FROM "
                                    "vm_disks WHERE vm_id = ? ORDER BY target", DB_INT(vm_id));
    if (!rows)
        return NULL;
    json_t *disks = json_array();
    /* The first disk, made with the VM: it grows, and goes only with it. */
    json_array_append_new(disks, json_pack("{s:s, s:s, s:s, s:s, s:I, s:s, s:b}", "target", "vda",
                                           "bus", "virtio", "format", "qcow2", "cache", "default",
                                           "size_gb", (json_int_t)disk_gb, "state", "attached",
                                           "removable", 0));
    for (int i = 0; i < rows->nrows; i++)
        json_array_append_new(disks, json_pack("{s:s, s:s, s:s, s:s, s:I, s:s, s:b}",
                                               "target", db_cell(rows, i, 0), "bus",
                                               db_cell(rows, i, 1), "format", db_cell(rows, i, 2),
                                               "cache", db_cell(rows, i, 3), "size_gb",
                                               (json_int_t)db_cell_int(rows, i, 4, 0), "state",
                                               db_cell(rows, i, 5), "removable", 1));
    db_rows_free(rows);
    return disks;
}

int hardware_describe(json_t *vm, long long isos_for)
{
    long long id = json_integer_value(json_object_get(vm, "id"));
    long long vcpus = json_integer_value(json_object_get(vm, "vcpus"));
    struct db_rows *rows = db_query("SELECT max_vcpus, cpu_sockets, cpu_cores, cpu_threads "
                                    "FROM vms WHERE id = ?", DB_INT(id));
    json_t *disks = rows ? hardware_disks(id, json_integer_value(json_object_get(vm, "disk_gb")))
                         : NULL;
    if (!disks) {
        db_rows_free(rows);
        return -1;
    }
    json_object_set_new(vm, "disks", disks);
    json_object_set_new(vm, "max_vcpus", json_integer(db_cell_int(rows, 0, 0, vcpus)));
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
    return 0;
}
