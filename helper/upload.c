#define _GNU_SOURCE
#include "upload.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <limits.h>
#include <pwd.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "config.h"
#include "db.h"
#include "import.h"
#include "log.h"

static const char *uploads_dir(void)
{
    return config_str("uploads", "dir", "/var/lib/vmm/uploads");
}

char *upload_part_path(long long id)
{
    return g_strdup_printf("%s/parts/%lld", uploads_dir(), id);
}

/* The FastCGI programs' user, who writes the chunks (vmm-uploads). */
static int client_ids(uid_t *uid, gid_t *gid)
{
    struct passwd *pw = getpwnam(config_str("helper", "client_user", "vmm"));
    if (!pw)
        return -1;
    *uid = pw->pw_uid;
    *gid = pw->pw_gid;
    return 0;
}

/* parts/: 0700 and the programs' user's, so vmm-uploads writes there and
 * nginx (www-data) and the sandbox user cannot even look. */
static int parts_dir_ready(void)
{
    char *dir = g_strdup_printf("%s/parts", uploads_dir());
    uid_t uid;
    gid_t gid;
    struct stat st;
    int rc = g_mkdir_with_parents(dir, 0700);
    if (rc == 0 && (client_ids(&uid, &gid) < 0 || lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode)))
        rc = -1;
    if (rc == 0 && (st.st_uid != uid || (st.st_mode & 07777) != 0700))
        rc = chown(dir, uid, gid) == 0 && chmod(dir, 0700) == 0 ? 0 : -1;
    g_free(dir);
    return rc;
}

/* A new empty file of the programs' user in parts/. */
static int part_file_make(const char *path)
{
    uid_t uid;
    gid_t gid;
    if (client_ids(&uid, &gid) < 0)
        return -1;
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    int rc = fchown(fd, uid, gid);
    close(fd);
    return rc;
}

/* The upload's owner, length and bytes received; 404 for anyone but the
 * owner (the row is the owner's; vmm-uploads checked it too). */
static int upload_load(long long id, const struct user *actor, long long *length,
                       long long *received, struct err *err)
{
    struct db_rows *rows = db_query("SELECT owner_id, length_bytes, received_bytes, state "
                                    "FROM uploads WHERE id = ?", DB_INT(id));
    if (!rows)
        return err_set(err, 503, "database_unavailable", NULL, "The database is not available.");
    int rc = 0;
    if (rows->nrows != 1 || db_cell_int(rows, 0, 0, 0) != actor->id)
        rc = err_set(err, 404, "not_found", NULL, "There is no such upload.");
    else if (strcmp(db_cell(rows, 0, 3), "uploading"))
        rc = err_set(err, 409, "upload_complete", NULL, "This upload is complete.");
    if (rc == 0) {
        *length = db_cell_int(rows, 0, 1, 0);
        *received = db_cell_int(rows, 0, 2, 0);
    }
    db_rows_free(rows);
    return rc;
}

/* Each upload has a lock file beside its part: a PATCH (vmm-uploads), a
 * DELETE and the expiry take it (flock: the kernel drops it whatever
 * happens to the holder). Made with the part; without it no PATCH can
 * run, so an upload whose lock file is gone is removed unlocked. */
static char *lock_path(long long id)
{
    return g_strdup_printf("%s/parts/%lld.lock", uploads_dir(), id);
}

static int upload_lock(long long id, struct err *err)
{
    /* parts/ is the programs' user's: O_NONBLOCK so that a FIFO put in a
     * file's place cannot hang us (regular files ignore it). */
    char *path = lock_path(id);
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    g_free(path);
    if (fd < 0 && errno == ENOENT)
        return INT_MAX;   /* nothing to hold: see above */
    if (fd < 0) {
        err_set(err, 404, "not_found", NULL, "There is no such upload.");
        return -1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        close(fd);
        err_set(err, 423, "upload_locked", NULL,
                "Another request is writing to this upload. Try again when it is done.");
        return -1;
    }
    return fd;
}

static void upload_unlock(int fd)
{
    if (fd != INT_MAX)
        close(fd);
}

static char *taken_path(long long id)
{
    return g_strdup_printf("%s/import/%lld", uploads_dir(), id);
}

void upload_files_remove(long long id)
{
    char *part = upload_part_path(id), *lock = lock_path(id), *taken = taken_path(id);
    unlink(part);
    unlink(lock);
    unlink(taken);
    g_free(part);
    g_free(lock);
    g_free(taken);
}

