#define _GNU_SOURCE
#include "import.h"

#include <fcntl.h>
#include <glib.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "db.h"
#include "digest_state.h"
#include "image.h"
#include "job.h"
#include "library.h"
#include "log.h"
#include "ops/storage.h"
#include "ova.h"
#include "pool.h"
#include "pool_file.h"
#include "rbac.h"
#include "sandbox.h"
#include "token.h"
#include "upload.h"
#include "virt.h"

/* A finished upload, as its row says. */
struct upload {
    long long id;
    long long owner_id;
    char *kind, *filename, *name, *format, *arch, *category, *os, *visibility;
    long long length;
    char *hash_state;   /* MD5 and SHA-256 as vmm-uploads computed them */
    long long pool_id;   /* a volume's storage pool */
};

static void upload_free(struct upload *u)
{
    if (!u)
        return;
    g_free(u->kind);
    g_free(u->filename);
    g_free(u->name);
    g_free(u->format);
    g_free(u->arch);
    g_free(u->category);
    g_free(u->os);
    g_free(u->visibility);
    g_free(u->hash_state);
    g_free(u);
}

static struct upload *upload_get(long long id)
{
    struct db_rows *rows = db_query(
        "SELECT id, owner_id, kind, filename, name, format, arch, category, os, visibility, "
        "length_bytes, hash_state, pool_id FROM uploads WHERE id = ?", DB_INT(id));
    struct upload *u = NULL;
    if (rows && rows->nrows == 1) {
        u = g_new0(struct upload, 1);
        u->id = db_cell_int(rows, 0, 0, 0);
        u->owner_id = db_cell_int(rows, 0, 1, 0);
        u->kind = g_strdup(db_cell(rows, 0, 2));
        u->filename = g_strdup(db_cell(rows, 0, 3));
        u->name = g_strdup(db_cell(rows, 0, 4));
        u->format = g_strdup(db_cell(rows, 0, 5));
        u->arch = g_strdup(db_cell(rows, 0, 6));
        u->category = g_strdup(db_cell(rows, 0, 7));
        u->os = g_strdup(db_cell(rows, 0, 8));
        u->visibility = g_strdup(db_cell(rows, 0, 9));
        u->length = db_cell_int(rows, 0, 10, 0);
        u->hash_state = g_strdup(db_cell(rows, 0, 11));
        u->pool_id = db_cell_int(rows, 0, 12, 0);
    }
    db_rows_free(rows);
    return u;
}

/* The name asked for, else the package's own, else the file's name. */
static const char *upload_display_name(const struct upload *u, const char *package_name)
{
    if (u->name[0])
        return u->name;
    if (package_name && package_name[0])
        return package_name;
    return u->filename[0] ? u->filename : "upload";
}

static bool job_tick(void *ctx, int percent)
{
    return job_progress(ctx, percent);
}

/* A fresh name inside a pool: "<prefix>-<16 hex>.<ext>". */
static char *fresh_name(const char *prefix, const char *ext)
{
    char token[TOKEN_HEX_LEN + 1];
    token_new(token);
    return g_strdup_printf("%s-%.16s.%s", prefix, token, ext);
}

static char *pool_dir_of(const char *kind)
{
    char *dir = g_strdup_printf("%s/%s", config_str("helper", "pool_dir", "/var/lib/vmm"), kind);
    g_mkdir_with_parents(dir, 0711);
    return dir;
}

/* Moves a file we made into a pool directory, root's and private (QEMU
 * reads it through libvirt; templates nginx too: lib/pool_file.h). */
static int move_into(const char *from, const char *kind, const char *name, struct err *err)
{
    g_free(pool_dir_of(kind));
    char *to = pool_path(kind, name);
    /* A renamed first chunk is still nginx's file: make it ours. */
    int rc = rename(from, to) == 0 && pool_file_protect(to, !strcmp(kind, "templates")) == 0 ? 0 : -1;
    if (rc < 0) {
        unlink(to);
        err_set(err, 503, "storage_error", NULL, "The image could not be stored.");
    }
    g_free(to);
    return rc;
}

static void pool_refresh(const char *kind)
{
    struct err err = { 0 };
    virConnectPtr conn = virt_conn(&err);
    virStoragePoolPtr pool = conn ? pool_get(conn, kind, &err) : NULL;
    if (pool) {
        virStoragePoolRefresh(pool, 0);
        virStoragePoolFree(pool);
    }
    if (conn)
        virConnectClose(conn);
}

/* The structure check of an ISO (sector 16 on), and its digests: those
 * computed as the bytes arrived, which must cover exactly the file; only
 * an upload without them (a state another OpenSSL wrote) is read again. */
