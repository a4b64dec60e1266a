// The option parsers a command line or a monitor feeds with user text:
// -vnc (qvnc::vnc::parse_vnc_options, QemuOpts syntax and the cross-field
// rules), -object in both syntaxes (qvnc::opts::parse_object_spec, keyval
// and JSON) with the typed property getters, and the QemuOpts value parsers.
//
// byte 0 selects the parser; the rest is the text.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "object-spec.hpp"
#include "qemu-opts.hpp"
#include "vnc-config.hpp"
#include "vnc-options.hpp"

using namespace qvnc;

namespace {

[[noreturn]] void violated(const char *what)
{
    fprintf(stderr, "==fuzz== option parser contract violated: %s\n", what);
    __builtin_trap();
}

void vnc_options(std::string_view text, bool taken)
{
    Result<vnc::VncConfig> r = vnc::parse_vnc_options(text, [taken](std::string_view id) {
        return taken && (id == "default" || id == "vnc2");
    });
    if (!r) {
        if (r.error().message.empty()) violated("-vnc error without a message");
        return;
    }
    const vnc::VncConfig &c = r.value();
    if (c.help) return;
    if (c.id.empty()) violated("-vnc accepted without a display id");
    for (const auto &a : c.addresses) {
        if (a.kind == vnc::ListenAddress::Kind::Inet && (a.port < 0 || a.port > 65535 || a.port_to < 0 ||
                                                          a.port_to > 65535))
            violated("-vnc accepted a port outside 0..65535");
    }
    for (const auto &a : c.websockets) {
        if (a.kind == vnc::ListenAddress::Kind::Inet && (a.port < 0 || a.port > 65535))
            violated("-vnc accepted a websocket port outside 0..65535");
    }
    if (c.connections < 0 || c.key_delay_ms < 0 || c.head < 0) violated("-vnc accepted a negative number");
}

void object_spec(std::string_view text)
{
    Result<opts::ObjectSpec> r = opts::parse_object_spec(text);
    if (!r) {
        if (r.error().message.empty()) violated("-object error without a message");
        return;
    }
    const opts::ObjectSpec &s = r.value();
    // An empty qom-type is accepted here; creating it fails later with
    // QEMU's "invalid object type: ".
    if (!s.props.is_object()) violated("-object properties are not an object");
    // The getters a creator uses on every property, whatever its JSON type.
    for (auto it = s.props.begin(); it != s.props.end(); ++it) {
        (void)opts::get_string(s, it.key());
        (void)opts::get_bool(s, it.key(), false);
    }
    (void)opts::check_known_props(s, {"data", "file", "format", "dir", "endpoint", "verify-peer"});
}

void values(std::string_view text)
{
    (void)opts::parse_bool("k", text);
    (void)opts::parse_number("k", text);
    (void)opts::parse_size("k", text);
    (void)opts::id_wellformed(text);
    (void)opts::is_help_option(text);
    opts::ParseOptions po;
    po.implied_key = "vnc";
    po.accept_any = true;
    po.short_form = opts::ShortForm::Reject;
    Result<opts::ParsedOpts> p = opts::parse_opts(text, vnc::vnc_option_table(), po);
    if (p) {
        for (const opts::Opt &o : p->items) {
            (void)p->get_all(o.name);
        }
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    const uint8_t mode = data[0];
    std::string_view text(reinterpret_cast<const char *>(data + 1), size - 1);
    switch (mode % 4) {
    case 0: vnc_options(text, false); break;
    case 1: vnc_options(text, true); break;
    case 2: object_spec(text); break;
    default: values(text); break;
    }
    return 0;
}
