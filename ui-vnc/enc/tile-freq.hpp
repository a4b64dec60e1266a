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

    // The mean over the tiles r touches; 0 outside the grid.
    double over(const Rect &r) const
    {
        if (r.empty() || cols == 0) {
            return 0;
        }
        const int x0 = std::clamp(r.x / kTile, 0, cols - 1), x1 = std::clamp((r.right() - 1) / kTile, 0, cols - 1);
        const int y0 = std::clamp(r.y / kTile, 0, rows - 1), y1 = std::clamp((r.bottom() - 1) / kTile, 0, rows - 1);
        double sum = 0;
        for (int y = y0; y <= y1; y++) {
            for (int x = x0; x <= x1; x++) {
                sum += hz[static_cast<size_t>(y) * cols + x];
            }
        }
        return sum / ((x1 - x0 + 1) * (y1 - y0 + 1));
    }
};

} // namespace qvnc::vnc
