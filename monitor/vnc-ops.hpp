// The VNC side of the monitor, shared by QMP and HMP the way QEMU's HMP
// handlers call the qmp_* functions: queries, passwords, expiry, reload,
// re-listen, add_client, and the payloads of the VNC_* events.
//
// "The display" without an id is the first one opened (QEMU's
// vnc_display_find(NULL)).
#pragma once

#include <optional>
#include <string>

#include "monitor.hpp"
#include "unique-fd.hpp"

namespace qvnc::monitor {

Json query_vnc(Context &ctx);          // VncInfo
Json query_vnc_servers(Context &ctx);  // [VncInfo2], newest display first

// set_password / change-vnc-password.  `hint` is set when the display has
// no password authentication, for HMP's extra line (QEMU prints it on
// human monitors only).
Reply set_vnc_password(Context &ctx, const std::string *display, const std::string &password,
                       bool *hint = nullptr);
// expire_password's TIME: now | never | +SECONDS | EPOCH-SECONDS.
Reply expire_vnc_password(Context &ctx, const std::string *display, const std::string &time);
// The parsed TIME (-1 = never), or nullopt for "Parameter 'time' doesn't
// take value ..." -- exposed for the unit tests.
std::optional<int64_t> parse_expire_time(const std::string &time, int64_t now);

Reply reload_vnc(Context &ctx, bool tls_certs);           // display-reload
Reply update_vnc(Context &ctx, const Json &options);      // display-update
Reply add_vnc_client(Context &ctx, io::UniqueFd fd, bool skipauth);

// {"server": VncServerInfo, "client": ...} for VNC_CONNECTED (client:
// VncBasicInfo), VNC_INITIALIZED and VNC_DISCONNECTED (VncClientInfo);
// nullopt when QEMU sends no event: the display has no listener.
std::optional<Json> vnc_event_data(vnc::Server &s, bool basic_client, const vnc::Connection &c);

// The hint HMP prints before "Could not set password" on a display
// without password authentication (QEMU 7.2's wording).
inline constexpr const char *kPasswordHint =
    "If you want use passwords please enable password auth using '-vnc ${dpy},password'.";

} // namespace qvnc::monitor