static int iso_check(const struct upload *u, const char *part, struct iso_info *info,
                     struct job *job, struct err *err)
{
    int fd = open(part, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        if (fd >= 0)
            close(fd);
        return err_set(err, 503, "storage_error", NULL, "The file cannot be read.");
    }
    memset(info, 0, sizeof *info);
    info->size_bytes = st.st_size;
    int rc = 0;
    struct digest_state *d = NULL;
    if (!image_is_iso(fd, info->label)) {
        rc = err_set(err, 422, "not_an_iso", NULL, "The file is not an ISO 9660 or UDF image.");
    } else if ((d = digest_state_load(u->hash_state, st.st_size))) {
        digest_state_final(d, info->md5, info->sha256);
    } else {
        log_warn("upload %lld: no digests kept, reading the file again", u->id);
        rc = image_digests(fd, info->md5, info->sha256, job_tick, job, err);
    }
    digest_state_free(d);
    close(fd);
    return rc;
}

/* Moves the checked ISO into its pool, by way of the sandbox when its
 * architecture is to be detected (*arch: "x86_64", "aarch64" or "" when
 * the ISO does not show it): xorriso reads it there, never as root. */
static int iso_store(const char *part, const char *file_name, const char **arch, struct err *err)
{
    if (!arch)
        return move_into(part, "isos", file_name, err);
    struct sandbox *sb = sandbox_new(err);
    int rc = sb && sandbox_adopt(sb, part, false, err) == 0 ? 0 : -1;
    if (rc == 0 && !(*arch = image_iso_arch(sb, err)))
        rc = -1;
    g_free(pool_dir_of("isos"));
    char *to = pool_path("isos", file_name);
    if (rc == 0 && (sandbox_release(sb, to, err) < 0 || pool_file_protect(to, false) < 0)) {
        unlink(to);
        rc = err->status ? -1 : err_set(err, 503, "storage_error", NULL, "The image could not be stored.");
    }
    g_free(to);
    sandbox_free(sb);
    return rc;
}

static int import_iso(struct job *job, const struct upload *u, const char *part, struct err *err)
{
    char *file_name = fresh_name("iso", "iso");
    long long iso_id = 0;
    struct iso_info info;
    int rc = -1;
    if (db_exec_id("INSERT INTO isos (name, file_name, size_bytes, md5, sha256, visibility, "
                   "owner_id, status) VALUES (LEFT(?, 128), ?, ?, '', '', ?, ?, 'importing')",
                   &iso_id, DB_TEXT(upload_display_name(u, NULL)), DB_TEXT(file_name), DB_INT(u->length),
                   DB_TEXT(u->visibility), DB_INT(u->owner_id)) < 0) {
        err_set(err, 503, "database_unavailable", NULL, "The database is not available.");
        goto out;
    }
    const char *arch = u->arch;
    rc = iso_check(u, part, &info, job, err);
    if (rc == 0)
        rc = iso_store(part, file_name, arch[0] ? NULL : &arch, err);
    if (rc == 0 &&
        db_exec("UPDATE isos SET size_bytes = ?, md5 = ?, sha256 = ?, volume_label = ?, "
                "arch = ?, status = 'ready' WHERE id = ?", DB_INT(info.size_bytes),
                DB_TEXT(info.md5), DB_TEXT(info.sha256), DB_TEXT(info.label),
                DB_TEXT(arch[0] ? arch : "x86_64"), DB_INT(iso_id)) < 0)
        rc = err_set(err, 503, "database_unavailable", NULL, "The database is not available.");
    if (rc != 0) {
        char *path = pool_path("isos", file_name);
        unlink(path);
        g_free(path);
        db_exec("DELETE FROM isos WHERE id = ?", DB_INT(iso_id));
        goto out;
    }
    job_target(job->id, "iso", iso_id, upload_display_name(u, NULL));
    json_t *result = json_pack("{s:I}", "iso_id", (json_int_t)iso_id);
    job_result(job, result);
    json_decref(result);
out:
    g_free(file_name);
    return rc == 1 ? JOB_CANCELLED : rc;
}

/* A sandboxed step of an import: the job's percent meanwhile, and whether
 * the job is still wanted (asked about once a second). */
struct tick {
    struct job *job;
    int percent;
};

static bool tick_job(void *ctx)
{
    struct tick *t = ctx;
    return job_progress(t->job, t->percent);
}

/* A program installed next to the helper (vmm-ova), by absolute path. */
static char *sibling(const char *program)
{
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        return g_strdup(program);
    self[n] = '\0';
    char *dir = g_path_get_dirname(self);
    char *path = g_build_filename(dir, program, NULL);
    g_free(dir);
    return path;
}

/* AddressSanitizer reserves terabytes of address space: a sanitized build
 * of our own reader goes without RLIMIT_AS (its CPU, file and process
 * limits stay). qemu-img is Debian's and always has it. */
#if defined(__SANITIZE_ADDRESS__)
#define OVA_AS_BYTES (-1)
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define OVA_AS_BYTES (-1)
#endif
#endif
#ifndef OVA_AS_BYTES
#define OVA_AS_BYTES (1LL << 30)
#endif

/* The OVA in the sandbox: vmm-ova reads the OVF and writes the first disk
 * it names to out/disk, which then becomes the sandbox's image. The disk
 * cannot be larger than its package. */
