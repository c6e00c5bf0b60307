#include "audit_text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "db.h"
#include "i18n.h"

/* What an audit row's target id names, so its name can be shown. */
enum target_kind {
    T_NONE, T_VM, T_USER, T_ISO, T_TEMPLATE, T_UPLOAD, T_NETWORK, T_POOL, T_IP_POOL, T_HOST,
    T_TOKEN, T_RULE, T_CHANNEL, T_INSTALL, T_JOB,
};

/* The query of a kind's name by id; NULL: shown as "#id". */
static const char *const name_queries[] = {
    [T_VM] = "SELECT name FROM vms WHERE id = ?",
    [T_USER] = "SELECT username FROM users WHERE id = ?",
    [T_ISO] = "SELECT name FROM isos WHERE id = ?",
    [T_TEMPLATE] = "SELECT name FROM templates WHERE id = ?",
    [T_UPLOAD] = "SELECT filename FROM uploads WHERE id = ?",
    [T_NETWORK] = "SELECT name FROM networks WHERE id = ?",
    [T_POOL] = "SELECT name FROM storage_pools WHERE id = ?",
    [T_IP_POOL] = "SELECT name FROM ip_pools WHERE id = ?",
    [T_HOST] = "SELECT name FROM hosts WHERE id = ?",
    [T_TOKEN] = "SELECT name FROM api_tokens WHERE id = ?",
    [T_RULE] = "SELECT name FROM alert_rules WHERE id = ?",
    [T_CHANNEL] = "SELECT name FROM notification_channels WHERE id = ?",
    [T_INSTALL] = "SELECT name FROM install_configs WHERE id = ?",
};

/* The one table of action codes (the routes' .action, the codes handlers
 * set themselves, the helper's own rows) and their phrases. %s is the
 * target's name; snapshots and backups are rows about their VM. */
