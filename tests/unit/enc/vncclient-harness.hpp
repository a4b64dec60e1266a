// libvncclient as a reference decoder: a fake server on a socketpair
// performs the RFB 3.8 handshake, then each update the test builds from an
// encoder's rectangles is decoded by HandleRFBServerMessage into the
// rfbClient's framebuffer.  Shared by the encoder tests of this directory.
#pragma once

#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

#include <sys/socket.h>
#include <unistd.h>

#include <rfb/rfbclient.h>

#include "byte-buffer.hpp"
#include "byte-writer.hpp"
#include "enc-util.hpp"
#include "pixel-format.hpp"

namespace enctest {

using qvnc::vnc::PixelFormat;
namespace io = qvnc::io;

inline bool write_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        const ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
        if (k <= 0) return false;
        p += k;
        n -= static_cast<size_t>(k);
    }
    return true;
}

inline bool read_exact(int fd, uint8_t *p, size_t n)
{
    while (n > 0) {
        const ssize_t k = read(fd, p, n);
        if (k <= 0) return false;
        p += k;
        n -= static_cast<size_t>(k);
    }
    return true;
}

inline void drain(int fd)
{
    uint8_t buf[4096];
    while (recv(fd, buf, sizeof buf, MSG_DONTWAIT) > 0) {
    }
}

// The server half of the RFB 3.8 handshake with security type None.
inline bool serve_handshake(int fd, int w, int h, const PixelFormat &pf)
{
    uint8_t ver[12];
    if (!write_all(fd, reinterpret_cast<const uint8_t *>("RFB 003.008\n"), 12) || !read_exact(fd, ver, 12)) return false;
    const uint8_t types[2] = {1, 1};
    uint8_t choice, shared;
    if (!write_all(fd, types, 2) || !read_exact(fd, &choice, 1) || choice != 1) return false;
    const uint8_t ok[4] = {0, 0, 0, 0};
    if (!write_all(fd, ok, 4) || !read_exact(fd, &shared, 1)) return false;
    io::ByteBuffer si;
    io::ByteWriter wr(si);
    // QEMU announces its own format; the client then decodes in its own
    // (libvncclient picks some ZRLE paths from the announced one).
    (void)pf;
    wr.u16(static_cast<uint16_t>(w)).u16(static_cast<uint16_t>(h));
    PixelFormat::server_default().write(wr);
    wr.u32(4).text("test");
    return write_all(fd, si.data().data(), si.size());
}

struct Conn {
    int sfd = -1, cfd = -1;
    rfbClient *cl = nullptr;
    ~Conn()
    {
        if (cl) {
            cl->sock = RFB_INVALID_SOCKET; // closed below
            free(cl->frameBuffer);         // the default MallocFrameBuffer's; not freed by libvncclient
            cl->frameBuffer = nullptr;
            rfbClientCleanup(cl);
        }
        if (sfd >= 0) close(sfd);
        if (cfd >= 0) close(cfd);
    }
};

inline bool connect_client(Conn &c, int w, int h, const PixelFormat &pf)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) return false;
    c.sfd = sv[0];
    c.cfd = sv[1];
    bool served = false;
    std::thread srv([&] { served = serve_handshake(c.sfd, w, h, pf); });
    c.cl = rfbGetClient(8, 3, 4);
    c.cl->sock = c.cfd;
    const bool init = InitialiseRFBConnection(c.cl);
    srv.join();
    if (!init || !served) return false;
    rfbPixelFormat &f = c.cl->format;
    f.bitsPerPixel = pf.bpp;
    f.depth = pf.depth;
    f.bigEndian = pf.big_endian;
    f.trueColour = 1;
    f.redMax = pf.red_max;
    f.greenMax = pf.green_max;
    f.blueMax = pf.blue_max;
    f.redShift = pf.red_shift;
    f.greenShift = pf.green_shift;
    f.blueShift = pf.blue_shift;
    c.cl->width = w;
    c.cl->height = h;
    c.cl->appData.qualityLevel = 9; // what a ZYWRLE decoder reads as level 0
    if (!c.cl->MallocFrameBuffer(c.cl)) return false;
    std::memset(c.cl->frameBuffer, 0, static_cast<size_t>(w) * h * (pf.bpp / 8));
    return true;
}

// Sends one update and lets libvncclient decode it.
inline bool deliver(Conn &c, const std::vector<uint8_t> &msg)
{
    bool wrote = false;
    std::thread wr([&] { wrote = write_all(c.sfd, msg.data(), msg.size()); });
    const bool handled = HandleRFBServerMessage(c.cl);
    if (!handled) {
        shutdown(c.cfd, SHUT_RDWR); // unblock the writer
    }
    wr.join();
    drain(c.sfd);
    return handled && wrote;
}

// Whether libvncclient 0.9.14 decodes `encoding` for pixel format pf
// correctly.  Two of its bugs on little-endian hosts, for 32 bpp big-endian
// formats: ZRLE's 3-byte CPIXEL holding the least significant bytes is
// shifted the wrong way (HandleZRLE24Down), and Tight's R,G,B TPIXEL is not
// swapped back.  And it turns JPEG output into pixels correctly only for
// little-endian formats at 16 bpp or with 8-bit channels at 16/8/0 or
// 0/8/16.  The encoder output for all of those is checked by the reference
// decoders of test-enc-reference instead.
inline bool libvncclient_decodes(const PixelFormat &pf, int encoding, bool lossy)
{
    const bool zrle = encoding == 16 || encoding == 17;
    const qvnc::vnc::enc::CPixelLayout cp = qvnc::vnc::enc::cpixel_layout(pf);
    if (zrle && pf.big_endian && cp.bytes == 3 && cp.offset == 1) return false;
    if (encoding == 7 && pf.big_endian && qvnc::vnc::enc::tpixel_is_rgb24(pf)) return false;
    const bool std32 =
        pf.bpp == 32 && pf.red_max == 255 && pf.green_shift == 8 && (pf.red_shift == 16 || pf.red_shift == 0);
    return !(lossy && (pf.big_endian || (pf.bpp == 32 && !std32)));
}

} // namespace enctest
