/* vmm-host: this host's capabilities (CPUs, memory, the accelerator's
 * verdict and its reason, architectures and machine types), as the helper
 * reads them from libvirt; the reconcile report and its resolution. */
#include "app.h"
#include "hardware.h"
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

/* Resolves the rows nothing else will (a creation that did not finish),
 * then reports what still does not match (admins; audited). */
static int host_resolve(struct req *r)
{
    json_t *report = helper_call(r, "host.resolve", NULL);
    if (!report)
        return -1;
    r->audit_detail = json_incref(json_object_get(report, "resolved"));
    r->data = report;
    return 0;
}

/* GET /host/cpu-models?arch=: the CPU models guests may get (issue 17). */
static int host_cpu_models(struct req *r)
{
    const char *arch = req_query(r, "arch");
    r->data = hardware_cpu_models(r, arch && *arch ? arch : "x86_64");
    return r->data ? 0 : -1;
}

static const struct field no_fields[] = { { NULL } };

static const struct route routes[] = {
    { "GET", "/host", host_show, PERM_USER, ROUTE_BOTH, "host.tpl", N_("Host") },
    { "GET", "/host/reconcile", host_reconcile, PERM_ADMIN, ROUTE_API },
    { "GET", "/host/cpu-models", host_cpu_models, PERM_USER, ROUTE_API },
    { "POST", "/host/reconcile", host_resolve, PERM_ADMIN, ROUTE_API, NULL, NULL, no_fields,
      "host.reconcile" },
    { NULL },
};

int main(int argc, char **argv)
{
    return app_run(argv[0], routes);
}
