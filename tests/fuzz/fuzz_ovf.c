/* libFuzzer harness: the OVF descriptor parser of helper/ova.c. One input
 * is the .ovf member of an uploaded OVA, as ova_extract hands it to
 * ovf_parse (bounded by OVF_MAX_BYTES there). What it returns must be
 * something the import can use: NUL-terminated names, a known format. */
#include <libxml/parser.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ova.h"

static void silent(void *ctx, const char *msg, ...)
{
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    if (!ready) {
        xmlSetGenericErrorFunc(NULL, silent);
        ready = 1;
    }
    if (size > (4 << 20))
        return 0;
    struct ovf_info info;
    struct err err = { 0 };
    if (ovf_parse((const char *)data, size, &info, &err) == 0) {
        if (!memchr(info.name, '\0', sizeof info.name) || !info.disk_href[0] ||
            !memchr(info.disk_href, '\0', sizeof info.disk_href))
            abort();
        if (strcmp(info.disk_format, "vmdk") && strcmp(info.disk_format, "qcow2") &&
            strcmp(info.disk_format, "raw"))
            abort();
    } else if (err.status != 422) {
        abort();
    }
    return 0;
}
