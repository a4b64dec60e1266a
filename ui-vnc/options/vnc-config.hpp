// The parsed form of one -vnc option string.  Pure data: nothing here touches
// sockets or files; the Server acts on it.
#pragma once

#include <functional>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "error.hpp"

namespace qvnc::vnc {

struct ListenAddress {
    enum class Kind { Inet, Unix };
    Kind kind = Kind::Inet;
    std::string host;  // inet: "" = all addresses; brackets of [v6] removed
    int port = 0;      // inet: first port (5900+D, or absolute for websocket/reverse)
    int port_to = 0;   // inet: last port of a to= range, 0 = just `port`
    std::string path;  // unix
    std::optional<bool> ipv4, ipv6; // ipv4=/ipv6= when given
};

enum class SharePolicy { AllowExclusive, ForceShared, Ignore };

struct VncConfig {
    std::string id;                       // "default", "vnc2", ... or id=
    bool none = false;                    // "none": no listener, add_client only
    std::vector<ListenAddress> addresses; // vnc= (repeatable)
    std::vector<ListenAddress> websockets;
    bool reverse = false;

    bool password = false;
    std::string password_secret;          // secret object id, "" = none
    bool sasl = false;
    std::string sasl_authz;
    std::string tls_creds;
    std::string tls_authz;
    bool acl = false;
    // Legacy (QEMU <= 3.0): tls, x509=DIR, x509verify=DIR.
    bool tls = false;
    std::string x509;
    std::string x509verify;

    bool lossy = false;
    bool non_adaptive = false;            // forced on when lossy is off
    SharePolicy share = SharePolicy::AllowExclusive;
    int connections = 32;
    int key_delay_ms = 10;
    bool lock_key_sync = true;
    std::string display;                  // device id, "" = default console
    int head = 0;
    std::string audiodev;
    bool power_control = false;

    // Every key the user wrote (without the implied "vnc"), so that features
    // not built yet can refuse exactly the options that ask for them.
    std::set<std::string, std::less<>> given;
    bool was_given(std::string_view key) const { return given.count(key) != 0; }

    // "-vnc help" / "-vnc ?" (or a bare help item): nothing else is filled
    // in; print vnc_options_help() (vnc-options.hpp).
    bool help = false;
    // Deprecation notices (short-form booleans such as a bare "sasl"), not
    // printed: the caller decides.  First line warning, second line hint.
    std::vector<std::string> warnings;
};

// Tells whether a display id is already used (for auto-assignment of
// "default", "vnc2", "vnc3", ...).
using IdTaken = std::function<bool(std::string_view)>;

// Parses the literal -vnc argument with QEMU's QemuOpts syntax and QEMU's
// error texts ("Invalid parameter 'KEY'", "no vnc port specified", ...).
// Also applies the cross-field rules of ui/vnc.c (mutual exclusions,
// websocket port defaults, reverse-mode checks).
Result<VncConfig> parse_vnc_options(std::string_view text, const IdTaken &id_taken);

} // namespace qvnc::vnc
