// One VNC display (one -vnc option, QEMU's VncDisplay): its listeners, its
// clients, the server-side copy of the guest surface, the cursor and the
// password.  The emulator drives it through the C ABI.
#pragma once

#include <cstdint>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "auth-plan.hpp"
#include "console.hpp"
#include "keyboard.hpp"
#include "cursor.hpp"
#include "dirty-map.hpp"
#include "listener.hpp"
#include "qvnc-display.h"
#include "security-vncauth.hpp"
#include "server-framebuffer.hpp"
#include "share-pass.hpp"
#include "update-stats.hpp"
#include "source-handle.hpp"
#include "surface.hpp"
#include "tls-creds.hpp"
#include "unique-fd.hpp"
#include "vnc-config.hpp"

namespace qvnc {
class Context;
namespace work {
class WorkerPool;
}
} // namespace qvnc

namespace qvnc::vnc {

class Connection;

class Server final : public ConsoleListener {
public:
    Server(Context &ctx, VncConfig config, const qvnc_display_ops *ops, void *opaque);
    ~Server();
    Server(const Server &) = delete;
    Server &operator=(const Server &) = delete;

    // Checks the configuration against what is implemented, resolves
    // objects and starts listening.
    Status start();

    const std::string &id() const { return config_.id; }
    const VncConfig &config() const { return config_; }
    const AuthPlan &auth_plan() const { return plan_; }
    Context &context() { return ctx_; }
    GMainContext *main_context() const;

    // Emulator API.
    Status switch_surface(const qvnc_surface *surface);
    void update(int x, int y, int w, int h);
    // qvnc_display_flush: the compare pass scheduled by update() runs now.
    void flush_damage();
    Status set_cursor(int w, int h, int hot_x, int hot_y, const uint32_t *argb);
    void mouse_set(int x, int y, bool visible);
    void set_pointer_absolute(bool absolute);
    void name_changed();
    void set_led_state(unsigned leds);
    unsigned led_state() const { return console_->leds(); }
    void bell();
    // Audio: whether the emulator plays any (the -259 ack), and its samples.
    void set_audio_available(bool on) { audio_available_ = on; }
    bool audio_available() const { return audio_available_; }
    void audio_write(std::span<const int16_t> samples, int channels, int frequency);
    // The guest clipboard (UTF-8), offered to clients.
    void set_clipboard(std::string utf8);
    const std::optional<std::string> &clipboard() const { return clipboard_; }
    // The guest moved pixels (a blit); clients that can take CopyRect get
    // one instead of the pixels (strict bounds: CVE-2016-9603).
    Status copy(int src_x, int src_y, int dst_x, int dst_y, int w, int h);
    // XVP: false answers XVP_FAIL.
    bool power_action(uint8_t code);
    Status set_password(const std::string &password);
    Status expire_password(int64_t when);
    Status add_client(io::UniqueFd fd, bool skipauth);
    // display-update: listen on these addresses instead (websocket
    // listeners stay); on failure the old listeners are kept.
    Status replace_addresses(const std::vector<ListenAddress> &addresses);

