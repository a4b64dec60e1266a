// Shared pieces of the encoder tests: client pixel formats, synthetic
// screen content, a server framebuffer built from it and the comparison of
// a decoded client framebuffer with the expected pixels.
#pragma once

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <pixman.h>

#include "encoder.hpp"
#include "pixel-convert.hpp"
#include "pixel-format.hpp"
#include "server-framebuffer.hpp"

namespace enctest {

using qvnc::vnc::PixelFormat;

struct NamedFormat {
    const char *name;
    PixelFormat pf;
};

inline PixelFormat make_pf(int bpp, int depth, bool be, int rmax, int gmax, int bmax, int rs, int gs, int bs)
{
    PixelFormat pf;
    pf.bpp = static_cast<uint8_t>(bpp);
    pf.depth = static_cast<uint8_t>(depth);
    pf.big_endian = be;
    pf.true_colour = true;
    pf.red_max = static_cast<uint16_t>(rmax);
    pf.green_max = static_cast<uint16_t>(gmax);
    pf.blue_max = static_cast<uint16_t>(bmax);
    pf.red_shift = static_cast<uint8_t>(rs);
    pf.green_shift = static_cast<uint8_t>(gs);
    pf.blue_shift = static_cast<uint8_t>(bs);
    return pf;
}

// Client formats: 8/16/32 bpp, both byte orders, odd shifts.
inline std::vector<NamedFormat> client_formats()
{
    return {
        {"32le-rgb888", make_pf(32, 24, false, 255, 255, 255, 16, 8, 0)},
        {"32be-rgb888", make_pf(32, 24, true, 255, 255, 255, 16, 8, 0)},
        {"32le-bgr888", make_pf(32, 24, false, 255, 255, 255, 0, 8, 16)},
        {"32be-bgr888", make_pf(32, 24, true, 255, 255, 255, 0, 8, 16)},
        {"32le-high", make_pf(32, 24, false, 255, 255, 255, 24, 16, 8)},
        {"32be-high", make_pf(32, 24, true, 255, 255, 255, 24, 16, 8)},
        {"32le-odd", make_pf(32, 24, false, 255, 255, 255, 21, 11, 2)},
        {"32le-30bit", make_pf(32, 24, false, 1023, 1023, 1023, 20, 10, 0)},
        {"16le-565", make_pf(16, 16, false, 31, 63, 31, 11, 5, 0)},
        {"16be-565", make_pf(16, 16, true, 31, 63, 31, 11, 5, 0)},
        {"16le-555", make_pf(16, 16, false, 31, 31, 31, 10, 5, 0)},
        {"16be-odd", make_pf(16, 16, true, 15, 63, 15, 1, 6, 12)},
        {"8-bgr233", make_pf(8, 8, false, 7, 7, 3, 0, 3, 6)},
        {"8-rgb332", make_pf(8, 8, false, 7, 7, 3, 5, 2, 0)},
    };
}

// An RGB image (0x00RRGGBB) that becomes the emulator's surface.
struct Image {
    int w = 0, h = 0;
    std::vector<uint32_t> px;
    uint32_t &at(int x, int y) { return px[static_cast<size_t>(y) * w + x]; }
};

// Fills x,y,w,h clipped to the clip box [cx0,cx1) x [cy0,cy1) and the image.
inline void fill_rect(Image &im, int x, int y, int w, int h, uint32_t c, int cx0 = 0, int cy0 = 0, int cx1 = 1 << 30,
                      int cy1 = 1 << 30)
{
    for (int yy = std::max({0, y, cy0}); yy < std::min({im.h, y + h, cy1}); yy++)
        for (int xx = std::max({0, x, cx0}); xx < std::min({im.w, x + w, cx1}); xx++) im.at(xx, yy) = c;
}

// Noise: uniform random pixels, which zlib cannot compress (Deflater
// stores them, enc-util.hpp).
enum class Content { Solid, TwoColour, TwentyColour, Photo, Mixed, Noise };

inline const char *content_name(Content c)
{
    switch (c) {
    case Content::Solid: return "solid";
    case Content::TwoColour: return "two-colour";
    case Content::TwentyColour: return "20-colour";
    case Content::Photo: return "photo";
    case Content::Noise: return "noise";
    default: return "mixed";
    }
}

inline void paint(Image &im, Content c, unsigned seed, int x0 = 0, int y0 = 0, int x1 = -1, int y1 = -1)
{
    if (x1 < 0) x1 = im.w;
    if (y1 < 0) y1 = im.h;
    std::mt19937 rng(seed);
    auto rnd = [&rng](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
    switch (c) {
    case Content::Solid:
        fill_rect(im, x0, y0, x1 - x0, y1 - y0, 0x3a6ea5);
        break;
    case Content::TwoColour:
        fill_rect(im, x0, y0, x1 - x0, y1 - y0, 0xffffff);
        for (int y = y0; y < y1; y++)
            for (int x = x0; x < x1; x++)
                if (((x * 7 + y * 3) % 11 == 0) || ((x / 3 + y / 5) % 7 == 0 && (y % 9) < 6)) im.at(x, y) = 0x101010;
        break;
    case Content::TwentyColour: {
        uint32_t pal[20];
        for (auto &p : pal) p = rng() & 0xffffff;
        fill_rect(im, x0, y0, x1 - x0, y1 - y0, pal[0]);
        for (int i = 0; i < 60; i++) {
            const int w = 1 + rnd(30), h = 1 + rnd(20);
            fill_rect(im, x0 + rnd(std::max(1, x1 - x0)), y0 + rnd(std::max(1, y1 - y0)), w, h, pal[rnd(20)], x0, y0,
                      x1, y1);
        }
        for (int y = y0; y < y1; y++)
            for (int x = x0; x < x1; x++)
                if (rnd(13) == 0) im.at(x, y) = pal[rnd(20)];
        break;
    }
    case Content::Photo:
        for (int y = y0; y < y1; y++)
            for (int x = x0; x < x1; x++) {
                const double v = std::sin(x * 0.05) * std::cos(y * 0.07);
                const int r = std::clamp(static_cast<int>(128 + 100 * v) + rnd(9) - 4, 0, 255);
                const int g = std::clamp(static_cast<int>(x * 255 / std::max(1, im.w)) + rnd(9) - 4, 0, 255);
                const int b = std::clamp(static_cast<int>(y * 255 / std::max(1, im.h)) + rnd(9) - 4, 0, 255);
                im.at(x, y) = static_cast<uint32_t>(r << 16 | g << 8 | b);
            }
        break;
    case Content::Noise:
        for (int y = y0; y < y1; y++)
            for (int x = x0; x < x1; x++) im.at(x, y) = rng() & 0xffffff;
        break;
    case Content::Mixed: {
        const int mx = (x0 + x1) / 2, my = (y0 + y1) / 2;
        paint(im, Content::Solid, seed, x0, y0, mx, my);
        paint(im, Content::TwoColour, seed + 1, mx, y0, x1, my);
        paint(im, Content::TwentyColour, seed + 2, x0, my, mx, y1);
        paint(im, Content::Photo, seed + 3, mx, my, x1, y1);
        break;
    }
    }
}

// Surface pixels of `im` in a pixman format (x8r8g8b8, b8g8r8x8 or r5g6b5).
struct Surface {
    uint32_t format = PIXMAN_x8r8g8b8;
    int stride = 0;
    std::vector<uint8_t> bytes;
    qvnc::vnc::SurfaceView view(const Image &im) const
    {
        return {im.w, im.h, stride, format, bytes.data()};
    }
};

inline Surface make_surface(const Image &im, uint32_t format)
{
    Surface s;
    s.format = format;
    const int bpp = PIXMAN_FORMAT_BPP(format) / 8;
    s.stride = im.w * bpp + 8; // padding: the encoders must honour stride
    s.bytes.assign(static_cast<size_t>(s.stride) * im.h, 0xee);
    for (int y = 0; y < im.h; y++) {
        for (int x = 0; x < im.w; x++) {
            const uint32_t c = im.px[static_cast<size_t>(y) * im.w + x];
            const uint32_t r = c >> 16 & 255, g = c >> 8 & 255, b = c & 255;
            uint8_t *d = s.bytes.data() + static_cast<size_t>(y) * s.stride + static_cast<size_t>(x) * bpp;
            if (format == PIXMAN_r5g6b5) {
                const uint16_t v = static_cast<uint16_t>((r >> 3) << 11 | (g >> 2) << 5 | (b >> 3));
                std::memcpy(d, &v, 2);
            } else if (format == PIXMAN_b8g8r8x8) {
                const uint32_t v = b << 24 | g << 16 | r << 8;
                std::memcpy(d, &v, 4);
            } else {
                const uint32_t v = r << 16 | g << 8 | b;
                std::memcpy(d, &v, 4);
            }
        }
    }
    return s;
}

// The numeric value of a wire pixel.
inline uint32_t wire_value(const uint8_t *p, const PixelFormat &pf)
{
    uint32_t v = 0;
    const int n = pf.bpp / 8;
    for (int i = 0; i < n; i++) {
        v = pf.big_endian ? (v << 8 | p[i]) : (v | static_cast<uint32_t>(p[i]) << (8 * i));
    }
    return v;
}

inline int widen8(uint32_t c, uint32_t max)
{
    return static_cast<int>((c * 255 + max / 2) / max);
}

// Compares a decoded client framebuffer (w x h wire pixels) with the
// expected one.  Lossless: channel values must be equal.  Lossy: channels
// (widened to 8 bits) may differ by up to max_err, with a mean under
// mean_err.  Returns an empty string or a description of the first
// mismatch.
inline std::string compare(const uint8_t *got, const uint8_t *want, int w, int h, const PixelFormat &pf, int max_err = 0,
                           double mean_err = 0)
{
    const int n = pf.bpp / 8;
    const uint32_t max[3] = {pf.red_max, pf.green_max, pf.blue_max};
    const int shift[3] = {pf.red_shift, pf.green_shift, pf.blue_shift};
    // Every bit a channel's values can set: with a max that is not 2^n - 1
    // (72 = 0b1001000), masking with max itself would hide the low bits.
    uint32_t mask[3];
    for (int c = 0; c < 3; c++) mask[c] = (uint32_t{1} << std::bit_width(max[c])) - 1;
    double sum = 0;
    for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
            const size_t off = (static_cast<size_t>(y) * w + x) * n;
            const uint32_t a = wire_value(got + off, pf), b = wire_value(want + off, pf);
            for (int c = 0; c < 3; c++) {
                const uint32_t ca = a >> shift[c] & mask[c], cb = b >> shift[c] & mask[c];
                if (max_err == 0) {
                    if (ca != cb) {
                        char buf[160];
                        snprintf(buf, sizeof buf, "pixel (%d,%d) channel %d: got %u want %u (0x%08x vs 0x%08x)", x, y, c,
                                 ca, cb, a, b);
                        return buf;
                    }
                } else {
                    const int d = std::abs(widen8(ca, max[c]) - widen8(cb, max[c]));
                    sum += d;
                    if (d > max_err) {
                        char buf[160];
                        snprintf(buf, sizeof buf, "pixel (%d,%d) channel %d: error %d > %d", x, y, c, d, max_err);
                        return buf;
                    }
                }
            }
        }
    }
    if (max_err > 0 && sum / (3.0 * w * h) > mean_err) {
        char buf[96];
        snprintf(buf, sizeof buf, "mean error %.2f > %.2f", sum / (3.0 * w * h), mean_err);
        return buf;
    }
    return {};
}

// The whole server framebuffer converted to the client format.
inline std::vector<uint8_t> expected_pixels(const qvnc::vnc::ServerFramebuffer &fb,
                                            const qvnc::vnc::PixelConverter &conv)
{
    const int n = conv.dst_bytes_per_pixel();
    std::vector<uint8_t> out(static_cast<size_t>(fb.width()) * fb.height() * n);
    for (int y = 0; y < fb.height(); y++) {
        conv.convert(fb.row(y), fb.width(), out.data() + static_cast<size_t>(y) * fb.width() * n);
    }
    return out;
}

// A FramebufferUpdate message (type 0) around the encoder's rectangles.
inline std::vector<uint8_t> update_message(const qvnc::io::ByteBuffer &rects, size_t nrects)
{
    const auto d = rects.data();
    // Sized once and filled (GCC 12 at -O2 warned, wrongly, about the
    // insert into a 4-byte vector that this replaced).
    std::vector<uint8_t> m(4 + d.size());
    m[2] = static_cast<uint8_t>(nrects >> 8);
    m[3] = static_cast<uint8_t>(nrects);
    std::copy(d.begin(), d.end(), m.begin() + 4);
    return m;
}

} // namespace enctest
