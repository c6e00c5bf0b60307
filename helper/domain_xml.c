#include "domain_xml.h"

#include <glib.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static xmlNodePtr child(xmlNodePtr parent, const char *name, const char *text)
{
    return xmlNewTextChild(parent, NULL, BAD_CAST name, text ? BAD_CAST text : NULL);
}

static void attr(xmlNodePtr node, const char *name, const char *value)
{
    xmlNewProp(node, BAD_CAST name, BAD_CAST value);
}

static xmlNodePtr child_attr(xmlNodePtr parent, const char *name, const char *attr_name,
                             const char *value)
{
    xmlNodePtr node = child(parent, name, NULL);
    attr(node, attr_name, value);
    return node;
}

static bool one_of(const char *value, const char *const *choices)
{
    for (; value && *choices; choices++)
        if (!strcmp(value, *choices))
            return true;
    return false;
}

static const char *machine_for(const char *arch);

const char *domain_xml_machine(const char *arch)
{
    return arch ? machine_for(arch) : NULL;
}

static const char *machine_for(const char *arch)
{
    if (!strcmp(arch, "x86_64"))
        return "q35";
    if (!strcmp(arch, "aarch64"))
        return "virt";
    return NULL;
}

static void add_metadata(xmlNodePtr domain, const struct domain_spec *spec)
{
    char number[32];
    xmlNodePtr metadata = child(domain, "metadata", NULL);
    xmlNodePtr vm = xmlNewChild(metadata, NULL, BAD_CAST "vm", NULL);
    xmlNsPtr ns = xmlNewNs(vm, BAD_CAST VMM_XML_NS, BAD_CAST VMM_XML_PREFIX);
    xmlSetNs(vm, ns);
    snprintf(number, sizeof number, "%lld", spec->vm_id);
    xmlNewTextChild(vm, ns, BAD_CAST "id", BAD_CAST number);
    snprintf(number, sizeof number, "%lld", spec->owner_id);
    xmlNewTextChild(vm, ns, BAD_CAST "owner", BAD_CAST number);
    if (spec->instance)
        xmlNewTextChild(vm, ns, BAD_CAST "instance", BAD_CAST spec->instance);
}

static void fill_disk(xmlNodePtr disk, const struct disk_spec *d);
static void fill_cdrom(xmlNodePtr cdrom, const char *arch, const char *path, const char *dev);
static bool disk_valid(const struct disk_spec *d);
static void add_hotplug_room(xmlNodePtr devices, const struct domain_spec *spec);
static void add_vcpus(xmlNodePtr domain, const struct domain_spec *spec);
static void add_topology(xmlNodePtr cpu, const struct domain_spec *spec);
static void add_numa(xmlNodePtr cpu, const struct domain_spec *spec);

static void add_cpu(xmlNodePtr domain, const struct domain_spec *spec)
{
    const char *model = spec->cpu_model ? spec->cpu_model : "host-model";
    xmlNodePtr cpu = child(domain, "cpu", NULL);
    bool host_cpu = !strcmp(model, "host-passthrough") || !strcmp(model, "host-model");
    /* aarch64 under TCG: a Cortex-A57. QEMU's "max" emulates pointer
     * authentication with real cryptography, which makes every function
     * return slow; the A57 has none and every arm64 kernel runs on it. */
    if (!strcmp(spec->domain_type, "qemu") && host_cpu && !strcmp(spec->arch, "aarch64")) {
        attr(cpu, "mode", "custom");
        attr(cpu, "match", "exact");
        attr(cpu, "check", "none");
        child(cpu, "model", "cortex-a57");
    /* host-passthrough and host-model only mean something with KVM; under
     * TCG the closest is QEMU's "max" model. */
    } else if (!strcmp(spec->domain_type, "qemu") && host_cpu) {
        attr(cpu, "mode", "maximum");
        attr(cpu, "check", "none");
    } else if (host_cpu && !strcmp(spec->arch, "aarch64")) {
        /* libvirt has no host-model for ARM: the host's own CPU. */
        attr(cpu, "mode", "host-passthrough");
    } else if (host_cpu) {
        attr(cpu, "mode", model);
    } else {
        attr(cpu, "mode", "custom");
        attr(cpu, "match", "exact");
        child(cpu, "model", model);
    }
    add_topology(cpu, spec);
    add_numa(cpu, spec);
}

