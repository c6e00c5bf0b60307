#include "virt.h"

#include <arpa/inet.h>
#include <glib.h>
#include <libvirt/virterror.h>
#include <pthread.h>
#include <time.h>

#include "config.h"
#include "db.h"
#include <string.h>
#include "log.h"

static pthread_mutex_t virt_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t virt_opened = PTHREAD_COND_INITIALIZER;
static virt_lifecycle_fn virt_on_lifecycle;
static virt_device_removed_fn virt_device_removed;
static virt_network_started_fn virt_network_started;

/* One connection per host (issue 19): host 1 is the helper's own
 * ([helper] libvirt_uri), the others are rows of the hosts table. An open
 * in progress: virConnectOpen has no deadline of its own and a wedged
 * libvirtd never answers it, so one caller opens while the others wait
 * for it, each for at most the deadline. An open older than [helper]
 * call_deadline_s is given up: the next caller tries anew and the late
 * one, if it ever returns, closes what it got. */
#define VIRT_MAX_HOSTS 64
struct virt_slot {
    long long host_id;   /* 0: free */
    char *uri;
    virConnectPtr conn;
    unsigned opening_attempt;
    gint64 opening_since;   /* monotonic µs; 0: no open in progress */
};
static struct virt_slot slots[VIRT_MAX_HOSTS];

void virt_on_device_removed(virt_device_removed_fn fn)
{
    virt_device_removed = fn;
}

void virt_on_network_started(virt_network_started_fn fn)
{
    virt_network_started = fn;
}

static void on_network_event(virConnectPtr conn, virNetworkPtr net, int event, int detail,
                             void *opaque)
{
    if (event == VIR_NETWORK_EVENT_STARTED)
        virt_network_started(virNetworkGetName(net));
}

static void on_device_removed(virConnectPtr conn, virDomainPtr dom, const char *alias,
                              void *opaque)
{
    virt_device_removed(dom, alias);
}

static void *event_loop(void *unused)
{
    for (;;)
        if (virEventRunDefaultImpl() < 0)
            log_error("libvirt event loop: %s", virGetLastErrorMessage());
    return NULL;
}

/* libvirt reports errors through our return values; keep its own
 * default handler from printing them to stderr as well. */
static void quiet_errors(void *data, virErrorPtr error) {}

int virt_init(virt_lifecycle_fn on_lifecycle)
{
    virt_on_lifecycle = on_lifecycle;
    pthread_t thread;
    virSetErrorFunc(NULL, quiet_errors);
    if (virInitialize() < 0 || virEventRegisterDefaultImpl() < 0)
        return -1;
    if (pthread_create(&thread, NULL, event_loop, NULL) != 0)
        return -1;
    pthread_detach(thread);
    return 0;
}

int virt_deadline_s(void)
{
    long long s = config_int("helper", "call_deadline_s", 20);
    return s < 1 ? 1 : s > 600 ? 600 : (int)s;
}

static int on_domain_event(virConnectPtr conn, virDomainPtr dom, int event, int detail,
                           void *opaque)
{
    virt_on_lifecycle(dom, event, detail);
    return 0;
}

static void on_close(virConnectPtr conn, int reason, void *opaque)
{
    log_warn("libvirt connection closed (reason %d); reconnecting on next use", reason);
    pthread_mutex_lock(&virt_lock);
    for (int i = 0; i < VIRT_MAX_HOSTS; i++)
        if (slots[i].conn == conn) {
            slots[i].conn = NULL;
            virConnectClose(conn);
        }
    pthread_mutex_unlock(&virt_lock);
}

/* Keepalive: a libvirtd that stops answering (stopped, wedged below its
 * RPC layer) is noticed within interval * (count + 1) seconds, and every
 * call waiting on it then fails instead of waiting for ever. */
