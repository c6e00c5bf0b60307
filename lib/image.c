#include "image.h"

#include <errno.h>
#include <glib.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>

#include "i18n.h"

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
    EVP_MD_CTX *m = md5 ? EVP_MD_CTX_new() : NULL, *s = EVP_MD_CTX_new();
    unsigned char *buf = g_malloc(READ_BLOCK);
    int rc = 0, last = -1;
    long long done = 0;
    if (m)
        EVP_DigestInit_ex(m, EVP_md5(), NULL);
    EVP_DigestInit_ex(s, EVP_sha256(), NULL);
    posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
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
        if (m)
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
        if (m) {
            EVP_DigestFinal_ex(m, digest, &len);
            hex(digest, len, md5);
        }
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

/* --- disk images: self-contained, or refused ----------------------------- */

static const char msg_backing[] =
    N_("The image depends on a backing file; upload a standalone image.");
static const char msg_data_file[] =
    N_("The image keeps its data in an external data file; upload a self-contained image.");
static const char msg_descriptor[] =
    N_("The VMDK is a descriptor that refers to other files; upload a single-file VMDK "
       "(monolithicSparse or streamOptimized).");
static const char msg_subformat[] =
    N_("Only single-file VMDKs (monolithicSparse or streamOptimized) are accepted.");
static const char msg_external[] =
    N_("The image refers to a file outside itself; upload a self-contained image.");
static const char msg_unreadable[] =
    N_("qemu-img cannot read the image: it is damaged, or refers to files outside itself.");

static bool starts_with(const unsigned char *head, size_t n, const char *magic, size_t len)
{
    return n >= len && !memcmp(head, magic, len);
}

/* A VMDK text descriptor: "# Disk DescriptorFile", or text naming a
 * createType (the comment is optional). */
static bool vmdk_descriptor(const unsigned char *head, size_t n)
{
    size_t i = 0;
    while (i < n && (head[i] == ' ' || head[i] == '\t' || head[i] == '\r' || head[i] == '\n'))
        i++;
    if (starts_with(head + i, n - i, "# Disk DescriptorFile", 21))
        return true;
    for (size_t j = 0; j < n; j++)
        if (head[j] == 0)
            return false;
    return g_strstr_len((const char *)head, (gssize)n, "createType") != NULL;
}

const char *image_sniff_format(const unsigned char *head, size_t n)
{
    if (starts_with(head, n, "QFI\xfb", 4))
        return "qcow2";
    if (starts_with(head, n, "KDMV", 4) || starts_with(head, n, "COWD", 4))
        return "vmdk";
    if (vmdk_descriptor(head, n))
        return "vmdk-descriptor";
    return "raw";
}

int image_check_head(const unsigned char *head, size_t n, const char *declared, struct err *err)
{
    const char *found = image_sniff_format(head, n);
    if (!strcmp(found, "vmdk-descriptor")) {
        if (!strcmp(declared, "vmdk"))
            return err_set(err, 422, "external_file", NULL, "%s", msg_descriptor);
        /* Taken as raw it is only text; as its own format it would open files. */
        if (strcmp(declared, "raw"))
            return err_set(err, 422, "format_mismatch", "format",
                           "The image is a vmdk descriptor, not %s as declared.", declared);
        return 0;
    }
    if (strcmp(found, declared))
        return err_set(err, 422, "format_mismatch", "format",
                       "The image is %s, not %s as declared.", found, declared);
    return 0;
}

/* Whether node, anywhere inside, names a file other than self: a backing
 * file, an external data file, an extent or child elsewhere, a json: or
 * protocol filename. The kind found ("backing", "data_file", "external"),
 * or NULL. */
static const char *refers_outside(json_t *node, const char *self)
{
    if (json_is_string(node))
        return g_str_has_prefix(json_string_value(node), "json:") ? "external" : NULL;
    if (json_is_array(node)) {
        size_t i;
        json_t *v;
        json_array_foreach(node, i, v) {
            const char *kind = refers_outside(v, self);
            if (kind)
                return kind;
        }
        return NULL;
    }
    if (!json_is_object(node))
        return NULL;
    const char *key;
    json_t *v;
    json_object_foreach(node, key, v) {
        if (g_str_has_prefix(key, "backing") || !strcmp(key, "full-backing-filename"))
            return "backing";
        if (g_str_has_prefix(key, "data-file"))
            return "data_file";
        if (!strcmp(key, "filename") && (!json_is_string(v) || strcmp(json_string_value(v), self)))
            return "external";
        const char *kind = refers_outside(v, self);
        if (kind)
            return kind;
    }
    return NULL;
}

