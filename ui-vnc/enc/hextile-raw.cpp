#include "hextile-raw.hpp"

#include <algorithm>

namespace qvnc::vnc {

void HextileRawHistory::next_update(int width, int height)
{
    const int cols = (width + 15) / 16, rows = (height + 15) / 16;
    if (cols != cols_ || rows != rows_) {
        cols_ = cols;
        rows_ = rows;
        seen_ = std::vector<std::atomic<uint32_t>>(static_cast<size_t>(cols) * static_cast<size_t>(rows));
    }
    seq_++;
    if (seq_ == 0) { // wrapped (2^32 updates, weeks at full speed): forget rather than mistake
        for (std::atomic<uint32_t> &s : seen_) s.store(0, std::memory_order_relaxed);
        seq_ = 1;
    }
}

size_t HextileRawHistory::cell(int tx, int ty, int tw, int th) const
{
    // The cell of the tile's centre: tiles start at their rectangle's
    // corner, not on the 16-pixel grid, and two rectangles' tiles may share
    // a cell (hence the atomic accesses).
    const int cx = std::min((tx + tw / 2) / 16, cols_ - 1);
    const int cy = std::min((ty + th / 2) / 16, rows_ - 1);
    return static_cast<size_t>(cy) * static_cast<size_t>(cols_) + static_cast<size_t>(cx);
}

bool HextileRawHistory::predict_raw(int tx, int ty, int tw, int th) const
{
    const size_t c = cell(tx, ty, tw, th);
    if ((c / static_cast<size_t>(cols_) + seq_) % kProbeEvery == 0) {
        return false; // this row's turn to be analysed again
    }
    const uint32_t seen = seen_[c].load(std::memory_order_relaxed);
    return seen != 0 && seq_ - seen < kForgetAfter;
}

void HextileRawHistory::record(int tx, int ty, int tw, int th, bool went_raw)
{
    seen_[cell(tx, ty, tw, th)].store(went_raw ? seq_ : 0, std::memory_order_relaxed);
}

namespace {

// A tile goes in a Raw run when it is predicted raw and looks it (an edge
// sliver, too narrow to judge, goes with its neighbours).
template <class T>
bool tile_is_raw(int tx, int y, int tw, int th, const EncodeContext &ctx, const HextileRawHistory &history)
{
    if (!history.predict_raw(tx, y, tw, th)) {
        return false;
    }
    return tw < 8 || looks_raw<T>(ctx.fb.row(y) + static_cast<size_t>(tx) * sizeof(T),
                                  static_cast<size_t>(ctx.fb.stride()), tw, th);
}

using Segment = RawBandCuts::Segment;

// One band's cut, covering the band.  Raw runs narrower than
// kHextileMinRawWidth join the Hextile around them.

template <class T>
void cut_band(const Rect &r, int y, const EncodeContext &ctx, const HextileRawHistory &history,
              std::vector<Segment> &cut)
{
    cut.clear();
    const int th = std::min(16, r.bottom() - y);
    auto add = [&cut](int x0, int x1, bool raw) {
        if (!cut.empty() && cut.back().raw == raw) {
            cut.back().x1 = x1;
        } else {
            cut.push_back(Segment{x0, x1, raw});
        }
    };
    int run = r.x; // start of the current run of raw tiles
    for (int tx = r.x; tx < r.right(); tx += 16) {
        const int tw = std::min(16, r.right() - tx);
        if (tile_is_raw<T>(tx, y, tw, th, ctx, history)) {
            continue;
        }
        if (tx > run) {
            add(run, tx, tx - run >= kHextileMinRawWidth);
        }
        add(tx, tx + tw, false);
        run = tx + tw;
    }
    if (r.right() > run) {
        add(run, r.right(), r.right() - run >= kHextileMinRawWidth);
    }
}

} // namespace

bool split_raw_bands(std::span<const Rect> rects, const EncodeContext &ctx, const HextileRawHistory &history,
                     RawBandCuts &cuts, std::vector<Rect> &raw, std::vector<Rect> &hextile)
{
    const int bpp = ctx.fb.bytes_per_pixel();
    if (bpp != 4 && bpp != 2) {
        return false;
    }
    const size_t raw_before = raw.size(), hextile_before = hextile.size();
    std::vector<Segment> &cut = cuts.cut, &open = cuts.open;
    for (const Rect &r : rects) {
        if (r.w < kHextileMinRawWidth || r.h < 16) {
            hextile.push_back(r);
            continue;
        }
        // Bands cut alike are one rectangle per segment: all-raw bands
        // (noise) stay one Raw rectangle, a column of flat tiles (video)
        // one Hextile rectangle between two Raw ones.
        int open_y = r.y;
        auto close = [&](int y) {
            for (const Segment &s : open) {
                (s.raw ? raw : hextile).push_back(Rect{s.x0, open_y, s.x1 - s.x0, y - open_y});
            }
        };
        open.clear();
        for (int y = r.y; y < r.bottom(); y += 16) {
            if (bpp == 4) {
                cut_band<uint32_t>(r, y, ctx, history, cut);
            } else {
                cut_band<uint16_t>(r, y, ctx, history, cut);
            }
            if (cut != open) {
                close(y);
                open.swap(cut);
                open_y = y;
            }
        }
        close(r.bottom());
    }
    if (raw.size() == raw_before) {
        hextile.resize(hextile_before);
        return false;
    }
    return true;
}

} // namespace qvnc::vnc
