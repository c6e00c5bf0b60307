/* vmm-uploads: tus 1.0.0 resumable uploads of ISOs and templates at
 * /api/v1/uploads (core, creation, termination, checksum, expiration).
 * This program keeps the protocol and the rows, and writes each PATCH body,
 * streamed by nginx, once, at its offset into the upload's part file
 * (below: "a chunk"), hashing the file as it goes. The helper (root) makes
 * and removes the files and does the import. An upload is its owner's
 * alone: anyone else gets a 404. When the last byte is in, the helper
 * starts the import job and PATCH answers Upload-Job. */
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app.h"
#include "config.h"
#include "db.h"
#include "digest_state.h"
#include "helper_client.h"
#include "i18n.h"
#include "input.h"
#include "ipv4.h"
#include "log.h"
#include "quota.h"
#include "stream_write.h"
#include "tus.h"
#include "user.h"

#define TUS_VERSION "1.0.0"
#define TUS_EXTENSIONS "creation,termination,checksum,expiration"
#define TUS_CHECKSUMS "md5,sha1,sha256"

static long long max_upload_bytes(void)
{
    return config_int("uploads", "max_bytes", 64LL << 30);
}

static void tus_headers(struct req *r)
{
    resp_header(r, "Tus-Resumable", TUS_VERSION);
}

/* Every tus request names the protocol version it speaks. */
static int tus_check_version(struct req *r)
{
    tus_headers(r);
    const char *v = req_env(r, "HTTP_TUS_RESUMABLE");
    if (!v || strcmp(v, TUS_VERSION)) {
        resp_header(r, "Tus-Version", TUS_VERSION);
        return req_fail(r, 412, "tus_version", NULL,
                        _("This server speaks tus 1.0.0 (send Tus-Resumable: 1.0.0)."));
    }
    return 0;
}

static int tus_options(struct req *r)
{
    char max[32];
    snprintf(max, sizeof max, "%lld", max_upload_bytes());
    tus_headers(r);
    resp_header(r, "Tus-Version", TUS_VERSION);
    resp_header(r, "Tus-Extension", TUS_EXTENSIONS);
    resp_header(r, "Tus-Max-Size", max);
    resp_header(r, "Tus-Checksum-Algorithm", TUS_CHECKSUMS);
    r->status = 204;
    return 0;
}

/* --- Upload-Metadata (parsed by lib/web/tus.c) ---------------------------- */

static const char *meta_str(json_t *meta, const char *key)
{
    const char *v = json_string_value(json_object_get(meta, key));
    return v && *v ? v : NULL;
}

static bool one_of(const char *value, const char *const *choices)
{
    for (; *choices; choices++)
        if (!strcmp(value, *choices))
            return true;
    return false;
}

static int meta_choice(struct req *r, json_t *meta, const char *key, const char *const *choices,
                       const char *fallback, const char **out)
{
    const char *v = meta_str(meta, key);
    *out = v ? v : fallback;
    if (!*out)
        return req_fail(r, 400, "missing_metadata", key, _("Upload-Metadata needs %s."), key);
    if (!one_of(*out, choices))
        return req_fail(r, 400, "invalid_metadata", key, _("%s has a value that is not allowed."),
                        key);
    return 0;
}

static int meta_text(struct req *r, json_t *meta, const char *key, long max, char **out)
{
    const char *v = meta_str(meta, key);
    if (v && g_utf8_strlen(v, -1) > max)
        return req_fail(r, 400, "invalid_metadata", key, _("%s is too long."), key);
    /* Names are shown to people: the rule of every name. A file name comes
     * from the uploader's disk as it is: it is cleaned by tus_safe_text. */
    if (v && strcmp(key, "filename") && !input_name_clean(v))
        return req_fail(r, 400, "invalid_metadata", key,
                        _("%s contains invisible or text-direction characters."), key);
    *out = tus_safe_text(v ? v : "", max);
    return 0;
}

/* --- creation ----------------------------------------------------------- */

