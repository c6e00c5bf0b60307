/* Domain XML: built safely from any user text, accepted by libvirt (the
 * test:///default driver), and our metadata reads back. */
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <string.h>

#include "domain_xml.h"
#include "unit.h"

static struct domain_spec base_spec(void)
{
    struct domain_spec spec = {
        .name = "vmm-0a1b2c3d",
        .title = "测试服务器",
        .description = "web & db </description><evil/>",
        .vm_id = 42,
        .owner_id = 7,
        .instance = "test-instance",
        .vcpus = 2,
        .memory_mb = 512,
        .arch = "x86_64",
        .domain_type = "qemu",
        .cpu_model = "host-passthrough",
        .disk_path = "/var/lib/vmm/disks/vmm-0a1b2c3d.qcow2",
        .disk_format = "qcow2",
        .network = "default",
        .boot = { "hd", "cdrom", NULL },
        .vnc_password = "s3cret'\"<>",
        .serial_log = "/var/log/vmm/vmm-0a1b2c3d.serial",
    };
    return spec;
}

static void silence(void *data, virErrorPtr error) {}

START_TEST(test_user_text_stays_text)
{
    struct domain_spec spec = base_spec();
    char *xml = domain_xml_build(&spec);
    ck_assert_ptr_nonnull(xml);
    ck_assert_ptr_nonnull(strstr(xml, "<title>测试服务器</title>"));
    ck_assert_ptr_null(strstr(xml, "<evil/>"));
    ck_assert_ptr_nonnull(strstr(xml, "&lt;/description&gt;&lt;evil/&gt;"));
    ck_assert_ptr_null(strstr(xml, "s3cret'\"<>"));
    ck_assert_ptr_nonnull(strstr(xml, "websocket=\"-1\""));
    ck_assert_ptr_nonnull(strstr(xml, "listen=\"127.0.0.1\""));
    ck_assert_ptr_nonnull(strstr(xml, "machine=\"q35\""));
    ck_assert_ptr_nonnull(strstr(xml, "<boot dev=\"hd\"/>"));
    /* A guest kernel panic is seen (pvpanic) and ends the machine. */
    ck_assert_ptr_nonnull(strstr(xml, "<panic model=\"isa\"/>"));
    ck_assert_ptr_nonnull(strstr(xml, "<on_crash>destroy</on_crash>"));
    g_free(xml);
}
END_TEST

START_TEST(test_metadata_round_trip)
{
    struct domain_spec spec = base_spec();
    char *xml = domain_xml_build(&spec);
    long long vm_id = 0, owner_id = 0;
    ck_assert_int_eq(domain_xml_owner(xml, &vm_id, &owner_id, NULL), 0);
    ck_assert_int_eq(vm_id, 42);
    ck_assert_int_eq(owner_id, 7);
    ck_assert_int_eq(domain_xml_owner("<domain><name>x</name></domain>", &vm_id, &owner_id, NULL), -1);
    ck_assert_int_eq(domain_xml_owner("not xml", &vm_id, &owner_id, NULL), -1);
    g_free(xml);
}
END_TEST

/* The live XML of a running domain names the websocket port; anything
 * else (not started yet, no VNC, a forged value) gives -1. */
static const struct {
    const char *xml;
    int port;
} ws_cases[] = {
    { "<domain><devices><graphics type='vnc' port='5901' websocket='5701'/></devices></domain>", 5701 },
    { "<domain><devices><graphics type='spice' port='5901'/><graphics type='vnc' "
      "websocket='65535'/></devices></domain>", 65535 },
    { "<domain><devices><graphics type='vnc' websocket='-1'/></devices></domain>", -1 },
    { "<domain><devices><graphics type='vnc' port='5901'/></devices></domain>", -1 },
    { "<domain><devices><graphics type='vnc' websocket='65536'/></devices></domain>", -1 },
    { "<domain><devices><graphics type='vnc' websocket='57x'/></devices></domain>", -1 },
    { "<domain><devices><graphics type='spice' websocket='5701'/></devices></domain>", -1 },
    { "not xml", -1 },
    { NULL, -1 },
};

START_TEST(test_websocket_port)
{
    ck_assert_int_eq(domain_xml_websocket_port(ws_cases[_i].xml), ws_cases[_i].port);
}
END_TEST

