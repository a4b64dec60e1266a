// TLS credentials objects: -object tls-creds-x509 / tls-creds-anon (and the
// internal ones QEMU created for the legacy tls/x509/x509verify keys).
//
// The gnutls credentials are held in an immutable, shared Loaded bundle:
// each session keeps the bundle it started with, so a reload (display-reload)
// swaps in new files for later clients without pulling credentials out from
// under a handshake in progress (gnutls requires them to outlive sessions).
#pragma once

#include <gnutls/gnutls.h>

#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "error.hpp"
#include "gnutls-ptr.hpp"
#include "object-spec.hpp"
#include "secret.hpp"

namespace qvnc::crypto {

enum class TlsCredsType { X509, Anon };

class TlsCreds {
public:
    struct Config {
        std::string id;
        TlsCredsType type = TlsCredsType::X509;
        std::string dir;
        bool server = false;     // endpoint=server (QEMU's default is client!)
        bool verify_peer = true; // QEMU's default
        bool sanity_check = true;
        std::string priority;    // "" = the default
        std::string passwordid;  // secret holding the key's password
    };

    struct Loaded {
        CertCredsPtr x509;
        AnonServerCredsPtr anon;
        DhParamsPtr dh;
    };

    static Result<std::shared_ptr<TlsCreds>> create(Config config, const SecretStore &secrets);
    // From a parsed -object (qom-type tls-creds-x509 / tls-creds-anon).
    static Result<std::shared_ptr<TlsCreds>> from_spec(const opts::ObjectSpec &spec,
                                                       const SecretStore &secrets);

    const Config &config() const { return config_; }
    const std::string &id() const { return config_.id; }
    TlsCredsType type() const { return config_.type; }
    bool is_server() const { return config_.server; }
    bool verify_peer() const { return config_.type == TlsCredsType::X509 && config_.verify_peer; }

    // Loads the files again; on failure the old credentials stay in use.
    Status reload(const SecretStore &secrets);
    std::shared_ptr<const Loaded> loaded() const { return loaded_; }
    // The priority string sessions use.
    std::string priority() const;

    // Only create()/from_spec() make these (the key keeps others out).
    struct Key {
        explicit Key() = default;
    };
    TlsCreds(Key, Config c) : config_(std::move(c)) {}

private:
    Result<std::shared_ptr<const Loaded>> load(const SecretStore &secrets) const;
    Result<std::shared_ptr<const Loaded>> load_x509(const SecretStore &secrets) const;
    Result<std::shared_ptr<const Loaded>> load_anon() const;

    Config config_;
    std::shared_ptr<const Loaded> loaded_;
};

// Per-context registry of credentials objects by id.
class TlsCredsStore {
public:
    Status add(std::shared_ptr<TlsCreds> creds);
    std::shared_ptr<TlsCreds> find(std::string_view id) const;
    bool remove(std::string_view id);

private:
    std::map<std::string, std::shared_ptr<TlsCreds>, std::less<>> creds_;
};

} // namespace qvnc::crypto
