#include "virt.h"

#include <libvirt/virterror.h>
#include <pthread.h>

#include "config.h"
#include "log.h"

static pthread_mutex_t virt_lock = PTHREAD_MUTEX_INITIALIZER;
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

static int on_domain_event(virConnectPtr conn, virDomainPtr dom, int event, int detail,
                           void *opaque)
{
    virt_on_lifecycle(dom);
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

virConnectPtr virt_conn(struct err *err)
{
    const char *uri = config_str("helper", "libvirt_uri", "qemu:///system");
    pthread_mutex_lock(&virt_lock);
    if (virt_shared && virConnectIsAlive(virt_shared) != 1) {
        virConnectClose(virt_shared);
        virt_shared = NULL;
    }
    if (!virt_shared) {
        virt_shared = virConnectOpen(uri);
        if (virt_shared) {
            virConnectSetKeepAlive(virt_shared, 5, 3);
            virConnectRegisterCloseCallback(virt_shared, on_close, NULL, NULL);
            if (virt_on_lifecycle)
                virConnectDomainEventRegisterAny(virt_shared, NULL, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                                 VIR_DOMAIN_EVENT_CALLBACK(on_domain_event),
                                                 NULL, NULL);
            if (virt_device_removed)
                virConnectDomainEventRegisterAny(virt_shared, NULL,
                                                 VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED,
                                                 VIR_DOMAIN_EVENT_CALLBACK(on_device_removed),
                                                 NULL, NULL);
            log_info("connected to %s", uri);
        } else {
            log_warn("cannot connect to %s: %s", uri, virGetLastErrorMessage());
        }
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
