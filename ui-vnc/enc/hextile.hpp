// Hextile (5): 16x16 tiles, each raw or a background plus subrectangles.
#pragma once

#include <vector>

#include "chunks.hpp"
#include "encoder.hpp"

namespace qvnc::vnc {

class HextileEncoder final : public Encoder {
public:
    int32_t encoding() const override { return 5; }
    // Nothing carries over between rectangles.
    bool accepts_shared() const override { return true; }
    size_t encode(const Rect &r, const EncodeContext &ctx, io::ByteBuffer &out) override;
    // A big update's bands of tile rows are encoded in parallel; a band
    // starts with nothing carried over from the tile before it.
    size_t encode_rects(std::span<const Rect> rects, const EncodeContext &ctx, io::ByteBuffer &out) override;

private:
    std::vector<uint8_t> tile_; // one tile in the client format
    enc::ChunkPlan plan_;
    enc::ChunkBuffers chunks_;
    std::vector<std::vector<uint8_t>> slot_tiles_; // tile_ per parallel slot
};

} // namespace qvnc::vnc
