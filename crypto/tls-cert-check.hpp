// Load-time sanity checks of x509 credentials, with QEMU's rules and texts
// (crypto/tlscredsx509.c): a misconfigured certificate is reported when the
// object is created, naming the file, not discovered by a failing client.
#pragma once

#include <gnutls/x509.h>

#include <string>
#include <vector>

#include "error.hpp"

namespace qvnc::crypto {

enum class CertRole { Ca, Server, Client };

// One certificate: validity dates, basic constraints, key usage, key purpose.
Status check_certificate(gnutls_x509_crt_t cert, const std::string &file, CertRole role);
// The leaf must verify against the CA list (after the CA checks).
Status check_certificate_pair(gnutls_x509_crt_t leaf, const std::string &leaf_file,
                              const std::vector<gnutls_x509_crt_t> &cas, const std::string &ca_file,
                              CertRole role);
// The text QEMU gives for a gnutls verification status.
const char *verify_status_reason(unsigned status);

} // namespace qvnc::crypto
