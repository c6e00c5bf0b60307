#include "storage.h"

#include <glib.h>
#include <libvirt/virterror.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xpath.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "db.h"
#include "domain_xml.h"
#include "ipv4.h"
#include "job.h"
#include "log.h"
#include "pool_file.h"
#include "sandbox.h"
#include "storage_path.h"
#include "user.h"
#include "virt.h"

struct storage_row {
    long long id;
    char *name, *type, *path, *source_host, *source_path, *source_name;
    bool autostart;
};

static void storage_row_free(struct storage_row *p)
{
    if (!p)
        return;
    g_free(p->name);
    g_free(p->type);
    g_free(p->path);
    g_free(p->source_host);
    g_free(p->source_path);
    g_free(p->source_name);
    g_free(p);
}

static int db_down(struct err *err)
{
    return err_set(err, 503, "database_unavailable", NULL, "The database is not available.");
}

static struct storage_row *row_load(long long id, struct err *err)
{
    struct db_rows *rows = db_query("SELECT id, name, type, path, source_host, source_path, "
                                    "source_name, autostart FROM storage_pools WHERE id = ?",
                                    DB_INT(id));
    if (!rows) {
        db_down(err);
        return NULL;
    }
    struct storage_row *p = NULL;
    if (rows->nrows == 1) {
        p = g_new0(struct storage_row, 1);
        p->id = db_cell_int(rows, 0, 0, 0);
        p->name = g_strdup(db_cell(rows, 0, 1));
        p->type = g_strdup(db_cell(rows, 0, 2));
        p->path = g_strdup(db_cell(rows, 0, 3));
        p->source_host = g_strdup(db_cell(rows, 0, 4));
        p->source_path = g_strdup(db_cell(rows, 0, 5));
        p->source_name = g_strdup(db_cell(rows, 0, 6));
        p->autostart = db_cell_int(rows, 0, 7, 0) != 0;
    } else {
        err_set(err, 404, "not_found", NULL, "There is no such storage pool.");
    }
    db_rows_free(rows);
    return p;
}

/* --- calls with a deadline ------------------------------------------ */

/* One call into libvirt that may hang on its storage, run in a thread of
 * its own. Whoever of the caller and the thread lets go last frees it. */
struct timed {
    int (*fn)(struct timed *t);
    long long pool_id;
    json_t *args;
    void *ctx;   /* the caller's, for a call that is more than ids */
    json_t *result;
    struct err err;
    int rc;
    bool done;
    int refs;
    pthread_mutex_t lock;
    pthread_cond_t cond;
};

static struct timed *timed_new(int (*fn)(struct timed *), long long pool_id, json_t *args)
{
    struct timed *t = g_new0(struct timed, 1);
    t->fn = fn;
    t->pool_id = pool_id;
    t->args = args ? json_deep_copy(args) : json_object();
    t->refs = 1;
    pthread_mutex_init(&t->lock, NULL);
    pthread_cond_init(&t->cond, NULL);
    return t;
}

static void timed_unref(struct timed *t)
{
    pthread_mutex_lock(&t->lock);
    bool last = --t->refs == 0;
    pthread_mutex_unlock(&t->lock);
    if (!last)
        return;
    json_decref(t->args);
    json_decref(t->result);
    pthread_mutex_destroy(&t->lock);
    pthread_cond_destroy(&t->cond);
    g_free(t);
}

static void *timed_thread(void *arg)
{
    struct timed *t = arg;
    int rc = t->fn(t);
    pthread_mutex_lock(&t->lock);
    t->rc = rc;
    t->done = true;
    pthread_cond_signal(&t->cond);
    pthread_mutex_unlock(&t->lock);
    if (db_in_transaction())
        db_rollback();
    db_close();
    timed_unref(t);
    return NULL;
}

/* Starts t->fn in a thread of its own; -1 with err set when it cannot. */
static int timed_start(struct timed *t, struct err *err)
{
    pthread_t thread;
    t->refs++;
    if (pthread_create(&thread, NULL, timed_thread, t) != 0) {
        t->refs--;
        return err_set(err, 503, "storage_error", NULL, "The storage call could not be started.");
    }
    pthread_detach(thread);
    return 0;
}

/* Waits for a started t until the absolute time until: its return, with
 * its error copied to err; or -1 with a 504 storage_timeout when it has
 * not come back (seconds: the deadline, for the message). */
static int timed_wait(struct timed *t, const struct timespec *until, long long seconds,
                      struct err *err)
{
    pthread_mutex_lock(&t->lock);
    int wait = 0;
    while (!t->done && wait == 0)
        wait = pthread_cond_timedwait(&t->cond, &t->lock, until);
    bool done = t->done;
    int rc = t->rc;
    pthread_mutex_unlock(&t->lock);
    if (!done) {
        log_warn("storage pool %lld: a libvirt call did not return in %lld s", t->pool_id, seconds);
        return err_set(err, 504, "storage_timeout", NULL,
                       "The storage did not answer within %lld seconds; its backend (an NFS "
                       "server?) may be down.", seconds);
    }
    if (rc < 0)
        *err = t->err;
    return rc;
}

static struct timespec deadline_in(long long seconds)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += seconds;
    return until;
}

/* Runs t->fn within seconds (timed_wait's answer). */
static int timed_run(struct timed *t, long long seconds, struct err *err)
{
    if (timed_start(t, err) < 0)
        return -1;
    struct timespec until = deadline_in(seconds);
    return timed_wait(t, &until, seconds, err);
}

static long long op_timeout(void) { return config_int("storage", "op_timeout_s", 60); }
/* What a page waits for: the pools' figures, a pool's volume list. */
static long long info_timeout(void) { return config_int("storage", "info_timeout_s", 3); }

/* Runs fn on pool_id with the operation deadline; its result or NULL. */
static json_t *timed_call(int (*fn)(struct timed *), long long pool_id, json_t *args,
                          long long seconds, struct err *err)
{
    struct timed *t = timed_new(fn, pool_id, args);
    json_t *result = NULL;
    if (timed_run(t, seconds, err) == 0)
        result = json_incref(t->result ? t->result : (t->result = json_object()));
    timed_unref(t);
    return result;
}

/* --- what uses a pool or volume ---------------------------------------- */