static int unpack_ova(struct sandbox *sb, long long package_bytes, struct ovf_info *ovf,
                      struct tick *t, struct err *err)
{
    char *program = sibling("vmm-ova");
    char *argv[] = { program, SANDBOX_IMAGE, "out/disk", NULL };
    const struct sandbox_limits limits = { .cpu_s = 600, .as_bytes = OVA_AS_BYTES,
                                           .fsize_bytes = package_bytes + 1 };
    char *out = NULL;
    int status = sandbox_run(sb, &limits, argv, &out, tick_job, t, err);
    g_free(program);
    json_t *answer = status >= 0 && out ? json_loads(out, 0, NULL) : NULL;
    json_t *error = json_object_get(answer, "error");
    const char *format = json_string_value(json_object_get(answer, "disk_format"));
    int rc = -1;
    g_free(out);
    if (status < 0)
        goto out;
    if (json_is_object(error)) {
        int code = (int)json_integer_value(json_object_get(error, "status"));
        const char *message = json_string_value(json_object_get(error, "message"));
        const char *name = json_string_value(json_object_get(error, "code"));
        err_set(err, code == 507 ? 507 : 422, name && *name ? name : "bad_ova", NULL, "%s",
                message ? message : "The OVA package could not be read.");
        goto out;
    }
    if (status != 0 || !format ||
        (strcmp(format, "vmdk") && strcmp(format, "qcow2") && strcmp(format, "raw"))) {
        err_set(err, 422, "bad_ova", NULL, "The OVA package could not be read.");
        goto out;
    }
    const char *name = json_string_value(json_object_get(answer, "name"));
    g_strlcpy(ovf->name, name ? name : "", sizeof ovf->name);
    ovf->vcpus = json_integer_value(json_object_get(answer, "vcpus"));
    ovf->memory_mb = json_integer_value(json_object_get(answer, "memory_mb"));
    g_strlcpy(ovf->disk_format, format, sizeof ovf->disk_format);
    ovf->n_disks = (int)json_integer_value(json_object_get(answer, "disks"));
    ovf->disk_capacity = json_integer_value(json_object_get(answer, "disk_capacity"));
    const char *firmware = json_string_value(json_object_get(answer, "firmware"));
    g_strlcpy(ovf->firmware, firmware && !strcmp(firmware, "efi") ? "efi" : "bios",
              sizeof ovf->firmware);
    ovf->n_nics = (int)json_integer_value(json_object_get(answer, "nic_count"));
    size_t i;
    json_t *nic;
    json_array_foreach(json_object_get(answer, "nics"), i, nic) {
        if (i >= OVF_MAX_NICS)
            break;
        const char *v;
        if ((v = json_string_value(json_object_get(nic, "name"))))
            g_strlcpy(ovf->nics[i].name, v, sizeof ovf->nics[i].name);
        if ((v = json_string_value(json_object_get(nic, "network"))))
            g_strlcpy(ovf->nics[i].network, v, sizeof ovf->nics[i].network);
        if ((v = json_string_value(json_object_get(nic, "model"))))
            g_strlcpy(ovf->nics[i].model, v, sizeof ovf->nics[i].model);
    }
    rc = sandbox_claim(sb, "disk", err);
out:
    json_decref(answer);
    return rc;
}

/* `qemu-img check`: 0 clean, 3 leaked clusters only (harmless), 63 no
 * check for this format; anything else is a damaged or truncated image
 * (a vmdk cut short converts "fine", reading zeros past its end). */
static int check_disk(struct sandbox *sb, const char *format, struct tick *t, struct err *err)
{
    char *argv[] = { "qemu-img", "check", "-q", "-f", (char *)format, SANDBOX_IMAGE, NULL };
    const struct sandbox_limits limits = { .cpu_s = 600, .as_bytes = 2LL << 30, .fsize_bytes = -1 };
    int status = sandbox_run(sb, &limits, argv, NULL, tick_job, t, err);
    if (status < 0)
        return -1;
    if (status != 0 && status != 3 && status != 63)
        return err_set(err, 422, "bad_image", NULL, "The %s image is truncated or damaged.",
                       format);
    return 0;
}

/* vmdk (or, for a VM's disk, raw) becomes qcow2, written by qemu-img in
 * the sandbox (at most a little over the virtual size), then judged again
 * as any qcow2 would be. */
static int convert_to_qcow2(struct sandbox *sb, const char *from, long long virtual_size,
                            struct tick *t, struct err *err)
{
    char *argv[] = { "qemu-img", "convert", "-q", "-f", (char *)from, "-O", "qcow2",
                     SANDBOX_IMAGE, "out/disk.qcow2", NULL };
    const struct sandbox_limits limits = {
        .cpu_s = 3600, .as_bytes = 2LL << 30,
        .fsize_bytes = virtual_size + virtual_size / 8 + (64LL << 20),
    };
    int status = sandbox_run(sb, &limits, argv, NULL, tick_job, t, err);
    if (status < 0)
        return -1;
    if (status != 0)
        return err_set(err, 422, "bad_image", NULL,
                       "The %s image could not be converted: it is truncated or damaged.", from);
    if (sandbox_claim(sb, "disk.qcow2", err) < 0)
        return -1;
    json_t *info = image_inspect(sb, "qcow2", err);
    json_decref(info);
    return info ? 0 : -1;
}

