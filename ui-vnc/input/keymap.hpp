// -k LAYOUT: keysym -> key number (qnum) tables for clients that send only
// keysyms.  Built at load time from the xkbcommon keymap of the layout (what
// QEMU's qemu-keymap tool does offline to generate pc-bios/keymaps): every
// key of the first group is asked for its keysym with no modifier, Shift,
// AltGr and Shift+AltGr, and keypad keys also with NumLock.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "error.hpp"

namespace qvnc::vnc {

class Keymap {
public:
    struct KeyPress {
        uint32_t qnum = 0;
        bool shift = false;   // the keysym needs Shift on this key
        bool altgr = false;   // ... needs AltGr (ISO_Level3_Shift)
        bool numlock = false; // ... needs NumLock (keypad digits)
    };

    // QEMU's keymap names (pc-bios/keymaps: "en-us", "de", "fr", "fr-ch",
    // "ja", ..., plus the hand-written "sv" and "sl").  Unknown names and
    // layouts xkeyboard-config cannot compile give QEMU's error
    // "could not read keymap file: 'NAME'".
    static Result<Keymap> load(std::string_view layout);
    // The names load() accepts, sorted.
    static std::vector<std::string_view> known_layouts();

    // The preferred key for `keysym`: the one needing the fewest modifiers
    // (none, then Shift, then AltGr, then both; NumLock entries last).
    // ISO_Left_Tab is looked up as Tab, and Unicode keysyms (0x1000000|U)
    // find their legacy keysym's key and the other way round.
    std::optional<KeyPress> lookup(uint32_t keysym) const;
    // Every key that produces `keysym`, preferred first (empty: unknown).
    std::span<const KeyPress> candidates(uint32_t keysym) const;

    const std::string &name() const { return name_; }
    size_t size() const { return by_keysym_.size(); }

private:
    friend class KeymapBuilder;

    std::string name_;
    std::unordered_map<uint32_t, std::vector<KeyPress>> by_keysym_;
    // Unicode code point -> keysym of by_keysym_ producing it.
    std::unordered_map<uint32_t, uint32_t> by_codepoint_;
};

} // namespace qvnc::vnc