int upload_op_create(struct op_call *call)
{
    long long id = json_integer_value(json_object_get(call->args, "upload_id"));
    long long length = 0, received = 0;
    upload_expire();
    if (upload_load(id, call->actor, &length, &received, &call->err) < 0)
        return -1;
    if (parts_dir_ready() < 0)
        return err_set(&call->err, 503, "storage_error", NULL, "The upload directory is missing.");
    /* The whole file must fit; a disk that fills later still fails cleanly. */
    struct statvfs vfs;
    char *dir = g_strdup_printf("%s/parts", uploads_dir());
    int rc = statvfs(dir, &vfs);
    g_free(dir);
    if (rc == 0 && (unsigned long long)length > (unsigned long long)vfs.f_bavail * vfs.f_frsize)
        return err_set(&call->err, 507, "insufficient_storage", NULL,
                       "There is not enough free space for this upload.");
    char *path = upload_part_path(id), *lock = lock_path(id);
    rc = part_file_make(path) == 0 && part_file_make(lock) == 0 ? 0 : -1;
    if (rc < 0) {
        unlink(path);
        unlink(lock);
    }
    g_free(path);
    g_free(lock);
    if (rc < 0)
        return err_set(&call->err, 503, "storage_error", NULL, "The upload file cannot be made.");
    call->result = json_pack("{s:I}", "upload_id", (json_int_t)id);
    return 0;
}

int upload_op_finish(struct op_call *call)
{
    long long id = json_integer_value(json_object_get(call->args, "upload_id"));
    long long length = 0, received = 0;
    if (upload_load(id, call->actor, &length, &received, &call->err) < 0)
        return -1;
    if (received != length)
        return err_set(&call->err, 409, "offset_mismatch", NULL,
                       "The upload is at byte %lld of %lld.", received, length);
    long long job_id = import_start(id, call->actor->id, &call->err);
    if (job_id < 0)
        return -1;
    call->result = json_pack("{s:I, s:I}", "offset", (json_int_t)received, "job_id",
                             (json_int_t)job_id);
    return 0;
}

char *upload_take(long long id, long long length, struct err *err)
{
    char *part = upload_part_path(id), *taken = taken_path(id);
    char *dir = g_strdup_printf("%s/import", uploads_dir());
    struct stat st, moved;
    bool ok = false;
    int fd = open(part, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_nlink == 1 &&
        st.st_size == length && g_mkdir_with_parents(dir, 0700) == 0 &&
        rename(part, taken) == 0)
        /* Still the file we opened (not one swapped in meanwhile): then
         * it is root's from now on. */
        ok = lstat(taken, &moved) == 0 && moved.st_ino == st.st_ino &&
             moved.st_dev == st.st_dev && fchown(fd, 0, 0) == 0 && fchmod(fd, 0600) == 0;
    if (fd >= 0)
        close(fd);
    if (!ok) {
        unlink(taken);
        err_set(err, 422, "bad_upload", NULL, "The uploaded file is not complete.");
        g_free(taken);
        taken = NULL;
    }
    g_free(part);
    g_free(dir);
    return taken;
}

/* Removes an upload's files and row unless a request holds it. */
static int upload_remove(long long id, struct err *err)
{
    int lock = upload_lock(id, err);
    if (lock < 0)
        return -1;
    upload_files_remove(id);
    db_exec("DELETE FROM uploads WHERE id = ?", DB_INT(id));
    upload_unlock(lock);
    return 0;
}

int upload_op_delete(struct op_call *call)
{
    long long id = json_integer_value(json_object_get(call->args, "upload_id"));
    long long length = 0, received = 0;
    if (upload_load(id, call->actor, &length, &received, &call->err) < 0 ||
        upload_remove(id, &call->err) < 0)
        return -1;
    call->result = json_pack("{s:b}", "deleted", 1);
    return 0;
}

void upload_expire(void)
{
    struct db_rows *rows = db_query("SELECT id FROM uploads WHERE state = 'uploading' AND "
                                    "expires_at < UTC_TIMESTAMP()");
    for (int i = 0; rows && i < rows->nrows; i++) {
        struct err err = { 0 };
        long long id = db_cell_int(rows, i, 0, 0);
        if (upload_remove(id, &err) == 0)
            log_info("upload %lld expired and was removed", id);
    }
    db_rows_free(rows);
}

static void *expiry_thread(void *arg)
{
    long long every = config_int("uploads", "expire_check_s", 300);
    for (;;) {
        sleep((unsigned)(every > 0 ? every : 300));
        upload_expire();
    }
    return NULL;
}

void upload_startup(void)
{
    /* An import cut off by a restart: its job was failed; nothing of it stays. */
    struct db_rows *rows = db_query("SELECT id FROM uploads WHERE state = 'importing'");
    for (int i = 0; rows && i < rows->nrows; i++) {
        upload_files_remove(db_cell_int(rows, i, 0, 0));
        db_exec("DELETE FROM uploads WHERE id = ?", DB_INT(db_cell_int(rows, i, 0, 0)));
    }
    db_rows_free(rows);
    import_cleanup_interrupted();
    upload_expire();
    pthread_t thread;
    if (pthread_create(&thread, NULL, expiry_thread, NULL) == 0)
        pthread_detach(thread);
}
