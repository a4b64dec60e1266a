// Tight (7) and Tight PNG (-260).
//
// A rectangle is cut into pieces at most 2048 pixels wide and 65536 pixels
// in area, and each piece is classified by its colours:
//   1 colour              -> Fill (one TPIXEL);
//   2 colours             -> Palette filter, 1 bit per pixel (stream 1);
//   up to 256, few enough -> Palette filter, 1 byte per pixel (stream 2);
//   more, lossy + quality -> JPEG (16/32 bpp only);
//   more, smooth          -> Gradient filter (stream 3);
//   otherwise             -> Copy filter (stream 0).
// Filtered data under 12 bytes goes uncompressed; the rest through the
// stream's persistent deflate state with a compact length.  Tight PNG keeps
// Fill and JPEG and replaces all the basic compression by PNG images, which
// is what noVNC decodes.
#pragma once

#include <algorithm>
#include <memory>
#include <vector>

#include "enc-util.hpp"
#include "encoder.hpp"
#include "tight-image.hpp"

namespace qvnc::vnc {

class TightEncoder final : public Encoder {
public:
    explicit TightEncoder(bool png = false);
    ~TightEncoder() override;
    int32_t encoding() const override { return png_ ? -260 : 7; }
    size_t encode(const Rect &r, const EncodeContext &ctx, io::ByteBuffer &out) override;
    size_t max_rects(const Rect &r) const override;
    // A big update's pieces are classified, filtered (and JPEG-coded) in
    // parallel, then each stream's data compressed in parallel by Deflaters
    // primed with the data before it (chunks.hpp); tight-parallel.cpp.
    size_t encode_rects(std::span<const Rect> rects, const EncodeContext &ctx, io::ByteBuffer &out) override;
    // Shared encoding: Tight can reset a client's streams in the
    // compression control byte (bits 0-3), so any client can take shared
    // bytes, even its first update.  forget_history() starts all four
    // streams over (a new zlib header each) and sets their reset bits in
    // the control byte of the next rectangle written.  Tight PNG has no
    // zlib streams at all.
    bool accepts_shared() const override { return true; }
    void forget_history() override;
    void take_lossy(std::vector<Rect> &out) override;

    static constexpr int kMaxWidth = 2048;
    static constexpr int kMaxArea = 65536;
    // Rectangles are cut into pieces at most kMaxWidth wide and kMaxArea
    // pixels, as every Tight peer cuts them, pw = min(w, kMaxWidth) wide
    // and this many rows high: rounded down to 16 rows, so that a JPEG
    // piece ends on a whole MCU row (16 rows at 4:2:0).  At
    // 1920 wide 34 rows made JPEG encode 40, the last 6 padding: 13% of
    // libjpeg's time and 10% of the bytes (32 rows: 4.6 vs 5.3 ms a 1080p
    // frame, 141 vs 157 KB).
    static int piece_height(int pw)
    {
        const int h = kMaxArea / std::max(pw, 1);
        return h >= 16 ? h / 16 * 16 : std::max(h, 1);
    }
    // zlib levels when the client sent no CompressLevel (a level it sent
    // is used for every stream).  Measured with bench-encoders (1080p,
    // CPU MB/s and ratio against level 6 for all): palette indices at 3
    // (zlib's fastest match search, deflate_fast) keep 84% of level 6's
    // ratio on scroll at 2.5x its speed (level 4, lazy matching: 94% at
    // 1.6x; the bytes stay below libvncserver's own); copied
    // pixels (many colours, not smooth) at 3 keep 97% on desktop at 1.4x;
    // the gradient stream uses Z_RLE below level 7 (send_data).  Tight
    // PNG keeps 6.
    static constexpr int kDefaultLevel = 6;
    static constexpr int kDefaultPaletteLevel = 3;
    static constexpr int kDefaultCopyLevel = 3;

    // JPEG quality (1..100) for a Tight quality level 0..9: QEMU's.
    static int jpeg_quality(int quality_level);
    // Adaptive mode (ctx.freq): whether a piece that changes `hz` times a
    // second may be sent as JPEG.  Tiles that stand still (0) are always
    // lossless.
    static bool jpeg_allowed(int quality_level, double hz);


private:
    // Data for a stream that the parallel path compresses later: written
    // at `at` in its chunk's bytes as compact length + compressed data.
    struct Deferred {
        int stream;
        int level;
        int strategy;
        size_t at;
        size_t data_begin, data_end; // in the chunk's data
        size_t task;                 // the compression task that takes it
        size_t comp_begin, comp_end; // in that task's output
    };
    struct Chunk {
        io::ByteBuffer bytes;
        std::vector<uint8_t> data;
        std::vector<Deferred> deferred;
    };
    struct Slot;
    struct Parallel;

    void encode_one(const Rect &piece, const EncodeContext &ctx, io::ByteBuffer &out);
    static void put_compact_length(io::ByteBuffer &out, size_t len);
    template <class T> void encode_piece(const Rect &r, const EncodeContext &ctx, io::ByteBuffer &out);
    template <class T> void send_palette(const Rect &r, const EncodeContext &ctx, int ncolours, io::ByteBuffer &out);
    template <class T> void send_copy(const Rect &r, const EncodeContext &ctx, io::ByteBuffer &out);
    template <class T> bool is_smooth(const Rect &r, const EncodeContext &ctx) const;
    template <class T> void send_gradient(const Rect &r, const EncodeContext &ctx, io::ByteBuffer &out);
    template <class T> void send_png(const Rect &r, const EncodeContext &ctx, int ncolours, io::ByteBuffer &out);
    void gradient_rgb24(const Rect &r, const PixelFormat &pf);
    bool send_jpeg(const Rect &r, const EncodeContext &ctx, io::ByteBuffer &out);
    void send_data(int stream, const uint8_t *data, size_t n, int level, io::ByteBuffer &out);

    // The control byte of the next rectangle written: Tight's reset bits
    // start the client's streams over, after forget_history().
    void mark_resets(io::ByteBuffer &out, size_t ctl_at);

    bool png_;
    uint8_t reset_pending_ = 0; // streams whose reset bit is still to be sent
    Chunk *defer_ = nullptr; // set on a parallel slot's coder: send_data records
    std::unique_ptr<Parallel> par_;
    enc::Deflater z_[4];
    enc::ColourTable palette_{256};
    std::vector<uint8_t> px_;    // the piece converted, when the format differs
    // The piece's pixels in the client format, row y at pix_row(y): the
    // framebuffer's own rows when the client format is the same (no copy:
    // on the video workload the copy was 4% of the server's CPU with JPEG,
    // whose pieces only read a few hundred pixels before JPEG takes over),
    // px_ otherwise.
    const uint8_t *pix_ = nullptr;
    size_t pix_stride_ = 0;
    const uint8_t *pix_row(int y) const { return pix_ + static_cast<size_t>(y) * pix_stride_; }
    std::vector<uint8_t> index_; // palette index of each pixel
    std::vector<uint8_t> data_;  // filtered data before compression
    std::vector<uint8_t> image_; // JPEG or PNG bytes
    std::vector<int> grad_rows_;      // gradient filter: component rows
    std::vector<uint8_t> grad_bytes_; // gradient filter, 8-bit channels
    std::unique_ptr<enc::JpegCompressor> jpeg_;
    std::vector<Rect> lossy_; // pieces sent as JPEG since take_lossy()
};

} // namespace qvnc::vnc
