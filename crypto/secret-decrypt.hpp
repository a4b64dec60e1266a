// Encrypted secrets (-object secret,...,keyid=MASTER,iv=IV), as libvirt
// writes them: the data is base64 AES-256-CBC ciphertext with PKCS#7
// padding, the master key (another secret) is 32 raw bytes, the IV is 16
// bytes in base64.  As in QEMU, format=base64 describes the ciphertext
// (the caller decodes it); the plaintext is used as is.  AES from nettle.
#pragma once

#include <string>

#include "error.hpp"

namespace qvnc::crypto {

Result<std::string> decrypt_secret(const std::string &ciphertext, const std::string &master_key,
                                   const std::string &iv_b64);

} // namespace qvnc::crypto
