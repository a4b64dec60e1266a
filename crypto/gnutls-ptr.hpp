// RAII owners for gnutls handles: each frees with its own gnutls function,
// so teardown needs no null checks and no particular order.
#pragma once

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include <memory>
#include <type_traits>

namespace qvnc::crypto {

template <class T, void (*Free)(T)> struct GnutlsDeleter {
    void operator()(T p) const
    {
        if (p) {
            Free(p);
        }
    }
};

template <class T, void (*Free)(T)>
using GnutlsPtr = std::unique_ptr<std::remove_pointer_t<T>, GnutlsDeleter<T, Free>>;

using SessionPtr = GnutlsPtr<gnutls_session_t, gnutls_deinit>;
using CertCredsPtr = GnutlsPtr<gnutls_certificate_credentials_t, gnutls_certificate_free_credentials>;
using AnonServerCredsPtr =
    GnutlsPtr<gnutls_anon_server_credentials_t, gnutls_anon_free_server_credentials>;
using DhParamsPtr = GnutlsPtr<gnutls_dh_params_t, gnutls_dh_params_deinit>;
using X509CrtPtr = GnutlsPtr<gnutls_x509_crt_t, gnutls_x509_crt_deinit>;
using X509CrlPtr = GnutlsPtr<gnutls_x509_crl_t, gnutls_x509_crl_deinit>;
using PriorityPtr = GnutlsPtr<gnutls_priority_t, gnutls_priority_deinit>;

// gnutls_datum_t whose data gnutls allocated (gnutls_free).
struct GnutlsDatum {
    gnutls_datum_t d{nullptr, 0};
    GnutlsDatum() = default;
    GnutlsDatum(const GnutlsDatum &) = delete;
    GnutlsDatum &operator=(const GnutlsDatum &) = delete;
    ~GnutlsDatum() { gnutls_free(d.data); }
};

} // namespace qvnc::crypto
