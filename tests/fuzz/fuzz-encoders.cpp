// Differential target: fuzz-made pixels and a fuzz-made client pixel format
// go through one of the lossless encoders (make_encoder: Raw, Hextile,
// Zlib, Tight without JPEG, ZRLE), the FramebufferUpdates are decoded by
// libvncclient (an independent decoder) over a socketpair, and its
// framebuffer must equal the server framebuffer converted to the client
// format, bit for bit, after every update.
//
// Input:
//   byte 0: encoding (low 3 bits) and compress level (high bits)
//   bytes 1-6: client pixel format: bpp/endianness, 3 maxes, red and green
//              shifts (low 5 bits; the high 3 bits of both give blue's)
//   byte 7: surface format; bytes 8-9: width, height
//   then steps of 6 bytes: x, y, w, h, content kind, seed -- each step
//   paints the rectangle (solid, a few colours, or bytes of the input)
//   and sends it as one update.
//
// libvncclient 0.9.14 decodes a few formats wrongly (see
// tests/unit/enc/test-enc-vncclient.cpp): ZRLE with big-endian 3-byte
// CPIXELs in the low bytes, and Tight with big-endian RGB24 TPIXELs.
// Those formats are skipped here, and so are the 32 bpp formats for which
// libvncclient chooses the ZRLE CPIXEL differently from rfbproto (maxima
// that are not 2^n - 1; see below).  The encoder's own choice for those formats is checked against
// rfbproto by test-enc-reference (test_zrle_cpixel_odd_maxima).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <vector>

#include <sys/socket.h>
#include <unistd.h>

#include <pixman.h>
#include <rfb/rfbclient.h>

#include "byte-buffer.hpp"
#include "enc-util.hpp"
#include "encoder.hpp"
#include "fuzz-attrs.hpp"
#include "pixel-convert.hpp"
#include "pixel-format.hpp"
#include "server-framebuffer.hpp"

using namespace qvnc;
using namespace qvnc::vnc;

namespace {

const int32_t kEncodings[] = {0, 5, 6, 7, 16, 0, 5, 16};
const uint32_t kSurfaces[] = {PIXMAN_x8r8g8b8, PIXMAN_b8g8r8x8, PIXMAN_r5g6b5, PIXMAN_a8r8g8b8,
                              PIXMAN_x8b8g8r8, PIXMAN_x1r5g5b5, PIXMAN_a8b8g8r8, PIXMAN_b8g8r8a8};

[[noreturn]] void mismatch(const char *what, int x, int y, uint32_t got, uint32_t want, int32_t enc,
                           const PixelFormat &pf)
{
    fprintf(stderr,
            "==fuzz== encoder/decoder mismatch: %s at (%d,%d): libvncclient 0x%08x, expected 0x%08x "
            "(encoding %d, bpp %u be %d max %u/%u/%u shift %u/%u/%u)\n",
            what, x, y, got, want, enc, pf.bpp, pf.big_endian, pf.red_max, pf.green_max, pf.blue_max,
            pf.red_shift, pf.green_shift, pf.blue_shift);
    __builtin_trap();
}

bool send_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t k = send(fd, p, n, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (k <= 0) return false; // would block: the message does not fit
        p += k;
        n -= static_cast<size_t>(k);
    }
    return true;
}

void drain(int fd)
{
    uint8_t buf[4096];
    while (recv(fd, buf, sizeof buf, MSG_DONTWAIT) > 0) {
    }
}

__attribute__((no_sanitize("coverage"))) uint32_t wire_value(const uint8_t *p, const PixelFormat &pf)
{
    uint32_t v = 0;
    const int n = pf.bpp / 8;
    for (int i = 0; i < n; i++) v = pf.big_endian ? (v << 8 | p[i]) : (v | static_cast<uint32_t>(p[i]) << (8 * i));
    return v;
}

uint32_t channel_mask(uint16_t max, uint8_t shift)
{
    uint32_t bits = 0;
    while (bits < 32 && (1u << bits) <= max) bits++;
    const uint64_t m = ((uint64_t{1} << bits) - 1) << shift;
    return static_cast<uint32_t>(m);
}

