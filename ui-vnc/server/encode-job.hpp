// An update's pixel encoding as a job for a worker thread (see
// connection-encode.cpp): everything in it is owned, nothing points back
// into the connection or the server.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include "byte-buffer.hpp"
#include "encoder.hpp"
#include "pixel-convert.hpp"
#include "pixel-format.hpp"
#include "rect.hpp"
#include "server-framebuffer.hpp"
#include "tile-freq.hpp"

namespace qvnc::vnc {

struct EncodeJob {
    int32_t key = 0;                  // the encoders_ slot it came from
    std::unique_ptr<Encoder> encoder; // moved in and back out
    // The pixels the encoder reads: the server's own, shared (copy on
    // write, see server-framebuffer.hpp), or where that would hold up the
    // server's compare pass, a snapshot of the rects' pixels.
    ServerFramebuffer in_place;
    ServerFramebuffer snapshot; // kept for its capacity
    bool reads_in_place = false;
    PixelFormat pf;
    std::optional<PixelConverter> conv;
    int compress_level = -1;
    int quality_level = -1;
    bool lossy = false;
    std::vector<Rect> rects;
    std::vector<std::pair<Rect, Rect>> copies; // CopyRect src, dst
    io::ByteBuffer out;                        // complete update message(s)
    work::WorkerPool *pool = nullptr;          // for a big update's chunks (enc/chunks.hpp)
    bool adaptive = false;                     // use freq (a copy: the live one is the loop's)
    TileFreq freq;
    std::vector<Rect> lossy_rects;             // out: rects sent lossy (Encoder::take_lossy)
};

// Updates below this many pixels are encoded on the loop thread, without
// a job (Connection::start_encode): cheaper than the hand-off.  4096 pixels
// hold a moving cursor's two damage rectangles rounded out to 16-pixel
// blocks (2 x 48x32 = 3072) with room to spare.
inline constexpr size_t kInlineEncodePixels = 4096;
// Whether an update is encoded on the loop.  Raw always is: its encoding is
// the copy (and format conversion) a job's snapshot would make anyway, so
// a job would only add a second full copy of the pixels and two hand-offs.
inline bool encode_inline(int32_t encoding, size_t pixels)
{
    return encoding == 0 || pixels <= kInlineEncodePixels;
}

// Writes FramebufferUpdate messages for copies and rects into out; more
// than one only when a u16 rectangle count would overflow.
void encode_update(Encoder &encoder, const EncodeContext &ectx, std::span<const std::pair<Rect, Rect>> copies,
                   std::span<const Rect> rects, io::ByteBuffer &out);
// The same for a job: job.copies and job.rects into job.out, from its
// snapshot, and what went lossy into job.lossy_rects.  Thread-safe as long as
// nobody else touches the job.
void encode_update(EncodeJob &job);
// Gives the job the pixels of `rects` to read, in place or a snapshot
// (through Server::lend_pixels, which decides), and takes them back once it
// is done, so the server changes its pixels in place again.
void lend_pixels(EncodeJob &job, const ServerFramebuffer &fb, bool in_place, std::span<const Rect> rects);
void return_pixels(EncodeJob &job);
// Gives the job a copy of the tile frequencies (null: not adaptive).
void set_adaptive(EncodeJob &job, const TileFreq *freq);

} // namespace qvnc::vnc
