#include "compat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "db.h"
#include "i18n.h"
#include "user.h"

/* ------------------------------------------------------ path aliases --- */

static const struct compat_alias aliases[] = {
    { "POST", "/vms/*/restart", "/vms/*/reboot" },
    /* issue 17: hardware */
    { "POST", "/vms/*/disks/*/expand", "/vms/*/disks/*/resize" },
    { "PUT", "/vms/*/hardware/cpu", "/vms/*/cpu" },
    { "PUT", "/vms/*/hardware/memory", "/vms/*/memory" },
    { "POST", "/vms/*/snapshots/*/restore", "/vms/*/snapshots/*/revert" },
    { "PUT", "/vms/*/auto-snapshot", "/vms/*/snapshot-policy" },
    /* The guide's NICs, port forwards and memory hot-add (issue 17). */
    { "GET", "/vms/*/network-interfaces", "/vms/*/interfaces" },
    { "POST", "/vms/*/network-interfaces", "/vms/*/interfaces" },
    { "DELETE", "/vms/*/network-interfaces/*", "/vms/*/interfaces/*" },
    { "GET", "/vms/*/port-forwarding", "/vms/*/port-forwards" },
    { "PUT", "/vms/*/port-forwarding", "/vms/*/port-forwards" },
    { "POST", "/vms/*/hardware/memory/hot-add", "/vms/*/memory", .to_method = "PUT" },
    /* issue 20: the console's connection details (a one-time token) */
    { "GET", "/vms/*/console/vnc", "/vms/*/console" },
    /* The console's settings are the VM's: PATCH /vms/{id} (vnc_config_map). */
    { "PUT", "/vms/*/console/vnc/config", "/vms/*", .to_method = "PATCH" },
    { NULL },
};

const struct compat_alias *compat_aliases(void)
{
    return aliases;
}

/* to, with the "*" segments path has where from has them; NULL when path
 * is not from. */
static char *alias_apply(const char *from, const char *to, const char *path)
{
    gchar **f = g_strsplit(from, "/", -1);
    gchar **p = g_strsplit(path, "/", -1);
    GPtrArray *stars = g_ptr_array_new();
    bool ok = g_strv_length(f) == g_strv_length(p);
    for (int i = 0; ok && f[i]; i++) {
        if (!strcmp(f[i], "*")) {
            ok = p[i][0] != '\0';
            g_ptr_array_add(stars, p[i]);
        } else {
            ok = !strcmp(f[i], p[i]);
        }
    }
    char *out = NULL;
    if (ok) {
        gchar **t = g_strsplit(to, "/", -1);
        guint n = 0;
        for (int i = 0; t[i]; i++)
            if (!strcmp(t[i], "*") && n < stars->len) {
                g_free(t[i]);
                t[i] = g_strdup(g_ptr_array_index(stars, n++));
            }
        out = g_strjoinv("/", t);
        g_strfreev(t);
    }
    g_ptr_array_free(stars, TRUE);
    g_strfreev(f);
    g_strfreev(p);
    return out;
}

void compat_route(struct req *r)
{
    if (!r->api || !r->route_path)
        return;
    for (const struct compat_alias *a = aliases; a->method; a++) {
        if (strcmp(a->method, r->method) != 0)
            continue;
        char *ours = alias_apply(a->from, a->to, r->route_path);
        if (!ours)
            continue;
        g_free(r->alias_path);
        r->alias_path = ours;
        r->alias_from = a->from;
        r->route_path = ours;
        if (a->to_method)
            r->method = a->to_method;
        resp_header(r, "Deprecation", "true");
        char *link = g_strdup_printf("</api/v1%s>; rel=\"successor-version\"", ours);
        resp_header(r, "Link", link);   /* refused (not sent) if the path has control characters */
        g_free(link);
        return;
    }
}

/* ---------------------------------------------------- field mappings --- */

