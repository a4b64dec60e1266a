#include "chunks.hpp"

#include <algorithm>

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
        int rows = static_cast<int>(target / static_cast<size_t>(w)) / tile_rows * tile_rows;
        rows = std::max(rows, tile_rows);
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

size_t write_stateless(std::span<const Rect> rects, const ChunkPlan &plan, const ChunkBuffers &buf,
                       int32_t encoding, io::ByteBuffer &out)
{
    size_t n = 0;
    uint32_t last_rect = UINT32_MAX;
    for (size_t c = 0; c < plan.chunks(); c++) {
        const std::span<const uint8_t> bytes = buf.bytes[c].data();
        size_t at = 0;
        for (size_t k = 0; k < plan.chunk(c).size(); k++) {
            const ChunkPlan::Piece &p = plan.chunk(c)[k];
            if (p.rect != last_rect) {
                write_rect_header(out, rects[p.rect], encoding);
                last_rect = p.rect;
                n++;
            }
            const size_t end = buf.piece_end[plan.first_piece(c) + k];
            out.append(bytes.subspan(at, end - at));
            at = end;
        }
    }
    return n;
}

} // namespace qvnc::vnc::enc
