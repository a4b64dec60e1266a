#include "socket-transport.hpp"

#include <fcntl.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

namespace qvnc::io {

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
    for (;;) {
        // MSG_NOSIGNAL: a peer that went away must not kill the host process.
        ssize_t n = ::send(fd_.get(), buf.data(), buf.size(), MSG_NOSIGNAL);
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
