// Our end of a console listener: the org.qemu.Display1.Listener object on
// /org/qemu/Display1/Listener, over the private connection QEMU's
// Console.RegisterListener sets up (see PeerObject).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "peer-object.hpp"

namespace qvnc_dbus {

// What QEMU tells a listener.  Spans are valid during the call only.
class ListenerSink {
public:
    virtual ~ListenerSink() = default;
    virtual void scanout(uint32_t width, uint32_t height, uint32_t stride, uint32_t format,
                         std::span<const uint8_t> data) = 0;
    virtual void update(int x, int y, int width, int height, uint32_t stride, uint32_t format,
                        std::span<const uint8_t> data) = 0;
    // ARGB, 32 bits per pixel in host order.
    virtual void cursor_define(int width, int height, int hot_x, int hot_y, std::span<const uint8_t> data) = 0;
    virtual void mouse_set(int x, int y, bool visible) = 0;
    virtual void disable() = 0;
    // The peer-to-peer connection ended (QEMU exited or dropped us), or
    // could not be set up.
    virtual void listener_closed(const std::string &why) = 0;
};

class Listener {
    struct Token {
        explicit Token() = default;
    };

public:
    // Makes the socket pair and starts authenticating our end; QEMU must
    // be handed take_qemu_fd() (RegisterListener) for that to finish.
    static std::unique_ptr<Listener> create(ListenerSink &sink, std::string &error);
    Listener(Token, ListenerSink &sink) : sink_(sink) {}

    Listener(const Listener &) = delete;
    Listener &operator=(const Listener &) = delete;

    // QEMU's end, to be sent in a GUnixFDList (which dups it); -1 after.
    int take_qemu_fd() { return object_->take_qemu_fd(); }

private:
    void dispatch(const char *method, GVariant *parameters);

    ListenerSink &sink_;
    std::unique_ptr<PeerObject> object_;
};

} // namespace qvnc_dbus
