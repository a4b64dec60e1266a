#include "monitor-stream.hpp"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace qvnc::monitor {

namespace {

constexpr std::size_t kReadChunk = 64 * 1024;

void set_nonblock_cloexec(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0) {
        fcntl(fd, F_SETFL, fl | O_NONBLOCK);
    }
    int fdfl = fcntl(fd, F_GETFD);
    if (fdfl >= 0) {
        fcntl(fd, F_SETFD, fdfl | FD_CLOEXEC);
    }
}

Error sys_error(const std::string &what, int err)
{
    return Error{ErrorCode::Io, what + ": " + std::strerror(err)};
}

// Blocking write of all of `bytes` to a descriptor another party may have
// made non-blocking (stdout): EAGAIN waits for POLLOUT.
void write_all(int fd, std::string_view bytes)
{
    while (!bytes.empty()) {
        ssize_t n = ::write(fd, bytes.data(), bytes.size());
        if (n > 0) {
            bytes.remove_prefix(static_cast<std::size_t>(n));
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            pollfd p{fd, POLLOUT, 0};
            if (poll(&p, 1, 1000) <= 0) {
                return; // stuck for a second: drop the rest
            }
        } else {
            return;
        }
    }
}

} // namespace

Stream::Stream(GMainContext *ctx, io::UniqueFd fd, bool stdio)
    : ctx_(ctx), fd_(std::move(fd)), stdio_(stdio)
{
}

std::unique_ptr<Stream> Stream::socket(GMainContext *ctx, io::UniqueFd fd)
{
    set_nonblock_cloexec(fd.get());
    return std::unique_ptr<Stream>(new Stream(ctx, std::move(fd), false));
}

std::unique_ptr<Stream> Stream::stdio(GMainContext *ctx)
{
    io::UniqueFd in(fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3));
    std::unique_ptr<Stream> s(new Stream(ctx, std::move(in), true));
    if (isatty(STDIN_FILENO)) {
        auto saved = std::make_unique<struct termios>();
        if (tcgetattr(STDIN_FILENO, saved.get()) == 0) {
            struct termios raw = *saved;
            // Character at a time, no kernel echo (the monitor echoes as
            // QEMU's readline does); signals keep working.
            raw.c_lflag &= static_cast<tcflag_t>(~(ICANON | ECHO | ECHONL));
            raw.c_cc[VMIN] = 1;
            raw.c_cc[VTIME] = 0;
            if (tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0) {
                s->saved_tty_ = std::move(saved);
            }
        }
    }
    return s;
}

Stream::~Stream()
{
    watch_.reset();
    if (saved_tty_) {
        tcsetattr(STDIN_FILENO, TCSANOW, saved_tty_.get());
    }
}

void Stream::start(InputFn on_input, ClosedFn on_closed)
{
    on_input_ = std::move(on_input);
    on_closed_ = std::move(on_closed);
    started_ = true;
    if (!fd_.valid()) {
        fail();
        return;
    }
    update_watch();
}

void Stream::close()
{
    closed_ = true;
    watch_.reset();
    watch_cond_ = static_cast<GIOCondition>(0);
    out_.clear();
}

void Stream::fail()
{
    if (closed_) {
        return;
    }
    close();
    if (on_closed_) {
        ClosedFn cb = on_closed_;
        cb();
    }
}

void Stream::write(std::string_view bytes)
{
    if (closed_ || bytes.empty()) {
        return;
    }
    if (stdio_) {
        write_all(STDOUT_FILENO, bytes);
        return;
    }
    out_.append(bytes);
    if (out_.size() > kMaxOutput) {
        fail(); // the peer does not read its replies
        return;
    }
    try_flush();
    if (!closed_ && started_) {
        update_watch();
    }
}

void Stream::try_flush()
{
    while (!closed_ && !out_.empty()) {
        ssize_t n = ::send(fd_.get(), out_.data(), out_.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            out_.erase(0, static_cast<std::size_t>(n));
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            return;
        } else {
            fail(); // EPIPE, ECONNRESET: the peer is gone
            return;
        }
    }
}