static void add_disks(xmlNodePtr devices, const struct domain_spec *spec)
{
    xmlNodePtr disk = child(devices, "disk", NULL);
    attr(disk, "type", "file");
    attr(disk, "device", "disk");
    xmlNodePtr driver = child_attr(disk, "driver", "name", "qemu");
    attr(driver, "type", spec->disk_format ? spec->disk_format : "qcow2");
    attr(driver, "discard", "unmap");
    child_attr(disk, "source", "file", spec->disk_path);
    xmlNodePtr target = child_attr(disk, "target", "dev", "vda");
    attr(target, "bus", "virtio");

    /* Every guest gets a CD-ROM drive, so ISOs can be inserted later. */
    fill_cdrom(child(devices, "disk", NULL), spec->arch, spec->cdrom_path, "sda");
    /* The seed's drive is the last letter, clear of disks added later. */
    if (spec->seed_path)
        fill_cdrom(child(devices, "disk", NULL), spec->arch, spec->seed_path, "sdz");
    for (int i = 0; i < spec->n_extra_disks; i++)
        fill_disk(child(devices, "disk", NULL), &spec->extra_disks[i]);
}

/* --- issue 17: disks added later, the CD-ROM on its own, hotplug room --- */

static bool disk_valid(const struct disk_spec *d)
{
    static const char *const buses[] = { "virtio", "scsi", "sata", NULL };
    static const char *const formats[] = { "qcow2", "raw", NULL };
    static const char *const caches[] = { "default", "none", "writeback", "writethrough",
                                          "directsync", "unsafe", NULL };
    if (!d->path || !d->target || !one_of(d->bus, buses) || !one_of(d->format, formats) ||
        (d->cache && !one_of(d->cache, caches)))
        return false;
    /* vdb..vdz on virtio, sdb..sdz on the others (vda and sda are taken). */
    const char *prefix = !strcmp(d->bus, "virtio") ? "vd" : "sd";
    return strlen(d->target) == 3 && !strncmp(d->target, prefix, 2) && d->target[2] >= 'b' &&
           d->target[2] <= 'z';
}

static void fill_disk(xmlNodePtr disk, const struct disk_spec *d)
{
    attr(disk, "type", "file");
    attr(disk, "device", "disk");
    xmlNodePtr driver = child_attr(disk, "driver", "name", "qemu");
    attr(driver, "type", d->format);
    if (d->cache && strcmp(d->cache, "default"))
        attr(driver, "cache", d->cache);
    attr(driver, "discard", "unmap");
    child_attr(disk, "source", "file", d->path);
    xmlNodePtr target = child_attr(disk, "target", "dev", d->target);
    attr(target, "bus", d->bus);
}

static void fill_cdrom(xmlNodePtr cdrom, const char *arch, const char *path, const char *dev)
{
    attr(cdrom, "type", "file");
    attr(cdrom, "device", "cdrom");
    xmlNodePtr cd_driver = child_attr(cdrom, "driver", "name", "qemu");
    attr(cd_driver, "type", "raw");
    if (path)
        child_attr(cdrom, "source", "file", path);
    xmlNodePtr cd_target = child_attr(cdrom, "target", "dev", dev);
    attr(cd_target, "bus", !strcmp(arch, "aarch64") ? "scsi" : "sata");
    child(cdrom, "readonly", NULL);
}

/* A document whose root is a new <name>. */
static xmlNodePtr new_root(xmlDocPtr *doc, const char *name)
{
    *doc = xmlNewDoc(BAD_CAST "1.0");
    xmlNodePtr root = xmlNewNode(NULL, BAD_CAST name);
    xmlDocSetRootElement(*doc, root);
    return root;
}

char *domain_xml_disk(const struct disk_spec *disk)
{
    if (!disk_valid(disk))
        return NULL;
    xmlDocPtr doc;
    fill_disk(new_root(&doc, "disk"), disk);
    return xml_doc_string(doc);
}

char *domain_xml_cdrom(const char *arch, const char *path)
{
    if (!arch || !machine_for(arch))
        return NULL;
    xmlDocPtr doc;
    fill_cdrom(new_root(&doc, "disk"), arch, path, "sda");
    return xml_doc_string(doc);
}

