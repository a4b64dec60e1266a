// Raw (0): pixels in the client's format, row by row.  Always available.
#pragma once

#include <vector>

#include "chunks.hpp"
#include "encoder.hpp"

namespace qvnc::vnc {

class RawEncoder final : public Encoder {
public:
    int32_t encoding() const override { return 0; }
    bool accepts_shared() const override { return true; } // no state
    size_t encode(const Rect &r, const EncodeContext &ctx, io::ByteBuffer &out) override;
    // A big update's bands convert in parallel straight into their place
    // in `out` (every size is known up front).
    size_t encode_rects(std::span<const Rect> rects, const EncodeContext &ctx, io::ByteBuffer &out) override;

private:
    enc::ChunkPlan plan_;
    std::vector<size_t> pixels_at_; // per rect: offset of its pixels in the update
    io::ByteBuffer header_;
};

// Converts the pixels of `r` to the client format, appending them to `out`.
void append_converted_pixels(const Rect &r, const EncodeContext &ctx, io::ByteBuffer &out);

} // namespace qvnc::vnc