static const struct {
    const char *action, *phrase;
    enum target_kind target;
} phrases[] = {
    { "vm.create", N_("created VM %s"), T_VM },
    { "vm.start", N_("started VM %s"), T_VM },
    { "vm.stop", N_("shut down VM %s"), T_VM },
    { "vm.reboot", N_("rebooted VM %s"), T_VM },
    { "vm.pause", N_("paused VM %s"), T_VM },
    { "vm.resume", N_("resumed VM %s"), T_VM },
    { "vm.suspend", N_("suspended VM %s to disk"), T_VM },
    { "vm.wakeup", N_("woke up VM %s"), T_VM },
    { "vm.action", N_("ran an action on VM %s"), T_VM },
    { "vm.batch", N_("ran a batch action on virtual machines"), T_NONE },
    { "vm.batch_ask", N_("was asked to confirm deleting virtual machines"), T_NONE },
    { "vm.delete", N_("deleted VM %s"), T_VM },
    { "vm.update", N_("changed VM %s"), T_VM },
    { "vm.clone", N_("cloned VM %s"), T_VM },
    { "vm.migrate", N_("migrated VM %s"), T_VM },
    { "vm.export", N_("exported VM %s as an OVA"), T_VM },
    { "vm.import", N_("made VM %s from an imported OVA"), T_VM },
    { "vm.import_discard", N_("discarded an OVA import"), T_NONE },
    { "vm.console", N_("opened the console of VM %s"), T_VM },
    { "vm.wizard_step", N_("went through a step of the install wizard"), T_NONE },
    { "vm.cdrom", N_("changed the CD-ROM of VM %s"), T_VM },
    { "vm.cpu", N_("changed the CPU model of VM %s"), T_VM },
    { "vm.vcpus", N_("changed the vCPUs of VM %s"), T_VM },
    { "vm.memory", N_("changed the memory of VM %s"), T_VM },
    { "vm.disk_add", N_("added a disk to VM %s"), T_VM },
    { "vm.disk_remove", N_("removed a disk from VM %s"), T_VM },
    { "vm.disk_resize", N_("resized a disk of VM %s"), T_VM },
    { "vm.nic_add", N_("added a network interface to VM %s"), T_VM },
    { "vm.nic_remove", N_("removed a network interface from VM %s"), T_VM },
    { "vm.nic_update", N_("changed a network interface of VM %s"), T_VM },
    { "vm.port_forward_add", N_("added a port forward to VM %s"), T_VM },
    { "vm.port_forward_remove", N_("removed a port forward from VM %s"), T_VM },
    { "vm.port_forward_set", N_("replaced the port forwards of VM %s"), T_VM },
    { "snapshot.create", N_("took a snapshot of VM %s"), T_VM },
    { "snapshot.delete", N_("deleted a snapshot of VM %s"), T_VM },
    { "snapshot.merge", N_("merged the snapshots of VM %s"), T_VM },
    { "snapshot.policy", N_("set the snapshot schedule of VM %s"), T_VM },
    { "snapshot.revert", N_("reverted VM %s to a snapshot"), T_VM },
    { "snapshot.update", N_("changed a snapshot of VM %s"), T_VM },
    { "backup.create", N_("backed up VM %s"), T_VM },
    { "backup.delete", N_("deleted a backup of VM %s"), T_VM },
    { "backup.policy", N_("set the backup schedule of VM %s"), T_VM },
    { "backup.restore", N_("restored a backup of VM %s"), T_VM },
    { "alert_rule.create", N_("created alert rule %s"), T_RULE },
    { "alert_rule.delete", N_("deleted alert rule %s"), T_RULE },
    { "alert_rule.update", N_("changed alert rule %s"), T_RULE },
    { "alert_rule.replace", N_("set the alerts of VM %s"), T_VM },
    { "api_token.create", N_("created API token %s"), T_TOKEN },
    { "api_token.revoke", N_("revoked API token %s"), T_TOKEN },
    { "auth.login", N_("signed in"), T_NONE },
    { "auth.logout", N_("signed out"), T_NONE },
    { "session.end", N_("ended a session"), T_NONE },
    { "user.register", N_("registered account %s"), T_USER },
    { "user.create", N_("created user %s"), T_USER },
    { "user.delete", N_("deleted user %s"), T_USER },
    { "user.update", N_("changed user %s"), T_USER },
    { "user.update_self", N_("changed their own account"), T_NONE },
    { "user.reset_password", N_("reset the password of user %s"), T_USER },
    { "user.avatar", N_("changed their picture"), T_NONE },
    { "user.avatar_delete", N_("removed their picture"), T_NONE },
    { "user.language", N_("chose a language"), T_NONE },
    { "quota.update", N_("set the quota of user %s"), T_USER },
    { "settings.update", N_("changed the portal settings"), T_NONE },
    { "host.add", N_("added host %s"), T_HOST },
    { "host.remove", N_("removed host %s"), T_HOST },
    { "host.update", N_("changed host %s"), T_HOST },
    { "host.reconcile", N_("reconciled the database with libvirt"), T_NONE },
    { "install_config.create", N_("saved install configuration %s"), T_INSTALL },
    { "install_config.delete", N_("deleted install configuration %s"), T_INSTALL },
    { "ip_pool.create", N_("created IP pool %s"), T_IP_POOL },
    { "ip_pool.delete", N_("deleted IP pool %s"), T_IP_POOL },
    { "ip_pool.allocate", N_("allocated an address in IP pool %s"), T_IP_POOL },
    { "ip_pool.release", N_("released an address of IP pool %s"), T_IP_POOL },
    { "iso.delete", N_("deleted ISO image %s"), T_ISO },
    { "iso.update", N_("changed ISO image %s"), T_ISO },
    { "iso.verify", N_("verified ISO image %s"), T_ISO },
    { "template.delete", N_("deleted template %s"), T_TEMPLATE },
    { "template.update", N_("changed template %s"), T_TEMPLATE },
    { "upload.create", N_("started uploading %s"), T_UPLOAD },
    { "upload.append", N_("uploaded a part of %s"), T_UPLOAD },
    { "upload.delete", N_("cancelled the upload of %s"), T_UPLOAD },
    { "job.cancel", N_("cancelled task %s"), T_JOB },
    { "network.create", N_("created network %s"), T_NETWORK },
    { "network.delete", N_("deleted network %s"), T_NETWORK },
    { "network.update", N_("changed network %s"), T_NETWORK },
    { "network.start", N_("started network %s"), T_NETWORK },
    { "network.stop", N_("stopped network %s"), T_NETWORK },
    { "network.action", N_("ran an action on network %s"), T_NETWORK },
    { "notification_channel.create", N_("created notification channel %s"), T_CHANNEL },
    { "notification_channel.delete", N_("deleted notification channel %s"), T_CHANNEL },
    { "notification_channel.update", N_("changed notification channel %s"), T_CHANNEL },
    { "notification_channel.test", N_("tested notification channel %s"), T_CHANNEL },
    { "storage_pool.create", N_("created storage pool %s"), T_POOL },
    { "storage_pool.delete", N_("deleted storage pool %s"), T_POOL },
    { "storage_pool.update", N_("changed storage pool %s"), T_POOL },
    { "storage_pool.start", N_("started storage pool %s"), T_POOL },
    { "storage_pool.stop", N_("stopped storage pool %s"), T_POOL },
    { "storage_pool.refresh", N_("refreshed storage pool %s"), T_POOL },
    { "storage_pool.action", N_("ran an action on storage pool %s"), T_POOL },
    { "storage_volume.create", N_("created a volume in storage pool %s"), T_POOL },
    { "storage_volume.delete", N_("deleted a volume of storage pool %s"), T_POOL },
    { "storage_volume.resize", N_("resized a volume of storage pool %s"), T_POOL },
    { "unknown", N_("did something the log has no words for"), T_NONE },
    { NULL, NULL, T_NONE },
};

