// RFB security type 2 (VNC Authentication): a 16-byte random challenge,
// DES-encrypted by the client with its password.  The password and its
// expiry are looked up when the response arrives, as QEMU does, so a
// monitor change applies to a client already waiting at the prompt.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "security-handler.hpp"

namespace qvnc::vnc {

struct PasswordState {
    std::optional<std::string> password; // nullopt: none set, everyone is refused
    int64_t expires = -1;                // epoch seconds; -1 never; 0 already
};

class SecurityVncAuth final : public SecurityHandler {
public:
    using PasswordSource = std::function<PasswordState()>;
    explicit SecurityVncAuth(PasswordSource source) : source_(std::move(source)) {}

    const char *name() const override { return "vnc"; }
    void begin(io::ByteBuffer &out) override;
    Step on_input(io::ByteReader &in, io::ByteBuffer &out) override;

private:
    PasswordSource source_;
    std::array<uint8_t, 16> challenge_{};
};

class SecurityNone final : public SecurityHandler {
public:
    const char *name() const override { return "none"; }
    void begin(io::ByteBuffer &) override {}
    Step on_input(io::ByteReader &, io::ByteBuffer &) override { return Step::done(); }
    Step decide_without_input() override { return Step::done(); }
};

} // namespace qvnc::vnc
