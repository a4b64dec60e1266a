// The guest's screen as QEMU's D-Bus listener receives it: a Scanout gives
// the whole surface (size, stride, pixman format, pixels), each Update a
// rectangle of new pixels.  QEMU sends the pixels by value, so this copy is
// the memory the library's qvnc_surface borrows.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "qvnc-display.h"

namespace qvnc_dbus {

class Framebuffer {
public:
    // Replaces the surface.  Fails (keeping the old one) on an unknown
    // format, a zero size or too few bytes for height rows of stride.
    bool scanout(uint32_t width, uint32_t height, uint32_t stride, uint32_t format,
                 std::span<const uint8_t> data, std::string &error);
    // Copies an update rectangle in (its rows are `stride` apart in `data`);
    // the part outside the surface is dropped.
    bool update(int x, int y, int width, int height, uint32_t stride, uint32_t format,
                std::span<const uint8_t> data, std::string &error);

    bool empty() const { return pixels_.empty(); }
    int width() const { return width_; }
    int height() const { return height_; }
    // Valid until the next scanout().
    qvnc_surface surface() const;

    // Bytes per pixel of a pixman format code the library serves; 0 otherwise.
    static int bytes_per_pixel(uint32_t format);

private:
    std::vector<uint8_t> pixels_;
    int width_ = 0;
    int height_ = 0;
    int stride_ = 0;
    uint32_t format_ = 0;
};

} // namespace qvnc_dbus
