// The HTTP side of a WebSocket upgrade (RFC 6455 §4), as QEMU answers it
// (io/channel-websock.c): GET with Host, Upgrade: websocket, Connection:
// Upgrade, a 24-character Sec-WebSocket-Key and version 13; at most 32
// headers, all within 4096 bytes.  Sec-WebSocket-Protocol is optional (noVNC
// 1.7 sends none); when present it must list "binary", which is echoed.
#pragma once

#include <string>
#include <string_view>

namespace qvnc::ws {

struct HandshakeResult {
    enum class Kind { NeedMore, Accept, Reject } kind = Kind::NeedMore;
    size_t consumed = 0;     // bytes of the request (Accept)
    std::string response;    // what to send back (Accept and Reject)
    std::string reason;      // why it was rejected, for the log
};

// Looks at the bytes received so far.
HandshakeResult process_handshake(std::string_view received);

// base64(SHA-1(key + the RFC 6455 GUID)), with glib's SHA-1 and base64.
std::string accept_key(std::string_view client_key);

} // namespace qvnc::ws
