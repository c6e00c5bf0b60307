#include "pool.h"

#include <glib.h>
#include <libvirt/virterror.h>
#include <libxml/tree.h>
#include <string.h>
#include <sys/stat.h>

#include "config.h"
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
