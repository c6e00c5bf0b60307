#include "library.h"

#include <glib.h>
#include <pthread.h>
#include <string.h>

#include "db.h"
#include "image.h"
#include "log.h"
#include "pool.h"
#include "sandbox.h"

static int quarantine(long long id, const char *reason)
{
    log_warn("template %lld quarantined: %s", id, reason);
    return db_exec("UPDATE templates SET status = 'quarantined', quarantine_reason = LEFT(?, 255) "
                   "WHERE id = ? AND status = 'ready'", DB_TEXT(reason), DB_INT(id));
}

/* 1 quarantined, 0 kept, -1 could not judge (the sandbox is missing:
 * nothing more can be judged this time). */
static int recheck_one(long long id, const char *file, const char *format)
{
    if (!pool_name_valid(file))
        return quarantine(id, "The template's file name is not valid.") == 0;
    struct err err = { 0 };
    struct sandbox *sb = sandbox_new(&err);
    if (!sb)
        return -1;
    char *path = pool_path("templates", file);
    /* A hard link: the pool's file stays where VMs and libvirt find it. */
    json_t *info = sandbox_adopt(sb, path, true, &err) == 0 ? image_inspect(sb, format, &err) : NULL;
    int rc = 0;
    if (!info && err.status == 422)
        rc = quarantine(id, err.message) == 0;
    else if (!info)
        log_warn("template %lld (%s) not re-inspected: %s", id, file, err.message);
    json_decref(info);
    sandbox_free(sb);
    g_free(path);
    return rc;
}

int library_recheck(void)
{
    /* Those in storage pools came after these rules (and a pool's storage
     * may not answer at start). */
    struct db_rows *rows = db_query("SELECT id, file_name, format FROM templates "
                                    "WHERE status = 'ready' AND storage_pool_id IS NULL ORDER BY id");
    int quarantined = 0;
    for (int i = 0; rows && i < rows->nrows; i++) {
        int rc = recheck_one(db_cell_int(rows, i, 0, 0), db_cell(rows, i, 1), db_cell(rows, i, 2));
        if (rc < 0) {
            log_error("template re-inspection stopped: the sandbox is not available");
            break;
        }
        quarantined += rc;
    }
    if (rows)
        log_info("templates re-inspected: %d, quarantined: %d", rows->nrows, quarantined);
    db_rows_free(rows);
    return quarantined;
}

char *library_template_path(const char *file_name, const char *pool_dir)
{
    return pool_dir && *pool_dir ? g_strdup_printf("%s/%s", pool_dir, file_name)
                                 : pool_path("templates", file_name);
}

bool library_template_ready(const char *file_name, struct err *err)
{
    struct db_rows *rows = db_query("SELECT status, quarantine_reason FROM templates "
                                    "WHERE file_name = ?", DB_TEXT(file_name));
    bool ready = false;
    if (!rows)
        err_set(err, 503, "database_unavailable", NULL, "The database is not available.");
    else if (rows->nrows == 1 && !strcmp(db_cell(rows, 0, 0), "quarantined"))
        err_set(err, 409, "template_quarantined", "template_id",
                "This template is quarantined and cannot be used: %s", db_cell(rows, 0, 1));
    else if (rows->nrows != 1 || strcmp(db_cell(rows, 0, 0), "ready"))
        err_set(err, 409, "wrong_state", "template_id", "This template is not ready.");
    else
        ready = true;
    db_rows_free(rows);
    return ready;
}

static void *recheck_thread(void *unused)
{
    (void)unused;
    sandbox_sweep(600);
    library_recheck();
    db_close();
    return NULL;
}

void library_recheck_start(void)
{
    pthread_t thread;
    if (pthread_create(&thread, NULL, recheck_thread, NULL) == 0)
        pthread_detach(thread);
    else
        log_error("template re-inspection not started");
}
