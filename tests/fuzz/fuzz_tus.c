/* libFuzzer harness: the tus headers of lib/web/tus.c. One input is
 * "<selector byte><header value>": the selector picks Upload-Length /
 * Upload-Offset, Upload-Metadata or Upload-Checksum, as vmm-uploads reads
 * them from the client; metadata values then go through tus_safe_text as
 * the program stores them. A header value is a C string (nginx passes no
 * NUL), so the input is cut at its first NUL. */
#include <glib.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tus.h"

static void metadata(const char *header)
{
    json_t *meta = json_object();
    struct err err = { 0 };
    if (tus_metadata_parse(header, meta, &err) == 0) {
        const char *key;
        json_t *value;
        json_object_foreach(meta, key, value) {
            const char *text = json_string_value(value);
            if (!text || !g_utf8_validate(text, -1, NULL))
                abort();
            char *safe = tus_safe_text(text, 255);
            if (g_utf8_strlen(safe, -1) > 255 || !g_utf8_validate(safe, -1, NULL))
                abort();
            g_free(safe);
        }
    } else if (err.status != 400) {
        abort();
    }
    json_decref(meta);
}

static void checksum(const char *header)
{
    char *algorithm = NULL;
    const char *digest = NULL;
    struct err err = { 0 };
    int rc = tus_checksum_parse(header, &algorithm, &digest, &err);
    if (rc == 0 && (!algorithm || !digest || !*digest || strlen(digest) > 128))
        abort();
    if (rc < 0 && (algorithm || err.status != 400))
        abort();
    g_free(algorithm);
}

static void size_header(const char *header)
{
    long long v = -1;
    if (tus_parse_size(header, &v) && v < 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    char *header = g_strndup((const char *)data + 1, size - 1);
    switch (data[0] % 3) {
    case 0: size_header(header); break;
    case 1: metadata(header); break;
    default: checksum(header); break;
    }
    g_free(header);
    return 0;
}
