/* vmm-host: this host's capabilities (CPUs, memory, accelerator,
 * architectures and machine types), as the helper reads them from libvirt. */
#include "app.h"
#include "helper_client.h"
#include "i18n.h"

static int host_show(struct req *r)
{
    json_t *info = helper_call(r, "host.info", NULL);
    if (!info)
        return -1;
    r->data = info;
    return 0;
}

/* What does not match between the database and libvirt (admins). */
static int host_reconcile(struct req *r)
{
    json_t *report = helper_call(r, "host.reconcile", NULL);
    if (!report)
        return -1;
    r->data = report;
    return 0;
}

static const struct route routes[] = {
    { "GET", "/host", host_show, PERM_USER, ROUTE_BOTH, "host.tpl", N_("Host") },
    { "GET", "/host/reconcile", host_reconcile, PERM_ADMIN, ROUTE_API },
    { NULL },
};

int main(int argc, char **argv)
{
    return app_run(argv[0], routes);
}
