// qvnc-dbus's VNC side: one qvnc_context with the -object/-vnc/-monitor
// setup of the shared front end, fed by a QemuConsole.  Frames, cursor and
// LEDs from QEMU go to every display; input from VNC clients goes to QEMU.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "framebuffer.hpp"
#include "gobject-ptr.hpp"
#include "options.hpp"
#include "qemu-console.hpp"
#include "qvnc-monitor.h"

namespace qvnc_dbus {

class Server final : public ConsoleSink {
public:
    Server(Options options, GMainLoop *loop);
    ~Server() override;

    Server(const Server &) = delete;
    Server &operator=(const Server &) = delete;

    // Opens the displays and monitors and starts watching for QEMU;
    // false (after printing why) on a configuration error.
    bool start();

    // ConsoleSink
    void scanout(uint32_t width, uint32_t height, uint32_t stride, uint32_t format,
                 std::span<const uint8_t> data) override;
    void update(int x, int y, int width, int height, uint32_t stride, uint32_t format,
                std::span<const uint8_t> data) override;
    void cursor_define(int width, int height, int hot_x, int hot_y, std::span<const uint8_t> data) override;
    void mouse_set(int x, int y, bool visible) override;
    void disable() override;
    void listener_closed(const std::string &why) override;
    void attached(const std::string &label, int width, int height) override;
    void detached(const std::string &why) override;
    void attach_failed(const std::string &why) override;
    void pointer_absolute(bool absolute) override;
    void keyboard_leds(unsigned leds) override;
    void audio_init(uint64_t stream, const PcmFormat &format) override;
    void audio_fini(uint64_t stream) override;
    void audio_enabled(uint64_t stream, bool enabled) override;
    void audio_write(uint64_t stream, std::span<const uint8_t> pcm) override;

private:
    struct ContextFree {
        void operator()(qvnc_context *c) const { qvnc_context_free(c); }
    };
    struct DisplayClose {
        void operator()(qvnc_display *d) const { qvnc_display_close(d); }
    };
    struct MonitorFree {
        void operator()(qvnc_monitor *m) const { qvnc_monitor_free(m); }
    };
    // The callbacks' opaque pointer: entries live in unique_ptrs that never
    // move.  `display` last, so it is closed while `owner` is still valid.
    struct Entry {
        Server *owner = nullptr;
        std::string spec; // the -vnc argument, to reopen it
        std::unique_ptr<qvnc_display, DisplayClose> display;
    };

    static const qvnc_display_ops kOps;
    static void on_key(void *opaque, uint32_t keysym, uint32_t qnum, bool down);
    static void on_pointer(void *opaque, int x, int y, uint32_t buttons);
    static void on_cut_text(void *opaque, const char *text, size_t len);
    static void on_client(void *opaque, qvnc_client_event event, const qvnc_client_info *client);
    static bool on_desktop_resize(void *opaque, int width, int height);

    bool fail(const std::string &message);
    bool connect_bus();
    // Peer-to-peer mode (--qemu-qmp): hand-over attempts, once a second
    // until QEMU answers, and again after it went away.
    void try_peer();
    void schedule_peer_retry();
    static void on_peer_ready(GObject *source, GAsyncResult *result, gpointer self);
    void peer_closed(const std::string &why);
    bool open_display(Entry &entry, std::string &error);
    bool set_up_monitor();
    void show_surface();

    Options options_;
    GMainLoop *loop_;
    std::unique_ptr<qvnc_context, ContextFree> context_;
    // Before the displays: they borrow its pixels until they are closed.
    Framebuffer framebuffer_;
    std::vector<std::unique_ptr<Entry>> entries_;
    std::unique_ptr<qvnc_monitor, MonitorFree> monitor_; // freed before the context
    GObjectPtr<GDBusConnection> bus_;       // the bus, or the private connection
    GObjectPtr<GCancellable> peer_cancellable_{g_cancellable_new()};
    unsigned peer_retry_ = 0;
    bool cut_text_logged_ = false;
    unsigned peer_closed_idle_ = 0;
    std::string peer_closed_why_;
    std::string last_peer_error_;           // logged once, not every second
    std::string last_attach_error_;         // likewise
    struct AudioStream {
        PcmFormat format;
        bool enabled = true;
    };
    std::map<uint64_t, AudioStream> audio_streams_;
    std::vector<int16_t> audio_buffer_;    // reused for each Write
    std::unique_ptr<QemuConsole> console_;  // destroyed first
};

} // namespace qvnc_dbus
