/* Backups (issue 16): full and incremental, with libvirt's backup API in
 * push mode and its checkpoints. Every backup is made from a running QEMU:
 * a stopped machine is started paused for it (its CPUs never run) and
 * destroyed after, so running and stopped machines share one chain of
 * checkpoints and qcow2 persistent bitmaps, kept by libvirt across
 * restarts of the VM (QEMU flushes the bitmaps on shutdown) - unlike a
 * qemu-img path, which would need our own bitmap bookkeeping beside
 * libvirt's.
 *
 * Backup b writes each disk to the store ([backup] dir) as
 * b<id>-<target>.qcow2 and leaves checkpoint vmm-b<id>; an incremental
 * from parent p asks QEMU for the clusters dirtied since vmm-b<p> only,
 * and its file is then given p's file as backing (qemu-img rebase -u), so
 * any point of a chain reads as the whole disk and restores with one
 * qemu-img convert. When the parent's checkpoint is gone or unusable (a
 * restore replaced the disk, a host crash left the bitmap inconsistent) the
 * backup is demoted to a full one with a note; a failed or cancelled one
 * removes its checkpoint and files, so the next one never meets a stale
 * bitmap. */
#include "backup.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <libxml/tree.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../domain_xml.h"
#include "../job.h"
#include "../pool.h"
#include "../virt.h"
#include "../vm.h"
#include "config.h"
#include "db.h"
#include "image.h"
#include "log.h"
#include "quota.h"
#include "rbac.h"
#include "retention.h"
#include "vm_ref.h"

/* The store: a directory only the helper (and QEMU, to write a target it
 * is handed) reaches; created 0711 so QEMU may pass, never list. */
static const char *store_dir(void)
{
    return config_str("backup", "dir", "/var/lib/vmm/backups");
}

static char *store_path(long long backup_id, const char *target)
{
    return g_strdup_printf("%s/b%lld-%s.qcow2", store_dir(), backup_id, target);
}

static void checkpoint_name(long long backup_id, char *out, size_t size)
{
    snprintf(out, size, "vmm-b%lld", backup_id);
}

/* Removes checkpoint vmm-b<id> from dom if it is there (its bitmap merges
 * into the one before it, so later incrementals stay whole). */
static void checkpoint_drop(virDomainPtr dom, long long backup_id)
{
    char name[32];
    checkpoint_name(backup_id, name, sizeof name);
    virDomainCheckpointPtr cp = dom ? virDomainCheckpointLookupByName(dom, name, 0) : NULL;
    if (cp) {
        if (virDomainCheckpointDelete(cp, 0) < 0)
            virDomainCheckpointDelete(cp, VIR_DOMAIN_CHECKPOINT_DELETE_METADATA_ONLY);
        virDomainCheckpointFree(cp);
    }
    virResetLastError();
}

static bool checkpoint_exists(virDomainPtr dom, long long backup_id)
{
    char name[32];
    checkpoint_name(backup_id, name, sizeof name);
    virDomainCheckpointPtr cp = virDomainCheckpointLookupByName(dom, name, 0);
    virResetLastError();
    if (cp)
        virDomainCheckpointFree(cp);
    return cp != NULL;
}

/* Forgets every checkpoint of dom (metadata only): after a restore the
 * disks no longer hold the bitmaps they name. */
static void checkpoints_forget(virDomainPtr dom)
{
    virDomainCheckpointPtr *list = NULL;
    int n = virDomainListAllCheckpoints(dom, &list, 0);
    for (int i = 0; i < n; i++) {
        virDomainCheckpointDelete(list[i], VIR_DOMAIN_CHECKPOINT_DELETE_METADATA_ONLY);
        virDomainCheckpointFree(list[i]);
    }
    free(list);
    virResetLastError();
}

static void backup_files_remove(long long backup_id)
{
    struct db_rows *rows = db_query("SELECT file_name FROM backup_disks WHERE backup_id = ?",
                                    DB_INT(backup_id));
    for (int i = 0; rows && i < rows->nrows; i++) {
        char *path = g_strdup_printf("%s/%s", store_dir(), db_cell(rows, i, 0));
        g_unlink(path);
        g_free(path);
    }
    db_rows_free(rows);
}

static int run_qemu_img(char **argv, struct err *err)
{
    int status = -1;
    char *errors = NULL;
    if (!g_spawn_sync(NULL, argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL, NULL,
                      NULL, NULL, &errors, &status, NULL) ||
        !g_spawn_check_wait_status(status, NULL)) {
        err_set(err, 503, "storage_error", NULL, "qemu-img %s failed: %s", argv[1],
                errors && *errors ? g_strstrip(errors) : "no reason given");
        g_free(errors);
        return -1;
    }
    g_free(errors);
    return 0;
}

/* SHA-256 of the file at path into out (no MD5: a backup is read whole
 * once more for it, the hash is its cost); 0 or -1 with err. */
static int file_sha256(const char *path, char out[65], struct err *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return err_set(err, 503, "storage_error", NULL, "A backup file cannot be read.");
    int rc = image_digests(fd, NULL, out, NULL, NULL, err);
    close(fd);
    return rc;
}

/* <domainbackup> in push mode: each disk to its file in the store, from
 * checkpoint `incremental` when set. */
static char *backup_xml(long long backup_id, const struct domain_disk *disks, int n,
                        const char *incremental)
{
    xmlDocPtr doc = xmlNewDoc(BAD_CAST "1.0");
    xmlNodePtr root = xmlNewNode(NULL, BAD_CAST "domainbackup");
    xmlDocSetRootElement(doc, root);
    xmlNewProp(root, BAD_CAST "mode", BAD_CAST "push");
    if (incremental)
        xmlNewTextChild(root, NULL, BAD_CAST "incremental", BAD_CAST incremental);
    xmlNodePtr list = xmlNewChild(root, NULL, BAD_CAST "disks", NULL);
    for (int i = 0; i < n; i++) {
        xmlNodePtr disk = xmlNewChild(list, NULL, BAD_CAST "disk", NULL);
        xmlNewProp(disk, BAD_CAST "name", BAD_CAST disks[i].target);
        xmlNewProp(disk, BAD_CAST "backup", BAD_CAST "yes");
        xmlNewProp(disk, BAD_CAST "type", BAD_CAST "file");
        char *path = store_path(backup_id, disks[i].target);
        xmlNewProp(xmlNewChild(disk, NULL, BAD_CAST "target", NULL), BAD_CAST "file",
                   BAD_CAST path);
        g_free(path);
        xmlNewProp(xmlNewChild(disk, NULL, BAD_CAST "driver", NULL), BAD_CAST "type",
                   BAD_CAST "qcow2");
    }
    return xml_doc_string(doc);
}