/* Removes a template's file: from the storage pool pool_id (with the
 * pool's deadline; a failure is logged), else from the helper's pool. */
static void template_file_remove(long long pool_id, const char *file_name)
{
    if (pool_id) {
        struct err err = { 0 };
        if (storage_volume_remove(pool_id, file_name, &err) < 0)
            log_warn("template file %s left in storage pool %lld: %s", file_name, pool_id,
                     err.message);
        return;
    }
    char *path = pool_path("templates", file_name);
    unlink(path);
    g_free(path);
    pool_refresh("templates");
}

/* The sandbox's image judged as every disk of a user is (self-contained,
 * of the declared format, qemu-img check) and, for vmdk (and raw when
 * raw_too), converted to qcow2 there; its virtual size in *virtual_size.
 * The format it is now stored in ("qcow2" or "raw"), or NULL with err set. */
static const char *judge_disk(struct sandbox *sb, const char *declared, bool raw_too,
                              struct job *job, long long *virtual_size, struct err *err)
{
    struct tick t = { job, 20 };
    job_progress(job, 20);
    json_t *info = image_inspect(sb, declared, err);
    if (!info)
        return NULL;
    *virtual_size = json_integer_value(json_object_get(info, "virtual-size"));
    json_decref(info);
    t.percent = 30;
    if (strcmp(declared, "raw") && check_disk(sb, declared, &t, err) < 0)
        return NULL;
    t.percent = 40;
    bool convert = !strcmp(declared, "vmdk") || (raw_too && !strcmp(declared, "raw"));
    if (convert && convert_to_qcow2(sb, declared, *virtual_size, &t, err) < 0)
        return NULL;
    return !strcmp(declared, "raw") && !convert ? "raw" : "qcow2";
}

/* Where a judged disk goes: a volume of the storage pool pool_id (issue
 * 12, with the pool's deadline; length: the upload's bytes), else
 * pool_dir/kind. served: nginx sends it to downloaders (lib/pool_file.h). */
struct disk_dest {
    long long pool_id;
    const char *kind;
    long long length;
    bool served;
};

/* The judged disk out of the sandbox to dest under a fresh name
 * "<prefix>-<hex>.<format>" (*file_name, g_free it); its bytes on disk in
 * *size_bytes. The sandbox may be taken by a storage pool's import (*sb
 * then NULL). A disk that cannot be protected is removed again. */
static int store_disk(struct sandbox **sb, const struct disk_dest *dest, const char *prefix,
                      const char *format, char **file_name, long long *size_bytes,
                      struct err *err)
{
    char *path = NULL;
    *file_name = fresh_name(prefix, format);
    int rc;
    if (dest->pool_id) {
        char *pool_dir = storage_pool_dir(dest->pool_id, err);
        path = pool_dir ? library_template_path(*file_name, pool_dir) : NULL;
        g_free(pool_dir);
        rc = path ? storage_volume_import(dest->pool_id, *file_name, dest->length, sb, err) : -1;
    } else {
        g_free(pool_dir_of(dest->kind));
        path = pool_path(dest->kind, *file_name);
        rc = sandbox_release(*sb, path, err);
    }
    if (rc == 0 && pool_file_protect(path, dest->served) < 0) {
        if (dest->pool_id)
            template_file_remove(dest->pool_id, *file_name);
        else
            unlink(path);
        rc = err_set(err, 503, "storage_error", NULL, "The image could not be stored.");
    }
    struct stat st;
    *size_bytes = rc == 0 && stat(path, &st) == 0 ? (long long)st.st_blocks * 512 : 0;
    g_free(path);
    if (rc < 0) {
        g_free(*file_name);
        *file_name = NULL;
    }
    return rc;
}

/* Inspects the upload in a sandbox (an OVA unpacked there first), checks
 * and converts it there, and moves the result into the pool. */
static int import_template(struct job *job, const struct upload *u, const char *part,
                           struct err *err)
{
    struct ovf_info ovf = { 0 };
    struct tick t = { job, 5 };
    const char *declared = u->format, *stored = NULL;
    char *file_name = NULL;
    long long virtual_size = 0, size_bytes = 0;
    int rc = -1;
    struct sandbox *sb = sandbox_new(err);

    if (!sb || sandbox_adopt(sb, part, false, err) < 0)
        goto out;
    if (!strcmp(u->format, "ova")) {
        if (unpack_ova(sb, u->length, &ovf, &t, err) < 0)
            goto out;
        declared = ovf.disk_format;
    }
    /* nginx sends templates to downloaders: lib/pool_file.h. */
    const struct disk_dest dest = { u->pool_id, "templates", u->length, true };
    if (!(stored = judge_disk(sb, declared, false, job, &virtual_size, err)) ||
        store_disk(&sb, &dest, "tpl", stored, &file_name, &size_bytes, err) < 0)
        goto out;
    job_progress(job, 90);

