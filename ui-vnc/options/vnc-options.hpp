// The -vnc option schema: QEMU's qemu_vnc_opts key table plus the legacy
// keys QEMU 2.x-5.2 accepted (tls, x509, x509verify, acl).  The parser
// itself is declared with VncConfig in vnc-config.hpp.
#pragma once

#include <span>
#include <string>

#include "qemu-opts.hpp"
#include "vnc-config.hpp"

namespace qvnc::vnc {

// Every key -vnc accepts, with its QemuOpts type.
std::span<const opts::OptDesc> vnc_option_table();

// What "-vnc help" prints: "vnc options:" then "  KEY=<type>" lines.
std::string vnc_options_help();

} // namespace qvnc::vnc