/* Passwords set on a graphics element: the live VNC change starts from the
 * persistent element and keeps its automatic ports; a SPICE ticket needs a
 * listening live element. */
static const char vnc_inactive[] =
    "<domain><devices><graphics type='vnc' port='-1' autoport='yes' websocket='-1' "
    "listen='127.0.0.1' passwdValidTo='2020-01-01T00:00:00'><listen type='address' "
    "address='127.0.0.1'/></graphics></devices></domain>";

START_TEST(test_graphics_passwords)
{
    char *vnc = domain_xml_vnc_password(vnc_inactive, "n3w-Pass");
    ck_assert_ptr_nonnull(vnc);
    ck_assert(g_str_has_prefix(vnc, "<graphics type=\"vnc\""));
    ck_assert_ptr_nonnull(strstr(vnc, "passwd=\"n3w-Pass\""));
    ck_assert_ptr_nonnull(strstr(vnc, "websocket=\"-1\""));
    ck_assert_ptr_nonnull(strstr(vnc, "autoport=\"yes\""));
    ck_assert_ptr_null(strstr(vnc, "passwdValidTo"));
    ck_assert_ptr_nonnull(strstr(vnc, "<listen type=\"address\""));
    g_free(vnc);
    ck_assert_ptr_null(domain_xml_vnc_password(
        "<domain><devices><graphics type='spice' autoport='yes'/></devices></domain>", "x"));
    ck_assert_ptr_null(domain_xml_vnc_password("not xml", "x"));
    ck_assert_ptr_null(domain_xml_vnc_password(NULL, "x"));

    int port = 0;
    char *listen = NULL;
    char *spice = domain_xml_graphics_password(
        "<domain><devices><graphics type='spice' port='5901' autoport='yes' listen='127.0.0.1'/>"
        "</devices></domain>", "spice", "tick3t", "2030-01-01T00:00:00", &port, &listen);
    ck_assert_ptr_nonnull(spice);
    ck_assert_int_eq(port, 5901);
    ck_assert_str_eq(listen, "127.0.0.1");
    ck_assert_ptr_nonnull(strstr(spice, "passwdValidTo=\"2030-01-01T00:00:00\""));
    g_free(spice);
    g_free(listen);
    /* Not started yet (port -1): no ticket. */
    ck_assert_ptr_null(domain_xml_graphics_password(
        "<domain><devices><graphics type='spice' port='-1' listen='127.0.0.1'/></devices></domain>",
        "spice", "t", "2030-01-01T00:00:00", &port, &listen));
}
END_TEST

/* Each case breaks one thing the builder must refuse. */
static void break_arch(struct domain_spec *s) { s->arch = "sparc"; }
static void break_type(struct domain_spec *s) { s->domain_type = "xen"; }
static void break_boot(struct domain_spec *s) { s->boot[1] = "floppy"; }
static void break_vcpus(struct domain_spec *s) { s->vcpus = 0; }
static void break_memory(struct domain_spec *s) { s->memory_mb = 8; }
static void break_format(struct domain_spec *s) { s->disk_format = "vmdk"; }
static void break_disk(struct domain_spec *s) { s->disk_path = NULL; }
/* issue 17: added disks and the CPU's topology. */
static const struct disk_spec bad_disks[] = {
    { "/p/x-vdb.qcow2", "qcow2", "vda", "virtio", NULL },   /* the first disk's name */
    { "/p/x-sdb.qcow2", "qcow2", "vdb", "sata", NULL },     /* vd* is virtio's */
    { "/p/x-vdb.qcow2", "vmdk", "vdb", "virtio", NULL },
    { "/p/x-vdb.qcow2", "qcow2", "vdb", "ide", NULL },
    { "/p/x-vdb.qcow2", "qcow2", "vdb", "virtio", "'/><evil/>" },
    { NULL, "qcow2", "vdb", "virtio", NULL },
};
static void break_extra_disk0(struct domain_spec *s) { s->extra_disks = &bad_disks[0]; s->n_extra_disks = 1; }
static void break_extra_disk1(struct domain_spec *s) { s->extra_disks = &bad_disks[1]; s->n_extra_disks = 1; }
static void break_extra_disk2(struct domain_spec *s) { s->extra_disks = &bad_disks[2]; s->n_extra_disks = 1; }
static void break_extra_disk3(struct domain_spec *s) { s->extra_disks = &bad_disks[3]; s->n_extra_disks = 1; }
static void break_extra_disk4(struct domain_spec *s) { s->extra_disks = &bad_disks[4]; s->n_extra_disks = 1; }
static void break_extra_disk5(struct domain_spec *s) { s->extra_disks = &bad_disks[5]; s->n_extra_disks = 1; }
static void break_topology(struct domain_spec *s)
{
    s->max_vcpus = 4;
    s->sockets = 1, s->cores = 2, s->threads = 1;   /* 2, not 4 */
}
static void (*const breakers[])(struct domain_spec *) = {
    break_arch, break_type, break_boot, break_vcpus, break_memory, break_format, break_disk,
    break_extra_disk0, break_extra_disk1, break_extra_disk2, break_extra_disk3,
    break_extra_disk4, break_extra_disk5, break_topology,
};

