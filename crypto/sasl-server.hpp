// A cyrus-sasl server connection (application "qemu", service "vnc"), as
// QEMU's VNC server uses it.  The configuration is qemu.conf, found through
// SASL_CONF_PATH or libsasl2's default directory.
//
// sasl_server_init() is process-wide; it runs once (std::call_once) and
// sasl_done() is never called: the host process may use SASL itself.
#pragma once

#include <sasl/sasl.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "error.hpp"

namespace qvnc::crypto {

struct SaslProps {
    unsigned ssf_external = 0; // the TLS key size when x509 TLS carries SASL
    unsigned min_ssf = 0;
    unsigned max_ssf = 0;
    unsigned maxbufsize = 8192;
    unsigned flags = 0;        // SASL_SEC_NOPLAINTEXT | SASL_SEC_NOANONYMOUS ...
};

class SaslServer {
public:
    // `local`/`remote`: "IP;PORT", or empty for unix sockets (QEMU >= 9.2).
    static Result<std::unique_ptr<SaslServer>> create(const std::string &local,
                                                      const std::string &remote,
                                                      const SaslProps &props);
    ~SaslServer();

    // Comma-separated, no prefix/suffix, as QEMU sends it.
    Result<std::string> mechlist();

    struct StepResult {
        enum class Kind { Continue, Ok, Fail } kind = Kind::Fail;
        std::optional<std::string> out; // nullopt: NULL server data; "" is distinct
        std::string error;
    };
    // `in` nullopt = NULL client data.
    StepResult start(const std::string &mech, const std::optional<std::string> &in);
    StepResult step(const std::optional<std::string> &in);

    unsigned ssf() const;
    std::optional<std::string> username() const;
    unsigned max_out_buf() const;
    Result<std::string> encode(std::span<const uint8_t> in);
    Result<std::string> decode(std::span<const uint8_t> in);

    SaslServer(const SaslServer &) = delete;
    SaslServer &operator=(const SaslServer &) = delete;

    struct Key {
        explicit Key() = default;
    };
    explicit SaslServer(Key) {}

private:
    StepResult result(int rc, const char *out, unsigned outlen);

    struct ConnDeleter {
        void operator()(sasl_conn_t *c) const { sasl_dispose(&c); }
    };
    std::unique_ptr<sasl_conn_t, ConnDeleter> conn_;
};

} // namespace qvnc::crypto
