#include "install.h"

#include <archive.h>
#include <archive_entry.h>
#include <glib.h>
#include <libvirt/virterror.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "db.h"
#include "domain_xml.h"
#include "job.h"
#include "log.h"
#include "pool.h"
#include "sandbox.h"
#include "yaml_doc.h"

char *install_seed_path(const char *domain_name)
{
    char *name = g_strdup_printf("%s-seed.iso", domain_name);
    char *path = pool_path("seeds", name);
    g_free(name);
    return path;
}

/* The installer's kernel and initrd taken from a Debian ISO (preseed). */
static char *installer_path(const char *domain_name, const char *what)
{
    char *name = g_strdup_printf("%s-%s", domain_name, what);
    char *path = pool_path("seeds", name);
    g_free(name);
    return path;
}

void install_seed_remove(const char *domain_name)
{
    char *paths[] = { install_seed_path(domain_name), installer_path(domain_name, "vmlinuz"),
                      installer_path(domain_name, "initrd.gz") };
    for (size_t i = 0; i < G_N_ELEMENTS(paths); i++) {
        unlink(paths[i]);
        g_free(paths[i]);
    }
}

/* debian-installer reads /preseed.cfg from its initrd by itself; these
 * arguments make it ask nothing and talk on the serial console. */
#define PRESEED_CMDLINE "auto=true priority=critical console=ttyS0,115200n8 ---"

void install_direct_boot(const char *domain_name, struct domain_spec *spec, char **kernel,
                         char **initrd)
{
    *kernel = installer_path(domain_name, "vmlinuz");
    *initrd = installer_path(domain_name, "initrd.gz");
    if (access(*kernel, F_OK) == 0 && access(*initrd, F_OK) == 0) {
        spec->kernel = *kernel;
        spec->initrd = *initrd;
        spec->cmdline = PRESEED_CMDLINE;
    }
}

static char *meta_data(const char *uuid, long long revision, const char *hostname)
{
    yaml_document_t doc;
    yaml_doc_new(&doc);
    int root = yaml_doc_map(&doc);
    char *instance = g_strdup_printf("%s-r%lld", uuid, revision);
    yaml_doc_set(&doc, root, "instance-id", yaml_doc_str(&doc, instance));
    yaml_doc_set(&doc, root, "local-hostname", yaml_doc_str(&doc, hostname));
    g_free(instance);
    return yaml_doc_dump(&doc, NULL);
}

/* network-config v2: each NIC matched by its MAC; the address its IP pool
 * allocated (with the pool's prefix, gateway and DNS) where it has one,
 * else DHCP. A VM without NIC rows gets DHCP on every ethernet. */
static char *network_config(long long vm_id)
{
    struct db_rows *rows = db_query(
        "SELECT c.mac, a.ip, p.cidr, p.gateway, p.dns FROM vm_nics c "
        "LEFT JOIN ip_allocations a ON a.nic_id = c.id LEFT JOIN ip_pools p ON p.id = a.pool_id "
        "WHERE c.vm_id = ? ORDER BY c.position", DB_INT(vm_id));
    if (!rows)
        return NULL;
    yaml_document_t doc;
    yaml_doc_new(&doc);
    int root = yaml_doc_map(&doc);
    yaml_doc_set(&doc, root, "version", yaml_doc_int(&doc, 2));
    int ethernets = yaml_doc_map(&doc);
    yaml_doc_set(&doc, root, "ethernets", ethernets);
    for (int i = 0; i < rows->nrows; i++) {
        int nic = yaml_doc_map(&doc);
        char key[16];
        snprintf(key, sizeof key, "nic%d", i);
        yaml_doc_set(&doc, ethernets, key, nic);
        int match = yaml_doc_map(&doc);
        yaml_doc_set(&doc, match, "macaddress", yaml_doc_str(&doc, db_cell(rows, i, 0)));
        yaml_doc_set(&doc, nic, "match", match);
        const char *ip = db_cell(rows, i, 1), *cidr = db_cell(rows, i, 2);
        const char *slash = cidr ? strchr(cidr, '/') : NULL;
        if (!ip || !slash) {
            yaml_doc_set(&doc, nic, "dhcp4", yaml_doc_bool(&doc, 1));
            continue;
        }
        int addresses = yaml_doc_seq(&doc);
        char *address = g_strdup_printf("%s%s", ip, slash);
        yaml_doc_append(&doc, addresses, yaml_doc_str(&doc, address));
        g_free(address);
        yaml_doc_set(&doc, nic, "addresses", addresses);
        const char *gateway = db_cell(rows, i, 3), *dns = db_cell(rows, i, 4);
        if (gateway && *gateway)
            yaml_doc_set(&doc, nic, "gateway4", yaml_doc_str(&doc, gateway));
        if (dns && *dns) {
            int servers = yaml_doc_map(&doc), list = yaml_doc_seq(&doc);
            gchar **each = g_strsplit_set(dns, ", ", -1);
            for (gchar **d = each; *d; d++)
                if (**d)
                    yaml_doc_append(&doc, list, yaml_doc_str(&doc, *d));
            g_strfreev(each);
            yaml_doc_set(&doc, servers, "addresses", list);
            yaml_doc_set(&doc, nic, "nameservers", servers);
        }
    }
    if (rows->nrows == 0) {
        int any = yaml_doc_map(&doc), match = yaml_doc_map(&doc);
        yaml_doc_set(&doc, match, "name", yaml_doc_str(&doc, "e*"));
        yaml_doc_set(&doc, any, "match", match);
        yaml_doc_set(&doc, any, "dhcp4", yaml_doc_bool(&doc, 1));
        yaml_doc_set(&doc, ethernets, "all", any);
    }
    db_rows_free(rows);
    return yaml_doc_dump(&doc, NULL);
}