static const struct disk_spec good_disks[] = {
    { "/var/lib/vmm/disks/vmm-0a1b2c3d-vdb.qcow2", "qcow2", "vdb", "virtio", "none" },
    { "/var/lib/vmm/disks/vmm-0a1b2c3d-sdb.raw", "raw", "sdb", "scsi", "default" },
};

static struct domain_spec hardware_spec(void)
{
    struct domain_spec spec = base_spec();
    spec.extra_disks = good_disks;
    spec.n_extra_disks = 2;
    spec.max_vcpus = 4;
    spec.sockets = 1, spec.cores = 2, spec.threads = 2;
    return spec;
}

START_TEST(test_hardware_in_the_definition)
{
    struct domain_spec spec = hardware_spec();
    char *xml = domain_xml_build(&spec);
    ck_assert_ptr_nonnull(xml);
    ck_assert_ptr_nonnull(strstr(xml, "<vcpu placement=\"static\" current=\"2\">4</vcpu>"));
    ck_assert_ptr_nonnull(strstr(xml, "<topology sockets=\"1\" dies=\"1\" cores=\"2\" threads=\"2\"/>"));
    ck_assert_ptr_nonnull(strstr(xml, "<driver name=\"qemu\" type=\"qcow2\" cache=\"none\""));
    ck_assert_ptr_nonnull(strstr(xml, "<target dev=\"vdb\" bus=\"virtio\"/>"));
    ck_assert_ptr_nonnull(strstr(xml, "<target dev=\"sdb\" bus=\"scsi\"/>"));
    ck_assert_ptr_nonnull(strstr(xml, "model=\"virtio-scsi\""));
    /* Free PCIe root ports for hotplug, after the root. */
    int ports = 0;
    for (const char *p = xml; (p = strstr(p, "model=\"pcie-root-port\"")); p++)
        ports++;
    ck_assert_int_ge(ports, 14);
    ck_assert_ptr_nonnull(strstr(xml, "index=\"0\" model=\"pcie-root\""));
    g_free(xml);
    /* Without a maximum: no current= (all vCPUs are there). */
    struct domain_spec plain = base_spec();
    xml = domain_xml_build(&plain);
    ck_assert_ptr_nonnull(strstr(xml, "<vcpu placement=\"static\">2</vcpu>"));
    g_free(xml);
}
END_TEST

START_TEST(test_disk_and_cdrom_alone)
{
    char *disk = domain_xml_disk(&good_disks[1]);
    ck_assert_ptr_nonnull(disk);
    ck_assert_ptr_nonnull(strstr(disk, "<disk type=\"file\" device=\"disk\">"));
    ck_assert_ptr_null(strstr(disk, "cache="));   /* default: QEMU's own */
    g_free(disk);
    ck_assert_ptr_null(domain_xml_disk(&bad_disks[4]));
    char *cd = domain_xml_cdrom("x86_64", "/var/lib/vmm/isos/a.iso");
    ck_assert_ptr_nonnull(strstr(cd, "<source file=\"/var/lib/vmm/isos/a.iso\"/>"));
    ck_assert_ptr_nonnull(strstr(cd, "<target dev=\"sda\" bus=\"sata\"/>"));
    g_free(cd);
    cd = domain_xml_cdrom("x86_64", NULL);   /* ejected: a drive without a source */
    ck_assert_ptr_null(strstr(cd, "<source"));
    g_free(cd);
    ck_assert_ptr_null(domain_xml_cdrom("sparc", NULL));
}
END_TEST