/* Labels of the keys details and changes carry. */
static const struct {
    const char *key, *label;
} labels[] = {
    { "name", N_("Name") }, { "username", N_("User name") }, { "description", N_("Description") },
    { "template_id", N_("Template") }, { "iso_id", N_("ISO image") },
    { "install", N_("Automated install") }, { "error", N_("Error") },
    { "field", N_("Field") }, { "api_token_id", N_("API token") },
    { "action", N_("Action") }, { "results", N_("Results") },
    { "host_id", N_("Host") }, { "by", N_("Done by") }, { "alert_id", N_("Alert") },
    { "rule_id", N_("Alert rule") }, { "vcpus", N_("vCPUs") },
    { "memory_mb", N_("Memory (MiB)") }, { "disk_gb", N_("Disk (GiB)") },
    { "state", N_("State") }, { "autostart", N_("Start with the host") },
    { "cpu_model", N_("CPU model") }, { "boot_order", N_("Boot order") },
    { "registration", N_("Self-registration") }, { "role", N_("Role") },
    { "enabled", N_("Enabled") }, { "display_name", N_("Display name") },
    { "email", N_("Email") }, { "password", N_("Password") },
    { "max_vms", N_("Virtual machines at most") }, { "max_vcpus", N_("vCPUs at most") },
    { "max_memory_mb", N_("Memory at most (MiB)") }, { "max_disk_gb", N_("Disk at most (GiB)") },
    { "max_image_gb", N_("Images at most (GiB)") }, { "language", N_("Language") },
    { "delete_disks", N_("Disks deleted too") }, { "mode", N_("Mode") },
    { "size_gb", N_("Size (GiB)") }, { "network_id", N_("Network") }, { "mac", N_("MAC address") },
    { "graphics", N_("Console") }, { "console_listen", N_("Console address") },
    { "console_keymap", N_("Keyboard layout") }, { "vnc_password", N_("Console password") },
    { "changes", N_("Changes") }, { "ids", N_("Virtual machines") },
    { "confirmed", N_("Confirmed") }, { "count", N_("Count") }, { "ip", N_("IP address") },
    { "vm_min_vcpus", N_("Fewest vCPUs a VM may have") },
    { "vm_max_vcpus", N_("Most vCPUs a VM may have") },
    { "vm_min_memory_mb", N_("Least memory a VM may have (MiB)") },
    { "vm_max_memory_mb", N_("Most memory a VM may have (MiB)") },
    { "vm_min_disk_gb", N_("Smallest disk a VM may have (GiB)") },
    { "vm_max_disk_gb", N_("Largest disk a VM may have (GiB)") },
    { NULL, NULL },
};

