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

#include <memory>
#include <vector>

#include "chunks.hpp"
#include "enc-util.hpp"
#include "encoder.hpp"
#include "zywrle.hpp"

namespace qvnc::vnc {

class ZrleEncoder final : public Encoder {
public:
    explicit ZrleEncoder(int32_t number = 16) : number_(number) {}
    int32_t encoding() const override { return number_; }
    size_t encode(const Rect &r, const EncodeContext &ctx, io::ByteBuffer &out) override;
    // One stream: shareable once its header went out (encoder.hpp).
    bool accepts_shared() const override { return !z_.header_pending(); }
    void forget_history() override { z_.forget_history(); }
    // A big update: bands of tile rows are coded in parallel, then each
    // chunk is compressed in parallel by its own Deflater primed with the
    // chunk before it (chunks.hpp); the rectangles are those of encode().
    size_t encode_rects(std::span<const Rect> rects, const EncodeContext &ctx, io::ByteBuffer &out) override;

    // zlib level when the client sent no CompressLevel.  3, zlib's fastest
    // match search without lazy matching (TigerVNC's viewer asks for 2):
    // bench-encoders against level 6 (zlib's default, which this was),
    // input MB/s and bytes: cursor 1.9x at +3.5% bytes, desktop 1.2x at
    // +1.2%, scroll 1.5x at +7% (scrolls mostly go as CopyRect), video
    // 1.04x at the same bytes.  On the cursor workload zlib was 71% of the
    // server's CPU.
    static constexpr int kDefaultLevel = 3;

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
    struct Slot {
        Scratch s;
        enc::Deflater z{false}; // a chunk's compressor
    };
    int32_t number_;
    enc::Deflater z_;
    Scratch s_;
    // Parallel path scratch, kept across updates.
    enc::ChunkPlan plan_;
    enc::ChunkBuffers chunks_;                 // compressed bytes per chunk
    std::vector<std::vector<uint8_t>> plain_;  // uncompressed data per chunk
    std::vector<size_t> plain_end_;            // per piece, in its chunk's plain_
    std::vector<std::unique_ptr<Slot>> slots_;
    std::vector<uint8_t> tail_;                // the stream's last bytes for z_
    std::vector<size_t> rect_len_;
};

} // namespace qvnc::vnc
