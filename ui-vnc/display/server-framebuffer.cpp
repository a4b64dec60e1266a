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

// Whether two blocks of `len` bytes differ.  The common block (16 pixels of
// 32 bits) is compared inline as eight 64-bit words, branch-free, which the
// compiler turns into a few vector compares: a libc call per block costs
// more than the compare itself.
inline bool block_differs(const uint8_t *a, const uint8_t *b, size_t len)
{
    if (len == 64) {
        uint64_t acc = 0;
        for (int i = 0; i < 8; i++) {
            uint64_t x, y;
            std::memcpy(&x, a + i * 8, 8);
            std::memcpy(&y, b + i * 8, 8);
            acc |= x ^ y;
        }
        return acc != 0;
    }
    return std::memcmp(a, b, len) != 0;
}

} // namespace

void ServerFramebuffer::reset(const SurfaceView &guest)
{
    const int bits = PIXMAN_FORMAT_BPP(guest.format);
    format_ = guest.format;
    bytes_pp_ = bits > 0 && bits % 8 == 0 ? bits / 8 : 0;
    if (guest.width <= 0 || guest.height <= 0 || guest.data == nullptr || bytes_pp_ == 0) {
        width_ = height_ = stride_ = 0;
        pixels_.reset();
        return;
    }
    width_ = std::min(guest.width, kVncMaxWidth);
    height_ = std::min(guest.height, kVncMaxHeight);
    // Rows are padded to whole 16-pixel blocks, as QEMU sizes its server
    // surface, so block-wise consumers never step outside a row.
    const int padded = (width_ + kDirtyPixelsPerBit - 1) / kDirtyPixelsPerBit * kDirtyPixelsPerBit;
    stride_ = padded * bytes_pp_;
    const size_t size = static_cast<size_t>(stride_) * static_cast<size_t>(height_);
    if (shared() || !pixels_) {
        pixels_ = std::make_shared<std::vector<uint8_t>>(); // a sharer keeps the old pixels
    }
    pixels_->assign(size, 0);
    uint8_t *const dst = pixels_->data();

    const size_t n = std::min(guest_row_bytes(guest, bytes_pp_), static_cast<size_t>(width_) * bytes_pp_);
    const int rows = std::min(height_, guest.height);
    for (int y = 0; y < rows; y++) {
        std::memcpy(dst + static_cast<size_t>(y) * stride_,
                    guest.data + static_cast<size_t>(y) * static_cast<size_t>(guest.stride), n);
    }
}

// What refresh_from and refresh_rows compare: whole pixels that exist in
// both the guest row and the copy, rows and blocks present in both and in
// the map.  `ok` false: nothing to compare.
struct ServerFramebuffer::Span {
    bool ok = false;
    size_t cmp_bytes = 0;
    int rows = 0;
    int blocks = 0;
};

ServerFramebuffer::Span ServerFramebuffer::span_of(const SurfaceView &guest, const DirtyMap &guest_dirty) const
{
    Span s;
    if (empty() || guest.data == nullptr || guest.format != format_) {
        return s;
    }
    const size_t readable = std::min(guest_row_bytes(guest, bytes_pp_), static_cast<size_t>(width_) * bytes_pp_);
    const int cmp_px = static_cast<int>(readable / static_cast<size_t>(bytes_pp_));
    s.cmp_bytes = static_cast<size_t>(cmp_px) * static_cast<size_t>(bytes_pp_);
    s.rows = std::min({height_, guest.height, guest_dirty.height()});
    s.blocks = std::min(guest_dirty.blocks_per_row(), (cmp_px + kDirtyPixelsPerBit - 1) / kDirtyPixelsPerBit);
    s.ok = cmp_px > 0 && s.rows > 0 && s.blocks > 0;
    return s;
}