static void conn_setup(virConnectPtr conn, const char *uri, long long host_id)
{
    int interval = (int)config_int("helper", "keepalive_interval_s", 3);
    int count = (int)config_int("helper", "keepalive_count", 3);
    if (virConnectSetKeepAlive(conn, interval, count) < 0)
        log_warn("libvirt keepalive not set: %s", virGetLastErrorMessage());
    virConnectRegisterCloseCallback(conn, on_close, NULL, NULL);
    if (virt_on_lifecycle)
        virConnectDomainEventRegisterAny(conn, NULL, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                         VIR_DOMAIN_EVENT_CALLBACK(on_domain_event), NULL, NULL);
    if (virt_device_removed)
        virConnectDomainEventRegisterAny(conn, NULL, VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED,
                                         VIR_DOMAIN_EVENT_CALLBACK(on_device_removed), NULL, NULL);
    if (virt_network_started && host_id == VIRT_LOCAL_HOST) {
        virConnectNetworkEventRegisterAny(conn, NULL, VIR_NETWORK_EVENT_ID_LIFECYCLE,
                                          VIR_NETWORK_EVENT_CALLBACK(on_network_event), NULL,
                                          NULL);
        virt_network_started(NULL);   /* libvirtd may have restarted: its chains anew */
    }
    log_info("connected to %s", uri);
}

/* The host's URI now: the config's for host 1, else its row's (so a host
 * removed or changed is noticed at the next use). NULL when there is no
 * such host (err 404) or the database is down (503). */
static char *host_uri(long long host_id, struct err *err)
{
    if (host_id == VIRT_LOCAL_HOST)
        return g_strdup(config_str("helper", "libvirt_uri", "qemu:///system"));
    struct db_rows *rows = db_query("SELECT uri FROM hosts WHERE id = ?", DB_INT(host_id));
    if (!rows) {
        err_set(err, 503, "database_unavailable", NULL, "The database is not available.");
        return NULL;
    }
    char *uri = rows->nrows == 1 ? g_strdup(db_cell(rows, 0, 0)) : NULL;
    db_rows_free(rows);
    if (!uri)
        err_set(err, 404, "not_found", "host_id", "There is no such host.");
    return uri;
}

char *virt_host_address(long long host_id)
{
    if (host_id == VIRT_LOCAL_HOST)
        return NULL;
    struct db_rows *rows = db_query("SELECT migration_address, uri FROM hosts WHERE id = ?",
                                    DB_INT(host_id));
    char *out = NULL;
    for (int col = 0; rows && rows->nrows == 1 && col < 2 && !out; col++) {
        const char *cell = db_cell(rows, 0, col);
        if (!cell)
            continue;
        /* The URI's host part: after "://" and any user@, up to / or :. */
        const char *start = col == 0 ? cell : strstr(cell, "://");
        if (!start)
            continue;
        start = col == 0 ? start : start + 3;
        const char *at = strchr(start, '@'), *end = strpbrk(start, "/:");
        if (at && (!end || at < end))
            start = at + 1, end = strpbrk(start, "/:");
        char *host = end ? g_strndup(start, (gsize)(end - start)) : g_strdup(start);
        struct in_addr addr;
        if (inet_pton(AF_INET, host, &addr) == 1)
            out = host;
        else
            g_free(host);
    }
    db_rows_free(rows);
    return out;
}

/* The slot of host_id (made, or its URI renewed); under virt_lock. */
static struct virt_slot *slot_for(long long host_id, const char *uri)
{
    struct virt_slot *free_slot = NULL;
    for (int i = 0; i < VIRT_MAX_HOSTS; i++) {
        if (slots[i].host_id == host_id) {
            if (strcmp(slots[i].uri, uri)) {
                if (slots[i].conn)
                    virConnectClose(slots[i].conn);
                slots[i].conn = NULL;
                g_free(slots[i].uri);
                slots[i].uri = g_strdup(uri);
            }
            return &slots[i];
        }
        if (!slots[i].host_id && !free_slot)
            free_slot = &slots[i];
    }
    if (free_slot) {
        free_slot->host_id = host_id;
        free_slot->uri = g_strdup(uri);
    }
    return free_slot;
}

