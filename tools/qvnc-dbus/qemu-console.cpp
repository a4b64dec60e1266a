#include "qemu-console.hpp"

#include <gio/gunixfdlist.h>

#include <unistd.h>

#include <algorithm>

namespace qvnc_dbus {
namespace {

constexpr const char *kBusName = "org.qemu";
constexpr const char *kConsoleInterface = "org.qemu.Display1.Console";
constexpr const char *kKeyboardInterface = "org.qemu.Display1.Keyboard";
constexpr const char *kMouseInterface = "org.qemu.Display1.Mouse";
constexpr const char *kAudioPath = "/org/qemu/Display1/Audio";
constexpr const char *kAudioInterface = "org.qemu.Display1.Audio";
constexpr const char *kPropertiesInterface = "org.freedesktop.DBus.Properties";
// After a failed attach, or QEMU dropping the listener while it stays on
// the bus: try again this much later.
constexpr unsigned kRetryMs = 1000;

bool cancelled(const GError *error)
{
    return error != nullptr && g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

} // namespace

// Passes the listener's calls on, except listener_closed: that one arrives
// inside the connection's "closed" signal, where the Listener must not be
// freed, so the detach runs from an idle callback.
class QemuConsole::Forwarder final : public ListenerSink {
public:
    explicit Forwarder(QemuConsole &console) : console_(console) {}
    ~Forwarder() override
    {
        if (idle_ != 0) {
            g_source_remove(idle_);
        }
    }
    Forwarder(const Forwarder &) = delete;
    Forwarder &operator=(const Forwarder &) = delete;

