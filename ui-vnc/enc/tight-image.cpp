#include "tight-image.hpp"

#include <bit>
#include <csetjmp>
#include <cstdio>

#include <jpeglib.h>
#include <pixman.h>
#include <png.h>

namespace qvnc::vnc::enc {

// ---- JPEG ------------------------------------------------------------------

namespace {

struct JpegError {
    jpeg_error_mgr mgr;
    std::jmp_buf jump;
};

extern "C" void jpeg_error_exit_cb(j_common_ptr cinfo)
{
    auto *err = reinterpret_cast<JpegError *>(cinfo->err);
    std::longjmp(err->jump, 1);
}

extern "C" void jpeg_output_message_cb(j_common_ptr) {}

// A destination manager appending to a std::vector.
struct VectorDest {
    jpeg_destination_mgr mgr;
    std::vector<uint8_t> *out;
};

extern "C" void dest_init(j_compress_ptr cinfo)
{
    auto *d = reinterpret_cast<VectorDest *>(cinfo->dest);
    if (d->out->size() < 16384) {
        d->out->resize(16384);
    }
    d->mgr.next_output_byte = d->out->data();
    d->mgr.free_in_buffer = d->out->size();
}

extern "C" boolean dest_empty(j_compress_ptr cinfo)
{
    auto *d = reinterpret_cast<VectorDest *>(cinfo->dest);
    // libjpeg only calls this when the whole buffer is used.
    const size_t used = d->out->size();
    d->out->resize(used * 2);
    d->mgr.next_output_byte = d->out->data() + used;
    d->mgr.free_in_buffer = d->out->size() - used;
    return TRUE;
}

extern "C" void dest_term(j_compress_ptr cinfo)
{
    auto *d = reinterpret_cast<VectorDest *>(cinfo->dest);
    d->out->resize(d->out->size() - d->mgr.free_in_buffer);
}

// The libjpeg-turbo input colour space that reads a 32-bit surface format
// as stored in memory, or JCS_UNKNOWN when rows must be converted first.
J_COLOR_SPACE direct_colour_space(uint32_t fmt)
{
    constexpr bool big = std::endian::native == std::endian::big;
    switch (fmt) {
    case PIXMAN_x8r8g8b8:
    case PIXMAN_a8r8g8b8:
        return big ? JCS_EXT_XRGB : JCS_EXT_BGRX;
    case PIXMAN_x8b8g8r8:
    case PIXMAN_a8b8g8r8:
        return big ? JCS_EXT_XBGR : JCS_EXT_RGBX;
    case PIXMAN_b8g8r8x8:
    case PIXMAN_b8g8r8a8:
        return big ? JCS_EXT_BGRX : JCS_EXT_XRGB;
    default:
        return JCS_UNKNOWN;
    }
}

} // namespace

struct JpegCompressor::Impl {
    jpeg_compress_struct cinfo{};
    JpegError err{};
    VectorDest dest{};
    std::vector<uint8_t> rgb; // converted rows for formats libjpeg cannot read
    bool ok = false;
};

JpegCompressor::JpegCompressor() : impl_(std::make_unique<Impl>())
{
    Impl &m = *impl_;
    m.cinfo.err = jpeg_std_error(&m.err.mgr);
    m.err.mgr.error_exit = jpeg_error_exit_cb;
    m.err.mgr.output_message = jpeg_output_message_cb;
    if (setjmp(m.err.jump)) {
        return;
    }
    jpeg_create_compress(&m.cinfo);
    m.dest.mgr.init_destination = dest_init;
    m.dest.mgr.empty_output_buffer = dest_empty;
    m.dest.mgr.term_destination = dest_term;
    m.cinfo.dest = &m.dest.mgr;
    m.ok = true;
}

JpegCompressor::~JpegCompressor()
{
    if (impl_->ok) {
        jpeg_destroy_compress(&impl_->cinfo);
    }
}

bool JpegCompressor::compress(const Rect &r, const ServerFramebuffer &fb, const PixelConverter &conv, int quality,
                              int h_factor, int v_factor, std::vector<uint8_t> &out)
{
    Impl &m = *impl_;
    if (!m.ok) {
        return false;
    }
    jpeg_compress_struct &ci = m.cinfo;
    const volatile J_COLOR_SPACE cs = direct_colour_space(fb.format());
    const int bpp = fb.bytes_per_pixel();
    if (cs == JCS_UNKNOWN) {
        m.rgb.resize(static_cast<size_t>(r.w) * 3);
    }
    m.dest.out = &out;

    if (setjmp(m.err.jump)) {
        jpeg_abort_compress(&ci);
        return false;
    }
    ci.image_width = static_cast<JDIMENSION>(r.w);
    ci.image_height = static_cast<JDIMENSION>(r.h);
    ci.input_components = cs == JCS_UNKNOWN ? 3 : 4;
    ci.in_color_space = cs == JCS_UNKNOWN ? JCS_RGB : cs;
    jpeg_set_defaults(&ci);
    jpeg_set_quality(&ci, quality, TRUE);
    ci.comp_info[0].h_samp_factor = h_factor;
    ci.comp_info[0].v_samp_factor = v_factor;
    ci.comp_info[1].h_samp_factor = ci.comp_info[1].v_samp_factor = 1;
    ci.comp_info[2].h_samp_factor = ci.comp_info[2].v_samp_factor = 1;
    ci.dct_method = JDCT_ISLOW;
    jpeg_start_compress(&ci, TRUE);

    JSAMPROW rows[16];
    while (ci.next_scanline < ci.image_height) {
        const int y = r.y + static_cast<int>(ci.next_scanline);
        if (cs == JCS_UNKNOWN) {
            const uint8_t *src = fb.row(y) + static_cast<size_t>(r.x) * bpp;
            uint8_t *d = m.rgb.data();
            for (int x = 0; x < r.w; x++, src += bpp, d += 3) {
                const uint32_t c = conv.to_rgb888(src);
                d[0] = static_cast<uint8_t>(c >> 16);
                d[1] = static_cast<uint8_t>(c >> 8);
                d[2] = static_cast<uint8_t>(c);
            }
            rows[0] = m.rgb.data();
            jpeg_write_scanlines(&ci, rows, 1);
        } else {
            const int n = std::min<int>(16, static_cast<int>(ci.image_height - ci.next_scanline));
            for (int k = 0; k < n; k++) {
                rows[k] = const_cast<JSAMPROW>(fb.row(y + k) + static_cast<size_t>(r.x) * bpp);
            }
            jpeg_write_scanlines(&ci, rows, static_cast<JDIMENSION>(n));
        }
    }
    jpeg_finish_compress(&ci);
    return true;
}

// ---- PNG -------------------------------------------------------------------

namespace {

extern "C" void png_write_cb(png_structp png, png_bytep data, png_size_t len)
{
    auto *out = static_cast<std::vector<uint8_t> *>(png_get_io_ptr(png));
    out->insert(out->end(), data, data + len);
}

extern "C" void png_flush_cb(png_structp) {}

extern "C" void png_error_cb(png_structp png, png_const_charp)
{
    png_longjmp(png, 1);
}

extern "C" void png_warning_cb(png_structp, png_const_charp) {}

} // namespace

bool png_compress(const uint8_t *pixels, int w, int h, const uint8_t *palette_rgb, int palette_size, int zlib_level,
                  std::vector<uint8_t> &out)
{
    out.clear();
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, png_error_cb, png_warning_cb);
    if (!png) {
        return false;
    }
    png_infop info = png_create_info_struct(png);
    if (!info) {
        png_destroy_write_struct(&png, nullptr);
        return false;
    }
    // Packed rows for 1/2/4-bit palettes.  Allocated before setjmp and
    // freed after, so the longjmp skips no destructor.
    const int depth = !palette_rgb ? 8 : palette_size <= 2 ? 1 : palette_size <= 4 ? 2 : palette_size <= 16 ? 4 : 8;
    std::vector<uint8_t> packed;
    if (palette_rgb && depth < 8) {
        packed.resize(static_cast<size_t>((w * depth + 7) / 8));
    }
    volatile bool ok = false;
    if (setjmp(png_jmpbuf(png)) == 0) {
        png_set_write_fn(png, &out, png_write_cb, png_flush_cb);
        png_set_compression_level(png, zlib_level);
        png_set_IHDR(png, info, static_cast<png_uint_32>(w), static_cast<png_uint_32>(h), depth,
                     palette_rgb ? PNG_COLOR_TYPE_PALETTE : PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
                     PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
        if (palette_rgb) {
            png_color plte[256];
            for (int i = 0; i < palette_size; i++) {
                plte[i].red = palette_rgb[3 * i];
                plte[i].green = palette_rgb[3 * i + 1];
                plte[i].blue = palette_rgb[3 * i + 2];
            }
            png_set_PLTE(png, info, plte, palette_size);
            png_set_filter(png, PNG_FILTER_TYPE_BASE, PNG_FILTER_NONE);
        } else {
            png_set_filter(png, PNG_FILTER_TYPE_BASE, PNG_FILTER_SUB | PNG_FILTER_PAETH);
        }
        png_write_info(png, info);
        const size_t stride = palette_rgb ? static_cast<size_t>(w) : static_cast<size_t>(w) * 3;
        for (int y = 0; y < h; y++) {
            const uint8_t *row = pixels + stride * static_cast<size_t>(y);
            if (!packed.empty()) {
                std::fill(packed.begin(), packed.end(), 0);
                const int per = 8 / depth;
                for (int x = 0; x < w; x++) {
                    packed[x / per] |= static_cast<uint8_t>(row[x] << (8 - depth * (x % per + 1)));
                }
                row = packed.data();
            }
            png_write_row(png, const_cast<png_bytep>(row));
        }
        png_write_end(png, nullptr);
        ok = true;
    }
    png_destroy_write_struct(&png, &info);
    return ok;
}

} // namespace qvnc::vnc::enc
