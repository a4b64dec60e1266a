// ZRLE (16): 64x64 tiles, each raw, solid, packed palette, plain RLE or
// palette RLE (whichever is smallest), all through one deflate stream per
// connection: `u32 length` + compressed bytes per rectangle.
//
// ZYWRLE (17) is ZRLE with a lossy wavelet pre-filter (zywrle.hpp,
// zywrle.md) whose level the decoder infers from the quality level it asked
// for.  An instance made for 17 uses it only when `lossy` is on and the
// client sent a quality level 0..8 (QEMU's rule) and its pixel format is one
// the decoder can invert; otherwise it writes plain ZRLE rectangles
// numbered 16, as QEMU does at level 0.
#pragma once

#include <vector>

#include "enc-util.hpp"
#include "encoder.hpp"
#include "zywrle.hpp"

namespace qvnc::vnc {

class ZrleEncoder final : public Encoder {
public:
    explicit ZrleEncoder(int32_t number = 16) : number_(number) {}
    int32_t encoding() const override { return number_; }
    size_t encode(const Rect &r, const EncodeContext &ctx, io::ByteBuffer &out) override;

    // zlib level when the client sent no CompressLevel (Z_DEFAULT_COMPRESSION).
    static constexpr int kDefaultLevel = 6;

    // Encoder-internal scratch shared with the tile coder.
    struct Scratch {
        std::vector<uint8_t> tile;  // one tile in the client format
        std::vector<uint8_t> plain; // uncompressed ZRLE data of a band of tiles
        enc::ColourTable palette{127};
        uint8_t index[64 * 64];
        zywrle::Analyzer zywrle;
        std::vector<uint8_t> coef; // a ZYWRLE tile's nested coefficient tile
    };

private:
    int32_t number_;
    enc::Deflater z_;
    Scratch s_;
};

} // namespace qvnc::vnc
