#include "socket-transport.hpp"

#include <fcntl.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <cerrno>
#include <cstring>

namespace qvnc::io {

size_t unacked_output(int fd)
{
    int n = 0;
    if (ioctl(fd, SIOCOUTQ, &n) != 0 || n < 0) {
        return 0;
    }
    return static_cast<size_t>(n);
}

SocketTransport::SocketTransport(UniqueFd fd) : fd_(std::move(fd))
{
    int flags = fcntl(fd_.get(), F_GETFL);
    if (flags >= 0) {
        fcntl(fd_.get(), F_SETFL, flags | O_NONBLOCK);
    }
}

IoResult SocketTransport::read(std::span<uint8_t> buf)
{
    for (;;) {
        ssize_t n = ::recv(fd_.get(), buf.data(), buf.size(), 0);
        if (n > 0) {
            return {IoStatus::Ok, static_cast<size_t>(n), {}};
        }
        if (n == 0) {
            return {IoStatus::Eof, 0, {}};
        }
        if (errno == EINTR) {
            continue;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            return {IoStatus::WouldBlock, 0, {}};
        }
        return {IoStatus::Error, 0, std::strerror(errno)};
    }
}

IoResult SocketTransport::write(std::span<const uint8_t> buf)
{
    const std::span<const uint8_t> one[1] = {buf};
    return write_vec(one);
}

IoResult SocketTransport::write_vec(std::span<const std::span<const uint8_t>> pieces)
{
    // More pieces than this go out in the next call (the caller loops).
    constexpr size_t kMaxIov = 16;
    iovec iov[kMaxIov];
    msghdr msg{};
    msg.msg_iov = iov;
    for (const std::span<const uint8_t> &p : pieces) {
        if (msg.msg_iovlen == kMaxIov) {
            break;
        }
        if (!p.empty()) {
            // sendmsg does not write through iov_base; the cast only
            // meets its signature.
            iov[msg.msg_iovlen++] = iovec{const_cast<uint8_t *>(p.data()), p.size()};
        }
    }
    for (;;) {
        // MSG_NOSIGNAL: a peer that went away must not kill the host process.
        ssize_t n = ::sendmsg(fd_.get(), &msg, MSG_NOSIGNAL);
        if (n >= 0) {
            return {IoStatus::Ok, static_cast<size_t>(n), {}};
        }
        if (errno == EINTR) {
            continue;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            return {IoStatus::WouldBlock, 0, {}};
        }
        if (errno == EPIPE || errno == ECONNRESET) {
            return {IoStatus::Eof, 0, {}};
        }
        return {IoStatus::Error, 0, std::strerror(errno)};
    }
}

void SocketTransport::shutdown()
{
    ::shutdown(fd_.get(), SHUT_WR);
}

} // namespace qvnc::io
