/* vmm-template: registers an image file as a template, from the shell.
 *   vmm-template ensure NAME FILE [OS]
 * inspects FILE with `qemu-img info`, refuses one with a backing file,
 * copies it into the helper's template pool under a generated name and
 * records it; a template called NAME that exists already is kept. Prints
 * the template id. Runs as root (tools/dev registers the demo template). */
#include <glib.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "db.h"
#include "log.h"
#include "token.h"

static json_t *image_info(const char *file)
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

static long long existing(const char *name)
{
    struct db_rows *rows = db_query("SELECT id FROM templates WHERE name = ?", DB_TEXT(name));
    long long id = db_cell_int(rows, 0, 0, 0);
    db_rows_free(rows);
    return id;
}

static int ensure(const char *name, const char *file, const char *os)
{
    long long id = existing(name);
    if (id > 0) {
        printf("%lld\n", id);
        return 0;
    }
    json_t *info = image_info(file);
    const char *format = json_string_value(json_object_get(info, "format"));
    long long size = json_integer_value(json_object_get(info, "virtual-size"));
    if (!info || !format || (strcmp(format, "qcow2") && strcmp(format, "raw")) || size <= 0 ||
        json_object_get(info, "backing-filename")) {
        fprintf(stderr, "vmm-template: %s is not a standalone qcow2 or raw image\n", file);
        json_decref(info);
        return 1;
    }
    char token[TOKEN_HEX_LEN + 1];
    token_new(token);
    char *file_name = g_strdup_printf("tpl-%.16s.%s", token, format);
    char *dir = g_build_filename(config_str("helper", "pool_dir", "/var/lib/vmm"), "templates", NULL);
    char *target = g_build_filename(dir, file_name, NULL);
    g_mkdir_with_parents(dir, 0711);

    char *argv[] = { "cp", "--sparse=always", (char *)file, target, NULL };
    int status = -1, rc = 1;
    if (g_spawn_sync(NULL, argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, &status, NULL) &&
        g_spawn_check_wait_status(status, NULL) &&
        db_exec_id("INSERT INTO templates (name, os, arch, format, file_name, virtual_size_bytes, "
                   "min_disk_gb, description) VALUES (?, ?, 'x86_64', ?, ?, ?, ?, '')",
                   &id, DB_TEXT(name), DB_TEXT(os), DB_TEXT(format), DB_TEXT(file_name),
                   DB_INT(size), DB_INT((size + (1LL << 30) - 1) >> 30)) == 0) {
        printf("%lld\n", id);
        rc = 0;
    } else {
        fprintf(stderr, "vmm-template: could not register %s\n", file);
        remove(target);
    }
    g_free(target);
    g_free(dir);
    g_free(file_name);
    json_decref(info);
    return rc;
}

int main(int argc, char **argv)
{
    log_init("vmm-template");
    if (argc < 4 || argc > 5 || strcmp(argv[1], "ensure") != 0) {
        fprintf(stderr, "usage: vmm-template ensure NAME FILE [OS]\n");
        return 2;
    }
    if (config_load() < 0 || db_connect() < 0)
        return 1;
    int rc = ensure(argv[2], argv[3], argc == 5 ? argv[4] : "");
    db_close();
    return rc;
}