/* "vm": an OVA to become a virtual machine after a review (issue 19). */
static const char *const kinds[] = { "iso", "template", "volume", "vm", NULL };
static const char *const volume_formats[] = { "qcow2", "raw", NULL };
static const char *const formats[] = { "qcow2", "raw", "vmdk", "ova", NULL };
static const char *const arches[] = { "", "x86_64", "aarch64", NULL };
static const char *const visibilities[] = { "public", "private", NULL };

/* Bytes the user's images and unfinished uploads hold. */
static int check_size(struct req *r, long long length)
{
    if (length > max_upload_bytes())
        return req_fail(r, 413, "upload_too_large", NULL,
                        _("The file is larger than uploads may be (%lld bytes)."),
                        max_upload_bytes());
    if (r->user->role == ROLE_ADMIN)
        return 0;
    long long room = quota_image_room(r->user->id);
    if (room < 0)
        return fail_db(r);
    if (length > room)
        return req_fail(r, 413, "quota_exceeded", NULL,
                        _("This upload would exceed your image storage quota."));
    return 0;
}

struct upload_meta {
    const char *kind, *format, *arch, *visibility;
    char *filename, *name, *category, *os;
    long long pool_id;   /* a volume's or a template's storage pool, else 0 */
};

static void upload_meta_free(struct upload_meta *m)
{
    g_free(m->filename);
    g_free(m->name);
    g_free(m->category);
    g_free(m->os);
}

static int upload_meta_read(struct req *r, json_t *meta, struct upload_meta *m)
{
    bool admin = r->user->role == ROLE_ADMIN;
    if (meta_choice(r, meta, "kind", kinds, NULL, &m->kind) < 0 ||
        meta_text(r, meta, "filename", 255, &m->filename) < 0 ||
        meta_text(r, meta, "name", !strcmp(m->kind, "iso") ? 128 : 64, &m->name) < 0 ||
        meta_text(r, meta, "category", 32, &m->category) < 0 ||
        meta_text(r, meta, "os", 64, &m->os) < 0 ||
        /* Not named: "", detected on import (an ISO), else x86_64. */
        meta_choice(r, meta, "arch", arches, "", &m->arch) < 0 ||
        meta_choice(r, meta, "visibility", visibilities, admin ? "public" : "private",
                    &m->visibility) < 0)
        return -1;
    m->format = !strcmp(m->kind, "vm") ? "ova" : "";
    if (!strcmp(m->kind, "template") && meta_choice(r, meta, "format", formats, NULL, &m->format) < 0)
        return -1;
    if (!admin && !strcmp(m->visibility, "public"))
        return req_fail(r, 403, "forbidden", "visibility",
                        _("Only administrators publish images to everyone."));
    return 0;
}

/* 0 when storage pool id exists, else -1 with a 404 on field pool_id
 * (or the database's 503). */
static int pool_known(struct req *r, long long id)
{
    struct db_rows *rows = db_query("SELECT id FROM storage_pools WHERE id = ?", DB_INT(id));
    if (!rows)
        return fail_db(r);
    int found = rows->nrows;
    db_rows_free(rows);
    return found ? 0
                 : req_fail(r, 404, "not_found", "pool_id", _("There is no such storage pool."));
}

/* The storage pool a template goes in (issue 12): pool_id, optional,
 * administrators only; a running directory or NFS pool with room for it.
 * The helper answers whether the pool takes it. */
static int template_pool_read(struct req *r, json_t *meta, long long length, struct upload_meta *m)
{
    const char *pool = meta_str(meta, "pool_id");
    if (!pool || !*pool)
        return 0;
    if (r->user->role != ROLE_ADMIN)
        return req_fail(r, 403, "forbidden", "pool_id",
                        _("Only administrators place templates in storage pools."));
    char *end = NULL;
    m->pool_id = g_ascii_strtoll(pool, &end, 10);
    if (*end || m->pool_id < 1)
        return req_fail(r, 400, "invalid_metadata", "pool_id",
                        _("pool_id is a storage pool's id."));
    if (pool_known(r, m->pool_id) < 0)
        return -1;
    json_t *args = json_pack("{s:I, s:I}", "pool_id", (json_int_t)m->pool_id, "bytes",
                             (json_int_t)length);
    json_t *room = helper_call(r, "storage.volume_room", args);
    json_decref(args);
    json_decref(room);
    return room ? 0 : -1;
}

