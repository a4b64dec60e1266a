#include "scroll-detect.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "server-framebuffer.hpp"

namespace qvnc::vnc {

namespace {

// The box both images share: rows and columns of the damage, clipped to
// both (a guest of another size than the copy is compared only where both
// have pixels).
struct Box {
    int x0 = 0, x1 = 0, y0 = 0, y1 = 0;
};

std::optional<Box> damage_box(const SurfaceView &guest, const ServerFramebuffer &fb, const DirtyMap &damage)
{
    const auto [dy0, dy1] = damage.dirty_rows();
    const int width = std::min(guest.width, fb.width());
    const int height = std::min(guest.height, fb.height());
    const int bpp = fb.bytes_per_pixel();
    if (guest.format != fb.format() || !guest.data || bpp == 0 ||
        static_cast<size_t>(guest.stride) < static_cast<size_t>(width) * bpp) {
        return std::nullopt;
    }
    Box b;
    b.y0 = std::max(dy0, 0);
    b.y1 = std::min(dy1, height);
    if (b.y1 - b.y0 < kScrollMinRows) {
        return std::nullopt;
    }
    // Columns: the OR of the rows' block bits, lowest to highest.
    std::vector<uint64_t> acc(damage.words_per_row(), 0);
    for (int y = b.y0; y < b.y1; y++) {
        const std::span<const uint64_t> bits = damage.row_bits(y);
        for (size_t w = 0; w < acc.size(); w++) {
            acc[w] |= bits[w];
        }
    }
    int lo = -1, hi = -1;
    for (size_t w = 0; w < acc.size(); w++) {
        if (acc[w] != 0) {
            if (lo < 0) {
                lo = static_cast<int>(w * 64) + std::countr_zero(acc[w]);
            }
            hi = static_cast<int>(w * 64) + 63 - std::countl_zero(acc[w]);
        }
    }
    if (lo < 0) {
        return std::nullopt;
    }
    b.x0 = lo * kDirtyPixelsPerBit;
    b.x1 = std::min(width, (hi + 1) * kDirtyPixelsPerBit);
    if (b.x1 - b.x0 < kScrollMinWidth) {
        return std::nullopt;
    }
    return b;
}

// Rows of the guest and of the copy, compared over columns [x0, x1).
class Rows {
public:
    Rows(const SurfaceView &guest, const ServerFramebuffer &fb) : guest_(guest), fb_(fb), bpp_(fb.bytes_per_pixel()) {}
    const uint8_t *now(int y) const { return guest_.data + static_cast<size_t>(y) * guest_.stride; }
    const uint8_t *before(int y) const { return fb_.row(y); }
    // The guest's row y is what the copy holds at row y + dy, in [x0, x1).
    bool moved(int y, int dy, int x0, int x1) const
    {
        return std::memcmp(now(y) + off(x0), before(y + dy) + off(x0), off(x1 - x0)) == 0;
    }
    // How far left of x0 (down to lo) and right of x1 (up to hi) row y
    // still matches at dy.
    int reach_left(int y, int dy, int x0, int lo) const
    {
        if (moved(y, dy, lo, x0)) {
            return lo; // the common case once the edge is known: one compare
        }
        while (x0 > lo && std::memcmp(now(y) + off(x0 - 1), before(y + dy) + off(x0 - 1), off(1)) == 0) x0--;
        return x0;
    }
    int reach_right(int y, int dy, int x1, int hi) const
    {
        if (moved(y, dy, x1, hi)) {
            return hi;
        }
        while (x1 < hi && std::memcmp(now(y) + off(x1), before(y + dy) + off(x1), off(1)) == 0) x1++;
        return x1;
    }
    // The first x in (x0, x1) where the guest's row y has an edge (a pixel
    // unlike its left neighbour), or x1.
    int first_edge(int y, int x0, int x1) const
    {
        const uint8_t *r = now(y);
        for (int x = x0 + 1; x < x1; x++) {
            if (std::memcmp(r + off(x - 1), r + off(x), off(1)) != 0) {
                return x;
            }
        }
        return x1;
    }
    // All pixels of the guest's row y in [x0, x1) alike: it would match
    // anywhere.
    bool flat(int y, int x0, int x1) const
    {
        const uint8_t *r = now(y) + off(x0);
        for (size_t i = off(1); i < off(x1 - x0); i += off(1)) {
            if (std::memcmp(r, r + i, off(1)) != 0) {
                return false;
            }
        }
        return true;
    }

private:
    size_t off(int x) const { return static_cast<size_t>(x) * static_cast<size_t>(bpp_); }
    const SurfaceView &guest_;
    const ServerFramebuffer &fb_;
    int bpp_;
};

// Runs body(i) for i in [0, n): on `bands` when there is one.
void for_rows(const RunBands &bands, int n, const std::function<void(int, int)> &body)
{
    constexpr int kBands = 8;
    if (!bands || n < 64) {
        body(0, n);
        return;
    }
    bands(kBands, [&](size_t k) {
        body(static_cast<int>(static_cast<int64_t>(n) * static_cast<int64_t>(k) / kBands),
             static_cast<int>(static_cast<int64_t>(n) * static_cast<int64_t>(k + 1) / kBands));
    });
}

// The longest run of rows y of the box whose columns [x0, x1) moved by dy.
std::pair<int, int> longest_band(const Rows &rows, const Box &b, int dy, int x0, int x1, const RunBands &bands)
{
    const int ya = std::max(b.y0, b.y0 - dy), yb = std::min(b.y1, b.y1 - dy);
    if (yb <= ya) {
        return {0, 0};
    }
    std::vector<uint8_t> ok(static_cast<size_t>(yb - ya));
    for_rows(bands, yb - ya, [&](int i0, int i1) {
        for (int i = i0; i < i1; i++) {
            ok[static_cast<size_t>(i)] = rows.moved(ya + i, dy, x0, x1);
        }
    });
    int best_a = 0, best_b = 0, run = ya;
    for (int y = ya; y < yb; y++) {
        if (!ok[static_cast<size_t>(y - ya)]) {
            run = y + 1;
        } else if (y + 1 - run > best_b - best_a) {
            best_a = run;
            best_b = y + 1;
        }
    }
    return {best_a, best_b};
}

} // namespace

std::optional<ScrollMove> find_scroll(const SurfaceView &guest, const ServerFramebuffer &fb, const DirtyMap &damage,
                                      const RunBands &bands)
{
    const std::optional<Box> box = damage_box(guest, fb, damage);
    if (!box) {
        return std::nullopt;
    }
    const Box &b = *box;
    const Rows rows(guest, fb);
    const int h = b.y1 - b.y0, w = b.x1 - b.x0;
    const int max_shift = std::min(kScrollMaxShift, h - kScrollMinRows);
    // Votes and bands look at the middle half of the box's columns: its
    // edges are often not part of what scrolls (a window's border, a
    // gutter, the blocks' rounding); the band is widened afterwards.
    const int mx0 = b.x0 + w / 4, mx1 = b.x1 - w / 4;

    // Sample rows that changed and are not flat; each votes for the shifts
    // at which the copy holds it.
    constexpr int kSamples = 3;
    constexpr std::array<int, 7> kAt = {4, 2, 6, 1, 3, 5, 7}; // eighths of the box
    struct Vote {
        int dy, n;
    };
    std::vector<Vote> votes;
    int sampled = 0;
    for (int e : kAt) {
        if (sampled == kSamples) {
            break;
        }
        const int s = b.y0 + h * e / 8;
        if (rows.moved(s, 0, mx0, mx1) || rows.flat(s, mx0, mx1)) {
            continue;
        }
        sampled++;
        // Candidates are tried on a short window at the row's first edge
        // first: rows of text share long runs of background, which a
        // compare of whole rows would walk through at every shift.
        const int wx0 = std::max(mx0, rows.first_edge(s, mx0, mx1) - 8), wx1 = std::min(mx1, wx0 + 64);
        for (int dy = -max_shift; dy <= max_shift; dy++) {
            if (dy == 0 || s + dy < b.y0 || s + dy >= b.y1 || !rows.moved(s, dy, wx0, wx1) ||
                !rows.moved(s, dy, mx0, mx1)) {
                continue;
            }
            auto it = std::find_if(votes.begin(), votes.end(), [dy](const Vote &v) { return v.dy == dy; });
            if (it == votes.end()) {
                votes.push_back({dy, 1});
            } else {
                it->n++;
            }
        }
    }
    if (votes.empty()) {
        return std::nullopt;
    }
    // Most votes first, then the shortest shift (a repeated line votes for
    // several shifts; the real scroll is usually the small one).
    std::sort(votes.begin(), votes.end(), [](const Vote &a, const Vote &c) {
        return a.n != c.n ? a.n > c.n : std::abs(a.dy) < std::abs(c.dy);
    });
    const int need = std::max(kScrollMinRows, h / 4);
    int dy = 0;
    std::pair<int, int> band{0, 0};
    // The first shift whose band is long enough wins (each try compares
    // up to the whole box).
    for (size_t i = 0; i < votes.size() && i < 3 && band.second - band.first < need; i++) {
        const auto found = longest_band(rows, b, votes[i].dy, mx0, mx1, bands);
        if (found.second - found.first > band.second - band.first) {
            band = found;
            dy = votes[i].dy;
        }
    }
    if (band.second - band.first < need) {
        return std::nullopt;
    }
    // Widen to the columns every row of the band still matches in: the
    // reach of a few rows first, then every row checked against it (in
    // bands), narrowing row by row only where one falls short.
    int x0 = b.x0, x1 = b.x1;
    const int rows_n = band.second - band.first;
    for (int y : {band.first, band.first + rows_n / 2, band.second - 1}) {
        x0 = rows.reach_left(y, dy, mx0, x0);
        x1 = rows.reach_right(y, dy, mx1, x1);
    }
    if (x0 < mx0 || x1 > mx1) {
        std::atomic<bool> short_row{false};
        for_rows(bands, rows_n, [&](int i0, int i1) {
            for (int i = i0; i < i1 && !short_row.load(std::memory_order_relaxed); i++) {
                const int y = band.first + i;
                if ((x0 < mx0 && !rows.moved(y, dy, x0, mx0)) || (x1 > mx1 && !rows.moved(y, dy, mx1, x1))) {
                    short_row.store(true, std::memory_order_relaxed);
                }
            }
        });
        for (int y = band.first; short_row && y < band.second && (x0 < mx0 || x1 > mx1); y++) {
            x0 = rows.reach_left(y, dy, mx0, x0);
            x1 = rows.reach_right(y, dy, mx1, x1);
        }
    }
    const int n = band.second - band.first;
    return ScrollMove{Rect{x0, band.first + dy, x1 - x0, n}, Rect{x0, band.first, x1 - x0, n}};
}

} // namespace qvnc::vnc
