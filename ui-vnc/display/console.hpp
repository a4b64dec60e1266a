// A guest console: the emulator's surface, cursor, pointer mode and LEDs
// (QEMU's QemuConsole as the VNC server sees it).  Displays attach to one;
// each -vnc display has a private console unless display=ID,head=N binds it
// to one the emulator registered (qvnc_console_new).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cursor.hpp"
#include "error.hpp"
#include "qvnc-display.h"
#include "surface.hpp"

namespace qvnc::vnc {

// Who gets told about console changes (the displays showing it).
class ConsoleListener {
public:
    virtual void console_surface_changed() = 0;
    virtual void console_damage(int x, int y, int w, int h) = 0;
    virtual void console_cursor_changed() = 0;
    virtual void console_pointer_mode_changed() = 0;
    virtual void console_leds_changed() = 0;

protected:
    ~ConsoleListener() = default;
};

class Console {
public:
    Console(std::string device_id, int head);
    ~Console();
    Console(const Console &) = delete;
    Console &operator=(const Console &) = delete;

    const std::string &device_id() const { return device_id_; }
    int head() const { return head_; }

    Status switch_surface(const qvnc_surface *surface);
    void update(int x, int y, int w, int h);
    Status set_cursor(int w, int h, int hot_x, int hot_y, const uint32_t *argb);
    void set_pointer_absolute(bool absolute);
    void set_led_state(unsigned leds);

    const SurfaceView &surface() const { return surface_; }
    const Cursor &cursor() const { return cursor_; }
    bool pointer_absolute() const { return pointer_absolute_; }
    unsigned leds() const { return leds_; }

    void attach(ConsoleListener *l);
    void detach(ConsoleListener *l);

private:
    void set_blank();

    std::string device_id_;
    int head_;
    SurfaceView surface_{};
    std::vector<uint8_t> blank_; // shown until the emulator sets a surface
    Cursor cursor_;
    bool pointer_absolute_ = true;
    unsigned leds_ = 0;
    std::vector<ConsoleListener *> listeners_;
};

} // namespace qvnc::vnc
