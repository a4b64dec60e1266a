#include "options.hpp"

#include <charconv>

namespace qvnc_dbus {
namespace {

constexpr qvnc_tools::OptionSpec kOwnOptions[] = {
    {"dbus-address", qvnc_tools::Arg::Required},
    {"console", qvnc_tools::Arg::Required},
    {"qemu-qmp", qvnc_tools::Arg::Required},
};

std::string apply(Options &o, std::string_view name, const std::string &value)
{
    if (name == "dbus-address") {
        if (value.empty()) {
            return "--dbus-address: expected a D-Bus address";
        }
        o.dbus_address = value;
    } else if (name == "console") {
        unsigned id = 0;
        const char *end = value.data() + value.size();
        auto [ptr, ec] = std::from_chars(value.data(), end, id);
        if (value.empty() || ec != std::errc{} || ptr != end) {
            return "--console " + value + ": expected a console number";
        }
        o.console = id;
    } else if (name == "qemu-qmp") {
        if (value.empty()) {
            return "--qemu-qmp: expected the path of QEMU's QMP unix socket";
        }
        o.qemu_qmp = value;
    }
    if (!o.qemu_qmp.empty() && !o.dbus_address.empty()) {
        return "--dbus-address and --qemu-qmp exclude each other";
    }
    return {};
}

} // namespace

ParseResult parse_options(std::span<const char *const> args)
{
    ParseResult result;
    Options &o = result.options;
    result.action = qvnc_tools::parse_command_line(
        args, o, kOwnOptions, [&o](std::string_view name, const std::string &value) { return apply(o, name, value); },
        result.error);
    return result;
}

std::string usage_text()
{
    return "usage: qvnc-dbus [-name NAME] [-object SPEC]... -vnc OPTS [-vnc OPTS]...\n"
           "                 [-chardev SPEC]... [-mon OPTS]... [-monitor SPEC]... [-qmp SPEC]...\n"
           "                 [-k LAYOUT] [--dbus-address ADDRESS | --qemu-qmp PATH] [--console N] [--help]\n"
           "\n"
           "Serves a running QEMU started with -display dbus to VNC clients: attaches to its\n"
           "console over D-Bus (org.qemu.Display1), shows it on every -vnc display and sends\n"
           "keyboard and mouse input back.  QEMU may start, stop and restart at any time.\n"
           + qvnc_tools::front_end_usage() +
           "qvnc-dbus options:\n"
           "  --dbus-address A    the bus QEMU is on (default: the session bus,\n"
           "                      DBUS_SESSION_BUS_ADDRESS)\n"
           "  --qemu-qmp PATH     no bus: QEMU runs -display dbus,p2p=yes with a QMP unix\n"
           "                      socket at PATH; a private connection is handed over there\n"
           "                      (getfd + add_client protocol=@dbus-display)\n"
           "  --console N         the console to serve (default 0)\n"
           "\n"
           "stdout carries one event per line: READY, ATTACHED LABEL WxH, SCANOUT WxH,\n"
           "DETACHED, CLIENT connected|initialized|disconnected HOST.\n";
}

} // namespace qvnc_dbus
