#include "socket-address.hpp"

#include <netdb.h>
#include <netinet/in.h>
#include <sys/un.h>

#include <cstddef>
#include <cstring>

namespace qvnc::io {

AddressInfo describe_address(const sockaddr *sa, socklen_t len)
{
    AddressInfo info;
    switch (sa->sa_family) {
    case AF_INET:
    case AF_INET6: {
        char host[NI_MAXHOST] = "";
        char serv[NI_MAXSERV] = "";
        if (getnameinfo(sa, len, host, sizeof host, serv, sizeof serv,
                        NI_NUMERICHOST | NI_NUMERICSERV) == 0) {
            info.host = host;
            info.service = serv;
        }
        info.family = sa->sa_family == AF_INET ? "ipv4" : "ipv6";
        break;
    }
    case AF_UNIX: {
        const auto *un = reinterpret_cast<const sockaddr_un *>(sa);
        size_t max = len > offsetof(sockaddr_un, sun_path) ? len - offsetof(sockaddr_un, sun_path) : 0;
        info.service = std::string(un->sun_path, strnlen(un->sun_path, max));
        info.family = "unix";
        break;
    }
    default:
        info.family = "unknown";
    }
    return info;
}

AddressInfo local_address(int fd)
{
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    if (getsockname(fd, reinterpret_cast<sockaddr *>(&ss), &len) != 0) {
        return {"", "", "unknown"};
    }
    return describe_address(reinterpret_cast<sockaddr *>(&ss), len);
}

AddressInfo peer_address(int fd)
{
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    if (getpeername(fd, reinterpret_cast<sockaddr *>(&ss), &len) != 0) {
        return {"", "", "unknown"};
    }
    AddressInfo info = describe_address(reinterpret_cast<sockaddr *>(&ss), len);
    return info;
}

} // namespace qvnc::io