/* <domaincheckpoint> vmm-b<id>: a bitmap on each qcow2 disk (raw ones
 * cannot hold one). */
static char *checkpoint_xml(long long backup_id, const struct domain_disk *disks, int n)
{
    char name[32];
    checkpoint_name(backup_id, name, sizeof name);
    xmlDocPtr doc = xmlNewDoc(BAD_CAST "1.0");
    xmlNodePtr root = xmlNewNode(NULL, BAD_CAST "domaincheckpoint");
    xmlDocSetRootElement(doc, root);
    xmlNewTextChild(root, NULL, BAD_CAST "name", BAD_CAST name);
    xmlNodePtr list = xmlNewChild(root, NULL, BAD_CAST "disks", NULL);
    for (int i = 0; i < n; i++) {
        xmlNodePtr disk = xmlNewChild(list, NULL, BAD_CAST "disk", NULL);
        xmlNewProp(disk, BAD_CAST "name", BAD_CAST disks[i].target);
        xmlNewProp(disk, BAD_CAST "checkpoint", BAD_CAST(disks[i].qcow2 ? "bitmap" : "no"));
    }
    return xml_doc_string(doc);
}

/* Waits for dom's backup job, reporting progress; 0 when it completed,
 * JOB_CANCELLED when the job was cancelled (QEMU's job aborted), else -1. */
static int backup_wait(virDomainPtr dom, const struct job *job, struct err *err)
{
    /* Polled every 50 ms (an incremental of a few MiB ends within a few
     * polls), progress and cancel checked in the database every 0.5 s. */
    for (int poll = 0;; poll++) {
        int type = VIR_DOMAIN_JOB_NONE, nparams = 0;
        virTypedParameterPtr params = NULL;
        if (virDomainGetJobStats(dom, &type, &params, &nparams, 0) < 0)
            return virt_error(err, "Following the backup");
        unsigned long long done = 0, total = 0;
        virTypedParamsGetULLong(params, nparams, VIR_DOMAIN_JOB_DISK_PROCESSED, &done);
        virTypedParamsGetULLong(params, nparams, VIR_DOMAIN_JOB_DISK_TOTAL, &total);
        virTypedParamsFree(params, nparams);
        if (type == VIR_DOMAIN_JOB_NONE)
            break;
        if (poll % 10 == 0 && !job_progress(job, 5 + (int)(total ? done * 85 / total : 0))) {
            virDomainAbortJob(dom);
            return JOB_CANCELLED;
        }
        g_usleep(50000);
    }
    int type = VIR_DOMAIN_JOB_NONE, nparams = 0;
    virTypedParameterPtr params = NULL;
    if (virDomainGetJobStats(dom, &type, &params, &nparams, VIR_DOMAIN_JOB_STATS_COMPLETED) < 0)
        return virt_error(err, "Reading the backup's outcome");
    const char *message = NULL;
    virTypedParamsGetString(params, nparams, VIR_DOMAIN_JOB_ERRMSG, &message);
    unsigned long long elapsed = 0, processed = 0;
    virTypedParamsGetULLong(params, nparams, VIR_DOMAIN_JOB_TIME_ELAPSED, &elapsed);
    virTypedParamsGetULLong(params, nparams, VIR_DOMAIN_JOB_DISK_PROCESSED, &processed);
    log_info("backup %lld: QEMU's own job took %llu ms for %llu MiB", job->object_id, elapsed,
             processed >> 20);
    int rc = type == VIR_DOMAIN_JOB_COMPLETED
                 ? 0
                 : err_set(err, 502, "backup_failed", NULL, "QEMU's backup failed: %s",
                           message ? message : "no reason given");
    virTypedParamsFree(params, nparams);
    return rc;
}

/* Whether the qcow2 file at path is version 2 (compat 0.10), which holds
 * no persistent dirty bitmap, so no checkpoint and no incremental (disks
 * made before we asked libvirt for v3, or imported). -U: the VM may run. */
static bool qcow2_v2(const char *path)
{
    char *argv[] = { "qemu-img", "info", "-U", "-f", "qcow2", "--output=json", (char *)path,
                     NULL };
    char *out = NULL;
    int status = -1;
    bool v2 = false;
    if (g_spawn_sync(NULL, argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL, NULL,
                     NULL, &out, NULL, &status, NULL) &&
        g_spawn_check_wait_status(status, NULL)) {
        json_t *info = json_loads(out, 0, NULL);
        const char *compat = json_string_value(json_object_get(
            json_object_get(json_object_get(info, "format-specific"), "data"), "compat"));
        v2 = compat && !strcmp(compat, "0.10");
        json_decref(info);
    }
    g_free(out);
    return v2;
}

/* A stopped machine's qcow2 v2 disks become v3 (qemu-img amend, in place:
 * nothing else has them open), so this backup's checkpoint and the
 * incrementals after it can be kept. */
static int qcow2_upgrade(virDomainPtr dom, const struct job *job, struct err *err)
{
    struct domain_disk disks[DOMAIN_MAX_DISKS];
    char *xml = virDomainGetXMLDesc(dom, VIR_DOMAIN_XML_INACTIVE);
    int n = xml ? domain_xml_disks(xml, disks, DOMAIN_MAX_DISKS) : 0;
    free(xml);
    int rc = 0;
    for (int i = 0; i < n; i++) {
        if (rc == 0 && disks[i].qcow2 && disks[i].file && qcow2_v2(disks[i].file)) {
            char *argv[] = { "qemu-img", "amend", "-f", "qcow2", "-o", "compat=1.1",
                             disks[i].file, NULL };
            rc = run_qemu_img(argv, err);
            if (rc == 0) {
                char *line = g_strdup_printf("Disk %s was qcow2 v2 (compat 0.10), which cannot "
                                             "hold a bitmap: converted to v3 (compat 1.1).",
                                             disks[i].target);
                job_log(job->id, line);
                g_free(line);
            }
        }
        g_free(disks[i].file);
    }
    return rc;
}

/* A running machine's qcow2 v2 disks cannot be converted under QEMU: they
 * get no bitmap this time (as raw ones), said in *note. */
static void qcow2_v2_running(struct domain_disk *disks, int n, const char **note)
{
    for (int i = 0; i < n; i++)
        if (disks[i].qcow2 && disks[i].file && qcow2_v2(disks[i].file)) {
            disks[i].qcow2 = false;
            *note = "A disk is qcow2 v2 (compat 0.10), which cannot hold the bitmap an "
                    "incremental needs: this is a full backup. Back the machine up once while "
                    "it is stopped and the disk is converted.";
        }
}

