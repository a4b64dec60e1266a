// One VNC client: its transport, protocol phase, buffers and update state.
//
// Lifetime: owned by its Server.  A connection never destroys itself: close()
// marks it Closing, removes its I/O sources and asks the server to reap it
// from an idle callback, so no code runs on a freed connection even when a
// host callback (key, pointer, client_event) re-enters the library.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "audio-convert.hpp"
#include "auth-plan.hpp"
#include "byte-buffer.hpp"
#include "byte-writer.hpp"
#include "client-caps.hpp"
#include "client-message.hpp"
#include "dirty-map.hpp"
#include "encoder.hpp"
#include "flow-control.hpp"
#include "pixel-convert.hpp"
#include "sasl-server.hpp"
#include "security-handler.hpp"
#include "share-pass.hpp"
#include "socket-address.hpp"
#include "source-handle.hpp"
#include "transport.hpp"

namespace qvnc::vnc {

class Server;
struct EncodeJob;
class UpdateStats;

class Connection {
public:
    enum class Phase {
        WsHandshake,  // websocket listener: waiting for the HTTP upgrade
        Version,      // sent "RFB 003.008\n", waiting for the client's version
        SecurityType, // 3.7+: offered one type, waiting for the choice
        Security,     // a SecurityHandler runs
        TlsHandshake, // VeNCrypt: TLS handshake on the transport
        AuthFailing,  // rejected: draining input until the delayed failure
        ClientInit,   // waiting for the shared flag
        Normal,       // messages
        Closing,      // closed, waiting to be reaped
    };
    enum class Share { Connecting, Shared, Exclusive };

    // `listener`: the address of the listening socket the client came
    // through (QMP's VncServerInfo); none for add_client sockets.
    Connection(Server &server, std::unique_ptr<io::Transport> transport, io::AddressInfo peer,
               bool skipauth, std::optional<io::AddressInfo> listener, bool websocket);
    ~Connection();
    Connection(const Connection &) = delete;
    Connection &operator=(const Connection &) = delete;

    void start();
    // Closes the client; `why` goes to the log.  Safe to call repeatedly and
    // from inside this connection's own callbacks.
    void close(const std::string &why);
    bool closing() const { return phase_ == Phase::Closing; }
    Phase phase() const { return phase_; }
    Share share() const { return share_; }
    uint64_t serial() const { return serial_; }

    const io::AddressInfo &peer() const { return peer_; }
    const std::optional<io::AddressInfo> &listener() const { return listener_; }
    bool websocket() const { return websocket_; }
    const std::optional<std::string> &x509_dname() const { return x509_dname_; }
    const std::optional<std::string> &sasl_username() const { return sasl_username_; }

    // Server -> connection notifications.
    void add_damage(const DirtyMap &changed);
    void surface_changed();     // size or format: resend everything
    // Adaptive lossy encoding (update-stats.hpp): rectangles just sent as
    // JPEG, and tiles of `stats` that stopped changing; the tiles this
    // client saw lossy become dirty again.  True when any did.
    void mark_lossy(std::span<const Rect> rects);
    bool refresh_lossy(std::span<const int> idle_tiles, const UpdateStats &stats);
    // Some tile r touches was sent lossy and not refreshed since.
    bool lossy_in(const Rect &r) const;
    void cursor_changed();
    void pointer_mode_changed();
    void name_changed();
    void led_state_changed();
    void clipboard_changed();
    void audio_samples(std::span<const int16_t> samples, int channels, int frequency);
    // A display copy (CopyRect): the pixels moved in the server copy.
    void copy_rect(const Rect &src, const Rect &dst);
    // Whether copy_rect() could send this client a CopyRect now (it listed
    // the encoding and is past the handshake).
    bool takes_copies() const;
    void bell();
    void try_send_update();