// The compare-and-copy pass over rows [y0, y1); sink(y, word, bits) gets
// each row word's changed blocks.  Rows are independent: bands of them may
// run on several threads at once (refresh_rows).
template <class Sink>
bool ServerFramebuffer::scan_rows(const Span &sp, const SurfaceView &guest, const DirtyMap &guest_dirty, int y0,
                                  int y1, uint8_t *pixels, Sink &&sink) const
{
    bool any_changed = false;
    const size_t block_bytes = static_cast<size_t>(kDirtyPixelsPerBit) * bytes_pp_;
    const size_t cmp_bytes = sp.cmp_bytes;
    const int blocks = sp.blocks;
    for (int y = y0; y < y1; y++) {
        const uint8_t *src = guest.data + static_cast<size_t>(y) * static_cast<size_t>(guest.stride);
        uint8_t *dst = pixels + static_cast<size_t>(y) * stride_;
        const std::span<const uint64_t> bits = guest_dirty.row_bits(y);
        for (size_t w = 0; w < bits.size() && static_cast<int>(w * 64) < blocks; w++) {
            uint64_t word = bits[w];
            uint64_t differ = 0; // this word's changed blocks, set in one go
            while (word != 0) {
                const int first = std::countr_zero(word);
                const int b = static_cast<int>(w * 64) + first;
                if (b >= blocks) {
                    break;
                }
                // A run of dirty blocks is first compared as a whole, at
                // memcmp speed: most damage a guest reports is unchanged.
                const int run = std::min(std::countr_one(word >> first), blocks - b);
                const size_t off = static_cast<size_t>(b) * block_bytes;
                const size_t run_len = std::min(block_bytes * static_cast<size_t>(run), cmp_bytes - off);
                word = run + first >= 64 ? 0 : word & (~uint64_t{0} << (run + first));
                if (std::memcmp(src + off, dst + off, run_len) == 0) {
                    continue;
                }
                // Neighbouring changed blocks are copied with one memcpy:
                // a scroll changes whole runs, 64 bytes a block at 32 bpp.
                size_t copy_from = 0, copy_len = 0;
                for (int k = 0; k < run; k++) {
                    const size_t o = off + static_cast<size_t>(k) * block_bytes;
                    const size_t len = std::min(block_bytes, cmp_bytes - o);
                    if (block_differs(src + o, dst + o, len)) {
                        if (copy_len == 0) {
                            copy_from = o;
                        }
                        copy_len += len;
                        differ |= uint64_t{1} << (first + k);
                    } else if (copy_len != 0) {
                        std::memcpy(dst + copy_from, src + copy_from, copy_len);
                        copy_len = 0;
                    }
                }
                if (copy_len != 0) {
                    std::memcpy(dst + copy_from, src + copy_from, copy_len);
                }
            }
            if (differ != 0) {
                sink(y, static_cast<int>(w), differ);
                any_changed = true;
            }
        }
    }
    return any_changed;
}

bool ServerFramebuffer::refresh_from(const SurfaceView &guest, const DirtyMap &guest_dirty, DirtyMap &changed,
                                     bool write_shared)
{
    const Span sp = span_of(guest, guest_dirty);
    if (!sp.ok) {
        return false;
    }
    uint8_t *const pixels = write_shared ? pixels_->data() : writable();
    // Only the rows the map says may be dirty: a cursor's damage costs its
    // own rows, not a walk over the whole bitmap.
    const auto [y0, y1] = guest_dirty.dirty_rows();
    return scan_rows(sp, guest, guest_dirty, y0, std::min(y1, sp.rows), pixels,
                     [&changed](int y, int w, uint64_t bits) { changed.or_word(y, w, bits); });
}

ServerFramebuffer::RowsPlan ServerFramebuffer::plan_rows(const SurfaceView &guest, const DirtyMap &guest_dirty,
                                                         bool write_shared)
{
    RowsPlan plan;
    const Span sp = span_of(guest, guest_dirty);
    if (!sp.ok) {
        return plan;
    }
    const auto [y0, y1] = guest_dirty.dirty_rows();
    plan.y0 = y0;
    plan.y1 = std::max(y0, std::min(y1, sp.rows));
    plan.words = guest_dirty.words_per_row();
    plan.pixels = write_shared ? pixels_->data() : writable();
    return plan;
}

