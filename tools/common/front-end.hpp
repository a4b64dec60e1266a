// The QEMU command-line front end shared by the tools that serve a display
// through libqvnc (qvnc-emu, qvnc-dbus): -name, -S, -object, -vnc, -k,
// -display, the monitors (-chardev, -mon, -monitor, -qmp) and the options of
// a libvirt command line that mean nothing to a VNC server.  Each tool adds
// its own options through a table and a callback, so every security option
// is spelled and applied the same way in both.
#pragma once

#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "qvnc-monitor.h"

namespace qvnc_tools {

enum class Arg { None, Required };

struct OptionSpec {
    std::string_view name; // without leading dashes
    Arg arg;
};

struct FrontEnd {
    std::string name;                 // -name (the guest= part)
    bool start_stopped = false;       // -S
    std::vector<std::string> objects; // -object, in order
    std::vector<std::string> vnc;     // -vnc, in order
    std::string keyboard_layout;      // -k: xkb layout for keysym-only clients
    std::string display;              // -display (only "none" is meaningful)

    // Monitors, applied in this order: -chardev, -mon, then -monitor/-qmp.
    std::vector<std::string> chardevs; // -chardev
    std::vector<std::string> mons;     // -mon
    struct LegacyMonitor {
        std::string spec;
        bool qmp = false;              // -qmp (else -monitor)
    };
    std::vector<LegacyMonitor> monitors;
    // Options of a full QEMU (libvirt) command line that mean nothing to a
    // VNC server, e.g. "-machine" or "-device": accepted, reported once.
    std::vector<std::string> ignored;
};

enum class ParseAction { Run, Help, Fail };

// Applies one tool option; returns an error message, or "" when it was fine.
using ToolOptionFn = std::function<std::string(std::string_view name, const std::string &value)>;

// `args` excludes argv[0].  Options start with '-' or '--' (QEMU accepts
// both) and take their value from the next argument, whatever it looks like.
// Front-end options fill `front`; those in `tool_options` go to `apply_tool`.
// On Fail, `error` is the message after "TOOL: ", in QEMU's wording.
ParseAction parse_command_line(std::span<const char *const> args, FrontEnd &front,
                               std::span<const OptionSpec> tool_options, const ToolOptionFn &apply_tool,
                               std::string &error);

// QEMU's -name argument: "NAME" or "guest=NAME,debug-threads=on,...", with
// ",," standing for a literal comma.  Returns the guest name.
std::optional<std::string> parse_name_option(std::string_view text);

// Splits a QemuOpts-style list on single commas; ",," is an escaped comma.
std::vector<std::string> split_qemu_list(std::string_view text);

// The usage lines describing the front-end options.
std::string front_end_usage();

// One line for everything of a full QEMU command line that means nothing
// here ("-device" given five times is named once, with its count); "" when
// nothing was ignored.
std::string ignored_summary(const std::vector<std::string> &ignored);

// Adds the -chardev, -mon, -monitor and -qmp monitors to `monitor`.  Chardev
// backends the library does not have (serial consoles, guest agents) are
// appended to `ignored`.  Returns false with `error` ("-mon SPEC: message").
bool add_monitors(qvnc_monitor *monitor, FrontEnd &front, std::string &error);

} // namespace qvnc_tools