/* A volume (issue 12): administrators only, into a running directory or
 * NFS pool (pool_id) that has room for it, under a volume name (name)
 * the pool does not have; qcow2 or raw, judged on import as templates
 * are. The helper answers whether the pool takes it. */
static int volume_meta_read(struct req *r, json_t *meta, long long length, struct upload_meta *m)
{
    if (r->user->role != ROLE_ADMIN)
        return req_fail(r, 403, "forbidden", "kind",
                        _("Only administrators upload volumes into storage pools."));
    const char *pool = meta_str(meta, "pool_id");
    char *end = NULL;
    m->pool_id = pool ? g_ascii_strtoll(pool, &end, 10) : 0;
    if (!pool || *end || m->pool_id < 1)
        return req_fail(r, 400, "missing_metadata", "pool_id",
                        _("Upload-Metadata needs pool_id, the storage pool's id."));
    if (!net_name_valid(m->name))
        return req_fail(r, 400, "invalid_name", "name",
                        _("A volume name is 1-48 letters, digits, '-', '_' or '.', starting with "
                          "a letter or digit."));
    if (meta_choice(r, meta, "format", volume_formats, NULL, &m->format) < 0)
        return -1;
    if (pool_known(r, m->pool_id) < 0)
        return -1;
    json_t *args = json_pack("{s:I, s:s, s:I}", "pool_id", (json_int_t)m->pool_id, "name",
                             m->name, "bytes", (json_int_t)length);
    json_t *room = helper_call(r, "storage.volume_room", args);
    json_decref(args);
    json_decref(room);
    return room ? 0 : -1;
}

static int set_expires_header(struct req *r, long long id)
{
    struct db_rows *rows = db_query(
        "SELECT DATE_FORMAT(expires_at, '%a, %d %b %Y %H:%i:%s GMT') FROM uploads WHERE id = ?",
        DB_INT(id));
    if (rows && rows->nrows == 1)
        resp_header(r, "Upload-Expires", db_cell(rows, 0, 0));
    db_rows_free(rows);
    return 0;
}

static int tus_create(struct req *r)
{
    if (tus_check_version(r) < 0)
        return -1;
    if (req_env(r, "HTTP_UPLOAD_DEFER_LENGTH"))
        return req_fail(r, 400, "defer_length", NULL,
                        _("Send Upload-Length: deferred lengths are not supported."));
    long long length;
    if (!tus_parse_size(req_env(r, "HTTP_UPLOAD_LENGTH"), &length) || length < 1)
        return req_fail(r, 400, "invalid_length", NULL,
                        _("Upload-Length must be the file's size in bytes."));
    json_t *meta = json_object();
    struct upload_meta m = { 0 };
    long long id = 0;
    int rc = -1;
    if (tus_metadata_parse(req_env(r, "HTTP_UPLOAD_METADATA"), meta, &r->err) < 0 ||
        upload_meta_read(r, meta, &m) < 0 || check_size(r, length) < 0 ||
        (!strcmp(m.kind, "volume") && volume_meta_read(r, meta, length, &m) < 0) ||
        (!strcmp(m.kind, "template") && template_pool_read(r, meta, length, &m) < 0))
        goto out;
    const char *raw = req_env(r, "HTTP_UPLOAD_METADATA");
    if (db_exec_id("INSERT INTO uploads (owner_id, kind, filename, name, format, arch, category, "
                   "os, visibility, pool_id, metadata, length_bytes, expires_at) VALUES (?, ?, ?, "
                   "?, ?, ?, ?, ?, ?, NULLIF(?, 0), ?, ?, UTC_TIMESTAMP() + INTERVAL ? SECOND)", &id,
                   DB_INT(r->user->id), DB_TEXT(m.kind), DB_TEXT(m.filename), DB_TEXT(m.name),
                   DB_TEXT(m.format), DB_TEXT(m.arch), DB_TEXT(m.category), DB_TEXT(m.os),
                   DB_TEXT(m.visibility), DB_INT(m.pool_id), DB_TEXT(raw ? raw : ""), DB_INT(length),
                   DB_INT(config_int("uploads", "expire_s", 86400))) < 0) {
        fail_db(r);
        goto out;
    }
    r->audit_target_id = id;
    json_t *args = json_pack("{s:I}", "upload_id", (json_int_t)id);
    json_t *made = helper_call(r, "upload.create", args);
    json_decref(args);
    if (!made) {
        db_exec("DELETE FROM uploads WHERE id = ?", DB_INT(id));
        goto out;
    }
    json_decref(made);
    char *location = g_strdup_printf("/api/v1/uploads/%lld", id);
    resp_header(r, "Location", location);
    g_free(location);
    set_expires_header(r, id);
    r->status = 201;
    r->data = json_pack("{s:I, s:s, s:s, s:I, s:I}", "id", (json_int_t)id, "kind", m.kind,
                        "filename", m.filename, "length", (json_int_t)length, "offset",
                        (json_int_t)0);
    rc = 0;
out:
    upload_meta_free(&m);
    json_decref(meta);
    return rc;
}

