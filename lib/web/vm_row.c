#include "vm_row.h"

#include <glib.h>
#include <stdio.h>

#include "db.h"
#include "token.h"

long long vm_row_insert(const struct vm_row *row)
{
    /* The console's VNC password: the user's, else a random one. It goes
     * to the helper (for the domain XML) and to the console's JSON, never
     * into a page. */
    char vnc_password[VNC_PASSWORD_LEN + 1];
    if (row->vnc_password)
        snprintf(vnc_password, sizeof vnc_password, "%s", row->vnc_password);
    else if (token_password(vnc_password, VNC_PASSWORD_LEN) < 0)
        return -1;
    char *uuid = g_uuid_string_random();
    char *domain_name = g_strdup_printf("vmm-%.8s", uuid);
    long long id = 0;
    int rc = db_exec_id(
        "INSERT INTO vms (uuid, domain_name, name, description, owner_id, state, vcpus, memory_mb, "
        "disk_gb, arch, template_id, iso_id, clone, cpu_model, autostart, vnc_password, graphics, "
        "storage_pool_id, host_id) "
        "VALUES (?, ?, ?, ?, ?, 'creating', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULLIF(?, 0), ?)", &id,
        DB_TEXT(uuid), DB_TEXT(domain_name), DB_TEXT(row->name),
        DB_TEXT(row->description ? row->description : ""), DB_INT(row->owner_id),
        DB_INT(row->vcpus), DB_INT(row->memory_mb), DB_INT(row->disk_gb), DB_TEXT(row->arch),
        row->template_id ? DB_INT(row->template_id) : DB_NULL,
        row->iso_id ? DB_INT(row->iso_id) : DB_NULL, DB_TEXT(row->full ? "full" : "linked"),
        DB_TEXT(row->cpu_model ? row->cpu_model : "host-model"), DB_INT(row->autostart),
        DB_TEXT(vnc_password), DB_TEXT(row->graphics ? row->graphics : "vnc"), DB_INT(row->pool_id),
        DB_INT(row->host_id ? row->host_id : 1));
    g_free(uuid);
    g_free(domain_name);
    return rc < 0 ? -1 : id;
}
