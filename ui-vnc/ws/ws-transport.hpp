// WebSocket framing as a transport layer: RFB runs inside binary frames.
#pragma once

#include <memory>
#include <string>

#include "transport.hpp"
#include "ws-frame.hpp"

namespace qvnc::io {

class WebsocketTransport final : public Transport {
public:
    explicit WebsocketTransport(std::unique_ptr<Transport> inner) : inner_(std::move(inner)) {}

    IoResult read(std::span<uint8_t> buf) override;
    IoResult write(std::span<const uint8_t> buf) override;
    int fd() const override { return inner_->fd(); }
    bool has_buffered_input() const override
    {
        return data_off_ < data_.size() || inner_->has_buffered_input();
    }
    bool has_pending_output() const override { return sent_ < pending_.size(); }
    void shutdown() override;

private:
    IoResult flush_pending();

    std::unique_ptr<Transport> inner_;
    ws::FrameDecoder decoder_;
    std::string data_;
    size_t data_off_ = 0;
    bool peer_closed_ = false;
    std::string pending_; // encoded frames not yet on the socket
    size_t sent_ = 0;
};

} // namespace qvnc::io