/* --- an upload's state (HEAD), chunks (PATCH), termination (DELETE) ---- */

struct upload_row {
    long long length, received, job_id;
    bool importing;
};

static int upload_mine(struct req *r, long long id, struct upload_row *u, bool head)
{
    struct db_rows *rows = db_query(
        "SELECT length_bytes, received_bytes, state, job_id, metadata, filename, kind, "
        "DATE_FORMAT(expires_at, '%a, %d %b %Y %H:%i:%s GMT') FROM uploads "
        "WHERE id = ? AND owner_id = ? AND (state = 'importing' OR expires_at > UTC_TIMESTAMP())",
        DB_INT(id), DB_INT(r->user->id));
    if (!rows)
        return fail_db(r);
    if (rows->nrows != 1) {
        db_rows_free(rows);
        return req_fail(r, 404, "not_found", NULL, _("There is no such upload."));
    }
    u->length = db_cell_int(rows, 0, 0, 0);
    u->received = db_cell_int(rows, 0, 1, 0);
    u->importing = !strcmp(db_cell(rows, 0, 2), "importing");
    u->job_id = db_cell_int(rows, 0, 3, 0);
    if (head) {
        char length[32], offset[32];
        snprintf(length, sizeof length, "%lld", u->length);
        snprintf(offset, sizeof offset, "%lld", u->received);
        resp_header(r, "Upload-Length", length);
        resp_header(r, "Upload-Offset", offset);
        if (*db_cell(rows, 0, 4))
            resp_header(r, "Upload-Metadata", db_cell(rows, 0, 4));
        if (!u->importing)
            resp_header(r, "Upload-Expires", db_cell(rows, 0, 7));
        r->data = json_pack("{s:I, s:s, s:s, s:I, s:I, s:s, s:o}", "id", (json_int_t)id,
                            "kind", db_cell(rows, 0, 6), "filename", db_cell(rows, 0, 5),
                            "length", (json_int_t)u->length, "offset", (json_int_t)u->received,
                            "state", db_cell(rows, 0, 2),
                            "job_id", u->job_id ? json_integer(u->job_id) : json_null());
    }
    db_rows_free(rows);
    return 0;
}

static int tus_head(struct req *r)
{
    struct upload_row u;
    if (tus_check_version(r) < 0 || upload_mine(r, req_param(r, "id")->num, &u, true) < 0)
        return -1;
    return 0;
}

/* --- a chunk: written once, at its offset, by this program ------------
 *
 * nginx streams the PATCH body unbuffered (fastcgi_request_buffering off,
 * VMM_BODY_STREAM); it is written as it arrives into [uploads] dir/parts/
 * <id>, which the helper made for this program's user (0700 directory:
 * nginx and the sandbox user have no access), and hashed on the way
 * (lib/web/stream_write.h). Bytes past the committed offset count only once
 * the row says so: the row's received_bytes and hash_state change in one
 * UPDATE, after the chunk's Upload-Checksum (if any) matched. Whatever is
 * past received_bytes in the file is cut off by the next PATCH. */

