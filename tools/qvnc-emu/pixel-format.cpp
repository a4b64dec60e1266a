#include "pixel-format.hpp"

#include <array>
#include <cstring>

namespace qvnc_emu {
namespace {

struct FormatInfo {
    PixelFormat format;
    const char *name;
    int bpp;
    // Bit position and width of each channel inside the pixel value.
    int r_shift, r_bits;
    int g_shift, g_bits;
    int b_shift, b_bits;
    int a_shift, a_bits;
};

constexpr std::array<FormatInfo, 8> kFormats = {{
    {PixelFormat::X8R8G8B8, "x8r8g8b8", 4, 16, 8, 8, 8, 0, 8, 0, 0},
    {PixelFormat::A8R8G8B8, "a8r8g8b8", 4, 16, 8, 8, 8, 0, 8, 24, 8},
    {PixelFormat::X8B8G8R8, "x8b8g8r8", 4, 0, 8, 8, 8, 16, 8, 0, 0},
    {PixelFormat::A8B8G8R8, "a8b8g8r8", 4, 0, 8, 8, 8, 16, 8, 24, 8},
    {PixelFormat::B8G8R8X8, "b8g8r8x8", 4, 8, 8, 16, 8, 24, 8, 0, 0},
    {PixelFormat::B8G8R8A8, "b8g8r8a8", 4, 8, 8, 16, 8, 24, 8, 0, 8},
    {PixelFormat::R5G6B5, "r5g6b5", 2, 11, 5, 5, 6, 0, 5, 0, 0},
    {PixelFormat::X1R5G5B5, "x1r5g5b5", 2, 10, 5, 5, 5, 0, 5, 0, 0},
}};

const FormatInfo &info(PixelFormat format)
{
    for (const FormatInfo &f : kFormats) {
        if (f.format == format) {
            return f;
        }
    }
    return kFormats[0]; // unreachable for valid enum values
}

uint32_t pack_channel(uint8_t v, int shift, int bits)
{
    return (static_cast<uint32_t>(v) >> (8 - bits)) << shift;
}

uint8_t unpack_channel(uint32_t value, int shift, int bits)
{
    const uint32_t raw = (value >> shift) & ((1u << bits) - 1u);
    // Replicate the top bits into the low ones: 0x1f -> 0xff, not 0xf8.
    uint32_t wide = raw << (8 - bits);
    for (int filled = bits; filled < 8; filled += bits) {
        wide |= wide >> filled;
    }
    return static_cast<uint8_t>(wide & 0xffu);
}

} // namespace

std::optional<PixelFormat> pixel_format_from_name(std::string_view name)
{
    for (const FormatInfo &f : kFormats) {
        if (name == f.name) {
            return f.format;
        }
    }
    return std::nullopt;
}

std::optional<PixelFormat> pixel_format_from_code(uint32_t code)
{
    for (const FormatInfo &f : kFormats) {
        if (static_cast<uint32_t>(f.format) == code) {
            return f.format;
        }
    }
    return std::nullopt;
}

const char *pixel_format_name(PixelFormat format)
{
    return info(format).name;
}

int bytes_per_pixel(PixelFormat format)
{
    return info(format).bpp;
}

uint32_t pack_pixel(PixelFormat format, Rgb rgb)
{
    const FormatInfo &f = info(format);
    uint32_t v = pack_channel(rgb.r, f.r_shift, f.r_bits) | pack_channel(rgb.g, f.g_shift, f.g_bits) |
                 pack_channel(rgb.b, f.b_shift, f.b_bits);
    if (f.a_bits != 0) {
        v |= ((1u << f.a_bits) - 1u) << f.a_shift;
    }
    return v;
}

Rgb unpack_pixel(PixelFormat format, uint32_t value)
{
    const FormatInfo &f = info(format);
    return Rgb{unpack_channel(value, f.r_shift, f.r_bits), unpack_channel(value, f.g_shift, f.g_bits),
               unpack_channel(value, f.b_shift, f.b_bits)};
}

uint32_t load_pixel(const uint8_t *p, int bpp)
{
    if (bpp == 2) {
        uint16_t v;
        std::memcpy(&v, p, sizeof v);
        return v;
    }
    uint32_t v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

void store_pixel(uint8_t *p, int bpp, uint32_t value)
{
    if (bpp == 2) {
        const auto v = static_cast<uint16_t>(value);
        std::memcpy(p, &v, sizeof v);
        return;
    }
    std::memcpy(p, &value, sizeof value);
}

} // namespace qvnc_emu
