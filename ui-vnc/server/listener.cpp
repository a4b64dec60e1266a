#include "listener.hpp"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cerrno>
#include <cstring>

namespace qvnc::vnc {

namespace {

struct AddrInfoDeleter {
    void operator()(addrinfo *ai) const { freeaddrinfo(ai); }
};
using AddrInfoPtr = std::unique_ptr<addrinfo, AddrInfoDeleter>;

void set_nonblock_cloexec(int fd)
{
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    fcntl(fd, F_SETFD, FD_CLOEXEC);
}

} // namespace

Result<std::unique_ptr<Listener>> Listener::open(GMainContext *ctx, const ListenAddress &addr,
                                                 bool websocket, AcceptFn on_accept)
{
    auto l = std::make_unique<Listener>();
    l->websocket_ = websocket;
    l->on_accept_ = std::move(on_accept);
    Status st = addr.kind == ListenAddress::Kind::Unix ? l->bind_unix(addr) : l->bind_inet(addr);
    if (!st) {
        return st.take_error();
    }
    l->watch(ctx);
    return l;
}

Listener::~Listener()
{
    sockets_.clear();
    if (!unix_path_.empty()) {
        ::unlink(unix_path_.c_str());
    }
}

Status Listener::bind_inet(const ListenAddress &addr)
{
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_ADDRCONFIG;
    hints.ai_family = AF_UNSPEC;
    bool want4 = addr.ipv4.value_or(true), want6 = addr.ipv6.value_or(true);
    // ipv4=on alone (or ipv6=off) restricts the family, as inet_listen does.
    if (addr.ipv4.value_or(false) && !addr.ipv6.value_or(false)) {
        want6 = false;
    }
    if (addr.ipv6.value_or(false) && !addr.ipv4.value_or(false)) {
        want4 = false;
    }
    if (!want4 && !want6) {
        return make_error(ErrorCode::InvalidArg, "Failed to listen: both ipv4 and ipv6 are off");
    }
    const char *host = addr.host.empty() ? nullptr : addr.host.c_str();
    int last = addr.port_to > 0 ? addr.port_to : addr.port;
    std::string last_error = "no address";
    for (int port = addr.port; port <= last; port++) {
        addrinfo *raw = nullptr;
        std::string service = std::to_string(port);
        int rc = getaddrinfo(host, service.c_str(), &hints, &raw);
        if (rc != 0) {
            return make_error(ErrorCode::Io, "address resolution failed for %s:%s: %s",
                              addr.host.c_str(), service.c_str(), gai_strerror(rc));
        }
        AddrInfoPtr list(raw);
        std::vector<Socket> bound;
        bool clash = false;
        for (addrinfo *ai = list.get(); ai; ai = ai->ai_next) {
            if ((ai->ai_family == AF_INET && !want4) || (ai->ai_family == AF_INET6 && !want6)) {
                continue;
            }
            io::UniqueFd fd(::socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol));
            if (!fd.valid()) {
                last_error = std::strerror(errno);
                continue;
            }
            int one = 1;
            setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
            if (ai->ai_family == AF_INET6) {
                // One socket per family, as QEMU does with its socket list.
                setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
            }
            if (::bind(fd.get(), ai->ai_addr, ai->ai_addrlen) != 0) {
                last_error = std::strerror(errno);
                if (errno == EADDRINUSE) {
                    clash = true;
                    break;
                }
                continue;
            }
            if (::listen(fd.get(), 16) != 0) {
                last_error = std::strerror(errno);
                continue;
            }
            set_nonblock_cloexec(fd.get());
            bound.push_back(Socket{std::move(fd), {}});
        }
        if (!clash && !bound.empty()) {
            sockets_ = std::move(bound);
            return ok_status();
        }
    }
    return make_error(ErrorCode::Io, "Failed to bind socket: %s", last_error.c_str());
}

Status Listener::bind_unix(const ListenAddress &addr)
{
    sockaddr_un un{};
    un.sun_family = AF_UNIX;
    if (addr.path.size() >= sizeof un.sun_path) {
        return make_error(ErrorCode::InvalidArg, "UNIX socket path '%s' is too long",
                          addr.path.c_str());
    }
    std::memcpy(un.sun_path, addr.path.c_str(), addr.path.size() + 1);
    io::UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM, 0));
    if (!fd.valid()) {
        return make_error(ErrorCode::Io, "Failed to create socket: %s", std::strerror(errno));
    }
    ::unlink(addr.path.c_str()); // QEMU removes a stale socket file too
    if (::bind(fd.get(), reinterpret_cast<sockaddr *>(&un), sizeof un) != 0 ||
        ::listen(fd.get(), 16) != 0) {
        return make_error(ErrorCode::Io, "Failed to bind socket to %s: %s", addr.path.c_str(),
                          std::strerror(errno));
    }
    set_nonblock_cloexec(fd.get());
    unix_path_ = addr.path;
    sockets_.push_back(Socket{std::move(fd), {}});
    return ok_status();
}

void Listener::watch(GMainContext *ctx)
{
    for (Socket &s : sockets_) {
        int lfd = s.fd.get();
        io::AddressInfo where = io::local_address(lfd);
        s.source = io::add_fd_watch(ctx, lfd, G_IO_IN, [this, lfd, where](GIOCondition) {
            for (;;) {
                int fd = ::accept4(lfd, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
                if (fd < 0) {
                    break; // EAGAIN, or a transient error: try again on the next wakeup
                }
                int one = 1;
                setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                on_accept_(io::UniqueFd(fd), where);
            }
            return true;
        });
    }
}

std::vector<io::AddressInfo> Listener::addresses() const
{
    std::vector<io::AddressInfo> out;
    for (const Socket &s : sockets_) {
        out.push_back(io::local_address(s.fd.get()));
    }
    return out;
}

} // namespace qvnc::vnc