static void slot_open(struct virt_slot *slot, gint64 deadline)
{
    long long limit = (gint64)virt_deadline_s() * G_USEC_PER_SEC;
    if (slot->conn && virConnectIsAlive(slot->conn) != 1) {
        virConnectClose(slot->conn);
        slot->conn = NULL;
    }
    while (!slot->conn && slot->opening_since && g_get_monotonic_time() < deadline &&
           g_get_monotonic_time() - slot->opening_since < limit) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += 1;   /* re-checked each second: the open may go stale */
        pthread_cond_timedwait(&virt_opened, &virt_lock, &until);
    }
    gint64 now = g_get_monotonic_time();
    if (slot->conn || now >= deadline || (slot->opening_since && now - slot->opening_since < limit))
        return;
    char *uri = g_strdup(slot->uri);
    long long host_id = slot->host_id;
    if (slot->opening_since)
        log_warn("opening %s took over %d s; trying again", uri, virt_deadline_s());
    unsigned attempt = ++slot->opening_attempt;
    slot->opening_since = now;
    pthread_mutex_unlock(&virt_lock);
    virConnectPtr opened = virConnectOpen(uri);
    char *why = opened ? NULL : g_strdup(virGetLastErrorMessage());
    pthread_mutex_lock(&virt_lock);
    if (attempt != slot->opening_attempt || slot->host_id != host_id || strcmp(slot->uri, uri)) {
        /* Given up meanwhile: someone else opens (or opened) now. */
        if (opened)
            virConnectClose(opened);
    } else {
        slot->opening_since = 0;
        if (opened) {
            conn_setup(opened, uri, host_id);
            slot->conn = opened;
        } else {
            log_warn("cannot connect to %s: %s", uri, why);
        }
        pthread_cond_broadcast(&virt_opened);
    }
    g_free(why);
    g_free(uri);
}

virConnectPtr virt_conn_host(long long host_id, struct err *err)
{
    char *uri = host_uri(host_id, err);
    if (!uri)
        return NULL;
    gint64 deadline = g_get_monotonic_time() + (gint64)virt_deadline_s() * G_USEC_PER_SEC;
    pthread_mutex_lock(&virt_lock);
    struct virt_slot *slot = slot_for(host_id, uri);
    virConnectPtr conn = NULL;
    if (slot) {
        slot_open(slot, deadline);
        conn = slot->conn;
    }
    if (conn)
        virConnectRef(conn);
    pthread_mutex_unlock(&virt_lock);
    g_free(uri);
    if (!conn)
        err_set(err, 503, host_id == VIRT_LOCAL_HOST ? "libvirt_unavailable" : "host_unavailable",
                NULL, host_id == VIRT_LOCAL_HOST
                          ? "The virtualization service is not available. Try again shortly."
                          : "The host does not answer. Try again shortly.");
    return conn;
}

virDomainPtr virt_domain(long long host_id, const char *domain_name, virConnectPtr *conn,
                         struct err *err)
{
    *conn = virt_conn_host(host_id, err);
    if (!*conn)
        return NULL;
    virDomainPtr dom = virDomainLookupByName(*conn, domain_name);
    if (!dom) {
        err_set(err, 409, "no_domain", NULL,
                "This virtual machine has no domain in libvirt; see the reconcile report.");
        virConnectClose(*conn);
        *conn = NULL;
    }
    return dom;
}

int virt_error_code(struct err *err, const char *code, const char *what)
{
    return err_set(err, 502, code, NULL, "%s failed: %s", what, virGetLastErrorMessage());
}

int virt_error(struct err *err, const char *what)
{
    return virt_error_code(err, "libvirt_error", what);
}

virConnectPtr virt_conn(struct err *err)
{
    return virt_conn_host(VIRT_LOCAL_HOST, err);
}

long long virt_host_of(virConnectPtr conn)
{
    long long id = 0;
    pthread_mutex_lock(&virt_lock);
    for (int i = 0; i < VIRT_MAX_HOSTS && !id; i++)
        if (slots[i].conn == conn)
            id = slots[i].host_id;
    pthread_mutex_unlock(&virt_lock);
    return id;
}

void virt_forget_host(long long host_id)
{
    pthread_mutex_lock(&virt_lock);
    for (int i = 0; i < VIRT_MAX_HOSTS; i++)
        if (slots[i].host_id == host_id) {
            if (slots[i].conn)
                virConnectClose(slots[i].conn);
            g_free(slots[i].uri);
            slots[i] = (struct virt_slot){ 0 };
        }
    pthread_mutex_unlock(&virt_lock);
}