char *domain_xml_seed(const char *arch, const char *path)
{
    if (!arch || !machine_for(arch) || !path)
        return NULL;
    xmlDocPtr doc;
    fill_cdrom(new_root(&doc, "disk"), arch, path, "sdz");
    return xml_doc_string(doc);
}

/* Room for hotplug: a virtio-scsi controller for SCSI disks and, on q35,
 * free PCIe root ports on q35 and virt (a device hot-added needs an empty one; libvirt
 * adds only the ports the defined devices use, and puts those devices on
 * the ports given first: about six of ours, plus the added disks). */
static void add_hotplug_room(xmlNodePtr devices, const struct domain_spec *spec)
{
    xmlNodePtr scsi = child_attr(devices, "controller", "type", "scsi");
    attr(scsi, "index", "0");
    attr(scsi, "model", "virtio-scsi");
    /* Both our machines (q35, virt) are PCI Express. */
    /* The root first: a controller without an index takes the next one. */
    xmlNodePtr root = child_attr(devices, "controller", "type", "pci");
    attr(root, "index", "0");
    attr(root, "model", "pcie-root");
    for (int i = 0; i < 14 + spec->n_extra_disks; i++) {
        xmlNodePtr port = child_attr(devices, "controller", "type", "pci");
        attr(port, "model", "pcie-root-port");
    }
}

static void add_vcpus(xmlNodePtr domain, const struct domain_spec *spec)
{
    char number[32];
    int max = spec->max_vcpus > spec->vcpus ? spec->max_vcpus : spec->vcpus;
    snprintf(number, sizeof number, "%d", max);
    xmlNodePtr vcpu = child(domain, "vcpu", number);
    attr(vcpu, "placement", "static");
    if (max > spec->vcpus) {
        snprintf(number, sizeof number, "%d", spec->vcpus);
        attr(vcpu, "current", number);
    }
}

/* One NUMA cell with every vCPU and the base memory: DIMMs need a node. */
static void add_numa(xmlNodePtr cpu, const struct domain_spec *spec)
{
    char number[32];
    if (spec->max_memory_mb <= spec->memory_mb)
        return;
    int max = spec->max_vcpus > spec->vcpus ? spec->max_vcpus : spec->vcpus;
    xmlNodePtr cell = child(child(cpu, "numa", NULL), "cell", NULL);
    attr(cell, "id", "0");
    snprintf(number, sizeof number, max > 1 ? "0-%d" : "0", max - 1);
    attr(cell, "cpus", number);
    snprintf(number, sizeof number, "%lld", spec->memory_mb);
    attr(cell, "memory", number);
    attr(cell, "unit", "MiB");
}

char *domain_xml_dimm(long long size_mb)
{
    char number[32];
    if (size_mb <= 0 || size_mb % 128)
        return NULL;
    xmlDocPtr doc;
    xmlNodePtr memory = new_root(&doc, "memory");
    attr(memory, "model", "dimm");
    xmlNodePtr target = child(memory, "target", NULL);
    snprintf(number, sizeof number, "%lld", size_mb);
    attr(child(target, "size", number), "unit", "MiB");
    child(target, "node", "0");
    return xml_doc_string(doc);
}

static void add_topology(xmlNodePtr cpu, const struct domain_spec *spec)
{
    char number[32];
    if (spec->sockets < 1 || spec->cores < 1 || spec->threads < 1)
        return;
    xmlNodePtr topology = child(cpu, "topology", NULL);
    snprintf(number, sizeof number, "%d", spec->sockets);
    attr(topology, "sockets", number);
    attr(topology, "dies", "1");
    snprintf(number, sizeof number, "%d", spec->cores);
    attr(topology, "cores", number);
    snprintf(number, sizeof number, "%d", spec->threads);
    attr(topology, "threads", number);
}

