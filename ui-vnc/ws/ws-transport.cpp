#include "ws-transport.hpp"

#include <algorithm>
#include <cstring>

namespace qvnc::io {

namespace {
// A frame per write, at most this big: bounded latency for the decoder at
// the other end and no giant allocations here.
constexpr size_t kMaxFramePayload = 64 * 1024;
} // namespace

IoResult WebsocketTransport::flush_pending()
{
    while (sent_ < pending_.size()) {
        auto rest = std::span<const uint8_t>(reinterpret_cast<const uint8_t *>(pending_.data()) + sent_,
                                             pending_.size() - sent_);
        IoResult r = inner_->write(rest);
        if (r.status != IoStatus::Ok) {
            return r;
        }
        sent_ += r.n;
    }
    pending_.clear();
    sent_ = 0;
    return {IoStatus::Ok, 0, {}};
}

IoResult WebsocketTransport::read(std::span<uint8_t> buf)
{
    while (data_off_ >= data_.size()) {
        if (peer_closed_) {
            return {IoStatus::Eof, 0, {}};
        }
        data_.clear();
        data_off_ = 0;
        uint8_t raw[8192];
        IoResult r = inner_->read(raw);
        if (r.status != IoStatus::Ok) {
            return r;
        }
        ws::FrameDecoder::Output out;
        decoder_.feed({raw, r.n}, out);
        if (!out.error.empty()) {
            return {IoStatus::Error, 0, "websocket: " + out.error};
        }
        for (const std::string &p : out.pings) {
            ws::encode_frame(ws::Pong, {reinterpret_cast<const uint8_t *>(p.data()), p.size()}, pending_);
        }
        if (!out.pings.empty()) {
            (void)flush_pending(); // the rest goes with the next write
        }
        data_ = std::move(out.data);
        peer_closed_ = out.closed;
    }
    size_t n = std::min(buf.size(), data_.size() - data_off_);
    std::memcpy(buf.data(), data_.data() + data_off_, n);
    data_off_ += n;
    return {IoStatus::Ok, n, {}};
}

IoResult WebsocketTransport::write(std::span<const uint8_t> buf)
{
    IoResult f = flush_pending();
    if (f.status != IoStatus::Ok) {
        return f;
    }
    if (buf.empty()) {
        return {IoStatus::Ok, 0, {}};
    }
    size_t chunk = std::min(buf.size(), kMaxFramePayload);
    ws::encode_frame(ws::Binary, buf.first(chunk), pending_);
    IoResult r = flush_pending();
    if (r.status == IoStatus::Eof || r.status == IoStatus::Error) {
        return r;
    }
    return {IoStatus::Ok, chunk, {}};
}

void WebsocketTransport::shutdown()
{
    std::string close;
    ws::encode_frame(ws::Close, {}, close);
    pending_ += close;
    (void)flush_pending();
    inner_->shutdown();
}

} // namespace qvnc::io
