/* Pictures people upload (avatars): a PNG or a JPEG, recognised by its
 * bytes, never by a name or a declared type, and decoded in full by
 * libpng / libjpeg-turbo so that only a real image of sane size passes. */
#ifndef VMM_PICTURE_H
#define VMM_PICTURE_H

#include <stddef.h>

#include "http.h"

struct picture_info {
    const char *content_type;   /* "image/png" or "image/jpeg" */
    unsigned width, height;
};

/* Checks data: 0 and info filled, or -1 with r->err: 415 unsupported_image
 * (not a PNG or JPEG: HTML, SVG, GIF...), 422 invalid_image (a broken
 * one) or 422 image_too_large (wider or taller than max_side pixels). */
int picture_check(struct req *r, const unsigned char *data, size_t len, unsigned max_side,
                struct picture_info *info);

#endif
