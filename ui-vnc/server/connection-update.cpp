// FramebufferUpdate construction: pseudo-rectangles and pixel rectangles.
// The pixel rectangles are encoded by a worker (connection-encode.cpp).
#include <malloc.h>

#include "byte-writer.hpp"
#include "connection.hpp"
#include "protocol.hpp"
#include "server.hpp"
#include "socket-transport.hpp"

namespace qvnc::vnc {

namespace {

void rect_header(io::ByteWriter &w, int x, int y, int wd, int ht, int32_t enc)
{
    w.u16(static_cast<uint16_t>(x)).u16(static_cast<uint16_t>(y));
    w.u16(static_cast<uint16_t>(wd)).u16(static_cast<uint16_t>(ht)).s32(enc);
}

void update_header(io::ByteWriter &w, size_t nrects)
{
    w.u8(static_cast<uint8_t>(rfb::ServerMsg::FramebufferUpdate)).u8(0);
    w.u16(static_cast<uint16_t>(nrects));
}

void screen_layout(io::ByteWriter &w, int wd, int ht)
{
    w.u8(1).pad(3);              // one screen
    w.u32(0).u16(0).u16(0);      // id 0 at 0,0
    w.u16(static_cast<uint16_t>(wd)).u16(static_cast<uint16_t>(ht)).u32(0);
}

// Tile-based encodings get their damage in 16-row bands with gaps of up
// to 64 pixels filled (DirtyMap::coarsen): on scrolling text the exact
// block map gives a rectangle per scanline, and each costs ZRLE and Tight
// their per-rectangle and per-tile headers and a poorer zlib match.  Raw
// sends every pixel as is, so it keeps the exact map.  Small updates (a
// cursor's few rectangles) stay exact too: there the extra rows cost more
// than the headers saved (Tight +40% bytes on the cursor workload).
constexpr size_t kCoarsenMinRects = 16;
constexpr int kCoarsenBand = 16;
constexpr int kCoarsenGap = 4;

bool coarsen_damage(int32_t encoding)
{
    switch (encoding) {
    case rfb::enc::Hextile:
    case rfb::enc::Tight:
    case rfb::enc::TightPng:
    case rfb::enc::Zrle:
    case rfb::enc::Zywrle:
        return true;
    default:
        return false;
    }
}

// A Tight viewer that takes JPEG gets a small update's few rectangles as
// their bounding box (up to 128x128 pixels and twice their area): a moving
// cursor leaves a staircase of 16-pixel columns, each too small for JPEG
// (kJpegMinArea) and each a zlib block of its own, whose Huffman trees were
// a third of the server's CPU.  Cursor workload, Tight+JPEG: 14,000 ->
// 21,000-28,000 updates/s at 0.70x the bytes (the box goes as one JPEG).
// Lossless Tight keeps the exact rectangles: as a box its bytes grew 30%.
constexpr long kMergeMaxArea = 128 * 128;
constexpr int kMergeMaxFactor = 2;

bool merge_small_damage(int32_t encoding, bool lossy, int quality_level, const PixelFormat &pf)
{
    return (encoding == rfb::enc::Tight || encoding == rfb::enc::TightPng) && lossy && quality_level >= 0 &&
           pf.bpp >= 16;
}

} // namespace

void Connection::add_damage(const DirtyMap &changed)
{
    dirty_.merge(changed);
}

void Connection::mark_lossy(std::span<const Rect> rects)
{
    const TileFreq *f = server_.tile_freq();
    if (!f || rects.empty()) {
        return;
    }
    lossy_tiles_.resize(static_cast<size_t>(f->cols) * f->rows);
    for (const Rect &r : rects) {
        f->for_tiles(r, [this](size_t i) { lossy_tiles_[i] = 1; });
    }
}

bool Connection::refresh_lossy(std::span<const int> idle_tiles, const UpdateStats &stats)
{
    bool any = false;
    for (int i : idle_tiles) {
        if (static_cast<size_t>(i) < lossy_tiles_.size() && lossy_tiles_[static_cast<size_t>(i)]) {
            lossy_tiles_[static_cast<size_t>(i)] = 0;
            dirty_.mark(stats.tile_rect(i));
            any = true;
        }
    }
    return any;
}

void Connection::surface_changed()
{
    lossy_tiles_.clear(); // everything is sent again anyway
    dirty_ = DirtyMap(server_.width(), server_.height());
    dirty_.mark_all();
    copies_.clear();
    pending_resize_ = caps_.desktop_size || caps_.ext_desktop_size;
    if (phase_ == Phase::Normal) {
        rebuild_converter();
    }
}

void Connection::cursor_changed()
{
    pending_cursor_ = caps_.rich_cursor || caps_.alpha_cursor;
}

void Connection::write_cursor(io::ByteWriter &w)
{
    const Cursor &c = server_.cursor();
    const size_t n = static_cast<size_t>(c.width) * c.height;
    if (caps_.alpha_cursor) {
        // Cursor With Alpha: Raw RGBA bytes, premultiplied.
        rect_header(w, c.hot_x, c.hot_y, c.width, c.height, rfb::enc::AlphaCursor);
        w.s32(rfb::enc::Raw);
        for (size_t i = 0; i < n; i++) {
            uint32_t p = c.argb[i];
            uint32_t a = p >> 24;
            auto pm = [a](uint32_t v) { return static_cast<uint8_t>((v * a + 127) / 255); };
            w.u8(pm((p >> 16) & 0xFF)).u8(pm((p >> 8) & 0xFF)).u8(pm(p & 0xFF)).u8(static_cast<uint8_t>(a));
        }
        return;
    }
    rect_header(w, c.hot_x, c.hot_y, c.width, c.height, rfb::enc::RichCursor);
    Result<PixelConverter> conv = PixelConverter::make(kArgbFormat, caps_.pf);
    std::vector<uint8_t> row(static_cast<size_t>(c.width) * caps_.pf.bytes_per_pixel());
    for (int y = 0; y < c.height; y++) {
        const uint32_t *src = &c.argb[static_cast<size_t>(y) * c.width];
        conv->convert(reinterpret_cast<const uint8_t *>(src), c.width, row.data());
        w.bytes(row);
    }
    // Mask: one bit per pixel, MSB first, rows padded to bytes; a pixel
    // counts as visible from half opacity on.
    for (int y = 0; y < c.height; y++) {
        for (int x = 0; x < c.width; x += 8) {
            uint8_t bits = 0;
            for (int b = 0; b < 8 && x + b < c.width; b++) {
                if ((c.argb[static_cast<size_t>(y) * c.width + x + b] >> 24) >= 128) {
                    bits |= static_cast<uint8_t>(0x80 >> b);
                }
            }
            w.u8(bits);
        }
    }
}

void Connection::pointer_mode_changed()
{
    pending_pointer_type_ = caps_.pointer_type_change;
}

void Connection::name_changed()
{
    pending_name_ = caps_.desktop_name;
}

void Connection::copy_rect(const Rect &src, const Rect &dst)
{
    // A CopyRect is valid only when the client already shows the source:
    // nothing pending there, no resize in flight.
    if (takes_copies() && !pending_resize_ && !dirty_.any_in(src) &&
        contains(Rect{0, 0, client_w_, client_h_}, dst) && copies_.size() < 64) {
        copies_.emplace_back(src, dst);
        // A source sent lossy (JPEG) brings its artefacts along: dst is
        // then lossy too, for the lossless refresh of idle tiles.
        if (lossy_in(src)) {
            const Rect d[1] = {dst};
            mark_lossy(d);
        }
    } else {
        dirty_.mark(dst);
    }
}

bool Connection::takes_copies() const
{
    return phase_ == Phase::Normal && caps_.copy_rect;
}

bool Connection::lossy_in(const Rect &r) const
{
    const TileFreq *f = server_.tile_freq();
    if (!f || lossy_tiles_.empty()) {
        return false;
    }
    bool any = false;
    f->for_tiles(r, [&](size_t i) { any = any || (i < lossy_tiles_.size() && lossy_tiles_[i]); });
    return any;
}

void Connection::led_state_changed()
{
    pending_led_ = caps_.led_state;
}

void Connection::bell()
{
    if (phase_ == Phase::Normal) {
        const uint8_t msg[1] = {static_cast<uint8_t>(rfb::ServerMsg::Bell)};
        queue(msg);
    }
}

void Connection::try_send_update()
{
    // While a job encodes (connection-encode.cpp), everything waits for
    // it: its update must go out first, and it holds the encoder.
    if (phase_ != Phase::Normal || !converter_ || encoding_) {
        return;
    }
    // Throttle (CVE-2017-15124): while the client has not taken a frame's
    // worth of output, hold further updates; damage keeps accumulating.
    if (output_backlog() > throttle_limit()) {
        return;
    }
    // Likewise while a continuous-updates client has more than its window
    // unanswered: an answer (on_fence) brings us back here.
    if (flow_held()) {
        watch_flow_stall();
        return;
    }
    // Damage and a request meet here or in Server::refresh, whichever comes
    // second: guest damage not compared yet is pulled now, so a request
    // never waits for a refresh pass.
    if (update_requested_ && server_.damage_pending()) {
        server_.pull_damage();
    }
    // A client of the same settings is encoding: its job ends soon, and
    // then both are likely ready for the same damage (share-pass.hpp), so
    // wait for it once rather than encode alone.
    if (!parked_ && server_.share_peer_busy(*this)) {
        parked_ = true;
        return;
    }
    parked_ = false;
    write_update();
    // Still waiting and nothing left (nor in an encode job, which continuous
    // updates leave the request standing for): a demand-driven guest may
    // draw now.
    if (update_requested_ && !encoding_ && !dirty_.any() && copies_.empty() &&
        !server_.damage_pending()) {
        server_.notify_update_wanted();
    }
}

void Connection::write_update()
{
    // Written straight into the output queue: no per-update buffer and no
    // second copy of the pixel data.
    const size_t start = out_.size();
    write_pseudo();
    if (update_requested_ && (dirty_.any() || !copies_.empty())) {
        take_update_rects(rects_);
        if (!rects_.empty() || !copies_.empty()) {
            // Continuous updates keep the request standing.
            update_requested_ = cu_enabled_;
            force_update_ = false;
            start_encode();
            if (!encoding_) {
                ping_after_update(); // encoded inline: it is all queued
            }
        }
    }
    if (out_.size() != start) {
        queue({}); // the backlog cap and the write
    }
}

void Connection::write_pseudo()
{
    io::ByteBuffer &out = out_;
    io::ByteWriter w(out);
    const int fw = server_.width(), fh = server_.height();

    if (pending_colour_map_) {
        write_bgr233_colour_map(w);
        pending_colour_map_ = false;
    }

    // Pseudo-rectangles QEMU sends outside of requests (acks, cursor, size).
    size_t npseudo = 0;
    bool ack_key = pending_ext_key_ack_, ptr = pending_pointer_type_;
    bool cursor = pending_cursor_ && server_.cursor().defined() && (caps_.rich_cursor || caps_.alpha_cursor);
    bool name = pending_name_ && caps_.desktop_name;
    bool resize = pending_resize_ && (caps_.desktop_size || caps_.ext_desktop_size);
    bool reply = desktop_size_reply_.has_value();
    bool led = pending_led_ && caps_.led_state;
    bool ack_audio = pending_audio_ack_;
    npseudo = ack_key + ptr + cursor + name + resize + reply + led + ack_audio;
    if (npseudo > 0) {
        update_header(w, npseudo);
        if (ack_key) {
            rect_header(w, 0, 0, fw, fh, rfb::enc::QemuExtKeyEvent);
        }
        if (ack_audio) {
            rect_header(w, 0, 0, fw, fh, rfb::enc::QemuAudio);
        }
        if (ptr) {
            rect_header(w, server_.pointer_absolute() ? 1 : 0, 0, fw, fh,
                        rfb::enc::PointerTypeChange);
        }
        if (name) {
            std::string n = server_.desktop_name();
            rect_header(w, 0, 0, 0, 0, rfb::enc::DesktopName);
            w.u32(static_cast<uint32_t>(n.size())).text(n);
        }
        if (cursor) {
            write_cursor(w);
        }
        if (led) {
            rect_header(w, 0, 0, 1, 1, rfb::enc::LedState);
            w.u8(static_cast<uint8_t>(server_.led_state()));
        }
        if (reply) {
            // Answer to this client's SetDesktopSize: reason 1 + status.
            rect_header(w, 1, desktop_size_reply_->status, fw, fh, rfb::enc::ExtendedDesktopSize);
            screen_layout(w, fw, fh);
        } else if (resize) {
            if (caps_.ext_desktop_size) {
                rect_header(w, 0, 0, fw, fh, rfb::enc::ExtendedDesktopSize);
                screen_layout(w, fw, fh);
            } else {
                rect_header(w, 0, 0, fw, fh, rfb::enc::DesktopSize);
            }
        }
        pending_ext_key_ack_ = pending_pointer_type_ = pending_cursor_ = pending_name_ = false;
        pending_led_ = false;
        pending_audio_ack_ = false;
        desktop_size_reply_.reset();
        if (resize || reply) {
            pending_resize_ = false;
            client_w_ = fw;
            client_h_ = fh;
        }
    }

}

void Connection::take_update_rects(std::vector<Rect> &rects)
{
    Rect area{0, 0, client_w_, client_h_};
    if (cu_enabled_) {
        area = intersect(area, cu_region_);
    }
    dirty_.take_rects(area, rects);
    if (rects.size() > kCoarsenMinRects && coarsen_damage(caps_.encoding)) {
        // Put the damage back and take it again coarsened.
        for (const Rect &r : rects) {
            dirty_.mark(r);
        }
        dirty_.coarsen(kCoarsenBand, kCoarsenGap, area.y, area.bottom());
        dirty_.take_rects(area, rects);
    } else if (merge_small_damage(caps_.encoding, server_.config().lossy, caps_.quality_level, caps_.pf)) {
        merge_to_bounding_box(rects, kMergeMaxArea, kMergeMaxFactor);
    }
}

std::optional<ShareKey> Connection::share_key()
{
    if (phase_ != Phase::Normal || !converter_ || encoding_ || !update_requested_ ||
        output_backlog() > throttle_limit() || flow_held() || !copies_.empty() || pending_resize_ ||
        client_w_ != server_.width() || client_h_ != server_.height()) {
        return std::nullopt;
    }
    const Rect screen{0, 0, client_w_, client_h_};
    if ((cu_enabled_ && !contains(cu_region_, screen)) || !dirty_.any()) {
        return std::nullopt;
    }
    std::unique_ptr<Encoder> &slot = encoders_[caps_.encoding];
    if (!slot) {
        slot = take_encoder(caps_.encoding);
    }
    if (slot->encoding() != caps_.encoding || !slot->accepts_shared()) {
        return std::nullopt;
    }
    return ShareKey{caps_.encoding, caps_.pf, caps_.compress_level, caps_.quality_level};
}

void Connection::begin_shared_update(std::vector<Rect> *rects)
{
    const size_t start = out_.size();
    write_pseudo();
    if (rects) {
        take_update_rects(*rects);
    } else {
        // A member: its damage is part of the leader's, whose rectangles
        // it is sent (SharePass::run), and a shared update covers the whole
        // screen (share_key), so its map is simply emptied.  Taking its own
        // rectangles only to drop them (a sweep of the map and, for tile
        // encodings, a coarsened second one) was a fifth of the server's
        // CPU with 64 Hextile viewers of a 1080p desktop.
        dirty_.clear();
    }
    rects_.clear();
    shared_updates_++;
    update_requested_ = cu_enabled_;
    force_update_ = false;
    encoding_ = true;
    parked_ = false;
    if (out_.size() != start) {
        queue({});
    }
}

void Connection::trim_heap()
{
#ifdef __GLIBC__
    // The frame-sized buffers just dropped (a snapshot, an encoder's
    // scratch) came from the heap once glibc raised its mmap threshold
    // after the first big free; without a trim the process keeps them
    // resident: 64 ZRLE viewers of a 1080p desktop, each starting with its
    // own encode, held ~7 MB each (600 MB), 1.1 MB each with it.  Only on
    // a return to sharing, and at most once a second per client (a client
    // going in and out of step at cursor rates must not trim per update).
    const int64_t now = g_get_monotonic_time();
    if (now - last_trim_us_ >= 1'000'000) {
        last_trim_us_ = now;
        malloc_trim(0);
    }
#endif
}

void Connection::watch_flow_stall()
{
    if (flow_timer_) {
        return;
    }
    flow_timer_ = io::add_timeout(server_.main_context(), FlowControl::kStallMs, [this] {
        flow_timer_.reset(); // the source is being removed; drop our handle first
        if (!flow_held()) {
            return false;
        }
        // Our bytes may still be on their way over a slow path: only a
        // client whose TCP took everything, pings included, is not answering.
        if (output_empty() && !transport_->has_pending_output() && io::unacked_output(transport_->fd()) == 0) {
            server_.log_client(QVNC_LOG_WARNING, *this,
                               "no answer to fence requests it has received: flow control off for this client");
            flow_off_ = true;
            try_send_update();
        } else {
            watch_flow_stall();
        }
        return false;
    });
}

void Connection::ping_after_update()
{
    if (flow_active()) {
        append_ping(flow_.after_update(queued_total(), g_get_monotonic_time()));
        if (flow_held()) {
            watch_flow_stall(); // nothing else runs while held
        }
    }
}

bool Connection::encoding_with(const ShareKey &key) const
{
    return encoding_ && caps_.encoding == key.encoding && caps_.pf == key.pf &&
           caps_.compress_level == key.compress_level && caps_.quality_level == key.quality_level;
}

void Connection::finish_shared_update(const std::shared_ptr<const io::ByteBuffer> &bytes, int32_t encoding)
{
    encoding_ = false;
    if (phase_ != Phase::Normal) {
        return;
    }
    auto it = encoders_.find(encoding);
    if (it != encoders_.end() && it->second) {
        if (own_encoder_used_) {
            // A client served by shared encodes has no use for what its own
            // encoder keeps since its last encode (zlib state, a frame's
            // scratch), nor for its job's frame-sized snapshot: a fresh
            // encoder that knows the stream has begun replaces it, once
            // per return to sharing, so memory per viewer stays small.
            if (std::unique_ptr<Encoder> fresh = make_encoder(encoding)) {
                it->second = std::move(fresh);
            }
            own_encoder_used_ = false;
            job_.reset();
            trim_heap();
        }
        it->second->forget_history();
    }
    if (!bytes->empty()) {
        // Queued by reference after what out_ holds now.
        size_t before = out_.size();
        for (const SharedChunk &c : shared_out_) {
            before -= c.before;
        }
        shared_out_.push_back({bytes, before, 0});
        shared_bytes_ += bytes->size();
    }
    ping_after_update();
    queue({}); // the backlog cap and the write
}

} // namespace qvnc::vnc