/* Every disk path (and backing file) of every domain libvirt has. */
static GPtrArray *domain_disk_paths(virConnectPtr conn)
{
    GPtrArray *paths = g_ptr_array_new_with_free_func(g_free);
    virDomainPtr *doms = NULL;
    int n = virConnectListAllDomains(conn, &doms, 0);
    for (int i = 0; i < n; i++) {
        char *xml = virDomainGetXMLDesc(doms[i], 0);
        xmlDocPtr doc = xml ? xmlReadMemory(xml, (int)strlen(xml), "d.xml", NULL,
                                            XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING)
                            : NULL;
        if (doc) {
            xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
            xmlXPathObjectPtr r = xmlXPathEvalExpression(
                BAD_CAST "//devices/disk//source/@file | //devices/disk//source/@dev", ctx);
            for (int j = 0; r && r->nodesetval && j < r->nodesetval->nodeNr; j++) {
                xmlChar *v = xmlNodeGetContent(r->nodesetval->nodeTab[j]);
                g_ptr_array_add(paths, g_strdup((const char *)v));
                xmlFree(v);
            }
            xmlXPathFreeObject(r);
            xmlXPathFreeContext(ctx);
            xmlFreeDoc(doc);
        }
        free(xml);
        virDomainFree(doms[i]);
    }
    free(doms);
    return paths;
}

/* How many domain disks lie in dir (or are path itself). */
static int disks_under(virConnectPtr conn, const char *dir, bool exact)
{
    GPtrArray *paths = domain_disk_paths(conn);
    int n = 0;
    for (guint i = 0; i < paths->len; i++) {
        const char *p = g_ptr_array_index(paths, i);
        n += exact ? !strcmp(p, dir) : path_under(p, dir);
    }
    g_ptr_array_free(paths, TRUE);
    return n;
}

/* --- pool XML and the checks the helper makes again ------------------- */

static bool vg_name_valid(const char *name)
{
    return net_name_valid(name) && strlen(name) <= 48;
}

/* The row's values, checked again: the name, and where the pool goes
 * (resolved on disk: no link may lead out of the allowed roots). */
static int row_check(const struct storage_row *p, struct err *err)
{
    char why[256];
    if (!net_name_valid(p->name))
        return err_set(err, 422, "invalid_storage", "name", "The pool name is not valid.");
    if (!strcmp(p->type, "logical")) {
        struct stat st;
        char *expected = g_strdup_printf("/dev/%s", p->source_name);
        bool ok = vg_name_valid(p->source_name) && !strcmp(p->path, expected);
        g_free(expected);
        if (!ok)
            return err_set(err, 422, "invalid_storage", "source_name",
                           "The volume group name is not valid.");
        if (*p->source_path && (!path_under(p->source_path, "/dev") ||
                                stat(p->source_path, &st) < 0 || !S_ISBLK(st.st_mode)))
            return err_set(err, 422, "invalid_storage", "source_path",
                           "%s is not a block device.", p->source_path);
        return 0;
    }
    if (!storage_path_allowed(p->path, why, sizeof why))
        return err_set(err, 422, "path_not_allowed", "path", "%s", why);
    /* What exists of the path must resolve inside an allowed root too. */
    char *probe = g_strdup(p->path), resolved[PATH_MAX];
    while (strlen(probe) > 1 && !realpath(probe, resolved)) {
        char *slash = strrchr(probe, '/');
        *slash = '\0';
    }
    bool inside = false;
    if (realpath(*probe ? probe : "/", resolved)) {
        gchar **roots = g_strsplit(config_str("storage", "allowed_roots", ""), ",", 32);
        for (gchar **r = roots; *r && !inside; r++) {
            char root[PATH_MAX];
            g_strstrip(*r);
            inside = **r && realpath(*r, root) && path_under(resolved, root) &&
                     (strcmp(resolved, root) || strcmp(probe, p->path));
        }
        g_strfreev(roots);
    }
    g_free(probe);
    if (!inside)
        return err_set(err, 422, "path_not_allowed", "path",
                       "The path leads outside [storage] allowed_roots.");
    if (!strcmp(p->type, "netfs") && (!*p->source_host || *p->source_path != '/'))
        return err_set(err, 422, "invalid_storage", "source_host",
                       "An NFS pool needs the server and the exported path.");
    return 0;
}

static xmlNodePtr child(xmlNodePtr parent, const char *name, const char *text)
{
    return xmlNewTextChild(parent, NULL, BAD_CAST name, text ? BAD_CAST text : NULL);
}

static char *pool_xml(const struct storage_row *p)
{
    xmlDocPtr doc = xmlNewDoc(BAD_CAST "1.0");
    xmlNodePtr pool = xmlNewNode(NULL, BAD_CAST "pool");
    xmlDocSetRootElement(doc, pool);
    xmlNewProp(pool, BAD_CAST "type", BAD_CAST p->type);
    child(pool, "name", p->name);
    if (!strcmp(p->type, "netfs")) {
        xmlNodePtr source = child(pool, "source", NULL);
        xmlNewProp(child(source, "host", NULL), BAD_CAST "name", BAD_CAST p->source_host);
        xmlNewProp(child(source, "dir", NULL), BAD_CAST "path", BAD_CAST p->source_path);
        xmlNewProp(child(source, "format", NULL), BAD_CAST "type", BAD_CAST "nfs");
    } else if (!strcmp(p->type, "logical")) {
        xmlNodePtr source = child(pool, "source", NULL);
        child(source, "name", p->source_name);
        if (*p->source_path)
            xmlNewProp(child(source, "device", NULL), BAD_CAST "path", BAD_CAST p->source_path);
        xmlNewProp(child(source, "format", NULL), BAD_CAST "type", BAD_CAST "lvm2");
    }
    xmlNodePtr target = child(pool, "target", NULL);
    child(target, "path", p->path);
    return xml_doc_string(doc);
}

/* --- pool operations (in jobs) ---------------------------------------- */

static virStoragePoolPtr pool_of(virConnectPtr conn, const struct storage_row *p, struct err *err)
{
    virStoragePoolPtr pool = virStoragePoolLookupByName(conn, p->name);
    if (!pool)
        err_set(err, 409, "no_storage_pool", NULL, "libvirt has no storage pool %s.", p->name);
    return pool;
}