/* The backup of one VM with its domain on: begins libvirt's backup (as an
 * incremental from parent_id when that checkpoint is usable, else a full
 * one with *note saying why) and waits for it. */
static int backup_take(virDomainPtr dom, long long id, long long parent_id,
                       const struct domain_disk *disks, int n, const struct job *job,
                       const char **note, struct err *err)
{
    bool all_qcow2 = true, any_qcow2 = false;
    for (int i = 0; i < n; i++) {
        all_qcow2 = all_qcow2 && disks[i].qcow2;
        any_qcow2 = any_qcow2 || disks[i].qcow2;
    }
    char from[32] = "";
    if (parent_id) {
        if (**note)
            ;   /* a v2 disk said why already */
        else if (!all_qcow2)
            *note = "A raw disk cannot be backed up incrementally: this is a full backup.";
        else if (!checkpoint_exists(dom, parent_id))
            *note = "The machine no longer has the previous backup's checkpoint (a restore or "
                    "a deleted backup): this is a full backup.";
        else
            checkpoint_name(parent_id, from, sizeof from);
    }
    /* No disk to hold a bitmap: no checkpoint (the next backup is full). */
    char *cxml = any_qcow2 ? checkpoint_xml(id, disks, n) : NULL;
    char *bxml = backup_xml(id, disks, n, *from ? from : NULL);
    int rc = virDomainBackupBegin(dom, bxml, cxml, 0);
    if (rc < 0 && *from) {
        /* A bitmap QEMU finds inconsistent (a host crash) breaks the chain. */
        log_warn("incremental backup %lld failed to begin (%s); taking a full one", id,
                 virGetLastErrorMessage());
        *note = "The previous backup's bitmap was unusable (the host crashed?): this is a full "
                "backup.";
        *from = '\0';
        checkpoint_drop(dom, id);
        g_free(bxml);
        bxml = backup_xml(id, disks, n, NULL);
        rc = virDomainBackupBegin(dom, bxml, cxml, 0);
    }
    g_free(bxml);
    g_free(cxml);
    if (rc < 0)
        return virt_error(err, "Beginning the backup");
    if (*from)
        job_log(job->id, "Incremental from the previous backup's checkpoint.");
    return backup_wait(dom, job, err);
}

/* Records disk i's file of backup id (giving an incremental's file its
 * parent's as backing first) with its size and checksum. */
static int backup_record_disk(long long id, long long parent_id, const struct domain_disk *disk,
                              struct err *err)
{
    char *path = store_path(id, disk->target);
    char *file_name = g_path_get_basename(path);
    int rc = 0;
    if (parent_id) {
        char *parent = store_path(parent_id, disk->target);
        char *parent_name = g_path_get_basename(parent);
        /* Relative: the store may move as a whole. */
        char *argv[] = { "qemu-img", "rebase", "-u", "-f", "qcow2", "-F", "qcow2", "-b",
                         parent_name, path, NULL };
        rc = run_qemu_img(argv, err);
        g_free(parent_name);
        g_free(parent);
    }
    char sha[65] = "";
    struct stat info;
    if (rc == 0)
        rc = file_sha256(path, sha, err);
    if (rc == 0 && stat(path, &info) < 0)
        rc = err_set(err, 503, "storage_error", NULL, "A backup file is missing.");
    chmod(path, 0600);   /* QEMU is done with it: the helper's alone */
    if (rc == 0 &&
        db_exec("INSERT INTO backup_disks (backup_id, target, file_name, size_bytes, sha256) "
                "VALUES (?, ?, ?, ?, ?)", DB_INT(id), DB_TEXT(disk->target), DB_TEXT(file_name),
                DB_INT((long long)info.st_blocks * 512), DB_TEXT(sha)) < 0)
        rc = err_set(err, 503, "database_unavailable", NULL, "The database is not available.");
    g_free(file_name);
    g_free(path);
    return rc;
}

/* The domain's disks (its live XML when it runs). -1 with err. */
static int domain_disks(virDomainPtr dom, unsigned int flags, struct domain_disk *disks,
                        struct err *err)
{
    char *xml = virDomainGetXMLDesc(dom, flags);
    int n = xml ? domain_xml_disks(xml, disks, DOMAIN_MAX_DISKS) : -1;
    free(xml);
    if (n <= 0)
        return err_set(err, 422, "no_disks", NULL, "This machine has no disk to back up.");
    return n;
}

static void disks_free(struct domain_disk *disks, int n)
{
    for (int i = 0; i < n; i++)
        g_free(disks[i].file);
}

struct retention_policy;
static long long backup_prune(virDomainPtr dom, long long vm_id,
                              const struct retention_policy *policy);

/* The backup job: the row (made by backup_insert) becomes ready with its
 * files, or failed with nothing left behind. */
