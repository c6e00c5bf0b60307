#define _GNU_SOURCE
#include "upload.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
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
#include "image.h"
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

static int parts_dir_ready(void)
{
    char *dir = g_strdup_printf("%s/parts", uploads_dir());
    int rc = g_mkdir_with_parents(dir, 0700);
    g_free(dir);
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

/* Each upload has a lock file beside its part: a PATCH, a DELETE and the
 * expiry take it (flock: the kernel drops it whatever happens to us). Not
 * the part itself: a first chunk renamed over the part is a new inode. */
static char *lock_path(long long id)
{
    return g_strdup_printf("%s/parts/%lld.lock", uploads_dir(), id);
}

static int upload_lock(long long id, struct err *err)
{
    char *path = lock_path(id);
    int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    g_free(path);
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

void upload_files_remove(long long id)
{
    char *part = upload_part_path(id), *lock = lock_path(id);
    unlink(part);
    unlink(lock);
    g_free(part);
    g_free(lock);
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
    char *path = upload_part_path(id);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    g_free(path);
    if (fd < 0)
        return err_set(&call->err, 503, "storage_error", NULL, "The upload file cannot be made.");
    close(fd);
    call->result = json_pack("{s:I}", "upload_id", (json_int_t)id);
    return 0;
}

/* nginx names its temporary files with digits only. */
static int chunk_open(const char *name, struct err *err)
{
    if (!name || !*name || strlen(name) > 32 || strspn(name, "0123456789") != strlen(name))
        return err_set(err, 400, "bad_chunk", NULL, "The request body was not kept.");
    char *path = g_strdup_printf("%s/incoming/%s", uploads_dir(), name);
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    g_free(path);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        if (fd >= 0)
            close(fd);
        return err_set(err, 400, "bad_chunk", NULL, "The request body was not kept.");
    }
    return fd;
}

static int checksum_verify(int fd, const char *algorithm, const char *expected_b64,
                           struct err *err)
{
    if (!algorithm || !expected_b64)
        return 0;
    unsigned char digest[64];
    int n = image_file_digest(fd, algorithm, digest, sizeof digest);
    if (n < 0)
        return err_set(err, 400, "checksum_algorithm", NULL,
                       "The checksum algorithm is not supported.");
    gsize len = 0;
    guchar *expected = g_base64_decode(expected_b64, &len);
    bool ok = len == (gsize)n && !memcmp(expected, digest, len);
    g_free(expected);
    if (!ok)
        return err_set(err, 460, "checksum_mismatch", NULL,
                       "The chunk does not match its checksum; send it again.");
    return 0;
}

/* Appends the whole chunk at offset; on failure the part is cut back. */
static int chunk_append(int part, int chunk, long long offset, long long size, struct err *err)
{
    loff_t in = 0, out = offset;
    while (in < size) {
        ssize_t n = copy_file_range(chunk, &in, part, &out, (size_t)(size - in), 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            int e = n < 0 ? errno : EIO;
            if (ftruncate(part, offset) < 0)
                log_error("cannot cut upload back to %lld: %s", offset, strerror(errno));
            if (e == ENOSPC || e == EDQUOT)
                return err_set(err, 507, "insufficient_storage", NULL,
                               "The disk is full; the upload keeps its last complete chunk.");
            return err_set(err, 503, "storage_error", NULL, "The chunk could not be stored.");
        }
    }
    return 0;
}

int upload_op_append(struct op_call *call)
{
    json_t *a = call->args;
    long long id = json_integer_value(json_object_get(a, "upload_id"));
    long long offset = json_integer_value(json_object_get(a, "offset"));
    const char *algorithm = json_string_value(json_object_get(a, "checksum_algorithm"));
    const char *checksum = json_string_value(json_object_get(a, "checksum"));
    long long length = 0, received = 0;
    int lock = -1, part = -1, chunk = -1, rc = -1;

    if (upload_load(id, call->actor, &length, &received, &call->err) < 0)
        return -1;
    if ((lock = upload_lock(id, &call->err)) < 0)
        return -1;
    char *part_path = upload_part_path(id);
    part = open(part_path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
    g_free(part_path);
    if (part < 0) {
        err_set(&call->err, 404, "not_found", NULL, "There is no such upload.");
        goto out;
    }
    /* Read again under the lock: the request before ours may have moved it. */
    if (upload_load(id, call->actor, &length, &received, &call->err) < 0)
        goto out;
    if (offset != received) {
        err_set(&call->err, 409, "offset_mismatch", NULL,
                "The upload is at byte %lld, not %lld.", received, offset);
        goto out;
    }
    struct stat st;
    if (fstat(part, &st) < 0)
        goto out;
    /* A chunk cut off by a crash after the write, before the row: drop it. */
    if (st.st_size != received && ftruncate(part, received) < 0)
        goto out;
    if ((chunk = chunk_open(json_string_value(json_object_get(a, "chunk")), &call->err)) < 0)
        goto out;
    if (fstat(chunk, &st) < 0)
        goto out;
    long long size = st.st_size;
    if (received + size > length) {
        err_set(&call->err, 413, "upload_too_large", NULL,
                "The chunk goes past the announced Upload-Length.");
        goto out;
    }
    if (checksum_verify(chunk, algorithm, checksum, &call->err) < 0)
        goto out;

    if (received == 0 && size > 0) {
        /* The first chunk becomes the file: a rename, not a copy. nginx's
         * own cleanup of the temporary name then finds nothing. The empty
         * part goes first: ext4 flushes a file renamed over another one
         * (auto_da_alloc), which would cost seconds for gigabytes. */
        char *from = g_strdup_printf("%s/incoming/%s", uploads_dir(),
                                     json_string_value(json_object_get(a, "chunk")));
        char *to = upload_part_path(id);
        bool moved = unlink(to) == 0 && rename(from, to) == 0;
        if (!moved) {
            close(part);
            part = open(to, O_RDWR | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
        }
        g_free(from);
        g_free(to);
        if (!moved && (part < 0 || chunk_append(part, chunk, 0, size, &call->err) < 0)) {
            if (part < 0)
                err_set(&call->err, 503, "storage_error", NULL, "The upload file is gone.");
            goto out;
        }
    } else if (size > 0 && chunk_append(part, chunk, received, size, &call->err) < 0) {
        goto out;
    }
    received += size;
    if (db_exec("UPDATE uploads SET received_bytes = ?, expires_at = UTC_TIMESTAMP() + "
                "INTERVAL ? SECOND WHERE id = ?", DB_INT(received),
                DB_INT(config_int("uploads", "expire_s", 86400)), DB_INT(id)) < 0) {
        err_set(&call->err, 503, "database_unavailable", NULL, "The database is not available.");
        goto out;
    }
    call->result = json_pack("{s:I}", "offset", (json_int_t)received);
    if (received == length) {
        long long job_id = import_start(id, call->actor->id, &call->err);
        if (job_id < 0)
            goto out;
        json_object_set_new(call->result, "job_id", json_integer(job_id));
    }
    rc = 0;
out:
    if (chunk >= 0)
        close(chunk);
    if (part >= 0)
        close(part);
    close(lock);   /* after the row is updated: the next PATCH sees it */
    return rc;
}

/* Removes an upload's files and row unless a request holds it. */
static int upload_remove(long long id, struct err *err)
{
    int lock = upload_lock(id, err);
    if (lock < 0)
        return -1;
    upload_files_remove(id);
    db_exec("DELETE FROM uploads WHERE id = ?", DB_INT(id));
    close(lock);
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
