// The bottom transport: a connected, non-blocking stream socket it owns.
#pragma once

#include "transport.hpp"
#include "unique-fd.hpp"

namespace qvnc::io {

// Bytes the kernel holds in fd's send queue, not yet acknowledged by the
// peer (SIOCOUTQ); 0 when the socket cannot say.
size_t unacked_output(int fd);

class SocketTransport final : public Transport {
public:
    explicit SocketTransport(UniqueFd fd);
    IoResult read(std::span<uint8_t> buf) override;
    IoResult write(std::span<const uint8_t> buf) override;
    IoResult write_vec(std::span<const std::span<const uint8_t>> pieces) override;
    int fd() const override { return fd_.get(); }
    void shutdown() override;

private:
    UniqueFd fd_;
};

} // namespace qvnc::io
