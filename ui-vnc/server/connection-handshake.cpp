// Version, security and initialisation phases (QEMU protocol_version,
// protocol_client_auth, protocol_client_init), byte-exact with QEMU.
#include <cstdio>
#include <cstring>

#include "byte-writer.hpp"
#include "connection.hpp"
#include "protocol.hpp"
#include "server.hpp"

namespace qvnc::vnc {

namespace {
// TigerVNC delays failures to slow password guessing; input is drained
// meanwhile so the client cannot tell that we are waiting.
constexpr unsigned kAuthFailDelayMs = 100;

AuthType effective_auth(const AuthPlan &plan, bool skipauth)
{
    return skipauth ? AuthType::None : plan.auth;
}
} // namespace

size_t Connection::handle_version(io::Bytes in)
{
    if (in.size() < 12) {
        return 0;
    }
    char buf[13] = {};
    std::memcpy(buf, in.data(), 12);
    int major = 0, minor = 0;
    if (std::sscanf(buf, "RFB %03d.%03d\n", &major, &minor) != 2) {
        close("malformed protocol version");
        return 12;
    }
    if (major != 3 || (minor != 3 && minor != 4 && minor != 5 && minor != 7 && minor != 8)) {
        // QEMU answers an unsupported version with a bare u32 0 and closes.
        uint8_t zero[4] = {0, 0, 0, 0};
        queue(zero);
        flush_then_close_ = true;
        server_.log_client(QVNC_LOG_INFO, *this,
                           strprintf("unsupported protocol version %d.%d", major, minor));
        phase_ = Phase::AuthFailing;
        flush();
        return 12;
    }
    minor_ = (minor == 4 || minor == 5) ? 3 : minor; // 3.4/3.5 behave as 3.3
    AuthType auth = effective_auth(server_.auth_plan(), skipauth_);
    io::ByteBuffer out;
    io::ByteWriter w(out);
    if (minor_ == 3) {
        if (auth != AuthType::None && auth != AuthType::Vnc) {
            // 3.3 can only express None and VNC auth.
            w.u32(0);
            queue(out.data());
            flush_then_close_ = true;
            phase_ = Phase::AuthFailing;
            server_.log_client(QVNC_LOG_INFO, *this,
                               "RFB 3.3 client cannot use the configured authentication");
            flush();
            return 12;
        }
        w.u32(static_cast<uint32_t>(auth));
        queue(out.data());
        start_security();
    } else {
        w.u8(1).u8(static_cast<uint8_t>(auth));
        queue(out.data());
        phase_ = Phase::SecurityType;
    }
    return 12;
}

size_t Connection::handle_security_type(io::Bytes in)
{
    if (in.empty()) {
        return 0;
    }
    AuthType auth = effective_auth(server_.auth_plan(), skipauth_);
    if (in[0] != static_cast<uint8_t>(auth)) {
        auth_failed(strprintf("client chose security type %u, offered %u", in[0],
                              static_cast<unsigned>(auth)));
        return 1;
    }
    start_security();
    return 1;
}

void Connection::start_security()
{
    AuthType auth = effective_auth(server_.auth_plan(), skipauth_);
    switch (auth) {
    case AuthType::None:
        security_ = std::make_unique<SecurityNone>();
        break;
    case AuthType::Vnc:
        security_ = std::make_unique<SecurityVncAuth>([this] { return server_.password_state(); });
        break;
    default:
        close("authentication type not available");
        return;
    }
    phase_ = Phase::Security;
    io::ByteBuffer out;
    security_->begin(out);
    if (!out.empty()) {
        queue(out.data());
    }
    if (auth == AuthType::None) {
        // None needs no client bytes: decide now.
        io::ByteReader r(io::Bytes{});
        Step s = security_->on_input(r, out);
        if (s.kind == Step::Kind::Done) {
            auth_succeeded();
        }
    }
}

size_t Connection::handle_security(io::Bytes in)
{
    io::ByteReader r(in);
    io::ByteBuffer out;
    Step s = security_->on_input(r, out);
    if (!out.empty()) {
        queue(out.data());
    }
    size_t used = r.short_read() ? 0 : r.consumed();
    switch (s.kind) {
    case Step::Kind::NeedMore:
        return used;
    case Step::Kind::Done:
        auth_succeeded();
        return used == 0 ? 0 : used;
    case Step::Kind::Reject:
        auth_failed(s.reason);
        return used == 0 ? in.size() : used;
    case Step::Kind::Abort:
        close(std::string("security protocol error: ") + s.reason);
        return in.size();
    }
    return used;
}

void Connection::auth_succeeded()
{
    AuthType auth = effective_auth(server_.auth_plan(), skipauth_);
    server_.log_client(QVNC_LOG_INFO, *this, strprintf("authenticated (%s)", security_->name()));
    // With None, RFB 3.3 and 3.7 skip the SecurityResult; 3.8 sends it.
    if (auth != AuthType::None || minor_ >= 8) {
        uint8_t ok[4] = {0, 0, 0, 0};
        queue(ok);
    }
    security_.reset();
    phase_ = Phase::ClientInit;
}

void Connection::auth_failed(const std::string &why)
{
    server_.log_client(QVNC_LOG_WARNING, *this, "authentication failed: " + why);
    phase_ = Phase::AuthFailing;
    security_.reset();
    fail_timer_ = io::add_timeout(server_.main_context(), kAuthFailDelayMs, [this] {
        io::ByteBuffer out;
        io::ByteWriter w(out);
        w.u32(1);
        if (minor_ >= 8) {
            std::string_view msg = rfb::kAuthFailed;
            // The length includes the NUL QEMU sends after the text.
            w.u32(static_cast<uint32_t>(msg.size() + 1)).text(msg).u8(0);
        }
        flush_then_close_ = true;
        queue(out.data());
        flush();
        fail_timer_.reset();
        return false;
    });
}

size_t Connection::handle_client_init(io::Bytes in)
{
    if (in.empty()) {
        return 0;
    }
    bool shared = in[0] != 0;
    if (!server_.admit_shared(*this, shared)) {
        close(shared ? "shared connection refused by share policy"
                     : "exclusive connection refused by share policy");
        return 1;
    }
    share_ = shared ? Share::Shared : Share::Exclusive;
    handshake_timer_.reset();
    server_.pull_damage();
    send_server_init();
    phase_ = Phase::Normal;
    server_.client_event(QVNC_CLIENT_INITIALIZED, *this);
    return 1;
}

void Connection::send_server_init()
{
    io::ByteBuffer out;
    io::ByteWriter w(out);
    w.u16(static_cast<uint16_t>(server_.width())).u16(static_cast<uint16_t>(server_.height()));
    caps_.pf = PixelFormat::server_default();
    caps_.pf.write(w);
    std::string name = server_.desktop_name();
    w.u32(static_cast<uint32_t>(name.size())).text(name);
    queue(out.data());
    dirty_ = DirtyMap(server_.width(), server_.height());
    client_w_ = server_.width();
    client_h_ = server_.height();
    rebuild_converter();
}

} // namespace qvnc::vnc