enum map_kind {
    MAP_COPY,          /* the value, under our name */
    MAP_FALLBACK,      /* the value under our name, unless the body gives ours */
    MAP_ONLY,          /* accepted with a value we give anyway (accept); sets nothing */
    MAP_CHOICE,        /* a string through accept "theirs=ours|..."; "theirs=": unsupported */
    MAP_VCPUS,         /* cores × threads × sockets: our vcpus (the topology stays flat) */
    MAP_TEMPLATE,      /* a template's name or slug → template_id */
    MAP_ISO,           /* a library ISO's file name (a path's last part) → iso_id */
    MAP_VNC_PASSWORD,  /* VNC's DES challenge reads the first 8 characters: so do we */
    MAP_THIS_VM,       /* must name the VM of the path */
    MAP_NICS,          /* network.interfaces: the one NIC every VM has */
    MAP_NET_TYPE,      /* a NIC's type (bridge/nat/host/user): with bridge, network_id */
    MAP_NET_BRIDGE,    /* a NIC's bridge (or network name): with type, network_id */
    MAP_FORWARDS,      /* port-forwarding rules, their members renamed (forward_names) */
};

struct compat_field {
    const char *from;     /* in the guide's body, dotted: "hardware.cpu.cores" */
    enum map_kind kind;
    const char *to;       /* our field */
    const char *accept;   /* MAP_ONLY: JSON values, '|'-separated; MAP_CHOICE: the mapping */
    const char *note_for; /* MAP_CHOICE: the guide's value that gets note (NULL: none) */
    const char *note;     /* said in the answer's meta.notes (a msgid) */
};

/* POST /vms: the guide's nested shape and its templates' flat one. */
static const struct compat_field create_map[] = {
    { "hardware.cpu.cores", MAP_VCPUS, "vcpus", NULL },
    { "hardware.cpu.threads", MAP_VCPUS, "vcpus", NULL },
    { "hardware.cpu.sockets", MAP_VCPUS, "vcpus", NULL },
    { "hardware.cpu.model", MAP_COPY, "cpu_model", NULL },
    { "hardware.memory.size", MAP_COPY, "memory_mb", NULL },
    { "hardware.memory.hugepages", MAP_ONLY, NULL, "false" },
    { "hardware.disk.size", MAP_COPY, "disk_gb", NULL },
    /* What every disk is: a qcow2 file with QEMU's default cache mode
     * (writeback) and I/O (a thread pool). */
    { "hardware.disk.type", MAP_ONLY, NULL, "\"qcow2\"" },
    { "hardware.disk.cache", MAP_ONLY, NULL, "\"writeback\"" },
    { "hardware.disk.io", MAP_ONLY, NULL, "\"threads\"" },
    { "network.interfaces", MAP_NICS, NULL, NULL },
    { "os.template", MAP_TEMPLATE, "template_id", NULL },
    { "os.iso_path", MAP_ISO, "iso_id", NULL },
    { "os.boot_order", MAP_ONLY, NULL, "[\"hd\",\"cdrom\"]|[\"hd\"]" },
    { "options.autostart", MAP_COPY, "autostart", NULL },
    { "options.vnc_password", MAP_VNC_PASSWORD, "vnc_password", NULL },
    { "options.description", MAP_FALLBACK, "description", NULL },
    { "template", MAP_TEMPLATE, "template_id", NULL },
    { "cpu", MAP_COPY, "vcpus", NULL },
    { "memory", MAP_COPY, "memory_mb", NULL },
    { "disk", MAP_COPY, "disk_gb", NULL },
    { "preinstalled", MAP_ONLY, NULL, "[]" },
    { NULL },
};

/* POST /vms/{id}/start. */
static const struct compat_field start_map[] = {
    { "vmId", MAP_THIS_VM, NULL, NULL },
    { "bootMode", MAP_CHOICE, "boot", "normal=normal|cdrom=cdrom|recovery=" },
    /* Starting from a snapshot comes with snapshots. */
    { "snapshot", MAP_ONLY, NULL, "null" },
    /* Every VM has its console. */
    { "console", MAP_ONLY, NULL, "true" },
    { NULL },
};

/* issue 17: POST /vms/{id}/disks. q35 has no IDE controller: the guide's
 * "ide" is a SATA disk (AHCI), which is what q35 has in its place. */
static const struct compat_field disk_add_map[] = {
    { "size", MAP_COPY, "size_gb", NULL },
    { "type", MAP_COPY, "format", NULL },
    { "interface", MAP_CHOICE, "bus", "virtio=virtio|scsi=scsi|sata=sata|ide=sata", "ide",
      N_("q35 machines have no IDE controller: the disk is on SATA (AHCI) instead.") },
    { NULL },
};

/* POST /vms/{id}/disks/{target}/expand. */
static const struct compat_field disk_expand_map[] = {
    { "newSize", MAP_COPY, "size_gb", NULL },
    { NULL },
};

