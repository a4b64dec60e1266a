// Hextile (5): 16x16 tiles, each raw or a background plus subrectangles.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "chunks.hpp"
#include "encoder.hpp"

namespace qvnc::vnc {

// Which tiles of the screen went raw lately, so that the next update writes
// them raw without the analysis (issue 8: on video and noise nearly every
// tile goes raw, and the analysis cost 3x what writing the tile does).
// Only a guess about cost: a raw tile is always valid Hextile, so a wrong
// guess costs bytes, never pixels.  A cell is trusted for kForgetAfter
// updates after an analysis found it raw, and is analysed again every
// kProbeEvery updates, so content that becomes compressible again is found
// within kProbeEvery updates of it changing.
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

class HextileEncoder final : public Encoder {
public:
    int32_t encoding() const override { return 5; }
    // Nothing carries over between rectangles.
    bool accepts_shared() const override { return true; }
    size_t encode(const Rect &r, const EncodeContext &ctx, io::ByteBuffer &out) override;
    // A big update's bands of tile rows are encoded in parallel; a band
    // starts with nothing carried over from the tile before it.  Tiles
    // that went raw lately are written raw unanalysed (HextileRawHistory);
    // encode() analyses every tile.
    size_t encode_rects(std::span<const Rect> rects, const EncodeContext &ctx, io::ByteBuffer &out) override;

private:
    std::vector<uint8_t> tile_; // one tile in the client format
    HextileRawHistory history_;
    enc::ChunkPlan plan_;
    enc::ChunkBuffers chunks_;
    std::vector<std::vector<uint8_t>> slot_tiles_; // tile_ per parallel slot
};

} // namespace qvnc::vnc
