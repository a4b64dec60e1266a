// Raw (0): pixels in the client's format, row by row.  Always available.
#pragma once

#include "encoder.hpp"

namespace qvnc::vnc {

class RawEncoder final : public Encoder {
public:
    int32_t encoding() const override { return 0; }
    size_t encode(const Rect &r, const EncodeContext &ctx, io::ByteBuffer &out) override;
};

// Converts the pixels of `r` to the client format, appending them to `out`.
void append_converted_pixels(const Rect &r, const EncodeContext &ctx, io::ByteBuffer &out);

} // namespace qvnc::vnc
