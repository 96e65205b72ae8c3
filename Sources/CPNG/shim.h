#include <png.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

/*
 * cpng_decode_rgb8: decodes a PNG held in memory to 8-bit interleaved RGB with the low-level libpng API, with
 * PIL's `Image.convert("RGB")` semantics: 16-bit samples keep their high byte (png_set_strip_16), palettes and
 * low-bit greys are expanded, grey is replicated to RGB, and alpha (or tRNS transparency) is dropped, never
 * composited. libpng reports errors by longjmp, which must not cross Swift frames, so the setjmp lives here.
 *
 * Returns 0 and sets *out (malloc'd, width*height*3 bytes; the caller frees it), *width and *height; on failure
 * returns -1 and writes a message into errbuf (at most errlen bytes, NUL-terminated).
 */

struct cpng_reader { const unsigned char *data; size_t size; size_t pos; };
struct cpng_error { jmp_buf jump; char *buf; size_t len; };

static inline void cpng_read_fn(png_structp png, png_bytep out, size_t n) {
    struct cpng_reader *r = (struct cpng_reader *)png_get_io_ptr(png);
    if (r->pos + n > r->size) { png_error(png, "unexpected end of PNG data (file truncated)"); }
    memcpy(out, r->data + r->pos, n);
    r->pos += n;
}

static inline void cpng_error_fn(png_structp png, png_const_charp msg) {
    struct cpng_error *e = (struct cpng_error *)png_get_error_ptr(png);
    if (e->buf && e->len > 0) { strncpy(e->buf, msg, e->len - 1); e->buf[e->len - 1] = 0; }
    longjmp(e->jump, 1);
}

static inline void cpng_warning_fn(png_structp png, png_const_charp msg) { (void)png; (void)msg; }

static inline int cpng_decode_rgb8(const unsigned char *data, size_t size, unsigned char **out,
                                   int *width, int *height, char *errbuf, size_t errlen) {
    *out = NULL;
    if (size < 8 || png_sig_cmp((png_const_bytep)data, 0, 8) != 0) {
        if (errbuf && errlen) { strncpy(errbuf, "not a PNG signature", errlen - 1); errbuf[errlen - 1] = 0; }
        return -1;
    }
    struct cpng_error err; err.buf = errbuf; err.len = errlen;
    struct cpng_reader reader; reader.data = data; reader.size = size; reader.pos = 0;
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &err, cpng_error_fn, cpng_warning_fn);
    if (!png) { return -1; }
    png_infop info = png_create_info_struct(png);
    if (!info) { png_destroy_read_struct(&png, NULL, NULL); return -1; }
    unsigned char *volatile pixels = NULL;
    png_bytep *volatile rows = NULL;
    if (setjmp(err.jump)) {
        free(pixels); free(rows);
        png_destroy_read_struct(&png, &info, NULL);
        return -1;
    }
    png_set_read_fn(png, &reader, cpng_read_fn);
    png_read_info(png, info);
    png_uint_32 w = png_get_image_width(png, info), h = png_get_image_height(png, info);
    int depth = png_get_bit_depth(png, info), color = png_get_color_type(png, info);
    if (depth == 16) png_set_strip_16(png);
    if (color == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (color == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(png);
    if (depth < 8 && color != PNG_COLOR_TYPE_GRAY) png_set_packing(png);
    if (color == PNG_COLOR_TYPE_GRAY || color == PNG_COLOR_TYPE_GRAY_ALPHA) png_set_gray_to_rgb(png);
    if (color & PNG_COLOR_MASK_ALPHA) png_set_strip_alpha(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    size_t rowbytes = png_get_rowbytes(png, info);
    if (rowbytes != (size_t)w * 3) { png_error(png, "unexpected row layout after transforms"); }
    pixels = (unsigned char *)malloc((size_t)w * h * 3 + 1);
    rows = (png_bytep *)malloc(sizeof(png_bytep) * (h ? h : 1));
    if (!pixels || !rows) { png_error(png, "out of memory"); }
    for (png_uint_32 y = 0; y < h; y++) rows[y] = pixels + (size_t)y * rowbytes;
    png_read_image(png, rows);
    png_read_end(png, NULL);
    png_destroy_read_struct(&png, &info, NULL);
    free(rows);
    *out = pixels; *width = (int)w; *height = (int)h;
    return 0;
}