int image_check_disk(json_t *info, const char *declared, const char *self, struct err *err)
{
    const char *format = json_string_value(json_object_get(info, "format"));
    json_int_t size = json_integer_value(json_object_get(info, "virtual-size"));
    const char *kind = refers_outside(info, self);
    if (kind && !strcmp(kind, "backing"))
        return err_set(err, 422, "backing_file", NULL, "%s", msg_backing);
    if (kind && !strcmp(kind, "data_file"))
        return err_set(err, 422, "data_file", NULL, "%s", msg_data_file);
    if (kind)
        return err_set(err, 422, "external_file", NULL, "%s", msg_external);
    if (!format || strcmp(format, declared))
        return err_set(err, 422, "format_mismatch", "format",
                       "The image is %s, not %s as declared.", format ? format : "unknown",
                       declared);
    if (!strcmp(format, "vmdk")) {
        json_t *data = json_object_get(json_object_get(info, "format-specific"), "data");
        const char *type = json_string_value(json_object_get(data, "create-type"));
        json_t *extents = json_object_get(data, "extents");
        if (!type || (strcmp(type, "monolithicSparse") && strcmp(type, "streamOptimized")) ||
            !json_is_array(extents) || json_array_size(extents) != 1)
            return err_set(err, 422, "vmdk_subformat", NULL, "%s", msg_subformat);
    }
    if (size <= 0)
        return err_set(err, 422, "not_an_image", NULL, "The image has no size.");
    return 0;
}

json_t *image_inspect(struct sandbox *sb, const char *declared, struct err *err)
{
    unsigned char head[4096];
    int fd = open(sandbox_image_path(sb), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    ssize_t n = fd >= 0 ? pread(fd, head, sizeof head, 0) : -1;
    if (fd >= 0)
        close(fd);
    if (n < 0) {
        err_set(err, 503, "storage_error", NULL, "The file cannot be read.");
        return NULL;
    }
    if (image_check_head(head, (size_t)n, declared, err) < 0)
        return NULL;
    char *argv[] = { "qemu-img", "info", "-f", (char *)declared, "--output=json",
                     SANDBOX_IMAGE, NULL };
    const struct sandbox_limits limits = { .cpu_s = 30, .as_bytes = 1LL << 30, .fsize_bytes = -1 };
    char *out = NULL;
    int status = sandbox_run(sb, &limits, argv, &out, NULL, NULL, err);
    json_t *info = status == 0 && out ? json_loads(out, 0, NULL) : NULL;
    g_free(out);
    if (status < 0)
        return NULL;
    if (!json_is_object(info)) {
        json_decref(info);
        err_set(err, 422, "not_an_image", NULL, "%s", msg_unreadable);
        return NULL;
    }
    if (image_check_disk(info, declared, SANDBOX_IMAGE, err) < 0) {
        json_decref(info);
        return NULL;
    }
    return info;
}

const char *image_iso_arch_of(const char *report)
{
    bool x86 = false, arm = false;
    gchar **lines = g_strsplit(report ? report : "", "\n", -1);
    for (gchar **line = lines; *line; line++) {
        /* "El Torito boot img :   1  BIOS  y   none ...": BIOS is x86's. */
        if (g_str_has_prefix(*line, "El Torito boot img") && strstr(*line, " BIOS "))
            x86 = true;
        /* -find prints each path quoted: '/EFI/boot/bootaa64.efi' */
        char *name = g_ascii_strdown(*line, -1);
        g_strchomp(name);
        if (g_str_has_suffix(name, "/bootaa64.efi'"))
            arm = true;
        if (g_str_has_suffix(name, "/bootx64.efi'") || g_str_has_suffix(name, "/bootia32.efi'"))
            x86 = true;
        g_free(name);
    }
    g_strfreev(lines);
    return x86 == arm ? "" : x86 ? "x86_64" : "aarch64";
}

const char *image_iso_arch(struct sandbox *sb, struct err *err)
{
    /* Only the names of .efi files anywhere, and the boot catalogue: no
     * file's content is read. -return_with SORRY 0: a damaged tree still
     * tells what it can. */
    char *argv[] = { "xorriso", "-no_rc", "-abort_on", "FATAL", "-return_with", "SORRY", "0",
                     "-indev", SANDBOX_IMAGE, "-report_el_torito", "plain",
                     "-find", "/", "-type", "f", "-name", "*.[Ee][Ff][Ii]", "--", NULL };
    const struct sandbox_limits limits = { .cpu_s = 30, .as_bytes = 1LL << 30, .fsize_bytes = -1 };
    char *out = NULL;
    int status = sandbox_run(sb, &limits, argv, &out, NULL, NULL, err);
    const char *arch = status < 0 ? NULL : image_iso_arch_of(status == 0 ? out : "");
    g_free(out);
    return arch;
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
