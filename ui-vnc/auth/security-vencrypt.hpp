// RFB security type 19 (VeNCrypt 0.2) with one subtype, byte-exact with
// QEMU (ui/vnc-auth-vencrypt.c): version, subtype list of one, the client's
// choice acknowledged with u8 1, then the TLS handshake (done by the
// connection, which owns the transport), then the inner authentication.
#pragma once

#include <functional>
#include <memory>

#include "auth-plan.hpp"
#include "security-handler.hpp"

namespace qvnc::vnc {

class SecurityVencrypt final : public SecurityHandler {
public:
    // Makes the inner handler (None, VNC, later SASL) once TLS is up.
    using InnerFactory = std::function<std::unique_ptr<SecurityHandler>()>;
    SecurityVencrypt(VencryptSub subauth, InnerFactory make_inner)
        : subauth_(subauth), make_inner_(std::move(make_inner))
    {
    }

    const char *name() const override { return "vencrypt"; }
    void begin(io::ByteBuffer &out) override;
    Step on_input(io::ByteReader &in, io::ByteBuffer &out) override;
    Step on_tls_ready(io::ByteBuffer &out) override;

private:
    enum class State { Version, Subtype, Tls, Inner };
    VencryptSub subauth_;
    InnerFactory make_inner_;
    State state_ = State::Version;
    std::unique_ptr<SecurityHandler> inner_;
};

} // namespace qvnc::vnc
