/* vmm-migrate: applies sql/NNN_name.sql in order, each once, and records
 * the applied versions in schema_migrations. Run by tools/dev and on
 * upgrade; safe to run again. */
#include <glib.h>
#include <mysql.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "db.h"
#include "log.h"

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A migration file holds several statements separated by ";" at line
 * ends; our migrations contain no ";" inside string literals. */
static int apply_file(const char *path, long long version, const char *name)
{
    gchar *text = NULL;
    if (!g_file_get_contents(path, &text, NULL, NULL)) {
        fprintf(stderr, "vmm-migrate: cannot read %s\n", path);
        return -1;
    }
    gchar **statements = g_regex_split_simple(";[ \t]*(\n|$)", text, 0, 0);
    int rc = 0;
    for (gchar **s = statements; rc == 0 && *s; s++) {
        gchar *sql = g_strstrip(*s);
        /* Skip empty pieces and pieces that are only comments. */
        gchar **lines = g_strsplit(sql, "\n", -1);
        bool only_comments = true;
        for (gchar **l = lines; *l; l++) {
            const char *t = g_strstrip(*l);
            if (*t && strncmp(t, "--", 2) != 0)
                only_comments = false;
        }
        g_strfreev(lines);
        if (!only_comments && db_exec(sql) < 0)
            rc = -1;
    }
    g_strfreev(statements);
    g_free(text);
    if (rc == 0)
        rc = db_exec("INSERT INTO schema_migrations (version, name, applied_at) "
                     "VALUES (?, ?, UTC_TIMESTAMP())",
                     DB_INT(version), DB_TEXT(name));
    return rc;
}

int main(void)
{
    log_init("vmm-migrate");
    if (config_load() < 0 || db_connect() < 0)
        return 1;
    if (db_exec("CREATE TABLE IF NOT EXISTS schema_migrations ("
                "version INT UNSIGNED NOT NULL PRIMARY KEY, name VARCHAR(128) NOT NULL, "
                "applied_at DATETIME NOT NULL) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4") < 0)
        return 1;

    const char *dir = config_str("paths", "sql_dir", VMM_SQL_DIR);
    GDir *d = g_dir_open(dir, 0, NULL);
    if (!d) {
        fprintf(stderr, "vmm-migrate: cannot open %s\n", dir);
        return 1;
    }
    GPtrArray *files = g_ptr_array_new_with_free_func(g_free);
    const char *entry;
    while ((entry = g_dir_read_name(d)))
        if (g_regex_match_simple("^[0-9]{3}_[a-z0-9_]+\\.sql$", entry, 0, 0))
            g_ptr_array_add(files, g_strdup(entry));
    g_dir_close(d);
    qsort(files->pdata, files->len, sizeof(char *), compare_names);

    int applied = 0, rc = 0;
    for (guint i = 0; rc == 0 && i < files->len; i++) {
        const char *file = g_ptr_array_index(files, i);
        long long version = strtoll(file, NULL, 10);
        struct db_rows *done =
            db_query("SELECT 1 FROM schema_migrations WHERE version = ?", DB_INT(version));
        if (!done) {
            rc = 1;
            break;
        }
        bool already = done->nrows > 0;
        db_rows_free(done);
        if (already)
            continue;
        gchar *path = g_build_filename(dir, file, NULL);
        if (apply_file(path, version, file) < 0) {
            fprintf(stderr, "vmm-migrate: %s failed\n", file);
            rc = 1;
        } else {
            printf("vmm-migrate: applied %s\n", file);
            applied++;
        }
        g_free(path);
    }
    if (rc == 0)
        printf("vmm-migrate: schema up to date (%d applied now)\n", applied);
    g_ptr_array_free(files, TRUE);
    db_close();
    return rc;
}
