// The emulator's command line: the QEMU options a VNC test needs, spelled
// as QEMU spells them, plus a few of the emulator's own (--guest ...).
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "front-end.hpp"
#include "pixel-format.hpp"

namespace qvnc_emu {

enum class GuestKind { Console, Pattern, Replay };

struct Size {
    int width = 0;
    int height = 0;
    bool operator==(const Size &) const = default;
};

// The shared QEMU front end (-name, -S, -object, -vnc, -k, -display,
// monitors, ignored libvirt options) plus the emulator's own options.
struct Options : qvnc_tools::FrontEnd {
    GuestKind guest = GuestKind::Console;
    std::string replay_file;          // --guest replay:FILE
    std::optional<Size> size;         // --size; each guest has its default
    PixelFormat format = PixelFormat::X8R8G8B8;
    double resize_every = 0;          // seconds; 0 = never
    double replay_fps = 30;           // 0 = demand-driven
    std::string frame_dump;           // --frame-dump PATH; empty = off
    unsigned handshake_timeout_ms = 0; // --handshake-timeout; 0 = the library's default
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

// QEMU's -name argument (shared front end).
using qvnc_tools::parse_name_option;

std::string usage_text();

} // namespace qvnc_emu