/* Runs action on the pool of t->pool_id with a fresh connection. */
static int with_pool(struct timed *t, int (*action)(struct timed *, virConnectPtr,
                                                      struct storage_row *))
{
    struct storage_row *p = row_load(t->pool_id, &t->err);
    virConnectPtr conn = p ? virt_conn(&t->err) : NULL;
    int rc = conn ? action(t, conn, p) : -1;
    if (conn)
        virConnectClose(conn);
    storage_row_free(p);
    return rc;
}

static int create_action(struct timed *t, virConnectPtr conn, struct storage_row *p)
{
    if (row_check(p, &t->err) < 0)
        return -1;
    virStoragePoolPtr existing = virStoragePoolLookupByName(conn, p->name);
    if (existing) {
        virStoragePoolFree(existing);
        return err_set(&t->err, 409, "storage_pool_exists", "name",
                       "libvirt already has a storage pool called %s.", p->name);
    }
    char *xml = pool_xml(p);
    virStoragePoolPtr pool = virStoragePoolDefineXML(conn, xml, 0);
    g_free(xml);
    if (!pool)
        return virt_error_code(&t->err, "storage_error", "Defining the pool");
    int rc = 0;
    if (virStoragePoolBuild(pool, 0) < 0)
        rc = virt_error_code(&t->err, "storage_error", "Building the pool");
    else if (virStoragePoolCreate(pool, 0) < 0)
        rc = virt_error_code(&t->err, "storage_error", "Starting the pool");
    else if (virStoragePoolSetAutostart(pool, p->autostart) < 0)
        rc = virt_error_code(&t->err, "storage_error", "Setting the pool's autostart");
    if (rc < 0) {
        if (virStoragePoolIsActive(pool) == 1)
            virStoragePoolDestroy(pool);
        virStoragePoolUndefine(pool);
    } else {
        log_info("storage pool %s (%s, %s) built and started", p->name, p->type, p->path);
    }
    virStoragePoolFree(pool);
    return rc;
}

static int start_action(struct timed *t, virConnectPtr conn, struct storage_row *p)
{
    virStoragePoolPtr pool = pool_of(conn, p, &t->err);
    int rc = pool ? 0 : -1;
    if (pool && virStoragePoolIsActive(pool) != 1 && virStoragePoolCreate(pool, 0) < 0)
        rc = virt_error_code(&t->err, "storage_error", "Starting the pool");
    if (pool)
        virStoragePoolFree(pool);
    return rc;
}

static int stop_action(struct timed *t, virConnectPtr conn, struct storage_row *p)
{
    virStoragePoolPtr pool = pool_of(conn, p, &t->err);
    int rc = pool ? 0 : -1;
    if (pool && virStoragePoolIsActive(pool) == 1 && virStoragePoolDestroy(pool) < 0)
        rc = virt_error_code(&t->err, "storage_error", "Stopping the pool");
    if (pool)
        virStoragePoolFree(pool);
    return rc;
}

static int refresh_action(struct timed *t, virConnectPtr conn, struct storage_row *p)
{
    virStoragePoolPtr pool = pool_of(conn, p, &t->err);
    int rc = pool ? 0 : -1;
    if (pool && virStoragePoolRefresh(pool, 0) < 0)
        rc = virt_error_code(&t->err, "storage_error", "Refreshing the pool");
    if (pool)
        virStoragePoolFree(pool);
    return rc;
}

/* Removes the pool: its directory (dir, netfs mount point) or its volume
 * group, once it holds no volume, and libvirt's definition. */
static int delete_action(struct timed *t, virConnectPtr conn, struct storage_row *p)
{
    virStoragePoolPtr pool = virStoragePoolLookupByName(conn, p->name);
    int rc = 0;
    if (pool) {
        if (virStoragePoolIsActive(pool) != 1 && virStoragePoolCreate(pool, 0) < 0)
            rc = virt_error_code(&t->err, "storage_error", "Starting the pool to remove it");
        int volumes = rc == 0 ? (virStoragePoolRefresh(pool, 0), virStoragePoolNumOfVolumes(pool)) : 0;
        if (rc == 0 && volumes > 0)
            rc = err_set(&t->err, 409, "pool_not_empty", NULL,
                         "The pool still holds %d volumes; delete them first.", volumes);
        if (rc == 0 && virStoragePoolDestroy(pool) < 0)
            rc = virt_error_code(&t->err, "storage_error", "Stopping the pool");
        if (rc == 0 && virStoragePoolDelete(pool, 0) < 0)
            rc = virt_error_code(&t->err, "storage_error", "Removing the pool's storage");
        if (rc == 0 && virStoragePoolUndefine(pool) < 0)
            rc = virt_error_code(&t->err, "storage_error", "Removing the pool");
        virStoragePoolFree(pool);
    }
    if (rc == 0 && db_exec("DELETE FROM storage_pools WHERE id = ?", DB_INT(p->id)) < 0)
        rc = db_down(&t->err);
    return rc;
}

/* Autostart follows the row (it is read from libvirt's definition only). */
static int autostart_action(struct timed *t, virConnectPtr conn, struct storage_row *p)
{
    virStoragePoolPtr pool = pool_of(conn, p, &t->err);
    int rc = pool ? 0 : -1;
    if (pool && virStoragePoolSetAutostart(pool, p->autostart) < 0)
        rc = virt_error_code(&t->err, "storage_error", "Setting the pool's autostart");
    if (pool)
        virStoragePoolFree(pool);
    return rc;
}

static int autostart_fn(struct timed *t) { return with_pool(t, autostart_action); }
static int create_fn(struct timed *t) { return with_pool(t, create_action); }
static int start_fn(struct timed *t) { return with_pool(t, start_action); }
static int stop_fn(struct timed *t) { return with_pool(t, stop_action); }
static int refresh_fn(struct timed *t) { return with_pool(t, refresh_action); }
static int delete_fn(struct timed *t) { return with_pool(t, delete_action); }

/* The body of every pool job: the action with the operation deadline.
 * A create that failed takes its row with it. */
