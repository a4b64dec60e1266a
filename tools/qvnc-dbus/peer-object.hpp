// One D-Bus object that QEMU calls over a private connection: QEMU's
// Register*Listener methods take one end of a socket pair, authenticate as
// the server on it, and call methods of the object we export at a fixed
// path on the other end.  The display listener and the audio listener are
// two such objects with their own interfaces.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>

#include "gobject-ptr.hpp"

namespace qvnc_dbus {

// The bytes of an "ay" value (valid as long as the variant).
inline std::span<const uint8_t> variant_bytes(GVariant *ay)
{
    gsize size = 0;
    const void *data = g_variant_get_fixed_array(ay, &size, 1);
    return {static_cast<const uint8_t *>(data), size};
}

class PeerObject {
    struct Token {
        explicit Token() = default;
    };

public:
    // Called for each method call, after it has been answered (QEMU does
    // not wait for the answers).
    using MethodFn = std::function<void(const char *method, GVariant *parameters)>;
    // The connection ended or could not be set up; may free the object.
    using ClosedFn = std::function<void(const std::string &why)>;

    // `xml` describes one interface, `interface_name`, exported at `path`.
    // Authentication starts at once and finishes when QEMU got
    // take_qemu_fd() through its Register*Listener method.
    static std::unique_ptr<PeerObject> create(const char *xml, const char *interface_name, const char *path,
                                              MethodFn on_method, ClosedFn on_closed, std::string &error);
    PeerObject(Token, int qemu_fd);
    ~PeerObject();

    PeerObject(const PeerObject &) = delete;
    PeerObject &operator=(const PeerObject &) = delete;

    // QEMU's end, to be sent in a GUnixFDList (which dups it); -1 after.
    int take_qemu_fd();

private:
    static void on_connection_ready(GObject *source, GAsyncResult *result, gpointer self);
    static void on_closed(GDBusConnection *connection, gboolean remote_peer_vanished, GError *error, gpointer self);
    static void on_method_call(GDBusConnection *connection, const gchar *sender, const gchar *object_path,
                               const gchar *interface_name, const gchar *method_name, GVariant *parameters,
                               GDBusMethodInvocation *invocation, gpointer self);
    static GVariant *on_get_property(GDBusConnection *connection, const gchar *sender, const gchar *object_path,
                                     const gchar *interface_name, const gchar *property_name, GError **error,
                                     gpointer self);

    int qemu_fd_ = -1;
    std::string interface_name_;
    std::string path_;
    MethodFn on_method_;
    ClosedFn on_closed_;
    GDBusNodeInfoPtr node_;
    GObjectPtr<GCancellable> cancellable_{g_cancellable_new()};
    GObjectPtr<GDBusConnection> connection_;
    unsigned registration_ = 0;
    unsigned long closed_handler_ = 0;
};

} // namespace qvnc_dbus
