#include "vnc-address.hpp"

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <string>

namespace qvnc::vnc {

namespace {

constexpr int kVncPortBase = 5900;
constexpr int kWebsocketPortBase = 5700;
constexpr uint64_t kMaxPort = 65535;

Error opts_error(const std::string &message)
{
    return Error{ErrorCode::Opts, message};
}

// QEMU's parse_uint_full(s, 10): optional leading whitespace and '+', then
// decimal digits up to the end.  A '-' sign or overflow is a failure, not a
// wrap-around.
std::optional<uint64_t> parse_uint_full(const std::string &s)
{
    const char *p = s.c_str();
    while (std::isspace(static_cast<unsigned char>(*p))) {
        ++p;
    }
    if (*p == '-') {
        return std::nullopt;
    }
    char *end = nullptr;
    errno = 0;
    unsigned long long v = std::strtoull(p, &end, 10);
    if (end == p || errno != 0 || static_cast<size_t>(end - s.c_str()) != s.size()) {
        return std::nullopt;
    }
    return static_cast<uint64_t>(v);
}

// A port number that must be a plain number: ports are converted here
// rather than by a later getaddrinfo(), so the error is reported at parse
// time and names the value.
Result<int> parse_port(const std::string &port, int offset)
{
    auto base = parse_uint_full(port);
    if (!base) {
        return opts_error(strprintf("can't convert to a number: %s", port.c_str()));
    }
    if (*base > kMaxPort || *base + static_cast<uint64_t>(offset) > kMaxPort) {
        return opts_error(strprintf("port %s out of range", port.c_str()));
    }
    return static_cast<int>(*base);
}

} // namespace

Result<ParsedAddress> parse_vnc_address(std::string_view text, const AddressContext &ctx)
{
    ParsedAddress out;
    ListenAddress &addr = out.address;

    if (text.substr(0, 5) == "unix:") {
        addr.kind = ListenAddress::Kind::Unix;
        addr.path = std::string(text.substr(5));
        if (ctx.to != 0) {
            return opts_error("Port range not support with UNIX socket");
        }
        out.display_num = 0;
        return out;
    }

    std::string_view port;
    size_t hostlen;
    const size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) {
        if (!ctx.websocket) {
            return opts_error("no vnc port specified");
        }
        hostlen = 0;
        port = text;
    } else {
        hostlen = colon;
        port = text.substr(colon + 1);
        if (port.empty()) {
            return opts_error("vnc port cannot be empty");
        }
    }

    addr.kind = ListenAddress::Kind::Inet;
    if (hostlen >= 2 && text[0] == '[' && text[hostlen - 1] == ']') {
        addr.host = std::string(text.substr(1, hostlen - 2));
    } else {
        addr.host = std::string(text.substr(0, hostlen));
    }

    if (ctx.websocket) {
        if (text.empty() || text == "on") {
            if (ctx.display_num < 0) {
                return opts_error("explicit websocket port is required");
            }
            addr.port = ctx.display_num + kWebsocketPortBase;
            if (ctx.to != 0) {
                addr.port_to = ctx.to + kWebsocketPortBase;
            }
        } else {
            // Absolute port; QEMU ignores to= here.
            auto p = parse_port(std::string(port), 0);
            if (!p) {
                return p.take_error();
            }
            addr.port = *p;
        }
    } else {
        const int offset = ctx.reverse ? 0 : kVncPortBase;
        auto base = parse_port(std::string(port), offset);
        if (!base) {
            return base.take_error();
        }
        addr.port = *base + offset;
        if (ctx.to != 0) {
            addr.port_to = ctx.to + offset;
        }
        out.display_num = *base;
    }

    addr.ipv4 = ctx.ipv4;
    addr.ipv6 = ctx.ipv6;
    return out;
}

} // namespace qvnc::vnc
