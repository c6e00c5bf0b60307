/* Image inspection: ISO 9660 / UDF signatures and labels, the rules that
 * judge a file's head and qemu-img's answer (self-contained, the declared
 * format), OVF descriptors, chunk digests. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "image.h"
#include "ova.h"
#include "unit.h"

/* A file of 40 sectors with the given 5-byte ids at sectors 16, 17, ... */
static int iso_file(const char *const *ids, const char *label)
{
    char path[] = "/tmp/vmm-test-iso-XXXXXX";
    int fd = mkstemp(path);
    unlink(path);
    unsigned char sector[2048];
    int n = 0;
    while (ids[n])
        n++;
    for (int i = 0; i < 40; i++) {
        memset(sector, 0, sizeof sector);
        int d = i - 16;
        if (d >= 0 && d < n) {
            sector[0] = !strcmp(ids[d], "CD001") && d == 0 ? 1 : d > 0 && !strcmp(ids[d], "CD001") ? 255 : 0;
            memcpy(sector + 1, ids[d], 5);
            if (label && sector[0] == 1) {
                memset(sector + 40, ' ', 32);
                memcpy(sector + 40, label, strlen(label));
            }
        }
        ck_assert_int_eq(write(fd, sector, sizeof sector), (ssize_t)sizeof sector);
    }
    return fd;
}

START_TEST(test_iso9660_with_label)
{
    const char *const ids[] = { "CD001", "CD001", NULL };
    int fd = iso_file(ids, "DEBIAN_12");
    char label[33];
    ck_assert(image_is_iso(fd, label));
    ck_assert_str_eq(label, "DEBIAN_12");
    close(fd);
}
END_TEST

START_TEST(test_udf_without_iso9660)
{
    const char *const ids[] = { "BEA01", "NSR02", "TEA01", NULL };
    int fd = iso_file(ids, NULL);
    char label[33];
    ck_assert(image_is_iso(fd, label));
    ck_assert_str_eq(label, "");
    close(fd);
}
END_TEST

START_TEST(test_not_an_iso)
{
    const char *const none[] = { NULL };
    int fd = iso_file(none, NULL);
    char label[33];
    ck_assert(!image_is_iso(fd, label));
    close(fd);
    const char *const wrong[] = { "CD002", NULL };
    fd = iso_file(wrong, NULL);
    ck_assert(!image_is_iso(fd, label));
    close(fd);
    /* Too short to hold sector 16. */
    char path[] = "/tmp/vmm-test-iso-XXXXXX";
    fd = mkstemp(path);
    unlink(path);
    ck_assert_int_eq(write(fd, "hello", 5), 5);
    ck_assert(!image_is_iso(fd, label));
    close(fd);
}
END_TEST

struct disk_case {
    const char *info;
    const char *declared;
    const char *code;   /* NULL: accepted */
};

/* qemu-img info --output=json of files opened as "image", in the shapes
 * qemu-img 7.2 prints them (cut to what matters). */
#define VMDK_SPARSE(type, extents)                                                         \
    "{\"format\":\"vmdk\",\"filename\":\"image\",\"virtual-size\":1048576,"                 \
    "\"format-specific\":{\"type\":\"vmdk\",\"data\":{\"create-type\":\"" type "\","         \
    "\"extents\":[" extents "]}}}"
#define SELF_EXTENT "{\"virtual-size\":1048576,\"filename\":\"image\",\"format\":\"\"}"
#define QCOW2_DATA(extra)                                                                  \
    "{\"format\":\"qcow2\",\"filename\":\"image\",\"virtual-size\":1048576,"                \
    "\"format-specific\":{\"type\":\"qcow2\",\"data\":{\"compat\":\"1.1\"" extra "}}}"

