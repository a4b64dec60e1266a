// Pixel updates are encoded off the event loop.  A job carries everything
// the encoder reads, by value: the server copy's pixels shared copy-on-write
// (or a snapshot of the rectangles' pixels, lend_pixels), the
// client's format and converter, and the connection's Encoder itself (its
// zlib streams) moved in for the duration and moved back when the job is
// done.  One job per connection is in flight at a time, so the streams
// stay in order; while it runs, damage and requests just accumulate.
#include "byte-writer.hpp"
#include "chunks.hpp"
#include "connection.hpp"
#include "encode-job.hpp"
#include "protocol.hpp"
#include "raw.hpp"
#include "server.hpp"
#include "worker-pool.hpp"

namespace qvnc::vnc {

void encode_update(Encoder &encoder, const EncodeContext &ectx, std::span<const std::pair<Rect, Rect>> copies,
                   std::span<const Rect> rects, io::ByteBuffer &out)
{
    io::ByteWriter w(out);
    auto header = [&] {
        w.u8(static_cast<uint8_t>(rfb::ServerMsg::FramebufferUpdate)).u8(0).u16(0);
        return out.size() - 2; // where the count goes
    };
    size_t count_at = header();
    size_t n = 0;
    // Copies first, in the order the guest made them.
    for (const auto &[src, dst] : copies) {
        write_rect_header(out, dst, rfb::enc::CopyRect);
        w.u16(static_cast<uint16_t>(src.x)).u16(static_cast<uint16_t>(src.y));
        n++;
    }
    for (size_t i = 0; i < rects.size();) {
        // The count is a u16: start another update before it could
        // overflow (a hostile damage pattern gives ~170000 rectangles).
        if (n > 0 && n + encoder.max_rects(rects[i]) > 0xFFFF) {
            out.patch_u16(count_at, static_cast<uint16_t>(n));
            count_at = header();
            n = 0;
        }
        // As many rectangles as surely fit go to the encoder at once, so
        // that it can spread a big update over threads.
        size_t end = i + 1, worst = n + encoder.max_rects(rects[i]);
        while (end < rects.size() && worst + encoder.max_rects(rects[end]) <= 0xFFFF) {
            worst += encoder.max_rects(rects[end++]);
        }
        n += encoder.encode_rects(rects.subspan(i, end - i), ectx, out);
        i = end;
    }
    out.patch_u16(count_at, static_cast<uint16_t>(n));
}

void encode_update(EncodeJob &job)
{
    const ServerFramebuffer &fb = job.reads_in_place ? job.in_place : job.snapshot;
    const EncodeContext ectx{fb,                job.pf,    *job.conv, job.compress_level,
                             job.quality_level, job.lossy, job.pool, job.adaptive ? &job.freq : nullptr};
    encode_update(*job.encoder, ectx, job.copies, job.rects, job.out);
    job.lossy_rects.clear();
    job.encoder->take_lossy(job.lossy_rects);
}

void lend_pixels(EncodeJob &job, const ServerFramebuffer &fb, bool in_place, std::span<const Rect> rects)
{
    job.reads_in_place = in_place;
    if (in_place) {
        job.in_place.share_from(fb);
    } else {
        job.snapshot.copy_rects_from(fb, rects);
    }
}

void return_pixels(EncodeJob &job)
{
    job.in_place.release();
}

void set_adaptive(EncodeJob &job, const TileFreq *freq)
{
    job.adaptive = freq != nullptr;
    if (freq) {
        job.freq = *freq; // a few hundred floats; vectors keep their capacity
    }
}

std::unique_ptr<Encoder> Connection::take_encoder(int32_t encoding)
{
    auto it = encoders_.find(encoding);
    if (it != encoders_.end() && it->second) {
        // The slot stays (empty) so putting the encoder back allocates
        // nothing.
        return std::move(it->second);
    }
    std::unique_ptr<Encoder> e = make_encoder(encoding);
    if (!e) {
        e = std::make_unique<RawEncoder>();
    }
    return e;
}

void Connection::start_encode()
{
    own_encoder_used_ = true;
    own_updates_++;
    // A tiny update (a cursor's few blocks) costs less to encode than to
    // hand to a worker and back: snapshot copy, two thread wakeups and a
    // loop iteration before its bytes go out.  It is encoded right here
    // from the server copy, straight into the output queue.
    size_t pixels = 0;
    for (const Rect &r : rects_) {
        pixels += static_cast<size_t>(r.w) * static_cast<size_t>(r.h);
    }
    if (encode_inline(caps_.encoding, pixels)) {
        std::unique_ptr<Encoder> &slot = encoders_[caps_.encoding];
        if (!slot) {
            slot = take_encoder(caps_.encoding);
        }
        // A big update here is Raw: its rows are converted into the queue
        // by the pool's threads too (RawEncoder::encode_rects).
        work::WorkerPool *pool = pixels >= enc::kParallelMinPixels ? &server_.workers() : nullptr;
        const EncodeContext ectx{server_.framebuffer(), caps_.pf, *converter_, caps_.compress_level,
                                 caps_.quality_level, server_.config().lossy, pool, server_.tile_freq()};
        encode_update(*slot, ectx, copies_, rects_, out_);
        rects_.clear();
        copies_.clear();
        lossy_rects_.clear();
        slot->take_lossy(lossy_rects_);
        mark_lossy(lossy_rects_);
        return;
    }
    if (!job_) {
        job_ = std::make_shared<EncodeJob>();
    }
    EncodeJob &j = *job_;
    j.key = caps_.encoding;
    j.encoder = take_encoder(caps_.encoding);
    server_.lend_pixels(j, rects_);
    j.pf = caps_.pf;
    j.conv = converter_;
    j.compress_level = caps_.compress_level;
    j.quality_level = caps_.quality_level;
    j.lossy = server_.config().lossy;
    j.pool = &server_.workers();
    set_adaptive(j, server_.tile_freq());
    // Swaps keep both vectors' capacity for the next update.
    j.rects.swap(rects_);
    j.copies.clear();
    j.copies.swap(copies_);
    j.out.clear();
    encoding_ = true;

    std::shared_ptr<EncodeJob> job = job_;
    std::weak_ptr<int> alive = alive_;
    server_.workers().submit([job] { encode_update(*job); },
                             [this, job, alive, server = &server_] {
                                 // The connection may be gone: the job only
                                 // owns copies, so it is simply dropped (the
                                 // server owns the pool, so it is alive).
                                 if (!alive.expired()) {
                                     finish_encode();
                                 } else {
                                     server->return_pixels(*job);
                                     server->after_jobs({});
                                 }
                             });
}

void Connection::finish_encode()
{
    encoding_ = false;
    EncodeJob &j = *job_;
    server_.return_pixels(j);
    encoders_[j.key] = std::move(j.encoder);
    if (phase_ != Phase::Normal) {
        server_.after_jobs({}); // parked clients may wait for this job
        return;
    }
    // A whole update (8 MB of Raw at 1080p) changes hands instead of being
    // copied on the loop thread; the job keeps the other buffer's capacity.
    if (out_.empty()) {
        out_.swap(j.out);
    } else {
        out_.append(j.out.data());
    }
    j.out.clear();
    mark_lossy(j.lossy_rects);
    ping_after_update();
    queue({}); // the backlog cap and the write
    // What accumulated meanwhile (damage, pseudo-rectangles, a request):
    // shared with clients in step with this one where possible.
    Connection *self = this;
    server_.after_jobs({&self, 1});
}

} // namespace qvnc::vnc
