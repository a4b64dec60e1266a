#include "chunks.hpp"

#include <algorithm>
#include <cstring>

#include "worker-pool.hpp"

namespace qvnc::vnc::enc {

namespace {

// Chunks per thread: more than one so that a thread finishing early (less
// detail in its bands, or preempted on this shared machine) takes another.
constexpr size_t kChunksPerSlot = 4;
constexpr size_t kMinChunkPixels = 32768;

} // namespace

int parallel_slots(const EncodeContext &ctx)
{
    return ctx.pool ? ctx.pool->slots() : 1;
}

bool ChunkPlan::plan(std::span<const Rect> rects, int tile_rows, const EncodeContext &ctx)
{
    pieces_.clear();
    chunk_start_.clear();
    if (!ctx.pool || ctx.pool->slots() < 2) {
        return false;
    }
    size_t total = 0;
    for (const Rect &r : rects) {
        if (r.empty()) {
            return false; // encode() writes its header; keep that path
        }
        total += static_cast<size_t>(r.w) * static_cast<size_t>(r.h);
    }
    if (total < kParallelMinPixels) {
        return false;
    }
    const size_t target =
        std::max(kMinChunkPixels, total / (kChunksPerSlot * static_cast<size_t>(ctx.pool->slots())));
    size_t in_chunk = 0;
    for (size_t i = 0; i < rects.size(); i++) {
        const Rect &r = rects[i];
        const int w = r.w;
        // Bands of at least `target` pixels (rounded up to whole tile
        // rows), so each band is a chunk of its own: rounding down made
        // bands just short of it, paired them, and a 1080p frame came out
        // as 5 chunks, 3 on one thread and 2 on the other.
        const size_t band_px = static_cast<size_t>(w) * static_cast<size_t>(tile_rows);
        const int rows = static_cast<int>((target + band_px - 1) / band_px) * tile_rows;
        for (int y = r.y; y < r.bottom(); y += rows) {
            const int h = std::min(rows, r.bottom() - y);
            if (in_chunk == 0) {
                chunk_start_.push_back(static_cast<uint32_t>(pieces_.size()));
            }
            pieces_.push_back(Piece{static_cast<uint32_t>(i), Rect{r.x, y, w, h}});
            in_chunk += static_cast<size_t>(w) * static_cast<size_t>(h);
            if (in_chunk >= target) {
                in_chunk = 0;
            }
        }
    }
    chunk_start_.push_back(static_cast<uint32_t>(pieces_.size()));
    return true;
}

void run_parallel(const EncodeContext &ctx, size_t n, const std::function<void(size_t, int)> &fn)
{
    if (ctx.pool) {
        ctx.pool->parallel_for(n, fn);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        fn(i, 0);
    }
}

void ChunkBuffers::reset(const ChunkPlan &plan)
{
    if (bytes.size() < plan.chunks()) {
        bytes.resize(plan.chunks());
    }
    for (size_t c = 0; c < plan.chunks(); c++) {
        bytes[c].clear();
    }
    piece_end.assign(plan.pieces().size(), 0);
}

size_t write_stateless(std::span<const Rect> rects, const ChunkPlan &plan, ChunkBuffers &buf, int32_t encoding,
                       const EncodeContext &ctx, io::ByteBuffer &out)
{
    // Where every piece goes, a header before each rectangle's first one.
    constexpr size_t kHeader = 12;
    buf.piece_dst.resize(plan.pieces().size());
    size_t total = 0, n = 0;
    uint32_t last_rect = UINT32_MAX;
    for (size_t c = 0; c < plan.chunks(); c++) {
        size_t at = 0;
        for (size_t k = 0; k < plan.chunk(c).size(); k++) {
            const size_t i = plan.first_piece(c) + k;
            if (plan.pieces()[i].rect != last_rect) {
                last_rect = plan.pieces()[i].rect;
                total += kHeader;
                n++;
            }
            buf.piece_dst[i] = total;
            total += buf.piece_end[i] - at;
            at = buf.piece_end[i];
        }
    }
    uint8_t *const base = out.prepare(total);
    last_rect = UINT32_MAX;
    for (size_t i = 0; i < plan.pieces().size(); i++) {
        if (plan.pieces()[i].rect != last_rect) {
            last_rect = plan.pieces()[i].rect;
            buf.header.clear();
            write_rect_header(buf.header, rects[last_rect], encoding);
            std::memcpy(base + buf.piece_dst[i] - kHeader, buf.header.data().data(), kHeader);
        }
    }
    run_parallel(ctx, plan.chunks(), [&](size_t c, int) {
        const uint8_t *const src = buf.bytes[c].data().data();
        size_t at = 0;
        for (size_t k = 0; k < plan.chunk(c).size(); k++) {
            const size_t i = plan.first_piece(c) + k;
            std::memcpy(base + buf.piece_dst[i], src + at, buf.piece_end[i] - at);
            at = buf.piece_end[i];
        }
    });
    out.commit(total);
    return n;
}

} // namespace qvnc::vnc::enc
