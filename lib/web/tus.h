/* The tus 1.0.0 request headers a client sends (Upload-Length,
 * Upload-Offset, Upload-Metadata, Upload-Checksum), parsed without any
 * state: cgi-bin/vmm-uploads.c and the fuzz harness (tests/fuzz) share
 * them. Each fails with a 400 in err (the first error wins). */
#ifndef VMM_TUS_H
#define VMM_TUS_H

#include <jansson.h>
#include <stdbool.h>

#include "http.h"

#define TUS_METADATA_MAX_BYTES 4096

/* Digits only, no sign, at most 18 of them: a tus length or offset.
 * false for NULL. */
bool tus_parse_size(const char *text, long long *out);

/* "key base64,key base64": each key once, each value base64 of UTF-8
 * text without NUL, set in out as a string. NULL or "" is no metadata. */
int tus_metadata_parse(const char *header, json_t *out, struct err *err);

/* "md5|sha1|sha256 <base64>": a new *algorithm and a pointer into header
 * for the digest. The algorithm is NULL on failure. */
int tus_checksum_parse(const char *header, char **algorithm, const char **digest,
                       struct err *err);

/* A metadata value kept as text: what a name may not hold (control,
 * format and invisible characters: input_name_char) becomes '_', at most
 * max_chars characters. Shown, never used as a path. text is UTF-8. */
char *tus_safe_text(const char *text, long max_chars);

#endif
