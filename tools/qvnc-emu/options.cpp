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

// The emulator's own options; the front end handles the QEMU ones.
constexpr qvnc_tools::OptionSpec kEmulatorOptions[] = {
    {"guest", qvnc_tools::Arg::Required},        {"size", qvnc_tools::Arg::Required},
    {"format", qvnc_tools::Arg::Required},       {"resize-every", qvnc_tools::Arg::Required},
    {"replay-fps", qvnc_tools::Arg::Required},   {"frame-dump", qvnc_tools::Arg::Required},
    {"handshake-timeout", qvnc_tools::Arg::Required},
};

// Applies one option; returns an error message, or "" when it was fine.
std::string apply(Options &o, std::string_view name, const std::string &value)
{
    // Appended piecewise: GCC 12 at -O3 warns (-Wrestrict, a false positive)
    // about the equivalent chain of operator+.
    std::string prefix = "-";
    prefix.append(name).append(" ").append(value).append(": ");
    if (name == "guest") {
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
        // 0 = demand-driven (next record when a client waits for one).
        auto fps = value == "0" ? std::optional<double>(0.0) : parse_positive(value);
        if (!fps || *fps > 1000) {
            return prefix + "expected a frame rate in (0, 1000], or 0 for demand-driven";
        }
        o.replay_fps = *fps;
    } else if (name == "handshake-timeout") {
        auto seconds = parse_positive(value);
        if (!seconds || *seconds > 86400) {
            return prefix + "expected a number of seconds in (0, 86400]";
        }
        o.handshake_timeout_ms = static_cast<unsigned>(*seconds * 1000 + 0.5);
    } else if (name == "frame-dump") {
        if (value.empty()) {
            return prefix + "expected a path";
        }
        o.frame_dump = value;
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

ParseResult parse_options(std::span<const char *const> args)
{
    ParseResult result;
    Options &o = result.options;
    const qvnc_tools::ParseAction action = qvnc_tools::parse_command_line(
        args, o, kEmulatorOptions,
        [&o](std::string_view name, const std::string &value) { return apply(o, name, value); }, result.error);
    switch (action) {
    case qvnc_tools::ParseAction::Run:
        result.action = ParseResult::Action::Run;
        break;
    case qvnc_tools::ParseAction::Help:
        result.action = ParseResult::Action::Help;
        break;
    case qvnc_tools::ParseAction::Fail:
        result.action = ParseResult::Action::Fail;
        break;
    }
    return result;
}

std::string usage_text()
{
    return "usage: qvnc-emu [-name NAME] [-S] [-object SPEC]... -vnc OPTS [-vnc OPTS]...\n"
           "                [-chardev SPEC]... [-mon OPTS]... [-monitor SPEC]... [-qmp SPEC]...\n"
           "                [-k LAYOUT] [-display ANY] [--guest console|pattern|replay:FILE]\n"
           "                [--size WxH] [--format FORMAT] [--resize-every SECONDS]\n"
           "                [--replay-fps N] [--frame-dump PATH] [--handshake-timeout S] [--help]\n"
           "\n"
           "A stand-in emulator serving a guest framebuffer through libqvnc.\n"
           + qvnc_tools::front_end_usage() +
           "Emulator options:\n"
           "  --guest KIND        console (default), pattern, or replay:FILE (a VFR file)\n"
           "  --size WxH          guest size (console and pattern; default 1024x768)\n"
           "  --format FORMAT     surface format: x8r8g8b8 (default), a8r8g8b8, r5g6b5,\n"
           "                      b8g8r8x8, x8b8g8r8, a8b8g8r8, b8g8r8a8, x1r5g5b5\n"
           "  --resize-every S    pattern: cycle 1024x768 / 800x600 / 1280x720 every S s\n"
           "  --replay-fps N      replay: records per second (default 30); 0 = demand-driven:\n"
           "                      the next record as soon as a client waits for an update\n"
           "  --frame-dump PATH   on SIGUSR1 write the frame to PATH as a binary PPM\n"
           "  --handshake-timeout S  drop clients that have not finished the handshake\n"
           "                      (security included) after S seconds (default 120)\n"
           "\n"
           "stdout carries one machine-readable event per line (READY, INPUT ..., CLIENT ...,\n"
           "RESIZE-REQUEST WxH, FRAME-DUMPED PATH); see README.md.\n";
}

} // namespace qvnc_emu
