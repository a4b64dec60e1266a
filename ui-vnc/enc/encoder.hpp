// A framebuffer encoding (Raw, Hextile, ZRLE, Tight, ...).
//
// Contract: one Encoder instance per client connection and encoding, so that
// persistent state such as zlib streams follows RFB's rule of one stream per
// connection, and is freed with the connection (CVE-2019-20382).  encode()
// writes complete rectangles (12-byte header + data) for `r` into `out` and
// returns how many it wrote: an encoder may split a rectangle (Tight's
// 2048-pixel width limit) but never writes outside it.  It reads pixels only
// from ctx.fb (the server copy, in the surface's pixman format) and converts
// them to the client's format with ctx.conv / ctx.pf.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "byte-buffer.hpp"
#include "pixel-convert.hpp"
#include "pixel-format.hpp"
#include "rect.hpp"
#include "server-framebuffer.hpp"
#include "tile-freq.hpp"

namespace qvnc::work {
class WorkerPool;
}

namespace qvnc::vnc {

struct EncodeContext {
    const ServerFramebuffer &fb;
    const PixelFormat &pf;       // the client's pixel format
    const PixelConverter &conv;  // fb.format() -> pf
    int compress_level = -1;     // -1: the encoding's default
    int quality_level = -1;      // -1: lossless (JPEG only with lossy=on)
    bool lossy = false;          // -vnc lossy
    // Threads for one big update's chunks (encode_rects); null: encode on
    // the calling thread only.  Only set for jobs running on a worker.
    work::WorkerPool *pool = nullptr;
    // Adaptive lossy encoding (lossy on, non-adaptive off): how often each
    // tile changed lately; null: lossy choices by content alone.
    const TileFreq *freq = nullptr;
};

class Encoder {
public:
    virtual ~Encoder() = default;
    virtual int32_t encoding() const = 0;
    [[nodiscard]] virtual size_t encode(const Rect &r, const EncodeContext &ctx, io::ByteBuffer &out) = 0;
    // encode() for each of `rects` in order, the rectangles of one update
    // message; returns how many it wrote, at most the sum of max_rects().
    // Encoders that can split a big update into chunks encoded in parallel
    // on ctx.pool (chunks.hpp) override it; the output decodes to the same
    // pixels as encode() one by one.
    [[nodiscard]] virtual size_t encode_rects(std::span<const Rect> rects, const EncodeContext &ctx,
                                              io::ByteBuffer &out);
    // Shared encoding (server/share-pass.cpp): one encode whose bytes go
    // to several clients of identical settings, each of which continues
    // its own streams.  accepts_shared(): bytes another instance of this
    // encoding made after its forget_history() may be appended to this
    // instance's client's stream now (no zlib stream, or its header was
    // sent).  False for encodings not prepared for that.
    virtual bool accepts_shared() const { return false; }
    // What this instance writes next refers back to nothing it wrote
    // before and starts no stream header: called on the shared instance
    // before each shared encode, and on a client's own instance after
    // shared bytes went into its stream (its peer's window holds those).
    virtual void forget_history() {}
    // Appends the rectangles (or parts) sent lossy since the last call and
    // forgets them: the connection sends them again losslessly once they
    // stop changing (server/update-stats.hpp).
    virtual void take_lossy(std::vector<Rect> &) {}
    // The most rectangles encode(r) may write, so an update can be split
    // before its u16 count would overflow (never after: output already
    // made has moved the zlib streams on).
    virtual size_t max_rects(const Rect &) const { return 1; }
};

// The encoders this build implements, by RFB number; nullptr otherwise.
std::unique_ptr<Encoder> make_encoder(int32_t encoding);
bool encoder_available(int32_t encoding);

// QEMU's choice of the encoding for framebuffer updates from a client's
// SetEncodings list: the first-listed encoding make_encoder() offers, except
// that Zlib (6) is never chosen when ZRLE (16) is listed anywhere; Raw (0)
// when none is.
int32_t choose_encoding(const std::vector<int32_t> &client_list);

// The 12-byte rectangle header.
inline constexpr size_t kRectHeaderSize = 12;
void write_rect_header(io::ByteBuffer &out, const Rect &r, int32_t encoding);

} // namespace qvnc::vnc
