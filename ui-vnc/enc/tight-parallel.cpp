// Tight's parallel path for one big update (chunks.hpp):
//  1. the pieces encode() would write are grouped into chunks, and each
//     chunk is coded by a slot's own TightEncoder in deferred mode: fills,
//     JPEG and the headers go into the chunk's bytes as usual, but data for
//     a zlib stream is only recorded (Deferred);
//  2. each stream's records, in wire order, are compressed in tasks (one
//     per stream and chunk), all in parallel: a stream's first task by the
//     connection's own Deflater (its real history, and its header on first
//     use), later ones by a slot's Deflater primed with the record before;
//  3. each connection stream takes the last 32 KiB as its history, and the
//     chunks' bytes are written with the compressed data spliced in.
#include <algorithm>

#include "chunks.hpp"
#include "tight.hpp"

namespace qvnc::vnc {

struct TightEncoder::Slot {
    explicit Slot(bool png) : coder(png) {}
    TightEncoder coder;     // deferred mode
    enc::Deflater z{false}; // a task's compressor
};

struct TightEncoder::Parallel {
    std::vector<Rect> pieces; // encode()'s cut of the update
    enc::ChunkPlan plan;
    std::vector<Chunk> chunks;
    std::vector<std::unique_ptr<Slot>> slots;
    struct Task {
        int stream;
        std::vector<std::pair<size_t, size_t>> records; // (chunk, deferred index)
        std::vector<uint8_t> out;
    };
    std::vector<Task> tasks;
    std::vector<uint8_t> tail;
};

TightEncoder::TightEncoder(bool png) : png_(png) {}
TightEncoder::~TightEncoder() = default;

size_t TightEncoder::encode_rects(std::span<const Rect> rects, const EncodeContext &ctx, io::ByteBuffer &out)
{
    if (png_ || !ctx.pool) {
        // Tight PNG's images have no shared state, but noVNC (its only
        // user) gains little: left on one thread.
        return Encoder::encode_rects(rects, ctx, out);
    }
    if (!par_) {
        par_ = std::make_unique<Parallel>();
    }
    Parallel &p = *par_;
    p.pieces.clear();
    for (const Rect &r : rects) {
        if (r.empty()) {
            return Encoder::encode_rects(rects, ctx, out);
        }
        const int pw = std::min(r.w, kMaxWidth);
        const int ph = piece_height(pw);
        for (int y = r.y; y < r.bottom(); y += ph) {
            for (int x = r.x; x < r.right(); x += pw) {
                p.pieces.push_back(Rect{x, y, std::min(pw, r.right() - x), std::min(ph, r.bottom() - y)});
            }
        }
    }
    // Every piece is one band (its height is a multiple of nothing smaller).
    if (!p.plan.plan(p.pieces, kMaxArea, ctx)) {
        return Encoder::encode_rects(rects, ctx, out);
    }
    const size_t nchunks = p.plan.chunks();
    if (p.chunks.size() < nchunks) {
        p.chunks.resize(nchunks);
    }
    while (p.slots.size() < static_cast<size_t>(enc::parallel_slots(ctx))) {
        p.slots.push_back(std::make_unique<Slot>(png_));
    }

    // 1. Code the pieces; stream data is recorded, not compressed.
    enc::run_parallel(ctx, nchunks, [&](size_t c, int slot) {
        Chunk &ch = p.chunks[c];
        ch.bytes.clear();
        ch.data.clear();
        ch.deferred.clear();
        TightEncoder &coder = p.slots[static_cast<size_t>(slot)]->coder;
        coder.defer_ = &ch;
        for (const enc::ChunkPlan::Piece &piece : p.plan.chunk(c)) {
            coder.encode_one(piece.r, ctx, ch.bytes);
        }
        coder.defer_ = nullptr;
    });
    // The slots' coders know nothing of this encoder's pending stream
    // resets: they go into the first rectangle's control byte (every
    // piece starts with its rectangle header, then that byte), before any
    // stream data; step 2 then starts each stream over from z_.
    mark_resets(p.chunks[0].bytes, kRectHeaderSize);
    for (const std::unique_ptr<Slot> &slot : p.slots) {
        slot->coder.take_lossy(lossy_);
    }

    // 2. One task per stream and chunk, in wire order per stream.
    p.tasks.clear();
    for (int s = 0; s < 4; s++) {
        for (size_t c = 0; c < nchunks; c++) {
            bool opened = false;
            for (size_t d = 0; d < p.chunks[c].deferred.size(); d++) {
                Deferred &rec = p.chunks[c].deferred[d];
                if (rec.stream != s) {
                    continue;
                }
                if (!opened) {
                    p.tasks.push_back(Parallel::Task{s, {}, {}});
                    opened = true;
                }
                rec.task = p.tasks.size() - 1;
                p.tasks.back().records.emplace_back(c, d);
            }
        }
    }
    auto data_of = [&](const std::pair<size_t, size_t> &cd) {
        const Chunk &ch = p.chunks[cd.first];
        const Deferred &rec = ch.deferred[cd.second];
        return std::span<const uint8_t>(ch.data.data() + rec.data_begin, rec.data_end - rec.data_begin);
    };
    enc::run_parallel(ctx, p.tasks.size(), [&](size_t t, int slot) {
        Parallel::Task &task = p.tasks[t];
        const bool first = t == 0 || p.tasks[t - 1].stream != task.stream;
        const Deferred &head = p.chunks[task.records[0].first].deferred[task.records[0].second];
        enc::Deflater &z = first ? z_[task.stream] : p.slots[static_cast<size_t>(slot)]->z;
        if (first) {
            z.set_level(head.level, head.strategy);
            z.clear_output();
        } else {
            z.restart(head.level, head.strategy, data_of(p.tasks[t - 1].records.back()));
        }
        for (const auto &cd : task.records) {
            Deferred &rec = p.chunks[cd.first].deferred[cd.second];
            const std::span<const uint8_t> d = data_of(cd);
            // A stream's records may differ (small gradient pieces, see
            // send_data); each follows a flush, so this only switches.
            z.set_level(rec.level, rec.strategy);
            rec.comp_begin = z.output_size();
            z.feed(d.data(), d.size());
            z.sync_flush();
            rec.comp_end = z.output_size();
        }
        task.out.assign(z.output_data(), z.output_data() + z.output_size());
    });

    // 3. Each stream that other Deflaters continued takes their last
    // 32 KiB (or all of it) as its history.
    for (size_t t = 0; t < p.tasks.size();) {
        size_t end = t + 1;
        while (end < p.tasks.size() && p.tasks[end].stream == p.tasks[t].stream) {
            end++;
        }
        p.tail.clear();
        for (size_t k = end; k-- > t + 1 && p.tail.size() < enc::Deflater::kWindow;) {
            const auto &recs = p.tasks[k].records;
            for (size_t i = recs.size(); i-- > 0 && p.tail.size() < enc::Deflater::kWindow;) {
                const std::span<const uint8_t> d = data_of(recs[i]);
                const size_t take = std::min(d.size(), enc::Deflater::kWindow - p.tail.size());
                p.tail.insert(p.tail.begin(), d.end() - static_cast<std::ptrdiff_t>(take), d.end());
            }
        }
        z_[p.tasks[t].stream].continue_after(p.tail);
        t = end;
    }

    for (size_t c = 0; c < nchunks; c++) {
        const Chunk &ch = p.chunks[c];
        const std::span<const uint8_t> bytes = ch.bytes.data();
        size_t at = 0;
        for (const Deferred &rec : ch.deferred) {
            out.append(bytes.subspan(at, rec.at - at));
            at = rec.at;
            const std::vector<uint8_t> &comp = p.tasks[rec.task].out;
            put_compact_length(out, rec.comp_end - rec.comp_begin);
            out.append({comp.data() + rec.comp_begin, rec.comp_end - rec.comp_begin});
        }
        out.append(bytes.subspan(at));
    }
    return p.pieces.size();
}

} // namespace qvnc::vnc
