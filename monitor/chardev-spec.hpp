// The command-line forms that create monitors, parsed (nothing opened here):
//
//   -chardev socket,id=ID,path=PATH|host=H,port=P|fd=N[,server=on][,wait=off]
//   -chardev stdio,id=ID   -chardev null,id=ID
//   -mon [chardev=]ID[,mode=readline|control][,pretty=on][,id=NAME]
//   -monitor / -qmp  stdio | none | null | chardev:ID
//                    | unix:PATH[,server=on][,wait=off]
//                    | tcp:[HOST]:PORT[,server=on][,wait=off][,nodelay=on]
//
// QemuOpts syntax (qapi/opts): ",," escapes, bare "server" / "nowait"
// short forms.  Other -chardev back ends (pty, file, pipe, spicevmc, ...)
// parse but are reported as unsupported: libvirt adds some for devices
// qvnc does not emulate.  wait=on (QEMU's default for servers: block at
// start-up until a client connects) is accepted and not honoured: qvnc
// never blocks its host.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "error.hpp"

namespace qvnc::monitor {

struct ChardevSpec {
    enum class Backend { Socket, Stdio, Null, Unsupported };
    std::string id;
    Backend backend = Backend::Null;
    std::string backend_name;      // as written ("pty", ...)
    std::string path;              // socket: unix path
    std::string host, port;        // socket: tcp
    int fd = -1;                   // socket: an inherited descriptor
    bool server = false;
    bool wait = true;
    bool nodelay = false;
    std::optional<bool> ipv4, ipv6;
};

using IdTaken = std::function<bool(std::string_view)>;

Result<ChardevSpec> parse_chardev(std::string_view text, const IdTaken &id_taken);

struct LegacyMonitorSpec {
    enum class Kind { None, New, Existing };
    Kind kind = Kind::None;
    ChardevSpec chardev;     // New (id left empty)
    std::string existing_id; // Existing ("chardev:ID")
};

Result<LegacyMonitorSpec> parse_legacy_monitor(std::string_view text);

struct MonSpec {
    std::string chardev;
    bool control = false; // mode=control (QMP); readline (HMP) otherwise
    bool pretty = false;
    std::string id;
};

Result<MonSpec> parse_mon(std::string_view text);

} // namespace qvnc::monitor
