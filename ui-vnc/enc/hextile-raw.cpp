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

// Bands narrower than this stay Hextile: the 12-byte header of a Raw
// rectangle would outweigh the byte a tile it saves.
constexpr int kMinRawWidth = 12 * 16;

template <class T> bool band_is_raw(const Rect &r, int y, const EncodeContext &ctx, const HextileRawHistory &history)
{
    const int th = std::min(16, r.bottom() - y);
    const size_t stride = static_cast<size_t>(ctx.fb.stride());
    for (int tx = r.x; tx < r.right(); tx += 16) {
        const int tw = std::min(16, r.right() - tx);
        if (!history.predict_raw(tx, y, tw, th)) {
            return false;
        }
        // An edge sliver (too narrow to judge) goes with its band.
        if (tw >= 8 && !looks_raw<T>(ctx.fb.row(y) + static_cast<size_t>(tx) * sizeof(T), stride, tw, th)) {
            return false;
        }
    }
    return true;
}

} // namespace

bool split_raw_bands(std::span<const Rect> rects, const EncodeContext &ctx, const HextileRawHistory &history,
                     std::vector<Rect> &raw, std::vector<Rect> &hextile)
{
    const int bpp = ctx.fb.bytes_per_pixel();
    if (bpp != 4 && bpp != 2) {
        return false;
    }
    const size_t raw_before = raw.size(), hextile_before = hextile.size();
    for (const Rect &r : rects) {
        if (r.w < kMinRawWidth || r.h < 16) {
            hextile.push_back(r);
            continue;
        }
        // Runs of bands of one kind become one rectangle each.
        int run_y = r.y;
        bool run_raw = false;
        for (int y = r.y; y < r.bottom(); y += 16) {
            const bool is_raw = bpp == 4 ? band_is_raw<uint32_t>(r, y, ctx, history)
                                         : band_is_raw<uint16_t>(r, y, ctx, history);
            if (y > r.y && is_raw != run_raw) {
                (run_raw ? raw : hextile).push_back(Rect{r.x, run_y, r.w, y - run_y});
                run_y = y;
            }
            run_raw = is_raw;
        }
        (run_raw ? raw : hextile).push_back(Rect{r.x, run_y, r.w, r.bottom() - run_y});
    }
    if (raw.size() == raw_before) {
        hextile.resize(hextile_before);
        return false;
    }
    return true;
}

} // namespace qvnc::vnc
