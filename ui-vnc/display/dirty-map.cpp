#include "dirty-map.hpp"

#include <algorithm>
#include <bit>
#include <cstring>

namespace qvnc::vnc {

namespace {

constexpr int kWordBits = 64;

// The bits of word w that fall in blocks [b0, b1).
uint64_t range_mask(int w, int b0, int b1)
{
    const int lo = std::max(b0 - w * kWordBits, 0);
    const int hi = std::min(b1 - w * kWordBits, kWordBits);
    if (hi <= lo) {
        return 0;
    }
    const uint64_t below_hi = hi == kWordBits ? ~uint64_t{0} : (uint64_t{1} << hi) - 1;
    return below_hi & ~((uint64_t{1} << lo) - 1);
}

int clamp_dim(int v, int max)
{
    return std::clamp(v, 0, max);
}

} // namespace

DirtyMap::DirtyMap(int width, int height)
    : width_(clamp_dim(width, kVncMaxWidth)), height_(clamp_dim(height, kVncMaxHeight)),
      blocks_((width_ + kDirtyPixelsPerBit - 1) / kDirtyPixelsPerBit),
      words_((blocks_ + kWordBits - 1) / kWordBits),
      bits_(static_cast<size_t>(words_) * static_cast<size_t>(height_), 0), ylo_(height_), yhi_(0)
{
}

bool DirtyMap::row_clean(int y) const
{
    const uint64_t *r = row(y);
    for (int w = 0; w < words_; w++) {
        if (r[w] != 0) {
            return false;
        }
    }
    return true;
}

void DirtyMap::shrink_rows()
{
    while (ylo_ < yhi_ && row_clean(ylo_)) {
        ylo_++;
    }
    while (yhi_ > ylo_ && row_clean(yhi_ - 1)) {
        yhi_--;
    }
    if (ylo_ >= yhi_) {
        ylo_ = height_;
        yhi_ = 0;
    }
}

void DirtyMap::set_range(int y, int b0, int b1)
{
    uint64_t *r = row(y);
    for (int w = b0 / kWordBits; w * kWordBits < b1; w++) {
        r[w] |= range_mask(w, b0, b1);
    }
}

void DirtyMap::or_word(int y, int word, uint64_t bits)
{
    if (y < 0 || y >= height_ || word < 0 || word >= words_) {
        return;
    }
    bits &= range_mask(word, 0, blocks_);
    if (bits != 0) {
        row(y)[word] |= bits;
        extend_rows(y, y + 1);
    }
}

void DirtyMap::clear_range(int y, int b0, int b1)
{
    uint64_t *r = row(y);
    for (int w = b0 / kWordBits; w * kWordBits < b1; w++) {
        r[w] &= ~range_mask(w, b0, b1);
    }
}

bool DirtyMap::all_set(int y, int b0, int b1) const
{
    const uint64_t *r = row(y);
    for (int w = b0 / kWordBits; w * kWordBits < b1; w++) {
        const uint64_t m = range_mask(w, b0, b1);
        if ((r[w] & m) != m) {
            return false;
        }
    }
    return true;
}

int DirtyMap::find_set(int y, int from, int to) const
{
    const uint64_t *r = row(y);
    for (int w = from / kWordBits; w * kWordBits < to; w++) {
        const uint64_t bits = r[w] & range_mask(w, from, to);
        if (bits != 0) {
            return w * kWordBits + std::countr_zero(bits);
        }
    }
    return to;
}

int DirtyMap::find_clear(int y, int from, int to) const
{
    const uint64_t *r = row(y);
    for (int w = from / kWordBits; w * kWordBits < to; w++) {
        const uint64_t bits = ~r[w] & range_mask(w, from, to);
        if (bits != 0) {
            return w * kWordBits + std::countr_zero(bits);
        }
    }
    return to;
}

void DirtyMap::mark(int x, int y, int w, int h)
{
    const Rect r = intersect(Rect{x, y, w, h}, Rect{0, 0, width_, height_});
    if (r.empty()) {
        return;
    }
    const int b0 = r.x / kDirtyPixelsPerBit;
    const int b1 = (r.right() + kDirtyPixelsPerBit - 1) / kDirtyPixelsPerBit;
    for (int row_y = r.y; row_y < r.bottom(); row_y++) {
        set_range(row_y, b0, b1);
    }
    extend_rows(r.y, r.bottom());
}

void DirtyMap::mark_all()
{
    for (int y = 0; y < height_; y++) {
        set_range(y, 0, blocks_);
    }
    if (blocks_ > 0) {
        extend_rows(0, height_);
    }
}

void DirtyMap::clear_inside(const Rect &rect)
{
    const Rect r = intersect(rect, Rect{0, 0, width_, height_});
    if (r.empty()) {
        return;
    }
    const int b0 = (r.x + kDirtyPixelsPerBit - 1) / kDirtyPixelsPerBit;
    // The last block may be short: it is wholly inside when r reaches the
    // map's right edge.
    const int b1 = r.right() == width_ ? blocks_ : r.right() / kDirtyPixelsPerBit;
    if (b1 <= b0) {
        return;
    }
    for (int y = r.y; y < r.bottom(); y++) {
        clear_range(y, b0, b1);
    }
}

void DirtyMap::clear()
{
    if (ylo_ < yhi_) {
        std::fill(bits_.begin() + static_cast<ptrdiff_t>(ylo_) * words_,
                  bits_.begin() + static_cast<ptrdiff_t>(yhi_) * words_, 0);
    }
    ylo_ = height_;
    yhi_ = 0;
}

bool DirtyMap::any() const
{
    for (int y = ylo_; y < yhi_; y++) {
        if (!row_clean(y)) {
            return true;
        }
    }
    return false;
}

bool DirtyMap::same_damage(const DirtyMap &other) const
{
    if (width_ != other.width_ || height_ != other.height_) {
        return false;
    }
    // Outside both row ranges every row is clean in both maps.
    const int y0 = std::min(ylo_, other.ylo_), y1 = std::max(yhi_, other.yhi_);
    for (int y = y0; y < y1; y++) {
        if (std::memcmp(row(y), other.row(y), static_cast<size_t>(words_) * sizeof(uint64_t)) != 0) {
            return false;
        }
    }
    return true;
}

bool DirtyMap::subset_of(const DirtyMap &other) const
{
    if (width_ != other.width_ || height_ != other.height_) {
        return false;
    }
    for (int y = ylo_; y < yhi_; y++) {
        const uint64_t *a = row(y), *b = other.row(y);
        for (int i = 0; i < words_; i++) {
            if (a[i] & ~b[i]) {
                return false;
            }
        }
    }
    return true;
}

size_t DirtyMap::count() const
{
    size_t n = 0;
    for (int y = ylo_; y < yhi_; y++) {
        const uint64_t *a = row(y);
        for (int i = 0; i < words_; i++) {
            n += static_cast<size_t>(std::popcount(a[i]));
        }
    }
    return n;
}

void DirtyMap::merge(const DirtyMap &other)
{
    const int rows = std::min(height_, other.height_);
    const int blocks = std::min(blocks_, other.blocks_);
    const int words = (blocks + kWordBits - 1) / kWordBits;
    const auto [y0, y1] = other.dirty_rows();
    for (int y = y0; y < std::min(y1, rows); y++) {
        uint64_t *dst = row(y);
        const uint64_t *src = other.row(y);
        uint64_t any = 0;
        for (int w = 0; w < words; w++) {
            // Masked so a wider map cannot set bits past our last block.
            const uint64_t bits = src[w] & range_mask(w, 0, blocks);
            dst[w] |= bits;
            any |= bits;
        }
        if (any != 0) {
            extend_rows(y, y + 1);
        }
    }
}

std::vector<Rect> DirtyMap::take_rects(const Rect &clip)
{
    std::vector<Rect> out;
    take_rects(clip, out);
    return out;
}

void DirtyMap::take_rects(const Rect &clip, std::vector<Rect> &out)
{
    out.clear();
    // Only the rows that may hold damage are swept.
    const Rect c = intersect(intersect(clip, Rect{0, 0, width_, height_}), Rect{0, ylo_, width_, yhi_ - ylo_});
    if (c.empty()) {
        return;
    }
    const int lo = c.x / kDirtyPixelsPerBit;
    const int hi = (c.right() + kDirtyPixelsPerBit - 1) / kDirtyPixelsPerBit;
    // Edge blocks that stick out of clip must survive: remember them and
    // put them back after the sweep, which clears whole blocks.
    const bool partial_lo = lo * kDirtyPixelsPerBit < c.x;
    const bool partial_hi = std::min(hi * kDirtyPixelsPerBit, width_) > c.right();
    std::vector<uint8_t> kept;
    if (partial_lo || partial_hi) {
        kept.resize(static_cast<size_t>(c.h));
        for (int i = 0; i < c.h; i++) {
            kept[i] = static_cast<uint8_t>((partial_lo && test_block(lo, c.y + i) ? 1 : 0) |
                                           (partial_hi && test_block(hi - 1, c.y + i) ? 2 : 0));
        }
    }

    for (int y = c.y; y < c.bottom(); y++) {
        int b = lo;
        while ((b = find_set(y, b, hi)) < hi) {
            const int end = find_clear(y, b, hi);
            clear_range(y, b, end);
            int h = 1;
            while (y + h < c.bottom() && all_set(y + h, b, end)) {
                clear_range(y + h, b, end);
                h++;
            }
            const int x0 = std::max(b * kDirtyPixelsPerBit, c.x);
            const int x1 = std::min(end * kDirtyPixelsPerBit, c.right());
            out.push_back(Rect{x0, y, x1 - x0, h});
            b = end;
        }
    }

    for (size_t i = 0; i < kept.size(); i++) {
        const int y = c.y + static_cast<int>(i);
        if (kept[i] & 1) set_range(y, lo, lo + 1);
        if (kept[i] & 2) set_range(y, hi - 1, hi);
    }
    shrink_rows();
}

void DirtyMap::coarsen(int band, int gap, int y0, int y1)
{
    if (band < 1 || words_ == 0) {
        return;
    }
    y0 = std::max(y0, ylo_);
    y1 = std::min(y1, yhi_);
    if (y0 >= y1) {
        return;
    }
    // Per-band union of the rows' bits; at most kVncMaxWidth / 16 / 64 = 5
    // words, so it lives on the stack.
    constexpr int kMaxWords = (kVncMaxWidth / kDirtyPixelsPerBit + kWordBits - 1) / kWordBits;
    uint64_t acc[kMaxWords];
    for (int b0 = y0 / band * band; b0 < y1; b0 += band) {
        const int lo = std::max(b0, y0), hi = std::min(b0 + band, y1);
        uint64_t any = 0;
        for (int w = 0; w < words_; w++) {
            acc[w] = 0;
            for (int y = lo; y < hi; y++) {
                acc[w] |= row(y)[w];
            }
            any |= acc[w];
        }
        if (any == 0) {
            continue;
        }
        if (gap > 0) {
            // Fill runs of at most `gap` clean blocks between dirty ones.
            int last = -1;
            for (int b = find_set_in(acc, 0, blocks_); b < blocks_; b = find_set_in(acc, b + 1, blocks_)) {
                if (last >= 0 && b - last - 1 <= gap) {
                    for (int k = last + 1; k < b; k++) {
                        acc[k / kWordBits] |= uint64_t{1} << (k % kWordBits);
                    }
                }
                last = b;
            }
        }
        for (int y = lo; y < hi; y++) {
            uint64_t *r = row(y);
            for (int w = 0; w < words_; w++) {
                r[w] |= acc[w];
            }
        }
        extend_rows(lo, hi);
    }
}

int DirtyMap::find_set_in(const uint64_t *bits, int from, int to)
{
    for (int w = from / kWordBits; w * kWordBits < to; w++) {
        const uint64_t b = bits[w] & range_mask(w, from, to);
        if (b != 0) {
            return w * kWordBits + std::countr_zero(b);
        }
    }
    return to;
}

bool DirtyMap::any_in(const Rect &r) const
{
    Rect c = intersect(r, Rect{0, 0, width_, height_});
    if (c.empty()) {
        return false;
    }
    int b0 = c.x / kDirtyPixelsPerBit, b1 = (c.right() - 1) / kDirtyPixelsPerBit;
    for (int y = c.y; y < c.bottom(); y++) {
        for (int b = b0; b <= b1; b++) {
            if (test_block(b, y)) {
                return true;
            }
        }
    }
    return false;
}

bool DirtyMap::test_block(int block, int y) const
{
    if (block < 0 || block >= blocks_ || y < 0 || y >= height_) {
        return false;
    }
    return (row(y)[block / kWordBits] >> (block % kWordBits)) & 1;
}

std::span<const uint64_t> DirtyMap::row_bits(int y) const
{
    if (y < 0 || y >= height_) {
        return {};
    }
    return {row(y), static_cast<size_t>(words_)};
}

bool merge_to_bounding_box(std::vector<Rect> &rects, long max_area, int max_factor)
{
    if (rects.size() < 2) {
        return false;
    }
    Rect box;
    long area = 0;
    for (const Rect &r : rects) {
        box = bounding(box, r);
        area += static_cast<long>(r.w) * r.h;
    }
    const long box_area = static_cast<long>(box.w) * box.h;
    if (box_area > max_area || box_area > area * max_factor) {
        return false;
    }
    rects.assign(1, box);
    return true;
}

} // namespace qvnc::vnc
