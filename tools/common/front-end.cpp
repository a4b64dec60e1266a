#include "front-end.hpp"

#include <map>

namespace qvnc_tools {
namespace {

constexpr OptionSpec kFrontEnd[] = {
    {"name", Arg::Required},    {"S", Arg::None},          {"object", Arg::Required},
    {"vnc", Arg::Required},     {"k", Arg::Required},      {"display", Arg::Required},
    {"help", Arg::None},        {"h", Arg::None},
    {"chardev", Arg::Required}, {"mon", Arg::Required},    {"monitor", Arg::Required},
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

const OptionSpec *find_in(std::span<const OptionSpec> table, std::string_view name)
{
    for (const OptionSpec &spec : table) {
        if (spec.name == name) {
            return &spec;
        }
    }
    return nullptr;
}

// Applies one front-end option; returns an error message, or "".
std::string apply(FrontEnd &o, std::string_view name, const std::string &value, bool &help)
{
    if (name == "name") {
        auto guest = parse_name_option(value);
        if (!guest) {
            return "-name " + value + ": invalid -name argument";
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
        o.monitors.push_back(FrontEnd::LegacyMonitor{value, name == "qmp"});
    } else if (name == "help" || name == "h") {
        help = true;
    } else {
        o.ignored.push_back("-" + std::string(name));
    }
    return {};
}

} // namespace

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

ParseAction parse_command_line(std::span<const char *const> args, FrontEnd &front,
                               std::span<const OptionSpec> tool_options, const ToolOptionFn &apply_tool,
                               std::string &error)
{
    bool help = false;
    for (size_t i = 0; i < args.size(); ++i) {
        const std::string_view arg = args[i];
        std::string_view name = arg;
        if (name.size() >= 2 && name[0] == '-' && name[1] == '-') {
            name.remove_prefix(2);
        } else if (!name.empty() && name[0] == '-') {
            name.remove_prefix(1);
        } else {
            error = std::string(arg) + ": invalid option";
            return ParseAction::Fail;
        }
        const OptionSpec *tool = find_in(tool_options, name);
        const OptionSpec *spec = tool;
        if (spec == nullptr) {
            spec = find_in(kFrontEnd, name);
        }
        if (spec == nullptr) {
            spec = find_in(kIgnored, name);
        }
        if (spec == nullptr) {
            error = std::string(arg) + ": invalid option";
            return ParseAction::Fail;
        }
        std::string value;
        if (spec->arg == Arg::Required) {
            if (i + 1 >= args.size()) {
                error = std::string(arg) + ": requires an argument";
                return ParseAction::Fail;
            }
            value = args[++i];
        }
        error = tool != nullptr ? apply_tool(name, value) : apply(front, name, value, help);
        if (!error.empty()) {
            return ParseAction::Fail;
        }
    }
    if (help) {
        return ParseAction::Help;
    }
    if (front.vnc.empty()) {
        error = "no -vnc option given (nothing would serve the guest)";
        return ParseAction::Fail;
    }
    return ParseAction::Run;
}

std::string front_end_usage()
{
    return "QEMU options (one or two leading dashes):\n"
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
           "  ignored (reported once on stderr)\n";
}

std::string ignored_summary(const std::vector<std::string> &ignored)
{
    std::vector<std::string> order;
    std::map<std::string, int> count;
    for (const std::string &name : ignored) {
        if (count[name]++ == 0) {
            order.push_back(name);
        }
    }
    std::string line;
    for (const std::string &name : order) {
        line += (line.empty() ? "" : ", ") + name;
        if (count[name] > 1) {
            line += " (x" + std::to_string(count[name]) + ")";
        }
    }
    return line;
}

} // namespace qvnc_tools