    const char *name = upload_display_name(u, ovf.name);
    long long template_id = 0;
    if (db_exec_id("INSERT INTO templates (name, category, os, arch, format, file_name, "
                   "storage_pool_id, virtual_size_bytes, size_bytes, min_vcpus, min_memory_mb, "
                   "min_disk_gb, description, visibility, owner_id, status) VALUES (LEFT(?, 64), "
                   "?, ?, ?, ?, ?, NULLIF(?, 0), ?, ?, ?, ?, ?, '', ?, ?, 'ready')",
                   &template_id, DB_TEXT(name), DB_TEXT(u->category), DB_TEXT(u->os),
                   DB_TEXT(u->arch[0] ? u->arch : "x86_64"), DB_TEXT(stored), DB_TEXT(file_name),
                   DB_INT(u->pool_id),
                   DB_INT(virtual_size),
                   DB_INT(size_bytes),
                   DB_INT(ovf.vcpus > 0 && ovf.vcpus <= 64 ? ovf.vcpus : 1),
                   DB_INT(ovf.memory_mb >= 16 && ovf.memory_mb <= 1048576 ? ovf.memory_mb : 64),
                   DB_INT((virtual_size + (1LL << 30) - 1) >> 30), DB_TEXT(u->visibility),
                   DB_INT(u->owner_id)) < 0) {
        template_file_remove(u->pool_id, file_name);
        err_set(err, 503, "database_unavailable", NULL, "The database is not available.");
        goto out;
    }
    if (!u->pool_id)
        pool_refresh("templates");
    job_target(job->id, "template", template_id, name);
    json_t *result = json_pack("{s:I}", "template_id", (json_int_t)template_id);
    job_result(job, result);
    json_decref(result);
    rc = 0;
out:
    sandbox_free(sb);
    g_free(file_name);
    return rc < 0 && !strcmp(err->code, "cancelled") ? JOB_CANCELLED : rc;
}

/* Issue 19: what a package may ask of a VM. The create step checks the
 * sizes again against the form's limits, the owner's quota and the host. */
#define OVA_MAX_VCPUS 64
#define OVA_MIN_MEMORY_MB 64
#define OVA_MAX_MEMORY_MB 1048576

static int ova_hardware_check(const struct ovf_info *ovf, struct err *err)
{
    if (ovf->n_disks > 1)
        return err_set(err, 422, "ova_many_disks", NULL,
                       "The package has %d disks; only a package with one disk becomes a "
                       "virtual machine.", ovf->n_disks);
    if (ovf->vcpus > OVA_MAX_VCPUS)
        return err_set(err, 422, "ova_absurd_hardware", NULL,
                       "The package asks for %lld virtual CPUs; at most %d.", ovf->vcpus,
                       OVA_MAX_VCPUS);
    if (ovf->memory_mb && (ovf->memory_mb < OVA_MIN_MEMORY_MB || ovf->memory_mb > OVA_MAX_MEMORY_MB))
        return err_set(err, 422, "ova_absurd_hardware", NULL,
                       "The package asks for %lld MiB of memory; %d to %d MiB.", ovf->memory_mb,
                       OVA_MIN_MEMORY_MB, OVA_MAX_MEMORY_MB);
    if (ovf->n_nics > OVF_MAX_NICS)
        return err_set(err, 422, "ova_absurd_hardware", NULL,
                       "The package has %d network adapters; at most %d.", ovf->n_nics,
                       OVF_MAX_NICS);
    return 0;
}

static json_t *ova_nics_json(const struct ovf_info *ovf)
{
    json_t *nics = json_array();
    for (int i = 0; i < ovf->n_nics && i < OVF_MAX_NICS; i++)
        json_array_append_new(nics, json_pack("{s:s, s:s, s:s}", "name", ovf->nics[i].name,
                                              "network", ovf->nics[i].network, "model",
                                              ovf->nics[i].model));
    return nics;
}

/* Issue 19: an OVA to become a VM. Unpacked and judged as a template
 * would be; its hardware checked; its disk staged in pool_dir/ova-imports
 * and what it asks for recorded for the review step (GET
 * /vms/imports/{id}). A refused package leaves no row and no file. */
