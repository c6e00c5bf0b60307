/* What an image file is: the ISO 9660 / UDF signature and volume label of
 * an ISO, the digests of a file, qemu-img's view of a disk image. Shared
 * by the helper's import jobs and admin/vmm-image. Files are read, never
 * trusted: qemu-img reads them in the sandbox (lib/sandbox.h), and an image
 * that is not self-contained (backing file, external data file, vmdk
 * extents elsewhere, json: names) or not of the declared format is
 * refused. */
#ifndef VMM_IMAGE_H
#define VMM_IMAGE_H

#include <jansson.h>
#include <stdbool.h>

#include "http.h"
#include "sandbox.h"

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
/* MD5 (unless md5 is NULL) and SHA-256 of the whole file in one pass. 0,
 * -1 (read error, err set) or 1 (progress said stop). */
int image_digests(int fd, char md5[33], char sha256[65], image_progress_fn progress, void *ctx,
                  struct err *err);
/* Inspects an ISO: signature, label, size, digests. 0, -1 with err set, or 1. */
int image_iso_inspect(const char *path, struct iso_info *info, image_progress_fn progress,
                      void *ctx, struct err *err);

/* What the first bytes of a file say it is: "qcow2", "vmdk" (sparse, one
 * file), "vmdk-descriptor" (a text descriptor naming other files) or
 * "raw" (anything else). */
const char *image_sniff_format(const unsigned char *head, size_t n);
/* Judges a file's first bytes against the declared format: a mismatch,
 * a vmdk descriptor. 0 or -1 with err set (422). */
int image_check_head(const unsigned char *head, size_t n, const char *declared, struct err *err);
/* Judges `qemu-img info --output=json` of a file opened as self: the
 * declared format, a positive virtual size, and self-contained: no
 * backing file, no external data file, no json: or protocol filename,
 * no child or extent but self, a vmdk only monolithicSparse or
 * streamOptimized with its one extent. 0 or -1 with err set (422:
 * backing_file, data_file, external_file, vmdk_subformat,
 * format_mismatch, not_an_image). */
int image_check_disk(json_t *info, const char *declared, const char *self, struct err *err);
/* Inspects the sandbox's image as the declared format: its head, then
 * qemu-img info (-f declared) run in the sandbox, judged by
 * image_check_disk. qemu-img's answer, or NULL with err set. */
json_t *image_inspect(struct sandbox *sb, const char *declared, struct err *err);

/* The architecture an ISO boots, from what xorriso (run in the sandbox
 * on its image, under limits) reports: its El Torito boot entries (a BIOS
 * entry is x86) and its EFI boot loaders (EFI/BOOT/BOOTAA64.EFI, BOOTX64.EFI).
 * "x86_64" or "aarch64"; "" when it shows none or both (the uploader says);
 * NULL with err set when xorriso could not run. */
const char *image_iso_arch(struct sandbox *sb, struct err *err);
/* The same judgement from xorriso's report (pure, for the unit tests). */
const char *image_iso_arch_of(const char *report);

/* Digest of a file with "md5", "sha1" or "sha256" as raw bytes; returns
 * its length, or -1 (unknown algorithm or read error). */
int image_file_digest(int fd, const char *algorithm, unsigned char *out, size_t out_size);

#endif
