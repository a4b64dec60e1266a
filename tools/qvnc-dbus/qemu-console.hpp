// One QEMU console seen through org.qemu.Display1 on a message bus: waits
// for QEMU's name (org.qemu) to appear, registers a Listener on
// /org/qemu/Display1/Console_N, and sends keyboard and mouse input back.
// QEMU leaving the bus, or dropping the listener, detaches; QEMU appearing
// again (or qvnc-dbus starting while it runs) attaches.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "audio-listener.hpp"
#include "gobject-ptr.hpp"
#include "listener.hpp"
#include "pointer.hpp"

namespace qvnc_dbus {

class ConsoleSink : public ListenerSink, public AudioSink {
public:
    // The listener is registered: frames follow.
    virtual void attached(const std::string &label, int width, int height) = 0;
    // QEMU went away or dropped the listener; `why` is for the log.
    virtual void detached(const std::string &why) = 0;
    // Attaching failed (no such console, ...); retried every second.
    virtual void attach_failed(const std::string &why) = 0;
    // Mouse.IsAbsolute.
    virtual void pointer_absolute(bool absolute) = 0;
    // Keyboard.Modifiers: scroll 1, num 2, caps 4 (QVNC_LED_* bits).
    virtual void keyboard_leds(unsigned leds) = 0;
};

class QemuConsole {
public:
    // `bus` is borrowed and must outlive this object.  peer: `bus` is a
    // private connection to QEMU (-display dbus,p2p=yes), not a message bus.
    QemuConsole(GDBusConnection *bus, bool peer, unsigned console_id, ConsoleSink &sink);
    ~QemuConsole();

    QemuConsole(const QemuConsole &) = delete;
    QemuConsole &operator=(const QemuConsole &) = delete;

    // Starts watching for QEMU; attaches as soon as it is there.
    void start();
    bool is_attached() const { return attached_; }
    // Peer mode: the private connection closed.
    void peer_gone(const std::string &why);

    // Input; dropped while detached.  qnum is QEMU's key number (the
    // Keyboard interface takes exactly that).
    void key(uint32_t qnum, bool down);
    void pointer(int x, int y, uint32_t buttons);
    // A client's SetDesktopSize, as Console.SetUIInfo.
    void set_ui_info(int width, int height);

private:
    class Forwarder;
    static void on_name_appeared(GDBusConnection *bus, const gchar *name, const gchar *owner, gpointer self);
    static void on_name_vanished(GDBusConnection *bus, const gchar *name, gpointer self);
    static void on_console_properties(GObject *source, GAsyncResult *result, gpointer self);
    static void on_registered(GObject *source, GAsyncResult *result, gpointer self);
    static void on_properties_changed(GDBusConnection *bus, const gchar *sender, const gchar *path,
                                      const gchar *interface_name, const gchar *signal, GVariant *parameters,
                                      gpointer self);
    static void on_input_properties(GObject *source, GAsyncResult *result, gpointer self);

    void attach();
    void detach(const std::string &why);
    void apply_input_property(const char *name, GVariant *value);
    void call(const char *interface_name, const char *method, GVariant *parameters);
    void listener_closed(const std::string &why);
    void register_listener();
    void register_audio();
    static void on_audio_registered(GObject *source, GAsyncResult *result, gpointer self);
    void request_rescan();

    // No destination on a private connection; QEMU's unique name on a bus.
    const char *destination() const { return peer_ ? nullptr : owner_.c_str(); }

    GDBusConnection *bus_;
    bool peer_ = false;
    bool present_ = false;        // QEMU is reachable (name owned / peer open)
    std::string path_;
    ConsoleSink &sink_;
    unsigned watch_ = 0;
    unsigned properties_subscription_ = 0;
    unsigned retry_source_ = 0;
    unsigned rescan_source_ = 0;
    std::string owner_;           // QEMU's unique bus name while it is there
    GObjectPtr<GCancellable> cancellable_;   // everything of one attachment
    GObjectPtr<GCancellable> registration_;  // the current RegisterListener
    std::unique_ptr<Forwarder> forwarder_;
    std::unique_ptr<Listener> listener_;
    std::unique_ptr<AudioListener> audio_;   // only when QEMU has D-Bus audio
    std::string label_;
    int width_ = 0;           // Console.Width/Height: QEMU's surface
    int height_ = 0;
    int scanout_width_ = 0;   // the last Scanout's size
    int scanout_height_ = 0;
    bool awaiting_scanout_ = false; // a registration's first Scanout is due
    bool attached_ = false;
    bool absolute_ = false;
    PointerTranslator pointer_;
};

} // namespace qvnc_dbus
