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

int probe_write_x86_disk(const char *path)
{
    unsigned char sector[512] = { 0 };
    memcpy(sector, boot_code, sizeof boot_code);
    memcpy(sector + sizeof boot_code, PROBE_MARKER "\r\n", sizeof PROBE_MARKER + 2);
    sector[510] = 0x55;
    sector[511] = 0xaa;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0)
        return -1;
    /* 1 MiB (sparse): SeaBIOS on q35 does not boot a disk of 64 KiB. */
    bool ok = write(fd, sector, sizeof sector) == (ssize_t)sizeof sector &&
              ftruncate(fd, 1 << 20) == 0;
    return close(fd) == 0 && ok ? 0 : -1;
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
