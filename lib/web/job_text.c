#include "job_text.h"

#include <string.h>

#include "i18n.h"

static const struct {
    const char *kind, *label;
} job_kinds[] = {
    { "vm.create", N_("Create virtual machine") },
    { "vm.stop", N_("Shut down virtual machine") },
    { "vm.install", N_("Finish installation") },
    { "upload.import", N_("Import upload") },
    { "iso.verify", N_("Verify ISO image") },
    { "vm.clone", N_("Clone virtual machine") },
    { "backup.create", N_("Back up virtual machine") },
    { "backup.restore", N_("Restore backup") },
    { "disk.remove", N_("Remove disk") },
    { "nic.remove", N_("Remove network interface") },
    { "vm.migrate", N_("Migrate virtual machine") },
    { "vm.export", N_("Export virtual machine (OVA)") },
    { "storage.create", N_("Create storage pool") },
    { "storage.start", N_("Start storage pool") },
    { "storage.stop", N_("Stop storage pool") },
    { "storage.refresh", N_("Refresh storage pool") },
    { "storage.delete", N_("Delete storage pool") },
    { "storage.volume_create", N_("Create volume") },
    { "storage.volume_resize", N_("Grow volume") },
    { "storage.volume_delete", N_("Delete volume") },
    { NULL, NULL },
};

const char *job_kind_label(const char *kind)
{
    for (int i = 0; kind && job_kinds[i].kind; i++)
        if (!strcmp(job_kinds[i].kind, kind))
            return _(job_kinds[i].label);
    return kind;
}

bool job_kind_known(const char *kind)
{
    for (int i = 0; kind && job_kinds[i].kind; i++)
        if (!strcmp(job_kinds[i].kind, kind))
            return true;
    return false;
}

const char *job_kind_at(int n)
{
    return n >= 0 && n < (int)(sizeof job_kinds / sizeof job_kinds[0]) ? job_kinds[n].kind : NULL;
}