/* Copies out/name (a file xorriso wrote in the sandbox) to path. */
static int take_out(struct sandbox *sb, const char *name, const char *path, struct err *err)
{
    return sandbox_claim(sb, name, err) < 0 || sandbox_release(sb, path, err) < 0 ? -1 : 0;
}

struct seed_file {
    const char *name;
    const char *text;
};

/* The ISO made by xorriso in the sandbox from files (the volume labelled
 * label), moved to path. xorriso only copies these bytes into an image;
 * the sandbox keeps a fault in it from reaching anything but them. */
static int build_iso(const char *label, const struct seed_file *files, int n, const char *path,
                     struct err *err)
{
    struct sandbox *sb = sandbox_new(err);
    if (!sb)
        return -1;
    int rc = -1;
    char *argv[16] = { "xorriso", "-as", "mkisofs", "-quiet", "-input-charset", "utf-8", "-R",
                       "-J", "-V", (char *)label, "-o", "out/seed.iso" };
    int argc = 12;
    for (int i = 0; i < n; i++) {
        if (sandbox_put(sb, files[i].name, files[i].text, strlen(files[i].text), err) < 0)
            goto out;
        argv[argc++] = (char *)files[i].name;
    }
    argv[argc] = NULL;
    const struct sandbox_limits limits = { .cpu_s = 30, .as_bytes = 512LL << 20,
                                           .fsize_bytes = 16LL << 20 };
    int status = sandbox_run(sb, &limits, argv, NULL, NULL, NULL, err);
    if (status < 0)
        goto out;
    if (status != 0) {
        err_set(err, 503, "seed_failed", NULL, "The install seed could not be built (xorriso %d).",
                status);
        goto out;
    }
    char *dir = g_path_get_dirname(path);
    g_mkdir_with_parents(dir, 0711);
    g_free(dir);
    rc = take_out(sb, "seed.iso", path, err);
out:
    sandbox_free(sb);
    return rc;
}

/* Debian's installer directory on its ISOs, per architecture. */
static const char *installer_dir(const char *arch)
{
    return !strcmp(arch, "aarch64") ? "/install.a64" : "/install.amd";
}

/* preseed.cfg as a gzip'd newc cpio archive appended to initrd: the
 * kernel unpacks concatenated archives in order, so the installer finds
 * /preseed.cfg in its root (Debian's "initrd preseeding"). */
static int append_preseed(const char *initrd, const char *preseed, struct err *err)
{
    FILE *f = fopen(initrd, "ab");
    struct archive *a = archive_write_new();
    struct archive_entry *e = archive_entry_new();
    size_t len = strlen(preseed);
    archive_entry_set_pathname(e, "preseed.cfg");
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_size(e, (la_int64_t)len);
    int ok = f && archive_write_add_filter_gzip(a) == ARCHIVE_OK &&
             archive_write_set_format_cpio_newc(a) == ARCHIVE_OK &&
             archive_write_open_FILE(a, f) == ARCHIVE_OK &&
             archive_write_header(a, e) == ARCHIVE_OK &&
             archive_write_data(a, preseed, len) == (la_ssize_t)len &&
             archive_write_close(a) == ARCHIVE_OK;
    archive_entry_free(e);
    archive_write_free(a);
    if (f && fclose(f) != 0)
        ok = 0;
    return ok ? 0 : err_set(err, 503, "seed_failed", NULL, "The preseed file could not be added.");
}

