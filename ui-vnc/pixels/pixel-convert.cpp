#include "pixel-convert.hpp"

#include <bit>
#include <cstring>
#include <optional>

#include <pixman.h>

namespace qvnc::vnc {

namespace {

constexpr bool kHostBigEndian = std::endian::native == std::endian::big;

// Where red, green and blue sit inside a native-endian source word.
struct SourceLayout {
    int bytes;
    uint8_t shift[3];
    uint8_t bits[3];
};

std::optional<SourceLayout> source_layout(uint32_t format)
{
    switch (format) {
    case PIXMAN_x8r8g8b8:
    case PIXMAN_a8r8g8b8:
        return SourceLayout{4, {16, 8, 0}, {8, 8, 8}};
    case PIXMAN_x8b8g8r8:
    case PIXMAN_a8b8g8r8:
        return SourceLayout{4, {0, 8, 16}, {8, 8, 8}};
    case PIXMAN_b8g8r8x8:
    case PIXMAN_b8g8r8a8:
        return SourceLayout{4, {8, 16, 24}, {8, 8, 8}};
    case PIXMAN_r5g6b5:
        return SourceLayout{2, {11, 5, 0}, {5, 6, 5}};
    case PIXMAN_x1r5g5b5:
        return SourceLayout{2, {10, 5, 0}, {5, 5, 5}};
    default:
        return std::nullopt;
    }
}

// Widens an n-bit channel value to 8 bits by repeating its bit pattern, so
// that full scale stays full scale (31 -> 255) and the top bits are kept.
uint32_t widen_to_8(uint32_t v, int n)
{
    if (n >= 8) {
        return v >> (n - 8);
    }
    uint32_t out = 0;
    int filled = 0;
    while (filled < 8) {
        out = (out << n) | v;
        filled += n;
    }
    return out >> (filled - 8);
}

// An 8-bit channel value in a channel of the given max.  For the usual
// 2^n-1 maxes this truncates to the top n bits, as QEMU's vnc_convert_pixel
// does; other maxes (rare, and >8-bit channels) are scaled with rounding.
uint32_t narrow_from_8(uint32_t v8, uint16_t max)
{
    const uint32_t m = max;
    if (m <= 255 && (m & (m + 1)) == 0) {
        return v8 >> (8 - std::bit_width(m));
    }
    return (v8 * m + 127) / 255;
}

uint32_t place(uint32_t v, uint8_t shift)
{
    return shift < 32 ? v << shift : 0;
}

bool fits(uint16_t max, uint8_t shift, uint8_t bpp)
{
    return shift + std::bit_width(static_cast<unsigned>(max)) <= bpp;
}

template <int Bytes> inline uint32_t load_native(const uint8_t *p)
{
    if constexpr (Bytes == 4) {
        uint32_t v;
        std::memcpy(&v, p, 4);
        return v;
    } else {
        uint16_t v;
        std::memcpy(&v, p, 2);
        return v;
    }
}

template <int Bytes, bool Swap> inline void store_value(uint8_t *p, uint32_t v)
{
    if constexpr (Bytes == 4) {
        if constexpr (Swap) v = __builtin_bswap32(v);
        std::memcpy(p, &v, 4);
    } else if constexpr (Bytes == 2) {
        auto w = static_cast<uint16_t>(v);
        if constexpr (Swap) w = __builtin_bswap16(w);
        std::memcpy(p, &w, 2);
    } else {
        *p = static_cast<uint8_t>(v);
    }
}

} // namespace

bool is_supported_surface_format(uint32_t pixman_format)
{
    return source_layout(pixman_format).has_value();
}

int surface_bytes_per_pixel(uint32_t pixman_format)
{
    return PIXMAN_FORMAT_BPP(pixman_format) / 8;
}

uint32_t pack_pixel(const PixelFormat &pf, uint8_t r, uint8_t g, uint8_t b)
{
    return place(narrow_from_8(r, pf.red_max), pf.red_shift) |
           place(narrow_from_8(g, pf.green_max), pf.green_shift) |
           place(narrow_from_8(b, pf.blue_max), pf.blue_shift);
}

void store_pixel(const PixelFormat &pf, uint32_t value, uint8_t *dst)
{
    const int n = pf.bpp / 8;
    for (int i = 0; i < n; i++) {
        const int byte = pf.big_endian ? n - 1 - i : i;
        dst[i] = static_cast<uint8_t>(value >> (8 * byte));
    }
}

void write_pixel(io::ByteWriter &out, const PixelFormat &pf, uint32_t value)
{
    uint8_t buf[4] = {};
    store_pixel(pf, value, buf);
    out.bytes(std::span<const uint8_t>(buf, static_cast<size_t>(pf.bpp / 8)));
}

void write_bgr233_colour_map(io::ByteWriter &out)
{
    const PixelFormat pf = PixelFormat::bgr233();
    out.u8(1).u8(0).u16(0).u16(256);
    // QEMU shifts each channel's value to the top of the u16 instead of
    // scaling it, so full red is 0xe000, not 0xffff; clients see the same
    // colours from us as from QEMU.
    auto entry = [](unsigned index, unsigned shift, unsigned max) {
        const int bits = std::bit_width(max);
        return static_cast<uint16_t>(((index >> shift) & max) << (16 - bits));
    };
    for (unsigned i = 0; i < 256; i++) {
        out.u16(entry(i, pf.red_shift, pf.red_max));
        out.u16(entry(i, pf.green_shift, pf.green_max));
        out.u16(entry(i, pf.blue_shift, pf.blue_max));
    }
}

Result<PixelConverter> PixelConverter::make(uint32_t pixman_format, const PixelFormat &dst)
{
    const std::optional<SourceLayout> src = source_layout(pixman_format);
    if (!src) {
        return make_error(ErrorCode::InvalidArg, "unsupported surface format 0x%08x", pixman_format);
    }
    if (dst.bpp != 8 && dst.bpp != 16 && dst.bpp != 32) {
        return make_error(ErrorCode::InvalidArg, "invalid bits-per-pixel %u", dst.bpp);
    }
    const uint16_t dmax[3] = {dst.red_max, dst.green_max, dst.blue_max};
    const uint8_t dshift[3] = {dst.red_shift, dst.green_shift, dst.blue_shift};
    for (int c = 0; c < 3; c++) {
        if (dmax[c] == 0 || !fits(dmax[c], dshift[c], dst.bpp)) {
            return make_error(ErrorCode::InvalidArg, "unusable client pixel format");
        }
    }

    PixelConverter conv;
    conv.src_format_ = pixman_format;
    conv.dst_ = dst;
    conv.src_bytes_ = src->bytes;

    bool same_layout = src->bytes * 8 == dst.bpp;
    for (int c = 0; c < 3; c++) {
        const int bits = src->bits[c];
        conv.src_shift_[c] = src->shift[c];
        conv.src_bits_[c] = static_cast<uint8_t>(bits);
        conv.src_mask_[c] = (1u << bits) - 1;
        for (uint32_t v = 0; v <= conv.src_mask_[c]; v++) {
            conv.tab_[c][v] = place(narrow_from_8(widen_to_8(v, bits), dmax[c]), dshift[c]);
        }
        same_layout = same_layout && dmax[c] == conv.src_mask_[c] && dshift[c] == src->shift[c];
        conv.channel_bits_ |= conv.src_mask_[c] << src->shift[c];
    }

    // Narrowing to a 2^n-1 max no wider than the source channel is just
    // "take the top n bits", which needs no table.
    bool shifts_only = true;
    for (int c = 0; c < 3; c++) {
        const uint32_t m = dmax[c];
        const int n = std::bit_width(m);
        if (!std::has_single_bit(m + 1) || n > src->bits[c]) {
            shifts_only = false;
            break;
        }
        conv.down_[c] = static_cast<uint8_t>(src->shift[c] + src->bits[c] - n);
        conv.up_[c] = dshift[c];
        conv.dst_mask_[c] = m;
    }

    const bool swap = dst.big_endian != kHostBigEndian;
    if (same_layout && !swap) {
        conv.copy_ = true;
        conv.row_ = &row_copy;
    } else if (same_layout) {
        conv.row_ = src->bytes == 4 ? &row_swap<4> : &row_swap<2>;
    } else if (shifts_only) {
        conv.row_ = src->bytes == 4 ? pick_row<4, true>(dst.bpp, swap) : pick_row<2, true>(dst.bpp, swap);
    } else {
        conv.row_ = src->bytes == 4 ? pick_row<4, false>(dst.bpp, swap) : pick_row<2, false>(dst.bpp, swap);
    }
    return conv;
}

template <int SrcBytes, bool Shifts>
PixelConverter::RowFn PixelConverter::pick_row(int dst_bpp, bool swap)
{
    switch (dst_bpp) {
    case 8:
        return &row_generic<SrcBytes, 1, false, Shifts>;
    case 16:
        return swap ? &row_generic<SrcBytes, 2, true, Shifts> : &row_generic<SrcBytes, 2, false, Shifts>;
    default:
        return swap ? &row_generic<SrcBytes, 4, true, Shifts> : &row_generic<SrcBytes, 4, false, Shifts>;
    }
}

uint32_t PixelConverter::load(const uint8_t *src_pixel) const
{
    return src_bytes_ == 4 ? load_native<4>(src_pixel) : load_native<2>(src_pixel);
}

uint32_t PixelConverter::map_pixel(const uint8_t *src_pixel) const
{
    const uint32_t p = load(src_pixel);
    uint32_t v = 0;
    for (int c = 0; c < 3; c++) {
        v |= tab_[c][(p >> src_shift_[c]) & src_mask_[c]];
    }
    return v;
}

uint32_t PixelConverter::to_rgb888(const uint8_t *src_pixel) const
{
    const uint32_t p = load(src_pixel);
    uint32_t rgb = 0;
    for (int c = 0; c < 3; c++) {
        rgb = rgb << 8 | widen_to_8((p >> src_shift_[c]) & src_mask_[c], src_bits_[c]);
    }
    return rgb;
}

template <int SrcBytes, int DstBytes, bool Swap, bool Shifts>
void PixelConverter::row_generic(const PixelConverter &c, const uint8_t *src_row, int n, uint8_t *dst_row)
{
    // convert() promises non-overlapping rows; saying so lets GCC vectorise
    // the shift loop without runtime alias checks (it does at -O3).
    const uint8_t *__restrict src = src_row;
    uint8_t *__restrict dst = dst_row;
    // Everything the loop needs is hoisted into locals.
    if constexpr (Shifts) {
        const unsigned rd = c.down_[0], gd = c.down_[1], bd = c.down_[2];
        const unsigned ru = c.up_[0], gu = c.up_[1], bu = c.up_[2];
        const uint32_t rm = c.dst_mask_[0], gm = c.dst_mask_[1], bm = c.dst_mask_[2];
        for (int i = 0; i < n; i++) {
            const uint32_t p = load_native<SrcBytes>(src + i * SrcBytes);
            const uint32_t v = ((p >> rd) & rm) << ru | ((p >> gd) & gm) << gu | ((p >> bd) & bm) << bu;
            store_value<DstBytes, Swap>(dst + i * DstBytes, v);
        }
    } else {
        const uint32_t *rt = c.tab_[0].data();
        const uint32_t *gt = c.tab_[1].data();
        const uint32_t *bt = c.tab_[2].data();
        const unsigned rs = c.src_shift_[0], gs = c.src_shift_[1], bs = c.src_shift_[2];
        const uint32_t rm = c.src_mask_[0], gm = c.src_mask_[1], bm = c.src_mask_[2];
        for (int i = 0; i < n; i++) {
            const uint32_t p = load_native<SrcBytes>(src + i * SrcBytes);
            store_value<DstBytes, Swap>(dst + i * DstBytes,
                                        rt[(p >> rs) & rm] | gt[(p >> gs) & gm] | bt[(p >> bs) & bm]);
        }
    }
}

template <int Bytes>
void PixelConverter::row_swap(const PixelConverter &c, const uint8_t *src, int n, uint8_t *dst)
{
    // Unlike the plain copy this touches every pixel anyway, so the x/alpha
    // bits are cleared for free.
    const uint32_t keep = c.channel_bits_;
    for (int i = 0; i < n; i++) {
        store_value<Bytes, true>(dst, load_native<Bytes>(src) & keep);
        src += Bytes;
        dst += Bytes;
    }
}

void PixelConverter::row_copy(const PixelConverter &c, const uint8_t *src, int n, uint8_t *dst)
{
    if (n > 0) {
        std::memcpy(dst, src, static_cast<size_t>(n) * static_cast<size_t>(c.src_bytes_));
    }
}

} // namespace qvnc::vnc