/* PUT /vms/{id}/hardware/cpu: sockets, cores, threads and model are ours. */
static const struct compat_field cpu_map[] = {
    { "features", MAP_ONLY, NULL, "[]|null" },
    { NULL },
};

/* PUT /vms/{id}/hardware/memory, while stopped. */
static const struct compat_field memory_map[] = {
    { "size", MAP_COPY, "memory_mb", NULL },
    { "maxSize", MAP_COPY, "max_memory_mb", NULL },
    { "hugepages", MAP_ONLY, NULL, "false|null" },
    { "numa", MAP_ONLY, NULL, "null" },
    { NULL },
};

/* POST /vms/{id}/snapshots: a snapshot always holds the disks, and is
 * always atomic (libvirt's CREATE_ATOMIC: all of it or nothing). */
static const struct compat_field snapshot_map[] = {
    { "includeMemory", MAP_COPY, "include_memory", NULL },
    { "includeDisk", MAP_ONLY, NULL, "true" },
    { "atomic", MAP_ONLY, NULL, "true" },
    { NULL },
};

/* PUT /vms/{id}/auto-snapshot: enabled, schedule and naming are ours. */
static const struct compat_field auto_snapshot_map[] = {
    { "maxSnapshots", MAP_COPY, "keep", NULL },
    { "includeMemory", MAP_COPY, "include_memory", NULL },
    { NULL },
};

/* issue 20: PUT /vms/{id}/console/vnc/config, as PATCH /vms/{id}: the
 * keymap, password and listen address are the VM's console settings
 * (changed while it is stopped; listen only 127.0.0.1 unless an admin
 * allows another); every VM has its console, on a port libvirt picks. */
static const struct compat_field vnc_config_map[] = {
    { "enabled", MAP_ONLY, NULL, "true" },
    { "password", MAP_VNC_PASSWORD, "vnc_password", NULL },
    { "port", MAP_ONLY, NULL, "null|\"auto\"" },
    { "listen", MAP_COPY, "console_listen", NULL },
    { "keymap", MAP_COPY, "console_keymap", NULL },
    { NULL },
};

/* issue 17: POST /vms/{id}/network-interfaces. model, mac, vlan and
 * bandwidth are ours; type and bridge pick the network (network_id). */
static const struct compat_field nic_add_map[] = {
    { "type", MAP_NET_TYPE, "network_id", NULL },
    { "bridge", MAP_NET_BRIDGE, "network_id", NULL },
    { NULL },
};

/* PUT /vms/{id}/port-forwarding {rules: [...]}: the whole set. */
static const struct compat_field forwards_map[] = {
    { "rules", MAP_FORWARDS, "forwards", NULL },
    { NULL },
};

/* POST /vms/{id}/hardware/memory/hot-add {size}: MiB more, now. */
static const struct compat_field memory_hot_add_map[] = {
    { "size", MAP_COPY, "add_mb", NULL },
    { NULL },
};

/* Which of our routes take which mapping. stop ({force, timeout}) and
 * reboot ({mode}, also as /restart) already use the guide's names. */
struct compat_body {
    const char *method;
    const char *pattern;   /* our route's pattern */
    const char *action;    /* its {action} parameter, or NULL */
    const struct compat_field *map;
    const char *via;       /* only through this alias (its "from"); NULL: any way */
};

static const struct compat_body bodies[] = {
    { "POST", "/vms", NULL, create_map },
    { "POST", "/vms/{id:int}/{action}", "start", start_map },
    { "POST", "/vms/{id:int}/disks", NULL, disk_add_map },
    { "POST", "/vms/{id:int}/disks/{target}/resize", NULL, disk_expand_map },
    { "PUT", "/vms/{id:int}/cpu", NULL, cpu_map },
    /* Before memory_map: the same route, its own "size" (the first that fits wins). */
    { "PUT", "/vms/{id:int}/memory", NULL, memory_hot_add_map,
      .via = "/vms/*/hardware/memory/hot-add" },
    { "PUT", "/vms/{id:int}/memory", NULL, memory_map },
    { "POST", "/vms/{id:int}/interfaces", NULL, nic_add_map },
    { "PUT", "/vms/{id:int}/port-forwards", NULL, forwards_map },
    { "POST", "/vms/{id:int}/snapshots", NULL, snapshot_map },
    { "PUT", "/vms/{id:int}/snapshot-policy", NULL, auto_snapshot_map },
    { "PATCH", "/vms/{id:int}", NULL, vnc_config_map },
    { NULL },
};

