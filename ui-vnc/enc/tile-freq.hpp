// How often each 64x64 tile of the screen changed lately (updates per
// second), for lossy encoders that adapt to it (-vnc lossy without
// non-adaptive, as QEMU): JPEG where the picture moves, lossless where it
// stands still.  Kept by the server (server/update-stats.hpp); an encode
// job carries a copy, so workers never read the live one.
#pragma once

#include <algorithm>
#include <vector>

#include "rect.hpp"

namespace qvnc::vnc {

struct TileFreq {
    static constexpr int kTile = 64;
    int cols = 0, rows = 0;
    std::vector<float> hz; // row-major, cols x rows

    // Calls f(i) with the row-major index of each tile r touches, inside
    // the grid.
    template <class F> void for_tiles(const Rect &r, F &&f) const
    {
        if (r.empty() || cols == 0) {
            return;
        }
        const int x1 = std::min((r.right() - 1) / kTile, cols - 1), y1 = std::min((r.bottom() - 1) / kTile, rows - 1);
        for (int y = std::max(0, r.y / kTile); y <= y1; y++) {
            for (int x = std::max(0, r.x / kTile); x <= x1; x++) {
                f(static_cast<size_t>(y) * cols + x);
            }
        }
    }

    // The mean over the tiles r touches; 0 outside the grid (the same
    // tiles as for_tiles: a clamp here once took the edge tiles' mean for a
    // rectangle past the edge).
    double over(const Rect &r) const
    {
        double sum = 0;
        int n = 0;
        for_tiles(r, [&](size_t i) {
            sum += hz[i];
            n++;
        });
        return n > 0 ? sum / n : 0;
    }

    // Whether some tile r touches is not changing (frequency 0).
    bool any_idle(const Rect &r) const
    {
        bool idle = false;
        for_tiles(r, [&](size_t i) { idle = idle || hz[i] <= 0; });
        return idle;
    }
};

} // namespace qvnc::vnc
