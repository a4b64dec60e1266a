// RFB security type 20 (SASL), also the inner auth of VeNCrypt X509SASL and
// TLSSASL.  Byte-exact with QEMU >= 9.2 (ui/vnc-auth-sasl.c): the mechlist,
// a mechname of 1..100 bytes that must be an element of that list, client
// data with a strictly checked NUL pad, NULL vs empty server data, the
// complete flag, and a 1 MiB cap on every data block.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "sasl-server.hpp"
#include "security-handler.hpp"

namespace qvnc::vnc {

struct SaslEnv {
    std::string local, remote;   // "IP;PORT", empty for unix sockets
    crypto::SaslProps props;
    bool want_ssf = false;       // success needs SSF >= 56 (no x509 TLS below)
    // Username authorization (sasl-authz or the vnc.username ACL).
    std::function<bool(const std::string &user, std::string *why)> authorize;
    // Called on success with the SASL connection, which the connection
    // keeps for the security layer and the username.
    std::function<void(std::unique_ptr<crypto::SaslServer>, std::string user, bool run_ssf)>
        on_success;
};

class SecuritySasl final : public SecurityHandler {
public:
    explicit SecuritySasl(SaslEnv env) : env_(std::move(env)) {}

    const char *name() const override { return "sasl"; }
    void begin(io::ByteBuffer &out) override;
    Step on_input(io::ByteReader &in, io::ByteBuffer &out) override;
    Step decide_without_input() override;

private:
    enum class State { MechLen, MechName, DataLen, Data, Failed };
    Step handle_data(std::optional<std::string> data, io::ByteBuffer &out);
    Step finish();

    SaslEnv env_;
    std::unique_ptr<crypto::SaslServer> sasl_;
    std::string mechlist_;
    std::string mech_;
    State state_ = State::MechLen;
    uint32_t len_ = 0;
    bool started_ = false;
    std::string setup_error_;
};

} // namespace qvnc::vnc
