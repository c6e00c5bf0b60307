#include "probe_guest.h"

#include <fcntl.h>
#include <glib.h>
#include <string.h>
#include <unistd.h>

/* 16-bit real mode at 0x7c00:
 *   xor ax,ax; mov ds,ax; cld; mov dx,0x3f8; mov si,0x7c16
 *   l: lodsb; test al,al; jz h; out dx,al; jmp l
 *   h: hlt; jmp h
 *   "VMM-ACCEL-OK\r\n\0" at offset 22 (0x16). */
static const unsigned char boot_code[] = {
    0x31, 0xc0, 0x8e, 0xd8, 0xfc, 0xba, 0xf8, 0x03, 0xbe, 0x16, 0x7c,
    0xac, 0x84, 0xc0, 0x74, 0x03, 0xee, 0xeb, 0xf8, 0xf4, 0xeb, 0xfd,
};

static int write_file(const char *path, const void *head, size_t n, off_t size)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0)
        return -1;
    bool ok = write(fd, head, n) == (ssize_t)n && ftruncate(fd, size) == 0;
    return close(fd) == 0 && ok ? 0 : -1;
}

int probe_write_x86_disk(const char *path)
{
    unsigned char sector[512] = { 0 };
    memcpy(sector, boot_code, sizeof boot_code);
    memcpy(sector + sizeof boot_code, PROBE_MARKER "\r\n", sizeof PROBE_MARKER + 2);
    sector[510] = 0x55;
    sector[511] = 0xaa;
    /* 1 MiB (sparse): SeaBIOS on q35 does not boot a disk of 64 KiB. */
    return write_file(path, sector, sizeof sector, 1 << 20);
}

/* AArch64 at reset, run by QEMU's virt machine from its flash as the
 * firmware (-bios, libvirt's <loader type='rom'>):
 *   movz x1, #0x0900, lsl #16       the PL011 UART at 0x09000000
 *   adr x2, msg
 *   l: ldrb w3, [x2], #1; cbz w3, h; strb w3, [x1]; b l
 *   h: wfi; b h
 *   msg: "VMM-ACCEL-OK\r\n\0" at offset 32 (assembled with
 *   aarch64-linux-gnu-as; the UART needs no setup under QEMU). */
static const unsigned char arm_code[] = {
    0x01, 0x20, 0xa1, 0xd2, 0xe2, 0x00, 0x00, 0x10, 0x43, 0x14, 0x40, 0x38,
    0x63, 0x00, 0x00, 0x34, 0x23, 0x00, 0x00, 0x39, 0xfd, 0xff, 0xff, 0x17,
    0x7f, 0x20, 0x03, 0xd5, 0xff, 0xff, 0xff, 0x17,
};

int probe_write_arm_rom(const char *path)
{
    unsigned char rom[64] = { 0 };
    memcpy(rom, arm_code, sizeof arm_code);
    memcpy(rom + sizeof arm_code, PROBE_MARKER "\r\n", sizeof PROBE_MARKER + 2);
    /* 1 MiB (sparse), as the x86 disk: the same file is the probe's disk
     * too (QEMU reads the firmware into its flash at start). */
    return write_file(path, rom, sizeof rom, 1 << 20);
}

char *probe_reason_cut(const char *text, size_t max)
{
    char *flat = g_strdup(text ? text : "");
    for (char *c = flat; *c; c++)
        if (*c == '\n' || *c == '\r' || *c == '\t')
            *c = ' ';
    g_strstrip(flat);
    if (strlen(flat) <= max)
        return flat;
    size_t end = max - 3;
    while (end > 0 && flat[end] != ' ')
        end--;
    if (end == 0)   /* one long word: cut it, on a UTF-8 character boundary */
        for (end = max - 3; end > 0 && ((unsigned char)flat[end] & 0xc0) == 0x80; end--)
            ;
    while (end > 0 && flat[end - 1] == ' ')
        end--;
    flat[end] = '\0';
    char *cut = g_strconcat(flat, "...", NULL);
    g_free(flat);
    return cut;
}

char *probe_qemu_log_errors(const char *log_text)
{
    if (!log_text)
        return NULL;
    const char *start = log_text, *at;
    /* libvirt appends each start's command line after a "starting up" line. */
    for (const char *p = log_text; (at = strstr(p, "starting up")); p = at + 1)
        start = at;
    GString *errors = g_string_new(NULL);
    gchar **lines = g_strsplit(start, "\n", -1);
    for (gchar **line = lines; *line; line++) {
        const char *emulator = strstr(*line, "qemu-system-");
        const char *colon = emulator ? strstr(emulator, ": ") : NULL;
        /* "<emulator>: <message>"; the command line has no ": " after the name. */
        if (!colon || strchr(emulator, ' ') < colon)
            continue;
        g_string_append_printf(errors, "%s%s", errors->len ? " " : "", emulator);
    }
    g_strfreev(lines);
    return errors->len ? g_string_free(errors, FALSE) : (g_string_free(errors, TRUE), NULL);
}

bool probe_error_is_kvm(const char *message)
{
    if (!message)
        return false;
    char *lower = g_ascii_strdown(message, -1);
    bool kvm = strstr(lower, "kvm") || strstr(lower, "failed to set msr");
    g_free(lower);
    return kvm;
}
