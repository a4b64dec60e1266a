// qvnc-dbus's command line: the shared QEMU front end (-vnc, -object,
// -monitor, -qmp, ...) plus where to find QEMU.
#pragma once

#include <span>
#include <string>

#include "front-end.hpp"

namespace qvnc_dbus {

struct Options : qvnc_tools::FrontEnd {
    std::string dbus_address; // --dbus-address; empty = the session bus
    unsigned console = 0;     // --console N: /org/qemu/Display1/Console_N
    std::string qemu_qmp;     // --qemu-qmp PATH: peer-to-peer through QEMU's QMP socket
};

struct ParseResult {
    qvnc_tools::ParseAction action = qvnc_tools::ParseAction::Fail;
    Options options;
    std::string error; // for Fail: the message after "qvnc-dbus: "
};

ParseResult parse_options(std::span<const char *const> args);
std::string usage_text();

} // namespace qvnc_dbus