static char *part_file(long long id, const char *suffix)
{
    return g_strdup_printf("%s/parts/%lld%s", config_str("uploads", "dir", "/var/lib/vmm/uploads"),
                           id, suffix);
}

/* The upload's lock (flock, dropped by the kernel whatever happens): one
 * PATCH at a time; the helper takes it to delete or expire the upload. */
static int chunk_lock(struct req *r, long long id)
{
    char *path = part_file(id, ".lock");
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    g_free(path);
    if (fd < 0)
        return req_fail(r, 404, "not_found", NULL, _("There is no such upload."));
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        close(fd);
        return req_fail(r, 423, "upload_locked", NULL,
                        _("Another request is writing to this upload. Try again when it is done."));
    }
    return fd;
}

/* "Upload-Checksum: sha256 <base64>": a digest context and the expected
 * bytes, or nothing when the header is absent. */
static int chunk_checksum(struct req *r, EVP_MD_CTX **ctx, guchar **expected, gsize *len)
{
    const char *header = req_env(r, "HTTP_UPLOAD_CHECKSUM");
    *ctx = NULL;
    *expected = NULL;
    if (!header)
        return 0;
    char *algorithm;
    const char *digest;
    if (tus_checksum_parse(header, &algorithm, &digest, &r->err) < 0)
        return -1;
    const EVP_MD *md = !strcmp(algorithm, "md5")    ? EVP_md5()
                       : !strcmp(algorithm, "sha1") ? EVP_sha1()
                                                    : EVP_sha256();
    g_free(algorithm);
    *expected = g_base64_decode(digest, len);
    *ctx = EVP_MD_CTX_new();
    EVP_DigestInit_ex(*ctx, md, NULL);
    return 0;
}

static bool checksum_matches(EVP_MD_CTX *ctx, const guchar *expected, gsize len)
{
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    EVP_DigestFinal_ex(ctx, digest, &n);
    return n == len && !memcmp(digest, expected, len);
}

static long body_read(void *ctx, void *buf, size_t n)
{
    return req_body_read(ctx, buf, n);
}

/* The upload's row again, under the lock. */
struct chunk_row {
    long long length, received;
    bool iso;
    char *hash_state;
};

static int chunk_row_load(struct req *r, long long id, struct chunk_row *c)
{
    struct db_rows *rows = db_query("SELECT length_bytes, received_bytes, kind, hash_state FROM "
                                    "uploads WHERE id = ? AND owner_id = ? AND state = 'uploading'",
                                    DB_INT(id), DB_INT(r->user->id));
    if (!rows)
        return fail_db(r);
    int rc = 0;
    if (rows->nrows != 1) {
        rc = req_fail(r, 409, "upload_complete", NULL, _("This upload is complete."));
    } else {
        c->length = db_cell_int(rows, 0, 0, 0);
        c->received = db_cell_int(rows, 0, 1, 0);
        c->iso = !strcmp(db_cell(rows, 0, 2), "iso");
        c->hash_state = g_strdup(db_cell(rows, 0, 3));
    }
    db_rows_free(rows);
    return rc;
}

/* The file's digests at the committed offset: the saved state, or (a
 * state from another OpenSSL layout, a row written before states were
 * kept) the committed bytes hashed again. Templates have none. */
static struct digest_state *chunk_digests(const struct chunk_row *c, int fd)
{
    if (!c->iso)
        return NULL;
    if (c->received == 0)
        return digest_state_new();
    struct digest_state *d = digest_state_load(c->hash_state, c->received);
    if (!d) {
        log_warn("upload digests rebuilt from %lld bytes", c->received);
        d = digest_state_rebuild(fd, c->received);
    }
    return d;
}

/* received_bytes and the digests move together, and only from where this
 * PATCH found them. */