    void scanout(uint32_t w, uint32_t h, uint32_t stride, uint32_t format, std::span<const uint8_t> data) override
    {
        console_.scanout_width_ = static_cast<int>(w);
        console_.scanout_height_ = static_cast<int>(h);
        console_.awaiting_scanout_ = false;
        console_.sink_.scanout(w, h, stride, format, data);
        // The surface changed again while this registration was under way.
        if (console_.width_ != console_.scanout_width_ || console_.height_ != console_.scanout_height_) {
            console_.request_rescan();
        }
    }
    void update(int x, int y, int w, int h, uint32_t stride, uint32_t format, std::span<const uint8_t> data) override
    {
        // QEMU 7.2 switches surfaces without a new Scanout: an update
        // reaching past the scanout is the first sign of a bigger one.
        if (x + w > console_.scanout_width_ || y + h > console_.scanout_height_) {
            console_.request_rescan();
        }
        console_.sink_.update(x, y, w, h, stride, format, data);
    }
    void cursor_define(int w, int h, int hot_x, int hot_y, std::span<const uint8_t> data) override
    {
        console_.sink_.cursor_define(w, h, hot_x, hot_y, data);
    }
    void mouse_set(int x, int y, bool visible) override { console_.sink_.mouse_set(x, y, visible); }
    void disable() override { console_.sink_.disable(); }
    void listener_closed(const std::string &why) override
    {
        why_ = why;
        if (idle_ == 0) {
            idle_ = g_idle_add(
                +[](gpointer self) -> gboolean {
                    auto *f = static_cast<Forwarder *>(self);
                    f->idle_ = 0;
                    f->console_.listener_closed(f->why_); // frees f
                    return G_SOURCE_REMOVE;
                },
                this);
        }
    }

private:
    QemuConsole &console_;
    std::string why_;
    unsigned idle_ = 0;
};

QemuConsole::QemuConsole(GDBusConnection *bus, bool peer, unsigned console_id, ConsoleSink &sink)
    : bus_(bus), peer_(peer), path_("/org/qemu/Display1/Console_" + std::to_string(console_id)), sink_(sink)
{
}

void QemuConsole::peer_gone(const std::string &why)
{
    present_ = false;
    detach(why);
}

QemuConsole::~QemuConsole()
{
    if (retry_source_ != 0) {
        g_source_remove(retry_source_);
    }
    if (rescan_source_ != 0) {
        g_source_remove(rescan_source_);
    }
    if (watch_ != 0) {
        g_bus_unwatch_name(watch_);
    }
    for (GObjectPtr<GCancellable> *c : {&cancellable_, &registration_}) {
        if (*c) {
            g_cancellable_cancel(c->get());
        }
    }
    if (properties_subscription_ != 0) {
        g_dbus_connection_signal_unsubscribe(bus_, properties_subscription_);
    }
}

void QemuConsole::start()
{
    if (peer_) {
        // A private connection to QEMU: it is there until the connection
        // closes (the owner of this object then tells it: peer_gone()).
        present_ = true;
        attach();
        return;
    }
    watch_ = g_bus_watch_name_on_connection(bus_, kBusName, G_BUS_NAME_WATCHER_FLAGS_NONE,
                                            &QemuConsole::on_name_appeared, &QemuConsole::on_name_vanished, this,
                                            nullptr);
}

void QemuConsole::on_name_appeared(GDBusConnection *, const gchar *, const gchar *owner, gpointer opaque)
{
    auto *self = static_cast<QemuConsole *>(opaque);
    self->owner_ = owner;
    self->present_ = true;
    self->attach();
}

void QemuConsole::on_name_vanished(GDBusConnection *, const gchar *, gpointer opaque)
{
    auto *self = static_cast<QemuConsole *>(opaque);
    const bool was_there = self->present_;
    self->owner_.clear();
    self->present_ = false;
    if (self->retry_source_ != 0) {
        g_source_remove(self->retry_source_);
        self->retry_source_ = 0;
    }
    if (was_there) {
        self->detach("QEMU left the bus (" + std::string(kBusName) + " vanished)");
    }
}

void QemuConsole::attach()
{
    // A retry scheduled for an earlier QEMU must not detach this attachment.
    if (retry_source_ != 0) {
        g_source_remove(retry_source_);
        retry_source_ = 0;
    }
    detach("re-attaching");
    cancellable_.reset(g_cancellable_new());
    g_dbus_connection_call(bus_, destination(), path_.c_str(), kPropertiesInterface, "GetAll",
                           g_variant_new("(s)", kConsoleInterface), G_VARIANT_TYPE("(a{sv})"),
                           G_DBUS_CALL_FLAGS_NO_AUTO_START, -1, cancellable_.get(),
                           &QemuConsole::on_console_properties, this);
}

void QemuConsole::detach(const std::string &why)
{
    for (GObjectPtr<GCancellable> *c : {&cancellable_, &registration_}) {
        if (*c) {
            g_cancellable_cancel(c->get());
            c->reset();
        }
    }
    if (properties_subscription_ != 0) {
        g_dbus_connection_signal_unsubscribe(bus_, properties_subscription_);
        properties_subscription_ = 0;
    }
    if (rescan_source_ != 0) {
        g_source_remove(rescan_source_);
        rescan_source_ = 0;
    }
    listener_.reset();
    audio_.reset();
    forwarder_.reset();
    pointer_.reset();
    scanout_width_ = scanout_height_ = 0;
    awaiting_scanout_ = false;
    if (attached_) {
        attached_ = false;
        sink_.detached(why);
    }
}

void QemuConsole::listener_closed(const std::string &why)
{
    if (!attached_) {
        sink_.attach_failed(why);
    }
    detach("the listener connection closed: " + why);
    if (present_ && retry_source_ == 0) {
        retry_source_ = g_timeout_add(
            kRetryMs,
            +[](gpointer opaque) -> gboolean {
                auto *self = static_cast<QemuConsole *>(opaque);
                self->retry_source_ = 0;
                if (self->present_) {
                    self->attach();
                }
                return G_SOURCE_REMOVE;
            },
            this);
    }
}

void QemuConsole::on_console_properties(GObject *source, GAsyncResult *result, gpointer opaque)
{
    GError *raw = nullptr;
    GVariantPtr reply(g_dbus_connection_call_finish(G_DBUS_CONNECTION(source), result, &raw));
    GErrorPtr err(raw);
    if (cancelled(err.get())) {
        return;
    }
    auto *self = static_cast<QemuConsole *>(opaque);
    if (!reply) {
        self->listener_closed(std::string("cannot read ") + self->path_ + ": " + err->message);
        return;
    }
    GVariantPtr props(g_variant_get_child_value(reply.get(), 0));
    const gchar *label = nullptr;
    guint32 width = 0, height = 0;
    g_variant_lookup(props.get(), "Label", "&s", &label);
    g_variant_lookup(props.get(), "Width", "u", &width);
    g_variant_lookup(props.get(), "Height", "u", &height);
    self->label_ = label != nullptr ? label : "";
    self->width_ = static_cast<int>(width);
    self->height_ = static_cast<int>(height);

    // Mouse mode and keyboard LEDs: read now, then follow their changes.
    self->properties_subscription_ = g_dbus_connection_signal_subscribe(
        self->bus_, self->destination(), kPropertiesInterface, "PropertiesChanged", self->path_.c_str(), nullptr,
        G_DBUS_SIGNAL_FLAGS_NONE, &QemuConsole::on_properties_changed, self, nullptr);
    for (const char *iface : {kMouseInterface, kKeyboardInterface}) {
        g_dbus_connection_call(self->bus_, self->destination(), self->path_.c_str(), kPropertiesInterface, "GetAll",
                               g_variant_new("(s)", iface), G_VARIANT_TYPE("(a{sv})"),
                               G_DBUS_CALL_FLAGS_NO_AUTO_START, -1, self->cancellable_.get(),
                               &QemuConsole::on_input_properties, self);
    }

    self->register_listener();
    self->register_audio();
}

// A new peer-to-peer listener replaces the current one, if any: QEMU
// answers a registration with a Scanout of its current surface.
void QemuConsole::register_listener()
{
    // A registration still in flight belongs to the listener being
    // replaced: its answer must not count.
    if (registration_) {
        g_cancellable_cancel(registration_.get());
    }
    registration_.reset(g_cancellable_new());
    awaiting_scanout_ = true;
    listener_.reset();
    std::string error;
    forwarder_ = std::make_unique<Forwarder>(*this);
    listener_ = Listener::create(*forwarder_, error);
    if (!listener_) {
        listener_closed(error);
        return;
    }
    GObjectPtr<GUnixFDList> fds(g_unix_fd_list_new());
    const int qemu_fd = listener_->take_qemu_fd();
    GError *raw = nullptr;
    const int index = g_unix_fd_list_append(fds.get(), qemu_fd, &raw); // dups it
    close(qemu_fd);
    if (index < 0) {
        GErrorPtr err(raw);
        listener_closed(std::string("fd list: ") + err->message);
        return;
    }
    g_dbus_connection_call_with_unix_fd_list(bus_, destination(), path_.c_str(),
                                             kConsoleInterface, "RegisterListener", g_variant_new("(h)", index),
                                             nullptr, G_DBUS_CALL_FLAGS_NO_AUTO_START, -1, fds.get(),
                                             registration_.get(), &QemuConsole::on_registered, this);
}


// Audio is VM-wide and optional: QEMU has /org/qemu/Display1/Audio only with
// -display dbus,audiodev=ID.  Failing to register just means no sound.
void QemuConsole::register_audio()
{
    std::string error;
    audio_ = AudioListener::create(sink_, error);
    if (!audio_) {
        return;
    }
    GObjectPtr<GUnixFDList> fds(g_unix_fd_list_new());
    const int qemu_fd = audio_->take_qemu_fd();
    GError *raw = nullptr;
    const int index = g_unix_fd_list_append(fds.get(), qemu_fd, &raw); // dups it
    close(qemu_fd);
    if (index < 0) {
        GErrorPtr err(raw);
        audio_.reset();
        return;
    }
    g_dbus_connection_call_with_unix_fd_list(bus_, destination(), kAudioPath, kAudioInterface, "RegisterOutListener",
                                             g_variant_new("(h)", index), nullptr, G_DBUS_CALL_FLAGS_NO_AUTO_START,
                                             -1, fds.get(), cancellable_.get(), &QemuConsole::on_audio_registered,
                                             this);
}

void QemuConsole::on_audio_registered(GObject *source, GAsyncResult *result, gpointer opaque)
{
    GError *raw = nullptr;
    GVariantPtr reply(
        g_dbus_connection_call_with_unix_fd_list_finish(G_DBUS_CONNECTION(source), nullptr, result, &raw));
    GErrorPtr err(raw);
    if (cancelled(err.get())) {
        return;
    }
    if (!reply) {
        static_cast<QemuConsole *>(opaque)->audio_.reset(); // no D-Bus audio in this QEMU
    }
}

void QemuConsole::on_registered(GObject *source, GAsyncResult *result, gpointer opaque)
{
    GError *raw = nullptr;
    GVariantPtr reply(
        g_dbus_connection_call_with_unix_fd_list_finish(G_DBUS_CONNECTION(source), nullptr, result, &raw));
    GErrorPtr err(raw);
    if (cancelled(err.get())) {
        return;
    }
    auto *self = static_cast<QemuConsole *>(opaque);
    if (!reply) {
        self->listener_closed(std::string("RegisterListener: ") + err->message);
        return;
    }
    if (!self->attached_) {
        self->attached_ = true;
        self->sink_.attached(self->label_, self->width_, self->height_);
    }
}

void QemuConsole::on_input_properties(GObject *source, GAsyncResult *result, gpointer opaque)
{
    GError *raw = nullptr;
    GVariantPtr reply(g_dbus_connection_call_finish(G_DBUS_CONNECTION(source), result, &raw));
    GErrorPtr err(raw);
    if (cancelled(err.get()) || !reply) {
        return; // a console without keyboard or mouse: nothing to follow
    }
    auto *self = static_cast<QemuConsole *>(opaque);
    GVariantPtr props(g_variant_get_child_value(reply.get(), 0));
    GVariantIter iter;
    g_variant_iter_init(&iter, props.get());
    const gchar *name = nullptr;
    GVariant *value = nullptr;
    while (g_variant_iter_next(&iter, "{&sv}", &name, &value)) {
        GVariantPtr owned(value);
        self->apply_input_property(name, value);
    }
}

void QemuConsole::on_properties_changed(GDBusConnection *, const gchar *, const gchar *, const gchar *,
                                        const gchar *, GVariant *parameters, gpointer opaque)
{
    auto *self = static_cast<QemuConsole *>(opaque);
    const gchar *iface = nullptr;
    GVariant *changed = nullptr;
    g_variant_get(parameters, "(&s@a{sv}@as)", &iface, &changed, nullptr);
    GVariantPtr owned(changed);
    if (g_strcmp0(iface, kMouseInterface) != 0 && g_strcmp0(iface, kKeyboardInterface) != 0 &&
        g_strcmp0(iface, kConsoleInterface) != 0) {
        return;
    }
    GVariantIter iter;
    g_variant_iter_init(&iter, changed);
    const gchar *name = nullptr;
    GVariant *value = nullptr;
    while (g_variant_iter_next(&iter, "{&sv}", &name, &value)) {
        GVariantPtr v(value);
        self->apply_input_property(name, value);
    }
}

void QemuConsole::apply_input_property(const char *name, GVariant *value)
{
    if (g_strcmp0(name, "IsAbsolute") == 0 && g_variant_is_of_type(value, G_VARIANT_TYPE_BOOLEAN)) {
        absolute_ = g_variant_get_boolean(value) != FALSE;
        pointer_.reset();
        sink_.pointer_absolute(absolute_);
    } else if (g_strcmp0(name, "Modifiers") == 0 && g_variant_is_of_type(value, G_VARIANT_TYPE_UINT32)) {
        sink_.keyboard_leds(g_variant_get_uint32(value) & 7u);
    } else if ((g_strcmp0(name, "Width") == 0 || g_strcmp0(name, "Height") == 0) &&
               g_variant_is_of_type(value, G_VARIANT_TYPE_UINT32)) {
        // The console's surface changed size.  QEMU 7.2 tells listeners
        // only through the pixels of later updates (8.0 sends a Scanout),
        // so ask for a Scanout by registering a fresh listener.
        const int size = static_cast<int>(g_variant_get_uint32(value));
        int &known = name[0] == 'W' ? width_ : height_;
        known = size;
        if (listener_ && (width_ != scanout_width_ || height_ != scanout_height_)) {
            request_rescan();
        }
    }
}

void QemuConsole::request_rescan()
{
    // One registration at a time: its Scanout is checked again on arrival.
    if (rescan_source_ != 0 || !attached_ || awaiting_scanout_) {
        return;
    }
    // From an idle callback: this may run inside a listener method call.
    rescan_source_ = g_idle_add(
        +[](gpointer opaque) -> gboolean {
            auto *self = static_cast<QemuConsole *>(opaque);
            self->rescan_source_ = 0;
            if (self->attached_) {
                self->register_listener();
            }
            return G_SOURCE_REMOVE;
        },
        this);
}

void QemuConsole::call(const char *interface_name, const char *method, GVariant *parameters)
{
    // Fire and forget, in order on the one connection: an input event QEMU
    // refuses (e.g. a race with a mouse mode change) is simply lost, as a
    // real keyboard or mouse event would be.
    g_dbus_connection_call(bus_, destination(), path_.c_str(), interface_name, method, parameters, nullptr,
                           G_DBUS_CALL_FLAGS_NO_AUTO_START, -1, nullptr, nullptr, nullptr);
}

void QemuConsole::key(uint32_t qnum, bool down)
{
    if (!attached_ || qnum == 0) {
        return;
    }
    call(kKeyboardInterface, down ? "Press" : "Release", g_variant_new("(u)", qnum));
}

void QemuConsole::pointer(int x, int y, uint32_t buttons)
{
    if (!attached_) {
        return;
    }
    for (const MouseCall &c : pointer_.translate(x, y, buttons, absolute_)) {
        switch (c.kind) {
        case MouseCall::Kind::Press:
            call(kMouseInterface, "Press", g_variant_new("(u)", static_cast<guint32>(c.a)));
            break;
        case MouseCall::Kind::Release:
            call(kMouseInterface, "Release", g_variant_new("(u)", static_cast<guint32>(c.a)));
            break;
        case MouseCall::Kind::SetAbsPosition:
            call(kMouseInterface, "SetAbsPosition",
                 g_variant_new("(uu)", static_cast<guint32>(std::max(c.a, 0)), static_cast<guint32>(std::max(c.b, 0))));
            break;
        case MouseCall::Kind::RelMotion:
            call(kMouseInterface, "RelMotion", g_variant_new("(ii)", c.a, c.b));
            break;
        }
    }
}

void QemuConsole::set_ui_info(int width, int height)
{
    if (!attached_ || width <= 0 || height <= 0) {
        return;
    }
    // Millimetres at 96 dpi, as a desktop client would report them.
    const auto mm = [](int px) { return static_cast<guint16>(std::min(px * 254 / 960, 65535)); };
    call(kConsoleInterface, "SetUIInfo",
         g_variant_new("(qqiiuu)", mm(width), mm(height), 0, 0, static_cast<guint32>(width),
                       static_cast<guint32>(height)));
}

} // namespace qvnc_dbus
