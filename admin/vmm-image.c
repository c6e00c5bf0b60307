/* vmm-image: registers image files from the shell (tools/dev registers
 * the demo template and installer ISO; uploads come through the portal).
 *   vmm-image template NAME FILE [OS]
 *   vmm-image iso NAME FILE
 * A template must be a self-contained qcow2 or raw image (qemu-img info,
 * run in the sandbox on the pool's copy: no backing or data file); an ISO
 * must carry the ISO 9660 signature. The file is
 * copied into the helper's pool under a generated name and recorded. An
 * image of that kind and NAME that exists already is kept. Prints the id.
 * Runs as root. */
#include <glib.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "db.h"
#include "image.h"
#include "input.h"
#include "log.h"
#include "pool_file.h"
#include "sandbox.h"
#include "token.h"

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
                           NULL) && g_spawn_check_wait_status(status, NULL) &&
              pool_file_protect(target, !strcmp(kind, "templates")) == 0;
    if (!ok)
        remove(target);
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

/* The format the file's first bytes say: "qcow2", "raw", or NULL. */
static const char *head_format(const char *file)
{
    unsigned char head[4096];
    FILE *f = fopen(file, "rb");
    size_t n = f ? fread(head, 1, sizeof head, f) : 0;
    if (f)
        fclose(f);
    const char *format = f ? image_sniff_format(head, n) : NULL;
    return format && (!strcmp(format, "qcow2") || !strcmp(format, "raw")) ? format : NULL;
}

static int register_template(const char *name, const char *file, const char *os,
                             const char *arch)
{
    long long id = existing("templates", name);
    if (id > 0) {
        printf("%lld\n", id);
        return 0;
    }
    struct err err = { 0 };
    const char *format = head_format(file);
    char *file_name = format ? copy_into_pool("templates", file, format) : NULL;
    /* The pool's copy is what is inspected, in the sandbox, and kept. */
    char *path = file_name ? g_build_filename(config_str("helper", "pool_dir", "/var/lib/vmm"),
                                              "templates", file_name, NULL) : NULL;
    struct sandbox *sb = path ? sandbox_new(&err) : NULL;
    json_t *info = sb && sandbox_adopt(sb, path, true, &err) == 0 ? image_inspect(sb, format, &err)
                                                                  : NULL;
    sandbox_free(sb);
    g_free(path);
    if (!info) {
        fprintf(stderr, "vmm-image: %s is not a standalone qcow2 or raw image%s%s\n", file,
                err.message[0] ? ": " : "", err.message);
        if (file_name)
            remove_from_pool("templates", file_name);
        g_free(file_name);
        return 1;
    }
    long long size = json_integer_value(json_object_get(info, "virtual-size"));
    int rc = 1;
    if (db_exec_id("INSERT INTO templates (name, os, arch, format, file_name, virtual_size_bytes, "
                   "min_disk_gb, description) VALUES (?, ?, ?, ?, ?, ?, ?, '')",
                   &id, DB_TEXT(name), DB_TEXT(os), DB_TEXT(arch), DB_TEXT(format), DB_TEXT(file_name),
                   DB_INT(size), DB_INT((size + (1LL << 30) - 1) >> 30)) == 0) {
        printf("%lld\n", id);
        rc = 0;
    } else {
        remove_from_pool("templates", file_name);
        fprintf(stderr, "vmm-image: could not register %s\n", file);
    }
    g_free(file_name);
    json_decref(info);
    return rc;
}

static int register_iso(const char *name, const char *file)
{
    long long id = existing("isos", name);
    if (id > 0) {
        printf("%lld\n", id);
        return 0;
    }
    struct iso_info iso;
    struct err err = { 0 };
    if (image_iso_inspect(file, &iso, NULL, NULL, &err) != 0) {
        fprintf(stderr, "vmm-image: %s: %s\n", file, err.message);
        return 1;
    }
    char *file_name = copy_into_pool("isos", file, "iso");
    /* The pool's copy is what xorriso reads, in the sandbox. */
    char *path = file_name ? g_build_filename(config_str("helper", "pool_dir", "/var/lib/vmm"),
                                              "isos", file_name, NULL) : NULL;
    struct sandbox *sb = path ? sandbox_new(&err) : NULL;
    const char *arch = sb && sandbox_adopt(sb, path, true, &err) == 0 ? image_iso_arch(sb, &err)
                                                                      : NULL;
    sandbox_free(sb);
    g_free(path);
    int rc = 1;
    if (file_name && arch &&
        db_exec_id("INSERT INTO isos (name, file_name, size_bytes, md5, sha256, volume_label, arch) "
                   "VALUES (?, ?, ?, ?, ?, ?, ?)", &id, DB_TEXT(name), DB_TEXT(file_name),
                   DB_INT(iso.size_bytes), DB_TEXT(iso.md5), DB_TEXT(iso.sha256),
                   DB_TEXT(iso.label), DB_TEXT(arch[0] ? arch : "x86_64")) == 0) {
        printf("%lld\n", id);
        rc = 0;
    } else if (file_name) {
        remove_from_pool("isos", file_name);
    }
    if (rc)
        fprintf(stderr, "vmm-image: could not register %s\n", file);
    g_free(file_name);
    return rc;
}

int main(int argc, char **argv)
{
    log_init("vmm-image");
    bool template = argc >= 4 && argc <= 6 && !strcmp(argv[1], "template");
    bool iso = argc == 4 && !strcmp(argv[1], "iso");
    const char *arch = template && argc == 6 ? argv[5] : "x86_64";
    if ((!template && !iso) || (strcmp(arch, "x86_64") && strcmp(arch, "aarch64"))) {
        fprintf(stderr, "usage: vmm-image template NAME FILE [OS [x86_64|aarch64]]\n"
                        "       vmm-image iso NAME FILE   (its architecture is detected)\n");
        return 2;
    }
    if (!input_name_clean(argv[2]) || !*argv[2]) {
        fprintf(stderr, "vmm-image: the name is empty or has invisible or text-direction "
                        "characters\n");
        return 2;
    }
    if (config_load() < 0 || db_connect() < 0)
        return 1;
    int rc = template ? register_template(argv[2], argv[3], argc >= 5 ? argv[4] : "", arch)
                      : register_iso(argv[2], argv[3]);
    db_close();
    return rc;
}