struct Client {
    int sfd = -1, cfd = -1;
    rfbClient *cl = nullptr;
    ~Client()
    {
        if (cl) {
            cl->sock = RFB_INVALID_SOCKET;
            free(cl->frameBuffer);
            cl->frameBuffer = nullptr;
            rfbClientCleanup(cl);
        }
        if (sfd >= 0) close(sfd);
        if (cfd >= 0) close(cfd);
    }
};

// The RFB 3.8 handshake with security None, written before the client
// reads it: everything fits in the socket buffer, so one thread suffices.
bool connect(Client &c, int w, int h, const PixelFormat &pf)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) return false;
    c.sfd = sv[0];
    c.cfd = sv[1];
    int big = 1 << 20;
    setsockopt(c.sfd, SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
    setsockopt(c.cfd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
    io::ByteBuffer hs;
    hs.append(std::string_view("RFB 003.008\n"));
    const uint8_t sec[] = {1, 1, 0, 0, 0, 0};
    hs.append(std::span<const uint8_t>(sec, sizeof sec));
    io::ByteWriter wr(hs);
    wr.u16(static_cast<uint16_t>(w)).u16(static_cast<uint16_t>(h));
    PixelFormat::server_default().write(wr);
    wr.u32(4).text("fuzz");
    if (!send_all(c.sfd, hs.data().data(), hs.size())) return false;
    c.cl = rfbGetClient(8, 3, 4);
    c.cl->sock = c.cfd;
    if (!InitialiseRFBConnection(c.cl)) return false;
    drain(c.sfd);
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
    if (!c.cl->MallocFrameBuffer(c.cl)) return false;
    memset(c.cl->frameBuffer, 0, static_cast<size_t>(w) * h * (pf.bpp / 8));
    return true;
}

// Paints rectangle r of the surface: kind % 3 is solid, a few colours, or
// the input's bytes from pos on.  Harness code: not instrumented.
FUZZ_UNINSTRUMENTED void paint(uint8_t *surface, int stride, int sbpp, const Rect &r, uint8_t kind, uint8_t seed,
                               const uint8_t *data, size_t size, size_t pos)
{
    uint32_t palette[8];
    for (int i = 0; i < 8; i++) palette[i] = (seed * 0x9e3779b1u) ^ (static_cast<uint32_t>(i) * 0x01234567u);
    for (int y = r.y; y < r.bottom(); y++) {
        for (int x = r.x; x < r.right(); x++) {
            uint32_t v;
            switch (kind % 3) {
            case 0: v = palette[0]; break;                                        // solid
            case 1: v = palette[(x / (1 + kind % 5) + y * (kind >> 4)) % (1 + (kind >> 2) % 8)]; break; // few colours
            default: {                                                           // the input's bytes
                const size_t i = pos + static_cast<size_t>((y - r.y) * r.w + (x - r.x)) * 3;
                v = i + 2 < size ? (data[i] | data[i + 1] << 8 | data[i + 2] << 16) : palette[(x ^ y) & 7];
            }
            }
            uint8_t *p = surface + static_cast<size_t>(y) * stride + static_cast<size_t>(x) * sbpp;
            if (sbpp == 2) {
                const uint16_t s16 = static_cast<uint16_t>(v);
                memcpy(p, &s16, 2);
            } else {
                memcpy(p, &v, 4);
            }
        }
    }
}

// Every pixel of the client framebuffer after the update of r: inside r
// against the server framebuffer converted to the client format, outside r
// against what the client had after the previous (verified) update, as the
// server's pixels there did not change.  Equivalent to converting the whole
// framebuffer each time, without running the library's (instrumented)
// converter over pixels no update touched: that was 17% of the target's
// time.  `seen` keeps the client framebuffer for the next step.
FUZZ_UNINSTRUMENTED void verify(const ServerFramebuffer &fb, const PixelConverter &conv, const uint8_t *client_fb,
                                const Rect &r, std::vector<uint8_t> &seen, uint32_t mask, int32_t encoding,
                                const PixelFormat &pf)
{
    const int w = fb.width(), h = fb.height();
    const int cbpp = pf.bpp / 8;
    const size_t bytes = static_cast<size_t>(w) * h * cbpp;
    if (seen.size() != bytes && (r.x != 0 || r.y != 0 || r.w != w || r.h != h)) {
        fprintf(stderr, "fuzz harness: a partial update before a full one\n");
        abort();
    }
    std::vector<uint8_t> row(static_cast<size_t>(r.w) * cbpp);
    for (int y = 0; y < h; y++) {
        const bool in_rows = y >= r.y && y < r.bottom();
        if (in_rows) conv.convert(fb.row(y) + static_cast<size_t>(r.x) * fb.bytes_per_pixel(), r.w, row.data());
        const size_t line = static_cast<size_t>(y) * w * cbpp;
        for (int x = 0; x < w; x++) {
            const bool inside = in_rows && x >= r.x && x < r.right();
            const uint32_t g = wire_value(client_fb + line + x * cbpp, pf) & mask;
            const uint32_t e = (inside ? wire_value(row.data() + (x - r.x) * cbpp, pf)
                                       : wire_value(seen.data() + line + x * cbpp, pf)) & mask;
            if (g != e) mismatch(inside ? "pixel" : "pixel outside the update", x, y, g, e, encoding, pf);
        }
    }
    seen.assign(client_fb, client_fb + bytes);
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int *, char ***)
{
    rfbEnableClientLogging = FALSE;
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 10) return 0;
    const int32_t encoding = kEncodings[data[0] & 7];
    const int level = (data[0] >> 3) % 11 - 1; // -1 (default) .. 9

    // The client's format, as a SetPixelFormat would carry it.
    PixelFormat req;
    static const uint8_t kBpp[4] = {8, 16, 32, 32};
    req.bpp = kBpp[data[1] & 3];
    req.big_endian = data[1] & 4;
    req.true_colour = true;
    auto max_of = [](uint8_t b, int bpp) -> uint16_t {
        // Mostly 2^k-1 maxes (what clients use), sometimes any value.
        if (b & 0x80) return static_cast<uint16_t>(b & 0x7f);
        const int bits = 1 + (b & 0x0f) % std::min(bpp, 16);
        return static_cast<uint16_t>((1u << bits) - 1);
    };
    req.red_max = max_of(data[2], req.bpp);
    req.green_max = max_of(data[3], req.bpp);
    req.blue_max = max_of(data[4], req.bpp);
    req.red_shift = data[5] & 31;
    req.green_shift = data[6] & 31;
    req.blue_shift = ((data[5] >> 5) | (data[6] >> 5) << 3) & 31;
    req.depth = req.bpp == 32 ? 24 : req.bpp;
    Result<SanitizedPixelFormat> san = sanitize(req);
    if (!san || san->send_colour_map) return 0;
    const PixelFormat pf = san->format;

    // libvncclient's own bugs (see the header comment).
    const enc::CPixelLayout cp = enc::cpixel_layout(pf);
    if (encoding == 16 && pf.big_endian && cp.bytes == 3 && cp.offset == 1) return 0;
    if (encoding == 16 && pf.bpp == 32) {
        // libvncclient picks the ZRLE CPIXEL from (max << shift) values,
        // not from the bits the channels' values can occupy: with maxima
        // that are not 2^n - 1 (blue 72 at shift 5 sets bits 5..11 though
        // 72 << 5 has a zero low byte) it reads another CPIXEL than
        // rfbproto (and the encoder) define.  Its bug, not ours.
        const uint32_t mc = static_cast<uint32_t>((uint64_t{pf.red_max} << pf.red_shift) |
                                                  (uint64_t{pf.green_max} << pf.green_shift) |
                                                  (uint64_t{pf.blue_max} << pf.blue_shift));
        int lv_bytes = 4, lv_offset = 0;
        if (!pf.big_endian && (mc & 0xff000000u) == 0) {
            lv_bytes = 3;
        } else if (!pf.big_endian && (mc & 0xffu) == 0) {
            lv_bytes = 3, lv_offset = 1;
        } else if (pf.big_endian && (mc & 0xffu) == 0) {
            lv_bytes = 3;
        } else if (pf.big_endian && (mc & 0xff000000u) == 0) {
            lv_bytes = 3, lv_offset = 1;
        }
        if (lv_bytes != cp.bytes || (cp.bytes == 3 && lv_offset != cp.offset)) return 0;
    }
    if (encoding == 7 && pf.big_endian && enc::tpixel_is_rgb24(pf)) return 0;

    const uint32_t surface_format = kSurfaces[data[7] & 7];
    const int w = 1 + data[8] % 160, h = 1 + data[9] % 64;
    data += 10;
    size -= 10;

    const int sbpp = PIXMAN_FORMAT_BPP(surface_format) / 8;
    const int stride = w * sbpp + 12;
    std::vector<uint8_t> surface(static_cast<size_t>(stride) * h, 0);

    Client c;
    if (!connect(c, w, h, pf)) {
        fprintf(stderr, "fuzz harness: libvncclient handshake failed\n");
        abort();
    }
    std::unique_ptr<Encoder> enc = make_encoder(encoding);
    if (!enc) return 0;

    const uint32_t mask = channel_mask(pf.red_max, pf.red_shift) | channel_mask(pf.green_max, pf.green_shift) |
                          channel_mask(pf.blue_max, pf.blue_shift);
    // Fill the client's framebuffer with what the server believes it has
    // (zero) first: a first full update.
    size_t pos = 0;
    // One converter for all steps (the formats never change here; making
    // one builds three tables).  The server framebuffer is a new object at
    // each step, so that an encoder keeping a pointer into an old one is an
    // ASan finding.
    std::optional<PixelConverter> conv;
    std::vector<uint8_t> seen; // the client framebuffer after the last step
    for (int step = 0; step < 8; step++) {
        Rect r{0, 0, w, h};
        uint8_t kind = 0, seed = 0;
        if (step > 0) {
            if (pos + 6 > size) break;
            const uint8_t *s = data + pos;
            pos += 6;
            r = intersect({s[0] % w, s[1] % h, 1 + s[2] % w, 1 + s[3] % h}, {0, 0, w, h});
            kind = s[4];
            seed = s[5];
        } else {
            kind = 2;
        }
        paint(surface.data(), stride, sbpp, r, kind, seed, data, size, pos);
        if (kind % 3 == 2 && step > 0) pos = std::min(size, pos + static_cast<size_t>(r.w) * r.h * 3);

        ServerFramebuffer fb;
        fb.reset(SurfaceView{w, h, stride, surface_format, surface.data()});
        if (fb.width() != w || fb.height() != h) return 0;
        if (!conv) {
            Result<PixelConverter> made = PixelConverter::make(fb.format(), pf);
            if (!made) {
                fprintf(stderr, "==fuzz== no converter for a sanitized client format\n");
                __builtin_trap();
            }
            conv = std::move(made.value());
        }
        EncodeContext ctx{fb, pf, *conv};
        ctx.compress_level = level;
        ctx.quality_level = -1;
        ctx.lossy = false;
        io::ByteBuffer rects;
        // As the server calls it: encode_rects keeps state across updates
        // (Hextile's history of raw tiles and its Raw bands).
        const size_t n = enc->encode_rects(std::span(&r, 1), ctx, rects);
        if (n == 0 || n > enc->max_rects(r)) {
            fprintf(stderr, "==fuzz== encoder %d wrote %zu rectangles for %dx%d+%d+%d (at most %zu)\n", encoding, n,
                    r.w, r.h, r.x, r.y, enc->max_rects(r));
            __builtin_trap();
        }
        io::ByteBuffer msg;
        io::ByteWriter(msg).u8(0).u8(0).u16(static_cast<uint16_t>(n));
        msg.append(rects.data());
        if (!send_all(c.sfd, msg.data().data(), msg.size())) return 0; // larger than the socket buffer
        if (!HandleRFBServerMessage(c.cl)) {
            fprintf(stderr, "==fuzz== libvncclient refused encoding %d's update for %dx%d+%d+%d (%zu bytes)\n",
                    encoding, r.w, r.h, r.x, r.y, msg.size());
            __builtin_trap();
        }
        drain(c.sfd);
        verify(fb, *conv, reinterpret_cast<const uint8_t *>(c.cl->frameBuffer), r, seen, mask, encoding, pf);
    }
    return 0;
}
