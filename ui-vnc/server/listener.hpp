// Listening sockets of a display: inet (with to= port ranges and the
// ipv4/ipv6 restrictions) and unix.  Accepted sockets go to a callback.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "error.hpp"
#include "socket-address.hpp"
#include "source-handle.hpp"
#include "unique-fd.hpp"
#include "vnc-config.hpp"

namespace qvnc::vnc {

class Listener {
public:
    // Gets the accepted socket and the address of the listening socket.
    using AcceptFn = std::function<void(io::UniqueFd, const io::AddressInfo &listener)>;

    // Binds every address `addr` resolves to (one socket per family), on
    // the first port of the range that is free.
    static Result<std::unique_ptr<Listener>> open(GMainContext *ctx, const ListenAddress &addr,
                                                  bool websocket, AcceptFn on_accept);
    Listener() = default;
    ~Listener();

    bool websocket() const { return websocket_; }
    // One entry per bound socket (the first is what query-vnc reports).
    std::vector<io::AddressInfo> addresses() const;

private:
    Status bind_inet(const ListenAddress &addr);
    Status bind_unix(const ListenAddress &addr);
    void watch(GMainContext *ctx);

    struct Socket {
        io::UniqueFd fd;
        io::SourceHandle source;
    };
    std::vector<Socket> sockets_;
    std::string unix_path_; // unlinked on close
    bool websocket_ = false;
    AcceptFn on_accept_;
};

} // namespace qvnc::vnc
