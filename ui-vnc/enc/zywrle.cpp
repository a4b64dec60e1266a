// The ZYWRLE forward transform, written from the description in zywrle.md.
#include "zywrle.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace qvnc::vnc::zywrle {

namespace {

// round(sqrt(n)) for small n >= 0, in integers: sqrt(n) >= r + 1/2 exactly
// when n > r^2 + r.
constexpr int round_sqrt(int n)
{
    int r = 0;
    while ((r + 1) * (r + 1) <= n) r++;
    return n - r * r > r ? r + 1 : r;
}

using Curve = std::array<int8_t, 256>;

// The square-law quantise-then-dequantise curve with `bo` significant
// output bits (0: the band is dropped), indexed by the coefficient's byte.
// Integer-exact: q = round(x^2 * 2^(bo-1) / 2^14), capped so that the
// result stays within a signed byte; f = 8 * round(sqrt(q * 2^(9-bo))).
constexpr Curve make_curve(int bo)
{
    Curve c{};
    if (bo == 0) return c;
    const int top = 1 << (bo - 1);
    for (int i = 0; i < 256; i++) {
        const int x = static_cast<int8_t>(static_cast<uint8_t>(i));
        const int mag = x < 0 ? -x : x;
        const int q = std::min((mag * mag * top + (1 << 13)) >> 14, top - 1);
        const int y = 8 * round_sqrt(q * (256 / top));
        c[static_cast<size_t>(i)] = static_cast<int8_t>(x < 0 ? -y : y);
    }
    return c;
}

constexpr Curve identity_curve()
{
    Curve c{};
    for (int i = 0; i < 256; i++) c[static_cast<size_t>(i)] = static_cast<int8_t>(static_cast<uint8_t>(i));
    return c;
}

enum CurveId : uint8_t { Drop, Bits5, Bits4, Bits2, Keep };
constexpr std::array<Curve, 5> kCurves = {make_curve(0), make_curve(5), make_curve(4), make_curve(2),
                                          identity_curve()};

using Plan = uint8_t[3][3];

// kReference[L-1][l][k]: the reference quantiser's curve for the detail
// bands of level l of an L-level transform, channel k (0 U, 1 Y, 2 V).
// Chroma detail of the finest level is dropped; coarser levels keep more.
constexpr Plan kReference[3] = {
    {{Drop, Bits4, Drop}, {Drop, Drop, Drop}, {Drop, Drop, Drop}},
    {{Drop, Bits2, Drop}, {Bits5, Bits5, Bits5}, {Drop, Drop, Drop}},
    {{Drop, Bits2, Drop}, {Bits4, Bits4, Bits4}, {Bits5, Bits5, Bits5}},
};
// The refinements for tiles the reference quantiser spoils (sharp text on
// a busy background): five bits everywhere, then no quantisation at all.
constexpr Plan kFine = {{Bits5, Bits5, Bits5}, {Bits5, Bits5, Bits5}, {Bits5, Bits5, Bits5}};
constexpr Plan kExact = {{Keep, Keep, Keep}, {Keep, Keep, Keep}, {Keep, Keep, Keep}};

int bytes_per_pixel(Layout layout)
{
    return layout == Layout::Rgb565Le ? 2 : 4;
}

// The decoder's three values (c0, c1, c2) of a wire pixel.
struct Triple {
    int c0, c1, c2;
};

Triple load(const uint8_t *p, Layout layout)
{
    if (layout == Layout::Bytes012) {
        return {p[0], p[1], p[2]};
    }
    const int v = p[0] | p[1] << 8;
    return {(v << 3) & 0xF8, (v >> 3) & 0xFC, (v >> 8) & 0xF8};
}

// Packs three signed bytes into a pixel slot the way the decoder unpacks
// them.  5-6-5 keeps only the bits the colour transform's masks and the
// quantiser's multiples of 8 leave set, so nothing that matters is lost.
void store(uint8_t *p, const int8_t k[3], Layout layout)
{
    const auto b0 = static_cast<uint8_t>(k[0]), b1 = static_cast<uint8_t>(k[1]), b2 = static_cast<uint8_t>(k[2]);
    if (layout == Layout::Bytes012) {
        p[0] = b0;
        p[1] = b1;
        p[2] = b2;
        p[3] = 0;
        return;
    }
    const unsigned v = (b2 & 0xF8u) << 8 | (b1 & 0xFCu) << 3 | (b0 & 0xF8u) >> 3;
    p[0] = static_cast<uint8_t>(v);
    p[1] = static_cast<uint8_t>(v >> 8);
}

// Floors x to a multiple of `step` (a power of two) and keeps it off -128,
// so that every value has a negation in a signed byte (PLHaar needs that).
int fold(int x, int step)
{
    x &= -step;
    return x == -128 ? x + step : x;
}

// PLHaar on one pair: lo replaces a, hi replaces b.  The decoder applies
// the same function to (lo, hi) to get (a, b) back.
void plhaar(int8_t &a8, int8_t &b8)
{
    const int a = a8, b = b8;
    int lo, hi;
    if ((a < 0) != (b < 0)) {
        const int sum = a + b; // within a signed byte as the signs differ
        lo = sum;
        hi = (sum < 0) == (b < 0) ? a - sum : a;
    } else {
        const int diff = a - b; // likewise, as the signs agree
        hi = diff;
        lo = (diff < 0) == (a < 0) ? b + diff : b;
    }
    a8 = static_cast<int8_t>(lo);
    b8 = static_cast<int8_t>(hi);
}

// PLHaar over the pairs (i, i + d), i = 0, 2d, 4d, ... of a row (stride 1)
// or a column (stride w) of `len` coefficients from `start`.
template <class Plane> void lift(Plane &plane, size_t start, int len, int d, int stride)
{
    for (int i = 0; i + 2 * d <= len; i += 2 * d) {
        auto &a = plane[start + static_cast<size_t>(i) * stride];
        auto &b = plane[start + static_cast<size_t>(i + d) * stride];
        for (int k = 0; k < 3; k++) plhaar(a.k[k], b.k[k]);
    }
}

// Calls fn(index) for the coefficients of a w x h plane in the order of
// the nested tile's slots: detail bands 3, 2, 1 of each level, then the
// last level's low-pass band (zywrle.md, "Coefficient layout").
template <class Fn> void for_each_slot(int w, int h, int level, Fn fn)
{
    for (int l = 0; l < level; l++) {
        const int s = 2 << l, d = 1 << l;
        for (const int band : {3, 2, 1, 0}) {
            if (band == 0 && l != level - 1) continue;
            const int ox = band & 1 ? d : 0, oy = band & 2 ? d : 0;
            for (int y = oy; y < h; y += s) {
                for (int x = ox; x < w; x += s) fn(static_cast<size_t>(y) * w + x);
            }
        }
    }
}

} // namespace