static int backup_job(struct job *job)
{
    struct err err = { 0 };
    struct user *actor = user_by_id(job->actor_id);
    struct vm_ref vm;
    virConnectPtr conn = NULL;
    virDomainPtr dom = NULL;
    struct domain_disk disks[DOMAIN_MAX_DISKS];
    int n = 0;
    bool started_here = false;
    const char *note = "";
    long long id = job->object_id;
    struct db_rows *row = db_query("SELECT COALESCE(parent_id, 0), origin FROM backups WHERE id = ?",
                                   DB_INT(id));
    long long parent_id = row && row->nrows == 1 ? db_cell_int(row, 0, 0, 0) : 0;
    bool scheduled = row && row->nrows == 1 && !strcmp(db_cell(row, 0, 1), "schedule");
    db_rows_free(row);
    int rc = vm_ref_load(job->vm_id, actor, &vm, &err);
    if (rc == 0)
        rc = (dom = virt_domain(vm.host_id, vm.domain_name, &conn, &err)) ? 0 : -1;
    if (rc == 0 && !job_progress(job, 1))
        rc = JOB_CANCELLED;   /* cancelled while it waited in the queue */
    const char *state = dom ? vm_state_name(dom) : "";
    if (rc == 0 && !strcmp(state, "stopped")) {
        rc = qcow2_upgrade(dom, job, &err);
        if (rc == 0)
            job_log(job->id, "The machine is stopped: starting it paused for the backup.");
        if (rc == 0 && virDomainCreateWithFlags(dom, VIR_DOMAIN_START_PAUSED) < 0)
            rc = virt_error(&err, "Starting the machine paused");
        started_here = rc == 0;
    } else if (rc == 0 && strcmp(state, "running") && strcmp(state, "paused")) {
        rc = err_set(&err, 409, "wrong_state", NULL,
                     "A machine that is %s cannot be backed up.", state);
    }
    if (rc == 0)
        rc = (n = domain_disks(dom, 0, disks, &err)) > 0 ? 0 : -1;
    if (rc == 0 && !started_here)
        qcow2_v2_running(disks, n, &note);
    gint64 t0 = g_get_monotonic_time();
    if (rc == 0)
        rc = backup_take(dom, id, parent_id, disks, n, job, &note, &err);
    if (rc == 0)
        log_info("backup %lld: QEMU copied the disks in %lld ms", id,
                 (long long)(g_get_monotonic_time() - t0) / 1000);
    if (started_here)
        virDomainDestroy(dom);
    if (*note) {
        parent_id = 0;
        job_log(job->id, note);
        db_exec("UPDATE backups SET mode = 'full', parent_id = NULL, note = ? WHERE id = ?",
                DB_TEXT(note), DB_INT(id));
    }
    t0 = g_get_monotonic_time();
    for (int i = 0; rc == 0 && i < n; i++)
        rc = backup_record_disk(id, parent_id, &disks[i], &err);
    if (rc == 0)
        log_info("backup %lld: files rebased and checksummed in %lld ms", id,
                 (long long)(g_get_monotonic_time() - t0) / 1000);
    if (rc == 0) {
        db_exec("UPDATE backups SET status = 'ready', finished_at = UTC_TIMESTAMP(), size_bytes = "
                "(SELECT COALESCE(SUM(size_bytes), 0) FROM backup_disks WHERE backup_id = ?) "
                "WHERE id = ?", DB_INT(id), DB_INT(id));
        json_t *result = json_pack("{s:I, s:I}", "vm_id", (json_int_t)job->vm_id, "backup_id",
                                   (json_int_t)id);
        job_result(job, result);
        json_decref(result);
        job_progress(job, 95);
        if (scheduled) {
            struct db_rows *p = db_query("SELECT keep, keep_daily, keep_weekly, keep_monthly "
                                         "FROM backup_policies WHERE vm_id = ?",
                                         DB_INT(job->vm_id));
            if (p && p->nrows == 1)
                backup_prune(dom, job->vm_id,
                             &(struct retention_policy){
                                 .last = (int)db_cell_int(p, 0, 0, 1),
                                 .daily = (int)db_cell_int(p, 0, 1, 0),
                                 .weekly = (int)db_cell_int(p, 0, 2, 0),
                                 .monthly = (int)db_cell_int(p, 0, 3, 0) });
            db_rows_free(p);
        }
    } else {
        checkpoint_drop(dom, id);
        backup_files_remove(id);
        for (int i = 0; i < n; i++) {
            char *path = store_path(id, disks[i].target);
            g_unlink(path);
            g_free(path);
        }
        db_exec("DELETE FROM backup_disks WHERE backup_id = ?", DB_INT(id));
        db_exec("UPDATE backups SET status = 'failed', finished_at = UTC_TIMESTAMP(), "
                "note = LEFT(?, 255) WHERE id = ?",
                DB_TEXT(rc == JOB_CANCELLED ? "Cancelled." : err.message), DB_INT(id));
        job_fail_reason(job, rc == JOB_CANCELLED ? "cancelled" : err.code,
                        rc == JOB_CANCELLED ? "Cancelled." : err.message);
    }
    disks_free(disks, n);
    vm_ref_release(dom, conn);
    user_free(actor);
    return rc;
}

/* What a backup of vm may come to hold, in GiB, reserved in the owner's
 * disk quota until it is done (then its files' real size counts): a full
 * one its disks' whole size; an incremental only the clusters changed,
 * which nobody knows before: the quota's least unit, a GiB. */
static long long backup_reserve_gb(long long vm_id, bool full)
{
    struct db_rows *rows = db_query("SELECT disk_gb + (SELECT COALESCE(SUM(size_gb), 0) FROM "
                                    "vm_disks WHERE vm_id = v.id) FROM vms v WHERE id = ?",
                                    DB_INT(vm_id));
    long long gb = full ? db_cell_int(rows, 0, 0, 1) : 1;
    db_rows_free(rows);
    return gb;
}

/* The VM's hardware as a restore as a new VM needs it (sql/029): its
 * added disks (each is in the backup, by target) and its NICs (networks,
 * models, link states) too. JSON_EXTRACT keeps a subquery's array JSON
 * (MariaDB would quote it as a string). */
#define HARDWARE_JSON                                                                            \
    "SELECT JSON_OBJECT('vcpus', vcpus, 'max_vcpus', max_vcpus, 'cpu_sockets', cpu_sockets, "    \
    "'cpu_cores', cpu_cores, 'cpu_threads', cpu_threads, 'memory_mb', memory_mb, "              \
    "'max_memory_mb', max_memory_mb, 'disk_gb', disk_gb, 'arch', arch, 'cpu_model', cpu_model, " \
    "'boot_order', boot_order, 'graphics', graphics, 'console_keymap', console_keymap, "        \
    "'template_id', template_id, 'description', description, 'disks', JSON_EXTRACT(COALESCE(("  \
    "SELECT JSON_ARRAYAGG(JSON_OBJECT('target', d.target, 'bus', d.bus, 'cache', d.cache, "     \
    "'size_gb', d.size_gb)) FROM vm_disks d WHERE d.vm_id = vms.id AND d.state = 'attached'), " \
    "'[]'), '$'), 'nics', JSON_EXTRACT(COALESCE((SELECT JSON_ARRAYAGG(JSON_OBJECT('network_id', " \
    "c.network_id, 'model', c.model, 'link_state', c.link_state) ORDER BY c.position) FROM "     \
    "vm_nics c WHERE c.vm_id = vms.id AND c.state = 'attached'), '[]'), '$')) FROM vms WHERE "   \
    "id = ?"

struct backup_insert_tx {
    const struct vm_ref *vm;
    const struct user *actor;
    const char *mode, *origin;
    long long slot, parent_id;
    struct quota_want want;
    int fits;   /* 0 it fits, 1 over the quota, 2 a backup runs, -1 the database */
    long long limit, used, id;
};

