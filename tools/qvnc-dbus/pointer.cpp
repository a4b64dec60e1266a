#include "pointer.hpp"

namespace qvnc_dbus {
namespace {

// RFB mask bits 0..6 are left, middle, right, wheel up, wheel down, wheel
// left, wheel right; QEMU's D-Bus button values are left 0, middle 1,
// right 2, wheel-up 3, wheel-down 4, side 5, extra 6.  RFB's horizontal
// wheel has no D-Bus value, so only the first five bits are forwarded.
constexpr int kButtons = 5;

} // namespace

std::vector<MouseCall> PointerTranslator::translate(int x, int y, uint32_t buttons, bool absolute)
{
    std::vector<MouseCall> calls;
    if (absolute) {
        if (!have_last_ || x != last_x_ || y != last_y_) {
            calls.push_back({MouseCall::Kind::SetAbsPosition, x, y});
        }
    } else if (have_last_ && (x != last_x_ || y != last_y_)) {
        // The first event only sets the reference point: a relative guest
        // pointer has no known position to move from.
        calls.push_back({MouseCall::Kind::RelMotion, x - last_x_, y - last_y_});
    }
    const uint32_t changed = buttons ^ last_buttons_;
    for (int b = 0; b < kButtons; ++b) {
        if ((changed & (1u << b)) != 0) {
            calls.push_back({(buttons & (1u << b)) != 0 ? MouseCall::Kind::Press : MouseCall::Kind::Release, b, 0});
        }
    }
    have_last_ = true;
    last_x_ = x;
    last_y_ = y;
    last_buttons_ = buttons;
    return calls;
}

void PointerTranslator::reset()
{
    *this = PointerTranslator{};
}

} // namespace qvnc_dbus
