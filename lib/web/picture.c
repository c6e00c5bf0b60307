#include "picture.h"

#include <jpeglib.h>
#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "i18n.h"

static const unsigned char png_magic[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
static const unsigned char jpeg_magic[3] = { 0xff, 0xd8, 0xff };

static int too_large(struct req *r, unsigned max_side)
{
    return req_fail(r, 422, "image_too_large", NULL,
                    _("The picture may be at most %u by %u pixels."), max_side, max_side);
}

static int broken(struct req *r)
{
    return req_fail(r, 422, "invalid_image", NULL, _("The picture is damaged."));
}

static int check_png(struct req *r, const unsigned char *data, size_t len, unsigned max_side,
                     struct picture_info *info)
{
    png_image image;
    memset(&image, 0, sizeof image);
    image.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_memory(&image, data, len))
        return broken(r);
    if (image.width == 0 || image.height == 0 || image.width > max_side ||
        image.height > max_side) {
        png_image_free(&image);
        return image.width && image.height ? too_large(r, max_side) : broken(r);
    }
    /* Decode it all: a valid header before junk is not a picture. */
    image.format = PNG_FORMAT_RGBA;
    void *pixels = malloc(PNG_IMAGE_SIZE(image));
    int ok = pixels && png_image_finish_read(&image, NULL, pixels, 0, NULL);
    free(pixels);
    png_image_free(&image);
    if (!ok)
        return broken(r);
    info->content_type = "image/png";
    info->width = image.width;
    info->height = image.height;
    return 0;
}

struct jpeg_failure {
    struct jpeg_error_mgr mgr;
    jmp_buf jump;
};

static void jpeg_fail(j_common_ptr cinfo)
{
    longjmp(((struct jpeg_failure *)cinfo->err)->jump, 1);
}

static void jpeg_quiet(j_common_ptr cinfo, int level)
{
    (void)cinfo;
    (void)level;
}

static int check_jpeg(struct req *r, const unsigned char *data, size_t len, unsigned max_side,
                      struct picture_info *info)
{
    struct jpeg_decompress_struct cinfo;
    struct jpeg_failure failure;
    /* volatile: changed between setjmp and a longjmp back. */
    unsigned char *volatile row = NULL;

    cinfo.err = jpeg_std_error(&failure.mgr);
    failure.mgr.error_exit = jpeg_fail;
    failure.mgr.emit_message = jpeg_quiet;
    if (setjmp(failure.jump)) {
        jpeg_destroy_decompress(&cinfo);
        free(row);
        return broken(r);
    }
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, data, (unsigned long)len);
    jpeg_read_header(&cinfo, TRUE);
    if (cinfo.image_width > max_side || cinfo.image_height > max_side) {
        jpeg_destroy_decompress(&cinfo);
        return too_large(r, max_side);
    }
    jpeg_start_decompress(&cinfo);
    row = malloc((size_t)cinfo.output_width * (size_t)cinfo.output_components);
    if (!row)
        longjmp(failure.jump, 1);
    while (cinfo.output_scanline < cinfo.output_height) {
        JSAMPROW rows[1] = { row };
        jpeg_read_scanlines(&cinfo, rows, 1);
    }
    jpeg_finish_decompress(&cinfo);
    info->content_type = "image/jpeg";
    info->width = cinfo.image_width;
    info->height = cinfo.image_height;
    jpeg_destroy_decompress(&cinfo);
    free(row);
    return 0;
}

int picture_check(struct req *r, const unsigned char *data, size_t len, unsigned max_side,
                struct picture_info *info)
{
    if (data && len > sizeof png_magic && !memcmp(data, png_magic, sizeof png_magic))
        return check_png(r, data, len, max_side, info);
    if (data && len > sizeof jpeg_magic && !memcmp(data, jpeg_magic, sizeof jpeg_magic))
        return check_jpeg(r, data, len, max_side, info);
    return req_fail(r, 415, "unsupported_image", NULL,
                    _("The picture must be a PNG or JPEG file."));
}
