// One listen address of -vnc (`vnc=` or `websocket=`), read the way QEMU's
// vnc_display_get_address() reads it:
//   HOST:D, :D, [IPV6]:D   split at the LAST ':'; port 5900+D (absolute when
//                          reverse, and always absolute for websocket)
//   unix:PATH              UNIX socket
//   websocket "" / "on"    5700+D of the single primary display
//   websocket PORT         absolute port, host ""
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "error.hpp"
#include "vnc-config.hpp"

namespace qvnc::vnc {

struct AddressContext {
    bool websocket = false;
    bool reverse = false;
    // Display number of the single primary address, -1 when there is none
    // (or several): a default websocket port is then refused.
    int display_num = -1;
    int to = 0;                        // to= (0: no port range)
    std::optional<bool> ipv4, ipv6;    // copied to inet addresses
};

struct ParsedAddress {
    ListenAddress address;
    // For a primary address: D of HOST:D (the literal port when reverse, 0 for
    // unix:).  Used as the default for `websocket`.
    int display_num = 0;
};

Result<ParsedAddress> parse_vnc_address(std::string_view text, const AddressContext &ctx);

} // namespace qvnc::vnc
