#include "vnc-options.hpp"

#include <array>
#include <climits>

#include "vnc-address.hpp"

namespace qvnc::vnc {

namespace {

using opts::OptDesc;
using opts::OptType;
using opts::ParsedOpts;

constexpr std::array kVncOpts = {
    OptDesc{"vnc", OptType::String},
    OptDesc{"websocket", OptType::String},
    OptDesc{"tls-creds", OptType::String},
    OptDesc{"share", OptType::String},
    OptDesc{"display", OptType::String},
    OptDesc{"head", OptType::Number},
    OptDesc{"connections", OptType::Number},
    OptDesc{"to", OptType::Number},
    OptDesc{"ipv4", OptType::Bool},
    OptDesc{"ipv6", OptType::Bool},
    OptDesc{"password", OptType::Bool},
    OptDesc{"password-secret", OptType::String},
    OptDesc{"reverse", OptType::Bool},
    OptDesc{"lock-key-sync", OptType::Bool},
    OptDesc{"key-delay-ms", OptType::Number},
    OptDesc{"sasl", OptType::Bool},
    OptDesc{"tls-authz", OptType::String},
    OptDesc{"sasl-authz", OptType::String},
    OptDesc{"lossy", OptType::Bool},
    OptDesc{"non-adaptive", OptType::Bool},
    OptDesc{"audiodev", OptType::String},
    OptDesc{"power-control", OptType::Bool},
    // Legacy keys (QEMU 0.10 - 3.0 / 5.2), still accepted here.
    OptDesc{"tls", OptType::Bool},
    OptDesc{"x509", OptType::String},
    OptDesc{"x509verify", OptType::String},
    OptDesc{"acl", OptType::Bool},
};

constexpr int kMaxAutoIds = 1 << 20;

Error opts_error(const std::string &message)
{
    return Error{ErrorCode::Opts, message};
}

// QemuOpts numbers are 64-bit; QEMU silently truncates them into ints.  We
// refuse what does not fit instead of wrapping (connections=-1 would
// otherwise become "drop every client").
Result<int> get_int(const ParsedOpts &p, const char *key, int def, int max)
{
    const opts::Opt *o = p.find(key);
    if (o == nullptr) {
        return def;
    }
    if (o->number > static_cast<uint64_t>(max)) {
        return opts_error(strprintf("Parameter '%s' expects a number no larger than %d", key, max));
    }
    return static_cast<int>(o->number);
}

std::string get_string(const ParsedOpts &p, const char *key)
{
    auto v = p.get(key);
    return v ? std::string(*v) : std::string();
}

// VncConfig uses "" for "not given", but QEMU treats an explicit empty id as
// an id that cannot be found.  Keeping that an error matters for the authz
// keys: an empty tls-authz must not silently become "no authorization".
Status check_not_empty(const ParsedOpts &p)
{
    struct Rule {
        const char *key;
        const char *message;
    };
    static constexpr Rule kRules[] = {
        {"password-secret", "No secret with id ''"},
        {"tls-creds", "No TLS credentials with id ''"},
        {"tls-authz", "Parameter 'tls-authz' expects an identifier"},
        {"sasl-authz", "Parameter 'sasl-authz' expects an identifier"},
        {"display", "Device '' not found"},
        {"audiodev", "Audiodev '' not found"},
    };
    for (const Rule &r : kRules) {
        auto v = p.get(r.key);
        if (v && v->empty()) {
            return opts_error(r.message);
        }
    }
    return ok_status();
}

Result<std::string> assign_id(const ParsedOpts &p, const IdTaken &id_taken)
{
    if (p.id) {
        return *p.id; // well-formedness and uniqueness checked by parse_opts
    }
    auto taken = [&](const std::string &id) { return id_taken && id_taken(id); };
    std::string id = "default";
    for (int i = 2; taken(id); ++i) {
        if (i > kMaxAutoIds) {
            return Error{ErrorCode::Internal, "no free vnc display id"};
        }
        id = strprintf("vnc%d", i);
    }
    return id;
}

// vnc_display_get_addresses(): primaries first (the first one's display
// number is the websocket default), then websockets.
Status parse_addresses(const ParsedOpts &p, VncConfig &cfg, int to)
{
    // Only the last vnc= decides whether anything listens at all.
    auto last = p.get("vnc");
    if (!last || *last == "none") {
        cfg.none = true;
        return ok_status();
    }

    AddressContext ctx;
    ctx.reverse = cfg.reverse;
    ctx.to = to;
    if (p.has("ipv4")) {
        ctx.ipv4 = p.get_bool("ipv4", false);
    }
    if (p.has("ipv6")) {
        ctx.ipv6 = p.get_bool("ipv6", false);
    }

    int display_num = -1;
    for (std::string_view text : p.get_all("vnc")) {
        auto a = parse_vnc_address(text, ctx);
        if (!a) {
            return a.take_error();
        }
        if (display_num == -1) {
            display_num = a->display_num;
        }
        cfg.addresses.push_back(std::move(a->address));
    }
    // With several primaries a default websocket port would be ambiguous.
    const ListenAddress *single = nullptr;
    if (cfg.addresses.size() == 1) {
        single = &cfg.addresses.front();
    } else {
        display_num = -1;
    }

    ctx.websocket = true;
    ctx.display_num = display_num;
    for (std::string_view text : p.get_all("websocket")) {
        auto a = parse_vnc_address(text, ctx);
        if (!a) {
            return a.take_error();
        }
        ListenAddress ws = std::move(a->address);
        // Historical QEMU behaviour: a websocket without a host listens on
        // the host of the single primary address.
        if (single != nullptr && single->kind == ListenAddress::Kind::Inet &&
            ws.kind == ListenAddress::Kind::Inet && ws.host.empty() && !single->host.empty()) {
            ws.host = single->host;
        }
        cfg.websockets.push_back(std::move(ws));
    }
    return ok_status();
}

// The checks vnc_display_open() makes, in QEMU's order.
Status parse_auth(const ParsedOpts &p, VncConfig &cfg)
{
    if (p.has("password-secret")) {
        if (p.has("password")) {
            return opts_error("'password' flag is redundant with 'password-secret'");
        }
        cfg.password_secret = get_string(p, "password-secret");
        cfg.password = true; // the secret implies password auth
    } else {
        cfg.password = p.get_bool("password", false);
    }
    cfg.sasl = p.get_bool("sasl", false);

    if (p.has("tls-creds") && (p.has("tls") || p.has("x509") || p.has("x509verify"))) {
        return opts_error("'tls-creds' parameter is mutually exclusive with 'tls', 'x509' and "
                          "'x509verify' parameters");
    }
    cfg.tls_creds = get_string(p, "tls-creds");
    cfg.tls = p.get_bool("tls", false);
    cfg.x509 = get_string(p, "x509");
    cfg.x509verify = get_string(p, "x509verify");
    // Legacy tls=on makes QEMU create credentials itself, so it counts.
    const bool tls_enabled = p.has("tls-creds") || cfg.tls;

    cfg.acl = p.get_bool("acl", false);
    if (cfg.acl && p.has("tls-authz")) {
        return opts_error("'acl' option is mutually exclusive with the 'tls-authz' option");
    }
    if (p.has("tls-authz") && !tls_enabled) {
        return opts_error("'tls-authz' provided but TLS is not enabled");
    }
    cfg.tls_authz = get_string(p, "tls-authz");

    if (cfg.acl && p.has("sasl-authz")) {
        return opts_error("'acl' option is mutually exclusive with the 'sasl-authz' option");
    }
    if (p.has("sasl-authz") && !cfg.sasl) {
        return opts_error("'sasl-authz' provided but SASL auth is not enabled");
    }
    cfg.sasl_authz = get_string(p, "sasl-authz");
    return ok_status();
}

Status parse_misc(const ParsedOpts &p, VncConfig &cfg)
{
    if (auto share = p.get("share")) {
        if (*share == "ignore") {
            cfg.share = SharePolicy::Ignore;
        } else if (*share == "allow-exclusive") {
            cfg.share = SharePolicy::AllowExclusive;
        } else if (*share == "force-shared") {
            cfg.share = SharePolicy::ForceShared;
        } else {
            return opts_error("unknown vnc share= option");
        }
    }

    auto connections = get_int(p, "connections", 32, INT_MAX);
    if (!connections) {
        return connections.take_error();
    }
    cfg.connections = *connections;
    auto key_delay = get_int(p, "key-delay-ms", 10, INT_MAX);
    if (!key_delay) {
        return key_delay.take_error();
    }
    cfg.key_delay_ms = *key_delay;
    auto head = get_int(p, "head", 0, INT_MAX);
    if (!head) {
        return head.take_error();
    }
    cfg.head = *head;

    cfg.lock_key_sync = p.get_bool("lock-key-sync", true);
    cfg.lossy = p.get_bool("lossy", false);
    // Adaptive updates only matter for lossy tight encoding, so QEMU skips
    // their bookkeeping whenever lossy is off.
    cfg.non_adaptive = p.get_bool("non-adaptive", false) || !cfg.lossy;
    cfg.power_control = p.get_bool("power-control", false);
    cfg.display = get_string(p, "display");
    cfg.audiodev = get_string(p, "audiodev");
    return ok_status();
}

} // namespace

std::span<const opts::OptDesc> vnc_option_table()
{
    return kVncOpts;
}

std::string vnc_options_help()
{
    return opts::format_help("vnc", kVncOpts);
}

Result<VncConfig> parse_vnc_options(std::string_view text, const IdTaken &id_taken)
{
    opts::ParseOptions po;
    // QEMU's vnc_parse(): "-vnc help" is a help request, not display "help".
    po.implied_key = opts::is_help_option(text) ? "" : "vnc";
    po.list_name = "vnc";
    po.id_taken = id_taken;
    auto parsed = opts::parse_opts(text, kVncOpts, po);
    if (!parsed) {
        return parsed.take_error();
    }
    const ParsedOpts &p = *parsed;

    VncConfig cfg;
    cfg.warnings = p.warnings;
    if (p.help) {
        cfg.help = true;
        return cfg;
    }
    for (const opts::Opt &o : p.items) {
        if (o.name != "vnc") {
            cfg.given.insert(o.name);
        }
    }
    if (p.id) {
        cfg.given.insert("id");
    }

    auto id = assign_id(p, id_taken);
    if (!id) {
        return id.take_error();
    }
    cfg.id = std::move(*id);

    auto to = get_int(p, "to", 0, 65535);
    if (!to) {
        return to.take_error();
    }
    cfg.reverse = p.get_bool("reverse", false);
    if (Status st = parse_addresses(p, cfg, *to); !st) {
        return st.take_error();
    }
    if (Status st = check_not_empty(p); !st) {
        return st.take_error();
    }
    if (Status st = parse_auth(p, cfg); !st) {
        return st.take_error();
    }
    if (Status st = parse_misc(p, cfg); !st) {
        return st.take_error();
    }

    // QEMU checks these only when it is about to connect out, i.e. last.
    if (cfg.reverse && !cfg.addresses.empty()) {
        if (!cfg.websockets.empty()) {
            return opts_error("Cannot use websockets in reverse mode");
        }
        if (cfg.addresses.size() != 1) {
            return opts_error("Expected a single address in reverse mode");
        }
    }
    return cfg;
}

} // namespace qvnc::vnc