/* What one body's mapping builds. */
struct mapping {
    struct req *r;
    const struct compat_field *map;
    const struct route *route;
    json_t *out;        /* our body */
    json_t *names;      /* {our field: the guide's}, for errors */
    long long vcpus;    /* 0: no cores/threads/sockets given */
    const char *vcpus_from;   /* the guide's name of vcpus: a string of the table */
    const char *net_mode;     /* MAP_NET_TYPE: our network mode; NULL: not given */
    const char *net_bridge;   /* MAP_NET_BRIDGE: the body's (it lives as long as the body) */
    bool changed;
};

char *compat_slug(const char *name)
{
    GString *slug = g_string_new(NULL);
    bool dash = false;
    for (const char *p = name; *p; p++) {
        char c = g_ascii_tolower(*p);
        if (g_ascii_isalnum(c) || c == '.') {
            if (dash && slug->len)
                g_string_append_c(slug, '-');
            g_string_append_c(slug, c);
            dash = false;
        } else {
            dash = true;
        }
    }
    return g_string_free(slug, FALSE);
}

static bool our_field(const struct route *route, const char *name)
{
    for (const struct field *f = route->fields; f && f->name; f++)
        if (!strcmp(f->name, name))
            return true;
    return false;
}

static const struct compat_field *map_find(const struct compat_field *map, const char *path)
{
    for (const struct compat_field *f = map; f->from; f++)
        if (!strcmp(f->from, path))
            return f;
    return NULL;
}

/* Whether map has fields under path ("hardware" for "hardware.cpu.cores"). */
static bool map_has_children(const struct compat_field *map, const char *path)
{
    size_t len = strlen(path);
    for (const struct compat_field *f = map; f->from; f++)
        if (!strncmp(f->from, path, len) && f->from[len] == '.')
            return true;
    return false;
}

static int unsupported(struct mapping *m, const char *path, json_t *value)
{
    char *text = json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY);
    int rc = req_fail(m->r, 422, "unsupported", path,
                      _("%s = %.40s is not supported here yet; leave it out to get the default."),
                      path, text ? text : "?");
    free(text);
    return rc;
}

static int bad_type(struct mapping *m, const char *path)
{
    return req_fail(m->r, 400, "invalid_type", path, _("%s is not valid."), path);
}

/* Sets our field to value (taken), remembering whose name it had. */
static int put(struct mapping *m, const char *to, const char *path, json_t *value)
{
    if (json_object_get(m->out, to)) {
        json_decref(value);
        return req_fail(m->r, 400, "conflicting_fields", path,
                        _("%s and %s say the same thing; give only one."), path, to);
    }
    json_object_set_new(m->out, to, value);
    json_object_set_new(m->names, to, json_string(path));
    m->changed = true;
    return 0;
}

static bool accepted(const char *accept, json_t *value)
{
    gchar **choices = g_strsplit(accept, "|", -1);
    bool ok = false;
    for (int i = 0; !ok && choices[i]; i++) {
        json_t *choice = json_loads(choices[i], JSON_DECODE_ANY, NULL);
        ok = choice && json_equal(choice, value);
        json_decref(choice);
    }
    g_strfreev(choices);
    return ok;
}

/* A word about how the guide's request was understood, in meta.notes. */
static void compat_note(struct req *r, const char *text)
{
    if (!r->meta)
        r->meta = json_object();
    json_t *notes = json_object_get(r->meta, "notes");
    if (!notes)
        json_object_set_new(r->meta, "notes", notes = json_array());
    json_array_append_new(notes, json_string(text));
}

static int map_choice(struct mapping *m, const struct compat_field *f, const char *path,
                      json_t *value)
{
    if (!json_is_string(value))
        return bad_type(m, path);
    gchar **pairs = g_strsplit(f->accept, "|", -1);
    int rc = 1;
    for (int i = 0; rc > 0 && pairs[i]; i++) {
        char *eq = strchr(pairs[i], '=');
        if (!eq || strncmp(pairs[i], json_string_value(value), (size_t)(eq - pairs[i])) ||
            json_string_value(value)[eq - pairs[i]] != '\0')
            continue;
        rc = eq[1] ? put(m, f->to, path, json_string(eq + 1)) : unsupported(m, path, value);
        if (rc == 0 && f->note_for && !strcmp(f->note_for, json_string_value(value)))
            compat_note(m->r, _(f->note));
    }
    g_strfreev(pairs);
    if (rc > 0)
        return req_fail(m->r, 400, "invalid_choice", path,
                        _("%s is not one of the allowed values."), path);
    return rc;
}