static const struct disk_case disk_cases[] = {
    { "{\"format\":\"qcow2\",\"virtual-size\":1048576}", "qcow2", NULL },
    { QCOW2_DATA(""), "qcow2", NULL },
    { "{\"format\":\"raw\",\"filename\":\"image\",\"virtual-size\":1048576}", "raw", NULL },
    { VMDK_SPARSE("streamOptimized", SELF_EXTENT), "vmdk", NULL },
    { VMDK_SPARSE("monolithicSparse", SELF_EXTENT), "vmdk", NULL },
    /* Backing files, plain or json:, and the keys that come with them. */
    { "{\"format\":\"qcow2\",\"virtual-size\":1048576,\"backing-filename\":\"/etc/passwd\"}", "qcow2", "backing_file" },
    { "{\"format\":\"qcow2\",\"virtual-size\":1048576,\"full-backing-filename\":\"x\"}", "qcow2", "backing_file" },
    { "{\"format\":\"qcow2\",\"virtual-size\":1048576,\"backing-filename-format\":\"raw\"}", "qcow2", "backing_file" },
    { "{\"format\":\"qcow2\",\"virtual-size\":1048576,\"backing-filename\":"
      "\"json:{\\\"driver\\\":\\\"raw\\\",\\\"file\\\":{\\\"filename\\\":\\\"/root/x\\\"}}\"}", "qcow2", "backing_file" },
    /* An external data file, raw or not. */
    { QCOW2_DATA(",\"data-file\":\"/root/secret\",\"data-file-raw\":true"), "qcow2", "data_file" },
    { QCOW2_DATA(",\"data-file\":\"image\""), "qcow2", "data_file" },
    /* vmdk: other subformats, extents elsewhere, more than one extent. */
    { VMDK_SPARSE("monolithicFlat", "{\"filename\":\"image-flat.vmdk\",\"format\":\"FLAT\"}"), "vmdk", "external_file" },
    { VMDK_SPARSE("monolithicFlat", SELF_EXTENT), "vmdk", "vmdk_subformat" },
    { VMDK_SPARSE("twoGbMaxExtentSparse", SELF_EXTENT), "vmdk", "vmdk_subformat" },
    { VMDK_SPARSE("vmfs", SELF_EXTENT), "vmdk", "vmdk_subformat" },
    { VMDK_SPARSE("monolithicSparse", "{\"filename\":\"/root/secret\",\"format\":\"FLAT\"}"), "vmdk", "external_file" },
    { VMDK_SPARSE("monolithicSparse", SELF_EXTENT "," SELF_EXTENT), "vmdk", "vmdk_subformat" },
    { VMDK_SPARSE("monolithicSparse", ""), "vmdk", "vmdk_subformat" },
    { "{\"format\":\"vmdk\",\"filename\":\"image\",\"virtual-size\":1048576}", "vmdk", "vmdk_subformat" },
    /* Any child or name but the file itself; json: anywhere. */
    { "{\"format\":\"raw\",\"filename\":\"/etc/passwd\",\"virtual-size\":1048576}", "raw", "external_file" },
    { "{\"format\":\"raw\",\"filename\":\"json:{}\",\"virtual-size\":1048576}", "raw", "external_file" },
    { "{\"format\":\"raw\",\"filename\":\"nbd://10.0.0.1/x\",\"virtual-size\":1048576}", "raw", "external_file" },
    { "{\"format\":\"qcow2\",\"filename\":\"image\",\"virtual-size\":1048576,\"children\":"
      "[{\"name\":\"file\",\"info\":{\"filename\":\"image\"}}]}", "qcow2", NULL },
    { "{\"format\":\"qcow2\",\"filename\":\"image\",\"virtual-size\":1048576,\"children\":"
      "[{\"name\":\"data-file\",\"info\":{\"filename\":\"/root/secret\"}}]}", "qcow2", "external_file" },
    { "{\"format\":\"raw\",\"filename\":\"image\",\"virtual-size\":1048576,\"x\":\"json:{}\"}", "raw", "external_file" },
    { "{\"format\":\"raw\",\"filename\":7,\"virtual-size\":1048576}", "raw", "external_file" },
    /* The declared format, a size. */
    { "{\"format\":\"qcow2\",\"virtual-size\":1048576}", "raw", "format_mismatch" },
    { "{\"format\":\"raw\",\"virtual-size\":1048576}", "qcow2", "format_mismatch" },
    { "{\"virtual-size\":1048576}", "raw", "format_mismatch" },
    { "{\"format\":\"raw\",\"virtual-size\":0}", "raw", "not_an_image" },
};

START_TEST(test_disk_checks)
{
    const struct disk_case *c = &disk_cases[_i];
    json_t *info = json_loads(c->info, 0, NULL);
    ck_assert_msg(info, "case %d is not JSON", _i);
    struct err err = { 0 };
    int rc = image_check_disk(info, c->declared, "image", &err);
    if (c->code) {
        ck_assert_int_eq(rc, -1);
        ck_assert_str_eq(err.code, c->code);
        ck_assert_int_eq(err.status, 422);
    } else {
        ck_assert_msg(rc == 0, "case %d refused: %s", _i, err.message);
    }
    json_decref(info);
}
END_TEST

struct head_case {
    const char *head;
    size_t len;
    const char *sniffed;
    const char *declared;
    const char *code;   /* NULL: accepted */
};