void Stream::flush(int timeout_ms)
{
    gint64 deadline = g_get_monotonic_time() + static_cast<gint64>(timeout_ms) * 1000;
    while (!closed_ && !out_.empty()) {
        try_flush();
        if (closed_ || out_.empty()) {
            break;
        }
        gint64 left = (deadline - g_get_monotonic_time()) / 1000;
        if (left <= 0) {
            break;
        }
        pollfd p{fd_.get(), POLLOUT, 0};
        if (poll(&p, 1, static_cast<int>(left)) <= 0) {
            break;
        }
    }
}

void Stream::update_watch()
{
    if (closed_) {
        return;
    }
    unsigned want = 0;
    if (stdio_ || out_.size() <= kPauseInput) {
        want |= G_IO_IN | G_IO_HUP | G_IO_ERR;
    }
    if (!stdio_ && !out_.empty()) {
        want |= G_IO_OUT | G_IO_HUP | G_IO_ERR;
    }
    auto cond = static_cast<GIOCondition>(want);
    if (watch_ && cond == watch_cond_) {
        return;
    }
    watch_.reset();
    watch_cond_ = cond;
    if (want) {
        watch_ = io::add_fd_watch(ctx_, fd_.get(), cond, [this](GIOCondition c) { return on_io(c); });
    }
}

bool Stream::on_io(GIOCondition cond)
{
    if (cond & G_IO_OUT) {
        try_flush();
    }
    if (!closed_ && (cond & (G_IO_IN | G_IO_HUP | G_IO_ERR)) && (watch_cond_ & G_IO_IN)) {
        read_input();
    } else if (!closed_ && (cond & (G_IO_HUP | G_IO_ERR)) && out_.empty()) {
        fail();
    }
    if (closed_) {
        return false;
    }
    update_watch();
    return true;
}

void Stream::read_input()
{
    std::string buf(kReadChunk, '\0');
    std::vector<io::UniqueFd> fds;
    ssize_t n;
    if (stdio_) {
        n = ::read(fd_.get(), buf.data(), buf.size());
    } else {
        alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFdsPerRead)];
        iovec iov{buf.data(), buf.size()};
        msghdr msg{};
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control;
        msg.msg_controllen = sizeof(control);
        n = ::recvmsg(fd_.get(), &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
        if (n >= 0) {
            for (cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
                if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) {
                    continue;
                }
                std::size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                for (std::size_t i = 0; i < count; ++i) {
                    int fd;
                    std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
                    fds.emplace_back(fd);
                }
            }
        }
    }
    if (n < 0) {
        if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) {
            return;
        }
        fail();
        return;
    }
    if (n == 0) {
        fail(); // end of file: the peer went away
        return;
    }
    buf.resize(static_cast<std::size_t>(n));
    if (on_input_) {
        on_input_(buf, fds);
    }
}

// ---- socket set-up ----------------------------------------------------------

Result<io::UniqueFd> listen_unix(const std::string &path)
{
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    if (path.empty() || path.size() >= sizeof(sa.sun_path)) {
        return make_error(ErrorCode::InvalidArg, "UNIX socket path '%s' is too long", path.c_str());
    }
    std::memcpy(sa.sun_path, path.c_str(), path.size() + 1);
    io::UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd.valid()) {
        return sys_error("Failed to create socket", errno);
    }
    // QEMU replaces a stale socket file.
    ::unlink(path.c_str());
    if (::bind(fd.get(), reinterpret_cast<sockaddr *>(&sa), sizeof(sa)) < 0) {
        return sys_error("Failed to bind socket to " + path, errno);
    }
    if (::listen(fd.get(), 4) < 0) {
        return sys_error("Failed to listen on socket", errno);
    }
    set_nonblock_cloexec(fd.get());
    return fd;
}