static int import_vm(struct job *job, const struct upload *u, const char *part, struct err *err)
{
    struct ovf_info ovf = { 0 };
    struct tick t = { job, 5 };
    const char *stored = NULL;
    char *file_name = NULL, *nics = NULL;
    long long virtual_size = 0, size_bytes = 0, import_id = 0;
    int rc = -1;
    struct sandbox *sb = sandbox_new(err);
    if (!sb || sandbox_adopt(sb, part, false, err) < 0 ||
        unpack_ova(sb, u->length, &ovf, &t, err) < 0 || ova_hardware_check(&ovf, err) < 0 ||
        !(stored = judge_disk(sb, ovf.disk_format, true, job, &virtual_size, err)) ||
        store_disk(&sb, &(struct disk_dest){ .kind = "ova-imports" }, "ova", stored, &file_name,
                   &size_bytes, err) < 0)
        goto out;
    job_progress(job, 90);
    const char *name = upload_display_name(u, ovf.name);
    json_t *nics_json = ova_nics_json(&ovf);
    nics = json_dumps(nics_json, JSON_COMPACT);
    json_decref(nics_json);
    if (db_exec_id("INSERT INTO ova_imports (owner_id, name, filename, vcpus, memory_mb, firmware, "
                   "disk_file, disk_format, source_format, virtual_size_bytes, nics) VALUES (?, "
                   "LEFT(?, 64), LEFT(?, 255), ?, ?, ?, ?, ?, ?, ?, ?)", &import_id,
                   DB_INT(u->owner_id), DB_TEXT(name), DB_TEXT(u->filename),
                   DB_INT(ovf.vcpus > 0 ? ovf.vcpus : 1),
                   DB_INT(ovf.memory_mb > 0 ? ovf.memory_mb : 512), DB_TEXT(ovf.firmware),
                   DB_TEXT(file_name), DB_TEXT(stored), DB_TEXT(ovf.disk_format),
                   DB_INT(virtual_size), DB_TEXT(nics)) < 0) {
        char *path = pool_path("ova-imports", file_name);
        unlink(path);
        g_free(path);
        err_set(err, 503, "database_unavailable", NULL, "The database is not available.");
        goto out;
    }
    job_target(job->id, "ova_import", import_id, name);
    json_t *result = json_pack("{s:I, s:s}", "ova_import_id", (json_int_t)import_id, "review",
                               "");
    char *review = g_strdup_printf("/vms/imports/%lld", import_id);
    json_object_set_new(result, "review", json_string(review));
    g_free(review);
    job_result(job, result);
    json_decref(result);
    rc = 0;
out:
    sandbox_free(sb);
    g_free(file_name);
    free(nics);
    return rc < 0 && !strcmp(err->code, "cancelled") ? JOB_CANCELLED : rc;
}

/* A volume for an administrator's storage pool (issue 12): judged as a
 * template is (in the sandbox: self-contained, of the declared format,
 * qemu-img check), then moved into the pool under its name with the pool
 * operations' deadline (a pool whose NFS server is gone fails the job, it
 * does not hang it). */
static int import_volume(struct job *job, const struct upload *u, const char *part,
                         struct err *err)
{
    struct tick t = { job, 30 };
    int rc = -1;
    struct sandbox *sb = sandbox_new(err);
    json_t *info = NULL;
    if (!sb || sandbox_adopt(sb, part, false, err) < 0)
        goto out;
    job_progress(job, 20);
    if (!(info = image_inspect(sb, u->format, err)))
        goto out;
    if (strcmp(u->format, "raw") && check_disk(sb, u->format, &t, err) < 0)
        goto out;
    job_progress(job, 60);
    if (storage_volume_import(u->pool_id, u->name, u->length, &sb, err) < 0)
        goto out;
    job_target(job->id, "storage_pool", u->pool_id, u->name);
    json_t *result = json_pack("{s:I, s:s}", "storage_pool_id", (json_int_t)u->pool_id, "volume",
                               u->name);
    job_result(job, result);
    json_decref(result);
    rc = 0;
out:
    sandbox_free(sb);
    json_decref(info);
    return rc < 0 && !strcmp(err->code, "cancelled") ? JOB_CANCELLED : rc;
}

static int import_job(struct job *job)
{
    struct err err = { 0 };
    struct upload *u = upload_get(job->object_id);
    char *part = u ? upload_take(u->id, u->length, &err) : NULL;
    int rc = -1;
    if (u)
        job_target(job->id, "upload", job->object_id, upload_display_name(u, NULL));
    if (!u)
        err_set(&err, 404, "not_found", NULL, "The upload is gone.");
    else if (!part)
        ;   /* err says why */
    else if (!strcmp(u->kind, "iso"))
        rc = import_iso(job, u, part, &err);
    else if (!strcmp(u->kind, "volume"))
        rc = import_volume(job, u, part, &err);
    else if (!strcmp(u->kind, "vm"))
        rc = import_vm(job, u, part, &err);
    else
        rc = import_template(job, u, part, &err);
    if (rc != 0)
        job_fail_reason(job, rc == JOB_CANCELLED ? "cancelled" : err.code,
                        rc == JOB_CANCELLED ? "Cancelled." : err.message);
    /* Imported or refused, the upload is done with. */
    upload_files_remove(job->object_id);
    db_exec("DELETE FROM uploads WHERE id = ?", DB_INT(job->object_id));
    g_free(part);
    upload_free(u);
    return rc;
}

