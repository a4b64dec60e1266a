// Damage tracking at QEMU's granularity: one bit per 16-pixel horizontal
// block, one bitmap row per framebuffer row (QEMU's VNC_DIRTY_PIXELS_PER_BIT
// bitmaps).  Used for the emulator's damage, for the blocks that really
// changed after the compare-copy, and per client for what it has not seen.
#pragma once

#include <algorithm>
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "rect.hpp"

namespace qvnc::vnc {

inline constexpr int kDirtyPixelsPerBit = 16;
// QEMU 9.1's VNC_MAX_WIDTH/HEIGHT.  Larger surfaces are clipped to this
// (CVE-2017-2633: a guest resolution beyond the bitmap overran it).
inline constexpr int kVncMaxWidth = 5120;
inline constexpr int kVncMaxHeight = 2160;

class DirtyMap {
public:
    // Dimensions are clamped to [0, kVncMaxWidth] x [0, kVncMaxHeight].
    explicit DirtyMap(int width = 0, int height = 0);

    int width() const { return width_; }
    int height() const { return height_; }
    int blocks_per_row() const { return blocks_; }
    size_t words_per_row() const { return static_cast<size_t>(words_); } // of row_bits()

    // Marks the blocks touched by the rectangle, clipped to the map: x is
    // rounded down to a block boundary and the width up.  Any values are
    // safe (negative, huge, overflowing).
    void mark(int x, int y, int w, int h);
    void mark(const Rect &r) { mark(r.x, r.y, r.w, r.h); }
    void mark_all();
    void clear();
    // Clears the blocks that lie wholly inside r (clipped to the map); a
    // block r covers only in part stays as it is.
    void clear_inside(const Rect &r);
    bool any() const;
    // ORs in other's damage where the two maps overlap.
    void merge(const DirtyMap &other);
    // Same size and exactly the same blocks dirty: clients whose maps are
    // the same get the same rectangles, so one encode can serve them all
    // (server/share-pass.cpp).  Costs the rows either map may have dirty.
    bool same_damage(const DirtyMap &other) const;
    // Same size and every block dirty here is dirty in `other` too.
    bool subset_of(const DirtyMap &other) const;
    // How many blocks are dirty.
    size_t count() const;

    // Removes and returns the damage inside clip as few rectangles:
    // consecutive dirty blocks of a row form one span, and the span grows
    // downwards while the next rows have all of its blocks dirty (the
    // merging QEMU's find_and_clear_dirty_height does, without its habit of
    // also taking rows that are only partly dirty).  Rectangles are clipped
    // to clip and to the map, in top-to-bottom, left-to-right order.  A block
    // only partly inside clip is reported (its inside part) but stays
    // dirty, so the damage outside clip is not lost.
    [[nodiscard]] std::vector<Rect> take_rects(const Rect &clip);
    // The same into `out` (cleared first), reusing its capacity.
    void take_rects(const Rect &clip, std::vector<Rect> &out);

    // Trades a few unchanged pixels for far fewer, larger rectangles: in
    // every band of `band` rows (aligned to multiples of band), each block
    // dirty in some row of the band becomes dirty in all of them, and gaps
    // of up to `gap` clean blocks between dirty ones in a band are filled.
    // Text that scrolls otherwise leaves a different span pattern on every
    // scanline, i.e. thousands of 1-row rectangles that tile-based encoders
    // (ZRLE, Tight, Hextile) encode badly.  Only rows inside [y0, y1) and
    // inside dirty_rows() are touched, so the extra damage never leaves
    // that range.
    void coarsen(int band, int gap, int y0, int y1);

    // ORs `bits` into word `word` of row y (blocks word*64 .. word*64+63),
    // the word-at-a-time form of mark() for scanners that walk row_bits().
    // Bits past blocks_per_row(), rows or words outside the map are dropped.
    void or_word(int y, int word, uint64_t bits);

    bool test_block(int block, int y) const;
    // Whether any block touching `r` is dirty.
    bool any_in(const Rect &r) const;
    // One row's bits, block b at bit b % 64 of word b / 64; bits past
    // blocks_per_row() are always zero.
    std::span<const uint64_t> row_bits(int y) const;
    // Rows [first, second) outside which every row is clean (the range may
    // also hold clean rows).  Scanners walk only these, so a small damage
    // on a big map costs what it touches, not the whole map.
    std::pair<int, int> dirty_rows() const { return {ylo_, std::max(ylo_, yhi_)}; }

private:
    uint64_t *row(int y) { return bits_.data() + static_cast<size_t>(y) * words_; }
    const uint64_t *row(int y) const { return bits_.data() + static_cast<size_t>(y) * words_; }
    void set_range(int y, int b0, int b1);
    void clear_range(int y, int b0, int b1);
    bool all_set(int y, int b0, int b1) const;
    // First set (or clear) block in [from, to) of row y, or `to`.
    int find_set(int y, int from, int to) const;
    int find_clear(int y, int from, int to) const;
    bool row_clean(int y) const;
    static int find_set_in(const uint64_t *bits, int from, int to);
    void extend_rows(int y0, int y1)
    {
        ylo_ = std::min(ylo_, y0);
        yhi_ = std::max(yhi_, y1);
    }
    // Drops clean rows from both ends of [ylo_, yhi_).
    void shrink_rows();

    int width_ = 0;
    int height_ = 0;
    int blocks_ = 0;
    int words_ = 0;
    std::vector<uint64_t> bits_;
    // Every row outside [ylo_, yhi_) is clean; empty when ylo_ >= yhi_.
    int ylo_ = 0;
    int yhi_ = 0;
};

// Replaces rects (which must not overlap, as take_rects() gives them) by
// their bounding box when it has at most max_area pixels and at most
// max_factor times theirs; true when it did.  For encodings whose cost is
// per rectangle more than per pixel (see Connection::take_update_rects).
bool merge_to_bounding_box(std::vector<Rect> &rects, long max_area, int max_factor);

} // namespace qvnc::vnc
