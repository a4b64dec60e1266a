// The emulated machine behind the displays: it owns the framebuffer and
// reacts to input.  All calls happen on the main loop thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "canvas.hpp"
#include "options.hpp"
#include "screen.hpp"

namespace qvnc_emu {

class Guest {
public:
    virtual ~Guest() = default;

    // Shows the first frame on the screen and, unless the guest was started
    // stopped (-S), starts animating.  Called once, before any display opens.
    virtual void start() = 0;
    // The monitor's cont (true) and stop (false): a stopped guest keeps its
    // frame still and ignores input, like a paused VM.  Called after start().
    virtual void set_running(bool running) = 0;

    virtual void key_event(uint32_t keysym, uint32_t qnum, bool down) = 0;
    virtual void pointer_event(int x, int y, uint32_t buttons) = 0;
    virtual void cut_text(std::string_view text) = 0;
    // A client asked for a new size.  True means the guest will change size
    // (later, from the main loop: never while the library is mid-callback).
    virtual bool desktop_resize(int width, int height) = 0;
    // A client waits for an update and everything drawn so far has been
    // sent (called from inside the library: draw later, from the loop).
    // Only a demand-driven guest uses it.
    virtual void update_wanted() {}

    // The frame as the displays see it right now (for --frame-dump).
    virtual const Canvas &frame() const = 0;
};

// Builds the guest the options select.  Only the replay guest can fail (an
// unreadable or malformed file): then it returns null and sets `error`.
std::unique_ptr<Guest> make_guest(const Options &options, Screen &screen, std::string &error);

} // namespace qvnc_emu