static int chunk_commit(struct req *r, long long id, const struct chunk_row *c, long long received,
                        const struct digest_state *d)
{
    char *state = d ? digest_state_save(d) : g_strdup("");
    unsigned long long changed = 0;
    int rc = db_exec_count("UPDATE uploads SET received_bytes = ?, hash_state = ?, expires_at = "
                           "UTC_TIMESTAMP() + INTERVAL ? SECOND WHERE id = ? AND "
                           "received_bytes = ? AND state = 'uploading'", &changed,
                           DB_INT(received), DB_TEXT(state),
                           DB_INT(config_int("uploads", "expire_s", 86400)), DB_INT(id),
                           DB_INT(c->received));
    g_free(state);
    if (rc < 0)
        return fail_db(r);
    if (changed != 1)
        return req_fail(r, 409, "upload_complete", NULL, _("This upload is complete."));
    return 0;
}

/* Writes the body at the committed offset. Returns the new offset, or -1
 * (r->err set, the file cut back to where it was). A client gone mid-body
 * keeps what arrived (tus allows it), made durable first (fdatasync), unless
 * the chunk had a checksum, which it can no longer match. */
static long long chunk_write(struct req *r, long long id, struct chunk_row *c)
{
    char *path = part_file(id, "");
    int fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
    g_free(path);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        if (fd >= 0)
            close(fd);
        return req_fail(r, 404, "not_found", NULL, _("There is no such upload."));
    }
    EVP_MD_CTX *md = NULL;
    guchar *expected = NULL;
    gsize expected_len = 0;
    struct digest_state *d = NULL;
    long long rc = -1;
    /* Chunks are not synced one by one (nginx's own PUT does not sync
     * either): a crash of the host may leave the file shorter than the
     * committed offset. Its digests then describe bytes that are gone, so
     * the upload starts again from 0 (the client learns it from HEAD). */
    if (st.st_size < c->received) {
        log_warn("upload %lld lost bytes (%lld of %lld): restarted", id, (long long)st.st_size,
                 c->received);
        if (ftruncate(fd, 0) == 0)
            db_exec("UPDATE uploads SET received_bytes = 0, hash_state = '' WHERE id = ?",
                    DB_INT(id));
        req_fail(r, 409, "offset_mismatch", NULL, _("The upload is at byte %lld, not %lld."), 0LL,
                 c->received);
        goto out;
    }
    /* What a cut-off PATCH or a refused chunk left past the offset goes. */
    if (st.st_size != c->received && ftruncate(fd, c->received) < 0) {
        req_fail(r, 503, "storage_error", NULL, _("The chunk could not be stored."));
        goto out;
    }
    if (chunk_checksum(r, &md, &expected, &expected_len) < 0)
        goto out;
    d = chunk_digests(c, fd);
    if (c->iso && !d) {
        req_fail(r, 503, "storage_error", NULL, _("The chunk could not be stored."));
        goto out;
    }
    struct stream_write w = { .fd = fd, .offset = c->received, .digests = d, .chunk_md = md };
    enum stream_result result = stream_write_run(&w, body_read, r);
    bool full = w.error == ENOSPC || w.error == EDQUOT;
    long long kept = -1;   /* bytes of this chunk that count */
    if (result == STREAM_IO)
        req_fail(r, full ? 507 : 503, full ? "insufficient_storage" : "storage_error", NULL, "%s",
                 full ? _("The disk is full; the upload keeps its last complete chunk.")
                      : _("The chunk could not be stored."));
    else if (result == STREAM_CUT && !md && fdatasync(fd) == 0)
        kept = w.written;
    else if (result == STREAM_DONE && md && !checksum_matches(md, expected, expected_len))
        req_fail(r, 460, "checksum_mismatch", NULL,
                 _("The chunk does not match its checksum; send it again."));
    else if (result == STREAM_DONE)
        kept = w.written;
    if (kept > 0 && chunk_commit(r, id, c, c->received + kept, d) < 0)
        kept = -1;
    if (kept < 0 && ftruncate(fd, c->received) < 0)
        log_error("cannot cut upload %lld back to %lld: %s", id, c->received, strerror(errno));
    if (result == STREAM_CUT) {
        log_info("upload %lld: the client left after %lld bytes (%s)", id, w.written,
                 kept > 0 ? "kept" : "dropped");
        req_fail(r, 400, "short_body", NULL, _("The request body is shorter than announced."));
    }
    if (kept >= 0 && !r->err.status)
        rc = c->received + kept;
