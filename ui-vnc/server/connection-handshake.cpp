// Version, security and initialisation phases (QEMU protocol_version,
// protocol_client_auth, protocol_client_init), byte-exact with QEMU.
#include <cstdio>
#include <cstring>

#include "byte-writer.hpp"
#include "connection.hpp"
#include "protocol.hpp"
#include "context.hpp"
#include "sasl-transport.hpp"
#include "security-sasl.hpp"
#include "security-vencrypt.hpp"
#include "server.hpp"
#include "tls-transport.hpp"
#include "ws-handshake.hpp"
#include "ws-transport.hpp"

namespace qvnc::vnc {

namespace {
// TigerVNC delays failures to slow password guessing; input is drained
// meanwhile so the client cannot tell that we are waiting.
constexpr unsigned kAuthFailDelayMs = 100;
// No person is involved in a TLS handshake: a client stuck in one is gone.
constexpr unsigned kTlsHandshakeTimeoutMs = 30 * 1000;

} // namespace

AuthType Connection::auth_type() const
{
    if (skipauth_) {
        return AuthType::None;
    }
    // Websocket listeners never use VeNCrypt: TLS there is wss.
    return websocket_ ? server_.auth_plan().ws_auth : server_.auth_plan().auth;
}

void Connection::send_version()
{
    phase_ = Phase::Version;
    queue(std::span<const uint8_t>(reinterpret_cast<const uint8_t *>("RFB 003.008\n"), 12));
}

size_t Connection::handle_ws_handshake(io::Bytes in)
{
    std::string_view text(reinterpret_cast<const char *>(in.data()), in.size());
    ws::HandshakeResult r = ws::process_handshake(text);
    switch (r.kind) {
    case ws::HandshakeResult::Kind::NeedMore:
        return 0;
    case ws::HandshakeResult::Kind::Reject:
        server_.log_client(QVNC_LOG_INFO, *this, "websocket upgrade refused: " + r.reason);
        phase_ = Phase::AuthFailing; // drain whatever else comes
        queue({reinterpret_cast<const uint8_t *>(r.response.data()), r.response.size()});
        flush_then_close_ = true;
        flush();
        return in.size();
    case ws::HandshakeResult::Kind::Accept:
        break;
    }
    if (r.consumed < in.size()) {
        close("client sent data before the websocket upgrade completed");
        return in.size();
    }
    queue({reinterpret_cast<const uint8_t *>(r.response.data()), r.response.size()});
    phase_ = Phase::Version; // nothing is read until the layer is in place
    after_flush_ = [this] {
        transport_ = std::make_unique<io::WebsocketTransport>(std::move(transport_));
        send_version();
    };
    flush();
    return r.consumed;
}

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
    if (!skipauth_ && server_.context().blacklist().is_blocked(peer_.host, g_get_monotonic_time())) {
        // Refused before any credential is looked at, in the client's
        // version's failure format (no types / type 0, then the reason).
        std::string_view why = "Too many security failures";
        io::ByteBuffer out;
        io::ByteWriter w(out);
        if (minor_ == 3) {
            w.u32(0);
        } else {
            w.u8(0);
        }
        w.u32(static_cast<uint32_t>(why.size())).text(why);
        queue(out.data());
        flush_then_close_ = true;
        phase_ = Phase::AuthFailing;
        server_.log_client(QVNC_LOG_INFO, *this, "refused: address is blocked after repeated failures");
        flush();
        return 12;
    }
    AuthType auth = auth_type();
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
    AuthType auth = auth_type();
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
    AuthType auth = auth_type();
    auto make_vncauth = [this] {
        return std::make_unique<SecurityVncAuth>([this] { return server_.password_state(); });
    };
    switch (auth) {
    case AuthType::None:
        security_ = std::make_unique<SecurityNone>();
        break;
    case AuthType::Vnc:
        security_ = make_vncauth();
        break;
    case AuthType::Sasl:
        security_ = make_sasl(false);
        break;
    case AuthType::VeNCrypt: {
        VencryptSub sub = server_.auth_plan().subauth;
        security_ = std::make_unique<SecurityVencrypt>(
            sub, [this, sub, make_vncauth]() -> std::unique_ptr<SecurityHandler> {
                switch (sub) {
                case VencryptSub::TlsNone:
                case VencryptSub::X509None:
                    return std::make_unique<SecurityNone>();
                case VencryptSub::TlsVnc:
                case VencryptSub::X509Vnc:
                    return make_vncauth();
                case VencryptSub::X509Sasl:
                    return make_sasl(true);
                case VencryptSub::TlsSasl:
                    return make_sasl(false);
                default:
                    return nullptr;
                }
            });
        break;
    }
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
    apply_step(security_->decide_without_input());
}

std::unique_ptr<SecurityHandler> Connection::make_sasl(bool over_x509_tls)
{
    SaslEnv env;
    int fd = transport_->fd();
    io::AddressInfo local = io::local_address(fd);
    if (peer_.family == "ipv4" || peer_.family == "ipv6") {
        env.local = local.host + ";" + local.service;
        env.remote = peer_.host + ";" + peer_.service;
    }
    if (over_x509_tls) {
        // The x509 TLS session is the security layer: its key size counts
        // as external SSF and SASL adds none.
        env.props.ssf_external = static_cast<io::TlsTransport &>(*transport_).session().cipher_bits();
    } else if (peer_.family == "unix") {
        // QEMU >= 9.2: a local socket needs no SASL security layer.
    } else {
        // Plain TCP, websocket or anonymous TLS: demand a real layer.
        env.props.min_ssf = 56;
        env.props.max_ssf = 100000;
        env.props.flags = SASL_SEC_NOANONYMOUS | SASL_SEC_NOPLAINTEXT;
        env.want_ssf = true;
    }
    env.authorize = [this](const std::string &user, std::string *why) {
        return server_.sasl_allowed(user, why);
    };
    env.on_success = [this](std::unique_ptr<crypto::SaslServer> sasl, std::string user, bool run_ssf) {
        sasl_ = std::move(sasl);
        sasl_username_ = std::move(user);
        run_ssf_ = run_ssf;
    };
    return std::make_unique<SecuritySasl>(std::move(env));
}

void Connection::apply_step(const Step &s)
{
    switch (s.kind) {
    case Step::Kind::NeedMore:
        break;
    case Step::Kind::Done:
        auth_succeeded();
        break;
    case Step::Kind::Reject:
        auth_failed(s.reason, s.reason_always, true);
        break;
    case Step::Kind::Abort:
        if (s.bad_credentials && !peer_.host.empty() &&
            server_.context().blacklist().failed(peer_.host, g_get_monotonic_time())) {
            server_.log_client(QVNC_LOG_WARNING, *this,
                               "too many authentication failures: address blocked for a while");
        }
        close(std::string("security protocol error: ") + s.reason);
        break;
    case Step::Kind::StartTls:
        // The ack (u8 1) must reach the client in plaintext before the
        // handshake starts; flush() calls begin_tls() once it is out.
        phase_ = Phase::TlsHandshake;
        after_flush_ = [this] { begin_tls(); };
        flush();
        break;
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
    if (s.kind == Step::Kind::StartTls && used < in.size()) {
        // Bytes pipelined behind the subtype would be plaintext the TLS
        // layer must never see as if protected (STARTTLS injection).
        close("client sent data before the TLS handshake");
        return in.size();
    }
    if (s.kind == Step::Kind::Reject || s.kind == Step::Kind::Abort) {
        used = in.size();
    }
    apply_step(s);
    return used;
}

void Connection::begin_tls()
{
    auto creds = server_.tls_creds();
    if (!creds) {
        close("TLS credentials are not available");
        return;
    }
    auto tls = io::TlsTransport::create(std::move(transport_), *creds);
    if (!tls) {
        // transport_ was moved: nothing to shut down but the watch.
        server_.log_client(QVNC_LOG_WARNING, *this, "TLS setup failed: " + tls.error().message);
        phase_ = Phase::Closing;
        watch_.reset();
        server_.reap_later();
        return;
    }
    transport_ = std::move(tls.value());
    tls_timer_ = io::add_timeout(server_.main_context(), kTlsHandshakeTimeoutMs, [this] {
        tls_timer_.reset();
        close("TLS handshake timed out");
        return false;
    });
    drive_tls();
}

void Connection::drive_tls()
{
    auto &tls = static_cast<io::TlsTransport &>(*transport_);
    switch (tls.session().handshake()) {
    case crypto::TlsSession::Handshake::WantRead:
        want_write_ = false;
        update_watch();
        return;
    case crypto::TlsSession::Handshake::WantWrite:
        want_write_ = true;
        update_watch();
        return;
    case crypto::TlsSession::Handshake::Failed:
        // QEMU: a failed handshake closes with no RFB message.
        close("TLS handshake failed: " + tls.session().error());
        return;
    case crypto::TlsSession::Handshake::Done:
        break;
    }
    want_write_ = false;
    tls_timer_.reset();
    tls_established();
}

void Connection::tls_established()
{
    auto &tls = static_cast<io::TlsTransport &>(*transport_);
    Status st = tls.session().check_peer();
    if (!st) {
        close("TLS client certificate rejected: " + st.error().message);
        return;
    }
    x509_dname_ = tls.session().peer_dname();
    if (x509_dname_) {
        std::string why;
        if (!server_.x509_allowed(*x509_dname_, &why)) {
            close(strprintf("TLS x509 authz check for %s is denied%s%s", x509_dname_->c_str(),
                            why.empty() ? "" : ": ", why.c_str()));
            return;
        }
    }
    server_.log_client(QVNC_LOG_INFO, *this,
                       x509_dname_ ? "TLS established, client " + *x509_dname_ : "TLS established");
    if (websocket_) {
        phase_ = Phase::WsHandshake;
        update_watch();
        read_input();
        return;
    }
    phase_ = Phase::Security;
    io::ByteBuffer out;
    Step s = security_->on_tls_ready(out);
    if (!out.empty()) {
        queue(out.data());
    }
    update_watch();
    apply_step(s);
    // Input that arrived together with the last handshake record.
    if (phase_ == Phase::Security) {
        read_input();
    }
}

void Connection::auth_succeeded()
{
    if (!skipauth_ && !peer_.host.empty()) {
        server_.context().blacklist().succeeded(peer_.host);
    }
    AuthType auth = auth_type();
    server_.log_client(QVNC_LOG_INFO, *this, strprintf("authenticated (%s)", security_->name()));
    // With None, RFB 3.3 and 3.7 skip the SecurityResult; 3.8 sends it.
    if (auth != AuthType::None || minor_ >= 8) {
        uint8_t ok[4] = {0, 0, 0, 0};
        queue(ok);
    }
    security_.reset();
    phase_ = Phase::ClientInit;
    if (run_ssf_ && phase_ != Phase::Closing) {
        // From here on every byte is protected by the SASL layer, except
        // the plaintext still queued (the last step and SecurityResult).
        transport_ = std::make_unique<io::SaslTransport>(std::move(transport_), sasl_, out_.size());
        server_.log_client(QVNC_LOG_INFO, *this,
                           strprintf("SASL security layer active (SSF %u)", sasl_->ssf()));
    }
}

void Connection::auth_failed(const std::string &why, bool reason_always, bool credentials)
{
    server_.log_client(QVNC_LOG_WARNING, *this, "authentication failed: " + why);
    // Only wrong credentials count towards blocking (not a wrong type).
    if (credentials && !peer_.host.empty() &&
        server_.context().blacklist().failed(peer_.host, g_get_monotonic_time())) {
        server_.log_client(QVNC_LOG_WARNING, *this,
                           "too many authentication failures: address blocked for a while");
    }
    phase_ = Phase::AuthFailing;
    security_.reset();
    fail_timer_ = io::add_timeout(server_.main_context(), kAuthFailDelayMs, [this, reason_always] {
        io::ByteBuffer out;
        io::ByteWriter w(out);
        w.u32(1);
        if (minor_ >= 8 || reason_always) {
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
