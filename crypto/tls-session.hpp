// A server-side TLS session over a non-blocking byte channel.  gnutls pulls
// and pushes through the two callbacks given at creation, so the session
// knows nothing about sockets (QEMU's qcrypto_tls_session_set_callbacks).
#pragma once

#include <sys/types.h>

#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "error.hpp"
#include "gnutls-ptr.hpp"
#include "tls-creds.hpp"

namespace qvnc::crypto {

class TlsSession {
public:
    // Return bytes moved, or -1 with errno set (EAGAIN when not ready; a
    // pull returning 0 means end of stream).
    using PullFn = std::function<ssize_t(std::span<uint8_t>)>;
    using PushFn = std::function<ssize_t(std::span<const uint8_t>)>;

    static Result<std::unique_ptr<TlsSession>> create_server(const TlsCreds &creds, PullFn pull,
                                                             PushFn push);
    ~TlsSession();

    enum class Handshake { Done, WantRead, WantWrite, Failed };
    // Drives the handshake; on Failed, error() says why.
    Handshake handshake();
    // After the handshake, when the creds verify peers: checks the client's
    // certificate chain and dates and records its DN.  QEMU's texts.
    Status check_peer();
    const std::optional<std::string> &peer_dname() const { return dname_; }
    // Key size of the negotiated cipher in bits (SASL's SSF_EXTERNAL).
    unsigned cipher_bits() const;

    // Record I/O: bytes, 0 on a clean close, or -1 with errno (EAGAIN...).
    ssize_t read(std::span<uint8_t> buf);
    ssize_t write(std::span<const uint8_t> buf);
    size_t pending() const;
    bool write_blocked() const; // the last EAGAIN was on a write
    void bye();
    const std::string &error() const { return error_; }

    // Deliberately neither copyable nor movable: gnutls holds `this`.
    TlsSession(const TlsSession &) = delete;
    TlsSession &operator=(const TlsSession &) = delete;

    struct Key {
        explicit Key() = default;
    };
    TlsSession(Key, std::shared_ptr<const TlsCreds::Loaded> loaded, bool verify_peer, PullFn pull,
               PushFn push);

private:
    static ssize_t pull_cb(gnutls_transport_ptr_t p, void *buf, size_t len);
    static ssize_t push_cb(gnutls_transport_ptr_t p, const void *buf, size_t len);

    std::shared_ptr<const TlsCreds::Loaded> loaded_; // outlives the session
    SessionPtr session_;
    bool verify_peer_;
    PullFn pull_;
    PushFn push_;
    std::optional<std::string> dname_;
    std::string error_;
};

} // namespace qvnc::crypto
