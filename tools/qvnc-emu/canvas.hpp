// A guest's framebuffer: pixels the emulator owns and lends to the displays
// (qvnc_surface borrows the memory, so a Canvas never reallocates; a new
// size is a new Canvas).
#pragma once

#include <cstdint>
#include <vector>

#include "pixel-format.hpp"
#include "qvnc-display.h"

namespace qvnc_emu {

struct Rect {
    int x = 0;
    int y = 0;
    int w = 0;
    int h = 0;
    bool empty() const { return w <= 0 || h <= 0; }
    bool operator==(const Rect &) const = default;
};

Rect intersect(const Rect &a, const Rect &b);

class Canvas {
public:
    // Pixels start black.  Sizes below 1 are raised to 1.
    Canvas(int width, int height, PixelFormat format);

    int width() const { return width_; }
    int height() const { return height_; }
    int stride() const { return stride_; }
    PixelFormat format() const { return format_; }
    Rect bounds() const { return Rect{0, 0, width_, height_}; }

    // The description handed to qvnc_display_switch_surface().
    qvnc_surface surface() const;

    uint8_t *row(int y) { return bytes() + static_cast<size_t>(y) * static_cast<size_t>(stride_); }
    const uint8_t *row(int y) const
    {
        return bytes() + static_cast<size_t>(y) * static_cast<size_t>(stride_);
    }

    // Out-of-range coordinates are ignored (set, fill) or read black (get).
    void set(int x, int y, Rgb rgb);
    Rgb get(int x, int y) const;
    void fill(const Rect &r, Rgb rgb);

private:
    uint8_t *bytes() { return reinterpret_cast<uint8_t *>(storage_.data()); }
    const uint8_t *bytes() const { return reinterpret_cast<const uint8_t *>(storage_.data()); }

    int width_;
    int height_;
    PixelFormat format_;
    int bpp_;
    int stride_;
    // uint32_t storage keeps every row 4-byte aligned for 32-bit pixels.
    std::vector<uint32_t> storage_;
};

} // namespace qvnc_emu