static int backup_insert_body(void *ctx)
{
    struct backup_insert_tx *t = ctx;
    const struct vm_ref *vm = t->vm;
    long long parent_id = t->parent_id;
    const char *kind = NULL;
    t->id = -1;
    t->fits = quota_fits_locked(vm->owner_id, &t->want, &kind, &t->limit, &t->used);
    if (t->fits != 0)
        return -1;
    if (db_exec_id("INSERT INTO backups (vm_id, owner_id, vm_name, mode, parent_id, origin, "
                   "note, size_bytes, created_by, slot_at) VALUES (?, ?, ?, ?, NULLIF(?, 0), ?, "
                   "?, ?, ?, IF(? > 0, '1970-01-01' + INTERVAL ? SECOND, NULL))",
                   &t->id, DB_INT(vm->id), DB_INT(vm->owner_id), DB_TEXT(vm->name),
                   DB_TEXT(parent_id ? "incremental" : "full"), DB_INT(parent_id), DB_TEXT(t->origin),
                   DB_TEXT(!parent_id && !strcmp(t->mode, "incremental")
                               ? "There was no backup to build on: this is a full backup."
                               : ""),
                   DB_INT(t->want.disk_gb << 30), DB_INT(t->actor->id), DB_INT(t->slot),
                   DB_INT(t->slot)) < 0) {
        t->fits = db_errno() == DB_ER_DUP_ENTRY ? 2 : -1;
        return -1;
    }
    if (db_exec("UPDATE backups SET hardware = (" HARDWARE_JSON ") WHERE id = ?",
                DB_INT(vm->id), DB_INT(t->id)) < 0) {
        t->fits = -1;
        return -1;
    }
    return 0;
}

/* The row of a new backup of vm, an incremental on the VM's latest ready
 * backup when asked (and there is one), in one transaction with the
 * owner's disk quota (locked, as a create locks it). A second backup of
 * the VM while one is being made fails on the unique active_vm_id
 * (sql/029), so two parallel requests cannot both start one. Its id, or
 * -1 with err. */
static long long backup_insert(const struct vm_ref *vm, const struct user *actor,
                               const char *mode, const char *origin, long long slot,
                               struct err *err)
{
    long long parent_id = 0;
    if (!strcmp(mode, "incremental")) {
        struct db_rows *rows = db_query("SELECT id FROM backups WHERE vm_id = ? AND status = "
                                        "'ready' ORDER BY id DESC LIMIT 1", DB_INT(vm->id));
        parent_id = rows && rows->nrows == 1 ? db_cell_int(rows, 0, 0, 0) : 0;
        db_rows_free(rows);
    }
    struct backup_insert_tx t = { vm, actor, mode, origin, slot, parent_id,
                                  { .disk_gb = backup_reserve_gb(vm->id, !parent_id) } };
    if (db_transaction(backup_insert_body, &t) < 0) {
        t.id = -1;
        if (!t.fits)
            t.fits = -1;
    }
    int fits = t.fits;
    long long id = t.id, limit = t.limit, used = t.used;
    const struct quota_want want = t.want;
    if (fits == 1)
        err_set(err, 409, "quota_exceeded", NULL,
                "Backups count in your disk quota: it allows %lld GiB in all, %lld are in use, "
                "and this backup may take %lld more. Delete old backups or snapshots first.",
                limit, used, want.disk_gb);
    else if (fits == 2)
        err_set(err, 409, "backup_running", NULL, "A backup of this machine is under way.");
    else if (fits < 0)
        err_set(err, 503, "database_unavailable", NULL, "The database is not available.");
    return id;
}

/* Queues job kind about the VM and object id with fn; its id, or -1. */
static long long backup_queue(const char *kind, const struct user *actor, long long vm_id,
                              long long object_id, const char *target_name,
                              int (*fn)(struct job *), struct err *err)
{
    long long job_id = job_insert(kind, actor->id);
    if (job_id >= 0) {
        db_exec("UPDATE jobs SET vm_id = ? WHERE id = ?", DB_INT(vm_id), DB_INT(job_id));
        job_target(job_id, "vm", vm_id, target_name);
    }
    if (job_id < 0 ||
        job_launch((struct job){ .id = job_id, .vm_id = vm_id, .actor_id = actor->id,
                                 .object_id = object_id },
                   fn) < 0) {
        err_set(err, 503, "job_failed", NULL, "The job could not be started.");
        return -1;
    }
    return job_id;
}

/* Starts a backup of vm_id as actor: {backup_id, job_id}, or NULL. */
static json_t *backup_start(long long vm_id, const struct user *actor, const char *mode,
                            const char *origin, long long slot, struct err *err)
{
    struct vm_ref vm;
    virConnectPtr conn = NULL;
    virDomainPtr dom = NULL;
    if (vm_ref_load(vm_id, actor, &vm, err) < 0 ||
        !(dom = virt_domain(vm.host_id, vm.domain_name, &conn, err)))
        return NULL;
    vm_ref_release(dom, conn);
    g_mkdir_with_parents(store_dir(), 0711);
    long long id = backup_insert(&vm, actor, mode, origin, slot, err);
    long long job_id = id < 0 ? -1
                              : backup_queue("backup.create", actor, vm.id, id, vm.name,
                                             backup_job, err);
    if (id >= 0 && job_id < 0)
        db_exec("DELETE FROM backups WHERE id = ?", DB_INT(id));
    return job_id < 0 ? NULL
                      : json_pack("{s:I, s:I}", "backup_id", (json_int_t)id, "job_id",
                                  (json_int_t)job_id);
}

/* backup.create {vm_id, mode}: the backup runs in a job. */
static int op_create(struct op_call *call)
{
    const char *mode = json_string_value(json_object_get(call->args, "mode"));
    call->result = backup_start(json_integer_value(json_object_get(call->args, "vm_id")),
                                call->actor, mode ? mode : "full", "user", 0, &call->err);
    return call->result ? 0 : -1;
}

/* A backup row the actor may touch: vm_id and status; -1 with a 404. */
static int backup_load(long long id, const struct user *actor, long long *vm_id,
                       char *status, size_t status_size, struct err *err)
{
    struct db_rows *rows = db_query("SELECT vm_id, owner_id, status FROM backups WHERE id = ?",
                                    DB_INT(id));
    int rc = -1;
    if (!rows)
        err_set(err, 503, "database_unavailable", NULL, "The database is not available.");
    else if (rows->nrows == 1 && actor && rbac_may_touch(actor, db_cell_int(rows, 0, 1, 0))) {
        *vm_id = db_cell_int(rows, 0, 0, 0);
        g_strlcpy(status, db_cell(rows, 0, 2), status_size);
        rc = 0;
    } else
        err_set(err, 404, "not_found", NULL, "There is no such backup.");
    db_rows_free(rows);
    return rc;
}

/* Checks each file of backup id and its ancestors against the checksum
 * recorded when it was written. */