Layout layout_of(const PixelFormat &pf)
{
    if (!pf.true_colour) return Layout::None;
    if (pf.bpp == 32 && pf.red_max == 255 && pf.green_max == 255 && pf.blue_max == 255) {
        unsigned bytes = 0;
        for (const int shift : {pf.red_shift, pf.green_shift, pf.blue_shift}) {
            if (shift % 8 != 0 || shift > 24) return Layout::None;
            bytes |= 1u << (pf.big_endian ? 3 - shift / 8 : shift / 8);
        }
        return bytes == 0b111 ? Layout::Bytes012 : Layout::None;
    }
    // libvncclient's 16 bpp inverse reads 5-6-5 from the bytes of a
    // little-endian pixel; it has no 5-5-5 or big-endian variant (QEMU's
    // 15 bpp encoder has no decoder to talk to), so those stay lossless.
    if (pf.bpp == 16 && !pf.big_endian && pf.red_max == 31 && pf.green_max == 63 && pf.blue_max == 31 &&
        pf.green_shift == 5 &&
        ((pf.red_shift == 11 && pf.blue_shift == 0) || (pf.red_shift == 0 && pf.blue_shift == 11))) {
        return Layout::Rgb565Le;
    }
    return Layout::None;
}

int level_for(const PixelFormat &pf, bool lossy, int quality_level)
{
    if (!lossy || quality_level < 0 || quality_level >= 9 || layout_of(pf) == Layout::None) return 0;
    return 3 - quality_level / 3;
}

double max_tile_mse(int level)
{
    // 255^2 / 10^(dB / 10) for 32, 27 and 22 dB.
    static constexpr double kMse[3] = {41.2, 130.3, 412.1};
    return level >= 1 && level <= 3 ? kMse[level - 1] : 0.0;
}

void Analyzer::wavelet(int w, int h, int level, const Plan &plan)
{
    for (int l = 0; l < level; l++) {
        const int d = 1 << l, s = 2 << l;
        for (int y = 0; y < h; y += d) lift(plane_, static_cast<size_t>(y) * w, w, d, 1);
        for (int x = 0; x < w; x += d) lift(plane_, static_cast<size_t>(x), h, d, w);
        // Quantise this level's detail bands, each channel on its curve.
        for (int band = 1; band < 4; band++) {
            const int ox = band & 1 ? d : 0, oy = band & 2 ? d : 0;
            for (int y = oy; y < h; y += s) {
                for (int x = ox; x < w; x += s) {
                    Coef &c = plane_[static_cast<size_t>(y) * w + x];
                    for (int k = 0; k < 3; k++) {
                        c.k[k] = kCurves[plan[l][k]][static_cast<uint8_t>(c.k[k])];
                    }
                }
            }
        }
    }
}

