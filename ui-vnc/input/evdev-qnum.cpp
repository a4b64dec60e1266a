#include "evdev-qnum.hpp"

#include <linux/input-event-codes.h>

#include <algorithm>
#include <array>

namespace qvnc::vnc {

namespace {

struct Pair {
    uint16_t evdev;
    uint16_t qnum;
};

// Keys beyond the block that evdev numbers like set 1 (see evdev_to_qnum),
// sorted by evdev code.  0xE0-prefixed codes are written 0x80 | code.
constexpr std::array kTable = {
    Pair{KEY_ZENKAKUHANKAKU, 0x76},   // Japanese
    Pair{KEY_102ND, 0x56},            // the ISO key left of Z (< > on de/fr)
    Pair{KEY_F11, 0x57},
    Pair{KEY_F12, 0x58},
    Pair{KEY_RO, 0x73},               // Japanese / Brazilian ABNT2 "/ ?"
    Pair{KEY_KATAKANA, 0x78},
    Pair{KEY_HIRAGANA, 0x77},
    Pair{KEY_HENKAN, 0x79},
    Pair{KEY_KATAKANAHIRAGANA, 0x70},
    Pair{KEY_MUHENKAN, 0x7b},
    Pair{KEY_KPJPCOMMA, 0x5c},
    Pair{KEY_KPENTER, 0x9c},          // E0 1C
    Pair{KEY_RIGHTCTRL, 0x9d},        // E0 1D
    Pair{KEY_KPSLASH, 0xb5},          // E0 35
    Pair{KEY_SYSRQ, 0x54},            // Print: QEMU's qnum is the Alt+SysRq code 0x54
    Pair{KEY_RIGHTALT, 0xb8},         // E0 38, AltGr
    Pair{KEY_HOME, 0xc7},             // E0 47 .. E0 53: the navigation block
    Pair{KEY_UP, 0xc8},
    Pair{KEY_PAGEUP, 0xc9},
    Pair{KEY_LEFT, 0xcb},
    Pair{KEY_RIGHT, 0xcd},
    Pair{KEY_END, 0xcf},
    Pair{KEY_DOWN, 0xd0},
    Pair{KEY_PAGEDOWN, 0xd1},
    Pair{KEY_INSERT, 0xd2},
    Pair{KEY_DELETE, 0xd3},
    Pair{KEY_MUTE, 0xa0},             // E0 20
    Pair{KEY_VOLUMEDOWN, 0xae},       // E0 2E
    Pair{KEY_VOLUMEUP, 0xb0},         // E0 30
    Pair{KEY_POWER, 0xde},            // E0 5E
    Pair{KEY_KPEQUAL, 0x59},
    Pair{KEY_PAUSE, 0xc6},            // QEMU: Pause is 0xc6 (E0 46, Ctrl+Break)
    Pair{KEY_KPCOMMA, 0x7e},          // Brazilian keypad "."
    Pair{KEY_HANGEUL, 0xf2},          // Korean keys send make codes only
    Pair{KEY_HANJA, 0xf1},
    Pair{KEY_YEN, 0x7d},
    Pair{KEY_LEFTMETA, 0xdb},         // E0 5B
    Pair{KEY_RIGHTMETA, 0xdc},        // E0 5C
    Pair{KEY_COMPOSE, 0xdd},          // E0 5D, the Menu key
    Pair{KEY_STOP, 0xe8},             // E0 68 browser stop
    Pair{KEY_CALC, 0xa1},             // E0 21
    Pair{KEY_SLEEP, 0xdf},            // E0 5F
    Pair{KEY_WAKEUP, 0xe3},           // E0 63
    Pair{KEY_MAIL, 0xec},             // E0 6C
    Pair{KEY_BOOKMARKS, 0xe6},        // E0 66
    Pair{KEY_COMPUTER, 0xeb},         // E0 6B
    Pair{KEY_BACK, 0xea},             // E0 6A
    Pair{KEY_FORWARD, 0xe9},          // E0 69
    Pair{KEY_NEXTSONG, 0x99},         // E0 19
    Pair{KEY_PLAYPAUSE, 0xa2},        // E0 22
    Pair{KEY_PREVIOUSSONG, 0x90},     // E0 10
    Pair{KEY_STOPCD, 0xa4},           // E0 24
    Pair{KEY_HOMEPAGE, 0xb2},         // E0 32
    Pair{KEY_REFRESH, 0xe7},          // E0 67
    Pair{KEY_SEARCH, 0xe5},           // E0 65
    Pair{KEY_MEDIA, 0xed},            // E0 6D
};

constexpr bool sorted()
{
    for (size_t i = 1; i < kTable.size(); i++) {
        if (kTable[i - 1].evdev >= kTable[i].evdev) {
            return false;
        }
    }
    return true;
}
static_assert(sorted(), "evdev table must be sorted");

} // namespace

uint32_t evdev_to_qnum(uint32_t evdev)
{
    // KEY_ESC (1) .. KEY_KPDOT (83): evdev was numbered after set 1, so the
    // main block, F1-F10 and the keypad map to themselves.
    if (evdev >= KEY_ESC && evdev <= KEY_KPDOT) {
        return evdev;
    }
    auto it = std::lower_bound(kTable.begin(), kTable.end(), evdev,
                               [](const Pair &p, uint32_t v) { return p.evdev < v; });
    return it != kTable.end() && it->evdev == evdev ? it->qnum : 0;
}

} // namespace qvnc::vnc