static int backup_verify_chain(long long id, const struct job *job, struct err *err)
{
    for (long long at = id; at;) {
        struct db_rows *rows = db_query(
            "SELECT d.file_name, d.sha256, COALESCE(b.parent_id, 0) FROM backups b LEFT JOIN "
            "backup_disks d ON d.backup_id = b.id WHERE b.id = ? AND b.status = 'ready'",
            DB_INT(at));
        if (!rows || rows->nrows == 0) {
            db_rows_free(rows);
            return err_set(err, 409, "chain_broken", NULL,
                           "A backup this one builds on is missing.");
        }
        long long parent = db_cell_int(rows, 0, 2, 0);
        for (int i = 0; i < rows->nrows; i++) {
            char *path = g_strdup_printf("%s/%s", store_dir(), db_cell(rows, i, 0));
            char sha[65] = "";
            int rc = file_sha256(path, sha, err);
            g_free(path);
            if (rc == 0 && strcmp(sha, db_cell(rows, i, 1)))
                rc = err_set(err, 409, "checksum_mismatch", NULL,
                             "Backup %lld's copy of %s does not match its checksum.", at,
                             db_cell(rows, i, 0));
            if (rc < 0) {
                db_rows_free(rows);
                return -1;
            }
        }
        db_rows_free(rows);
        job_log(job->id, "Checksums match.");
        at = parent;
    }
    return 0;
}

/* Writes the backup's copy of one disk over the VM's disk file: into a
 * file beside it first, renamed over it once whole (the old one stands
 * until then), with the old one's owner and mode. */
static int restore_disk(long long backup_id, const char *file_name, const char *disk_path,
                        struct err *err)
{
    char *source = g_strdup_printf("%s/%s", store_dir(), file_name);
    char *partial = g_strdup_printf("%s.restoring", disk_path);
    char *argv[] = { "qemu-img", "convert", "-q", "-f", "qcow2", "-O", "qcow2", source, partial,
                     NULL };
    struct stat info;
    int rc = stat(disk_path, &info) < 0
                 ? err_set(err, 409, "no_disk", NULL, "The machine's disk is missing.")
                 : run_qemu_img(argv, err);
    if (rc == 0 && (chown(partial, info.st_uid, info.st_gid) < 0 ||
                    chmod(partial, info.st_mode & 07777) < 0 || rename(partial, disk_path) < 0))
        rc = err_set(err, 503, "storage_error", NULL, "The restored disk cannot be put in place.");
    if (rc != 0)
        g_unlink(partial);
    (void)backup_id;
    g_free(partial);
    g_free(source);
    return rc;
}

/* Removes one restored added disk of the helper's pool by its file name. */
static void backup_added_disks_remove_one(const char *file_name)
{
    char *path = pool_name_valid(file_name) ? pool_chosen_path(0, file_name) : NULL;
    if (path)
        g_unlink(path);
    free(path);
}

char *backup_first_disk(long long backup_id, const struct job *job, struct err *err)
{
    if (backup_verify_chain(backup_id, job, err) < 0)
        return NULL;
    struct db_rows *rows = db_query("SELECT file_name FROM backup_disks WHERE backup_id = ? "
                                    "ORDER BY target = 'vda' DESC, target LIMIT 1",
                                    DB_INT(backup_id));
    char *path = rows && rows->nrows == 1
                     ? g_strdup_printf("%s/%s", store_dir(), db_cell(rows, 0, 0))
                     : NULL;
    db_rows_free(rows);
    if (!path)
        err_set(err, 409, "chain_broken", NULL, "This backup holds no disk.");
    return path;
}

/* Writes backup_id's copy of each added disk of the new VM vm_id (its
 * vm_disks rows, made from the backup's record, qcow2 in the helper's
 * pool) into place; the first disk is clone_disk's. On failure, what was
 * written is removed. */
int backup_restore_added_disks(long long backup_id, long long vm_id, struct err *err)
{
    struct db_rows *rows = db_query(
        "SELECT b.file_name, d.file_name FROM vm_disks d JOIN backup_disks b ON b.backup_id = ? "
        "AND b.target = d.target WHERE d.vm_id = ? ORDER BY d.target", DB_INT(backup_id),
        DB_INT(vm_id));
    if (!rows)
        return err_set(err, 503, "database_unavailable", NULL, "The database is not available.");
    int rc = 0, i;
    for (i = 0; rc == 0 && i < rows->nrows; i++) {
        char *source = g_strdup_printf("%s/%s", store_dir(), db_cell(rows, i, 0));
        char *target = pool_chosen_path(0, db_cell(rows, i, 1));
        char *argv[] = { "qemu-img", "convert", "-q", "-f", "qcow2", "-O", "qcow2", "-o",
                         "compat=1.1", source, target, NULL };
        rc = target && pool_name_valid(db_cell(rows, i, 1))
                 ? run_qemu_img(argv, err)
                 : err_set(err, 503, "storage_error", NULL, "A disk cannot be placed.");
        g_free(source);
        free(target);
    }
    for (int j = 0; rc != 0 && j < i; j++)
        backup_added_disks_remove_one(db_cell(rows, j, 1));
    db_rows_free(rows);
    return rc;
}

void backup_added_disks_remove(long long vm_id)
{
    struct db_rows *rows = db_query("SELECT file_name FROM vm_disks WHERE vm_id = ?",
                                    DB_INT(vm_id));
    for (int i = 0; rows && i < rows->nrows; i++)
        backup_added_disks_remove_one(db_cell(rows, i, 0));
    db_rows_free(rows);
}

/* The restore job: the VM (stopped) gets the backup's disks back. */
static int restore_job(struct job *job)
{
    struct err err = { 0 };
    struct user *actor = user_by_id(job->actor_id);
    struct vm_ref vm;
    virConnectPtr conn = NULL;
    virDomainPtr dom = NULL;
    struct domain_disk disks[DOMAIN_MAX_DISKS];
    int n = 0;
    int rc = vm_ref_load(job->vm_id, actor, &vm, &err);
    if (rc == 0)
        rc = (dom = virt_domain(vm.host_id, vm.domain_name, &conn, &err)) ? 0 : -1;
    if (rc == 0 && strcmp(vm_state_name(dom), "stopped"))
        rc = err_set(&err, 409, "vm_running", NULL, "Stop the machine before restoring over it.");
    if (rc == 0)
        rc = (n = domain_disks(dom, VIR_DOMAIN_XML_INACTIVE, disks, &err)) > 0 ? 0 : -1;
    if (rc == 0 && !job_progress(job, 5))
        rc = JOB_CANCELLED;
    if (rc == 0)
        rc = backup_verify_chain(job->object_id, job, &err);
    int restored = 0;
    struct db_rows *rows = rc == 0 ? db_query("SELECT target, file_name FROM backup_disks WHERE "
                                              "backup_id = ?", DB_INT(job->object_id))
                                   : NULL;
    for (int i = 0; rc == 0 && rows && i < rows->nrows; i++) {
        const char *path = NULL;
        for (int d = 0; d < n; d++)
            if (!strcmp(disks[d].target, db_cell(rows, i, 0)))
                path = disks[d].file;
        if (!path) {
            job_log(job->id, "The machine no longer has a disk the backup holds; left out.");
            continue;
        }
        rc = restore_disk(job->object_id, db_cell(rows, i, 1), path, &err);
        restored += rc == 0;
        if (rc == 0 && !job_progress(job, 10 + 85 * (i + 1) / rows->nrows))
            rc = JOB_CANCELLED;   /* the disks restored so far stay restored */
    }
    db_rows_free(rows);
    if (dom && restored > 0)
        checkpoints_forget(dom);   /* the new disks hold none of their bitmaps */
    if (rc == 0) {
        json_t *result = json_pack("{s:I, s:I}", "vm_id", (json_int_t)job->vm_id, "backup_id",
                                   (json_int_t)job->object_id);
        job_result(job, result);
        json_decref(result);
    } else {
        job_fail_reason(job, rc == JOB_CANCELLED ? "cancelled" : err.code,
                        rc == JOB_CANCELLED ? "Cancelled." : err.message);
    }
    disks_free(disks, n);
    vm_ref_release(dom, conn);
    user_free(actor);
    return rc;
}