#define HEAD(s) s, sizeof s - 1
static const struct head_case head_cases[] = {
    { HEAD("QFI\xfb\0\0\0\3"), "qcow2", "qcow2", NULL },
    { HEAD("KDMV\1\0\0\0"), "vmdk", "vmdk", NULL },
    { HEAD("COWD\1\0\0\0"), "vmdk", "vmdk", NULL },
    { HEAD("hello\n"), "raw", "raw", NULL },
    { HEAD(""), "raw", "raw", NULL },
    { HEAD("QFI\xfb\0\0\0\3"), "qcow2", "raw", "format_mismatch" },
    { HEAD("hello\n"), "raw", "qcow2", "format_mismatch" },
    { HEAD("KDMV\1\0\0\0"), "vmdk", "qcow2", "format_mismatch" },
    { HEAD("# Disk DescriptorFile\nversion=1\ncreateType=\"monolithicFlat\"\n"
           "RW 8 FLAT \"/root/secret\" 0\n"), "vmdk-descriptor", "vmdk", "external_file" },
    { HEAD("\n  # Disk DescriptorFile\n"), "vmdk-descriptor", "vmdk", "external_file" },
    { HEAD("version=1\ncreateType=\"twoGbMaxExtentFlat\"\n"), "vmdk-descriptor", "vmdk", "external_file" },
    { HEAD("# Disk DescriptorFile\n"), "vmdk-descriptor", "qcow2", "format_mismatch" },
    /* As raw it is only bytes: nothing opens the files it names. */
    { HEAD("# Disk DescriptorFile\n"), "vmdk-descriptor", "raw", NULL },
    { HEAD("createType\0binary"), "raw", "raw", NULL },
};

START_TEST(test_head_checks)
{
    const struct head_case *c = &head_cases[_i];
    ck_assert_str_eq(image_sniff_format((const unsigned char *)c->head, c->len), c->sniffed);
    struct err err = { 0 };
    int rc = image_check_head((const unsigned char *)c->head, c->len, c->declared, &err);
    if (c->code) {
        ck_assert_int_eq(rc, -1);
        ck_assert_str_eq(err.code, c->code);
        ck_assert_int_eq(err.status, 422);
    } else {
        ck_assert_msg(rc == 0, "case %d refused: %s", _i, err.message);
    }
}
END_TEST

static const char ovf[] =
    "<?xml version=\"1.0\"?>"
    "<Envelope xmlns=\"http://schemas.dmtf.org/ovf/envelope/1\" "
    "xmlns:ovf=\"http://schemas.dmtf.org/ovf/envelope/1\" "
    "xmlns:rasd=\"http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData\">"
    "<References><File ovf:id=\"f1\" ovf:href=\"disk1.vmdk\"/></References>"
    "<DiskSection><Disk ovf:diskId=\"d1\" ovf:fileRef=\"f1\" "
    "ovf:format=\"http://www.vmware.com/interfaces/specifications/vmdk.html#streamOptimized\"/></DiskSection>"
    "<VirtualSystem ovf:id=\"vm\"><Name>Web 服务器</Name><VirtualHardwareSection>"
    "<Item><rasd:ResourceType>3</rasd:ResourceType><rasd:VirtualQuantity>4</rasd:VirtualQuantity></Item>"
    "<Item><rasd:AllocationUnits>byte * 2^30</rasd:AllocationUnits><rasd:ResourceType>4</rasd:ResourceType>"
    "<rasd:VirtualQuantity>2</rasd:VirtualQuantity></Item>"
    "</VirtualHardwareSection></VirtualSystem></Envelope>";

START_TEST(test_ovf_parse)
{
    struct ovf_info info;
    struct err err = { 0 };
    ck_assert_int_eq(ovf_parse(ovf, sizeof ovf - 1, &info, &err), 0);
    ck_assert_str_eq(info.name, "Web 服务器");
    ck_assert_int_eq(info.vcpus, 4);
    ck_assert_int_eq(info.memory_mb, 2048);
    ck_assert_str_eq(info.disk_href, "disk1.vmdk");
    ck_assert_str_eq(info.disk_format, "vmdk");
}
END_TEST

