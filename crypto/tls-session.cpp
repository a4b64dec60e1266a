#include "tls-session.hpp"

#include <cerrno>
#include <ctime>

#include "log.hpp"
#include "tls-cert-check.hpp"

namespace qvnc::crypto {

Result<std::unique_ptr<TlsSession>> TlsSession::create_server(const TlsCreds &creds, PullFn pull,
                                                              PushFn push)
{
    auto s = std::make_unique<TlsSession>(Key{}, creds.loaded(), creds.verify_peer(),
                                          std::move(pull), std::move(push));
    gnutls_session_t raw = nullptr;
    int rc = gnutls_init(&raw, GNUTLS_SERVER | GNUTLS_NONBLOCK);
    if (rc < 0) {
        return make_error(ErrorCode::Tls, "Cannot initialize TLS session: %s", gnutls_strerror(rc));
    }
    s->session_.reset(raw);
    std::string prio = creds.priority();
    const char *err_pos = nullptr;
    rc = gnutls_priority_set_direct(raw, prio.c_str(), &err_pos);
    if (rc < 0) {
        return make_error(ErrorCode::Tls, "Unable to set TLS session priority %s: %s", prio.c_str(),
                          gnutls_strerror(rc));
    }
    if (creds.type() == TlsCredsType::X509) {
        rc = gnutls_credentials_set(raw, GNUTLS_CRD_CERTIFICATE, s->loaded_->x509.get());
        if (rc >= 0 && creds.verify_peer()) {
            gnutls_certificate_server_set_request(raw, GNUTLS_CERT_REQUIRE);
        }
    } else {
        rc = gnutls_credentials_set(raw, GNUTLS_CRD_ANON, s->loaded_->anon.get());
    }
    if (rc < 0) {
        return make_error(ErrorCode::Tls, "Cannot set session credentials: %s", gnutls_strerror(rc));
    }
    gnutls_transport_set_ptr(raw, s.get());
    gnutls_transport_set_pull_function(raw, pull_cb);
    gnutls_transport_set_push_function(raw, push_cb);
    return s;
}

TlsSession::TlsSession(Key, std::shared_ptr<const TlsCreds::Loaded> loaded, bool verify_peer,
                       PullFn pull, PushFn push)
    : loaded_(std::move(loaded)), verify_peer_(verify_peer), pull_(std::move(pull)),
      push_(std::move(push))
{
}

TlsSession::~TlsSession() = default;

// gnutls calls these with our `this`; they must not throw through C.
ssize_t TlsSession::pull_cb(gnutls_transport_ptr_t p, void *buf, size_t len)
{
    auto *self = static_cast<TlsSession *>(p);
    try {
        ssize_t n = self->pull_({static_cast<uint8_t *>(buf), len});
        if (n < 0) {
            gnutls_transport_set_errno(self->session_.get(), errno);
        }
        return n;
    } catch (...) {
        log_uncaught("TLS pull");
        gnutls_transport_set_errno(self->session_.get(), EIO);
        return -1;
    }
}

ssize_t TlsSession::push_cb(gnutls_transport_ptr_t p, const void *buf, size_t len)
{
    auto *self = static_cast<TlsSession *>(p);
    try {
        ssize_t n = self->push_({static_cast<const uint8_t *>(buf), len});
        if (n < 0) {
            gnutls_transport_set_errno(self->session_.get(), errno);
        }
        return n;
    } catch (...) {
        log_uncaught("TLS push");
        gnutls_transport_set_errno(self->session_.get(), EIO);
        return -1;
    }
}

TlsSession::Handshake TlsSession::handshake()
{
    int rc = gnutls_handshake(session_.get());
    if (rc == GNUTLS_E_SUCCESS) {
        return Handshake::Done;
    }
    if (rc == GNUTLS_E_AGAIN || rc == GNUTLS_E_INTERRUPTED) {
        return gnutls_record_get_direction(session_.get()) ? Handshake::WantWrite
                                                            : Handshake::WantRead;
    }
    error_ = gnutls_strerror(rc);
    return Handshake::Failed;
}

Status TlsSession::check_peer()
{
    if (!verify_peer_) {
        return ok_status();
    }
    unsigned status = 0;
    int rc = gnutls_certificate_verify_peers2(session_.get(), &status);
    if (rc < 0) {
        return make_error(ErrorCode::Tls, "Verify failed: %s", gnutls_strerror(rc));
    }
    if (status != 0) {
        return make_error(ErrorCode::Tls, "%s", verify_status_reason(status));
    }
    if (gnutls_certificate_type_get(session_.get()) != GNUTLS_CRT_X509) {
        return make_error(ErrorCode::Tls, "Only x509 certificates are supported");
    }
    unsigned n = 0;
    const gnutls_datum_t *certs = gnutls_certificate_get_peers(session_.get(), &n);
    if (!certs || n == 0) {
        return make_error(ErrorCode::Tls, "No certificate peers");
    }
    time_t now = std::time(nullptr);
    for (unsigned i = 0; i < n; i++) {
        gnutls_x509_crt_t raw = nullptr;
        gnutls_x509_crt_init(&raw);
        X509CrtPtr cert(raw);
        if (gnutls_x509_crt_import(raw, &certs[i], GNUTLS_X509_FMT_DER) < 0) {
            return make_error(ErrorCode::Tls, "The certificate is not trusted");
        }
        if (gnutls_x509_crt_get_expiration_time(raw) < now) {
            return make_error(ErrorCode::Tls, "The certificate has expired");
        }
        if (gnutls_x509_crt_get_activation_time(raw) > now) {
            return make_error(ErrorCode::Tls, "The certificate is not yet activated");
        }
        if (i == 0) {
            // The same gnutls call as QEMU, so DN strings (and ACL rules
            // written for QEMU) match byte for byte.
            size_t size = 0;
            gnutls_x509_crt_get_dn(raw, nullptr, &size);
            std::string dn(size, '\0');
            if (gnutls_x509_crt_get_dn(raw, dn.data(), &size) < 0) {
                return make_error(ErrorCode::Tls, "Cannot read the certificate DN");
            }
            dn.resize(size);
            dname_ = std::move(dn);
        }
    }
    return ok_status();
}

unsigned TlsSession::cipher_bits() const
{
    return static_cast<unsigned>(gnutls_cipher_get_key_size(gnutls_cipher_get(session_.get()))) * 8;
}

ssize_t TlsSession::read(std::span<uint8_t> buf)
{
    ssize_t n = gnutls_record_recv(session_.get(), buf.data(), buf.size());
    if (n >= 0) {
        return n;
    }
    if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED) {
        errno = EAGAIN;
    } else if (n == GNUTLS_E_PREMATURE_TERMINATION) {
        return 0; // the peer dropped TCP without close_notify: treat as EOF
    } else {
        error_ = gnutls_strerror(static_cast<int>(n));
        errno = EIO;
    }
    return -1;
}

ssize_t TlsSession::write(std::span<const uint8_t> buf)
{
    ssize_t n = gnutls_record_send(session_.get(), buf.data(), buf.size());
    if (n >= 0) {
        return n;
    }
    if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED) {
        errno = EAGAIN;
    } else {
        error_ = gnutls_strerror(static_cast<int>(n));
        errno = EIO;
    }
    return -1;
}

size_t TlsSession::pending() const { return gnutls_record_check_pending(session_.get()); }

bool TlsSession::write_blocked() const { return gnutls_record_get_direction(session_.get()) == 1; }

void TlsSession::bye() { gnutls_bye(session_.get(), GNUTLS_SHUT_WR); }

} // namespace qvnc::crypto