Result<io::UniqueFd> listen_tcp(const std::string &host, const std::string &port,
                                std::optional<bool> ipv4, std::optional<bool> ipv6)
{
    addrinfo hints{};
    hints.ai_flags = AI_PASSIVE;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_family = AF_UNSPEC;
    if (ipv4.value_or(false) && !ipv6.value_or(false)) {
        hints.ai_family = AF_INET;
    } else if (ipv6.value_or(false) && !ipv4.value_or(false)) {
        hints.ai_family = AF_INET6;
    }
    addrinfo *res = nullptr;
    int rc = getaddrinfo(host.empty() ? nullptr : host.c_str(), port.c_str(), &hints, &res);
    if (rc != 0) {
        return make_error(ErrorCode::InvalidArg, "address resolution failed for %s:%s: %s",
                          host.c_str(), port.c_str(), gai_strerror(rc));
    }
    int last = EADDRNOTAVAIL;
    io::UniqueFd out;
    for (addrinfo *ai = res; ai && !out.valid(); ai = ai->ai_next) {
        io::UniqueFd fd(::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol));
        if (!fd.valid()) {
            last = errno;
            continue;
        }
        int one = 1;
        setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (::bind(fd.get(), ai->ai_addr, ai->ai_addrlen) < 0 || ::listen(fd.get(), 4) < 0) {
            last = errno;
            continue;
        }
        out = std::move(fd);
    }
    freeaddrinfo(res);
    if (!out.valid()) {
        return sys_error("Failed to bind socket", last);
    }
    set_nonblock_cloexec(out.get());
    return out;
}

Result<io::UniqueFd> connect_unix(const std::string &path)
{
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    if (path.empty() || path.size() >= sizeof(sa.sun_path)) {
        return make_error(ErrorCode::InvalidArg, "UNIX socket path '%s' is too long", path.c_str());
    }
    std::memcpy(sa.sun_path, path.c_str(), path.size() + 1);
    io::UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd.valid() || ::connect(fd.get(), reinterpret_cast<sockaddr *>(&sa), sizeof(sa)) < 0) {
        return sys_error("Failed to connect to '" + path + "'", errno);
    }
    return fd;
}

Result<io::UniqueFd> connect_tcp(const std::string &host, const std::string &port)
{
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    addrinfo *res = nullptr;
    int rc = getaddrinfo(host.empty() ? "localhost" : host.c_str(), port.c_str(), &hints, &res);
    if (rc != 0) {
        return make_error(ErrorCode::InvalidArg, "address resolution failed for %s:%s: %s",
                          host.c_str(), port.c_str(), gai_strerror(rc));
    }
    int last = ECONNREFUSED;
    io::UniqueFd out;
    for (addrinfo *ai = res; ai && !out.valid(); ai = ai->ai_next) {
        io::UniqueFd fd(::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol));
        if (fd.valid() && ::connect(fd.get(), ai->ai_addr, ai->ai_addrlen) == 0) {
            out = std::move(fd);
        } else {
            last = errno;
        }
    }
    freeaddrinfo(res);
    if (!out.valid()) {
        return sys_error("Failed to connect to '" + host + ":" + port + "'", last);
    }
    return out;
}

Result<io::UniqueFd> adopt_socket_fd(int fd, bool listening)
{
    io::UniqueFd owned(fd); // ours from here on, also on failure
    int type = 0;
    socklen_t len = sizeof(type);
    if (fd < 0 || getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0) {
        return make_error(ErrorCode::InvalidArg, "File descriptor '%d' is not a socket", fd);
    }
    if (listening && ::listen(fd, 4) < 0) {
        return sys_error("Failed to listen on fd socket", errno);
    }
    set_nonblock_cloexec(fd);
    return owned;
}

io::UniqueFd accept_client(int listen_fd)
{
    while (true) {
        int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd >= 0 || errno != EINTR) {
            return io::UniqueFd(fd);
        }
    }
}

} // namespace qvnc::monitor