static int map_vcpus(struct mapping *m, const struct compat_field *f, const char *path,
                     json_t *value)
{
    if (!json_is_integer(value))
        return bad_type(m, path);
    long long n = json_integer_value(value);
    if (n < 1 || n > 1024)
        return req_fail(m->r, 400, "out_of_range", path, _("%s is out of range."), path);
    m->vcpus = (m->vcpus ? m->vcpus : 1) * n;
    /* The table's string: path is freed when this member is done. */
    if (!m->vcpus_from || !strcmp(f->from, "hardware.cpu.cores"))
        m->vcpus_from = f->from;
    return 0;
}

/* A template the caller may use, by its exact name, else by its slug. */
static int map_template(struct mapping *m, const struct compat_field *f, const char *path,
                        json_t *value)
{
    if (!json_is_string(value))
        return bad_type(m, path);
    const char *name = json_string_value(value);
    struct db_rows *rows = db_query(
        "SELECT id, name FROM templates WHERE status = 'ready' AND "
        "(visibility = 'public' OR owner_id = ?) ORDER BY id", DB_INT(m->r->user->id));
    if (!rows)
        return req_fail(m->r, 503, "database_unavailable", NULL,
                        _("The database is not available. Try again shortly."));
    char *slug = compat_slug(name);
    long long id = 0;
    int by_slug = 0;
    for (int i = 0; i < rows->nrows && !id; i++)
        if (!strcmp(db_cell(rows, i, 1), name))
            id = db_cell_int(rows, i, 0, 0);
    for (int i = 0; i < rows->nrows && !id; i++) {
        char *theirs = compat_slug(db_cell(rows, i, 1));
        if (*slug && !strcmp(theirs, slug) && by_slug++ == 0)
            id = db_cell_int(rows, i, 0, 0);
        g_free(theirs);
    }
    /* Two templates with the same slug (and neither named exactly so). */
    for (int i = 0; i < rows->nrows && by_slug == 1; i++) {
        char *theirs = compat_slug(db_cell(rows, i, 1));
        if (!strcmp(theirs, slug) && db_cell_int(rows, i, 0, 0) != id)
            by_slug++;
        g_free(theirs);
    }
    g_free(slug);
    db_rows_free(rows);
    if (by_slug > 1)
        return req_fail(m->r, 409, "ambiguous_template", path,
                        _("More than one template is called that; give template_id."));
    if (!id)
        return req_fail(m->r, 404, "unknown_template", path, _("There is no such template."));
    return put(m, f->to, path, json_integer(id));
}

/* A library ISO by its file name: only the last part of the path is used,
 * to look the ISO up by name; no path is ever opened. */
static int map_iso(struct mapping *m, const struct compat_field *f, const char *path,
                   json_t *value)
{
    if (!json_is_string(value))
        return bad_type(m, path);
    const char *full = json_string_value(value);
    const char *base = full;
    for (const char *p = full; *p; p++)
        if (*p == '/' || *p == '\\')
            base = p + 1;
    struct db_rows *rows = db_query(
        "SELECT id FROM isos WHERE name = ? AND status = 'ready' AND "
        "(visibility = 'public' OR owner_id = ?) ORDER BY owner_id = ? DESC, id LIMIT 2",
        DB_TEXT(base), DB_INT(m->r->user->id), DB_INT(m->r->user->id));
    if (!rows)
        return req_fail(m->r, 503, "database_unavailable", NULL,
                        _("The database is not available. Try again shortly."));
    long long id = rows->nrows ? db_cell_int(rows, 0, 0, 0) : 0;
    int n = rows->nrows;
    db_rows_free(rows);
    if (n > 1)
        return req_fail(m->r, 409, "ambiguous_iso", path,
                        _("More than one ISO image has that file name; give iso_id."));
    if (!id)
        return req_fail(m->r, 404, "unknown_iso", path,
                        _("The ISO library has no image with this file name."));
    return put(m, f->to, path, json_integer(id));
}