/* Keys a detail carries that say nothing a person needs: the whole VM
 * before a change and the fields sent (its changes list says what
 * changed). */
static const char *const hidden_keys[] = { "before", "changes", NULL };

/* Detail keys holding the id of something with a name. */
static const struct {
    const char *key;
    enum target_kind kind;
} id_keys[] = {
    { "template_id", T_TEMPLATE }, { "iso_id", T_ISO }, { "host_id", T_HOST },
    { "network_id", T_NETWORK }, { "rule_id", T_RULE }, { "api_token_id", T_TOKEN },
    { NULL, T_NONE },
};

const char *audit_action_phrase(const char *action)
{
    for (int i = 0; action && phrases[i].action; i++)
        if (!strcmp(phrases[i].action, action))
            return _(phrases[i].phrase);
    return NULL;
}

const char *audit_action_at(int n)
{
    return n >= 0 && n < (int)G_N_ELEMENTS(phrases) ? phrases[n].action : NULL;
}

const char *audit_field_label(const char *key)
{
    for (int i = 0; key && labels[i].key; i++)
        if (!strcmp(labels[i].key, key))
            return _(labels[i].label);
    return key;
}

static enum target_kind target_of(const char *action)
{
    for (int i = 0; action && phrases[i].action; i++)
        if (!strcmp(phrases[i].action, action))
            return phrases[i].target;
    return T_NONE;
}

/* The target's name now, else the one its row noted (a deleted VM), else
 * "#id"; cache holds what was read for this list. */
static char *target_name(GHashTable *cache, enum target_kind kind, long long id, json_t *detail)
{
    if (kind == T_NONE || id <= 0)
        return g_strdup("");
    char key[48];
    snprintf(key, sizeof key, "%d:%lld", (int)kind, id);
    const char *known = g_hash_table_lookup(cache, key);
    if (known)
        return g_strdup(known);
    char *name = NULL;
    if (name_queries[kind]) {
        struct db_rows *rows = db_query(name_queries[kind], DB_INT(id));
        if (rows && rows->nrows && db_cell(rows, 0, 0) && *db_cell(rows, 0, 0))
            name = g_strdup(db_cell(rows, 0, 0));
        db_rows_free(rows);
    }
    if (!name && json_is_string(json_object_get(detail, "name")))
        name = g_strdup(json_string_value(json_object_get(detail, "name")));
    if (!name)
        name = g_strdup_printf("#%lld", id);
    g_hash_table_insert(cache, g_strdup(key), g_strdup(name));
    return name;
}

static void value_text(GString *out, json_t *value);

/* A batch's result ({id, name, ok, error}) as "web-01: done". */
static bool result_text(GString *out, json_t *value)
{
    json_t *ok = json_object_get(value, "ok");
    if (!json_is_boolean(ok))
        return false;
    const char *name = json_string_value(json_object_get(value, "name"));
    if (name)
        g_string_append(out, name);
    else
        g_string_append_printf(out, "#%lld",
                               (long long)json_integer_value(json_object_get(value, "id")));
    g_string_append_printf(out, ": %s", json_is_true(ok) ? _("done") : _("failed"));
    const char *message =
        json_string_value(json_object_get(json_object_get(value, "error"), "message"));
    if (!json_is_true(ok) && message)
        g_string_append_printf(out, " (%s)", message);
    return true;
}

