#include "framebuffer.hpp"

#include <algorithm>
#include <cstring>

namespace qvnc_dbus {

int Framebuffer::bytes_per_pixel(uint32_t format)
{
    switch (format) {
    case QVNC_FORMAT_A8R8G8B8:
    case QVNC_FORMAT_X8R8G8B8:
    case QVNC_FORMAT_A8B8G8R8:
    case QVNC_FORMAT_X8B8G8R8:
    case QVNC_FORMAT_B8G8R8A8:
    case QVNC_FORMAT_B8G8R8X8:
        return 4;
    case QVNC_FORMAT_R5G6B5:
    case QVNC_FORMAT_X1R5G5B5:
        return 2;
    default:
        return 0;
    }
}

bool Framebuffer::scanout(uint32_t width, uint32_t height, uint32_t stride, uint32_t format,
                          std::span<const uint8_t> data, std::string &error)
{
    const int bpp = bytes_per_pixel(format);
    if (bpp == 0) {
        error = "unsupported pixman format " + std::to_string(format);
        return false;
    }
    // 16384 is the largest VNC framebuffer the library serves.
    if (width == 0 || height == 0 || width > 16384 || height > 16384 ||
        static_cast<uint64_t>(stride) < static_cast<uint64_t>(width) * bpp) {
        error = "bad scanout geometry " + std::to_string(width) + "x" + std::to_string(height) + " stride " +
                std::to_string(stride);
        return false;
    }
    const uint64_t need = static_cast<uint64_t>(stride) * height;
    if (data.size() < need) {
        error = "scanout has " + std::to_string(data.size()) + " bytes, " + std::to_string(need) + " needed";
        return false;
    }
    // This replaces the memory the library's current surface borrows: the
    // caller switches surfaces before returning to the main loop, and the
    // library reads pixels only from main-loop callbacks.
    pixels_.assign(data.begin(), data.begin() + static_cast<std::ptrdiff_t>(need));
    width_ = static_cast<int>(width);
    height_ = static_cast<int>(height);
    stride_ = static_cast<int>(stride);
    format_ = format;
    return true;
}

bool Framebuffer::update(int x, int y, int width, int height, uint32_t stride, uint32_t format,
                         std::span<const uint8_t> data, std::string &error)
{
    if (pixels_.empty()) {
        error = "update before any scanout";
        return false;
    }
    if (format != format_) {
        error = "update format differs from the scanout's";
        return false;
    }
    const int bpp = bytes_per_pixel(format);
    if (width <= 0 || height <= 0 || x < 0 || y < 0 || static_cast<uint64_t>(stride) < static_cast<uint64_t>(width) * bpp ||
        data.size() < static_cast<uint64_t>(stride) * (height - 1) + static_cast<uint64_t>(width) * bpp) {
        error = "bad update rectangle";
        return false;
    }
    const int w = std::min(width, width_ - x);
    const int h = std::min(height, height_ - y);
    for (int row = 0; row < h; ++row) {
        std::memcpy(pixels_.data() + static_cast<size_t>(y + row) * stride_ + static_cast<size_t>(x) * bpp,
                    data.data() + static_cast<size_t>(row) * stride, static_cast<size_t>(w) * bpp);
    }
    return true;
}

qvnc_surface Framebuffer::surface() const
{
    qvnc_surface s{};
    s.struct_size = sizeof s;
    s.width = width_;
    s.height = height_;
    s.stride = stride_;
    s.format = format_;
    s.data = pixels_.data();
    return s;
}

} // namespace qvnc_dbus