/* A preseeded install boots the ISO's own installer kernel and initrd
 * (read out of the user's ISO by xorriso in the sandbox), with
 * preseed.cfg added to the initrd. */
static int build_preseed(const char *iso_file, const char *arch, const char *domain_name,
                         const char *preseed, struct err *err)
{
    if (!iso_file || !pool_name_valid(iso_file))
        return err_set(err, 422, "install_needs_iso", NULL, "A preseed install needs an ISO.");
    struct sandbox *sb = sandbox_new(err);
    if (!sb)
        return -1;
    char *iso = pool_path("isos", iso_file);
    char *kernel = installer_path(domain_name, "vmlinuz");
    char *initrd = installer_path(domain_name, "initrd.gz");
    char *from_kernel = g_strdup_printf("%s/vmlinuz", installer_dir(arch));
    char *from_initrd = g_strdup_printf("%s/initrd.gz", installer_dir(arch));
    char *argv[] = { "xorriso", "-osirrox", "on", "-indev", SANDBOX_IMAGE, "-extract",
                     from_kernel, "out/vmlinuz", "-extract", from_initrd, "out/initrd.gz", NULL };
    const struct sandbox_limits limits = { .cpu_s = 120, .as_bytes = 1LL << 30,
                                           .fsize_bytes = 512LL << 20 };
    int rc = -1, status = -1;
    if (sandbox_adopt(sb, iso, true, err) < 0 ||
        (status = sandbox_run(sb, &limits, argv, NULL, NULL, NULL, err)) < 0)
        goto out;
    if (status != 0) {
        err_set(err, 422, "no_debian_installer", NULL,
                "The ISO has no Debian installer (%s/vmlinuz and initrd.gz) to preseed.",
                installer_dir(arch));
        goto out;
    }
    char *dir = g_path_get_dirname(kernel);
    g_mkdir_with_parents(dir, 0711);
    g_free(dir);
    rc = take_out(sb, "vmlinuz", kernel, err) < 0 || take_out(sb, "initrd.gz", initrd, err) < 0 ||
                 append_preseed(initrd, preseed, err) < 0
             ? -1
             : 0;
out:
    sandbox_free(sb);
    g_free(iso);
    g_free(kernel);
    g_free(initrd);
    g_free(from_kernel);
    g_free(from_initrd);
    return rc;
}

int install_seed_build(long long vm_id, const char *uuid, const char *domain_name,
                       struct err *err)
{
    struct db_rows *rows = db_query(
        "SELECT vi.type, vi.hostname, vi.config, vi.revision, v.arch, i.file_name FROM vm_installs vi "
        "JOIN vms v ON v.id = vi.vm_id LEFT JOIN isos i ON i.id = v.iso_id "
        "WHERE vi.vm_id = ? AND vi.seed_state = 'pending'", DB_INT(vm_id));
    if (!rows)
        return err_set(err, 503, "database_unavailable", NULL, "The database is not available.");
    if (rows->nrows == 0) {
        db_rows_free(rows);
        return 0;
    }
    const char *type = db_cell(rows, 0, 0), *config = db_cell(rows, 0, 2);
    char *path = install_seed_path(domain_name);
    char *meta = NULL, *net = NULL;
    int rc = -1;
    if (!strcmp(type, "cloud-init")) {
        meta = meta_data(uuid, db_cell_int(rows, 0, 3, 1), db_cell(rows, 0, 1));
        net = network_config(vm_id);
        const struct seed_file files[] = {
            { "meta-data", meta }, { "user-data", config }, { "network-config", net },
        };
        rc = meta && net ? build_iso("cidata", files, 3, path, err)
                         : err_set(err, 503, "seed_failed", NULL, "The install seed could not be written.");
    } else if (!strcmp(type, "kickstart")) {
        /* Anaconda looks for ks.cfg on a volume labelled OEMDRV by itself. */
        const struct seed_file files[] = { { "ks.cfg", config } };
        rc = build_iso("OEMDRV", files, 1, path, err);
    } else {
        /* The preseed also goes on a volume of its own (labelled PRESEED),
         * for installers started by hand with preseed/file=. */
        const struct seed_file files[] = { { "preseed.cfg", config } };
        rc = build_preseed(db_cell(rows, 0, 5), db_cell(rows, 0, 4), domain_name, config, err);
        if (rc == 0)
            rc = build_iso("PRESEED", files, 1, path, err);
    }
    if (rc == 0 &&
        db_exec("UPDATE vm_installs SET seed_state = 'attached', meta_data = ?, network_config = ? "
                "WHERE vm_id = ?", DB_TEXT(meta), DB_TEXT(net), DB_INT(vm_id)) < 0)
        rc = err_set(err, 503, "database_unavailable", NULL, "The database is not available.");
    if (rc < 0)
        install_seed_remove(domain_name);
    g_free(meta);
    g_free(net);
    g_free(path);
    db_rows_free(rows);
    return rc < 0 ? -1 : 1;
}