    // Used by connections.
    std::shared_ptr<crypto::TlsCreds> tls_creds() const { return tls_creds_; }
    // The x509 DN authorization: tls-authz=ID, or the vnc.x509dname ACL with
    // the legacy `acl` flag; allowed when neither is configured.
    bool x509_allowed(const std::string &dname, std::string *why) const;
    // The SASL username authorization: sasl-authz=ID or the vnc.username ACL.
    bool sasl_allowed(const std::string &user, std::string *why) const;
    // display-reload: loads the certificates again for later clients.
    Status reload_tls();
    // vnc.<kind> for the default display, vnc.<id>.<kind> otherwise.
    std::string legacy_acl_name(const char *kind) const;
    PasswordState password_state() const { return {password_, expires_}; }
    const ServerFramebuffer &framebuffer() const { return fb_; }
    int width() const { return fb_.width(); }
    int height() const { return fb_.height(); }
    const Cursor &cursor() const { return console_->cursor(); }
    bool pointer_absolute() const { return console_->pointer_absolute(); }
    Console &console() { return *console_; }
    std::string desktop_name() const;
    void reap_later();
    // The display's encoder threads, started on first use.
    work::WorkerPool &workers();
    bool damage_pending() const { return guest_dirty_.any(); }
    // Gives an encoder job the pixels of `rects` to read: the server copy
    // in place (shared, copy on write) unless the compare pass waits for
    // in-place readers, so that they drain; then a snapshot.  return_pixels
    // once the job is done.
    void lend_pixels(EncodeJob &job, std::span<const Rect> rects);
    void return_pixels(EncodeJob &job);
    // Adaptive lossy encoding (update-stats.hpp): the tiles' update
    // frequencies for encoders, or null when lossy is off or non-adaptive.
    const TileFreq *tile_freq() const;
    const UpdateStats &update_stats() const { return stats_; }
    const SharePass &share_pass() const { return share_; }
    // Encode jobs ended (of `finished`, whose bytes are queued; none when
    // the client is gone): one share pass, then parked clients whose
    // settings nobody encodes any more get their own update, then the
    // finished ones theirs (share-pass.hpp).
    void after_jobs(std::span<Connection *const> finished);
    // Another client with c's settings is encoding now.
    bool share_peer_busy(Connection &c) const;
    // A client waits with nothing left to send (qvnc_display_ops.update_wanted).
    void notify_update_wanted();
    // Brings the server copy up to date with the guest (ServerInit of a new
    // client must not describe a stale frame).
    void pull_damage();
    // The compare-and-copy pass of pull_damage: guest_dirty_ into changed_
    // (on the pool when the damage is big).
    void compare_damage(bool write_shared);
    // A vertical scroll found in the guest's damage (scroll-detect.hpp) is
    // moved in the server copy and sent as CopyRect to clients that take
    // it; the compare then finds only the new rows.  Only when some client
    // takes CopyRects and no job shares the pixels (the move would copy
    // the whole frame first).  Returns the band's destination (empty when
    // nothing moved): its tiles changed for the adaptive statistics.
    Rect move_scrolled();
    void client_event(qvnc_client_event ev, const Connection &c);
    // From a client: through the keymap, key delay and lock sync.
    void client_key(uint32_t keysym, uint32_t qnum, bool down, bool client_has_leds);
    void client_gone();
    void pointer_event(int x, int y, uint32_t buttons);
    void cut_text(const std::string &utf8);
    bool desktop_resize(int w, int h);
    // Share policy at ClientInit (spec §2.9); false = drop this client.
    bool admit_shared(Connection &c, bool shared_flag);
    const std::list<std::unique_ptr<Connection>> &connections() const { return conns_; }
    const std::vector<std::unique_ptr<Listener>> &listeners() const { return listeners_; }
    uint64_t next_serial() { return ++serial_; }
    void log_client(qvnc_log_level lvl, const Connection &c, const std::string &msg) const;

private:
    // x509_allowed and sasl_allowed: the option's authz object, else the
    // legacy ACL of `legacy_kind` when `acl` is set, else allowed.
    bool authz_allowed(const std::string &authz, const char *legacy_kind, const std::string &id,
                       std::string *why) const;
    void accept_connection(io::UniqueFd fd, bool skipauth,
                           std::optional<io::AddressInfo> listener, bool websocket);
    void enforce_connection_limit();
    void schedule_refresh();
    // Calls into the emulator (qvnc_display_ops) go through here: an
    // emulator that draws and flushes from inside one (a key press that
    // repaints) must not re-enter the update path that called it.
    template <class F>
    decltype(auto) call_host(F &&f)
    {
        struct Depth {
            int &n;
            explicit Depth(int &d) : n(++d) {}
            ~Depth() { --n; }
        } depth(host_calls_);
        return f();
    }
    // Adaptive mode (server-adaptive.cpp): the changes of a compare pass
    // into the statistics, and the timer that finds idle tiles.
    void record_changes();
    void record_copy(const Rect &dst);
    void start_stats_timer();
    void expire_stats();
    void refresh();
    void reap();
    // ConsoleListener (server-console.cpp)
    void console_surface_changed() override;
    void console_damage(int x, int y, int w, int h) override;
    void console_cursor_changed() override;
    void console_pointer_mode_changed() override;
    void console_leds_changed() override;
    Status resolve_tls();
    Status connect_reverse();
    Result<std::vector<std::unique_ptr<Listener>>> open_listeners(
        const std::vector<ListenAddress> &addresses, bool websocket);

    Context &ctx_;
    VncConfig config_;
    qvnc_display_ops ops_{};
    void *opaque_ = nullptr;
    AuthPlan plan_{};
    std::shared_ptr<crypto::TlsCreds> tls_creds_;

    std::vector<std::unique_ptr<Listener>> listeners_;
    std::list<std::unique_ptr<Connection>> conns_;
    io::SourceHandle reap_source_;
    uint64_t serial_ = 0;

    std::optional<std::string> password_;
    int64_t expires_ = -1;

    std::shared_ptr<Console> console_;
    std::optional<std::string> clipboard_;
    bool audio_available_ = false;
    // Key state is per display, as in QEMU (shared clients share it).
    std::unique_ptr<KeyboardProcessor> keyboard_;
    ServerFramebuffer fb_;
    DirtyMap guest_dirty_{0, 0};
    DirtyMap changed_{0, 0};
    Rect moved_;                 // this pass's scrolled band (move_scrolled)
    bool pull_deferred_ = false; // pull_damage() waits for in-place readers
    std::vector<uint64_t> refresh_differ_; // compare_damage's bands' results
    // Jobs reading fb_ in place: the compare pass writes around their rects.
    std::vector<const EncodeJob *> lent_;
    bool damage_meets_lent() const;
    io::SourceHandle refresh_source_; // pending compare pass (idle)
    int host_calls_ = 0;              // call_host() depth
    UpdateStats stats_;
    io::SourceHandle stats_timer_; // only while stats_.active()
    std::vector<int> idle_tiles_;
    // Encode once, send many (share-pass.hpp).  Its jobs' completions run
    // through workers_, which ~Server stops first.
    SharePass share_{*this};
    // Jobs own copies of what they read; ~Server joins the threads after
    // the connections are gone.
    std::unique_ptr<work::WorkerPool> workers_;
};

} // namespace qvnc::vnc
