// The surface pixel formats a guest can draw in, named as on the command
// line and coded as in qvnc-display.h (pixman codes).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "qvnc-display.h"

namespace qvnc_emu {

struct Rgb {
    uint8_t r = 0;
    uint8_t g = 0;
    uint8_t b = 0;
    bool operator==(const Rgb &) const = default;
};

enum class PixelFormat : uint32_t {
    A8R8G8B8 = QVNC_FORMAT_A8R8G8B8,
    X8R8G8B8 = QVNC_FORMAT_X8R8G8B8,
    A8B8G8R8 = QVNC_FORMAT_A8B8G8R8,
    X8B8G8R8 = QVNC_FORMAT_X8B8G8R8,
    B8G8R8A8 = QVNC_FORMAT_B8G8R8A8,
    B8G8R8X8 = QVNC_FORMAT_B8G8R8X8,
    R5G6B5 = QVNC_FORMAT_R5G6B5,
    X1R5G5B5 = QVNC_FORMAT_X1R5G5B5,
};

// "x8r8g8b8" and friends (pixman's lower-case names).
std::optional<PixelFormat> pixel_format_from_name(std::string_view name);
std::optional<PixelFormat> pixel_format_from_code(uint32_t code);
const char *pixel_format_name(PixelFormat format);

int bytes_per_pixel(PixelFormat format);

// A pixel value as it sits in memory (native endian, as pixman stores it).
// Alpha channels are written opaque; the padding bits are zero.
uint32_t pack_pixel(PixelFormat format, Rgb rgb);
// The inverse; 5- and 6-bit channels are widened by bit replication, so the
// full range maps to 0..255.
Rgb unpack_pixel(PixelFormat format, uint32_t value);

// Reading and writing one pixel of `bpp` bytes (2 or 4) at `p`.
uint32_t load_pixel(const uint8_t *p, int bpp);
void store_pixel(uint8_t *p, int bpp, uint32_t value);

} // namespace qvnc_emu
