// Socket addresses as QMP's VncBasicInfo describes them.
#pragma once

#include <sys/socket.h>

#include <string>

namespace qvnc::io {

struct AddressInfo {
    std::string host;    // numeric; "" for unix
    std::string service; // port, or the unix socket path
    std::string family;  // ipv4 | ipv6 | unix | unknown
};

AddressInfo describe_address(const sockaddr *sa, socklen_t len);
AddressInfo local_address(int fd);
AddressInfo peer_address(int fd);

} // namespace qvnc::io