START_TEST(test_nic_alone)
{
    struct domain_nic nic = { .network = "default", .mac = "52:54:00:aa:bb:cc", .model = "e1000",
                              .link_down = true };
    char *xml = domain_xml_nic(&nic);
    ck_assert_ptr_nonnull(xml);
    ck_assert_ptr_nonnull(strstr(xml, "<interface type=\"network\">"));
    ck_assert_ptr_nonnull(strstr(xml, "<mac address=\"52:54:00:aa:bb:cc\"/>"));
    ck_assert_ptr_nonnull(strstr(xml, "<source network=\"default\"/>"));
    ck_assert_ptr_nonnull(strstr(xml, "<model type=\"e1000\"/>"));
    ck_assert_ptr_nonnull(strstr(xml, "<link state=\"down\"/>"));
    g_free(xml);
    nic.model = NULL;   /* virtio, link up */
    nic.link_down = false;
    xml = domain_xml_nic(&nic);
    ck_assert_ptr_nonnull(strstr(xml, "<model type=\"virtio\"/>"));
    ck_assert_ptr_null(strstr(xml, "<link"));
    g_free(xml);
    nic.model = "ne2k_pci";   /* not ours to offer */
    ck_assert_ptr_null(domain_xml_nic(&nic));
    nic.model = NULL;
    nic.mac = NULL;   /* hotplug needs the MAC that identifies it later */
    ck_assert_ptr_null(domain_xml_nic(&nic));
    /* A spec with a NIC of an unknown model is refused whole. */
    struct domain_spec spec = base_spec();
    spec.nics[0] = (struct domain_nic){ .network = "default", .model = "ne2k_pci" };
    spec.n_nics = 1;
    ck_assert_ptr_null(domain_xml_build(&spec));
}
END_TEST

/* Issue 17: libvirt's <bandwidth> (a direction without an average is
 * left out, and so are a peak or burst of 0) and <vlan><tag/>. */
START_TEST(test_nic_limits)
{
    struct domain_nic nic = { .network = "default", .mac = "52:54:00:aa:bb:cd",
                              .in_average = 1000, .in_peak = 2000, .in_burst = 512,
                              .out_peak = 99, .vlan = 42 };
    char *xml = domain_xml_nic(&nic);
    ck_assert_ptr_nonnull(xml);
    ck_assert_ptr_nonnull(strstr(xml, "<bandwidth>\n    <inbound average=\"1000\" peak=\"2000\" "
                                      "burst=\"512\"/>\n  </bandwidth>"));
    ck_assert_ptr_null(strstr(xml, "<outbound"));
    ck_assert_ptr_nonnull(strstr(xml, "<vlan>\n    <tag id=\"42\"/>\n  </vlan>"));
    g_free(xml);
    nic = (struct domain_nic){ .network = "default", .mac = "52:54:00:aa:bb:cd", .out_average = 5 };
    xml = domain_xml_nic(&nic);
    ck_assert_ptr_nonnull(strstr(xml, "<bandwidth>\n    <outbound average=\"5\"/>\n  </bandwidth>"));
    ck_assert_ptr_null(strstr(xml, "<vlan"));
    g_free(xml);
    nic.out_average = 0;
    xml = domain_xml_nic(&nic);
    ck_assert_ptr_null(strstr(xml, "<bandwidth"));
    g_free(xml);
    nic.vlan = 4095;   /* not a VLAN id */
    ck_assert_ptr_null(domain_xml_nic(&nic));
}
END_TEST