/* backup.restore {backup_id}: over its VM, which must be stopped and hold
 * no snapshots (the restored disks would not have them). */
static int op_restore(struct op_call *call)
{
    long long id = json_integer_value(json_object_get(call->args, "backup_id")), vm_id = 0;
    char status[16];
    struct vm_ref vm;
    virConnectPtr conn = NULL;
    virDomainPtr dom = NULL;
    if (backup_load(id, call->actor, &vm_id, status, sizeof status, &call->err) < 0)
        return -1;
    if (strcmp(status, "ready"))
        return err_set(&call->err, 409, "backup_not_ready", NULL, "This backup is %s.", status);
    struct err gone = { 0 };   /* its 404 is not ours: the backup exists */
    if (vm_ref_load(vm_id, call->actor, &vm, &gone) < 0)
        return err_set(&call->err, 409, "vm_gone", NULL, "This backup's machine is gone.");
    if (!(dom = virt_domain(vm.host_id, vm.domain_name, &conn, &call->err)))
        return -1;
    const char *state = vm_state_name(dom);
    vm_ref_release(dom, conn);
    struct db_rows *snaps = db_query("SELECT COUNT(*) FROM snapshots WHERE vm_id = ?",
                                     DB_INT(vm_id));
    long long n_snaps = db_cell_int(snaps, 0, 0, 0);
    db_rows_free(snaps);
    if (strcmp(state, "stopped"))
        return err_set(&call->err, 409, "vm_running", NULL,
                       "Stop the machine before restoring over it; it is %s.", state);
    if (n_snaps > 0)
        return err_set(&call->err, 409, "has_snapshots", NULL,
                       "This machine has snapshots, which a restored disk would not hold; "
                       "delete them first.");
    long long job_id = backup_queue("backup.restore", call->actor, vm_id, id, vm.name,
                                    restore_job, &call->err);
    if (job_id < 0)
        return -1;
    call->result = json_pack("{s:I, s:I}", "backup_id", (json_int_t)id, "job_id",
                             (json_int_t)job_id);
    return 0;
}

/* Removes backup id (files, checkpoint, row); it must have no incremental
 * built on it. */
static int backup_remove(virDomainPtr dom, long long id, struct err *err)
{
    struct db_rows *kids = db_query("SELECT COUNT(*) FROM backups WHERE parent_id = ? AND "
                                    "status <> 'failed'", DB_INT(id));
    long long n = db_cell_int(kids, 0, 0, 0);
    db_rows_free(kids);
    if (n > 0)
        return err_set(err, 409, "has_incrementals", NULL,
                       "Incremental backups build on this one; delete them first.");
    checkpoint_drop(dom, id);
    backup_files_remove(id);
    db_exec("UPDATE backups SET parent_id = NULL WHERE parent_id = ?", DB_INT(id));
    db_exec("DELETE FROM backups WHERE id = ?", DB_INT(id));
    return 0;
}

/* Applies the VM's retention (lib/retention.h) to its ready backups:
 * the schedule's ones the policy does not keep go, newest first (so an
 * incremental goes before what it builds on); a user's backup, and what
 * it builds on, stays. A backup stands at its slot (a scheduled one: the
 * schedule's clock) or when it was made. How many backups went. */
static long long backup_prune(virDomainPtr dom, long long vm_id,
                              const struct retention_policy *policy)
{
    struct db_rows *rows = db_query(
        "SELECT id, COALESCE(parent_id, 0), TIMESTAMPDIFF(SECOND, '1970-01-01', "
        "COALESCE(slot_at, created_at)), origin <> 'schedule' OR status <> 'ready' FROM backups "
        "WHERE vm_id = ? AND status <> 'failed' ORDER BY id DESC LIMIT 10000", DB_INT(vm_id));
    int n = rows ? rows->nrows : 0;
    struct retention_backup *list = g_new0(struct retention_backup, n > 0 ? n : 1);
    for (int i = 0; i < n; i++)
        list[i] = (struct retention_backup){
            .id = db_cell_int(rows, i, 0, 0), .parent_id = db_cell_int(rows, i, 1, 0),
            .at = (time_t)db_cell_int(rows, i, 2, 0), .pinned = db_cell_int(rows, i, 3, 1) != 0,
        };
    db_rows_free(rows);
    retention_select(list, n, policy);
    long long removed = 0;
    for (int i = 0; i < n; i++) {   /* newest (highest id) first */
        struct err err = { 0 };
        if (!list[i].keep && backup_remove(dom, list[i].id, &err) == 0)
            removed++;
        else if (!list[i].keep)
            log_warn("pruning backup %lld: %s", list[i].id, err.message);
    }
    g_free(list);
    return removed;
}

/* backup.delete {backup_id}. */
static int op_delete(struct op_call *call)
{
    long long id = json_integer_value(json_object_get(call->args, "backup_id")), vm_id = 0;
    char status[16];
    if (backup_load(id, call->actor, &vm_id, status, sizeof status, &call->err) < 0)
        return -1;
    if (!strcmp(status, "creating"))
        return err_set(&call->err, 409, "backup_running",
                       NULL, "This backup is still being made; cancel its job first.");
    struct vm_ref vm;
    virConnectPtr conn = NULL;
    virDomainPtr dom = NULL;
    struct err ignored = { 0 };
    /* No domain is fine: its checkpoint went with it. */
    if (vm_ref_load(vm_id, call->actor, &vm, &ignored) == 0)
        dom = virt_domain(vm.host_id, vm.domain_name, &conn, &ignored);
    int rc = backup_remove(dom, id, &call->err);
    vm_ref_release(dom, conn);
    if (rc == 0)
        call->result = json_pack("{s:I, s:b}", "backup_id", (json_int_t)id, "deleted", 1);
    return rc;
}

