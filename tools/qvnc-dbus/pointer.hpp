// VNC pointer events turned into QEMU's D-Bus mouse calls.  RFB sends an
// absolute position and the whole button mask on every event; QEMU's Mouse
// interface wants button presses/releases and, depending on the guest's
// pointer device, absolute positions or relative motion.
#pragma once

#include <cstdint>
#include <vector>

namespace qvnc_dbus {

struct MouseCall {
    enum class Kind { Press, Release, SetAbsPosition, RelMotion };
    Kind kind;
    int a = 0; // button (Press/Release), x or dx
    int b = 0; // y or dy
    bool operator==(const MouseCall &) const = default;
};

class PointerTranslator {
public:
    // The calls for one RFB PointerEvent, motion first, then buttons in
    // bit order.  `absolute` is the Mouse.IsAbsolute property.
    std::vector<MouseCall> translate(int x, int y, uint32_t buttons, bool absolute);
    // Forgets the last position and mask (a new QEMU attached).
    void reset();

private:
    bool have_last_ = false;
    int last_x_ = 0;
    int last_y_ = 0;
    uint32_t last_buttons_ = 0;
};

} // namespace qvnc_dbus
