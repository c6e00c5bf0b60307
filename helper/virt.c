#include "virt.h"

#include <glib.h>
#include <libvirt/virterror.h>
#include <pthread.h>
#include <time.h>

#include "config.h"
#include "log.h"

static pthread_mutex_t virt_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t virt_opened = PTHREAD_COND_INITIALIZER;
static virConnectPtr virt_shared;
static virt_lifecycle_fn virt_on_lifecycle;
static virt_device_removed_fn virt_device_removed;

void virt_on_device_removed(virt_device_removed_fn fn)
{
    virt_device_removed = fn;
}

static void on_device_removed(virConnectPtr conn, virDomainPtr dom, const char *alias,
                              void *opaque)
{
    virt_device_removed(dom, alias);
}

/* An open in progress: virConnectOpen has no deadline of its own and a
 * wedged libvirtd never answers it, so one caller opens while the others
 * wait for it, each for at most the deadline. An open older than
 * [helper] call_deadline_s is given up: the next caller tries anew and the
 * late one, if it ever returns, closes what it got. */
static unsigned opening_attempt;
static gint64 opening_since;   /* monotonic µs; 0: no open in progress */

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
    if (virt_shared == conn) {
        virt_shared = NULL;
        virConnectClose(conn);
    }
    pthread_mutex_unlock(&virt_lock);
}

/* Keepalive: a libvirtd that stops answering (stopped, wedged below its
 * RPC layer) is noticed within interval * (count + 1) seconds, and every
 * call waiting on it then fails instead of waiting for ever. */
static void conn_setup(virConnectPtr conn, const char *uri)
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
    log_info("connected to %s", uri);
}

virConnectPtr virt_conn(struct err *err)
{
    const char *uri = config_str("helper", "libvirt_uri", "qemu:///system");
    pthread_mutex_lock(&virt_lock);
    if (virt_shared && virConnectIsAlive(virt_shared) != 1) {
        virConnectClose(virt_shared);
        virt_shared = NULL;
    }
    gint64 deadline = g_get_monotonic_time() + (gint64)virt_deadline_s() * G_USEC_PER_SEC;
    while (!virt_shared && opening_since && g_get_monotonic_time() < deadline &&
           g_get_monotonic_time() - opening_since < (gint64)virt_deadline_s() * G_USEC_PER_SEC) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += 1;   /* re-checked each second: the open may go stale */
        pthread_cond_timedwait(&virt_opened, &virt_lock, &until);
    }
    gint64 now = g_get_monotonic_time();
    if (!virt_shared && now < deadline &&
        (!opening_since || now - opening_since >= (gint64)virt_deadline_s() * G_USEC_PER_SEC)) {
        if (opening_since)
            log_warn("opening %s took over %d s; trying again", uri, virt_deadline_s());
        unsigned attempt = ++opening_attempt;
        opening_since = now;
        pthread_mutex_unlock(&virt_lock);
        virConnectPtr opened = virConnectOpen(uri);
        char *why = opened ? NULL : g_strdup(virGetLastErrorMessage());
        pthread_mutex_lock(&virt_lock);
        if (attempt != opening_attempt) {
            /* Given up meanwhile: someone else opens (or opened) now. */
            if (opened)
                virConnectClose(opened);
        } else {
            opening_since = 0;
            if (opened) {
                conn_setup(opened, uri);
                virt_shared = opened;
            } else {
                log_warn("cannot connect to %s: %s", uri, why);
            }
            pthread_cond_broadcast(&virt_opened);
        }
        g_free(why);
    }
    virConnectPtr conn = virt_shared;
    if (conn)
        virConnectRef(conn);
    pthread_mutex_unlock(&virt_lock);
    if (!conn)
        err_set(err, 503, "libvirt_unavailable", NULL,
                "The virtualization service is not available. Try again shortly.");
    return conn;
}
