#include "tls-cert-check.hpp"

#include <ctime>

#include "gnutls-ptr.hpp"

namespace qvnc::crypto {

namespace {

const char *role_name(CertRole role)
{
    switch (role) {
    case CertRole::Ca:
        return "CA";
    case CertRole::Server:
        return "server";
    case CertRole::Client:
        return "client";
    }
    return "";
}

Status check_times(gnutls_x509_crt_t cert, const std::string &file, CertRole role)
{
    time_t now = std::time(nullptr);
    if (gnutls_x509_crt_get_expiration_time(cert) < now) {
        return make_error(ErrorCode::Tls, "The %s certificate %s has expired", role_name(role),
                          file.c_str());
    }
    if (gnutls_x509_crt_get_activation_time(cert) > now) {
        return make_error(ErrorCode::Tls, "The %s certificate %s is not yet active",
                          role_name(role), file.c_str());
    }
    return ok_status();
}

Status check_basic_constraints(gnutls_x509_crt_t cert, const std::string &file, CertRole role)
{
    int status = gnutls_x509_crt_get_basic_constraints(cert, nullptr, nullptr, nullptr);
    if (status > 0) {
        if (role != CertRole::Ca) {
            return make_error(ErrorCode::Tls,
                              "The certificate %s basic constraints show a CA, but we need one "
                              "for a %s",
                              file.c_str(), role_name(role));
        }
    } else if (status == 0) {
        if (role == CertRole::Ca) {
            return make_error(ErrorCode::Tls, "The certificate %s basic constraints do not show a CA",
                              file.c_str());
        }
    } else if (status == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE) {
        if (role == CertRole::Ca) {
            return make_error(ErrorCode::Tls,
                              "The certificate %s is missing basic constraints for a CA",
                              file.c_str());
        }
    } else {
        return make_error(ErrorCode::Tls, "Unable to query certificate %s basic constraints: %s",
                          file.c_str(), gnutls_strerror(status));
    }
    return ok_status();
}

Status check_key_usage(gnutls_x509_crt_t cert, const std::string &file, CertRole role)
{
    unsigned usage = 0, critical = 0;
    int status = gnutls_x509_crt_get_key_usage(cert, &usage, &critical);
    if (status < 0) {
        if (status == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE) {
            // No KeyUsage: anything goes for a leaf; a CA needs cert signing.
            usage = role == CertRole::Ca ? GNUTLS_KEY_KEY_CERT_SIGN
                                         : GNUTLS_KEY_DIGITAL_SIGNATURE | GNUTLS_KEY_KEY_ENCIPHERMENT;
        } else {
            return make_error(ErrorCode::Tls, "Unable to query certificate %s key usage: %s",
                              file.c_str(), gnutls_strerror(status));
        }
    }
    if (role == CertRole::Ca) {
        if (!(usage & GNUTLS_KEY_KEY_CERT_SIGN)) {
            // Critical or not: a CA that may not sign certificates is unusable.
            return make_error(ErrorCode::Tls, "Certificate %s usage does not permit certificate signing",
                              file.c_str());
        }
    } else if (critical && !(usage & GNUTLS_KEY_DIGITAL_SIGNATURE)) {
        // Only a critical KeyUsage binds; a non-critical bad one is tolerated.
        return make_error(ErrorCode::Tls, "Certificate %s usage does not permit digital signature",
                          file.c_str());
    }
    return ok_status();
}

Status check_key_purpose(gnutls_x509_crt_t cert, const std::string &file, CertRole role)
{
    if (role == CertRole::Ca) {
        return ok_status();
    }
    bool any = false, server = false, client = false;
    for (unsigned i = 0;; i++) {
        char oid[256];
        size_t size = sizeof oid;
        unsigned critical = 0;
        int status = gnutls_x509_crt_get_key_purpose_oid(cert, i, oid, &size, &critical);
        if (status == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE) {
            if (i == 0) {
                return ok_status(); // no ExtKeyUsage: any purpose
            }
            break;
        }
        if (status < 0) {
            return make_error(ErrorCode::Tls, "Unable to query certificate %s key purpose: %s",
                              file.c_str(), gnutls_strerror(status));
        }
        std::string o(oid);
        any |= o == "2.5.29.37.0";
        server |= o == GNUTLS_KP_TLS_WWW_SERVER;
        client |= o == GNUTLS_KP_TLS_WWW_CLIENT;
    }
    if (role == CertRole::Server && !server && !any) {
        return make_error(ErrorCode::Tls, "Certificate %s purpose does not allow use with a TLS server",
                          file.c_str());
    }
    if (role == CertRole::Client && !client && !any) {
        return make_error(ErrorCode::Tls, "Certificate %s purpose does not allow use with a TLS client",
                          file.c_str());
    }
    return ok_status();
}

} // namespace

Status check_certificate(gnutls_x509_crt_t cert, const std::string &file, CertRole role)
{
    for (auto check : {check_times, check_basic_constraints, check_key_usage, check_key_purpose}) {
        Status st = check(cert, file, role);
        if (!st) {
            return st;
        }
    }
    return ok_status();
}

const char *verify_status_reason(unsigned status)
{
    if (status & GNUTLS_CERT_REVOKED) {
        return "The certificate has been revoked";
    }
    if (status & GNUTLS_CERT_SIGNER_NOT_FOUND) {
        return "The certificate hasn't got a known issuer";
    }
    if (status & GNUTLS_CERT_INSECURE_ALGORITHM) {
        return "The certificate uses an insecure algorithm";
    }
    if (status & GNUTLS_CERT_EXPIRED) {
        return "The certificate has expired";
    }
    if (status & GNUTLS_CERT_NOT_ACTIVATED) {
        return "The certificate is not yet activated";
    }
    if (status & GNUTLS_CERT_INVALID) {
        return "The certificate is not trusted";
    }
    return "Invalid certificate";
}

Status check_certificate_pair(gnutls_x509_crt_t leaf, const std::string &leaf_file,
                              const std::vector<gnutls_x509_crt_t> &cas, const std::string &ca_file,
                              CertRole role)
{
    unsigned status = 0;
    int rc = gnutls_x509_crt_list_verify(&leaf, 1, cas.data(), static_cast<unsigned>(cas.size()),
                                         nullptr, 0, 0, &status);
    if (rc < 0) {
        return make_error(ErrorCode::Tls, "Unable to verify %s certificate %s against CA certificate %s",
                          role_name(role), leaf_file.c_str(), ca_file.c_str());
    }
    if (status != 0) {
        return make_error(ErrorCode::Tls, "Our own certificate %s failed validation against %s: %s",
                          leaf_file.c_str(), ca_file.c_str(), verify_status_reason(status));
    }
    return ok_status();
}

} // namespace qvnc::crypto
