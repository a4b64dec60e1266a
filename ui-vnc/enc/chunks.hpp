// One big update cut into chunks that threads encode at the same time
// (issue 8: use both cores for one update).
//
// The update's rectangles are cut into bands of whole tile rows (pieces),
// and consecutive pieces are grouped into chunks of about the same number
// of pixels; each chunk is encoded by one call on the display's WorkerPool
// (parallel_for) into its own buffer, and the encoder then writes the
// rectangles in their usual order from those buffers.  What a piece's
// bytes may depend on decides how an encoder uses this:
//  - Raw, Hextile: nothing outside the piece (a Hextile band starts with
//    no background or foreground carried over, which is always valid);
//  - ZRLE, Tight: the zlib stream continues across rectangles.  A chunk's
//    data is compressed by an independent raw Deflater primed with the
//    stream bytes just before it (pigz's method), ending on a sync flush,
//    so the concatenation is valid continuation data behind the stream's
//    single header; the persistent stream then takes the tail as its
//    history (Deflater::continue_after).
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "byte-buffer.hpp"
#include "encoder.hpp"
#include "rect.hpp"

namespace qvnc::vnc::enc {

// Below this many pixels an update is encoded on one thread: the chunks'
// hand-offs and the primed dictionaries would cost more than they save.
inline constexpr size_t kParallelMinPixels = 65536;

class ChunkPlan {
public:
    struct Piece {
        uint32_t rect; // index into the rects planned
        Rect r;        // a band of whole tile rows of that rectangle
    };

    // Cuts `rects`; false (and the update is to be encoded as before) when
    // ctx has no pool, the pool has one thread, the update is small or
    // has an empty rectangle.
    // `tile_rows`: bands start at multiples of it from a rectangle's top.
    bool plan(std::span<const Rect> rects, int tile_rows, const EncodeContext &ctx);

    size_t chunks() const { return chunk_start_.empty() ? 0 : chunk_start_.size() - 1; }
    std::span<const Piece> pieces() const { return pieces_; }
    // The pieces of chunk c.
    std::span<const Piece> chunk(size_t c) const
    {
        return std::span<const Piece>(pieces_).subspan(chunk_start_[c], chunk_start_[c + 1] - chunk_start_[c]);
    }
    size_t first_piece(size_t c) const { return chunk_start_[c]; }

private:
    std::vector<Piece> pieces_;
    std::vector<uint32_t> chunk_start_; // first piece of each chunk, then the end
};

// Threads that may run a run_parallel() call at once (its slots).
int parallel_slots(const EncodeContext &ctx);
// fn(i, slot) for i in [0, n) on ctx.pool (WorkerPool::parallel_for), or
// here one after the other without one.
void run_parallel(const EncodeContext &ctx, size_t n, const std::function<void(size_t, int)> &fn);

// Each chunk's output and where each of its pieces ends in it: scratch an
// encoder keeps across updates.
struct ChunkBuffers {
    std::vector<io::ByteBuffer> bytes; // per chunk
    std::vector<size_t> piece_end;     // per piece: end offset in its chunk's bytes
    std::vector<size_t> piece_dst;     // per piece: where write_stateless puts it
    io::ByteBuffer header;             // one rectangle header, for write_stateless

    void reset(const ChunkPlan &plan);
};

// Writes the rectangles of a stateless encoding (Raw, Hextile) from the
// chunks' bytes: each rectangle's header, then its pieces' bytes in order.
// The chunks are copied in parallel on ctx's pool: one thread copying a
// whole 1080p frame (8 MB of raw tiles) took as long as two encoding it.
size_t write_stateless(std::span<const Rect> rects, const ChunkPlan &plan, ChunkBuffers &buf, int32_t encoding,
                       const EncodeContext &ctx, io::ByteBuffer &out);

} // namespace qvnc::vnc::enc