/* backup.scheduled {vm_id, slot}: vmm-scheduler's one backup op. Claims
 * the slot (a slot runs once, whoever asks twice) and queues the backup
 * as the owner: a full one every full_every runs, incrementals between;
 * the job prunes the schedule's chains beyond keep when it is done. A
 * slot that meets a backup of the VM under way is deferred: the claim is
 * given back ({deferred: true}, last_error says so), so the scheduler's
 * next tick after that backup ends runs it - once, as the latest slot,
 * however many passed meanwhile. */
static int op_scheduled(struct op_call *call)
{
    long long vm_id = json_integer_value(json_object_get(call->args, "vm_id"));
    long long slot = json_integer_value(json_object_get(call->args, "slot"));
    struct db_rows *rows = db_query(
        "SELECT p.full_every, v.owner_id, (SELECT COUNT(*) FROM backups b WHERE b.vm_id = p.vm_id "
        "AND b.status = 'ready' AND b.id > COALESCE((SELECT MAX(id) FROM backups f WHERE "
        "f.vm_id = p.vm_id AND f.mode = 'full' AND f.status = 'ready'), 0)), (SELECT COUNT(*) "
        "FROM backups f WHERE f.vm_id = p.vm_id AND f.mode = 'full' AND f.status = 'ready'), "
        "COALESCE(TIMESTAMPDIFF(SECOND, '1970-01-01', p.last_slot), 0) "
        "FROM backup_policies p JOIN vms v ON v.id = p.vm_id WHERE p.vm_id = ? AND p.enabled = 1",
        DB_INT(vm_id));
    if (!rows || rows->nrows != 1) {
        db_rows_free(rows);
        return err_set(&call->err, 404, "not_found", NULL, "This machine has no backup schedule.");
    }
    long long full_every = db_cell_int(rows, 0, 0, 1);
    struct user *actor = user_by_id(db_cell_int(rows, 0, 1, 0));
    bool incremental = db_cell_int(rows, 0, 3, 0) > 0 &&
                       db_cell_int(rows, 0, 2, 0) + 1 < full_every;
    long long last_slot = db_cell_int(rows, 0, 4, 0);
    db_rows_free(rows);
    unsigned long long claimed = schedule_claim("backup_policies", vm_id, slot) ? 1 : 0;
    int rc = 0;
    if (claimed != 1) {
        call->result = json_pack("{s:b}", "skipped", 1);
    } else {
        call->result = backup_start(vm_id, actor, incremental ? "incremental" : "full",
                                    "schedule", slot, &call->err);
        rc = call->result ? 0 : -1;
    }
    if (rc < 0 && !strcmp(call->err.code, "backup_running")) {
        db_exec("UPDATE backup_policies SET last_slot = IF(? = 0, NULL, '1970-01-01' + "
                "INTERVAL ? SECOND), last_error = ? WHERE vm_id = ? AND last_slot = "
                "'1970-01-01' + INTERVAL ? SECOND",
                DB_INT(last_slot), DB_INT(last_slot),
                DB_TEXT("A backup of this machine was under way at the slot: the scheduled one "
                        "runs once it ends."),
                DB_INT(vm_id), DB_INT(slot));
        call->err = (struct err){ 0 };
        call->result = json_pack("{s:b}", "deferred", 1);
        user_free(actor);
        return 0;
    }
    if (claimed == 1)
        db_exec("UPDATE backup_policies SET last_error = LEFT(?, 255) WHERE vm_id = ?",
                DB_TEXT(rc == 0 ? "" : call->err.message), DB_INT(vm_id));
    user_free(actor);
    return rc;
}

void backup_cleanup_interrupted(void)
{
    struct err err = { 0 };
    struct db_rows *rows = db_query("SELECT b.id, v.domain_name FROM backups b LEFT JOIN vms v "
                                    "ON v.id = b.vm_id WHERE b.status = 'creating'");
    virConnectPtr conn = rows && rows->nrows ? virt_conn(&err) : NULL;
    for (int i = 0; rows && i < rows->nrows; i++) {
        long long id = db_cell_int(rows, i, 0, 0);
        const char *domain = db_cell(rows, i, 1);
        virDomainPtr dom = conn && domain ? virDomainLookupByName(conn, domain) : NULL;
        virResetLastError();
        checkpoint_drop(dom, id);
        if (dom)
            virDomainFree(dom);
        /* Files libvirt may have begun: every target of this backup. */
        char *prefix = g_strdup_printf("b%lld-", id);
        GDir *dir = g_dir_open(store_dir(), 0, NULL);
        for (const char *name; dir && (name = g_dir_read_name(dir));)
            if (g_str_has_prefix(name, prefix)) {
                char *path = g_strdup_printf("%s/%s", store_dir(), name);
                g_unlink(path);
                g_free(path);
            }
        if (dir)
            g_dir_close(dir);
        g_free(prefix);
        db_exec("DELETE FROM backup_disks WHERE backup_id = ?", DB_INT(id));
        db_exec("UPDATE backups SET status = 'failed', note = 'Interrupted by a restart of the "
                "helper.', finished_at = UTC_TIMESTAMP() WHERE id = ?", DB_INT(id));
        log_warn("backup %lld, interrupted, marked failed and its files removed", id);
    }
    if (conn)
        virConnectClose(conn);
    db_rows_free(rows);
}

#define VM_ID { "vm_id", FIELD_INT, true, 1, INT64_MAX, NULL }
#define BACKUP_ID { "backup_id", FIELD_INT, true, 1, INT64_MAX, NULL }

static const char *const modes[] = { "full", "incremental", NULL };
static const struct field create_args[] = {
    VM_ID, { "mode", FIELD_ENUM, false, 0, 0, modes }, { NULL },
};
static const struct field one_args[] = { BACKUP_ID, { NULL } };
static const struct field scheduled_args[] = {
    VM_ID, { "slot", FIELD_INT, true, 1, INT64_MAX }, { NULL },
};

/* Each needs an actor, but backup.scheduled, served on vmm-scheduler's
 * socket alone, which acts for the VM's owner after checking the VM's
 * enabled policy itself. */
const struct op backup_ops[] = {
    { .name = "backup.create", .run = op_create, .args = create_args, .needs_actor = true },
    { .name = "backup.restore", .run = op_restore, .args = one_args, .needs_actor = true },
    { .name = "backup.delete", .run = op_delete, .args = one_args, .needs_actor = true },
    { .name = "backup.scheduled", .run = op_scheduled, .args = scheduled_args,
      .scheduler_only = true },
    { NULL },
};