out:
    digest_state_free(d);
    EVP_MD_CTX_free(md);
    g_free(expected);
    close(fd);
    return rc;
}

static int tus_patch(struct req *r)
{
    long long id = req_param(r, "id")->num, offset;
    struct upload_row u;
    if (tus_check_version(r) < 0)
        return -1;
    if (!r->content_type || g_ascii_strcasecmp(r->content_type, "application/offset+octet-stream"))
        return req_fail(r, 415, "unsupported_media_type", NULL,
                        _("Send chunks as application/offset+octet-stream."));
    if (!tus_parse_size(req_env(r, "HTTP_UPLOAD_OFFSET"), &offset))
        return req_fail(r, 400, "invalid_offset", NULL, _("Upload-Offset must be a byte count."));
    if (!r->body_stream || r->content_length < 0)
        return req_fail(r, 411, "length_required", NULL, _("Send the chunk with a Content-Length."));
    if (upload_mine(r, id, &u, false) < 0)
        return -1;
    if (u.importing || offset != u.received)
        return req_fail(r, 409, "offset_mismatch", NULL, _("The upload is at byte %lld, not %lld."),
                        u.received, offset);
    if (offset + r->content_length > u.length)
        return req_fail(r, 413, "upload_too_large", NULL,
                        _("The chunk goes past the announced Upload-Length."));
    int lock = chunk_lock(r, id);
    if (lock < 0)
        return -1;
    struct chunk_row c = { 0 };
    long long received = -1;
    /* Read again under the lock: the PATCH before ours may have moved it. */
    if (chunk_row_load(r, id, &c) < 0)
        goto out;
    if (offset != c.received) {
        req_fail(r, 409, "offset_mismatch", NULL, _("The upload is at byte %lld, not %lld."),
                 c.received, offset);
        goto out;
    }
    if ((received = chunk_write(r, id, &c)) < 0)
        goto out;
    char text[32];
    snprintf(text, sizeof text, "%lld", received);
    resp_header(r, "Upload-Offset", text);
    if (received == c.length) {
        json_t *args = json_pack("{s:I}", "upload_id", (json_int_t)id);
        json_t *done = helper_call(r, "upload.finish", args);
        json_decref(args);
        if (!done)
            goto out;
        snprintf(text, sizeof text, "%lld",
                 (long long)json_integer_value(json_object_get(done, "job_id")));
        resp_header(r, "Upload-Job", text);
        json_decref(done);
    } else {
        set_expires_header(r, id);
    }
    r->status = 204;
out:
    g_free(c.hash_state);
    close(lock);   /* after the row is updated: the next PATCH sees it */
    return r->err.status ? -1 : 0;
}

/* Ends the caller's unfinished upload id and removes its file. */
static int upload_discard(struct req *r, long long id)
{
    struct upload_row u;
    if (upload_mine(r, id, &u, false) < 0)
        return -1;
    if (u.importing)
        return req_fail(r, 409, "upload_complete", NULL, _("This upload is complete."));
    json_t *args = json_pack("{s:I}", "upload_id", (json_int_t)id);
    json_t *done = helper_call(r, "upload.delete", args);
    json_decref(args);
    json_decref(done);
    return done ? 0 : -1;
}

static int tus_delete(struct req *r)
{
    if (tus_check_version(r) < 0 || upload_discard(r, req_param(r, "id")->num) < 0)
        return -1;
    r->status = 204;
    return 0;
}

/* The page's "Discard" button. */
static int uploads_discard_form(struct req *r)
{
    if (upload_discard(r, req_param(r, "id")->num) < 0)
        return -1;
    r->location = g_strdup("/uploads");
    return 0;
}

/* The upload page: the form and tus-js-client (static/js/upload.js), and
 * the caller's unfinished uploads, to resume (choosing the same file
 * again) or discard. */
