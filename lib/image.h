/* What an image file is: the ISO 9660 / UDF signature and volume label of
 * an ISO, the digests of a file, qemu-img's view of a disk image. Shared
 * by the helper's import jobs and admin/vmm-image. Files are read, never
 * trusted: a template with a backing file or a format other than the one
 * declared is refused. */
#ifndef VMM_IMAGE_H
#define VMM_IMAGE_H

#include <jansson.h>
#include <stdbool.h>

#include "http.h"

struct iso_info {
    long long size_bytes;
    char label[33];     /* the primary volume descriptor's volume id, trimmed */
    char md5[33];
    char sha256[65];
};

/* Called with 0-100 while a long read runs; false stops it. */
typedef bool (*image_progress_fn)(void *ctx, int percent);

/* Whether the open file carries an ISO 9660 or UDF volume recognition
 * sequence; fills label (ISO 9660 only, else ""). */
bool image_is_iso(int fd, char label[33]);
/* MD5 and SHA-256 of the whole file in one pass. 0, -1 (read error, err
 * set) or 1 (progress said stop). */
int image_digests(int fd, char md5[33], char sha256[65], image_progress_fn progress, void *ctx,
                  struct err *err);
/* Inspects an ISO: signature, label, size, digests. 0, -1 with err set, or 1. */
int image_iso_inspect(const char *path, struct iso_info *info, image_progress_fn progress,
                      void *ctx, struct err *err);

/* `qemu-img info --output=json` of path (format probed, backing files not
 * opened), or NULL with err set (422 not_an_image). */
json_t *image_qemu_info(const char *path, struct err *err);
/* Checks qemu-img's answer against the declared format: no backing file,
 * same format, a positive virtual size. 0 or -1 with err set (422). */
int image_check_disk(json_t *info, const char *declared, struct err *err);

/* Digest of a file with "md5", "sha1" or "sha256" as raw bytes; returns
 * its length, or -1 (unknown algorithm or read error). */
int image_file_digest(int fd, const char *algorithm, unsigned char *out, size_t out_size);

#endif