static void add_console(xmlNodePtr devices, const struct domain_spec *spec)
{
    xmlNodePtr serial = child_attr(devices, "serial", "type", "pty");
    if (spec->serial_log) {
        xmlNodePtr log = child_attr(serial, "log", "file", spec->serial_log);
        attr(log, "append", "off");
    }
    child_attr(serial, "target", "port", "0");
    xmlNodePtr console = child_attr(devices, "console", "type", "pty");
    xmlNodePtr console_target = child_attr(console, "target", "type", "serial");
    attr(console_target, "port", "0");

    xmlNodePtr agent = child_attr(devices, "channel", "type", "unix");
    xmlNodePtr agent_target = child_attr(agent, "target", "type", "virtio");
    attr(agent_target, "name", "org.qemu.guest_agent.0");

    /* VNC with QEMU's own websocket (nginx proxies the browser console),
     * or SPICE (remote-viewer, a .vv file); on loopback unless an admin
     * allowed the address (lib/graphics.h). Always a password: SPICE's
     * is replaced by a one-time one for each .vv. */
    bool spice = spec->graphics && !strcmp(spec->graphics, "spice");
    const char *address = spec->listen ? spec->listen : "127.0.0.1";
    xmlNodePtr gfx = child_attr(devices, "graphics", "type", spice ? "spice" : "vnc");
    if (!spice)
        attr(gfx, "port", "-1");
    attr(gfx, "autoport", "yes");
    if (!spice)
        attr(gfx, "websocket", "-1");
    attr(gfx, "listen", address);
    if (spec->vnc_password)
        attr(gfx, "passwd", spec->vnc_password);
    if (spec->vnc_password && spec->password_valid_to)
        attr(gfx, "passwdValidTo", spec->password_valid_to);
    if (spec->keymap)
        attr(gfx, "keymap", spec->keymap);
    xmlNodePtr listen = child_attr(gfx, "listen", "type", "address");
    attr(listen, "address", address);
    xmlNodePtr video = child(devices, "video", NULL);
    child_attr(video, "model", "type", "virtio");
    /* q35 comes with a USB controller; virt gets none unless asked. */
    if (!strcmp(spec->arch, "aarch64")) {
        xmlNodePtr usb = child_attr(devices, "controller", "type", "usb");
        attr(usb, "model", "qemu-xhci");
    }
    xmlNodePtr tablet = child_attr(devices, "input", "type", "tablet");
    attr(tablet, "bus", "usb");
}

/* The pvpanic device, through which a guest kernel tells QEMU it
 * panicked (libvirt's CRASHED/PANICKED event, then on_crash); without
 * it a panicked guest just hangs and looks alive. x86_64: the ISA
 * pvpanic port (ACPI QEMU0001, Linux's pvpanic-mmio driver). aarch64:
 * none yet, as libvirt 9.0 (Debian 12) knows no panic model for virt
 * (it refuses "isa", QEMU's ISA device being x86 only); its
 * model='pvpanic' (pvpanic-pci) comes with libvirt 9.1. */
static void add_panic(xmlNodePtr devices, const struct domain_spec *spec)
{
    if (!strcmp(spec->arch, "x86_64"))
        child_attr(devices, "panic", "model", "isa");
}

static const char *const nic_models[] = { "virtio", "e1000", "rtl8139", NULL };

static bool nic_valid(const struct domain_nic *nic)
{
    return nic->network && (!nic->model || one_of(nic->model, nic_models)) && nic->vlan < 4095;
}

/* One direction of <bandwidth>, when it has an average. */
static void bandwidth_way(xmlNodePtr bandwidth, const char *way, unsigned average, unsigned peak,
                          unsigned burst)
{
    if (!average)
        return;
    char number[16];
    xmlNodePtr node = child(bandwidth, way, NULL);
    g_snprintf(number, sizeof number, "%u", average);
    attr(node, "average", number);
    if (peak) {
        g_snprintf(number, sizeof number, "%u", peak);
        attr(node, "peak", number);
    }
    if (burst) {
        g_snprintf(number, sizeof number, "%u", burst);
        attr(node, "burst", number);
    }
}

static void fill_nic(xmlNodePtr nic, const struct domain_nic *n)
{
    attr(nic, "type", "network");
    if (n->mac)
        child_attr(nic, "mac", "address", n->mac);
    child_attr(nic, "source", "network", n->network);
    child_attr(nic, "model", "type", n->model ? n->model : "virtio");
    if (n->link_down)
        child_attr(nic, "link", "state", "down");
    if (n->in_average || n->out_average) {
        xmlNodePtr bandwidth = child(nic, "bandwidth", NULL);
        bandwidth_way(bandwidth, "inbound", n->in_average, n->in_peak, n->in_burst);
        bandwidth_way(bandwidth, "outbound", n->out_average, n->out_peak, n->out_burst);
    }
    if (n->vlan) {
        char tag[8];
        g_snprintf(tag, sizeof tag, "%u", n->vlan);
        child_attr(child(nic, "vlan", NULL), "tag", "id", tag);
    }
}