START_TEST(test_memory_room)
{
    struct domain_spec spec = hardware_spec();   /* 2 of 4 vCPUs */
    spec.max_memory_mb = spec.memory_mb + 1024;
    char *xml = domain_xml_build(&spec);
    char want[128];
    snprintf(want, sizeof want, "<maxMemory slots=\"8\" unit=\"MiB\">%lld</maxMemory>",
             spec.max_memory_mb);
    ck_assert_ptr_nonnull(strstr(xml, want));
    snprintf(want, sizeof want, "<cell id=\"0\" cpus=\"0-3\" memory=\"%lld\" unit=\"MiB\"/>",
             spec.memory_mb);
    ck_assert_ptr_nonnull(strstr(xml, want));
    g_free(xml);
    spec.max_memory_mb = 0;   /* no room: neither */
    xml = domain_xml_build(&spec);
    ck_assert_ptr_null(strstr(xml, "maxMemory"));
    ck_assert_ptr_null(strstr(xml, "<numa>"));
    g_free(xml);
    char *dimm = domain_xml_dimm(256);
    ck_assert_ptr_nonnull(strstr(dimm, "<memory model=\"dimm\">"));
    ck_assert_ptr_nonnull(strstr(dimm, "<size unit=\"MiB\">256</size>"));
    ck_assert_ptr_nonnull(strstr(dimm, "<node>0</node>"));
    g_free(dimm);
    ck_assert_ptr_null(domain_xml_dimm(100));   /* not whole 128 MiB blocks */
    ck_assert_ptr_null(domain_xml_dimm(0));
}
END_TEST

START_TEST(test_bad_specs_refused)
{
    struct domain_spec spec = base_spec();
    breakers[_i](&spec);
    ck_assert_ptr_null(domain_xml_build(&spec));
}
END_TEST

START_TEST(test_libvirt_accepts_it)
{
    virSetErrorFunc(NULL, silence);
    virConnectPtr conn = virConnectOpen("test:///default");
    ck_assert_ptr_nonnull(conn);
    struct domain_spec spec = hardware_spec();   /* with added disks and a topology */
    char *xml = domain_xml_build(&spec);
    virDomainPtr dom = virDomainDefineXML(conn, xml);
    ck_assert_msg(dom != NULL, "libvirt refused: %s", virGetLastErrorMessage());
    ck_assert_int_eq(virDomainCreate(dom), 0);
    ck_assert_int_eq(virDomainIsActive(dom), 1);

    /* The title and metadata survive libvirt's own parse and format. */
    char *back = virDomainGetXMLDesc(dom, 0);
    ck_assert_ptr_nonnull(strstr(back, "<title>测试服务器</title>"));
    long long vm_id = 0, owner_id = 0;
    char *instance = NULL;
    ck_assert_int_eq(domain_xml_owner(back, &vm_id, &owner_id, &instance), 0);
    ck_assert_int_eq(vm_id, 42);
    ck_assert_str_eq(instance, "test-instance");
    free(instance);

    /* virDomainGetMetadata hands back our element without its namespace. */
    char *meta = virDomainGetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT, VMM_XML_NS, 0);
    ck_assert_ptr_nonnull(meta);
    ck_assert_int_eq(domain_xml_owner(meta, &vm_id, &owner_id, &instance), 0);
    ck_assert_int_eq(owner_id, 7);
    ck_assert_str_eq(instance, "test-instance");
    free(instance);
    free(meta);

    ck_assert_int_eq(virDomainDestroy(dom), 0);
    ck_assert_int_eq(virDomainUndefine(dom), 0);
    virDomainFree(dom);
    free(back);
    g_free(xml);
    virConnectClose(conn);
}
END_TEST

/* aarch64 (issue 18): virt, UEFI without Secure Boot, a CPU TCG runs
 * fast, the CD-ROM on SCSI, root ports for hotplug as on q35. */
