#include "server.hpp"

#include <cstdio>
#include <cstring>

#include <unistd.h>

#include "qmp-handoff.hpp"

namespace qvnc_dbus {
namespace {

struct ErrorFree {
    void operator()(qvnc_error *err) const { qvnc_error_free(err); }
};
using ErrorPtr = std::unique_ptr<qvnc_error, ErrorFree>;

// One machine-readable event per stdout line (tests wait for them).
void emit_line(const std::string &line)
{
    std::fprintf(stdout, "%s\n", line.c_str());
    std::fflush(stdout);
}

void log_line(const std::string &line)
{
    std::fprintf(stderr, "qvnc-dbus: %s\n", line.c_str());
}

std::string size_text(int w, int h)
{
    return std::to_string(w) + "x" + std::to_string(h);
}

} // namespace

const qvnc_display_ops Server::kOps = {
    .struct_size = sizeof(qvnc_display_ops),
    .key_event = &Server::on_key,
    .pointer_event = &Server::on_pointer,
    .cut_text = &Server::on_cut_text,
    .client_event = &Server::on_client,
    .desktop_resize = &Server::on_desktop_resize,
    .power_control = nullptr,
    .update_wanted = nullptr,
};

Server::Server(Options options, GMainLoop *loop) : options_(std::move(options)), loop_(loop) {}

Server::~Server()
{
    // The console goes first (it uses the connection), then our own
    // "closed" handlers, which must not run on a half-destroyed Server.
    console_.reset();
    if (bus_) {
        g_signal_handlers_disconnect_by_data(bus_.get(), this);
    }
    g_cancellable_cancel(peer_cancellable_.get());
    for (unsigned source : {peer_retry_, peer_closed_idle_}) {
        if (source != 0) {
            g_source_remove(source);
        }
    }
}

bool Server::fail(const std::string &message)
{
    log_line(message);
    return false;
}

bool Server::start()
{
    qvnc_error *raw = nullptr;
    context_.reset(qvnc_context_new(nullptr, &raw));
    ErrorPtr err(raw);
    if (!context_) {
        return fail(std::string("cannot create the VNC context: ") + qvnc_error_get_message(err.get()));
    }
    qvnc_context_set_name(context_.get(), options_.name.c_str());
    // QEMU's VNC server assumes en-us when no -k is given: keysym-only
    // clients then still reach the guest as key numbers.
    const std::string layout = options_.keyboard_layout.empty() ? "en-us" : options_.keyboard_layout;
    raw = nullptr;
    if (!qvnc_context_set_keymap(context_.get(), layout.c_str(), &raw)) {
        err.reset(raw);
        return fail("-k " + layout + ": " + qvnc_error_get_message(err.get()));
    }
    // Objects first: -vnc options refer to them (tls-creds=, password-secret=).
    for (const std::string &spec : options_.objects) {
        raw = nullptr;
        if (!qvnc_context_add_object(context_.get(), spec.c_str(), &raw)) {
            err.reset(raw);
            return fail("-object " + spec + ": " + qvnc_error_get_message(err.get()));
        }
    }
    for (const std::string &spec : options_.vnc) {
        auto entry = std::make_unique<Entry>();
        entry->owner = this;
        entry->spec = spec;
        std::string error;
        if (!open_display(*entry, error)) {
            return fail("-vnc " + spec + ": " + error);
        }
        entries_.push_back(std::move(entry));
    }
    if (!set_up_monitor()) {
        return false;
    }
    const std::string ignored = qvnc_tools::ignored_summary(options_.ignored);
    if (!ignored.empty()) {
        log_line("ignored (no such device here): " + ignored);
    }
    if (!options_.qemu_qmp.empty()) {
        try_peer();
        return true;
    }
    if (!connect_bus()) {
        return false;
    }
    console_ = std::make_unique<QemuConsole>(bus_.get(), false, options_.console, *this);
    console_->start();
    return true;
}

void Server::try_peer()
{
    std::string error;
    const int fd = qmp_dbus_handoff(options_.qemu_qmp, error);
    if (fd < 0) {
        if (error != last_peer_error_) {
            log_line("waiting for QEMU: " + error);
            last_peer_error_ = error;
        }
        schedule_peer_retry();
        return;
    }
    last_peer_error_.clear();
    GError *raw = nullptr;
    GObjectPtr<GSocket> socket(g_socket_new_from_fd(fd, &raw));
    if (!socket) {
        GErrorPtr err(raw);
        close(fd);
        log_line(std::string("peer socket: ") + err->message);
        schedule_peer_retry();
        return;
    }
    GObjectPtr<GSocketConnection> stream(g_socket_connection_factory_create_connection(socket.get()));
    g_dbus_connection_new(G_IO_STREAM(stream.get()), nullptr, G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT, nullptr,
                          peer_cancellable_.get(), &Server::on_peer_ready, this);
}

void Server::schedule_peer_retry()
{
    if (peer_retry_ != 0) {
        return;
    }
    peer_retry_ = g_timeout_add(
        1000,
        +[](gpointer opaque) -> gboolean {
            auto *self = static_cast<Server *>(opaque);
            self->peer_retry_ = 0;
            self->try_peer();
            return G_SOURCE_REMOVE;
        },
        this);
}

void Server::on_peer_ready(GObject *, GAsyncResult *result, gpointer opaque)
{
    GError *raw = nullptr;
    GObjectPtr<GDBusConnection> connection(g_dbus_connection_new_finish(result, &raw));
    GErrorPtr err(raw);
    if (err && g_error_matches(err.get(), G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
        return; // the Server is gone
    }
    auto *self = static_cast<Server *>(opaque);
    if (!connection) {
        log_line(std::string("peer connection: ") + err->message);
        self->schedule_peer_retry();
        return;
    }
    self->bus_ = std::move(connection);
    g_dbus_connection_set_exit_on_close(self->bus_.get(), FALSE);
    g_signal_connect(self->bus_.get(), "closed",
                     G_CALLBACK(+[](GDBusConnection *, gboolean, GError *error, gpointer server) {
                         static_cast<Server *>(server)->peer_closed(
                             error != nullptr ? error->message : "QEMU closed the connection");
                     }),
                     self);
    self->console_ = std::make_unique<QemuConsole>(self->bus_.get(), true, self->options_.console, *self);
    self->console_->start();
}

void Server::peer_closed(const std::string &why)
{
    // Inside the connection's "closed" signal: tear down from an idle.
    peer_closed_why_ = why;
    if (peer_closed_idle_ != 0) {
        return;
    }
    peer_closed_idle_ = g_idle_add(
        +[](gpointer opaque) -> gboolean {
            auto *self = static_cast<Server *>(opaque);
            self->peer_closed_idle_ = 0;
            if (self->console_) {
                self->console_->peer_gone("QEMU went away (" + self->peer_closed_why_ + ")");
            }
            self->console_.reset();
            self->bus_.reset();
            self->schedule_peer_retry();
            return G_SOURCE_REMOVE;
        },
        this);
}

bool Server::connect_bus()
{
    GError *raw = nullptr;
    if (options_.dbus_address.empty()) {
        bus_.reset(g_bus_get_sync(G_BUS_TYPE_SESSION, nullptr, &raw));
    } else {
        bus_.reset(g_dbus_connection_new_for_address_sync(
            options_.dbus_address.c_str(),
            static_cast<GDBusConnectionFlags>(G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                              G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION),
            nullptr, nullptr, &raw));
    }
    GErrorPtr err(raw);
    if (!bus_) {
        return fail(std::string("cannot connect to the D-Bus bus: ") + err->message);
    }
    // Losing the bus itself is the end of this process, but a logged and
    // orderly one rather than GDBus's default _exit().
    g_dbus_connection_set_exit_on_close(bus_.get(), FALSE);
    g_signal_connect(bus_.get(), "closed",
                     G_CALLBACK(+[](GDBusConnection *, gboolean, GError *, gpointer self) {
                         log_line("the D-Bus bus connection closed; exiting");
                         g_main_loop_quit(static_cast<Server *>(self)->loop_);
                     }),
                     this);
    return true;
}

bool Server::open_display(Entry &entry, std::string &error)
{
    qvnc_error *raw = nullptr;
    entry.display.reset(qvnc_display_open(context_.get(), entry.spec.c_str(), &kOps, &entry, &raw));
    if (!entry.display) {
        ErrorPtr err(raw);
        error = qvnc_error_get_message(err.get());
        return false;
    }
    return true;
}

bool Server::set_up_monitor()
{
    static const qvnc_monitor_ops kMonitorOps = {
        sizeof(qvnc_monitor_ops),
        // stop/cont concern QEMU's own monitor; this one only reports them.
        +[](void *, bool running) { emit_line(running ? "RUNSTATE running" : "RUNSTATE paused"); },
        +[](void *self) { g_main_loop_quit(static_cast<Server *>(self)->loop_); },
    };
    qvnc_error *raw = nullptr;
    monitor_.reset(qvnc_monitor_new(context_.get(), &kMonitorOps, this, &raw));
    if (!monitor_) {
        ErrorPtr err(raw);
        return fail(std::string("cannot create the monitor: ") + qvnc_error_get_message(err.get()));
    }
    std::string error;
    if (!qvnc_tools::add_monitors(monitor_.get(), options_, error)) {
        return fail(error);
    }
    return true;
}

void Server::show_surface()
{
    const qvnc_surface surface = framebuffer_.surface();
    for (const auto &entry : entries_) {
        qvnc_error *raw = nullptr;
        if (!qvnc_display_switch_surface(entry->display.get(), framebuffer_.empty() ? nullptr : &surface, &raw)) {
            ErrorPtr err(raw);
            log_line(std::string("switch_surface: ") + qvnc_error_get_message(err.get()));
        }
    }
}

void Server::scanout(uint32_t width, uint32_t height, uint32_t stride, uint32_t format,
                     std::span<const uint8_t> data)
{
    std::string error;
    const bool resized = static_cast<int>(width) != framebuffer_.width() ||
                         static_cast<int>(height) != framebuffer_.height();
    if (!framebuffer_.scanout(width, height, stride, format, data, error)) {
        log_line("Scanout: " + error);
        return;
    }
    // Always switch: the old pixel memory is gone (see Framebuffer).
    show_surface();
    if (resized) {
        emit_line("SCANOUT " + size_text(framebuffer_.width(), framebuffer_.height()));
    }
}

void Server::update(int x, int y, int width, int height, uint32_t stride, uint32_t format,
                    std::span<const uint8_t> data)
{
    std::string error;
    if (!framebuffer_.update(x, y, width, height, stride, format, data, error)) {
        log_line("Update: " + error);
        return;
    }
    for (const auto &entry : entries_) {
        qvnc_display_update(entry->display.get(), x, y, width, height);
    }
}

void Server::cursor_define(int width, int height, int hot_x, int hot_y, std::span<const uint8_t> data)
{
    if (width <= 0 || height <= 0 || width > 1024 || height > 1024 ||
        data.size() < static_cast<size_t>(width) * height * 4) {
        log_line("CursorDefine: bad cursor " + size_text(width, height));
        return;
    }
    std::vector<uint32_t> argb(static_cast<size_t>(width) * height);
    std::memcpy(argb.data(), data.data(), argb.size() * 4); // host-order ARGB words
    for (const auto &entry : entries_) {
        qvnc_error *raw = nullptr;
        if (!qvnc_display_set_cursor(entry->display.get(), width, height, hot_x, hot_y, argb.data(), &raw)) {
            ErrorPtr err(raw);
            log_line(std::string("set_cursor: ") + qvnc_error_get_message(err.get()));
        }
    }
}

void Server::mouse_set(int x, int y, bool visible)
{
    for (const auto &entry : entries_) {
        qvnc_display_mouse_set(entry->display.get(), x, y, visible);
    }
}

void Server::disable()
{
    framebuffer_ = Framebuffer{};
    show_surface();
}

void Server::listener_closed(const std::string &) {} // QemuConsole handles it

void Server::attached(const std::string &label, int width, int height)
{
    last_attach_error_.clear();
    log_line("attached to QEMU console " + std::to_string(options_.console) + " (" + label + ", " +
             size_text(width, height) + ")");
    emit_line("ATTACHED " + (label.empty() ? std::string("-") : label) + " " + size_text(width, height));
}

void Server::detached(const std::string &why)
{
    log_line(why + "; closing the VNC clients and waiting for QEMU");
    audio_streams_.clear();
    // Closing a display is the library's way to disconnect its clients; the
    // same -vnc argument then listens again for the next QEMU.
    framebuffer_ = Framebuffer{};
    for (const auto &entry : entries_) {
        entry->display.reset();
        std::string error;
        if (!open_display(*entry, error)) {
            log_line("-vnc " + entry->spec + ": cannot listen again: " + error + "; exiting");
            g_main_loop_quit(loop_);
            return;
        }
    }
    emit_line("DETACHED");
}

void Server::attach_failed(const std::string &why)
{
    if (why != last_attach_error_) {
        log_line("cannot attach to QEMU (retrying every second): " + why);
        last_attach_error_ = why;
    }
}

void Server::pointer_absolute(bool absolute)
{
    for (const auto &entry : entries_) {
        qvnc_display_set_pointer_absolute(entry->display.get(), absolute);
    }
}

void Server::keyboard_leds(unsigned leds)
{
    for (const auto &entry : entries_) {
        qvnc_display_set_led_state(entry->display.get(), leds);
    }
}

void Server::audio_init(uint64_t stream, const PcmFormat &format)
{
    if (!pcm_supported(format)) {
        log_line("audio stream " + std::to_string(stream) + ": unsupported PCM format (" +
                 std::to_string(format.bits) + " bits" + (format.is_float ? ", float" : "") + ")");
        return;
    }
    audio_streams_[stream] = AudioStream{format, true};
    for (const auto &entry : entries_) {
        qvnc_display_set_audio_available(entry->display.get(), true);
    }
}

void Server::audio_fini(uint64_t stream)
{
    audio_streams_.erase(stream);
}

void Server::audio_enabled(uint64_t stream, bool enabled)
{
    auto it = audio_streams_.find(stream);
    if (it != audio_streams_.end()) {
        it->second.enabled = enabled;
    }
}

void Server::audio_write(uint64_t stream, std::span<const uint8_t> pcm)
{
    auto it = audio_streams_.find(stream);
    if (it == audio_streams_.end() || !it->second.enabled) {
        return;
    }
    const PcmFormat &f = it->second.format;
    audio_buffer_.clear();
    pcm_to_s16(f, pcm, audio_buffer_);
    const size_t frames = audio_buffer_.size() / static_cast<size_t>(f.channels);
    if (frames == 0) {
        return;
    }
    for (const auto &entry : entries_) {
        qvnc_display_audio_write(entry->display.get(), audio_buffer_.data(), frames, f.channels, f.frequency);
    }
}

void Server::on_key(void *opaque, uint32_t, uint32_t qnum, bool down)
{
    Server *self = static_cast<Entry *>(opaque)->owner;
    if (self->console_) {
        self->console_->key(qnum, down);
    }
}

void Server::on_pointer(void *opaque, int x, int y, uint32_t buttons)
{
    Server *self = static_cast<Entry *>(opaque)->owner;
    if (self->console_) {
        self->console_->pointer(x, y, buttons);
    }
}

void Server::on_cut_text(void *opaque, const char *, size_t len)
{
    // Not silently: the D-Bus clipboard of QEMU 7.2 takes text only from a
    // guest agent, so there is nothing to hand it to yet.  Said once.
    Server *self = static_cast<Entry *>(opaque)->owner;
    if (!self->cut_text_logged_) {
        self->cut_text_logged_ = true;
        log_line("clipboard: a client sent " + std::to_string(len) +
                 " bytes of cut text; qvnc-dbus does not share the clipboard with QEMU yet, dropped "
                 "(said once)");
    }
}

void Server::on_client(void *, qvnc_client_event event, const qvnc_client_info *client)
{
    static const char *const kNames[] = {"connected", "initialized", "disconnected"};
    const auto index = static_cast<size_t>(event);
    emit_line(std::string("CLIENT ") + (index < 3 ? kNames[index] : "?") + " " +
              (client != nullptr && client->host != nullptr ? client->host : ""));
}

bool Server::on_desktop_resize(void *opaque, int width, int height)
{
    Server *self = static_cast<Entry *>(opaque)->owner;
    if (!self->console_ || !self->console_->is_attached()) {
        return false;
    }
    self->console_->set_ui_info(width, height);
    return true;
}

} // namespace qvnc_dbus