char *domain_xml_nic(const struct domain_nic *nic)
{
    if (!nic_valid(nic) || !nic->mac)
        return NULL;
    xmlDocPtr doc;
    fill_nic(new_root(&doc, "interface"), nic);
    return xml_doc_string(doc);
}

/* The spec's NICs (or its one NIC on spec->network). */
static void add_nics(xmlNodePtr devices, const struct domain_spec *spec)
{
    if (!spec->n_nics && !spec->network)
        return;   /* no NIC at all: the accelerator probe */
    struct domain_nic one = { .network = spec->network };
    const struct domain_nic *nics = spec->n_nics ? spec->nics : &one;
    for (int i = 0; i < (spec->n_nics ? spec->n_nics : 1); i++)
        fill_nic(child(devices, "interface", NULL), &nics[i]);
}

char *domain_xml_build(const struct domain_spec *spec)
{
    static const char *const types[] = { "kvm", "qemu", NULL };
    static const char *const formats[] = { "qcow2", "raw", NULL };
    static const char *const boots[] = { "hd", "cdrom", "network", NULL };
    char number[32];

    const char *machine = spec->arch ? machine_for(spec->arch) : NULL;
    if (!machine || !one_of(spec->domain_type, types) || !spec->name || !spec->disk_path ||
        spec->n_nics < 0 || spec->n_nics > DOMAIN_MAX_NICS || spec->vcpus < 1 || spec->memory_mb < 16 ||
        (spec->disk_format && !one_of(spec->disk_format, formats)))
        return NULL;
    for (int i = 0; i < spec->n_extra_disks; i++)
        if (!disk_valid(&spec->extra_disks[i]))
            return NULL;
    if (spec->sockets > 0 && spec->sockets * spec->cores * spec->threads !=
                                 (spec->max_vcpus > spec->vcpus ? spec->max_vcpus : spec->vcpus))
        return NULL;
    for (int i = 0; i < 3 && spec->boot[i]; i++)
        if (!one_of(spec->boot[i], boots))
            return NULL;
    for (int i = 0; i < spec->n_nics; i++)
        if (!nic_valid(&spec->nics[i]))
            return NULL;

    xmlDocPtr doc = xmlNewDoc(BAD_CAST "1.0");
    xmlNodePtr domain = xmlNewNode(NULL, BAD_CAST "domain");
    xmlDocSetRootElement(doc, domain);
    attr(domain, "type", spec->domain_type);

    child(domain, "name", spec->name);
    if (spec->uuid)
        child(domain, "uuid", spec->uuid);
    if (spec->title)
        child(domain, "title", spec->title);
    if (spec->description)
        child(domain, "description", spec->description);
    add_metadata(domain, spec);

    snprintf(number, sizeof number, "%lld", spec->memory_mb);
    attr(child(domain, "memory", number), "unit", "MiB");
    if (spec->max_memory_mb > spec->memory_mb) {
        snprintf(number, sizeof number, "%lld", spec->max_memory_mb);
        xmlNodePtr max = child(domain, "maxMemory", number);
        snprintf(number, sizeof number, "%d", DOMAIN_MEMORY_SLOTS);
        attr(max, "slots", number);
        attr(max, "unit", "MiB");
    }
    add_vcpus(domain, spec);

    xmlNodePtr os = child(domain, "os", NULL);
    xmlNodePtr type = child(os, "type", "hvm");
    attr(type, "arch", spec->arch);
    attr(type, "machine", machine);
    if (!strcmp(spec->arch, "aarch64") && spec->firmware_rom) {
        xmlNodePtr loader = child(os, "loader", spec->firmware_rom);
        attr(loader, "type", "rom");
        attr(loader, "readonly", "yes");
    } else if (!strcmp(spec->arch, "aarch64")) {
        /* UEFI from libvirt's firmware autoselection (qemu-efi-aarch64's
         * descriptors): without Secure Boot, whose enrolled keys would
         * refuse any loader not signed by Microsoft. */
        attr(os, "firmware", "efi");
        xmlNodePtr firmware = child(os, "firmware", NULL);
        xmlNodePtr feature = child_attr(firmware, "feature", "enabled", "no");
        attr(feature, "name", "secure-boot");
        feature = child_attr(firmware, "feature", "enabled", "no");
        attr(feature, "name", "enrolled-keys");
    }
    for (int i = 0; i < 3 && spec->boot[i]; i++)
        child_attr(os, "boot", "dev", spec->boot[i]);
    if (spec->kernel && spec->initrd) {
        child(os, "kernel", spec->kernel);
        child(os, "initrd", spec->initrd);
        if (spec->cmdline)
            child(os, "cmdline", spec->cmdline);
    }

    xmlNodePtr features = child(domain, "features", NULL);
    /* ACPI on aarch64 comes with UEFI only. */
    if (!spec->firmware_rom)
        child(features, "acpi", NULL);
    if (!strcmp(spec->arch, "x86_64"))
        child(features, "apic", NULL);
    else
        child(features, "gic", NULL);
    add_cpu(domain, spec);
    child_attr(domain, "clock", "offset", "utc");
    child(domain, "on_poweroff", "destroy");
    child(domain, "on_reboot", "restart");
    /* A guest kernel panic (seen through the panic device below) ends the
     * machine as QEMU dying would: it shows as stopped with the reason
     * (helper/lifecycle.c), its serial log keeps the panic's trace, its
     * memory and CPU go back to the host, and a crash rule's "restart"
     * can start it. "preserve" would keep a dead guest holding its RAM in
     * a state only a forced stop leaves; "restart" would hide the crash
     * behind a boot loop. */
    child(domain, "on_crash", "destroy");

    xmlNodePtr devices = child(domain, "devices", NULL);
    add_disks(devices, spec);
    add_nics(devices, spec);
    add_console(devices, spec);
    add_panic(devices, spec);
    add_hotplug_room(devices, spec);

    return xml_doc_string(doc);
}