static int pool_job(struct job *job, int (*fn)(struct timed *), bool remove_row_on_failure)
{
    struct err err = { 0 };
    json_t *done = timed_call(fn, job->object_id, NULL, op_timeout(), &err);
    if (!done) {
        job_message(job, err.message);
        if (remove_row_on_failure && strcmp(err.code, "storage_timeout") != 0)
            db_exec("DELETE FROM storage_pools WHERE id = ?", DB_INT(job->object_id));
        return -1;
    }
    json_t *result = json_pack("{s:I}", "storage_pool_id", (json_int_t)job->object_id);
    job_result(job, result);
    json_decref(result);
    json_decref(done);
    return 0;
}

static int create_job(struct job *job) { return pool_job(job, create_fn, true); }
static int start_job(struct job *job) { return pool_job(job, start_fn, false); }
static int stop_job(struct job *job) { return pool_job(job, stop_fn, false); }
static int refresh_job(struct job *job) { return pool_job(job, refresh_fn, false); }
static int delete_job(struct job *job) { return pool_job(job, delete_fn, false); }

static long long arg_pool(struct op_call *call)
{
    return json_integer_value(json_object_get(call->args, "pool_id"));
}

/* Starts kind's job on the pool (options, borrowed, ride in its result:
 * job_options) and answers its id at once; the task log names the pool. */
static int in_job(struct op_call *call, const char *kind, json_t *options,
                  int (*fn)(struct job *))
{
    long long pool_id = arg_pool(call);
    long long job_id = job_insert(kind, call->actor->id);
    struct db_rows *rows = job_id < 0 ? NULL
                           : db_query("SELECT name FROM storage_pools WHERE id = ?", DB_INT(pool_id));
    if (rows && rows->nrows == 1)
        job_target(job_id, "storage_pool", pool_id, db_cell(rows, 0, 0));
    db_rows_free(rows);
    if (job_id >= 0 && options)
        job_result(&(struct job){ .id = job_id }, options);
    if (job_id < 0 || job_start(job_id, pool_id, call->actor->id, fn) < 0)
        return err_set(&call->err, 503, "job_failed", NULL, "The job could not be started.");
    call->result = json_pack("{s:I, s:s}", "job_id", (json_int_t)job_id, "kind", kind);
    return 0;
}

/* What must be true before a pool is stopped or removed: no domain has a
 * disk in it. Only libvirt's definitions are read, never the storage. */
static int refuse_in_use(struct op_call *call, const char *verb)
{
    struct storage_row *p = row_load(arg_pool(call), &call->err);
    virConnectPtr conn = p ? virt_conn(&call->err) : NULL;
    int rc = conn ? 0 : -1;
    if (conn) {
        int n = disks_under(conn, p->path, false);
        if (n > 0)
            rc = err_set(&call->err, 409, "pool_in_use", NULL,
                         "%d virtual machine disks are in this pool; it cannot be %s.", n, verb);
        virConnectClose(conn);
    }
    storage_row_free(p);
    return rc;
}

static int op_create(struct op_call *call)
{
    struct storage_row *p = row_load(arg_pool(call), &call->err);
    int rc = p ? row_check(p, &call->err) : -1;
    storage_row_free(p);
    return rc < 0 ? -1 : in_job(call, "storage.create", NULL, create_job);
}

static int op_start(struct op_call *call) { return in_job(call, "storage.start", NULL, start_job); }
static int op_refresh(struct op_call *call) { return in_job(call, "storage.refresh", NULL, refresh_job); }

static int op_stop(struct op_call *call)
{
    return refuse_in_use(call, "stopped") < 0 ? -1 : in_job(call, "storage.stop", NULL, stop_job);
}

static int op_delete(struct op_call *call)
{
    return refuse_in_use(call, "deleted") < 0 ? -1 : in_job(call, "storage.delete", NULL, delete_job);
}

/* --- figures, with a short deadline each ------------------------------- */

static int info_fn(struct timed *t)
{
    struct storage_row *p = row_load(t->pool_id, &t->err);
    virConnectPtr conn = p ? virt_conn(&t->err) : NULL;
    int rc = conn ? 0 : -1;
    if (conn) {
        virStoragePoolPtr pool = virStoragePoolLookupByName(conn, p->name);
        virStoragePoolInfo info = { 0 };
        int autostart = 0;
        if (!pool) {
            t->result = json_pack("{s:s}", "state", "missing");
        } else if (virStoragePoolGetInfo(pool, &info) < 0) {
            rc = virt_error_code(&t->err, "storage_error", "Reading the pool");
        } else {
            virStoragePoolGetAutostart(pool, &autostart);
            const char *state = info.state == VIR_STORAGE_POOL_RUNNING    ? "active"
                                : info.state == VIR_STORAGE_POOL_BUILDING ? "building"
                                : info.state == VIR_STORAGE_POOL_DEGRADED ? "degraded"
                                : info.state == VIR_STORAGE_POOL_INACCESSIBLE ? "inaccessible"
                                                                              : "inactive";
            t->result = json_pack("{s:s, s:b, s:I, s:I, s:I}", "state", state, "autostart_live",
                                  autostart != 0, "capacity_bytes", (json_int_t)info.capacity,
                                  "allocation_bytes", (json_int_t)info.allocation,
                                  "available_bytes", (json_int_t)info.available);
        }
        if (pool)
            virStoragePoolFree(pool);
        virConnectClose(conn);
    }
    storage_row_free(p);
    return rc;
}

/* {}: each pool row's figures by id; a pool that does not answer in
 * [storage] info_timeout_s is "not_responding", the others are shown.
 * The pools are asked at once, so hanging ones cost the list one
 * info_timeout_s together, not one each. */
static int op_states(struct op_call *call)
{
    struct db_rows *rows = db_query("SELECT id FROM storage_pools");
    if (!rows)
        return db_down(&call->err);
    call->result = json_object();
    long long seconds = info_timeout();
    struct timed **calls = g_new0(struct timed *, rows->nrows + 1);
    struct err *errs = g_new0(struct err, rows->nrows + 1);
    for (int i = 0; i < rows->nrows; i++) {
        calls[i] = timed_new(info_fn, db_cell_int(rows, i, 0, 0), NULL);
        if (timed_start(calls[i], &errs[i]) < 0) {
            timed_unref(calls[i]);
            calls[i] = NULL;
        }
    }
    struct timespec until = deadline_in(seconds);
    for (int i = 0; i < rows->nrows; i++) {
        json_t *info = NULL;
        if (calls[i] && timed_wait(calls[i], &until, seconds, &errs[i]) == 0)
            info = json_incref(calls[i]->result ? calls[i]->result : json_object());
        if (!info)
            info = json_pack("{s:s, s:s}", "state",
                             !strcmp(errs[i].code, "storage_timeout") ? "not_responding" : "unknown",
                             "message", errs[i].message);
        json_object_set_new(call->result, db_cell(rows, i, 0), info);
        if (calls[i])
            timed_unref(calls[i]);
    }
    g_free(calls);
    g_free(errs);
    db_rows_free(rows);
    return 0;
}