void ServerFramebuffer::refresh_rows(const RowsPlan &plan, const SurfaceView &guest, const DirtyMap &guest_dirty,
                                     int y0, int y1, std::span<uint64_t> differ) const
{
    const Span sp = span_of(guest, guest_dirty);
    if (!sp.ok || plan.pixels == nullptr) {
        return;
    }
    scan_rows(sp, guest, guest_dirty, y0, y1, plan.pixels, [&](int y, int w, uint64_t bits) {
        differ[static_cast<size_t>(y - plan.y0) * plan.words + static_cast<size_t>(w)] = bits;
    });
}

SurfaceView ServerFramebuffer::view() const
{
    return SurfaceView{width_, height_, stride_, format_, pixels_ && !pixels_->empty() ? pixels_->data() : nullptr};
}

uint8_t *ServerFramebuffer::writable()
{
    if (!pixels_) {
        return nullptr;
    }
    if (shared()) {
        // Copy on write: the sharer (an encoder job, maybe on another
        // thread right now) keeps reading the old pixels, unchanged.
        pixels_ = std::make_shared<std::vector<uint8_t>>(*pixels_);
    }
    return pixels_->data();
}

void ServerFramebuffer::share_from(const ServerFramebuffer &src)
{
    width_ = src.width_;
    height_ = src.height_;
    stride_ = src.stride_;
    bytes_pp_ = src.bytes_pp_;
    format_ = src.format_;
    pixels_ = src.pixels_;
}

void ServerFramebuffer::release()
{
    width_ = height_ = stride_ = 0;
    pixels_.reset();
}

void ServerFramebuffer::copy_rects_from(const ServerFramebuffer &src, std::span<const Rect> rects)
{
    const size_t size = src.pixels_ ? src.pixels_->size() : 0;
    if (!pixels_ || shared()) {
        pixels_ = std::make_shared<std::vector<uint8_t>>(); // never into pixels someone else reads
    }
    width_ = src.width_;
    height_ = src.height_;
    stride_ = src.stride_;
    bytes_pp_ = src.bytes_pp_;
    format_ = src.format_;
    // Only the pixels copied below are ever read; the vector keeps its
    // capacity for the next snapshot.
    pixels_->resize(size);
    if (size == 0) {
        return;
    }
    uint8_t *const dst = pixels_->data();
    const uint8_t *const from = src.pixels_->data();
    for (const Rect &r0 : rects) {
        const Rect r = intersect(r0, Rect{0, 0, width_, height_});
        if (r.empty()) {
            continue;
        }
        const size_t off = static_cast<size_t>(r.x) * bytes_pp_;
        const size_t n = static_cast<size_t>(r.w) * bytes_pp_;
        for (int y = r.y; y < r.bottom(); y++) {
            const size_t at = static_cast<size_t>(y) * stride_ + off;
            std::memcpy(dst + at, from + at, n);
        }
    }
}

void ServerFramebuffer::take_rows(const SurfaceView &guest, const Rect &r, int y0, int y1)
{
    const size_t row_bytes = static_cast<size_t>(r.w) * bytes_pp_;
    const size_t off = static_cast<size_t>(r.x) * bytes_pp_;
    uint8_t *const pixels = pixels_->data(); // made writable by the caller
    for (int y = y0; y < y1; y++) {
        std::memcpy(pixels + static_cast<size_t>(y) * stride_ + off,
                    guest.data + static_cast<size_t>(y) * guest.stride + off, row_bytes);
    }
}

void ServerFramebuffer::copy_rect(const Rect &src, const Rect &dst)
{
    const size_t row_bytes = static_cast<size_t>(src.w) * bytes_pp_;
    // Walk rows in the direction that never overwrites unread source rows.
    const bool up = dst.y <= src.y;
    uint8_t *const pixels = writable();
    for (int i = 0; i < src.h; i++) {
        int k = up ? i : src.h - 1 - i;
        uint8_t *d = pixels + static_cast<size_t>(dst.y + k) * stride_ +
                     static_cast<size_t>(dst.x) * bytes_pp_;
        const uint8_t *s = pixels + static_cast<size_t>(src.y + k) * stride_ +
                           static_cast<size_t>(src.x) * bytes_pp_;
        std::memmove(d, s, row_bytes);
    }
}

} // namespace qvnc::vnc