START_TEST(test_aarch64_guest)
{
    static const char *const present[] = {
        "arch=\"aarch64\" machine=\"virt\"", "<os firmware=\"efi\">",
        "<feature enabled=\"no\" name=\"secure-boot\"/>", "<model>cortex-a57</model>", "<gic/>",
        "<target dev=\"sda\" bus=\"scsi\"/>", "model=\"pcie-root-port\"",
        "<controller type=\"usb\" model=\"qemu-xhci\"/>", "<acpi/>",
    };
    struct domain_spec spec = base_spec();
    spec.arch = "aarch64";
    char *xml = domain_xml_build(&spec);
    ck_assert_ptr_nonnull(xml);
    for (size_t i = 0; i < G_N_ELEMENTS(present); i++)
        ck_assert_msg(strstr(xml, present[i]), "missing %s", present[i]);
    ck_assert_ptr_null(strstr(xml, "<apic/>"));
    /* libvirt 9.0 refuses the ISA pvpanic on virt and has no other. */
    ck_assert_ptr_null(strstr(xml, "<panic"));
    g_free(xml);
    /* The accelerator probe's firmware instead of UEFI (and so no ACPI). */
    spec.firmware_rom = "/var/lib/vmm/probe/aarch64.img";
    xml = domain_xml_build(&spec);
    ck_assert_ptr_nonnull(strstr(xml, "<loader type=\"rom\" readonly=\"yes\">/var/lib/vmm/probe/aarch64.img</loader>"));
    ck_assert_ptr_null(strstr(xml, "firmware=\"efi\""));
    ck_assert_ptr_null(strstr(xml, "<acpi/>"));
    g_free(xml);
    spec.firmware_rom = NULL;
    /* Under KVM (an aarch64 host) the host's CPU: libvirt has no host-model for ARM. */
    spec.domain_type = "kvm";
    spec.cpu_model = "host-model";
    xml = domain_xml_build(&spec);
    ck_assert_ptr_nonnull(strstr(xml, "mode=\"host-passthrough\""));
    g_free(xml);
}
END_TEST

/* What keeps a domain from internal snapshots (issue 16). */
static const struct { const char *xml; int blocker; } snapshot_cases[] = {
    { "<domain><os><type>hvm</type></os><devices><disk type='file' device='disk'>"
      "<driver name='qemu' type='qcow2'/></disk><disk type='file' device='cdrom'>"
      "<driver name='qemu' type='raw'/><readonly/></disk></devices></domain>", SNAPSHOT_OK },
    { "<domain><devices><disk type='file' device='disk'><driver name='qemu' type='raw'/>"
      "</disk></devices></domain>", SNAPSHOT_RAW_DISK },
    { "<domain><devices><disk type='file' device='disk'><driver name='qemu' type='qcow2'/>"
      "</disk><disk type='file' device='disk'/></devices></domain>", SNAPSHOT_RAW_DISK },
    { "<domain><os firmware='efi'><type>hvm</type></os><devices><disk device='disk'>"
      "<driver type='qcow2'/></disk></devices></domain>", SNAPSHOT_UEFI },
    { "<domain><os><loader readonly='yes' type='pflash'>/usr/share/AAVMF/AAVMF_CODE.fd</loader>"
      "<nvram>/var/lib/libvirt/qemu/nvram/x_VARS.fd</nvram></os><devices><disk device='disk'>"
      "<driver type='qcow2'/></disk></devices></domain>", SNAPSHOT_UEFI },
    { "<domain><os><loader type='rom'>/usr/share/seabios/bios.bin</loader></os><devices>"
      "<disk device='disk'><driver type='qcow2'/></disk></devices></domain>", SNAPSHOT_OK },
    { "not xml", -1 },
    { NULL, -1 },
};

START_TEST(test_snapshot_blocker)
{
    ck_assert_int_eq(domain_xml_snapshot_blocker(snapshot_cases[_i].xml), snapshot_cases[_i].blocker);
}
END_TEST

static Suite *domain_xml_suite(void)
{
    Suite *s = suite_create("domain_xml");
    TCase *tc = tcase_create("build");
    tcase_add_test(tc, test_user_text_stays_text);
    tcase_add_test(tc, test_metadata_round_trip);
    tcase_add_loop_test(tc, test_bad_specs_refused, 0, G_N_ELEMENTS(breakers));
    tcase_add_test(tc, test_libvirt_accepts_it);
    tcase_add_test(tc, test_aarch64_guest);
    tcase_add_test(tc, test_hardware_in_the_definition);
    tcase_add_test(tc, test_disk_and_cdrom_alone);
    tcase_add_test(tc, test_nic_alone);
    tcase_add_test(tc, test_nic_limits);
    tcase_add_test(tc, test_memory_room);
    tcase_add_loop_test(tc, test_websocket_port, 0, G_N_ELEMENTS(ws_cases));
    tcase_add_test(tc, test_graphics_passwords);
    tcase_add_loop_test(tc, test_snapshot_blocker, 0, G_N_ELEMENTS(snapshot_cases));
    suite_add_tcase(s, tc);
    return s;
}

UNIT_MAIN(domain_xml_suite)
