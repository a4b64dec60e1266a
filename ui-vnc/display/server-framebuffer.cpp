#include "server-framebuffer.hpp"

#include <algorithm>
#include <bit>
#include <cstring>

#include <pixman.h>

namespace qvnc::vnc {

namespace {

// Bytes of one guest row that may be read: the stride bounds the row in
// memory and the width bounds the pixels in it.
size_t guest_row_bytes(const SurfaceView &g, int bytes_pp)
{
    if (g.width <= 0 || g.stride <= 0) {
        return 0;
    }
    return std::min(static_cast<size_t>(g.stride), static_cast<size_t>(g.width) * static_cast<size_t>(bytes_pp));
}

} // namespace

void ServerFramebuffer::reset(const SurfaceView &guest)
{
    const int bits = PIXMAN_FORMAT_BPP(guest.format);
    format_ = guest.format;
    bytes_pp_ = bits > 0 && bits % 8 == 0 ? bits / 8 : 0;
    if (guest.width <= 0 || guest.height <= 0 || guest.data == nullptr || bytes_pp_ == 0) {
        width_ = height_ = stride_ = 0;
        pixels_.clear();
        return;
    }
    width_ = std::min(guest.width, kVncMaxWidth);
    height_ = std::min(guest.height, kVncMaxHeight);
    // Rows are padded to whole 16-pixel blocks, as QEMU sizes its server
    // surface, so block-wise consumers never step outside a row.
    const int padded = (width_ + kDirtyPixelsPerBit - 1) / kDirtyPixelsPerBit * kDirtyPixelsPerBit;
    stride_ = padded * bytes_pp_;
    pixels_.assign(static_cast<size_t>(stride_) * static_cast<size_t>(height_), 0);

    const size_t n = std::min(guest_row_bytes(guest, bytes_pp_), static_cast<size_t>(width_) * bytes_pp_);
    const int rows = std::min(height_, guest.height);
    for (int y = 0; y < rows; y++) {
        std::memcpy(pixels_.data() + static_cast<size_t>(y) * stride_,
                    guest.data + static_cast<size_t>(y) * static_cast<size_t>(guest.stride), n);
    }
}

bool ServerFramebuffer::refresh_from(const SurfaceView &guest, const DirtyMap &guest_dirty, DirtyMap &changed)
{
    if (empty() || guest.data == nullptr || guest.format != format_) {
        return false;
    }
    // Whole pixels that exist in both the guest row and the copy.
    const size_t readable = std::min(guest_row_bytes(guest, bytes_pp_), static_cast<size_t>(width_) * bytes_pp_);
    const int cmp_px = static_cast<int>(readable / static_cast<size_t>(bytes_pp_));
    const size_t cmp_bytes = static_cast<size_t>(cmp_px) * static_cast<size_t>(bytes_pp_);
    const int rows = std::min({height_, guest.height, guest_dirty.height()});
    const int blocks = std::min(guest_dirty.blocks_per_row(),
                                (cmp_px + kDirtyPixelsPerBit - 1) / kDirtyPixelsPerBit);
    if (cmp_px == 0 || rows <= 0 || blocks <= 0) {
        return false;
    }

    bool any_changed = false;
    const size_t block_bytes = static_cast<size_t>(kDirtyPixelsPerBit) * bytes_pp_;
    for (int y = 0; y < rows; y++) {
        const uint8_t *src = guest.data + static_cast<size_t>(y) * static_cast<size_t>(guest.stride);
        uint8_t *dst = pixels_.data() + static_cast<size_t>(y) * stride_;
        const std::span<const uint64_t> bits = guest_dirty.row_bits(y);
        for (size_t w = 0; w < bits.size() && static_cast<int>(w * 64) < blocks; w++) {
            uint64_t word = bits[w];
            while (word != 0) {
                const int b = static_cast<int>(w * 64) + std::countr_zero(word);
                word &= word - 1;
                if (b >= blocks) {
                    break;
                }
                const size_t off = static_cast<size_t>(b) * block_bytes;
                const size_t len = std::min(block_bytes, cmp_bytes - off);
                if (std::memcmp(src + off, dst + off, len) != 0) {
                    std::memcpy(dst + off, src + off, len);
                    changed.mark(b * kDirtyPixelsPerBit, y, kDirtyPixelsPerBit, 1);
                    any_changed = true;
                }
            }
        }
    }
    return any_changed;
}

SurfaceView ServerFramebuffer::view() const
{
    return SurfaceView{width_, height_, stride_, format_, pixels_.empty() ? nullptr : pixels_.data()};
}

void ServerFramebuffer::copy_rect(const Rect &src, const Rect &dst)
{
    const size_t row_bytes = static_cast<size_t>(src.w) * bytes_pp_;
    // Walk rows in the direction that never overwrites unread source rows.
    const bool up = dst.y <= src.y;
    for (int i = 0; i < src.h; i++) {
        int k = up ? i : src.h - 1 - i;
        uint8_t *d = pixels_.data() + static_cast<size_t>(dst.y + k) * stride_ +
                     static_cast<size_t>(dst.x) * bytes_pp_;
        const uint8_t *s = pixels_.data() + static_cast<size_t>(src.y + k) * stride_ +
                           static_cast<size_t>(src.x) * bytes_pp_;
        std::memmove(d, s, row_bytes);
    }
}

} // namespace qvnc::vnc
