// Conversion from the emulator's surface format (a pixman format code) to a
// client's PixelFormat.  This runs for every pixel of every update, so the
// per-pixel work is a memcpy (same layout), a byte swap, a few shifts and
// masks (the usual 2^n-1 maxes), or else three table lookups, in loops
// specialised at compile time on source size, destination size and byte
// order; the choice among them is made once, in make().
#pragma once

#include <array>
#include <cstdint>

#include "byte-writer.hpp"
#include "error.hpp"
#include "pixel-format.hpp"

namespace qvnc::vnc {

// Surface formats the server accepts from the emulator (pixman codes, which
// describe native-endian 32- or 16-bit words):
//   x8r8g8b8 a8r8g8b8 x8b8g8r8 a8b8g8r8 b8g8r8x8 b8g8r8a8 r5g6b5 x1r5g5b5.
// Alpha is ignored: the VNC framebuffer is opaque.
[[nodiscard]] bool is_supported_surface_format(uint32_t pixman_format);
// Bytes per pixel of a pixman format (4 or 2 for the supported ones).
[[nodiscard]] int surface_bytes_per_pixel(uint32_t pixman_format);

// The numeric value of the colour (r, g, b) (8 bits each) in `pf`, before
// byte order is applied.  Channels with a max of 2^n-1 (n <= 8) keep the top
// n bits, which is what QEMU sends; any other max is scaled with rounding.
[[nodiscard]] uint32_t pack_pixel(const PixelFormat &pf, uint8_t r, uint8_t g, uint8_t b);
// Stores a packed value as pf.bpp/8 bytes in the client's byte order.
void store_pixel(const PixelFormat &pf, uint32_t value, uint8_t *dst);
void write_pixel(io::ByteWriter &out, const PixelFormat &pf, uint32_t value);

// The SetColourMapEntries message QEMU sends to a client that asked for a
// colour map (see sanitize()): type 1, padding, first colour 0, 256 colours,
// entry i = the BGR233 colour i, each channel's bits moved to the top of
// the u16 (red and green step by 0x2000, blue by 0x4000), byte-exact QEMU.
void write_bgr233_colour_map(io::ByteWriter &out);

class PixelConverter {
public:
    // Fails when the source is not a supported surface format or `dst` is
    // not a usable format (bpp not 8/16/32, a zero max, or a channel that
    // does not fit in bpp; sanitize() output always works).
    [[nodiscard]] static Result<PixelConverter> make(uint32_t pixman_format, const PixelFormat &dst);

    // Converts npixels contiguous source pixels into npixels * dst_bytes_per_pixel()
    // bytes of client pixels.  The buffers must not overlap.
    void convert(const uint8_t *src_row, int npixels, uint8_t *dst) const { row_(*this, src_row, npixels, dst); }

    // One source pixel as the client's numeric pixel value (what
    // pack_pixel() would give for its colour); store with store_pixel().
    [[nodiscard]] uint32_t map_pixel(const uint8_t *src_pixel) const;
    // One source pixel as 0x00RRGGBB, channels widened to 8 bits.
    [[nodiscard]] uint32_t to_rgb888(const uint8_t *src_pixel) const;

    int src_bpp() const { return src_bytes_ * 8; }
    int dst_bpp() const { return dst_.bpp; }
    int src_bytes_per_pixel() const { return src_bytes_; }
    int dst_bytes_per_pixel() const { return dst_.bpp / 8; }
    uint32_t source_format() const { return src_format_; }
    const PixelFormat &dest_format() const { return dst_; }
    // True when the client format is bit-for-bit the surface format, so rows
    // can be sent as they are.  Bits outside the colour channels (x/alpha)
    // are passed through in that case; clients ignore them, as with QEMU.
    bool is_copy() const { return copy_; }

private:
    using RowFn = void (*)(const PixelConverter &, const uint8_t *, int, uint8_t *);
    template <int SrcBytes, int DstBytes, bool Swap, bool Shifts>
    static void row_generic(const PixelConverter &c, const uint8_t *src, int n, uint8_t *dst);
    template <int SrcBytes, bool Shifts> static RowFn pick_row(int dst_bpp, bool swap);
    template <int Bytes>
    static void row_swap(const PixelConverter &c, const uint8_t *src, int n, uint8_t *dst);
    static void row_copy(const PixelConverter &c, const uint8_t *src, int n, uint8_t *dst);

    PixelConverter() = default;
    uint32_t load(const uint8_t *src_pixel) const;

    RowFn row_ = nullptr;
    uint32_t src_format_ = 0;
    PixelFormat dst_{};
    int src_bytes_ = 0;
    bool copy_ = false;
    // Source channel position and width mask, red/green/blue.
    std::array<uint8_t, 3> src_shift_{};
    std::array<uint8_t, 3> src_bits_{};
    std::array<uint32_t, 3> src_mask_{};
    uint32_t channel_bits_ = 0; // all three source channels
    // Shift path (every client max is 2^n-1 and no wider than the source
    // channel): value = ((p >> down) & dst_mask) << up, per channel.
    std::array<uint8_t, 3> down_{};
    std::array<uint8_t, 3> up_{};
    std::array<uint32_t, 3> dst_mask_{};
    // Per channel: source channel value -> destination bits, already
    // shifted into place, so a pixel is the OR of three lookups.
    std::array<std::array<uint32_t, 256>, 3> tab_{};
};

} // namespace qvnc::vnc
