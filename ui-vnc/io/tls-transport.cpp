#include "tls-transport.hpp"

#include <cerrno>

namespace qvnc::io {

namespace {

ssize_t to_errno(const IoResult &r)
{
    switch (r.status) {
    case IoStatus::Ok:
        return static_cast<ssize_t>(r.n);
    case IoStatus::WouldBlock:
        errno = EAGAIN;
        return -1;
    case IoStatus::Eof:
        return 0;
    case IoStatus::Error:
        break;
    }
    errno = EIO;
    return -1;
}

IoResult from_ssize(ssize_t n, const std::string &err)
{
    if (n > 0) {
        return {IoStatus::Ok, static_cast<size_t>(n), {}};
    }
    if (n == 0) {
        return {IoStatus::Eof, 0, {}};
    }
    if (errno == EAGAIN) {
        return {IoStatus::WouldBlock, 0, {}};
    }
    return {IoStatus::Error, 0, err};
}

} // namespace

Result<std::unique_ptr<TlsTransport>> TlsTransport::create(std::unique_ptr<Transport> inner,
                                                           const crypto::TlsCreds &creds)
{
    auto t = std::make_unique<TlsTransport>(Key{}, std::move(inner));
    Transport *raw = t->inner_.get();
    auto s = crypto::TlsSession::create_server(
        creds, [raw](std::span<uint8_t> b) { return to_errno(raw->read(b)); },
        [raw](std::span<const uint8_t> b) {
            IoResult r = raw->write(b);
            // A peer gone while we push: an error for gnutls, not EOF.
            if (r.status == IoStatus::Eof) {
                errno = EPIPE;
                return ssize_t{-1};
            }
            return to_errno(r);
        });
    if (!s) {
        return s.take_error();
    }
    t->session_ = std::move(s.value());
    return t;
}

IoResult TlsTransport::read(std::span<uint8_t> buf)
{
    ssize_t n = session_->read(buf);
    return from_ssize(n, session_->error());
}

IoResult TlsTransport::write(std::span<const uint8_t> buf)
{
    if (buf.empty()) {
        return {IoStatus::Ok, 0, {}}; // gnutls rejects zero-length sends
    }
    ssize_t n = session_->write(buf);
    if (n == 0) {
        return {IoStatus::WouldBlock, 0, {}};
    }
    return from_ssize(n, session_->error());
}

void TlsTransport::shutdown()
{
    if (!shut_) {
        shut_ = true;
        session_->bye();
        inner_->shutdown();
    }
}

} // namespace qvnc::io
