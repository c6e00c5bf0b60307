#include "pool.h"

#include <glib.h>
#include <libvirt/virterror.h>
#include <libxml/tree.h>
#include <string.h>
#include <sys/stat.h>

#include "config.h"
#include "db.h"
#include "domain_xml.h"
#include "log.h"
#include "token.h"

static const char *pool_dir(void)
{
    return config_str("helper", "pool_dir", "/var/lib/vmm");
}

const char *instance_id(void)
{
    const char *configured = config_str("helper", "instance", NULL);
    if (configured && *configured)
        return configured;
    char digest[TOKEN_HEX_LEN + 1];
    token_digest(pool_dir(), digest);
    digest[12] = '\0';
    return g_intern_string(digest);
}

char *pool_path(const char *kind, const char *name)
{
    return g_strdup_printf("%s/%s/%s", pool_dir(), kind, name);
}

int pool_name_valid(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    return n > 0 && n <= 128 && name[0] != '.' &&
           strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

static char *pool_xml(const char *name, const char *path)
{
    xmlDocPtr doc = xmlNewDoc(BAD_CAST "1.0");
    xmlNodePtr pool = xmlNewNode(NULL, BAD_CAST "pool");
    xmlDocSetRootElement(doc, pool);
    xmlNewProp(pool, BAD_CAST "type", BAD_CAST "dir");
    xmlNewTextChild(pool, NULL, BAD_CAST "name", BAD_CAST name);
    xmlNodePtr target = xmlNewChild(pool, NULL, BAD_CAST "target", NULL);
    xmlNewTextChild(target, NULL, BAD_CAST "path", BAD_CAST path);
    return xml_doc_string(doc);
}

virStoragePoolPtr pool_get(virConnectPtr conn, const char *kind, struct err *err)
{
    char *path = g_strdup_printf("%s/%s", pool_dir(), kind);
    char digest[TOKEN_HEX_LEN + 1];
    token_digest(path, digest);
    char *name = g_strdup_printf("vmm-%s-%.8s", kind, digest);

    virStoragePoolPtr pool = virStoragePoolLookupByName(conn, name);
    if (!pool) {
        g_mkdir_with_parents(path, 0711);
        char *xml = pool_xml(name, path);
        pool = virStoragePoolDefineXML(conn, xml, 0);
        g_free(xml);
        if (pool) {
            virStoragePoolSetAutostart(pool, 1);
            log_info("defined storage pool %s at %s", name, path);
        }
    }
    if (pool && virStoragePoolIsActive(pool) != 1 && virStoragePoolCreate(pool, 0) < 0) {
        virStoragePoolFree(pool);
        pool = NULL;
    }
    if (!pool)
        err_set(err, 503, "storage_unavailable", NULL, "The storage pool %s is not available: %s",
                name, virGetLastErrorMessage());
    g_free(name);
    g_free(path);
    return pool;
}

/* libvirt's name and the directory of a storage_pools row; false when gone. */
static bool chosen_row(long long id, char **name, char **path)
{
    struct db_rows *rows = db_query("SELECT name, path FROM storage_pools WHERE id = ?",
                                    DB_INT(id));
    bool found = rows && rows->nrows == 1;
    if (found) {
        *name = g_strdup(db_cell(rows, 0, 0));
        *path = g_strdup(db_cell(rows, 0, 1));
    }
    db_rows_free(rows);
    return found;
}

virStoragePoolPtr pool_get_chosen(virConnectPtr conn, long long storage_pool_id, struct err *err)
{
    if (!storage_pool_id)
        return pool_get(conn, "disks", err);
    char *name = NULL, *path = NULL;
    virStoragePoolPtr pool = NULL;
    if (!chosen_row(storage_pool_id, &name, &path))
        err_set(err, 409, "no_storage_pool", NULL, "The disk's storage pool is gone.");
    else if (!(pool = virStoragePoolLookupByName(conn, name)) || virStoragePoolIsActive(pool) != 1)
        err_set(err, 409, "pool_inactive", NULL, "The storage pool %s is not running.", name);
    if (pool && err->status) {
        virStoragePoolFree(pool);
        pool = NULL;
    }
    g_free(name);
    g_free(path);
    return pool;
}

char *pool_chosen_path(long long storage_pool_id, const char *name)
{
    if (!storage_pool_id)
        return pool_path("disks", name);
    char *pool_name = NULL, *dir = NULL;
    if (!chosen_row(storage_pool_id, &pool_name, &dir))
        return NULL;
    char *path = g_strdup_printf("%s/%s", dir, name);
    g_free(pool_name);
    g_free(dir);
    return path;
}