    // Shared encoding (share-pass.hpp).  The settings this client's pixels
    // would be encoded with, when it could take part in a shared encode
    // right now (a request, room in its output, nothing of its own queued
    // such as CopyRects or a resize, the whole screen asked for, and its
    // encoder able to take shared bytes); nothing otherwise.
    std::optional<ShareKey> share_key();
    const DirtyMap &dirty() const { return dirty_; }
    // This client's part of a shared update: its pseudo-rectangles go out
    // now, the update's rectangles are taken from its map (into `rects`
    // for the one whose encode it is), and it waits for
    // finish_shared_update() as for a job of its own.
    void begin_shared_update(std::vector<Rect> *rects);
    // The shared bytes of encoding `encoding` are appended; its own encoder
    // then forgets its history (the peer's window holds the shared bytes).
    void finish_shared_update(const std::shared_ptr<const io::ByteBuffer> &bytes, int32_t encoding);
    const std::optional<PixelConverter> &converter() const { return converter_; }
    std::weak_ptr<int> alive_token() const { return alive_; }
    // Whether this client is encoding (its own job or a shared one) with
    // these settings now.
    bool encoding_with(const ShareKey &key) const;
    // Parked: ready with damage while clients of the same settings were
    // encoding, so it waits until none is instead of starting its own
    // encode, and is grouped with them then (share-pass.hpp).  The next
    // try_send_update() of a parked client encodes whatever happens.
    bool parked() const { return parked_; }
    bool encoding() const { return encoding_; }
    // A request is pending and the output is below the throttle: damage
    // pulled now would go out now.
    bool can_take_update() const
    {
        return phase_ == Phase::Normal && update_requested_ && output_backlog() <= throttle_limit() &&
               !flow_held();
    }

private:
    // I/O (connection.cpp)
    bool on_io(GIOCondition cond);
    void read_input();
    void process_input();
public:
    void queue(std::span<const uint8_t> bytes);

private:
    void flush();
    void update_watch();
    size_t output_backlog() const { return out_.size() + shared_bytes_; }
    // Every byte queued to this client so far (written or not).
    uint64_t queued_total() const { return written_ + output_backlog(); }
    bool output_empty() const { return out_.empty() && shared_out_.empty(); }
    size_t throttle_limit() const;

    // Handshake (connection-handshake.cpp)
    size_t handle_ws_handshake(io::Bytes in);
    void send_version();
    AuthType auth_type() const;
    size_t handle_version(io::Bytes in);
    size_t handle_security_type(io::Bytes in);
    size_t handle_security(io::Bytes in);
    size_t handle_client_init(io::Bytes in);
    void start_security();
    void auth_succeeded();
    void auth_failed(const std::string &why, bool reason_always = false, bool credentials = false);
    void send_server_init();
    void begin_tls();
    void drive_tls();
    void tls_established();
    void apply_step(const Step &s);
    std::unique_ptr<SecurityHandler> make_sasl(bool over_x509_tls);

    // Normal phase (connection-messages.cpp)
    size_t handle_message(io::Bytes in);
    void on_set_pixel_format(const rfb::SetPixelFormatMsg &m);
    void on_set_encodings(const rfb::SetEncodingsMsg &m);
    void on_update_request(const rfb::UpdateRequestMsg &m);
    void on_key(const rfb::KeyEventMsg &m);
    void on_pointer(const rfb::PointerEventMsg &m);
    void on_cut_text(const rfb::CutTextMsg &m);
    void on_qemu_ext_key(const rfb::QemuExtKeyMsg &m);
    void on_set_desktop_size(const rfb::SetDesktopSizeMsg &m);
    void on_xvp(const rfb::XvpMsg &m);
    void on_ext_clipboard(const rfb::ExtClipboardMsg &m);
    void on_qemu_audio(const rfb::QemuAudioMsg &m);
    void send_clipboard_caps();
    void on_enable_cu(const rfb::EnableCuMsg &m);
    void on_fence(const rfb::FenceMsg &m);
    void rebuild_converter();

    // Updates (connection-update.cpp)
    void write_update();
    // write_update's parts: pseudo-rectangles (and a colour map), then the
    // damage as rectangles to encode (coarsened for tile encodings).
    void write_pseudo();
    void take_update_rects(std::vector<Rect> &rects);
    // Encoding off the loop (connection-encode.cpp).
    std::unique_ptr<Encoder> take_encoder(int32_t encoding);
    void start_encode();
    void finish_encode();
    void write_cursor(io::ByteWriter &w);
    // Flow control (flow-control.hpp): for clients with continuous updates
    // and fences.  A ping is appended to out_ behind an update, so it goes
    // out in the same write.
    bool flow_active() const { return cu_enabled_ && fence_supported_ && !flow_off_; }
    bool flow_held() const { return flow_active() && flow_.congested(queued_total()); }
    void append_fence(uint32_t flags, io::Bytes payload);
    void append_ping(std::optional<uint32_t> id);
    void ping_after_update();
    void watch_flow_stall();
    void trim_heap(); // after dropping an own encode's buffers

    Server &server_;
    std::unique_ptr<io::Transport> transport_;
    io::AddressInfo peer_;
    std::optional<io::AddressInfo> listener_;
    bool websocket_;
    bool skipauth_;
    uint64_t serial_;

    Phase phase_ = Phase::Version;
    Share share_ = Share::Connecting;
    int minor_ = 8; // negotiated RFB minor version (3, 7 or 8)
    std::unique_ptr<SecurityHandler> security_;
    std::optional<std::string> x509_dname_;
    std::optional<std::string> sasl_username_;
    std::shared_ptr<crypto::SaslServer> sasl_; // kept for the security layer
    bool run_ssf_ = false;

