// ZYWRLE (17) through libvncclient, the one widely deployed decoder of its
// wavelet (vncclient-harness.hpp): the PSNR of the decoded frame against the
// guest frame for every quality level, photo-like, desktop-like and pattern
// content, each format the decoder can invert; the lossless fallbacks
// (lossy off, no quality level, quality 9, formats it cannot invert); and
// the size against ZRLE on photo-like content.
//
// The PSNR and size figures are printed as TAP comments.  A last test
// compares the analyzer, coefficient for coefficient, with libvncserver's
// own ZYWRLE encoder when its shared library exports it.
#include <cmath>
#include <csignal>
#include <cstdio>
#include <memory>
#include <random>
#include <string>

#include <dlfcn.h>

#include "byte-buffer.hpp"
#include "enc-test-common.hpp"
#include "encoder.hpp"
#include "vncclient-harness.hpp"
#include "zywrle.hpp"

#include "cmocka.hpp"

using namespace qvnc;
using namespace qvnc::vnc;
using namespace enctest;

namespace {

constexpr int kW = 197, kH = 151; // odd sizes: partial tiles and unaligned strips

// Formats libvncclient inverts (zywrle.md): 32 bpp with the channels in
// wire bytes 0..2, 16 bpp little-endian 5-6-5.
std::vector<NamedFormat> lossy_formats()
{
    const std::vector<NamedFormat> all = client_formats();
    return {all[0], all[2], all[5], all[8]}; // 32le-rgb888, 32le-bgr888, 32be-high, 16le-565
}

enum class Frame { Photo, Desktop, Pattern };

const char *frame_name(Frame f)
{
    return f == Frame::Photo ? "photo" : f == Frame::Desktop ? "desktop" : "pattern";
}

// Colour bars, a two-way gradient and a one-pixel checkerboard: what
// qvnc-emu's pattern guest draws, in spirit.
void paint_pattern(Image &im)
{
    static const uint32_t bars[] = {0xffffff, 0xffff00, 0x00ffff, 0x00ff00, 0xff00ff, 0xff0000, 0x0000ff, 0x000000};
    for (int y = 0; y < im.h; y++) {
        for (int x = 0; x < im.w; x++) {
            uint32_t c;
            if (y < im.h / 3) {
                c = bars[x * 8 / im.w];
            } else if (y < 2 * im.h / 3) {
                const uint32_t r = static_cast<uint32_t>(x * 255 / (im.w - 1));
                const uint32_t g = static_cast<uint32_t>((y - im.h / 3) * 255 / (im.h / 3));
                c = r << 16 | g << 8 | (255 - r);
            } else {
                c = (x + y) % 2 ? 0xe0e0e0 : 0x202020;
            }
            im.at(x, y) = c;
        }
    }
}

Image make_frame(Frame f)
{
    Image im{kW, kH, std::vector<uint32_t>(static_cast<size_t>(kW) * kH, 0)};
    switch (f) {
    case Frame::Photo: paint(im, Content::Photo, 11); break;
    case Frame::Desktop: paint(im, Content::Mixed, 12); break;
    case Frame::Pattern: paint_pattern(im); break;
    }
    return im;
}

// The source frame as the emulator's surface and the server copy of it.
struct Source {
    Image im;
    Surface surf;
    ServerFramebuffer fb;
    explicit Source(Frame f) : im(make_frame(f)), surf(make_surface(im, PIXMAN_x8r8g8b8)) { fb.reset(surf.view(im)); }
};

// Encodes the whole frame with `enc`; returns the bytes (header included)
// and the encoding number of the first rectangle.
std::vector<uint8_t> encode_frame(Encoder &enc, const Source &src, const PixelFormat &pf, bool lossy, int quality,
                                  int32_t *number)
{
    auto conv = PixelConverter::make(src.fb.format(), pf);
    assert_true(conv.ok());
    EncodeContext ctx{src.fb, pf, conv.value()};
    ctx.lossy = lossy;
    ctx.quality_level = quality;
    io::ByteBuffer rects;
    const size_t n = enc.encode({0, 0, kW, kH}, ctx, rects);
    assert_int_equal(n, 1);
    const auto d = rects.data();
    assert_true(d.size() >= 12);
    *number = static_cast<int32_t>(static_cast<uint32_t>(d[8]) << 24 | static_cast<uint32_t>(d[9]) << 16 |
                                   static_cast<uint32_t>(d[10]) << 8 | d[11]);
    return update_message(rects, n);
}

// PSNR in dB of a decoded client framebuffer against the expected pixels,
// channels widened to 8 bits; infinity when they are equal.
double psnr(const uint8_t *got, const uint8_t *want, const PixelFormat &pf)
{
    const int n = pf.bpp / 8;
    const uint32_t max[3] = {pf.red_max, pf.green_max, pf.blue_max};
    const int shift[3] = {pf.red_shift, pf.green_shift, pf.blue_shift};
    double se = 0;
    for (size_t i = 0; i < static_cast<size_t>(kW) * kH; i++) {
        const uint32_t a = wire_value(got + i * n, pf), b = wire_value(want + i * n, pf);
        for (int c = 0; c < 3; c++) {
            const int d = widen8(a >> shift[c] & max[c], max[c]) - widen8(b >> shift[c] & max[c], max[c]);
            se += static_cast<double>(d) * d;
        }
    }
    if (se == 0) return INFINITY;
    const double mse = se / (3.0 * kW * kH);
    return 10 * std::log10(255.0 * 255.0 / mse);
}

// Lowest PSNR accepted per wavelet level.  Level 1 (quality 6..8) is the
// issue's requirement; the coarser ones follow the encoder's per-tile caps
// (zywrle::max_tile_mse) with a margin.  A wrong coefficient layout or
// colour transform scores 12-23 dB on the desktop and pattern frames.
double floor_db(int level)
{
    return level == 1 ? 30.0 : level == 2 ? 25.0 : level == 3 ? 20.0 : INFINITY;
}

// Every quality level, in turn, over one connection: the rectangle number
// says which path was taken and the decoded frame scores its PSNR.
void psnr_per_quality(void **)
{
    std::string failures; // all figures are printed before failing
    for (const NamedFormat &f : lossy_formats()) {
        for (const Frame frame : {Frame::Photo, Frame::Desktop, Frame::Pattern}) {
            const Source src(frame);
            auto conv = PixelConverter::make(src.fb.format(), f.pf);
            assert_true(conv.ok());
            const std::vector<uint8_t> want = expected_pixels(src.fb, conv.value());
            auto conn = std::make_unique<Conn>();
            assert_true(connect_client(*conn, kW, kH, f.pf));
            std::unique_ptr<Encoder> enc = make_encoder(17);
            std::string line;
            for (int q = 0; q <= 9; q++) {
                const int level = zywrle::level_for(f.pf, true, q);
                int32_t number = 0;
                const std::vector<uint8_t> msg = encode_frame(*enc, src, f.pf, true, q, &number);
                assert_int_equal(number, q == 9 ? 16 : 17);
                assert_int_equal(level, q == 9 ? 0 : 3 - q / 3);
                // libvncclient takes its level from the quality level it
                // sent, and forgets it (9) on every rectangle numbered 16.
                std::memset(conn->cl->frameBuffer, 0, want.size());
                conn->cl->appData.qualityLevel = q;
                if (!deliver(*conn, msg)) {
                    fail_msg("%s/%s q=%d: libvncclient rejected the update", f.name, frame_name(frame), q);
                }
                const double db = psnr(conn->cl->frameBuffer, want.data(), f.pf);
                char item[48];
                snprintf(item, sizeof item, " q%d=%.1f", q, db);
                line += item;
                if (!(db >= floor_db(level))) {
                    char msg[128];
                    snprintf(msg, sizeof msg, "%s/%s q=%d (level %d): PSNR %.2f dB < %.1f dB; ", f.name,
                             frame_name(frame), q, level, db, floor_db(level));
                    failures += msg;
                }
            }
            printf("# PSNR dB %s/%s:%s\n", f.name, frame_name(frame), line.c_str());
        }
    }
    if (!failures.empty()) fail_msg("%s", failures.c_str());
}

// Lossless fallbacks, pixel-exact through libvncclient, always numbered 16:
// lossy off, no quality level, quality 9, and (lossy, quality 8) formats the
// decoder cannot invert.
void lossless_fallbacks(void **)
{
    struct Fallback {
        NamedFormat f;
        bool lossy;
        int quality;
    };
    const std::vector<NamedFormat> all = client_formats();
    const Fallback cases[] = {
        {all[0], false, 8}, {all[8], false, 2}, {all[0], true, -1}, {all[8], true, 9},
        // Channels in wire bytes 1..3, 5-5-5, big-endian 5-6-5, 8 bpp.
        {all[4], true, 8}, {all[10], true, 8}, {all[9], true, 8}, {all[12], true, 8},
    };
    for (const Fallback &c : cases) {
        assert_int_equal(zywrle::level_for(c.f.pf, c.lossy, c.quality), 0);
        for (const Frame frame : {Frame::Photo, Frame::Desktop}) {
            const Source src(frame);
            auto conv = PixelConverter::make(src.fb.format(), c.f.pf);
            assert_true(conv.ok());
            auto conn = std::make_unique<Conn>();
            assert_true(connect_client(*conn, kW, kH, c.f.pf));
            std::unique_ptr<Encoder> enc = make_encoder(17);
            int32_t number = 0;
            const std::vector<uint8_t> msg = encode_frame(*enc, src, c.f.pf, c.lossy, c.quality, &number);
            assert_int_equal(number, 16);
            conn->cl->appData.qualityLevel = c.quality < 0 ? 9 : c.quality;
            assert_true(deliver(*conn, msg));
            const std::vector<uint8_t> want = expected_pixels(src.fb, conv.value());
            const std::string diff = compare(conn->cl->frameBuffer, want.data(), kW, kH, c.f.pf);
            if (!diff.empty()) {
                fail_msg("%s lossy=%d q=%d %s: %s", c.f.name, c.lossy, c.quality, frame_name(frame), diff.c_str());
            }
        }
    }
}

// ZYWRLE is there to be smaller than ZRLE on photo-like content.
void smaller_than_zrle(void **)
{
    for (const NamedFormat &f : lossy_formats()) {
        const Source src(Frame::Photo);
        int32_t number = 0;
        const size_t zrle = encode_frame(*make_encoder(16), src, f.pf, true, 8, &number).size();
        assert_int_equal(number, 16);
        std::string line;
        for (const int q : {8, 5, 2}) {
            const size_t zy = encode_frame(*make_encoder(17), src, f.pf, true, q, &number).size();
            assert_int_equal(number, 17);
            const double ratio = static_cast<double>(zy) / static_cast<double>(zrle);
            char item[64];
            snprintf(item, sizeof item, " q%d=%zu (%.2f)", q, zy, ratio);
            line += item;
            if (!(ratio < 1.0)) {
                fail_msg("%s q=%d: ZYWRLE %zu bytes >= ZRLE %zu bytes", f.name, q, zy, zrle);
            }
        }
        printf("# bytes %s/photo: ZRLE %zu, ZYWRLE%s\n", f.name, zrle, line.c_str());
    }
}

// libvncserver 0.9.x exports its template instances; they are not in its
// headers, so look them up at run time and skip when they are gone.
// Signature: PIXEL *f(PIXEL *dst, PIXEL *src, int w, int h, int scanline,
// int level, int *work).
void matches_libvncserver_analyzer(void **)
{
    struct Lib {
        void *h = dlopen("libvncserver.so.1", RTLD_NOW | RTLD_LOCAL);
        ~Lib()
        {
            if (h) dlclose(h);
        }
    } lib;
    using Fn = void *(*)(void *, void *, int, int, int, int, int *);
    Fn ref32 = lib.h ? reinterpret_cast<Fn>(dlsym(lib.h, "zywrleAnalyze32LE")) : nullptr;
    Fn ref16 = lib.h ? reinterpret_cast<Fn>(dlsym(lib.h, "zywrleAnalyze16LE")) : nullptr;
    if (!ref32 || !ref16) {
        printf("# libvncserver's zywrleAnalyze32LE/16LE not found: skipped\n");
        skip();
    }
    std::mt19937 rng(5);
    zywrle::Analyzer an;
    std::vector<int> work(64 * 64 * 2);
    size_t slots = 0;
    for (int iter = 0; iter < 120; iter++) {
        const int level = 1 + iter % 3;
        const int tw = iter % 4 == 0 ? 64 : 1 + static_cast<int>(rng() % 64);
        const int th = iter % 4 == 0 ? 64 : 1 + static_cast<int>(rng() % 64);
        const size_t n = static_cast<size_t>(tw) * th;
        // Noise half the time (extreme coefficients), smooth otherwise.
        std::vector<uint8_t> px32(n * 4), px16(n * 2), ours;
        for (size_t i = 0; i < n; i++) {
            const int x = static_cast<int>(i % tw), y = static_cast<int>(i / tw);
            uint8_t *p = &px32[i * 4];
            for (int k = 0; k < 3; k++) {
                p[k] = iter % 2 ? static_cast<uint8_t>(rng())
                                : static_cast<uint8_t>(128 + 100 * std::sin(x * 0.2 + k) * std::cos(y * 0.15));
            }
            p[3] = 0;
            const unsigned v = (p[2] >> 3) << 11 | (p[1] >> 2) << 5 | p[0] >> 3;
            px16[i * 2] = static_cast<uint8_t>(v);
            px16[i * 2 + 1] = static_cast<uint8_t>(v >> 8);
        }
        for (const bool wide : {true, false}) {
            std::vector<uint8_t> &src = wide ? px32 : px16;
            an.analyze(src.data(), tw, th, level, wide ? zywrle::Layout::Bytes012 : zywrle::Layout::Rgb565Le, INFINITY,
                       ours);
            std::vector<uint8_t> ref = src; // analyzed in place
            (wide ? ref32 : ref16)(ref.data(), ref.data(), tw, th, tw, level, work.data());
            const int bpp = wide ? 4 : 2;
            for (size_t i = 0; i < n; i++) {
                // Byte 3 of a 32 bpp slot is not a coefficient.
                if (std::memcmp(&ours[i * bpp], &ref[i * bpp], wide ? 3 : 2) != 0) {
                    fail_msg("%d bpp level %d tile %dx%d: slot %zu differs from libvncserver's", bpp * 8, level, tw,
                             th, i);
                }
            }
            slots += n;
        }
    }
    printf("# %zu coefficient slots equal to libvncserver's analyzer\n", slots);
}

} // namespace

int main()
{
    signal(SIGPIPE, SIG_IGN);
    rfbEnableClientLogging = FALSE;
    const CMUnitTest tests[] = {
        cmocka_unit_test(psnr_per_quality),
        cmocka_unit_test(lossless_fallbacks),
        cmocka_unit_test(smaller_than_zrle),
        cmocka_unit_test(matches_libvncserver_analyzer),
    };
    return cmocka_run_group_tests_name("enc-zywrle", tests, nullptr, nullptr);
}
