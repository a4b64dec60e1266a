// Hextile (5): 16x16 tiles, each raw or a background plus subrectangles.
#pragma once

#include <vector>

#include "encoder.hpp"

namespace qvnc::vnc {

class HextileEncoder final : public Encoder {
public:
    int32_t encoding() const override { return 5; }
    size_t encode(const Rect &r, const EncodeContext &ctx, io::ByteBuffer &out) override;

private:
    std::vector<uint8_t> tile_; // one tile in the client format
};

} // namespace qvnc::vnc