/* --- volumes ------------------------------------------------------------ */

static bool volume_name_valid(const char *name)
{
    return net_name_valid(name) && strlen(name) <= 48;
}

/* p's pool if it is running; NULL with t->err set (409 pool_inactive when
 * it is stopped). */
static virStoragePoolPtr running_pool(struct timed *t, virConnectPtr conn, struct storage_row *p)
{
    virStoragePoolPtr pool = pool_of(conn, p, &t->err);
    if (pool && virStoragePoolIsActive(pool) != 1) {
        err_set(&t->err, 409, "pool_inactive", NULL, "Start the storage pool first.");
        virStoragePoolFree(pool);
        return NULL;
    }
    return pool;
}

/* running_pool, refreshed: what a volume job acts on. */
static virStoragePoolPtr active_pool(struct timed *t, virConnectPtr conn, struct storage_row *p)
{
    virStoragePoolPtr pool = running_pool(t, conn, p);
    if (pool)
        virStoragePoolRefresh(pool, 0);
    return pool;
}

static json_t *volume_json(virStorageVolPtr vol, int users)
{
    virStorageVolInfo info = { 0 };
    virStorageVolGetInfo(vol, &info);
    char *path = virStorageVolGetPath(vol);
    json_t *v = json_pack("{s:s, s:s, s:I, s:I, s:i, s:b}", "name", virStorageVolGetName(vol),
                          "path", path ? path : "", "capacity_bytes", (json_int_t)info.capacity,
                          "allocation_bytes", (json_int_t)info.allocation, "used_by_disks", users,
                          "in_use", users > 0);
    free(path);
    return v;
}

/* The volumes as libvirt last saw them: listing never rescans the storage
 * (POST .../refresh does, in a job), so a page waits on no disk. */
static int volumes_action(struct timed *t, virConnectPtr conn, struct storage_row *p)
{
    virStoragePoolPtr pool = running_pool(t, conn, p);
    if (!pool)
        return -1;
    virStorageVolPtr *vols = NULL;
    int n = virStoragePoolListAllVolumes(pool, &vols, 0);
    int rc = n < 0 ? virt_error_code(&t->err, "storage_error", "Listing the volumes") : 0;
    GPtrArray *paths = n > 0 ? domain_disk_paths(conn) : NULL;
    t->result = json_array();
    for (int i = 0; i < n; i++) {
        char *path = virStorageVolGetPath(vols[i]);
        int users = 0;
        for (guint j = 0; path && j < paths->len; j++)
            users += !strcmp(g_ptr_array_index(paths, j), path);
        free(path);
        json_array_append_new(t->result, volume_json(vols[i], users));
        virStorageVolFree(vols[i]);
    }
    free(vols);
    if (paths)
        g_ptr_array_free(paths, TRUE);
    virStoragePoolFree(pool);
    return rc;
}

static char *volume_xml(const char *name, long long capacity_gb, const char *format,
                        const char *type)
{
    char capacity[32];
    snprintf(capacity, sizeof capacity, "%lld", capacity_gb);
    xmlDocPtr doc = xmlNewDoc(BAD_CAST "1.0");
    xmlNodePtr vol = xmlNewNode(NULL, BAD_CAST "volume");
    xmlDocSetRootElement(doc, vol);
    child(vol, "name", name);
    xmlNewProp(child(vol, "capacity", capacity), BAD_CAST "unit", BAD_CAST "GiB");
    /* A logical volume is a raw block device; a file can be qcow2. */
    if (strcmp(type, "logical") != 0) {
        xmlNodePtr target = child(vol, "target", NULL);
        xmlNewProp(child(target, "format", NULL), BAD_CAST "type", BAD_CAST format);
        xmlNewTextChild(vol, NULL, BAD_CAST "allocation", BAD_CAST "0");
    }
    return xml_doc_string(doc);
}

static int volume_create_action(struct timed *t, virConnectPtr conn, struct storage_row *p)
{
    const char *name = json_string_value(json_object_get(t->args, "name"));
    const char *format = json_string_value(json_object_get(t->args, "format"));
    long long gb = json_integer_value(json_object_get(t->args, "capacity_gb"));
    if (!volume_name_valid(name))
        return err_set(&t->err, 422, "invalid_volume", "name", "The volume name is not valid.");
    if (!strcmp(p->type, "logical") && format && strcmp(format, "raw"))
        return err_set(&t->err, 422, "invalid_volume", "format",
                       "A logical volume is raw.");
    virStoragePoolPtr pool = active_pool(t, conn, p);
    if (!pool)
        return -1;
    int rc = 0;
    virStorageVolPtr existing = virStorageVolLookupByName(pool, name);
    if (existing) {
        virStorageVolFree(existing);
        rc = err_set(&t->err, 409, "volume_exists", "name", "The pool has a volume called %s.", name);
    }
    char *xml = rc == 0 ? volume_xml(name, gb, format ? format : "qcow2", p->type) : NULL;
    virStorageVolPtr vol = xml ? virStorageVolCreateXML(pool, xml, 0) : NULL;
    g_free(xml);
    if (rc == 0 && !vol)
        rc = virt_error_code(&t->err, "storage_error", "Creating the volume");
    if (vol) {
        t->result = volume_json(vol, 0);
        virStorageVolFree(vol);
    }
    virStoragePoolFree(pool);
    return rc;
}

static virStorageVolPtr volume_of(struct timed *t, virStoragePoolPtr pool)
{
    const char *name = json_string_value(json_object_get(t->args, "name"));
    virStorageVolPtr vol = volume_name_valid(name) ? virStorageVolLookupByName(pool, name) : NULL;
    if (!vol)
        err_set(&t->err, 404, "not_found", NULL, "The pool has no such volume.");
    return vol;
}