START_TEST(test_ovf_refused)
{
    struct ovf_info info;
    struct err err = { 0 };
    ck_assert_int_eq(ovf_parse("<Envelope", 9, &info, &err), -1);
    ck_assert_str_eq(err.code, "bad_ovf");
    memset(&err, 0, sizeof err);
    const char nodisk[] = "<Envelope><VirtualSystem><Name>x</Name></VirtualSystem></Envelope>";
    ck_assert_int_eq(ovf_parse(nodisk, sizeof nodisk - 1, &info, &err), -1);
    ck_assert_str_eq(err.code, "bad_ovf");
    /* An external entity is never fetched or expanded. */
    memset(&err, 0, sizeof err);
    const char xxe[] = "<?xml version=\"1.0\"?><!DOCTYPE e [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>"
                       "<Envelope><References><File id=\"f\" href=\"&x;\"/></References>"
                       "<DiskSection><Disk fileRef=\"f\"/></DiskSection></Envelope>";
    if (ovf_parse(xxe, sizeof xxe - 1, &info, &err) == 0)
        ck_assert(!strstr(info.disk_href, "root:"));
    /* A memory size that overflows in MiB is no size (UBSan found the
     * wrap-around in the fuzz harness). */
    const char huge[] = "<Envelope><References><File id=\"f\" href=\"d.vmdk\"/></References>"
                        "<DiskSection><Disk fileRef=\"f\"/></DiskSection><Item>"
                        "<ResourceType>4</ResourceType><AllocationUnits>GigaBytes</AllocationUnits>"
                        "<VirtualQuantity>99999999999999999</VirtualQuantity></Item></Envelope>";
    memset(&err, 0, sizeof err);
    ck_assert_int_eq(ovf_parse(huge, sizeof huge - 1, &info, &err), 0);
    ck_assert_int_eq(info.memory_mb, 0);
}
END_TEST

START_TEST(test_chunk_digest)
{
    char path[] = "/tmp/vmm-test-digest-XXXXXX";
    int fd = mkstemp(path);
    unlink(path);
    ck_assert_int_eq(write(fd, "abc", 3), 3);
    unsigned char out[64];
    ck_assert_int_eq(image_file_digest(fd, "sha256", out, sizeof out), 32);
    ck_assert_int_eq(out[0], 0xba);
    ck_assert_int_eq(out[31], 0xad);
    ck_assert_int_eq(image_file_digest(fd, "md5", out, sizeof out), 16);
    ck_assert_int_eq(out[0], 0x90);
    ck_assert_int_eq(image_file_digest(fd, "sha1", out, sizeof out), 20);
    ck_assert_int_eq(out[0], 0xa9);
    ck_assert_int_eq(image_file_digest(fd, "crc32", out, sizeof out), -1);
    close(fd);
}
END_TEST

/* xorriso's reports (-report_el_torito plain, -find of *.efi) and the
 * architecture they show. */
static const struct {
    const char *report;
    const char *arch;
} iso_arch_cases[] = {
    { "'/EFI/boot/bootaa64.efi'\n", "aarch64" },
    { "'/EFI/BOOT/BOOTAA64.EFI'\n'/EFI/BOOT/grubaa64.efi'\n", "aarch64" },
    { "El Torito boot img :   1  BIOS  y   none  0x0000  0x00      4          34\n", "x86_64" },
    { "'/efi/boot/bootx64.efi'\n", "x86_64" },
    { "El Torito boot img :   1  UEFI  y   none  0x0000  0x00   5760        1234\n"
      "'/EFI/boot/bootaa64.efi'\n", "aarch64" },
    /* both: a multi-architecture ISO; the uploader says which it is */
    { "El Torito boot img :   1  BIOS  y   none  0x0000  0x00      4   34\n"
      "'/EFI/boot/bootaa64.efi'\n", "" },
    { "", "" },
    { "'/docs/bootaa64.efi.txt'\n'/bootaa64.efi-old'\n", "" },
    { NULL, "" },
};

START_TEST(test_iso_arch)
{
    ck_assert_str_eq(image_iso_arch_of(iso_arch_cases[_i].report), iso_arch_cases[_i].arch);
}
END_TEST

static Suite *image_suite(void)
{
    Suite *s = suite_create("image");
    TCase *tc = tcase_create("image");
    tcase_add_test(tc, test_iso9660_with_label);
    tcase_add_test(tc, test_udf_without_iso9660);
    tcase_add_test(tc, test_not_an_iso);
    tcase_add_loop_test(tc, test_disk_checks, 0, G_N_ELEMENTS(disk_cases));
    tcase_add_loop_test(tc, test_head_checks, 0, G_N_ELEMENTS(head_cases));
    tcase_add_test(tc, test_ovf_parse);
    tcase_add_test(tc, test_ovf_refused);
    tcase_add_test(tc, test_chunk_digest);
    tcase_add_loop_test(tc, test_iso_arch, 0, G_N_ELEMENTS(iso_arch_cases));
    suite_add_tcase(s, tc);
    return s;
}

UNIT_MAIN(image_suite)
