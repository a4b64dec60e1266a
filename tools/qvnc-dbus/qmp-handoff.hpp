// The peer-to-peer way in (-display dbus,p2p=yes): over QEMU's QMP socket,
// hand QEMU one end of a socket pair (getfd, SCM_RIGHTS) and ask it to
// serve its D-Bus display there (add_client protocol=@dbus-display).  The
// other end is then a private D-Bus connection to QEMU, no bus involved.
#pragma once

#include <string>

namespace qvnc_dbus {

// Returns our end of the connection, or -1 with `error`.  Blocking, with
// a few seconds' timeout for each answer (QMP answers these at once).
int qmp_dbus_handoff(const std::string &qmp_socket_path, std::string &error);

} // namespace qvnc_dbus
