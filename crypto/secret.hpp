// QEMU's `-object secret,...`: named secrets (VNC passwords, TLS key
// passphrases) held per context, looked up by id when an option such as
// password-secret= refers to them.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "error.hpp"
#include "object-spec.hpp"

namespace qvnc::crypto {

class SecretStore {
public:
    SecretStore() = default;
    SecretStore(const SecretStore &) = delete;
    SecretStore &operator=(const SecretStore &) = delete;
    SecretStore(SecretStore &&) = default;
    SecretStore &operator=(SecretStore &&) = default;
    ~SecretStore();

    // Creates the secret described by a parsed "-object secret,..." (or the
    // QMP object-add equivalent).  Properties: data= or file= (exactly one),
    // format=raw|base64, iv= (ignored without keyid, as in QEMU).  keyid=
    // (AES-encrypted secrets) is not implemented and fails with Unsupported.
    // Errors use QEMU's texts; nothing is stored on failure.
    [[nodiscard]] Status add(const opts::ObjectSpec &spec);

    // The secret's value as text.  QEMU's qcrypto_secret_lookup_as_utf8
    // semantics: missing id -> "No secret with id 'ID'"; bytes that are not
    // valid UTF-8 (or contain NUL) -> "Data from secret ID is not valid UTF-8".
    [[nodiscard]] Result<std::string> lookup(std::string_view id) const;

    bool contains(std::string_view id) const;

    // object-del: false when there was no such secret.
    bool remove(std::string_view id);

private:
    // Values are wiped before they are dropped (see wipe()).
    std::map<std::string, std::string, std::less<>> secrets_;
};

} // namespace qvnc::crypto