static int volume_resize_action(struct timed *t, virConnectPtr conn, struct storage_row *p)
{
    long long gb = json_integer_value(json_object_get(t->args, "capacity_gb"));
    virStoragePoolPtr pool = active_pool(t, conn, p);
    virStorageVolPtr vol = pool ? volume_of(t, pool) : NULL;
    int rc = vol ? 0 : -1;
    virStorageVolInfo info = { 0 };
    if (vol && virStorageVolGetInfo(vol, &info) == 0 &&
        (unsigned long long)gb << 30 < info.capacity)
        rc = err_set(&t->err, 422, "cannot_shrink", "capacity_gb",
                     "A volume only grows (shrinking would cut off its data).");
    if (rc == 0 && virStorageVolResize(vol, (unsigned long long)gb << 30, 0) < 0)
        rc = virt_error_code(&t->err, "storage_error", "Resizing the volume");
    if (rc == 0)
        t->result = volume_json(vol, 0);
    if (vol)
        virStorageVolFree(vol);
    if (pool)
        virStoragePoolFree(pool);
    return rc;
}

/* Whether volume name of p is a template's file (issue 12): 1, 0, or -1
 * with err set. */
static int template_holds(const struct storage_row *p, const char *name, struct err *err)
{
    struct db_rows *rows = db_query("SELECT 1 FROM templates WHERE storage_pool_id = ? AND "
                                    "file_name = ?", DB_INT(p->id), DB_TEXT(name));
    int n = rows ? rows->nrows > 0 : -1;
    db_rows_free(rows);
    if (n > 0)
        err_set(err, 409, "volume_in_use", NULL,
                "This volume is a template's image; delete the template instead.");
    return n < 0 ? db_down(err) : n;
}

static int volume_delete_action(struct timed *t, virConnectPtr conn, struct storage_row *p)
{
    virStoragePoolPtr pool = active_pool(t, conn, p);
    virStorageVolPtr vol = pool ? volume_of(t, pool) : NULL;
    int rc = vol ? 0 : -1;
    char *path = vol ? virStorageVolGetPath(vol) : NULL;
    int users = path ? disks_under(conn, path, true) : 0;
    if (rc == 0 && users)
        rc = err_set(&t->err, 409, "volume_in_use", NULL,
                     "A virtual machine uses this volume; remove it from the machine first.");
    if (rc == 0 && template_holds(p, virStorageVolGetName(vol), &t->err) != 0)
        rc = -1;
    if (rc == 0 && virStorageVolDelete(vol, 0) < 0)
        rc = virt_error_code(&t->err, "storage_error", "Deleting the volume");
    if (rc == 0)
        t->result = json_pack("{s:b}", "deleted", 1);
    free(path);
    if (vol)
        virStorageVolFree(vol);
    if (pool)
        virStoragePoolFree(pool);
    return rc;
}

static int volumes_fn(struct timed *t) { return with_pool(t, volumes_action); }
static int volume_create_fn(struct timed *t) { return with_pool(t, volume_create_action); }
static int volume_resize_fn(struct timed *t) { return with_pool(t, volume_resize_action); }
static int volume_delete_fn(struct timed *t) { return with_pool(t, volume_delete_action); }

static int volume_op(struct op_call *call, int (*fn)(struct timed *))
{
    call->result = timed_call(fn, arg_pool(call), call->args, op_timeout(), &call->err);
    return call->result ? 0 : -1;
}

static int op_volumes(struct op_call *call)
{
    call->result = timed_call(volumes_fn, arg_pool(call), call->args, info_timeout(), &call->err);
    return call->result ? 0 : -1;
}
static int op_update(struct op_call *call) { return volume_op(call, autostart_fn); }

/* The refusals of a volume create, resize or delete (t->args "kind"),
 * answered before its job is made: only libvirt's definitions and its
 * last scan of the pool are read (no refresh), within info_timeout_s. */
static int volume_check_action(struct timed *t, virConnectPtr conn, struct storage_row *p)
{
    const char *kind = json_string_value(json_object_get(t->args, "kind"));
    const char *name = json_string_value(json_object_get(t->args, "name"));
    const char *format = json_string_value(json_object_get(t->args, "format"));
    bool create = !strcmp(kind, "storage.volume_create");
    if (create && !volume_name_valid(name))
        return err_set(&t->err, 400, "invalid_name", "name", "The volume name is not valid.");
    if (create && !strcmp(p->type, "logical") && format && strcmp(format, "raw"))
        return err_set(&t->err, 422, "invalid_volume", "format", "A logical volume is raw.");
    virStoragePoolPtr pool = running_pool(t, conn, p);
    if (!pool)
        return -1;
    virStorageVolPtr vol = volume_name_valid(name) ? virStorageVolLookupByName(pool, name) : NULL;
    virStorageVolInfo info = { 0 };
    char *path = vol && !strcmp(kind, "storage.volume_delete") ? virStorageVolGetPath(vol) : NULL;
    long long gb = json_integer_value(json_object_get(t->args, "capacity_gb"));
    int rc = 0;
    if (create && vol)
        rc = err_set(&t->err, 409, "volume_exists", "name", "The pool has a volume called %s.", name);
    else if (!create && !vol)
        rc = err_set(&t->err, 404, "not_found", NULL, "The pool has no such volume.");
    else if (!strcmp(kind, "storage.volume_resize") && virStorageVolGetInfo(vol, &info) == 0 &&
             (unsigned long long)gb << 30 < info.capacity)
        rc = err_set(&t->err, 422, "cannot_shrink", "capacity_gb",
                     "A volume only grows (shrinking would cut off its data).");
    else if (path && disks_under(conn, path, true))
        rc = err_set(&t->err, 409, "volume_in_use", NULL,
                     "A virtual machine uses this volume; remove it from the machine first.");
    else if (path && template_holds(p, name, &t->err) != 0)
        rc = -1;
    free(path);
    if (vol)
        virStorageVolFree(vol);
    virStoragePoolFree(pool);
    return rc;
}

static int volume_check_fn(struct timed *t) { return with_pool(t, volume_check_action); }

