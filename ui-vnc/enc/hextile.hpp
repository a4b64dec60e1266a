// Hextile (5): 16x16 tiles, each raw or a background plus subrectangles.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "chunks.hpp"
#include "encoder.hpp"
#include "hextile-raw.hpp"
#include "raw.hpp"

namespace qvnc::vnc {

class HextileEncoder final : public Encoder {
public:
    int32_t encoding() const override { return 5; }
    // Nothing carries over between rectangles.
    bool accepts_shared() const override { return true; }
    size_t encode(const Rect &r, const EncodeContext &ctx, io::ByteBuffer &out) override;
    // A big update's bands of tile rows are encoded in parallel; a band
    // starts with nothing carried over from the tile before it.  Tiles
    // that went raw lately are written raw unanalysed, and bands of them
    // as Raw rectangles (hextile-raw.hpp); encode() analyses every tile.
    size_t encode_rects(std::span<const Rect> rects, const EncodeContext &ctx, io::ByteBuffer &out) override;
    // A rectangle's bands, and runs of tiles in them, may alternate
    // between Raw and Hextile.
    size_t max_rects(const Rect &r) const override { return hextile_max_pieces(r); }

private:
    std::vector<uint8_t> tile_; // one tile in the client format
    HextileRawHistory history_;
    RawEncoder raw_;                               // the Raw bands
    std::vector<Rect> raw_rects_, hextile_rects_;  // split_raw_bands()
    RawBandCuts cuts_;
    size_t encode_hextile(std::span<const Rect> rects, const EncodeContext &ctx, io::ByteBuffer &out);
    enc::ChunkPlan plan_;
    enc::ChunkBuffers chunks_;
    std::vector<std::vector<uint8_t>> slot_tiles_; // tile_ per parallel slot
};

} // namespace qvnc::vnc