static int uploads_page(struct req *r)
{
    struct db_rows *rows = db_query(
        "SELECT id, filename, kind, received_bytes, length_bytes, "
        "FLOOR(received_bytes * 100 / GREATEST(length_bytes, 1)), "
        "DATE_FORMAT(expires_at, '%Y-%m-%dT%TZ') FROM uploads WHERE owner_id = ? AND "
        "state = 'uploading' AND expires_at > UTC_TIMESTAMP() ORDER BY id DESC LIMIT 50",
        DB_INT(r->user->id));
    if (!rows)
        return fail_db(r);
    json_t *unfinished = json_array();
    for (int i = 0; i < rows->nrows; i++)
        json_array_append_new(unfinished, json_pack(
            "{s:I, s:s, s:s, s:I, s:I, s:I, s:s}", "id", (json_int_t)db_cell_int(rows, i, 0, 0),
            "filename", db_cell(rows, i, 1), "kind", db_cell(rows, i, 2),
            "received_bytes", (json_int_t)db_cell_int(rows, i, 3, 0),
            "length_bytes", (json_int_t)db_cell_int(rows, i, 4, 0),
            "percent", (json_int_t)db_cell_int(rows, i, 5, 0), "expires_at", db_cell(rows, i, 6)));
    db_rows_free(rows);
    /* Administrators may put a template in a file-backed storage pool. */
    json_t *pools = json_array();
    rows = r->user->role == ROLE_ADMIN
               ? db_query("SELECT id, name FROM storage_pools WHERE type IN ('dir', 'netfs') "
                          "ORDER BY name")
               : NULL;
    for (int i = 0; rows && i < rows->nrows; i++)
        json_array_append_new(pools, json_pack("{s:I, s:s}", "id",
                                               (json_int_t)db_cell_int(rows, i, 0, 0), "name",
                                               db_cell(rows, i, 1)));
    db_rows_free(rows);
    r->data = json_pack("{s:I, s:o, s:b, s:o}", "max_bytes", (json_int_t)max_upload_bytes(),
                        "unfinished", unfinished, "has_storage_pools", json_array_size(pools) > 0,
                        "storage_pools", pools);
    return 0;
}

static const struct route routes[] = {
    { "GET", "/uploads", uploads_page, PERM_USER, ROUTE_PAGE, "uploads.tpl", N_("Upload an image") },
    { "OPTIONS", "/uploads", tus_options, PERM_ANON, ROUTE_API,
      .summary = "tus: the protocol versions and extensions we speak", .reply = REPLY_EMPTY },
    { "POST", "/uploads", tus_create, PERM_USER, ROUTE_API, NULL, NULL, NULL, "upload.create",
      .summary = "tus: start an upload (Upload-Length, Upload-Metadata)", .reply = REPLY_CREATED,
      .statuses = STATUSES(400, 403, 409, 412, 413, 422, 502) },
    { "GET", "/uploads/{id:int}", tus_head, PERM_USER, ROUTE_API,
      .summary = "An upload and its progress (tus HEAD gives the offset)", .reply = REPLY_OBJECT,
      .statuses = STATUSES(404, 412) },
    { "PATCH", "/uploads/{id:int}", tus_patch, PERM_USER, ROUTE_API, NULL, NULL, NULL,
      "upload.append",
      .summary = "tus: send a chunk (Upload-Offset; application/offset+octet-stream)", .reply = REPLY_EMPTY,
      .statuses = STATUSES(400, 404, 409, 411, 412, 413, 415, 422, 423, 460, 502) },
    { "DELETE", "/uploads/{id:int}", tus_delete, PERM_USER, ROUTE_API, NULL, NULL, NULL,
      "upload.delete",
      .summary = "tus: abort an upload", .reply = REPLY_EMPTY,
      .statuses = STATUSES(404, 409, 412, 422, 502) },
    { "POST", "/uploads/{id:int}/delete", uploads_discard_form, PERM_USER, ROUTE_PAGE, NULL, NULL,
      NULL, "upload.delete" },
    { NULL },
};

int main(int argc, char **argv)
{
    return app_run(argv[0], routes);
}