static int map_this_vm(struct mapping *m, const char *path, json_t *value)
{
    const struct route_param *id = req_param(m->r, "id");
    long long given = -1;
    if (json_is_integer(value))
        given = json_integer_value(value);
    else if (json_is_string(value) && *json_string_value(value))
        given = g_ascii_strtoll(json_string_value(value), NULL, 10);
    if (!id || given != id->num)
        return req_fail(m->r, 422, "id_mismatch", path,
                        _("%s does not name the virtual machine of the address."), path);
    return 0;
}

/* The guide's interface list, where each VM has the one NIC on the
 * network of [vm] network (libvirt's NAT network "default", bridge
 * [compat] bridge): a virtio card with a MAC libvirt chooses. */
static int map_nics(struct mapping *m, const char *path, json_t *value)
{
    if (!json_is_array(value))
        return bad_type(m, path);
    if (json_array_size(value) != 1)
        return unsupported(m, path, value);
    json_t *nic = json_array_get(value, 0);
    if (!json_is_object(nic))
        return bad_type(m, path);
    const char *bridge = config_str("compat", "bridge", "virbr0");
    const char *key;
    json_t *v;
    json_object_foreach(nic, key, v) {
        char field[64];
        snprintf(field, sizeof field, "%s[0].%s", path, key);
        bool ok;
        if (!strcmp(key, "type"))
            ok = json_is_string(v) && (!strcmp(json_string_value(v), "bridge") ||
                                       !strcmp(json_string_value(v), "nat"));
        else if (!strcmp(key, "bridge"))
            ok = json_is_null(v) || (json_is_string(v) && !strcmp(json_string_value(v), bridge));
        else if (!strcmp(key, "model"))
            ok = json_is_null(v) || accepted("\"virtio\"", v);
        else if (!strcmp(key, "mac"))
            ok = json_is_null(v) || accepted("\"auto\"", v);
        else
            return req_fail(m->r, 400, "unknown_field", field, _("Unknown field: %s"), field);
        if (!ok)
            return unsupported(m, field, v);
    }
    return 0;
}

/* The guide's NIC types as our network modes: host-only is an isolated
 * network; user-mode networking (QEMU's SLIRP) is not offered. */
static int map_net_type(struct mapping *m, const char *path, json_t *value)
{
    static const char *const types[][2] = {
        { "nat", "nat" }, { "bridge", "bridge" }, { "host", "isolated" }, { "user", NULL },
    };
    if (!json_is_string(value))
        return bad_type(m, path);
    for (size_t i = 0; i < G_N_ELEMENTS(types); i++)
        if (!strcmp(types[i][0], json_string_value(value))) {
            if (!types[i][1])
                return req_fail(m->r, 422, "unsupported", path,
                                _("User-mode (SLIRP) NICs are not offered here: use a NAT "
                                  "network (type nat) instead."));
            m->net_mode = types[i][1];
            m->changed = true;
            return 0;
        }
    return req_fail(m->r, 400, "invalid_choice", path, _("%s is not one of the allowed values."),
                    path);
}

/* The network of the guide's type and bridge: the one whose host bridge
 * or name is bridge (of that type when given both), else the first of the
 * type (the default network for nat). */
static int net_resolve(struct mapping *m)
{
    if (!m->net_mode && !m->net_bridge)
        return 0;
    const char *field = m->net_bridge ? "bridge" : "type";
    /* The guide's examples name libvirt's default bridge, whose network
     * is the default NAT network (as map_nics takes it at create). */
    if (m->net_bridge && !strcmp(m->net_bridge, config_str("compat", "bridge", "virbr0")) &&
        (!m->net_mode || !strcmp(m->net_mode, "nat") || !strcmp(m->net_mode, "bridge")))
        m->net_bridge = "default", m->net_mode = NULL;
    struct db_rows *rows = db_query(
        "SELECT id, mode FROM networks WHERE (? IS NULL OR bridge = ? OR name = ?) AND "
        "(? IS NULL OR mode = ?) ORDER BY name = 'default' DESC, id LIMIT 1",
        DB_TEXT(m->net_bridge), DB_TEXT(m->net_bridge), DB_TEXT(m->net_bridge),
        DB_TEXT(m->net_mode), DB_TEXT(m->net_mode));
    if (!rows)
        return req_fail(m->r, 503, "database_unavailable", NULL,
                        _("The database is not available. Try again shortly."));
    long long id = rows->nrows ? db_cell_int(rows, 0, 0, 0) : 0;
    db_rows_free(rows);
    if (!id)
        return req_fail(m->r, 404, "unknown_network", field,
                        m->net_bridge ? _("No network of that type has this bridge or name.")
                                      : _("There is no network of that type."));
    return put(m, "network_id", field, json_integer(id));
}

