// Round trips of every encoder through libvncclient, an independent real
// decoder: a fake server on a socketpair performs the RFB 3.8 handshake and
// sends the encoder's FramebufferUpdates; the rfbClient decodes them with
// HandleRFBServerMessage and its framebuffer is compared with the source
// pixels converted to the client's format.
//
// Usage: test-enc-vncclient ENCODING [lossy]   (ENCODING: an RFB number)
#include <csignal>
#include <cstdlib>
#include <memory>

#include "byte-buffer.hpp"
#include "enc-test-common.hpp"
#include "enc-util.hpp"
#include "encoder.hpp"
#include "vncclient-harness.hpp"

#include "cmocka.hpp"

using namespace qvnc;
using namespace qvnc::vnc;
using namespace enctest;

namespace {

int g_encoding = 0;
bool g_lossy = false;

struct Case {
    std::string name;
    PixelFormat pf;
    uint32_t surface_format;
    int w, h;
};

std::vector<Case> g_cases;

void run_case(void **state)
{
    const Case &tc = *static_cast<const Case *>(*state);
    auto conn = std::make_unique<Conn>();
    assert_true(connect_client(*conn, tc.w, tc.h, tc.pf));
    std::unique_ptr<Encoder> enc = make_encoder(g_encoding);
    assert_non_null(enc.get());

    Image im{tc.w, tc.h, std::vector<uint32_t>(static_cast<size_t>(tc.w) * tc.h, 0)};
    const Rect steps[] = {
        {0, 0, tc.w, tc.h},
        {0, 0, 1, 1},
        {tc.w - 1, tc.h - 1, 1, 1},
        {5, 7, std::min(17, tc.w - 5), std::min(33, tc.h - 7)},
        {tc.w - 20, tc.h - 30, 20, 30},
        {60, 10, std::min(70, tc.w - 60), std::min(70, tc.h - 10)},
        {0, 0, tc.w, tc.h},
    };
    const Content contents[] = {Content::Mixed, Content::Solid, Content::TwoColour, Content::TwentyColour,
                                Content::Photo};
    const int max_err = g_lossy ? 255 : 0;
    // Quality level 2 is JPEG quality 15 (QEMU's table): up to ~16.5 on the mixed
    // content; a wrong colour order or a shifted row is far above.
    const double mean_err = g_lossy ? 24.0 : 0;
    int step = 0;
    for (int round = 0; round < 5; round++) {
        for (const Rect &r0 : steps) {
            const Rect r = intersect(r0, {0, 0, tc.w, tc.h});
            const Content content = contents[(round + step) % 5];
            paint(im, content, static_cast<unsigned>(step * 31 + 7), r.x, r.y, r.right(), r.bottom());
            const Surface surf = make_surface(im, tc.surface_format);
            ServerFramebuffer fb;
            fb.reset(surf.view(im));
            auto conv = PixelConverter::make(fb.format(), tc.pf);
            assert_true(conv.ok());
            EncodeContext ctx{fb, tc.pf, conv.value()};
            ctx.lossy = g_lossy;
            ctx.quality_level = g_lossy ? (step % 2 ? 2 : 7) : -1;
            ctx.compress_level = step % 3 == 0 ? -1 : step % 10;

            io::ByteBuffer rects;
            const size_t n = enc->encode(r, ctx, rects);
            assert_true(n >= 1);
            if (!deliver(*conn, update_message(rects, n))) {
                fail_msg("%s: libvncclient rejected step %d (%s, rect %dx%d+%d+%d)", tc.name.c_str(), step,
                         content_name(content), r.w, r.h, r.x, r.y);
            }
            const std::vector<uint8_t> want = expected_pixels(fb, conv.value());
            const std::string diff = compare(conn->cl->frameBuffer, want.data(), tc.w, tc.h, tc.pf, max_err, mean_err);
            if (!diff.empty()) {
                fail_msg("%s: step %d (%s, rect %dx%d+%d+%d): %s", tc.name.c_str(), step, content_name(content), r.w,
                         r.h, r.x, r.y, diff.c_str());
            }
            step++;
        }
    }
}

} // namespace

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s ENCODING [lossy]\n", argv[0]);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    rfbEnableClientLogging = FALSE;
    g_encoding = atoi(argv[1]);
    g_lossy = argc > 2 && std::string(argv[2]) == "lossy";

    auto skip_case = [](const PixelFormat &pf) { return !libvncclient_decodes(pf, g_encoding, g_lossy); };
    auto add = [&skip_case](std::string name, const PixelFormat &pf, uint32_t surface, int w, int h) {
        if (!skip_case(pf)) g_cases.push_back({std::move(name), pf, surface, w, h});
    };
    const std::vector<NamedFormat> formats = client_formats();
    for (const NamedFormat &f : formats) {
        add(std::string(f.name) + "/xrgb", f.pf, PIXMAN_x8r8g8b8, 131, 97);
    }
    add("32le-rgb888/rgb565", formats[0].pf, PIXMAN_r5g6b5, 131, 97);
    add("16le-565/bgrx", formats[8].pf, PIXMAN_b8g8r8x8, 131, 97);
    add("16be-565/bgrx", formats[9].pf, PIXMAN_b8g8r8x8, 131, 97);
    add("32le-rgb888/wide", formats[0].pf, PIXMAN_x8r8g8b8, 2100, 40);
    add("16be-565/wide", formats[9].pf, PIXMAN_x8r8g8b8, 2100, 40);
    add("16le-565/wide", formats[8].pf, PIXMAN_x8r8g8b8, 2100, 40);

    std::vector<CMUnitTest> tests;
    for (Case &c : g_cases) {
        tests.push_back({c.name.c_str(), run_case, nullptr, nullptr, &c});
    }
    const std::string group = std::string("enc-vncclient-") + argv[1] + (g_lossy ? "-lossy" : "");
    return _cmocka_run_group_tests(group.c_str(), tests.data(), tests.size(), nullptr, nullptr);
}