    io::ByteBuffer in_;
    // Where the socket is read into before the bytes read are appended to
    // in_: a 64 KiB prepare() on in_ would zero-fill 64 KiB per read, which
    // cost more than the rest of a small update together.
    std::vector<uint8_t> read_buf_;
    io::ByteBuffer out_;
    // Shared updates queued behind out_'s bytes (zero-copy: every client
    // of a shared encode holds the one buffer).  `before`: out_ bytes to
    // write between the previous chunk (or the start) and this one.
    struct SharedChunk {
        std::shared_ptr<const io::ByteBuffer> bytes;
        size_t before = 0;
        size_t off = 0; // written so far
    };
    std::deque<SharedChunk> shared_out_;
    // Pieces one flush() write gathers at most (each shared chunk and the
    // own bytes before it are two).
    static constexpr size_t kFlushPieces = 16;
    // Drops n written bytes from the front of the queue (out_ and chunks).
    void consume_output(size_t n);
    size_t shared_bytes_ = 0; // unwritten bytes in shared_out_
    uint64_t written_ = 0;    // bytes the transport took, ever
    io::SourceHandle watch_;
    GIOCondition watch_cond_ = static_cast<GIOCondition>(0);
    io::SourceHandle handshake_timer_;
    io::SourceHandle fail_timer_;
    bool flush_then_close_ = false;
    // Runs once everything queued so far is on the wire: a transport layer
    // (TLS, websocket) must start exactly after the last plaintext byte.
    std::function<void()> after_flush_;
    bool want_write_ = false;       // the TLS handshake waits to write
    io::SourceHandle tls_timer_;
    bool in_process_ = false;
    // read_input() is on the stack: a failed write then waits for it (see
    // flush()), and the reason it failed closes the connection once the
    // input that arrived before has been processed.
    bool reading_ = false;
    std::optional<std::string> write_error_;

    // Update state.
    ClientCaps caps_;
    std::optional<PixelConverter> converter_;
    // Encoders keep their state (zlib streams) for the connection's life,
    // also when the client switches away and back.
    std::map<int32_t, std::unique_ptr<Encoder>> encoders_;
    // Tiles (TileFreq's grid) last sent lossy, and scratch for the
    // encoder's report of them.
    std::vector<uint8_t> lossy_tiles_;
    std::vector<Rect> lossy_rects_;
    DirtyMap dirty_;
    std::vector<Rect> rects_; // scratch for write_update, kept for its capacity
    // The encode job: kept across updates for its buffers; a worker owns
    // it while encoding_.  alive_ tells its completion whether the
    // connection still exists.
    std::shared_ptr<EncodeJob> job_;
    bool encoding_ = false;
    bool parked_ = false;     // see parked()
    // The own encoder encoded since it last joined a shared update.
    bool own_encoder_used_ = false;
    // Framebuffer updates encoded for this client alone, and those whose
    // bytes came from a shared encode; logged when it closes (how well
    // encode-once-send-many works shows there).
    uint64_t own_updates_ = 0;
    uint64_t shared_updates_ = 0;
    std::shared_ptr<int> alive_ = std::make_shared<int>(0);
    bool update_requested_ = false;
    bool force_update_ = false;
    bool pending_resize_ = false;
    bool pending_cursor_ = false;
    bool pending_pointer_type_ = false;
    bool pending_ext_key_ack_ = false;
    bool pending_name_ = false;
    bool pending_colour_map_ = false;
    bool pending_led_ = false;
    uint32_t client_clip_formats_ = 0;
    bool pending_audio_ack_ = false;
    bool audio_enabled_ = false;
    audio::Format audio_format_;
    double audio_phase_ = 0;
    bool ext_clipboard_announced_ = false;
    // Continuous updates (-313) and fences (-312), as TigerVNC does them.
    bool cu_supported_ = false, fence_supported_ = false;
    bool cu_enabled_ = false;
    Rect cu_region_{};
    FlowControl flow_;
    io::SourceHandle flow_timer_; // while held: see FlowControl::kStallMs
    bool flow_off_ = false;       // the client does not answer pings
    int64_t last_trim_us_ = 0;    // trim_heap()
    // CopyRect operations queued for the next update, in order.
    std::vector<std::pair<Rect, Rect>> copies_;
    struct DesktopSizeReply {
        uint16_t status;
        rfb::SetDesktopSizeMsg request;
    };
    std::optional<DesktopSizeReply> desktop_size_reply_;
    int client_w_ = 0, client_h_ = 0; // the framebuffer size the client knows
    uint8_t last_buttons_ = 0;
    int last_x_ = 0, last_y_ = 0;
};

} // namespace qvnc::vnc
