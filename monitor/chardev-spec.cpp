#include "chardev-spec.hpp"

#include <array>
#include <cerrno>
#include <climits>
#include <cstdlib>

#include "qemu-opts.hpp"

namespace qvnc::monitor {

namespace {

using opts::OptDesc;
using opts::OptType;

// QEMU's qemu_chardev_opts: every back end's keys, so that lines written
// for back ends qvnc does not serve still parse.
constexpr std::array<OptDesc, 34> kChardevOpts = {{
    {"backend", OptType::String}, {"path", OptType::String},     {"host", OptType::String},
    {"port", OptType::String},    {"fd", OptType::String},       {"localaddr", OptType::String},
    {"localport", OptType::String}, {"to", OptType::Number},     {"ipv4", OptType::Bool},
    {"ipv6", OptType::Bool},      {"wait", OptType::Bool},       {"server", OptType::Bool},
    {"delay", OptType::Bool},     {"nodelay", OptType::Bool},    {"reconnect", OptType::Number},
    {"telnet", OptType::Bool},    {"tn3270", OptType::Bool},     {"tls-creds", OptType::String},
    {"tls-authz", OptType::String}, {"websocket", OptType::Bool}, {"width", OptType::Number},
    {"height", OptType::Number},  {"cols", OptType::Number},     {"rows", OptType::Number},
    {"mux", OptType::Bool},       {"signal", OptType::Bool},     {"name", OptType::String},
    {"debug", OptType::Number},   {"size", OptType::Size},       {"chardev", OptType::String},
    {"append", OptType::Bool},    {"logfile", OptType::String},  {"logappend", OptType::Bool},
    {"abstract", OptType::Bool},
}};

constexpr std::array<OptDesc, 4> kMonOpts = {{
    {"mode", OptType::String},
    {"chardev", OptType::String},
    {"pretty", OptType::Bool},
    {"default", OptType::Bool}, // accepted and ignored, as since QEMU 2.x
}};

// Keys a socket/stdio/null chardev may carry here.  A key qvnc would have
// to honour to behave like QEMU (tls-creds, telnet, websocket, reconnect,
// mux, logfile, ...) is refused rather than silently ignored.
bool socket_key_ok(std::string_view k)
{
    for (const char *ok : {"backend", "path", "host", "port", "fd", "to", "ipv4", "ipv6", "wait",
                           "server", "delay", "nodelay", "abstract"}) {
        if (k == ok) {
            return true;
        }
    }
    return false;
}

Status fill_socket(const opts::ParsedOpts &p, ChardevSpec &spec)
{
    for (const auto &item : p.items) {
        if (!socket_key_ok(item.name)) {
            return make_error(ErrorCode::Unsupported,
                              "chardev: socket: '%s' is not supported by qvnc", item.name.c_str());
        }
    }
    if (p.get_bool("abstract", false)) {
        return make_error(ErrorCode::Unsupported, "chardev: abstract sockets are not supported by qvnc");
    }
    auto path = p.get("path");
    auto host = p.get("host");
    auto port = p.get("port");
    auto fd = p.get("fd");
    if (!path && !host && !fd) {
        return make_error(ErrorCode::Opts, "chardev: socket: no host given");
    }
    if (!path && host && !port) {
        return make_error(ErrorCode::Opts, "chardev: socket: no port given");
    }
    if (path) {
        spec.path = std::string(*path);
    } else if (host) {
        spec.host = std::string(*host);
        spec.port = std::string(*port);
    } else {
        std::string text(*fd);
        char *end = nullptr;
        errno = 0;
        long v = std::strtol(text.c_str(), &end, 10);
        if (text.empty() || *end != '\0' || errno == ERANGE || v < 0 || v > INT_MAX) {
            return make_error(ErrorCode::Opts, "Parameter 'fd' expects a file descriptor number");
        }
        spec.fd = static_cast<int>(v);
    }
    spec.server = p.get_bool("server", false);
    spec.wait = p.get_bool("wait", true);
    // QEMU: delay=off is the old spelling of nodelay=on.
    spec.nodelay = p.get_bool("nodelay", false) || !p.get_bool("delay", true);
    if (p.has("ipv4")) {
        spec.ipv4 = p.get_bool("ipv4", false);
    }
    if (p.has("ipv6")) {
        spec.ipv6 = p.get_bool("ipv6", false);
    }
    if (p.has("to")) {
        return make_error(ErrorCode::Unsupported, "chardev: socket: 'to' is not supported by qvnc");
    }
    return ok_status();
}

Result<opts::ParsedOpts> parse_with(std::string_view text, std::string_view implied,
                                    const IdTaken &id_taken)
{
    opts::ParseOptions po;
    po.implied_key = implied;
    po.list_name = "chardev";
    po.id_taken = id_taken;
    return opts::parse_opts(text, kChardevOpts, po);
}

Status fill(const opts::ParsedOpts &p, ChardevSpec &spec)
{
    auto backend = p.get("backend");
    if (!backend) {
        return make_error(ErrorCode::Opts, "chardev: \"%s\" missing backend",
                          p.id ? p.id->c_str() : "");
    }
    spec.backend_name = std::string(*backend);
    if (spec.backend_name == "socket") {
        spec.backend = ChardevSpec::Backend::Socket;
        return fill_socket(p, spec);
    }
    if (spec.backend_name == "stdio" || spec.backend_name == "null") {
        spec.backend = spec.backend_name == "stdio" ? ChardevSpec::Backend::Stdio
                                                    : ChardevSpec::Backend::Null;
        for (const auto &item : p.items) {
            // signal=on is what qvnc does anyway (Ctrl-C reaches the host).
            if (item.name != "backend" && !(item.name == "signal" && item.boolean)) {
                return make_error(ErrorCode::Unsupported, "chardev: %s: '%s' is not supported by qvnc",
                                  spec.backend_name.c_str(), item.name.c_str());
            }
        }
        return ok_status();
    }
    for (const char *known : {"file", "pipe", "pty", "serial", "tty", "parallel", "parport", "udp",
                              "ringbuf", "memory", "msmouse", "wctablet", "braille", "testdev",
                              "spicevmc", "spiceport", "vc", "qemu-vdagent", "dbus", "mux"}) {
        if (spec.backend_name == known) {
            spec.backend = ChardevSpec::Backend::Unsupported;
            return ok_status();
        }
    }
    return make_error(ErrorCode::Opts, "'%s' is not a valid char driver name",
                      spec.backend_name.c_str());
}

} // namespace

Result<ChardevSpec> parse_chardev(std::string_view text, const IdTaken &id_taken)
{
    auto p = parse_with(text, "backend", id_taken);
    if (!p) {
        return p.take_error();
    }
    if (!p->id) {
        return make_error(ErrorCode::Opts, "chardev: no id specified");
    }
    ChardevSpec spec;
    spec.id = *p->id;
    auto st = fill(p.value(), spec);
    if (!st) {
        return st.take_error();
    }
    return spec;
}

Result<LegacyMonitorSpec> parse_legacy_monitor(std::string_view text)
{
    LegacyMonitorSpec out;
    if (text == "none") {
        return out;
    }
    if (text.starts_with("chardev:")) {
        out.kind = LegacyMonitorSpec::Kind::Existing;
        out.existing_id = std::string(text.substr(8));
        return out;
    }
    out.kind = LegacyMonitorSpec::Kind::New;
    ChardevSpec &spec = out.chardev;
    if (text == "stdio" || text == "mon:stdio") {
        spec.backend = ChardevSpec::Backend::Stdio;
        spec.backend_name = "stdio";
        return out;
    }
    if (text == "null") {
        spec.backend = ChardevSpec::Backend::Null;
        spec.backend_name = "null";
        return out;
    }
    std::string opts_text;
    if (text.starts_with("unix:")) {
        // The path is the implied first item: "unix:PATH,server=on,...".
        auto p = parse_with(text.substr(5), "path", {});
        if (!p) {
            return p.take_error();
        }
        spec.backend = ChardevSpec::Backend::Socket;
        spec.backend_name = "socket";
        auto st = fill_socket(p.value(), spec);
        if (!st) {
            return st.take_error();
        }
        return out;
    }
    if (text.starts_with("tcp:")) {
        // HOST:PORT up to the first ',' (QEMU's "%64[^:]:%32[^,]"), with
        // [IPV6]:PORT as a convenience.
        std::string_view rest = text.substr(4);
        auto comma = rest.find(',');
        std::string_view hostport = rest.substr(0, comma);
        std::string_view host, port;
        if (hostport.starts_with("[")) {
            auto close = hostport.find("]:");
            if (close == std::string_view::npos) {
                return make_error(ErrorCode::Opts, "could not parse monitor address '%.*s'",
                                  static_cast<int>(text.size()), text.data());
            }
            host = hostport.substr(1, close - 1);
            port = hostport.substr(close + 2);
        } else {
            auto colon = hostport.find(':');
            if (colon == std::string_view::npos) {
                return make_error(ErrorCode::Opts, "could not parse monitor address '%.*s'",
                                  static_cast<int>(text.size()), text.data());
            }
            host = hostport.substr(0, colon);
            port = hostport.substr(colon + 1);
        }
        if (port.empty()) {
            return make_error(ErrorCode::Opts, "chardev: socket: no port given");
        }
        std::string rebuilt = "host=";
        for (char c : host) {
            rebuilt += c;
            if (c == ',') {
                rebuilt += ',';
            }
        }
        rebuilt += ",port=" + std::string(port);
        if (comma != std::string_view::npos) {
            rebuilt += std::string(rest.substr(comma));
        }
        auto p = parse_with(rebuilt, "", {});
        if (!p) {
            return p.take_error();
        }
        spec.backend = ChardevSpec::Backend::Socket;
        spec.backend_name = "socket";
        auto st = fill_socket(p.value(), spec);
        if (!st) {
            return st.take_error();
        }
        return out;
    }
    return make_error(ErrorCode::Unsupported, "monitor back end '%.*s' is not supported by qvnc",
                      static_cast<int>(text.size()), text.data());
}

Result<MonSpec> parse_mon(std::string_view text)
{
    opts::ParseOptions po;
    po.implied_key = "chardev";
    po.list_name = "mon";
    auto p = opts::parse_opts(text, kMonOpts, po);
    if (!p) {
        return p.take_error();
    }
    MonSpec m;
    auto chardev = p->get("chardev");
    if (!chardev) {
        return make_error(ErrorCode::Opts, "Parameter 'chardev' is missing");
    }
    m.chardev = std::string(*chardev);
    if (auto mode = p->get("mode")) {
        if (*mode == "control") {
            m.control = true;
        } else if (*mode != "readline") {
            return make_error(ErrorCode::Opts, "Parameter 'mode' does not accept value '%.*s'",
                              static_cast<int>(mode->size()), mode->data());
        }
    }
    m.pretty = p->get_bool("pretty", false);
    if (m.pretty && !m.control) {
        return make_error(ErrorCode::Opts, "'pretty' is not compatible with HMP monitors");
    }
    if (p->id) {
        m.id = *p->id;
    }
    return m;
}

} // namespace qvnc::monitor
