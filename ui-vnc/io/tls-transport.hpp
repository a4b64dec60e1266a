// TLS over another transport (the socket).  The TLS session pulls and
// pushes ciphertext through the inner transport; this layer moves records.
#pragma once

#include <memory>

#include "error.hpp"
#include "tls-creds.hpp"
#include "tls-session.hpp"
#include "transport.hpp"

namespace qvnc::io {

class TlsTransport final : public Transport {
public:
    static Result<std::unique_ptr<TlsTransport>> create(std::unique_ptr<Transport> inner,
                                                        const crypto::TlsCreds &creds);

    IoResult read(std::span<uint8_t> buf) override;
    IoResult write(std::span<const uint8_t> buf) override;
    int fd() const override { return inner_->fd(); }
    bool has_buffered_input() const override { return session_->pending() > 0; }
    void shutdown() override;

    crypto::TlsSession &session() { return *session_; }

    struct Key {
        explicit Key() = default;
    };
    TlsTransport(Key, std::unique_ptr<Transport> inner) : inner_(std::move(inner)) {}

private:
    std::unique_ptr<Transport> inner_;
    std::unique_ptr<crypto::TlsSession> session_;
    bool shut_ = false;
};

} // namespace qvnc::io