/* The guide's forwarding rules under our names: hostPort, guestPort and
 * hostIp ("0.0.0.0": every address, our ""); protocol is the same. */
static int map_forwards(struct mapping *m, const char *path, json_t *value)
{
    static const char *const names[][2] = {
        { "protocol", "protocol" }, { "hostPort", "host_port" }, { "guestPort", "guest_port" },
        { "hostIp", "host_address" },
    };
    if (!json_is_array(value))
        return bad_type(m, path);
    json_t *out = json_array();
    size_t i;
    json_t *rule;
    json_array_foreach(value, i, rule) {
        json_t *ours = json_object();
        const char *key;
        json_t *v;
        json_array_append_new(out, ours);
        if (!json_is_object(rule))
            continue;   /* said by the route, in its words */
        json_object_foreach(rule, key, v) {
            const char *to = key;   /* one of ours, or unknown: the route says which */
            for (size_t k = 0; k < G_N_ELEMENTS(names); k++)
                if (!strcmp(names[k][0], key))
                    to = names[k][1];
            if (!strcmp(to, "host_address") && json_is_string(v) &&
                !strcmp(json_string_value(v), "0.0.0.0"))
                continue;
            json_object_set(ours, to, v);
        }
    }
    return put(m, "forwards", path, out);
}

static int map_value(struct mapping *m, const struct compat_field *f, const char *path,
                     json_t *value)
{
    switch (f->kind) {
    case MAP_COPY:
        return put(m, f->to, path, json_incref(value));
    case MAP_FALLBACK:
        return json_object_get(m->out, f->to) ? 0 : put(m, f->to, path, json_incref(value));
    case MAP_ONLY:
        return accepted(f->accept, value) ? 0 : unsupported(m, path, value);
    case MAP_CHOICE:
        return map_choice(m, f, path, value);
    case MAP_VCPUS:
        return map_vcpus(m, f, path, value);
    case MAP_TEMPLATE:
        return map_template(m, f, path, value);
    case MAP_ISO:
        return map_iso(m, f, path, value);
    case MAP_VNC_PASSWORD: {
        if (!json_is_string(value))
            return bad_type(m, path);
        char password[9];
        snprintf(password, sizeof password, "%s", json_string_value(value));
        return put(m, f->to, path, json_string(password));
    }
    case MAP_THIS_VM:
        return map_this_vm(m, path, value);
    case MAP_NICS:
        return map_nics(m, path, value);
    case MAP_NET_TYPE:
        return map_net_type(m, path, value);
    case MAP_NET_BRIDGE:
        if (!json_is_string(value) || !*json_string_value(value))
            return json_is_null(value) ? 0 : bad_type(m, path);
        m->net_bridge = json_string_value(value);
        m->changed = true;
        return 0;
    case MAP_FORWARDS:
        return map_forwards(m, path, value);
    }
    return 0;
}

/* One of the guide's members: a field of the table, or an object of them. */
static int map_member(struct mapping *m, const char *path, json_t *value)
{
    const struct compat_field *f = map_find(m->map, path);
    bool parent = map_has_children(m->map, path);
    if (parent && json_is_object(value)) {
        const char *key;
        json_t *child;
        json_object_foreach(value, key, child) {
            char *sub = g_strdup_printf("%s.%s", path, key);
            int rc = map_member(m, sub, child);
            g_free(sub);
            if (rc < 0)
                return -1;
        }
        return 0;
    }
    if (f)
        return map_value(m, f, path, value);
    if (parent && json_is_null(value))
        return 0;
    /* The flat template shape's os: "ubuntu-20.04" names no template. */
    if (parent)
        return unsupported(m, path, value);
    return req_fail(m->r, 400, "unknown_field", path, _("Unknown field: %s"), path);
}

static const struct compat_field *body_map(const struct req *r, const struct route *route)
{
    for (const struct compat_body *b = bodies; b->method; b++) {
        if (strcmp(b->method, route->method) || strcmp(b->pattern, route->pattern))
            continue;
        const struct route_param *action = req_param(r, "action");
        if (b->action && (!action || !action->text || strcmp(action->text, b->action)))
            continue;
        if (b->via && (!r->alias_from || strcmp(r->alias_from, b->via)))
            continue;
        return b->map;
    }
    return NULL;
}

