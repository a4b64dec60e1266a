// The emulator's command line: the QEMU options a VNC test needs, spelled
// as QEMU spells them, plus a few of the emulator's own (--guest ...).
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "pixel-format.hpp"

namespace qvnc_emu {

enum class GuestKind { Console, Pattern, Replay };

struct Size {
    int width = 0;
    int height = 0;
    bool operator==(const Size &) const = default;
};

struct Options {
    std::string name;                 // -name (the guest= part)
    bool start_stopped = false;       // -S
    std::vector<std::string> objects; // -object, in order
    std::vector<std::string> vnc;     // -vnc, in order
    std::string keyboard_layout;      // -k: xkb layout for keysym-only clients
    std::string display;              // -display (only "none" is meaningful)
    GuestKind guest = GuestKind::Console;
    std::string replay_file;          // --guest replay:FILE
    std::optional<Size> size;         // --size; each guest has its default
    PixelFormat format = PixelFormat::X8R8G8B8;
    double resize_every = 0;          // seconds; 0 = never
    double replay_fps = 30;
    std::string frame_dump;           // --frame-dump PATH; empty = off

    // Monitors, applied in this order: -chardev, -mon, then -monitor/-qmp.
    std::vector<std::string> chardevs; // -chardev
    std::vector<std::string> mons;     // -mon
    struct LegacyMonitor {
        std::string spec;
        bool qmp = false;              // -qmp (else -monitor)
    };
    std::vector<LegacyMonitor> monitors;
    // Options of a full QEMU (libvirt) command line that mean nothing to a
    // VNC stand-in, e.g. "-machine" or "-device": accepted, reported once.
    std::vector<std::string> ignored;
};

struct ParseResult {
    enum class Action { Run, Help, Fail };
    Action action = Action::Fail;
    Options options;
    // For Fail: the message after "qvnc-emu: ", in QEMU's wording
    // ("-foo: invalid option").
    std::string error;
};

// `args` excludes argv[0].  Options start with '-' or '--' (QEMU accepts
// both) and take their value from the next argument, whatever it looks like.
ParseResult parse_options(std::span<const char *const> args);

// "1024x768" -> {1024, 768}; sizes are 1..16384.
std::optional<Size> parse_size(std::string_view text);

// QEMU's -name argument: "NAME" or "guest=NAME,debug-threads=on,...", with
// ",," standing for a literal comma.  Returns the guest name.
std::optional<std::string> parse_name_option(std::string_view text);

std::string usage_text();

} // namespace qvnc_emu
