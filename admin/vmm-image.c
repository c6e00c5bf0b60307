/* vmm-image: registers image files from the shell (tools/dev registers
 * the demo template and installer ISO; uploads come through the portal).
 *   vmm-image template NAME FILE [OS]
 *   vmm-image iso NAME FILE
 * A template must be a standalone qcow2 or raw image (qemu-img info; no
 * backing file); an ISO must carry the ISO 9660 signature. The file is
 * copied into the helper's pool under a generated name and recorded. An
 * image of that kind and NAME that exists already is kept. Prints the id.
 * Runs as root. */
#include <glib.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "db.h"
#include "log.h"
#include "token.h"

static json_t *qemu_img_info(const char *file)
{
    char *argv[] = { "qemu-img", "info", "--output=json", (char *)file, NULL };
    char *out = NULL;
    int status = -1;
    if (!g_spawn_sync(NULL, argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL, NULL,
                      NULL, &out, NULL, &status, NULL) || !g_spawn_check_wait_status(status, NULL)) {
        g_free(out);
        return NULL;
    }
    json_t *info = json_loads(out, 0, NULL);
    g_free(out);
    return info;
}

static long long existing(const char *table, const char *name)
{
    char *sql = g_strdup_printf("SELECT id FROM %s WHERE name = ?", table);
    struct db_rows *rows = db_query(sql, DB_TEXT(name));
    g_free(sql);
    long long id = db_cell_int(rows, 0, 0, 0);
    db_rows_free(rows);
    return id;
}

/* Copies file into pool_dir/kind/ under a fresh name; returns the name. */
static char *copy_into_pool(const char *kind, const char *file, const char *extension)
{
    char token[TOKEN_HEX_LEN + 1];
    token_new(token);
    char *name = g_strdup_printf("%.3s-%.16s.%s", kind, token, extension);
    char *dir = g_build_filename(config_str("helper", "pool_dir", "/var/lib/vmm"), kind, NULL);
    char *target = g_build_filename(dir, name, NULL);
    g_mkdir_with_parents(dir, 0711);
    char *argv[] = { "cp", "--sparse=always", (char *)file, target, NULL };
    int status = -1;
    bool ok = g_spawn_sync(NULL, argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, &status,
                           NULL) && g_spawn_check_wait_status(status, NULL);
    g_free(target);
    g_free(dir);
    if (!ok) {
        g_free(name);
        return NULL;
    }
    return name;
}

static void remove_from_pool(const char *kind, const char *name)
{
    char *path = g_build_filename(config_str("helper", "pool_dir", "/var/lib/vmm"), kind, name, NULL);
    remove(path);
    g_free(path);
}

static int register_template(const char *name, const char *file, const char *os)
{
    long long id = existing("templates", name);
    if (id > 0) {
        printf("%lld\n", id);
        return 0;
    }
    json_t *info = qemu_img_info(file);
    const char *format = json_string_value(json_object_get(info, "format"));
    long long size = json_integer_value(json_object_get(info, "virtual-size"));
    if (!info || !format || (strcmp(format, "qcow2") && strcmp(format, "raw")) || size <= 0 ||
        json_object_get(info, "backing-filename")) {
        fprintf(stderr, "vmm-image: %s is not a standalone qcow2 or raw image\n", file);
        json_decref(info);
        return 1;
    }
    char *file_name = copy_into_pool("templates", file, format);
    int rc = 1;
    if (file_name &&
        db_exec_id("INSERT INTO templates (name, os, arch, format, file_name, virtual_size_bytes, "
                   "min_disk_gb, description) VALUES (?, ?, 'x86_64', ?, ?, ?, ?, '')",
                   &id, DB_TEXT(name), DB_TEXT(os), DB_TEXT(format), DB_TEXT(file_name),
                   DB_INT(size), DB_INT((size + (1LL << 30) - 1) >> 30)) == 0) {
        printf("%lld\n", id);
        rc = 0;
    } else if (file_name) {
        remove_from_pool("templates", file_name);
    }
    if (rc)
        fprintf(stderr, "vmm-image: could not register %s\n", file);
    g_free(file_name);
    json_decref(info);
    return rc;
}

/* ISO 9660: "CD001" at byte 32769, the volume label at 32808 (32 bytes). */
static int iso_inspect(const char *file, char label[33], char **md5, char **sha256, long long *size)
{
    GMappedFile *map = g_mapped_file_new(file, FALSE, NULL);
    if (!map)
        return -1;
    const char *data = g_mapped_file_get_contents(map);
    gsize len = g_mapped_file_get_length(map);
    int rc = -1;
    if (len > 32808 + 32 && !memcmp(data + 32769, "CD001", 5)) {
        memcpy(label, data + 32808, 32);
        label[32] = '\0';
        g_strchomp(label);
        *md5 = g_compute_checksum_for_data(G_CHECKSUM_MD5, (const guchar *)data, len);
        *sha256 = g_compute_checksum_for_data(G_CHECKSUM_SHA256, (const guchar *)data, len);
        *size = (long long)len;
        rc = 0;
    }
    g_mapped_file_unref(map);
    return rc;
}

static int register_iso(const char *name, const char *file)
{
    long long id = existing("isos", name);
    if (id > 0) {
        printf("%lld\n", id);
        return 0;
    }
    char label[33];
    char *md5 = NULL, *sha256 = NULL;
    long long size = 0;
    if (iso_inspect(file, label, &md5, &sha256, &size) < 0) {
        fprintf(stderr, "vmm-image: %s is not an ISO 9660 image\n", file);
        return 1;
    }
    char *file_name = copy_into_pool("isos", file, "iso");
    int rc = 1;
    if (file_name &&
        db_exec_id("INSERT INTO isos (name, file_name, size_bytes, md5, sha256, volume_label) "
                   "VALUES (?, ?, ?, ?, ?, ?)", &id, DB_TEXT(name), DB_TEXT(file_name),
                   DB_INT(size), DB_TEXT(md5), DB_TEXT(sha256), DB_TEXT(label)) == 0) {
        printf("%lld\n", id);
        rc = 0;
    } else if (file_name) {
        remove_from_pool("isos", file_name);
    }
    if (rc)
        fprintf(stderr, "vmm-image: could not register %s\n", file);
    g_free(file_name);
    g_free(md5);
    g_free(sha256);
    return rc;
}

int main(int argc, char **argv)
{
    log_init("vmm-image");
    bool template = argc >= 4 && argc <= 5 && !strcmp(argv[1], "template");
    bool iso = argc == 4 && !strcmp(argv[1], "iso");
    if (!template && !iso) {
        fprintf(stderr, "usage: vmm-image template NAME FILE [OS]\n"
                        "       vmm-image iso NAME FILE\n");
        return 2;
    }
    if (config_load() < 0 || db_connect() < 0)
        return 1;
    int rc = template ? register_template(argv[2], argv[3], argc == 5 ? argv[4] : "")
                      : register_iso(argv[2], argv[3]);
    db_close();
    return rc;
}
