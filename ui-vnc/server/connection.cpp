#include "connection.hpp"

#include <algorithm>
#include <cstring>

#include "context.hpp"
#include "protocol.hpp"
#include "server.hpp"

namespace qvnc::vnc {

namespace {
constexpr size_t kReadChunk = 64 * 1024;
} // namespace

Connection::Connection(Server &server, std::unique_ptr<io::Transport> transport,
                       io::AddressInfo peer, bool skipauth,
                       std::optional<io::AddressInfo> listener, bool websocket)
    : server_(server), transport_(std::move(transport)), peer_(std::move(peer)),
      listener_(std::move(listener)), websocket_(websocket), skipauth_(skipauth), serial_(server.next_serial()), dirty_(server.width(), server.height())
{
}

Connection::~Connection() = default;

void Connection::start()
{
    if (websocket_) {
        // wss: TLS first, then the HTTP upgrade, then RFB (no VeNCrypt).
        phase_ = Phase::WsHandshake;
        if (server_.tls_creds()) {
            phase_ = Phase::TlsHandshake;
            begin_tls();
        }
    } else {
        send_version();
    }
    handshake_timer_ = io::add_timeout(server_.main_context(), server_.context().handshake_timeout_ms(), [this] {
        handshake_timer_.reset(); // the source is being removed; drop our handle first
        close("handshake timed out");
        return false;
    });
    update_watch();
}

void Connection::close(const std::string &why)
{
    if (phase_ == Phase::Closing) {
        return;
    }
    std::string counts;
    if (own_updates_ + shared_updates_ > 0) {
        counts = " (" + std::to_string(own_updates_ + shared_updates_) + " updates, " +
                 std::to_string(shared_updates_) + " from shared encodes)";
    }
    if (flow_.answers() > 0) {
        // What flow control learnt of the path (flow-control.hpp).
        counts += strprintf(" (flow control: %llu pings answered, min RTT %.1f ms, %.1f MB/s)",
                            static_cast<unsigned long long>(flow_.answers()), flow_.min_rtt_us() / 1000.0,
                            flow_.rate_bytes_per_s() / 1e6);
    }
    server_.log_client(QVNC_LOG_INFO, *this, "closing: " + why + counts);
    phase_ = Phase::Closing;
    watch_.reset();
    handshake_timer_.reset();
    fail_timer_.reset();
    tls_timer_.reset();
    flow_timer_.reset();
    transport_->shutdown();
    server_.reap_later();
}

size_t Connection::throttle_limit() const
{
    // QEMU: at least 1 MiB, else one full frame at the client's pixel size.
    size_t frame = static_cast<size_t>(server_.width()) * server_.height() * caps_.pf.bytes_per_pixel();
    return std::max<size_t>(frame, 1024 * 1024);
}

void Connection::queue(std::span<const uint8_t> bytes)
{
    if (phase_ == Phase::Closing || write_error_) {
        return;
    }
    out_.append(bytes);
    // CVE-2017-15124: a client that requests updates but never reads them
    // must not grow our memory without bound.
    if (output_backlog() > 5 * throttle_limit()) {
        close("output backlog exceeds the hard cap (client not reading)");
        return;
    }
    flush();
}

void Connection::consume_output(size_t n)
{
    written_ += n;
    while (n > 0 && !output_empty()) {
        SharedChunk *chunk = shared_out_.empty() ? nullptr : &shared_out_.front();
        if (chunk && chunk->before == 0) {
            const size_t k = std::min(n, chunk->bytes->size() - chunk->off);
            chunk->off += k;
            shared_bytes_ -= k;
            n -= k;
            if (chunk->off == chunk->bytes->size()) {
                shared_out_.pop_front();
            }
            continue;
        }
        const size_t k = std::min(n, chunk ? chunk->before : out_.size());
        out_.consume(k);
        n -= k;
        if (chunk) {
            chunk->before -= k;
        }
    }
}

void Connection::flush()
{
    if (write_error_) {
        return; // the peer is gone; read_input() closes
    }
    while (phase_ != Phase::Closing && (!output_empty() || transport_->has_pending_output())) {
        // The queue in order: out_'s bytes up to the first shared chunk,
        // that chunk (written from the one copy all its clients share),
        // and so on; gathered into one write where the transport can.
        std::span<const uint8_t> pieces[kFlushPieces];
        size_t npieces = 0;
        const std::span<const uint8_t> own = out_.data();
        size_t at = 0; // in own
        for (const SharedChunk &c : shared_out_) {
            if (npieces + 2 > kFlushPieces) {
                break;
            }
            if (c.before > 0) {
                pieces[npieces++] = own.subspan(at, c.before);
                at += c.before;
            }
            pieces[npieces++] = c.bytes->data().subspan(c.off);
        }
        if (npieces < kFlushPieces && at < own.size()) {
            pieces[npieces++] = own.subspan(at);
        }
        io::IoResult r = transport_->write_vec(std::span(pieces, npieces));
        if (r.status == io::IoStatus::Ok) {
            consume_output(r.n);
            if (r.n == 0 && output_empty()) {
                break; // a layer pushed its own pending bytes, or had none
            }
            continue;
        }
        if (r.status == io::IoStatus::WouldBlock) {
            break;
        }
        // A client that typed and reset the connection without reading our
        // updates: its keys may still be in our socket buffer.  They are
        // processed before we close with this reason: by the read loop or
        // process_input() on the stack, else by reading now.
        write_error_ = r.status == io::IoStatus::Eof ? "client went away" : "write failed: " + r.error;
        if (!reading_ && !in_process_) {
            read_input();
        }
        return;
    }
    if (phase_ == Phase::Closing) {
        return;
    }
    if (output_empty() && !transport_->has_pending_output()) {
        // Updates are written straight into out_: keeping a few MiB, or
        // what a stream of large updates fills (shrink_if_idle), spares
        // reallocating for every large update; an idle viewer's buffer is
        // bounded by its last burst, which the throttle bounds.
        out_.shrink_if_idle(4 * 1024 * 1024);
        if (after_flush_) {
            auto fn = std::move(after_flush_);
            after_flush_ = nullptr;
            fn();
            return;
        }
        if (flush_then_close_) {
            close("failure message delivered");
            return;
        }
    }
    update_watch();
}

void Connection::update_watch()
{
    if (phase_ == Phase::Closing) {
        return;
    }
    bool out = !output_empty() || want_write_ || transport_->has_pending_output();
    auto cond = static_cast<GIOCondition>(G_IO_IN | (out ? G_IO_OUT : 0));
    if (watch_ && cond == watch_cond_) {
        return;
    }
    watch_cond_ = cond;
    watch_ = io::add_fd_watch(server_.main_context(), transport_->fd(), cond,
                              [this](GIOCondition c) { return on_io(c); });
}

bool Connection::on_io(GIOCondition cond)
{
    if (phase_ == Phase::TlsHandshake) {
        drive_tls();
        return true;
    }
    // Read before writing, as QEMU's vnc_client_io does: when a client sent
    // input and then reset the connection, one wakeup reports both, and the
    // write would fail and close before its input was looked at.
    if (cond & (G_IO_IN | G_IO_HUP | G_IO_ERR)) {
        read_input();
    }
    if (phase_ != Phase::Closing && (cond & G_IO_OUT)) {
        // Leaving the throttle sends what accumulated meanwhile; no new
        // damage may come to trigger it.
        const bool throttled = output_backlog() > throttle_limit();
        flush();
        if (throttled && phase_ == Phase::Normal && output_backlog() <= throttle_limit()) {
            try_send_update();
        }
    }
    // When the condition set changed, update_watch() already replaced (and
    // destroyed) this source; glib keeps the callback alive until we return.
    return true;
}

void Connection::read_input()
{
    const bool outer = reading_;
    reading_ = true;
    std::optional<std::string> eof;
    // During the TLS handshake gnutls reads the socket itself (drive_tls).
    while (phase_ != Phase::Closing && phase_ != Phase::TlsHandshake) {
        if (read_buf_.empty()) {
            read_buf_.resize(kReadChunk);
        }
        io::IoResult r = transport_->read({read_buf_.data(), read_buf_.size()});
        if (r.status == io::IoStatus::Ok) {
            // prepare() also compacts consumed bytes away; only the n
            // bytes read are zero-filled and overwritten.
            const size_t n = std::min(r.n, read_buf_.size());
            std::memcpy(in_.prepare(n), read_buf_.data(), n);
            in_.commit(n);
        }
        if (r.status == io::IoStatus::WouldBlock) {
            break;
        }
        if (r.status == io::IoStatus::Eof) {
            eof = "client closed the connection";
            break;
        }
        if (r.status == io::IoStatus::Error) {
            eof = "read failed: " + r.error;
            break;
        }
        process_input();
    }
    reading_ = outer;
    // A write that failed meanwhile came first: its reason is the one.
    if (write_error_) {
        close(*write_error_);
    } else if (eof) {
        close(*eof);
    }
}

void Connection::process_input()
{
    // A host callback run from here may call back into the library (e.g.
    // close the display's clients); the flag keeps us from re-entering.
    if (in_process_) {
        return;
    }
    in_process_ = true;
    while (phase_ != Phase::Closing && !in_.empty()) {
        io::Bytes data = in_.data();
        size_t used = 0;
        switch (phase_) {
        case Phase::WsHandshake:
            used = handle_ws_handshake(data);
            break;
        case Phase::Version:
            used = handle_version(data);
            break;
        case Phase::SecurityType:
            used = handle_security_type(data);
            break;
        case Phase::Security:
            used = handle_security(data);
            break;
        case Phase::TlsHandshake:
            used = 0; // the TLS layer reads the socket itself now
            break;
        case Phase::AuthFailing:
            used = data.size(); // drained: an attacker must not learn our state
            break;
        case Phase::ClientInit:
            used = handle_client_init(data);
            break;
        case Phase::Normal:
            used = handle_message(data);
            break;
        case Phase::Closing:
            break;
        }
        if (used == 0) {
            break;
        }
        in_.consume(used);
    }
    in_process_ = false;
    if (write_error_ && !reading_) {
        read_input(); // a write failed meanwhile: drain what came, then close
        return;
    }
    if (phase_ == Phase::Normal) {
        try_send_update();
    }
}

} // namespace qvnc::vnc
