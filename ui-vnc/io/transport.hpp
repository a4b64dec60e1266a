// A byte transport under the RFB connection.  Layers (socket, later TLS and
// the SASL security layer) each own the layer below, so the protocol code
// never knows which are present.  All calls are non-blocking.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

namespace qvnc::io {

enum class IoStatus { Ok, WouldBlock, Eof, Error };

struct IoResult {
    IoStatus status = IoStatus::Ok;
    size_t n = 0;        // bytes moved when Ok
    std::string error;   // when Error
};

class Transport {
public:
    virtual ~Transport() = default;
    virtual IoResult read(std::span<uint8_t> buf) = 0;
    virtual IoResult write(std::span<const uint8_t> buf) = 0;
    // Writes the pieces in order, as much as the layer takes, in one call
    // where the layer can gather (the plain socket: one sendmsg instead of
    // a write per piece).  Layers that cannot write only the first piece;
    // either way r.n counts bytes from the start of the first.
    virtual IoResult write_vec(std::span<const std::span<const uint8_t>> pieces)
    {
        return write(pieces.empty() ? std::span<const uint8_t>() : pieces.front());
    }
    // The socket to watch for readiness.
    virtual int fd() const = 0;
    // Bytes already decrypted/buffered inside the layer: the caller must read
    // again even though the socket is not readable.
    virtual bool has_buffered_input() const { return false; }
    // Output accepted by write() but not yet on the socket: the caller must
    // keep watching for writability and call write({}) to push it.
    virtual bool has_pending_output() const { return false; }
    // Half-close: no more writes; reads still drain.
    virtual void shutdown() = 0;
};

} // namespace qvnc::io