/* A JSON value as a person reads it: no quotes, braces or brackets. */
static void value_text(GString *out, json_t *value)
{
    size_t i;
    json_t *item;
    const char *key;
    switch (json_typeof(value)) {
    case JSON_STRING:
        g_string_append(out, *json_string_value(value) ? json_string_value(value) : "—");
        break;
    case JSON_INTEGER:
        g_string_append_printf(out, "%lld", (long long)json_integer_value(value));
        break;
    case JSON_REAL:
        g_string_append_printf(out, "%g", json_real_value(value));
        break;
    case JSON_TRUE:
        g_string_append(out, _("yes"));
        break;
    case JSON_FALSE:
        g_string_append(out, _("no"));
        break;
    case JSON_NULL:
        g_string_append(out, "—");
        break;
    case JSON_ARRAY:
        json_array_foreach(value, i, item) {
            if (i)
                g_string_append(out, ", ");
            if (!json_is_object(item) || !result_text(out, item))
                value_text(out, item);
        }
        break;
    case JSON_OBJECT:
        i = 0;
        json_object_foreach(value, key, item) {
            g_string_append_printf(out, "%s%s: ", i++ ? "; " : "", audit_field_label(key));
            value_text(out, item);
        }
        break;
    }
}

static char *text_of(json_t *value)
{
    GString *out = g_string_new(NULL);
    value_text(out, value);
    return g_string_free(out, FALSE);
}

static bool hidden(const char *key)
{
    for (const char *const *h = hidden_keys; *h; h++)
        if (!strcmp(*h, key))
            return true;
    return false;
}

static enum target_kind id_kind(const char *key)
{
    for (int i = 0; id_keys[i].key; i++)
        if (!strcmp(id_keys[i].key, key))
            return id_keys[i].kind;
    return T_NONE;
}

static json_t *detail_list(GHashTable *cache, json_t *detail)
{
    json_t *list = json_array();
    const char *key;
    json_t *value;
    json_object_foreach(detail, key, value) {
        if (hidden(key))
            continue;
        /* An id of something named: its name; none given (0): nothing. */
        enum target_kind kind = id_kind(key);
        if (kind != T_NONE && (json_is_null(value) || json_integer_value(value) == 0))
            continue;
        char *text = kind != T_NONE && json_is_integer(value)
                         ? target_name(cache, kind, json_integer_value(value), NULL)
                         : text_of(value);
        json_array_append_new(list, json_pack("{s:s, s:s, s:s}", "key", key, "label",
                                              audit_field_label(key), "value", text));
        g_free(text);
    }
    return list;
}

static json_t *change_list(json_t *changes)
{
    json_t *list = json_array();
    const char *field;
    json_t *change;
    json_object_foreach(changes, field, change) {
        char *before = text_of(json_object_get(change, "before"));
        char *after = text_of(json_object_get(change, "after"));
        json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:s}", "field", field, "label",
                                              audit_field_label(field), "before", before,
                                              "after", after));
        g_free(before);
        g_free(after);
    }
    return list;
}

static char *summary_of(const char *action, const char *name)
{
    const char *phrase = audit_action_phrase(action);
    if (!phrase)
        return *name ? g_strdup_printf("%s %s", action, name) : g_strdup(action);
    /* A phrase without a target has no %s. */
    if (!strstr(phrase, "%s"))
        return g_strdup(phrase);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    return g_strdup_printf(phrase, name);
#pragma GCC diagnostic pop
}

void audit_rows_in_words(json_t *items)
{
    GHashTable *cache = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    size_t i;
    json_t *row;
    json_array_foreach(items, i, row) {
        const char *action = json_string_value(json_object_get(row, "action"));
        json_t *detail = json_object_get(row, "detail");
        char *name = target_name(cache, target_of(action),
                                 json_integer_value(json_object_get(row, "target_id")), detail);
        char *summary = summary_of(action ? action : "unknown", name);
        json_object_set_new(row, "summary", json_string(summary));
        json_object_set_new(row, "target_name", json_string(name));
        json_object_set_new(row, "detail_list",
                            json_is_object(detail) ? detail_list(cache, detail) : json_array());
        json_object_set_new(row, "change_list", change_list(json_object_get(row, "changes")));
        g_free(summary);
        g_free(name);
    }
    g_hash_table_destroy(cache);
}
