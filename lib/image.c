#include "image.h"

#include <errno.h>
#include <glib.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>

#define SECTOR 2048
#define READ_BLOCK (4 << 20)

/* ISO 9660 (ECMA-119) and UDF (ECMA-167) both start their descriptors at
 * sector 16: "CD001" in the primary volume descriptor, or a volume
 * recognition sequence "BEA01" ... "NSR02|NSR03" ... "TEA01". */
bool image_is_iso(int fd, char label[33])
{
    unsigned char sector[SECTOR];
    bool iso9660 = false, udf = false;
    label[0] = '\0';
    for (int i = 16; i < 32; i++) {
        if (pread(fd, sector, SECTOR, (off_t)i * SECTOR) != SECTOR)
            break;
        const char *id = (const char *)sector + 1;
        if (!memcmp(id, "CD001", 5)) {
            /* Type 1 is the primary volume descriptor; 255 ends the set. */
            if (sector[0] == 1 && !iso9660) {
                iso9660 = true;
                memcpy(label, sector + 40, 32);
                label[32] = '\0';
                g_strchomp(label);
                /* Labels are d-characters; keep printable ASCII only. */
                for (char *p = label; *p; p++)
                    if (*p < 0x20 || *p > 0x7e)
                        *p = '_';
            }
        } else if (!memcmp(id, "NSR02", 5) || !memcmp(id, "NSR03", 5)) {
            udf = true;
        } else if (memcmp(id, "BEA01", 5) && memcmp(id, "TEA01", 5) &&
                   memcmp(id, "BOOT2", 5) && memcmp(id, "CDW02", 5)) {
            break;
        }
    }
    return iso9660 || udf;
}

static void hex(const unsigned char *bytes, unsigned n, char *out)
{
    for (unsigned i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", bytes[i]);
}

int image_digests(int fd, char md5[33], char sha256[65], image_progress_fn progress, void *ctx,
                  struct err *err)
{
    struct stat st;
    if (fstat(fd, &st) < 0)
        return err_set(err, 503, "storage_error", NULL, "The file cannot be read.");
    EVP_MD_CTX *m = EVP_MD_CTX_new(), *s = EVP_MD_CTX_new();
    unsigned char *buf = g_malloc(READ_BLOCK);
    int rc = 0, last = -1;
    long long done = 0;
    EVP_DigestInit_ex(m, EVP_md5(), NULL);
    EVP_DigestInit_ex(s, EVP_sha256(), NULL);
    for (;;) {
        ssize_t n = pread(fd, buf, READ_BLOCK, done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = err_set(err, 503, "storage_error", NULL, "The file cannot be read.");
            break;
        }
        if (n == 0)
            break;
        EVP_DigestUpdate(m, buf, (size_t)n);
        EVP_DigestUpdate(s, buf, (size_t)n);
        done += n;
        int percent = st.st_size > 0 ? (int)(done * 100 / st.st_size) : 100;
        if (progress && percent != last && !progress(ctx, percent > 100 ? 100 : percent)) {
            rc = 1;
            break;
        }
        last = percent;
    }
    if (rc == 0) {
        unsigned char digest[EVP_MAX_MD_SIZE];
        unsigned len = 0;
        EVP_DigestFinal_ex(m, digest, &len);
        hex(digest, len, md5);
        EVP_DigestFinal_ex(s, digest, &len);
        hex(digest, len, sha256);
    }
    g_free(buf);
    EVP_MD_CTX_free(m);
    EVP_MD_CTX_free(s);
    return rc;
}

int image_iso_inspect(const char *path, struct iso_info *info, image_progress_fn progress,
                      void *ctx, struct err *err)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        if (fd >= 0)
            close(fd);
        return err_set(err, 503, "storage_error", NULL, "The file cannot be read.");
    }
    memset(info, 0, sizeof *info);
    info->size_bytes = st.st_size;
    int rc;
    if (!image_is_iso(fd, info->label))
        rc = err_set(err, 422, "not_an_iso", NULL,
                     "The file is not an ISO 9660 or UDF image.");
    else
        rc = image_digests(fd, info->md5, info->sha256, progress, ctx, err);
    close(fd);
    return rc;
}

json_t *image_qemu_info(const char *path, struct err *err)
{
    char *argv[] = { "qemu-img", "info", "--output=json", (char *)path, NULL };
    char *out = NULL, *errout = NULL;
    int status = -1;
    json_t *info = NULL;
    if (g_spawn_sync(NULL, argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &errout, &status,
                     NULL) && g_spawn_check_wait_status(status, NULL))
        info = json_loads(out, 0, NULL);
    if (!json_is_object(info)) {
        json_decref(info);
        info = NULL;
        err_set(err, 422, "not_an_image", NULL, "qemu-img cannot read the image.");
    }
    g_free(out);
    g_free(errout);
    return info;
}

int image_check_disk(json_t *info, const char *declared, struct err *err)
{
    const char *format = json_string_value(json_object_get(info, "format"));
    json_int_t size = json_integer_value(json_object_get(info, "virtual-size"));
    if (json_object_get(info, "backing-filename") || json_object_get(info, "full-backing-filename"))
        return err_set(err, 422, "backing_file", NULL,
                       "The image depends on a backing file; upload a standalone image.");
    if (!format || strcmp(format, declared))
        return err_set(err, 422, "format_mismatch", "format",
                       "The image is %s, not %s as declared.", format ? format : "unknown",
                       declared);
    if (size <= 0)
        return err_set(err, 422, "not_an_image", NULL, "The image has no size.");
    return 0;
}

int image_file_digest(int fd, const char *algorithm, unsigned char *out, size_t out_size)
{
    const EVP_MD *md = !strcmp(algorithm, "md5")      ? EVP_md5()
                       : !strcmp(algorithm, "sha1")   ? EVP_sha1()
                       : !strcmp(algorithm, "sha256") ? EVP_sha256()
                                                      : NULL;
    if (!md || out_size < (size_t)EVP_MD_get_size(md))
        return -1;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned char *buf = g_malloc(READ_BLOCK);
    off_t at = 0;
    int rc = 0;
    EVP_DigestInit_ex(ctx, md, NULL);
    for (;;) {
        ssize_t n = pread(fd, buf, READ_BLOCK, at);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = -1;
            break;
        }
        if (n == 0)
            break;
        EVP_DigestUpdate(ctx, buf, (size_t)n);
        at += n;
    }
    unsigned len = 0;
    if (rc == 0) {
        EVP_DigestFinal_ex(ctx, out, &len);
        rc = (int)len;
    }
    g_free(buf);
    EVP_MD_CTX_free(ctx);
    return rc;
}
