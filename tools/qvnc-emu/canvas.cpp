#include "canvas.hpp"

#include <algorithm>

namespace qvnc_emu {

Rect intersect(const Rect &a, const Rect &b)
{
    const int x0 = std::max(a.x, b.x);
    const int y0 = std::max(a.y, b.y);
    const int x1 = std::min(a.x + a.w, b.x + b.w);
    const int y1 = std::min(a.y + a.h, b.y + b.h);
    if (x1 <= x0 || y1 <= y0) {
        return Rect{};
    }
    return Rect{x0, y0, x1 - x0, y1 - y0};
}

Canvas::Canvas(int width, int height, PixelFormat format)
    : width_(std::max(width, 1)), height_(std::max(height, 1)), format_(format),
      bpp_(bytes_per_pixel(format)), stride_((width_ * bpp_ + 3) / 4 * 4),
      storage_(static_cast<size_t>(stride_ / 4) * static_cast<size_t>(height_), 0u)
{
    // All-zero bytes are black in every format except the alpha ones.
    fill(bounds(), Rgb{});
}

qvnc_surface Canvas::surface() const
{
    qvnc_surface s{};
    s.struct_size = sizeof s;
    s.width = width_;
    s.height = height_;
    s.stride = stride_;
    s.format = static_cast<uint32_t>(format_);
    s.data = bytes();
    return s;
}

void Canvas::set(int x, int y, Rgb rgb)
{
    if (x < 0 || y < 0 || x >= width_ || y >= height_) {
        return;
    }
    store_pixel(row(y) + x * bpp_, bpp_, pack_pixel(format_, rgb));
}

Rgb Canvas::get(int x, int y) const
{
    if (x < 0 || y < 0 || x >= width_ || y >= height_) {
        return Rgb{};
    }
    return unpack_pixel(format_, load_pixel(row(y) + x * bpp_, bpp_));
}

void Canvas::fill(const Rect &r, Rgb rgb)
{
    const Rect c = intersect(r, bounds());
    if (c.empty()) {
        return;
    }
    const uint32_t value = pack_pixel(format_, rgb);
    for (int y = c.y; y < c.y + c.h; ++y) {
        uint8_t *p = row(y) + c.x * bpp_;
        for (int x = 0; x < c.w; ++x, p += bpp_) {
            store_pixel(p, bpp_, value);
        }
    }
}

} // namespace qvnc_emu
