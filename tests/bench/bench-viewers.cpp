#include "bench-viewers.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

namespace qvnc_bench {

namespace {

// Blocking reads and writes of whole buffers during the handshake.
bool read_all(int fd, void *buf, size_t n)
{
    auto *p = static_cast<uint8_t *>(buf);
    while (n > 0) {
        ssize_t r = ::read(fd, p, n);
        if (r <= 0) {
            return false;
        }
        p += r;
        n -= static_cast<size_t>(r);
    }
    return true;
}

bool write_all(int fd, const std::vector<uint8_t> &b)
{
    size_t off = 0;
    while (off < b.size()) {
        ssize_t r = ::write(fd, b.data() + off, b.size() - off);
        if (r <= 0) {
            return false;
        }
        off += static_cast<size_t>(r);
    }
    return true;
}

void put_u16(std::vector<uint8_t> &b, unsigned v)
{
    b.push_back(static_cast<uint8_t>(v >> 8));
    b.push_back(static_cast<uint8_t>(v));
}

void put_s32(std::vector<uint8_t> &b, int32_t v)
{
    auto u = static_cast<uint32_t>(v);
    for (int s = 24; s >= 0; s -= 8) {
        b.push_back(static_cast<uint8_t>(u >> s));
    }
}

int connect_to(const std::string &host, int port)
{
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    addrinfo *res = nullptr;
    if (getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res) != 0) {
        return -1;
    }
    int fd = -1;
    for (addrinfo *a = res; a; a = a->ai_next) {
        fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
        if (fd >= 0 && ::connect(fd, a->ai_addr, a->ai_addrlen) == 0) {
            break;
        }
        if (fd >= 0) {
            ::close(fd);
        }
        fd = -1;
    }
    freeaddrinfo(res);
    return fd;
}

std::vector<int32_t> encodings_for(const std::string &encoding)
{
    // The pixel encoding first, then Raw, as bench-client's libvncclient
    // asks; -313 (Continuous Updates) instead of per-update requests.
    std::vector<int32_t> list;
    if (encoding == "hextile") {
        list = {5, 0};
    } else if (encoding == "zrle") {
        list = {16, 0};
    } else if (encoding == "tight") {
        list = {7, 0};
    } else if (encoding == "tight-jpeg") {
        list = {7, 0, -32 + 6}; // quality level 6, as libvncclient sends it
    } else {
        list = {0};
    }
    list.push_back(-313);
    return list;
}

// RFB 3.8 handshake with security None, then the same pixel format as
// bench-client (32 bpp, depth 24, 0x00RRGGBB little-endian words), the
// encodings, a full-frame request and Continuous Updates over the screen.
bool handshake(int fd, const std::string &encoding, std::string &error)
{
    char version[12];
    if (!read_all(fd, version, sizeof version)) {
        error = "no version";
        return false;
    }
    const std::string v38 = "RFB 003.008\n";
    if (!write_all(fd, std::vector<uint8_t>(v38.begin(), v38.end()))) {
        error = "write failed";
        return false;
    }
    uint8_t ntypes = 0;
    if (!read_all(fd, &ntypes, 1) || ntypes == 0) {
        error = "no security types";
        return false;
    }
    std::vector<uint8_t> types(ntypes);
    if (!read_all(fd, types.data(), ntypes) || std::find(types.begin(), types.end(), 1) == types.end()) {
        error = "security type None not offered";
        return false;
    }
    uint8_t result[4];
    if (!write_all(fd, {1}) || !read_all(fd, result, 4) || std::memcmp(result, "\0\0\0\0", 4) != 0) {
        error = "security None failed";
        return false;
    }
    uint8_t init[24];
    if (!write_all(fd, {1}) || !read_all(fd, init, sizeof init)) { // shared
        error = "no ServerInit";
        return false;
    }
    const unsigned w = (init[0] << 8) | init[1], h = (init[2] << 8) | init[3];
    const uint32_t name_len = (static_cast<uint32_t>(init[20]) << 24) | (init[21] << 16) | (init[22] << 8) | init[23];
    std::vector<uint8_t> name(name_len);
    if (!read_all(fd, name.data(), name.size())) {
        error = "no desktop name";
        return false;
    }
    std::vector<uint8_t> m = {0, 0, 0, 0, 32, 24, 0, 1};
    put_u16(m, 255);
    put_u16(m, 255);
    put_u16(m, 255);
    m.insert(m.end(), {16, 8, 0, 0, 0, 0});
    const std::vector<int32_t> encs = encodings_for(encoding);
    m.insert(m.end(), {2, 0});
    put_u16(m, static_cast<unsigned>(encs.size()));
    for (int32_t e : encs) {
        put_s32(m, e);
    }
    m.insert(m.end(), {3, 0});
    put_u16(m, 0);
    put_u16(m, 0);
    put_u16(m, w);
    put_u16(m, h);
    m.insert(m.end(), {150, 1});
    put_u16(m, 0);
    put_u16(m, 0);
    put_u16(m, w);
    put_u16(m, h);
    if (!write_all(fd, m)) {
        error = "write failed";
        return false;
    }
    return true;
}

} // namespace

LightViewers::~LightViewers()
{
    stop_ = true;
    if (thread_.joinable()) {
        thread_.join();
    }
    for (int fd : fds_) {
        ::close(fd);
    }
}

bool LightViewers::start(const std::string &host, int port, int n, const std::string &encoding,
                         std::string &error)
{
    for (int i = 0; i < n; i++) {
        int fd = connect_to(host, port);
        if (fd < 0) {
            error = "cannot connect a light viewer";
            return false;
        }
        fds_.push_back(fd);
        if (!handshake(fd, encoding, error)) {
            error = "light viewer: " + error;
            return false;
        }
    }
    thread_ = std::thread([this] { drain(); });
    return true;
}

void LightViewers::drain()
{
    std::vector<pollfd> pfds;
    for (int fd : fds_) {
        pfds.push_back({fd, POLLIN, 0});
    }
    std::vector<uint8_t> buf(1 << 20);
    while (!stop_) {
        int r = ::poll(pfds.data(), pfds.size(), 100);
        if (r <= 0) {
            continue;
        }
        for (pollfd &p : pfds) {
            if (p.fd < 0 || !(p.revents & (POLLIN | POLLHUP | POLLERR))) {
                continue;
            }
            ssize_t got = ::read(p.fd, buf.data(), buf.size());
            if (got > 0) {
                bytes_ += static_cast<uint64_t>(got);
            } else {
                closed_++;
                p.fd = -1; // poll ignores it; the destructor closes it
            }
        }
    }
}

} // namespace qvnc_bench
