#include "options.hpp"

#include <charconv>
#include <cmath>
#include <cstdlib>

namespace qvnc_emu {
namespace {

constexpr int kMaxDimension = 16384;

std::optional<int> parse_int(std::string_view text)
{
    int value = 0;
    const char *end = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (ec != std::errc{} || ptr != end || text.empty()) {
        return std::nullopt;
    }
    return value;
}

// A positive, finite decimal number ("0.5", "30").
std::optional<double> parse_positive(const std::string &text)
{
    if (text.empty()) {
        return std::nullopt;
    }
    char *end = nullptr;
    const double value = std::strtod(text.c_str(), &end);
    if (end != text.c_str() + text.size() || !std::isfinite(value) || value <= 0) {
        return std::nullopt;
    }
    return value;
}

// Splits a QemuOpts-style list on single commas; ",," is an escaped comma.
std::vector<std::string> split_qemu_list(std::string_view text)
{
    std::vector<std::string> parts(1);
    for (size_t i = 0; i < text.size(); ++i) {
        if (text[i] != ',') {
            parts.back() += text[i];
        } else if (i + 1 < text.size() && text[i + 1] == ',') {
            parts.back() += ',';
            ++i;
        } else {
            parts.emplace_back();
        }
    }
    return parts;
}

enum class Arg { None, Required };

struct OptionSpec {
    std::string_view name; // without leading dashes
    Arg arg;
};

constexpr OptionSpec kOptions[] = {
    {"name", Arg::Required},        {"S", Arg::None},           {"object", Arg::Required},
    {"vnc", Arg::Required},         {"k", Arg::Required},       {"display", Arg::Required},
    {"guest", Arg::Required},       {"size", Arg::Required},    {"format", Arg::Required},
    {"resize-every", Arg::Required}, {"replay-fps", Arg::Required}, {"frame-dump", Arg::Required},
    {"help", Arg::None},            {"h", Arg::None},
    {"chardev", Arg::Required},     {"mon", Arg::Required},     {"monitor", Arg::Required},
    {"qmp", Arg::Required},
};

// What libvirt puts on a QEMU command line besides the display: accepted
// and ignored (the devices they name are not emulated here).
constexpr OptionSpec kIgnored[] = {
    {"machine", Arg::Required},  {"accel", Arg::Required},    {"cpu", Arg::Required},
    {"m", Arg::Required},        {"smp", Arg::Required},      {"uuid", Arg::Required},
    {"drive", Arg::Required},    {"blockdev", Arg::Required}, {"device", Arg::Required},
    {"netdev", Arg::Required},   {"global", Arg::Required},   {"boot", Arg::Required},
    {"rtc", Arg::Required},      {"no-shutdown", Arg::None},  {"sandbox", Arg::Required},
    {"msg", Arg::Required},      {"overcommit", Arg::Required}, {"nodefaults", Arg::None},
    {"no-user-config", Arg::None}, {"daemonize", Arg::None},  {"pidfile", Arg::Required},
    {"audiodev", Arg::Required},
};

const OptionSpec *find_option(std::string_view name)
{
    for (const OptionSpec &spec : kOptions) {
        if (spec.name == name) {
            return &spec;
        }
    }
    for (const OptionSpec &spec : kIgnored) {
        if (spec.name == name) {
            return &spec;
        }
    }
    return nullptr;
}

bool is_ignored(std::string_view name)
{
    for (const OptionSpec &spec : kIgnored) {
        if (spec.name == name) {
            return true;
        }
    }
    return false;
}

// Applies one option; returns an error message, or "" when it was fine.
std::string apply(Options &o, std::string_view name, const std::string &value, bool &help)
{
    const std::string prefix = "-" + std::string(name) + " " + value + ": ";
    if (name == "name") {
        auto guest = parse_name_option(value);
        if (!guest) {
            return prefix + "invalid -name argument";
        }
        o.name = *guest;
    } else if (name == "S") {
        o.start_stopped = true;
    } else if (name == "object") {
        o.objects.push_back(value);
    } else if (name == "vnc") {
        o.vnc.push_back(value);
    } else if (name == "k") {
        o.keyboard_layout = value;
    } else if (name == "display") {
        // Any value libvirt writes ("none", "egl-headless,rendernode=...").
        o.display = value;
        if (value != "none") {
            o.ignored.push_back("-display");
        }
    } else if (name == "chardev") {
        o.chardevs.push_back(value);
    } else if (name == "mon") {
        o.mons.push_back(value);
    } else if (name == "monitor" || name == "qmp") {
        o.monitors.push_back(Options::LegacyMonitor{value, name == "qmp"});
    } else if (is_ignored(name)) {
        o.ignored.push_back("-" + std::string(name));
    } else if (name == "guest") {
        if (value == "console") {
            o.guest = GuestKind::Console;
        } else if (value == "pattern") {
            o.guest = GuestKind::Pattern;
        } else if (value.rfind("replay:", 0) == 0 && value.size() > 7) {
            o.guest = GuestKind::Replay;
            o.replay_file = value.substr(7);
        } else {
            return prefix + "expected console, pattern or replay:FILE";
        }
    } else if (name == "size") {
        o.size = parse_size(value);
        if (!o.size) {
            return prefix + "expected WIDTHxHEIGHT (1..16384)";
        }
    } else if (name == "format") {
        auto format = pixel_format_from_name(value);
        if (!format) {
            return prefix + "unknown pixel format";
        }
        o.format = *format;
    } else if (name == "resize-every") {
        auto seconds = parse_positive(value);
        if (!seconds) {
            return prefix + "expected a positive number of seconds";
        }
        o.resize_every = *seconds;
    } else if (name == "replay-fps") {
        auto fps = parse_positive(value);
        if (!fps || *fps > 1000) {
            return prefix + "expected a frame rate in (0, 1000]";
        }
        o.replay_fps = *fps;
    } else if (name == "frame-dump") {
        if (value.empty()) {
            return prefix + "expected a path";
        }
        o.frame_dump = value;
    } else if (name == "help" || name == "h") {
        help = true;
    }
    return {};
}

} // namespace

std::optional<Size> parse_size(std::string_view text)
{
    const size_t x = text.find('x');
    if (x == std::string_view::npos) {
        return std::nullopt;
    }
    auto w = parse_int(text.substr(0, x));
    auto h = parse_int(text.substr(x + 1));
    if (!w || !h || *w < 1 || *h < 1 || *w > kMaxDimension || *h > kMaxDimension) {
        return std::nullopt;
    }
    return Size{*w, *h};
}

std::optional<std::string> parse_name_option(std::string_view text)
{
    std::optional<std::string> guest;
    const std::vector<std::string> parts = split_qemu_list(text);
    for (size_t i = 0; i < parts.size(); ++i) {
        const std::string &part = parts[i];
        const size_t eq = part.find('=');
        if (eq == std::string::npos) {
            // QEMU's implied key: only the first element may omit "guest=".
            if (i != 0) {
                return std::nullopt;
            }
            guest = part;
        } else if (part.compare(0, eq, "guest") == 0) {
            guest = part.substr(eq + 1);
        }
        // Other keys (debug-threads, process) do not concern a VNC server.
    }
    return guest.value_or(std::string{});
}

ParseResult parse_options(std::span<const char *const> args)
{
    ParseResult result;
    bool help = false;
    for (size_t i = 0; i < args.size(); ++i) {
        const std::string_view arg = args[i];
        std::string_view name = arg;
        if (name.size() >= 2 && name[0] == '-' && name[1] == '-') {
            name.remove_prefix(2);
        } else if (!name.empty() && name[0] == '-') {
            name.remove_prefix(1);
        } else {
            result.error = std::string(arg) + ": invalid option";
            return result;
        }
        const OptionSpec *spec = find_option(name);
        if (spec == nullptr) {
            result.error = std::string(arg) + ": invalid option";
            return result;
        }
        std::string value;
        if (spec->arg == Arg::Required) {
            if (i + 1 >= args.size()) {
                result.error = std::string(arg) + ": requires an argument";
                return result;
            }
            value = args[++i];
        }
        std::string error = apply(result.options, name, value, help);
        if (!error.empty()) {
            result.error = std::move(error);
            return result;
        }
    }
    if (help) {
        result.action = ParseResult::Action::Help;
        return result;
    }
    if (result.options.vnc.empty()) {
        result.error = "no -vnc option given (nothing would serve the guest)";
        return result;
    }
    result.action = ParseResult::Action::Run;
    return result;
}

std::string usage_text()
{
    return "usage: qvnc-emu [-name NAME] [-S] [-object SPEC]... -vnc OPTS [-vnc OPTS]...\n"
           "                [-chardev SPEC]... [-mon OPTS]... [-monitor SPEC]... [-qmp SPEC]...\n"
           "                [-k LAYOUT] [-display ANY] [--guest console|pattern|replay:FILE]\n"
           "                [--size WxH] [--format FORMAT] [--resize-every SECONDS]\n"
           "                [--replay-fps N] [--frame-dump PATH] [--help]\n"
           "\n"
           "A stand-in emulator serving a guest framebuffer through libqvnc.\n"
           "QEMU options (one or two leading dashes):\n"
           "  -name NAME          guest name (also guest=NAME,debug-threads=on)\n"
           "  -S                  start stopped until the monitor's cont\n"
           "  -object SPEC        user-creatable object (secret, tls-creds-*, authz-*)\n"
           "  -vnc OPTS           open a VNC display (repeatable)\n"
           "  -k LAYOUT           keyboard layout for keysym-only clients (QEMU names: de, fr, en-us, ...)\n"
           "  -display ANY        accepted (only \"none\" means something here)\n"
           "  -chardev SPEC       socket (path=, host=/port=, fd=), stdio or null chardev\n"
           "  -mon chardev=ID[,mode=readline|control][,pretty=on]   a monitor on a chardev\n"
           "  -monitor SPEC       HMP on stdio, unix:PATH,server=on,wait=off, tcp:H:P,... \n"
           "  -qmp SPEC           QMP, same forms\n"
           "  -machine, -accel, -cpu, -m, -smp, -uuid, -drive, -blockdev, -device, -netdev,\n"
           "  -global, -boot, -rtc, -sandbox, -msg, -overcommit, -pidfile, -audiodev (with an\n"
           "  argument), -no-shutdown, -nodefaults, -no-user-config, -daemonize: accepted and\n"
           "  ignored (reported once on stderr)\n"
           "Emulator options:\n"
           "  --guest KIND        console (default), pattern, or replay:FILE (a VFR file)\n"
           "  --size WxH          guest size (console and pattern; default 1024x768)\n"
           "  --format FORMAT     surface format: x8r8g8b8 (default), a8r8g8b8, r5g6b5,\n"
           "                      b8g8r8x8, x8b8g8r8, a8b8g8r8, b8g8r8a8, x1r5g5b5\n"
           "  --resize-every S    pattern: cycle 1024x768 / 800x600 / 1280x720 every S s\n"
           "  --replay-fps N      replay: records per second (default 30)\n"
           "  --frame-dump PATH   on SIGUSR1 write the frame to PATH as a binary PPM\n"
           "\n"
           "stdout carries one machine-readable event per line (READY, INPUT ..., CLIENT ...,\n"
           "RESIZE-REQUEST WxH, FRAME-DUMPED PATH); see README.md.\n";
}

} // namespace qvnc_emu