char *xml_doc_string(xmlDocPtr doc)
{
    xmlChar *text = NULL;
    int len = 0;
    xmlDocDumpFormatMemoryEnc(doc, &text, &len, "UTF-8", 1);
    xmlFreeDoc(doc);
    char *out = text ? g_strndup((const char *)text, (gsize)len) : NULL;
    xmlFree(text);
    return out;
}

static long long xpath_number(xmlXPathContextPtr ctx, const char *expr)
{
    xmlXPathObjectPtr result = xmlXPathEvalExpression(BAD_CAST expr, ctx);
    long long value = -1;
    if (result && result->type == XPATH_NODESET && result->nodesetval &&
        result->nodesetval->nodeNr == 1) {
        xmlChar *text = xmlNodeGetContent(result->nodesetval->nodeTab[0]);
        char *end;
        long long v = strtoll((const char *)text, &end, 10);
        if (*text && !*end && v > 0)
            value = v;
        xmlFree(text);
    }
    xmlXPathFreeObject(result);
    return value;
}

int domain_xml_owner(const char *xml, long long *vm_id, long long *owner_id, char **instance)
{
    if (instance)
        *instance = NULL;
    xmlDocPtr doc = xmlReadMemory(xml, (int)strlen(xml), "domain.xml", NULL,
                                  XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (!doc)
        return -1;
    xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
    xmlXPathRegisterNs(ctx, BAD_CAST VMM_XML_PREFIX, BAD_CAST VMM_XML_NS);
    /* A whole domain, or the bare element virDomainGetMetadata returns
     * (which comes without its namespace). */
#define META(field) "/domain/metadata/vmm:vm/vmm:" field " | /vm/" field
    *vm_id = xpath_number(ctx, META("id"));
    *owner_id = xpath_number(ctx, META("owner"));
    if (instance) {
        xmlXPathObjectPtr result = xmlXPathEvalExpression(BAD_CAST META("instance"), ctx);
        if (result && result->nodesetval && result->nodesetval->nodeNr == 1) {
            xmlChar *text = xmlNodeGetContent(result->nodesetval->nodeTab[0]);
            *instance = strdup((const char *)text);
            xmlFree(text);
        }
        xmlXPathFreeObject(result);
    }
    xmlXPathFreeContext(ctx);
    xmlFreeDoc(doc);
    return *vm_id > 0 && *owner_id > 0 ? 0 : -1;
}

int domain_xml_websocket_port(const char *xml)
{
    xmlDocPtr doc = xml ? xmlReadMemory(xml, (int)strlen(xml), "domain.xml", NULL,
                                        XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING)
                        : NULL;
    if (!doc)
        return -1;
    xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
    long long port = xpath_number(ctx, "/domain/devices/graphics[@type='vnc']/@websocket");
    xmlXPathFreeContext(ctx);
    xmlFreeDoc(doc);
    /* libvirt writes -1 until QEMU runs; only a real TCP port counts. */
    return port > 0 && port <= 65535 ? (int)port : -1;
}

/* The first <graphics type='type'> of xml, in *doc (xmlFreeDoc, also when
 * there is no such element), or NULL. */
static xmlNodePtr graphics_node(const char *xml, const char *type, xmlDocPtr *doc)
{
    *doc = xml ? xmlReadMemory(xml, (int)strlen(xml), "domain.xml", NULL,
                               XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING)
               : NULL;
    if (!*doc)
        return NULL;
    xmlXPathContextPtr ctx = xmlXPathNewContext(*doc);
    char *xpath = g_strdup_printf("/domain/devices/graphics[@type='%s']", type);
    xmlXPathObjectPtr found = xmlXPathEvalExpression(BAD_CAST xpath, ctx);
    g_free(xpath);
    xmlNodePtr node = found && found->nodesetval && found->nodesetval->nodeNr > 0
                          ? found->nodesetval->nodeTab[0] : NULL;
    xmlXPathFreeObject(found);
    xmlXPathFreeContext(ctx);
    return node;
}

/* node as text for virDomainUpdateDeviceFlags (g_free), or NULL. */
static char *node_text(xmlDocPtr doc, xmlNodePtr node)
{
    char *out = NULL;
    xmlBufferPtr buf = xmlBufferCreate();
    if (xmlNodeDump(buf, doc, node, 0, 0) > 0)
        out = g_strdup((const char *)xmlBufferContent(buf));
    xmlBufferFree(buf);
    return out;
}

char *domain_xml_graphics_password(const char *xml, const char *type, const char *passwd,
                                   const char *valid_to, int *port, char **listen)
{
    xmlDocPtr doc = NULL;
    xmlNodePtr node = graphics_node(xml, type, &doc);
    char *out = NULL;
    xmlChar *p = node ? xmlGetProp(node, BAD_CAST "port") : NULL;
    xmlChar *l = node ? xmlGetProp(node, BAD_CAST "listen") : NULL;
    long long n = p ? g_ascii_strtoll((const char *)p, NULL, 10) : -1;
    /* libvirt writes -1 until QEMU runs; only a real TCP port counts. */
    if (node && n > 0 && n <= 65535 && l) {
        *port = (int)n;
        *listen = g_strdup((const char *)l);
        xmlSetProp(node, BAD_CAST "passwd", BAD_CAST passwd);
        xmlSetProp(node, BAD_CAST "passwdValidTo", BAD_CAST valid_to);
        out = node_text(doc, node);
    }
    xmlFree(p);
    xmlFree(l);
    xmlFreeDoc(doc);
    return out;
}

char *domain_xml_vnc_password(const char *inactive_xml, const char *passwd)
{
    xmlDocPtr doc = NULL;
    xmlNodePtr node = graphics_node(inactive_xml, "vnc", &doc);
    char *out = NULL;
    if (node) {
        xmlSetProp(node, BAD_CAST "passwd", BAD_CAST passwd);
        xmlUnsetProp(node, BAD_CAST "passwdValidTo");
        out = node_text(doc, node);
    }
    xmlFreeDoc(doc);
    return out;
}

char *domain_xml_graphics_moved(const char *xml, const char *listen, const char *passwd,
                                const char *valid_to)
{
    xmlDocPtr doc = xml ? xmlReadMemory(xml, (int)strlen(xml), "domain.xml", NULL,
                                        XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING)
                        : NULL;
    if (!doc)
        return NULL;
    xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
    xmlXPathObjectPtr found =
        xmlXPathEvalExpression(BAD_CAST "/domain/devices/graphics[@type='vnc']", ctx);
    xmlNodePtr node = found && found->nodesetval && found->nodesetval->nodeNr > 0
                          ? found->nodesetval->nodeTab[0] : NULL;
    char *out = NULL;
    if (node) {
        xmlSetProp(node, BAD_CAST "listen", BAD_CAST listen);
        for (xmlNodePtr c = node->children; c; c = c->next)
            if (c->type == XML_ELEMENT_NODE && !xmlStrcmp(c->name, BAD_CAST "listen"))
                xmlSetProp(c, BAD_CAST "address", BAD_CAST listen);
        if (passwd)
            xmlSetProp(node, BAD_CAST "passwd", BAD_CAST passwd);
        if (valid_to)
            xmlSetProp(node, BAD_CAST "passwdValidTo", BAD_CAST valid_to);
        else
            xmlUnsetProp(node, BAD_CAST "passwdValidTo");
        xmlChar *text = NULL;
        int len = 0;
        xmlDocDumpMemory(doc, &text, &len);
        out = text ? g_strdup((const char *)text) : NULL;
        xmlFree(text);
    }
    xmlXPathFreeObject(found);
    xmlXPathFreeContext(ctx);
    xmlFreeDoc(doc);
    return out;
}

/* Whether any node matches xpath. */
static bool xpath_any(xmlXPathContextPtr ctx, const char *xpath)
{
    xmlXPathObjectPtr found = xmlXPathEvalExpression(BAD_CAST xpath, ctx);
    bool yes = found && found->nodesetval && found->nodesetval->nodeNr > 0;
    xmlXPathFreeObject(found);
    return yes;
}

int domain_xml_snapshot_blocker(const char *xml)
{
    xmlDocPtr doc = xml ? xmlReadMemory(xml, (int)strlen(xml), "domain.xml", NULL,
                                        XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING)
                        : NULL;
    if (!doc)
        return -1;
    xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
    int blocker = SNAPSHOT_OK;
    /* A disk without a driver type is raw to QEMU too. */
    if (xpath_any(ctx, "/domain/devices/disk[@device='disk' or not(@device)][not(readonly)]"
                       "[not(driver/@type='qcow2')]"))
        blocker = SNAPSHOT_RAW_DISK;
    else if (xpath_any(ctx, "/domain/os[@firmware='efi'] | /domain/os/loader[@type='pflash'] | "
                            "/domain/os/nvram"))
        blocker = SNAPSHOT_UEFI;
    xmlXPathFreeContext(ctx);
    xmlFreeDoc(doc);
    return blocker;
}

int domain_xml_disks(const char *xml, struct domain_disk *out, int max)
{
    xmlDocPtr doc = xml ? xmlReadMemory(xml, (int)strlen(xml), "domain.xml", NULL,
                                        XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING)
                        : NULL;
    if (!doc)
        return -1;
    xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
    xmlXPathObjectPtr found = xmlXPathEvalExpression(
        BAD_CAST "/domain/devices/disk[@type='file'][@device='disk' or not(@device)]"
                 "[not(readonly)][source/@file][target/@dev]", ctx);
    int n = 0;
    for (int i = 0; found && found->nodesetval && i < found->nodesetval->nodeNr && n < max; i++) {
        xmlNodePtr disk = found->nodesetval->nodeTab[i];
        xmlChar *dev = NULL, *file = NULL, *type = NULL;
        for (xmlNodePtr c = disk->children; c; c = c->next) {
            if (c->type != XML_ELEMENT_NODE)
                continue;
            if (!xmlStrcmp(c->name, BAD_CAST "target") && !dev)
                dev = xmlGetProp(c, BAD_CAST "dev");
            else if (!xmlStrcmp(c->name, BAD_CAST "source") && !file)
                file = xmlGetProp(c, BAD_CAST "file");
            else if (!xmlStrcmp(c->name, BAD_CAST "driver") && !type)
                type = xmlGetProp(c, BAD_CAST "type");
        }
        if (dev && file && xmlStrlen(dev) < (int)sizeof out[n].target) {
            g_strlcpy(out[n].target, (const char *)dev, sizeof out[n].target);
            out[n].file = g_strdup((const char *)file);
            out[n].qcow2 = type && !xmlStrcmp(type, BAD_CAST "qcow2");
            n++;
        }
        xmlFree(dev);
        xmlFree(file);
        xmlFree(type);
    }
    xmlXPathFreeObject(found);
    xmlXPathFreeContext(ctx);
    xmlFreeDoc(doc);
    return n;
}