long long import_start(long long upload_id, long long owner_id, struct err *err)
{
    long long job_id = job_insert("upload.import", owner_id);
    if (job_id < 0 ||
        db_exec("UPDATE uploads SET state = 'importing', job_id = ? WHERE id = ?",
                DB_INT(job_id), DB_INT(upload_id)) < 0 ||
        job_start(job_id, upload_id, owner_id, import_job) < 0) {
        err_set(err, 503, "database_unavailable", NULL, "The import could not be started.");
        return -1;
    }
    return job_id;
}

void import_cleanup_interrupted(void)
{
    /* Issue 19: an import whose VM was being made when the helper stopped
     * goes back to its review (the VM's row is removed as interrupted). */
    db_exec("UPDATE ova_imports o SET o.state = 'review', o.vm_id = NULL WHERE o.state = "
            "'creating' AND NOT EXISTS (SELECT 1 FROM vms v WHERE v.id = o.vm_id AND v.state <> "
            "'creating')");
    struct db_rows *rows = db_query("SELECT id, file_name FROM isos WHERE status = 'importing'");
    for (int i = 0; rows && i < rows->nrows; i++) {
        if (pool_name_valid(db_cell(rows, i, 1))) {
            char *path = pool_path("isos", db_cell(rows, i, 1));
            unlink(path);
            g_free(path);
        }
        db_exec("DELETE FROM isos WHERE id = ?", DB_INT(db_cell_int(rows, i, 0, 0)));
    }
    db_rows_free(rows);
}

/* --- ISOs and templates: ops on their files ----------------------------- */

/* The row's file name and owner; 404 unless the actor owns it or is admin. */
static char *image_owned(const char *table, long long id, const struct user *actor,
                         struct err *err)
{
    char *sql = g_strdup_printf("SELECT file_name, owner_id, status FROM %s WHERE id = ?", table);
    struct db_rows *rows = db_query(sql, DB_INT(id));
    g_free(sql);
    char *file = NULL;
    if (!rows)
        err_set(err, 503, "database_unavailable", NULL, "The database is not available.");
    else if (rows->nrows != 1 || !pool_name_valid(db_cell(rows, 0, 0)))
        err_set(err, 404, "not_found", NULL, "There is no such image.");
    else if (actor->role != ROLE_ADMIN && db_cell_int(rows, 0, 1, 0) != actor->id)
        err_set(err, db_cell(rows, 0, 1) ? 404 : 403, db_cell(rows, 0, 1) ? "not_found" : "forbidden",
                NULL, "You may not change this image.");
    else if (!strcmp(db_cell(rows, 0, 2), "importing"))
        err_set(err, 409, "wrong_state", NULL, "The image is still being imported.");
    else
        file = g_strdup(db_cell(rows, 0, 0));
    db_rows_free(rows);
    return file;
}

static int iso_verify_job(struct job *job)
{
    struct db_rows *rows = db_query("SELECT file_name, md5, sha256, name FROM isos WHERE id = ?",
                                    DB_INT(job->object_id));
    struct err err = { 0 };
    int rc = -1;
    if (!rows || rows->nrows != 1 || !pool_name_valid(db_cell(rows, 0, 0))) {
        job_target(job->id, "iso", job->object_id, NULL);
        job_message(job, "The ISO is gone.");
        db_rows_free(rows);
        return -1;
    }
    job_target(job->id, "iso", job->object_id, db_cell(rows, 0, 3));
    char *path = pool_path("isos", db_cell(rows, 0, 0));
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    char md5[33] = "", sha256[65] = "";
    if (fd < 0)
        err_set(&err, 503, "storage_error", NULL, "The ISO's file is missing.");
    else
        rc = image_digests(fd, md5, sha256, job_tick, job, &err);
    if (fd >= 0)
        close(fd);
    bool match = rc == 0 && !strcmp(md5, db_cell(rows, 0, 1)) && !strcmp(sha256, db_cell(rows, 0, 2));
    if (rc == 0) {
        json_t *result = json_pack("{s:b, s:s, s:s}", "match", match, "md5", md5, "sha256", sha256);
        job_result(job, result);
        json_decref(result);
    }
    if (rc != 1)
        db_exec("UPDATE isos SET status = ? WHERE id = ?", DB_TEXT(match ? "ready" : "failed"),
                DB_INT(job->object_id));
    if (rc == 0 && !match) {
        job_message(job, "The file no longer matches its recorded MD5 and SHA-256.");
        rc = -1;
    } else if (rc < 0) {
        job_message(job, err.message);
    }
    db_rows_free(rows);
    g_free(path);
    return rc == 1 ? JOB_CANCELLED : rc;
}

int iso_op_verify(struct op_call *call)
{
    long long id = json_integer_value(json_object_get(call->args, "iso_id"));
    char *file = image_owned("isos", id, call->actor, &call->err);
    if (!file)
        return -1;
    g_free(file);
    long long job_id = job_insert("iso.verify", call->actor->id);
    if (job_id < 0 || job_start(job_id, id, call->actor->id, iso_verify_job) < 0)
        return err_set(&call->err, 503, "database_unavailable", NULL, "The job could not start.");
    call->result = json_pack("{s:I}", "job_id", (json_int_t)job_id);
    return 0;
}

