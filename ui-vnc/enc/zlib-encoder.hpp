// Zlib (6): Raw pixels through one deflate stream per connection, each
// rectangle ending on a sync flush: `u32 length` + compressed bytes.
#pragma once

#include <vector>

#include "enc-util.hpp"
#include "encoder.hpp"

namespace qvnc::vnc {

class ZlibEncoder final : public Encoder {
public:
    int32_t encoding() const override { return 6; }
    size_t encode(const Rect &r, const EncodeContext &ctx, io::ByteBuffer &out) override;
    bool accepts_shared() const override { return !z_.header_pending(); }
    void forget_history() override { z_.forget_history(); }

    // zlib level when the client sent no CompressLevel.
    static constexpr int kDefaultLevel = 6;

private:
    enc::Deflater z_;
    std::vector<uint8_t> rows_;
};

} // namespace qvnc::vnc