/* The seed's drive, as domain_xml_build makes it, out of the persistent
 * definition: the next boot has no seed. */
static void detach_seed(virDomainPtr dom, const char *arch)
{
    char *path = install_seed_path(virDomainGetName(dom));
    char *xml = domain_xml_seed(arch, path);
    if (!xml || virDomainDetachDeviceFlags(dom, xml, VIR_DOMAIN_AFFECT_CONFIG) < 0)
        log_warn("%s: the install seed could not be detached: %s", virDomainGetName(dom),
                 virGetLastErrorMessage());
    g_free(xml);
    g_free(path);
}

/* Set by vm.c: redefines the VM from its row and starts it if asked. */
static int (*finish_fn)(struct job *job);

void install_set_finish(int (*fn)(struct job *job))
{
    finish_fn = fn;
}

void install_on_state(virDomainPtr dom, bool running, bool powered_off)
{
    const char *name = virDomainGetName(dom);
    unsigned long long n = 0;
    if (running) {
        /* cloud-init reads its seed on the first boot; a template VM's
         * seed goes from the definition as soon as it runs. An ISO
         * install keeps its seed until the installer is done (below). */
        struct db_rows *rows = db_query(
            "SELECT v.arch FROM vm_installs i JOIN vms v ON v.id = i.vm_id WHERE "
            "v.domain_name = ? AND i.seed_state = 'attached' AND i.type = 'cloud-init' AND "
            "v.template_id IS NOT NULL", DB_TEXT(name));
        if (rows && rows->nrows == 1 &&
            db_exec_count("UPDATE vm_installs i JOIN vms v ON v.id = i.vm_id SET "
                          "i.seed_state = 'detached' WHERE v.domain_name = ? AND "
                          "i.seed_state = 'attached'", &n, DB_TEXT(name)) == 0 && n == 1)
            detach_seed(dom, db_cell(rows, 0, 0));
        db_rows_free(rows);
        return;
    }
    if (!powered_off || !finish_fn)
        return;
    /* The installer powered off (a forced stop is no end of an install):
     * once only, as the row leaves 'installing'. */
    struct db_rows *rows = db_query("SELECT id, owner_id FROM vms WHERE domain_name = ? AND "
                                    "state = 'installing'", DB_TEXT(name));
    long long vm_id = rows && rows->nrows == 1 ? db_cell_int(rows, 0, 0, 0) : 0;
    long long owner = rows && rows->nrows == 1 ? db_cell_int(rows, 0, 1, 0) : 0;
    db_rows_free(rows);
    if (!vm_id ||
        db_exec_count("UPDATE vms SET state = 'stopped', iso_id = NULL, boot_order = 'hd,cdrom' "
                      "WHERE id = ? AND state = 'installing'", &n, DB_INT(vm_id)) < 0 || n != 1)
        return;
    db_exec("UPDATE vm_installs SET seed_state = 'detached' WHERE vm_id = ?", DB_INT(vm_id));
    long long job_id = job_insert("vm.install", owner);
    if (job_id < 0 ||
        db_exec("UPDATE jobs SET vm_id = ?, target_name = (SELECT name FROM vms WHERE id = ?) "
                "WHERE id = ?", DB_INT(vm_id), DB_INT(vm_id), DB_INT(job_id)) < 0 ||
        job_launch((struct job){ .id = job_id, .vm_id = vm_id, .actor_id = owner }, finish_fn) < 0)
        log_error("%s: the end of its install could not be started", name);
}