static int in_use(const char *sql, long long id, json_t **ids, struct err *err)
{
    struct db_rows *rows = db_query(sql, DB_INT(id));
    if (!rows)
        return err_set(err, 503, "database_unavailable", NULL, "The database is not available.");
    *ids = json_array();
    for (int i = 0; i < rows->nrows; i++)
        json_array_append_new(*ids, json_integer(db_cell_int(rows, i, 0, 0)));
    db_rows_free(rows);
    return 0;
}

int iso_op_delete(struct op_call *call)
{
    long long id = json_integer_value(json_object_get(call->args, "iso_id"));
    json_t *vms = NULL;
    char *file = image_owned("isos", id, call->actor, &call->err);
    int rc = -1;
    if (!file || in_use("SELECT id FROM vms WHERE iso_id = ? ORDER BY id", id, &vms, &call->err) < 0)
        goto out;
    if (json_array_size(vms)) {
        err_set(&call->err, 409, "in_use", NULL, "Virtual machines use this ISO.");
        goto out;
    }
    /* The row first: a VM made meanwhile holds it by its foreign key. */
    if (db_exec("DELETE FROM isos WHERE id = ?", DB_INT(id)) < 0) {
        err_set(&call->err, 409, "in_use", NULL, "Virtual machines use this ISO.");
        goto out;
    }
    char *path = pool_path("isos", file);
    unlink(path);
    g_free(path);
    call->result = json_pack("{s:b}", "deleted", 1);
    rc = 0;
out:
    json_decref(vms);
    g_free(file);
    return rc;
}

/* Full clones of template *ctx lose the link; the template's row goes. */
static int template_delete_body(void *ctx)
{
    long long id = *(long long *)ctx;
    if (db_exec("UPDATE vms SET template_id = NULL WHERE template_id = ? AND clone = 'full'",
                DB_INT(id)) < 0 ||
        db_exec("DELETE FROM templates WHERE id = ?", DB_INT(id)) < 0)
        return -1;
    return 0;
}

int template_op_delete(struct op_call *call)
{
    long long id = json_integer_value(json_object_get(call->args, "template_id"));
    json_t *clones = NULL;
    char *file = image_owned("templates", id, call->actor, &call->err);
    struct db_rows *pool = file ? db_query("SELECT COALESCE(storage_pool_id, 0) FROM templates "
                                           "WHERE id = ?", DB_INT(id)) : NULL;
    long long pool_id = db_cell_int(pool, 0, 0, 0);
    db_rows_free(pool);
    int rc = -1;
    if (!file || in_use("SELECT id FROM vms WHERE template_id = ? AND clone = 'linked' ORDER BY id",
                        id, &clones, &call->err) < 0)
        goto out;
    if (json_array_size(clones)) {
        err_set(&call->err, 409, "in_use", NULL, "Linked clones depend on this template.");
        goto out;
    }
    /* Full clones are copies: they keep working, without the link. */
    if (db_transaction(template_delete_body, &id) < 0) {
        err_set(&call->err, 409, "in_use", NULL, "Virtual machines use this template.");
        goto out;
    }
    template_file_remove(pool_id, file);
    call->result = json_pack("{s:b}", "deleted", 1);
    rc = 0;
out:
    json_decref(clones);
    g_free(file);
    return rc;
}

int ova_import_op_discard(struct op_call *call)
{
    long long id = json_integer_value(json_object_get(call->args, "ova_import_id"));
    struct db_rows *rows = db_query("SELECT owner_id, state, disk_file FROM ova_imports WHERE id = ?",
                                    DB_INT(id));
    int rc = -1;
    if (!rows)
        err_set(&call->err, 503, "database_unavailable", NULL, "The database is not available.");
    else if (rows->nrows != 1 || !rbac_may_touch(call->actor, db_cell_int(rows, 0, 0, 0)))
        err_set(&call->err, 404, "not_found", NULL, "There is no such import.");
    else if (strcmp(db_cell(rows, 0, 1), "review"))
        err_set(&call->err, 409, "wrong_state", NULL,
                "A virtual machine is being made from this import.");
    else {
        unsigned long long n = 0;
        if (db_exec_count("DELETE FROM ova_imports WHERE id = ? AND state = 'review'", &n,
                          DB_INT(id)) < 0 || n != 1) {
            err_set(&call->err, 409, "wrong_state", NULL,
                    "A virtual machine is being made from this import.");
        } else {
            if (pool_name_valid(db_cell(rows, 0, 2))) {
                char *path = pool_path("ova-imports", db_cell(rows, 0, 2));
                unlink(path);
                g_free(path);
            }
            call->result = json_pack("{s:b}", "deleted", 1);
            rc = 0;
        }
    }
    db_rows_free(rows);
    return rc;
}
