// Hextile's raw shortcuts (issue 8).  On video and noise nearly every tile
// goes raw, and the per-tile analysis cost about three times what writing
// the tile does; a viewer's per-tile decoding of such tiles costs it 3.5x
// what Raw does (libvncclient: 4.9 ms against 1.4 ms a 1080p frame).  So:
//  - HextileRawHistory remembers which 16x16 cells went raw lately: such a
//    tile is written raw without the analysis;
//  - split_raw_bands() sends runs of such tiles in a tile row as Raw
//    rectangles (Raw is always allowed, and a Raw run is smaller than its
//    raw Hextile tiles by a byte a tile, less the 12-byte header); the
//    rest stays Hextile.
// Both are guesses about cost only: a wrong one costs bytes, never pixels.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "encoder.hpp"
#include "rect.hpp"

namespace qvnc::vnc {

// A cell is trusted for kForgetAfter updates after an analysis found it
// raw.  Each update one row of cells in kProbeEvery is analysed again
// (all of a row at once, so that the other rows' bands can go Raw whole),
// so content that becomes compressible is found within kProbeEvery
// updates of it changing.
class HextileRawHistory {
public:
    static constexpr uint32_t kProbeEvery = 8;
    static constexpr uint32_t kForgetAfter = 2 * kProbeEvery;

    // Starts an update of a width x height framebuffer.
    void next_update(int width, int height);
    // For the tile at (tx, ty), tw x th pixels.  Safe to call from several
    // threads for one update, and record() as well.
    bool predict_raw(int tx, int ty, int tw, int th) const;
    void record(int tx, int ty, int tw, int th, bool went_raw);

private:
    size_t cell(int tx, int ty, int tw, int th) const;

    std::vector<std::atomic<uint32_t>> seen_; // per 16x16 cell: the update it last went raw in, 0: not lately
    int cols_ = 0, rows_ = 0;
    uint32_t seq_ = 0;
};

// A cheap check that a tile predicted raw still looks it: four rows
// sampled, in each at least 11 of 15 pixels differ from their left
// neighbour (photos, video and noise; text, window frames and solid areas
// have long runs).  Hextile goes raw at about 2/3 of the pixels starting a
// run at 32 bits a pixel; with "all but one" the video workload's grain
// passed in no band.  The history alone trusted a cell whose photo a
// window had just covered: on the desktop workload that made the updates
// 70% bigger.
// Pixels of type T at `raw`, rows `stride` bytes apart.
template <class T> bool looks_raw(const uint8_t *raw, size_t stride, int tw, int th)
{
    if (tw < 8 || th < 4) {
        return false; // edge slivers: analysed
    }
    for (int k = 0; k < 4; k++) {
        T row[16];
        std::memcpy(row, raw + static_cast<size_t>(k * (th - 1) / 3) * stride, static_cast<size_t>(tw) * sizeof(T));
        int same = 0;
        for (int x = 1; x < tw; x++) {
            same += row[x] == row[x - 1];
        }
        if (same > 4) {
            return false;
        }
    }
    return true;
}

// Raw runs narrower than this stay Hextile: the 12-byte header of a Raw
// rectangle would outweigh the byte a tile it saves.
inline constexpr int kHextileMinRawWidth = 12 * 16;

// split_raw_bands()'s scratch, kept by its caller so that an update
// allocates nothing: one band's cut into segments [x0, x1) of one kind,
// left to right, and the cut of the bands above that share rectangles.
struct RawBandCuts {
    struct Segment {
        int x0, x1;
        bool raw;
        bool operator==(const Segment &) const = default;
    };
    std::vector<Segment> cut, open;
};

// Cuts `rects` into bands of whole tile rows (from each rectangle's top,
// as Hextile tiles it), and each band into runs of tiles: to `raw` the
// runs of at least kHextileMinRawWidth pixels whose every tile is
// predicted raw and looks it in ctx.fb, to `hextile` the rest (a
// rectangle with no such run goes whole).  Consecutive bands cut at the
// same places share their rectangles.  Returns false, with both
// untouched, when no run went to `raw`.
bool split_raw_bands(std::span<const Rect> rects, const EncodeContext &ctx, const HextileRawHistory &history,
                     RawBandCuts &cuts, std::vector<Rect> &raw, std::vector<Rect> &hextile);

// The most rectangles split_raw_bands() cuts r into: per band at most
// w / kHextileMinRawWidth Raw runs and one more Hextile segment.
inline size_t hextile_max_pieces(const Rect &r)
{
    if (r.w < kHextileMinRawWidth || r.h < 16) {
        return 1;
    }
    return static_cast<size_t>((r.h + 15) / 16) * static_cast<size_t>(2 * (r.w / kHextileMinRawWidth) + 1);
}

} // namespace qvnc::vnc