/* The body of a volume job: fn with the operation deadline (it checks
 * again: the pool may have changed since the request); the result is
 * {storage_pool_id, volume} and, but for a delete, the volume's figures. */
static int volume_job(struct job *job, int (*fn)(struct timed *), const char *line)
{
    json_t *args = job_options(job);
    job_log(job->id, line);
    job_progress(job, 10);
    struct err err = { 0 };
    json_t *done = timed_call(fn, job->object_id, args, op_timeout(), &err);
    int rc = 0;
    if (!done) {
        job_fail_reason(job, err.code, err.message);
        job_log(job->id, err.message);
        rc = -1;
    } else {
        json_t *result = json_pack("{s:I, s:O}", "storage_pool_id", (json_int_t)job->object_id,
                                   "volume", json_object_get(args, "name"));
        const char *keys[] = { "capacity_bytes", "allocation_bytes" };
        for (size_t k = 0; k < G_N_ELEMENTS(keys); k++)
            if (json_object_get(done, keys[k]))
                json_object_set(result, keys[k], json_object_get(done, keys[k]));
        job_result(job, result);
        json_decref(result);
        json_decref(done);
    }
    json_decref(args);
    return rc;
}

static int volume_create_job(struct job *job)
{
    return volume_job(job, volume_create_fn, "Creating the volume.");
}
static int volume_resize_job(struct job *job)
{
    return volume_job(job, volume_resize_fn, "Growing the volume.");
}
static int volume_delete_job(struct job *job)
{
    return volume_job(job, volume_delete_fn, "Deleting the volume.");
}

/* A volume create, resize or delete: refused at once (above), else 202
 * with its job. */
static int volume_in_job(struct op_call *call, const char *kind, int (*fn)(struct job *))
{
    json_t *args = json_deep_copy(call->args);
    json_object_set_new(args, "kind", json_string(kind));
    json_t *checked = timed_call(volume_check_fn, arg_pool(call), args, info_timeout(), &call->err);
    json_object_del(args, "kind");
    json_object_del(args, "pool_id");
    int rc = checked ? in_job(call, kind, args, fn) : -1;
    json_decref(checked);
    json_decref(args);
    return rc;
}

static int op_volume_create(struct op_call *call)
{
    return volume_in_job(call, "storage.volume_create", volume_create_job);
}
static int op_volume_resize(struct op_call *call)
{
    return volume_in_job(call, "storage.volume_resize", volume_resize_job);
}
static int op_volume_delete(struct op_call *call)
{
    return volume_in_job(call, "storage.volume_delete", volume_delete_job);
}

/* --- volumes from uploads, and downloads -------------------------------- */

/* A file-backed pool (dir, netfs): its volumes are plain files in its
 * directory, which an upload can be written into and nginx can send. */
static int file_pool(const struct storage_row *p, struct err *err)
{
    if (strcmp(p->type, "dir") && strcmp(p->type, "netfs"))
        return err_set(err, 422, "unsupported_pool", NULL,
                       "Only directory and NFS pools take uploaded volumes and send them.");
    return row_check(p, err);
}

/* Whether the running pool may take a new volume name (NULL: a VM disk
 * named later) of bytes: 0, or -1 with the reason in t->err. */
static int room_check(struct timed *t, virConnectPtr conn, struct storage_row *p,
                      const char *name, long long bytes)
{
    if (name && !volume_name_valid(name))
        return err_set(&t->err, 400, "invalid_name", "name", "The volume name is not valid.");
    if (file_pool(p, &t->err) < 0)
        return -1;
    virStoragePoolPtr pool = running_pool(t, conn, p);
    if (!pool)
        return -1;
    int rc = 0;
    virStorageVolPtr existing = name ? virStorageVolLookupByName(pool, name) : NULL;
    char *path = name ? g_strdup_printf("%s/%s", p->path, name) : NULL;
    struct stat st;
    virStoragePoolInfo info = { 0 };
    if (existing || (path && lstat(path, &st) == 0))
        rc = err_set(&t->err, 409, "volume_exists", "name", "The pool has a volume called %s.",
                     name);
    else if (virStoragePoolGetInfo(pool, &info) < 0)
        rc = virt_error_code(&t->err, "storage_error", "Reading the pool");
    else if ((unsigned long long)bytes > info.available)
        rc = err_set(&t->err, 413, "pool_full", NULL,
                     "The pool has %llu bytes free; the volume needs %lld.", info.available, bytes);
    if (existing)
        virStorageVolFree(existing);
    g_free(path);
    virStoragePoolFree(pool);
    return rc;
}

static int room_action(struct timed *t, virConnectPtr conn, struct storage_row *p)
{
    const char *name = json_string_value(json_object_get(t->args, "name"));
    long long bytes = json_integer_value(json_object_get(t->args, "bytes"));
    if (room_check(t, conn, p, name, bytes) < 0)
        return -1;
    t->result = json_pack("{s:b}", "room", 1);
    return 0;
}

/* The sandbox's image (t->ctx), judged already, becomes the volume. */
static int import_action(struct timed *t, virConnectPtr conn, struct storage_row *p)
{
    const char *name = json_string_value(json_object_get(t->args, "name"));
    long long bytes = json_integer_value(json_object_get(t->args, "bytes"));
    if (room_check(t, conn, p, name, bytes) < 0)
        return -1;
    char *path = g_strdup_printf("%s/%s", p->path, name);
    int rc = sandbox_release(t->ctx, path, &t->err);
    virStoragePoolPtr pool = rc == 0 ? pool_of(conn, p, &t->err) : NULL;
    virStorageVolPtr vol = NULL;
    if (pool && virStoragePoolRefresh(pool, 0) == 0)
        vol = virStorageVolLookupByName(pool, name);
    if (rc == 0 && !vol) {
        rc = virt_error_code(&t->err, "storage_error", "Adding the volume to the pool");
        unlink(path);
    }
    if (vol) {
        t->result = volume_json(vol, 0);
        virStorageVolFree(vol);
    }
    if (pool)
        virStoragePoolFree(pool);
    g_free(path);
    return rc;
}

static int import_fn(struct timed *t) { return with_pool(t, import_action); }