void Analyzer::pack(int w, int h, int level, Layout layout, uint8_t *slots) const
{
    const int bpp = bytes_per_pixel(layout);
    for_each_slot(w, h, level, [&](size_t i) {
        store(slots, plane_[i].k, layout);
        slots += bpp;
    });
}

// What the decoder makes of the coefficient slots: unpack, inverse
// wavelet (levels from the coarsest, columns before rows), inverse colour
// transform, pixel packing; returns the mean squared error per channel
// against the source pixels of the aligned part.
double Analyzer::decoded_mse(const uint8_t *tile, int tw, int w, int h, int level, Layout layout,
                             const uint8_t *slots)
{
    const int bpp = bytes_per_pixel(layout);
    for_each_slot(w, h, level, [&](size_t i) {
        const Triple t = load(slots, layout);
        plane_[i].k[0] = static_cast<int8_t>(t.c0);
        plane_[i].k[1] = static_cast<int8_t>(t.c1);
        plane_[i].k[2] = static_cast<int8_t>(t.c2);
        slots += bpp;
    });
    for (int l = level - 1; l >= 0; l--) {
        const int d = 1 << l;
        for (int x = 0; x < w; x += d) lift(plane_, static_cast<size_t>(x), h, d, w);
        for (int y = 0; y < h; y += d) lift(plane_, static_cast<size_t>(y) * w, w, d, 1);
    }
    const int mask_rb = layout == Layout::Rgb565Le ? 0xF8 : 0xFF, mask_g = layout == Layout::Rgb565Le ? 0xFC : 0xFF;
    double se = 0;
    for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
            const Coef &c = plane_[static_cast<size_t>(y) * w + x];
            const int yy = c.k[1] + 128, u = c.k[0] * 2, v = c.k[2] * 2;
            const int g = yy - ((u + v) >> 2);
            const int b = std::clamp(u + g, 0, 255) & mask_rb, r = std::clamp(v + g, 0, 255) & mask_rb;
            const int g8 = std::clamp(g, 0, 255) & mask_g;
            const Triple src = load(tile + (static_cast<size_t>(y) * tw + x) * bpp, layout);
            se += (b - src.c0) * (b - src.c0) + (g8 - src.c1) * (g8 - src.c1) + (r - src.c2) * (r - src.c2);
        }
    }
    return se / (3.0 * w * h);
}

bool Analyzer::analyze(const uint8_t *tile, int tw, int th, int level, Layout layout, double max_mse,
                       std::vector<uint8_t> &out)
{
    const int bpp = bytes_per_pixel(layout);
    out.assign(tile, tile + static_cast<size_t>(tw) * th * bpp);
    const int align = ~((1 << level) - 1);
    const int w = std::min(tw, kMaxTile) & align, h = std::min(th, kMaxTile) & align;
    if (layout == Layout::None || level < 1 || level > 3 || w == 0 || h == 0) return true;

    // Colour transform of the aligned part (zywrle.md, "Colour transform").
    const int ystep = layout == Layout::Rgb565Le ? 4 : 1, uvstep = layout == Layout::Rgb565Le ? 8 : 1;
    for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
            const Triple t = load(tile + (static_cast<size_t>(y) * tw + x) * bpp, layout);
            Coef &c = yuv_[static_cast<size_t>(y) * w + x];
            c.k[0] = static_cast<int8_t>(fold((t.c0 - t.c1) >> 1, uvstep));
            c.k[1] = static_cast<int8_t>(fold(((t.c2 + 2 * t.c1 + t.c0) >> 2) - 128, ystep));
            c.k[2] = static_cast<int8_t>(fold((t.c2 - t.c1) >> 1, uvstep));
        }
    }

    // The pixels outside the aligned part follow the coefficients unchanged:
    // right strip, bottom strip, corner.
    uint8_t *slot = out.data() + static_cast<size_t>(w) * h * bpp;
    auto copy = [&](int x0, int x1, int y0, int y1) {
        for (int y = y0; y < y1; y++) {
            for (int x = x0; x < x1; x++) {
                std::memcpy(slot, tile + (static_cast<size_t>(y) * tw + x) * bpp, static_cast<size_t>(bpp));
                slot += bpp;
            }
        }
    };
    copy(w, tw, 0, h);
    copy(0, w, h, th);
    copy(w, tw, h, th);

    const size_t n = static_cast<size_t>(w) * h;
    for (const Plan *plan : {&kReference[level - 1], &kFine, &kExact}) {
        std::copy_n(yuv_.begin(), n, plane_.begin());
        wavelet(w, h, level, *plan);
        pack(w, h, level, layout, out.data());
        if (std::isinf(max_mse) || decoded_mse(tile, tw, w, h, level, layout, out.data()) <= max_mse) return true;
    }
    return false;
}

} // namespace qvnc::vnc::zywrle