/* The schema object of the property at a dotted name's parent in schema,
 * made (as an object of the guide's) where it is not there yet. */
static json_t *schema_parent(json_t *schema, gchar **parts)
{
    for (; parts[0] && parts[1]; parts++) {
        json_t *props = json_object_get(schema, "properties");
        json_t *child = json_object_get(props, parts[0]);
        if (!child) {
            child = json_pack("{s:s, s:{}, s:b}", "type", "object", "properties", "deprecated", 1);
            json_object_set_new(props, parts[0], child);
        }
        schema = child;
    }
    return schema;
}

void compat_describe_body(const struct route *route, json_t *schema)
{
    for (const struct compat_body *b = bodies; b->method; b++) {
        if (strcmp(b->method, route->method) || strcmp(b->pattern, route->pattern))
            continue;
        for (const struct compat_field *f = b->map; f->from; f++) {
            gchar **parts = g_strsplit(f->from, ".", -1);
            json_t *props = json_object_get(schema_parent(schema, parts), "properties");
            const char *leaf = parts[g_strv_length(parts) - 1];
            json_t *had = props ? json_object_get(props, leaf) : NULL;
            const char *before = json_string_value(json_object_get(had, "description"));
            /* A leaf of ours, or of another alias's mapping: that one's
             * description is said first, this one's after it. */
            if (props && (!had || (before && json_is_true(json_object_get(had, "deprecated"))))) {
                GString *text = g_string_new(before ? before : NULL);
                g_string_append(text, before ? " Or the user guide's name" : "The user guide's name");
                if (f->to)
                    g_string_append_printf(text, " for %s", f->to);
                if (b->action)
                    g_string_append_printf(text, " ({action} %s only)", b->action);
                if (b->via)
                    g_string_append_printf(text, " (through %s only)", b->via);
                if (f->kind == MAP_ONLY)
                    g_string_append_printf(text, "; accepted only as %s", f->accept);
                g_string_append(text, ".");
                json_object_set_new(props, leaf, json_pack("{s:b, s:s}", "deprecated", 1,
                                                           "description", text->str));
                g_string_free(text, TRUE);
            }
            g_strfreev(parts);
        }
    }
}

int compat_body(struct req *r, const struct route *route)
{
    if (!r->api || route->raw_body || !r->body_len || r->body_has_nul || !r->user)
        return 0;
    const struct compat_field *map = body_map(r, route);
    if (!map)
        return 0;
    /* Not JSON, or not an object: input_parse says so in its words. */
    json_t *in = json_loadb(r->body, r->body_len, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(in)) {
        json_decref(in);
        return 0;
    }
    struct mapping m = { .r = r, .map = map, .route = route, .out = json_object(),
                         .names = json_object() };
    const char *key;
    json_t *value;
    int rc = 0;
    /* Ours first, so that a guide field saying the same is a conflict
     * whatever the order of the body. */
    json_object_foreach(in, key, value)
        if (our_field(route, key) || (!map_find(map, key) && !map_has_children(map, key)))
            json_object_set(m.out, key, value);
    json_object_foreach(in, key, value) {
        if (our_field(route, key) || (!map_find(map, key) && !map_has_children(map, key)))
            continue;
        if ((rc = map_member(&m, key, value)) < 0)
            break;
        m.changed = true;
    }
    if (rc == 0 && m.vcpus)
        rc = put(&m, "vcpus", m.vcpus_from, json_integer(m.vcpus));
    if (rc == 0)
        rc = net_resolve(&m);
    if (rc == 0 && m.changed) {
        char *text = json_dumps(m.out, JSON_COMPACT);
        if (text) {
            g_free(r->body);
            r->body = g_strdup(text);
            r->body_len = strlen(text);
            free(text);
        }
        json_decref(r->compat_names);
        r->compat_names = json_incref(m.names);
    }
    json_decref(in);
    json_decref(m.out);
    json_decref(m.names);
    return rc;
}

void compat_error_field(struct req *r)
{
    const char *theirs = json_string_value(json_object_get(r->compat_names, r->err.field));
    if (theirs)
        snprintf(r->err.field, sizeof r->err.field, "%s", theirs);
}