int storage_volume_import(long long pool_id, const char *name, long long bytes,
                          struct sandbox **sb, struct err *err)
{
    json_t *args = json_pack("{s:s, s:I}", "name", name, "bytes", (json_int_t)bytes);
    struct timed *t = timed_new(import_fn, pool_id, args);
    json_decref(args);
    t->ctx = *sb;
    int rc = timed_run(t, op_timeout(), err);
    /* Past the deadline the call still holds the sandbox: it is its to
     * keep (the helper's sandbox sweep removes it at the next start). */
    if (rc < 0 && !strcmp(err->code, "storage_timeout"))
        *sb = NULL;
    timed_unref(t);
    return rc;
}

/* The volume's file for nginx to send: a plain file directly in the
 * pool's directory that no running domain writes, readable by nginx's
 * user (lib/pool_file.h); its path. */
static int download_action(struct timed *t, virConnectPtr conn, struct storage_row *p)
{
    if (file_pool(p, &t->err) < 0)
        return -1;
    virStoragePoolPtr pool = running_pool(t, conn, p);
    virStorageVolPtr vol = pool ? volume_of(t, pool) : NULL;
    int rc = vol ? 0 : -1;
    char *path = vol ? virStorageVolGetPath(vol) : NULL;
    char *expected = vol ? g_strdup_printf("%s/%s", p->path, virStorageVolGetName(vol)) : NULL;
    struct stat st;
    if (rc == 0 && (!path || strcmp(path, expected) || lstat(path, &st) < 0 ||
                    !S_ISREG(st.st_mode) || st.st_nlink != 1))
        rc = err_set(&t->err, 409, "not_a_file", NULL, "This volume is not a plain file of the pool.");
    virDomainPtr *doms = NULL;
    int n = rc == 0 ? virConnectListAllDomains(conn, &doms, VIR_CONNECT_LIST_DOMAINS_ACTIVE) : 0;
    for (int i = 0; i < n; i++) {
        char *xml = rc == 0 ? virDomainGetXMLDesc(doms[i], 0) : NULL;
        char *needle = g_strdup_printf("'%s'", path);
        if (xml && strstr(xml, needle))
            rc = err_set(&t->err, 409, "volume_in_use", NULL,
                         "A running virtual machine writes this volume; stop it first.");
        g_free(needle);
        free(xml);
        virDomainFree(doms[i]);
    }
    free(doms);
    if (rc == 0 && pool_file_protect(path, true) < 0)
        rc = err_set(&t->err, 503, "storage_error", NULL, "The volume cannot be made readable.");
    if (rc == 0)
        t->result = json_pack("{s:s, s:I}", "path", path, "size_bytes", (json_int_t)st.st_size);
    free(path);
    g_free(expected);
    if (vol)
        virStorageVolFree(vol);
    if (pool)
        virStoragePoolFree(pool);
    return rc;
}

char *storage_pool_dir(long long pool_id, struct err *err)
{
    struct storage_row *p = row_load(pool_id, err);
    char *dir = p && file_pool(p, err) == 0 ? g_strdup(p->path) : NULL;
    storage_row_free(p);
    return dir;
}

int storage_volume_remove(long long pool_id, const char *name, struct err *err)
{
    json_t *args = json_pack("{s:s}", "name", name);
    json_t *done = timed_call(volume_delete_fn, pool_id, args, op_timeout(), err);
    json_decref(args);
    json_decref(done);
    return done ? 0 : -1;
}

static int room_fn(struct timed *t) { return with_pool(t, room_action); }
static int download_fn(struct timed *t) { return with_pool(t, download_action); }
/* Also for users, who may place a VM's disk only in a pool an
 * administrator opened to them (users_allowed), as vmm-vms checked. */
static int op_volume_room(struct op_call *call)
{
    if (call->actor->role != ROLE_ADMIN) {
        struct db_rows *rows = db_query("SELECT 1 FROM storage_pools WHERE id = ? AND "
                                        "users_allowed", DB_INT(arg_pool(call)));
        int open = rows ? rows->nrows : -1;
        db_rows_free(rows);
        if (open < 0)
            return db_down(&call->err);
        if (!open)
            return err_set(&call->err, 403, "forbidden", "pool",
                           "This storage pool is not open to users.");
    }
    return volume_op(call, room_fn);
}
static int op_volume_download(struct op_call *call) { return volume_op(call, download_fn); }

static const char *const formats[] = { "qcow2", "raw", NULL };
#define POOL_ID { "pool_id", FIELD_INT, true, 1, INT64_MAX }
static const struct field pool_args[] = { POOL_ID, { NULL } };
static const struct field no_args[] = { { NULL } };
static const struct field volume_args[] = {
    POOL_ID, { "name", FIELD_STRING, true, 1, 48 }, { NULL },
};
static const struct field volume_create_args[] = {
    POOL_ID, { "name", FIELD_STRING, true, 1, 48 },
    { "capacity_gb", FIELD_INT, true, 1, 65536 },
    { "format", FIELD_ENUM, false, 0, 0, formats }, { NULL },
};
static const struct field volume_room_args[] = {
    POOL_ID, { "name", FIELD_STRING, false, 1, 48 },
    { "bytes", FIELD_INT, true, 1, INT64_MAX }, { NULL },
};
static const struct field volume_resize_args[] = {
    POOL_ID, { "name", FIELD_STRING, true, 1, 48 },
    { "capacity_gb", FIELD_INT, true, 1, 65536 }, { NULL },
};

const struct op storage_ops[] = {
    { "storage.create", op_create, pool_args, true, true },
    { "storage.start", op_start, pool_args, true, true },
    { "storage.stop", op_stop, pool_args, true, true },
    { "storage.refresh", op_refresh, pool_args, true, true },
    { "storage.delete", op_delete, pool_args, true, true },
    { "storage.states", op_states, no_args, true, true },
    { "storage.update", op_update, pool_args, true, true },
    { "storage.volumes", op_volumes, pool_args, true, true },
    { "storage.volume_create", op_volume_create, volume_create_args, true, true },
    { "storage.volume_resize", op_volume_resize, volume_resize_args, true, true },
    { "storage.volume_delete", op_volume_delete, volume_args, true, true },
    { "storage.volume_room", op_volume_room, volume_room_args, false, true },
    { "storage.volume_download", op_volume_download, volume_args, true, true },
    { NULL },
};
