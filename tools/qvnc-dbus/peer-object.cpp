#include "peer-object.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

namespace qvnc_dbus {

std::unique_ptr<PeerObject> PeerObject::create(const char *xml, const char *interface_name, const char *path,
                                               MethodFn on_method, ClosedFn on_closed, std::string &error)
{
    GError *raw = nullptr;
    GDBusNodeInfoPtr node(g_dbus_node_info_new_for_xml(xml, &raw));
    if (!node) {
        GErrorPtr err(raw);
        error = std::string("introspection XML: ") + err->message;
        return nullptr;
    }
    int fds[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
        error = std::string("socketpair: ") + g_strerror(errno);
        return nullptr;
    }
    auto object = std::make_unique<PeerObject>(Token{}, fds[1]);
    object->interface_name_ = interface_name;
    object->path_ = path;
    object->on_method_ = std::move(on_method);
    object->on_closed_ = std::move(on_closed);
    object->node_ = std::move(node);
    GObjectPtr<GSocket> socket(g_socket_new_from_fd(fds[0], &raw));
    if (!socket) {
        GErrorPtr err(raw);
        close(fds[0]);
        error = std::string("socket: ") + err->message;
        return nullptr;
    }
    GObjectPtr<GSocketConnection> stream(g_socket_connection_factory_create_connection(socket.get()));
    // Asynchronous: QEMU answers the authentication only once it got its
    // end through Register*Listener, which the caller sends next.  Message
    // processing waits until the object is exported.
    g_dbus_connection_new(G_IO_STREAM(stream.get()), nullptr,
                          static_cast<GDBusConnectionFlags>(G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                                            G_DBUS_CONNECTION_FLAGS_DELAY_MESSAGE_PROCESSING),
                          nullptr, object->cancellable_.get(), &PeerObject::on_connection_ready, object.get());
    return object;
}

PeerObject::PeerObject(Token, int qemu_fd) : qemu_fd_(qemu_fd) {}

PeerObject::~PeerObject()
{
    g_cancellable_cancel(cancellable_.get());
    if (connection_) {
        if (registration_ != 0) {
            g_dbus_connection_unregister_object(connection_.get(), registration_);
        }
        if (closed_handler_ != 0) {
            g_signal_handler_disconnect(connection_.get(), closed_handler_);
        }
        g_dbus_connection_close(connection_.get(), nullptr, nullptr, nullptr);
    }
    if (qemu_fd_ >= 0) {
        close(qemu_fd_);
    }
}

int PeerObject::take_qemu_fd()
{
    const int fd = qemu_fd_;
    qemu_fd_ = -1;
    return fd;
}

void PeerObject::on_connection_ready(GObject *, GAsyncResult *result, gpointer opaque)
{
    GError *raw = nullptr;
    GObjectPtr<GDBusConnection> connection(g_dbus_connection_new_finish(result, &raw));
    GErrorPtr err(raw);
    // Cancelled means the Listener is gone: `opaque` must not be touched.
    if (err && g_error_matches(err.get(), G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
        return;
    }
    auto *self = static_cast<PeerObject *>(opaque);
    if (!connection) {
        self->on_closed_(std::string("peer connection: ") + err->message);
        return;
    }
    self->connection_ = std::move(connection);
    g_dbus_connection_set_exit_on_close(self->connection_.get(), FALSE);
    static const GDBusInterfaceVTable kVTable = {&PeerObject::on_method_call, &PeerObject::on_get_property, nullptr,
                                                 {}};
    raw = nullptr;
    self->registration_ = g_dbus_connection_register_object(
        self->connection_.get(), self->path_.c_str(),
        g_dbus_node_info_lookup_interface(self->node_.get(), self->interface_name_.c_str()),
        &kVTable, self, nullptr, &raw);
    if (self->registration_ == 0) {
        err.reset(raw);
        self->on_closed_(std::string("cannot export ") + self->path_ + ": " + err->message);
        return;
    }
    self->closed_handler_ =
        g_signal_connect(self->connection_.get(), "closed", G_CALLBACK(&PeerObject::on_closed), self);
    g_dbus_connection_start_message_processing(self->connection_.get());
}

void PeerObject::on_closed(GDBusConnection *, gboolean, GError *error, gpointer opaque)
{
    auto *self = static_cast<PeerObject *>(opaque);
    self->on_closed_(error != nullptr ? error->message : "the peer closed the connection");
}

GVariant *PeerObject::on_get_property(GDBusConnection *, const gchar *, const gchar *, const gchar *,
                                      const gchar *property_name, GError **error, gpointer)
{
    if (g_strcmp0(property_name, "Interfaces") == 0) {
        return g_variant_new_strv(nullptr, 0);
    }
    g_set_error(error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_PROPERTY, "no property %s", property_name);
    return nullptr;
}

void PeerObject::on_method_call(GDBusConnection *, const gchar *, const gchar *, const gchar *,
                              const gchar *method_name, GVariant *parameters, GDBusMethodInvocation *invocation,
                              gpointer opaque)
{
    // Answer first: QEMU does not wait for the reply.
    g_dbus_method_invocation_return_value(invocation, nullptr);
    static_cast<PeerObject *>(opaque)->on_method_(method_name, parameters);
}

} // namespace qvnc_dbus
