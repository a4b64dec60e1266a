// Linux evdev key codes (<linux/input-event-codes.h> KEY_*) to QEMU "qnum"
// key numbers: PC XT scan code set 1, with the 0xE0-prefixed keys folded in
// as 0x80 | code (Right arrow E0 4D -> 0xcd).  This is the number the QEMU
// extended key event carries and the one qvnc hands to the emulator.
//
// xkbcommon names keys by X keycodes, which are evdev codes + 8.
#pragma once

#include <cstdint>

namespace qvnc::vnc {

// 0 when the key has no set 1 scan code (or is not one we map).
uint32_t evdev_to_qnum(uint32_t evdev);

// X / xkbcommon keycode (evdev + 8) to qnum; 0 when none.
inline uint32_t xkb_keycode_to_qnum(uint32_t xkb_keycode)
{
    return xkb_keycode >= 8 ? evdev_to_qnum(xkb_keycode - 8) : 0;
}

} // namespace qvnc::vnc
