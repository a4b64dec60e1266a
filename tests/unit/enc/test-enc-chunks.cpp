// One big update split into chunks encoded on a WorkerPool (enc/chunks.hpp)
// must decode, in libvncclient, to exactly what the same updates encoded on
// one thread decode to, and to the source pixels: two clients, one fed by
// an encoder with a pool, one by an encoder without.  Small updates between
// the big ones go through the encoder's persistent streams, which must
// carry on after the chunks' independent compressors.  Every third update
// of the first client is a shared encode (server/share-pass.hpp): made by
// another encoder instance after its forget_history(), after which the
// client's own encoder forgets its history too, as the server does.
//
// Usage: test-enc-chunks ENCODING [lossy]   (ENCODING: an RFB number)
#include <glib.h>

#include <csignal>
#include <cstdlib>
#include <memory>

#include "byte-buffer.hpp"
#include "chunks.hpp"
#include "enc-test-common.hpp"
#include "enc-util.hpp"
#include "encoder.hpp"
#include "error.hpp"
#include "vncclient-harness.hpp"
#include "worker-pool.hpp"

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
};

std::vector<Case> g_cases;
constexpr int kW = 640, kH = 360; // 230400 pixels: several chunks

struct Step {
    std::vector<Rect> rects;
    Content content;
    bool big; // must be split
};

// The steps of one case; returns what went wrong ("" when nothing).  No
// cmocka assertion in here: a failing one longjmps past the WorkerPool's
// and the clients' destructors, the pool's threads stay, and the test hung
// until its timeout instead of reporting the failure.
std::string run_steps(const Case &tc, work::WorkerPool &pool)
{
    {
        auto par = std::make_unique<Conn>(), seq = std::make_unique<Conn>();
        if (!connect_client(*par, kW, kH, tc.pf) || !connect_client(*seq, kW, kH, tc.pf)) {
            return tc.name + ": libvncclient did not take the ServerInit";
        }
        std::unique_ptr<Encoder> enc_par = make_encoder(g_encoding), enc_seq = make_encoder(g_encoding);
        std::unique_ptr<Encoder> enc_shared = make_encoder(g_encoding);
        int shared_steps = 0;

        Image im{kW, kH, std::vector<uint32_t>(static_cast<size_t>(kW) * kH, 0)};
        const std::vector<Step> steps = {
            {{{0, 0, kW, kH}}, Content::Mixed, true},
            {{{3, 5, 40, 30}}, Content::TwoColour, false},
            {{{0, 0, kW, 100}, {100, 130, 300, 150}, {0, 290, kW, 70}}, Content::Photo, true},
            {{{0, 0, kW, kH}}, Content::TwentyColour, true},
            {{{600, 300, 40, 60}}, Content::Photo, false},
            {{{0, 0, kW, kH}}, Content::Photo, true},
            {{{10, 10, 620, 340}}, Content::TwoColour, true},
            {{{0, 0, 64, 64}, {64, 64, 64, 64}}, Content::Mixed, false},
            {{{0, 0, kW, kH}}, Content::Mixed, true},
            // Incompressible: the zlib streams store these pixels, then
            // compress again (Deflater::feed), within one update too.
            {{{0, 0, kW, kH}}, Content::Noise, true},
            {{{0, 0, kW, 200}}, Content::TwoColour, true},
            {{{20, 30, 50, 40}}, Content::Noise, false},
        };
        const int max_err = g_lossy ? 255 : 0;
        const double mean_err = g_lossy ? 12.0 : 0;
        for (size_t k = 0; k < steps.size(); k++) {
            const Step &st = steps[k];
            if (g_lossy && st.content == Content::Noise) {
                continue; // JPEG of noise is only noise: no error bound holds
            }
            for (const Rect &r : st.rects) {
                paint(im, st.content, static_cast<unsigned>(k * 17 + 3), r.x, r.y, r.right(), r.bottom());
            }
            const Surface surf = make_surface(im, tc.surface_format);
            ServerFramebuffer fb;
            fb.reset(surf.view(im));
            auto conv = PixelConverter::make(fb.format(), tc.pf);
            if (!conv.ok()) {
                return tc.name + ": no pixel converter";
            }
            EncodeContext ctx{fb, tc.pf, conv.value()};
            ctx.lossy = g_lossy;
            ctx.quality_level = g_lossy ? (k % 2 ? 2 : 7) : -1;
            ctx.compress_level = k % 3 == 0 ? -1 : static_cast<int>(k % 10);
            EncodeContext pctx = ctx;
            pctx.pool = &pool;
            enc::ChunkPlan plan;
            if (st.big && !(plan.plan(st.rects, 64, pctx) && plan.chunks() >= 2)) {
                return strprintf("%s: step %zu was not split", tc.name.c_str(), k);
            }

            io::ByteBuffer bp, bs;
            // As the server: only an encoder that accepts shared bytes now
            // is given them (ZRLE and Zlib once their stream has begun).
            const bool shared = k % 3 == 2 && enc_par->accepts_shared();
            if (shared) {
                enc_shared->forget_history();
                shared_steps++;
            }
            const size_t np = (shared ? enc_shared : enc_par)->encode_rects(st.rects, pctx, bp);
            if (shared) {
                enc_par->forget_history();
            }
            const size_t ns = enc_seq->encode_rects(st.rects, ctx, bs);
            // Hextile's Raw bands follow each instance's own history of
            // what went raw, and the shared instance's differs.
            if (np != ns && g_encoding != 5) {
                return strprintf("%s: step %zu: %zu rectangles split, %zu not", tc.name.c_str(), k, np, ns);
            }
            if (g_encoding == 0 &&
                !(bp.size() == bs.size() && std::equal(bp.data().begin(), bp.data().end(), bs.data().begin()))) {
                return strprintf("%s: step %zu: Raw split and unsplit bytes differ", tc.name.c_str(), k);
            }
            if (!deliver(*par, update_message(bp, np)) || !deliver(*seq, update_message(bs, ns))) {
                return strprintf("%s: libvncclient rejected step %zu", tc.name.c_str(), k);
            }
            const size_t fb_bytes = static_cast<size_t>(kW) * kH * (tc.pf.bpp / 8);
            if (std::memcmp(par->cl->frameBuffer, seq->cl->frameBuffer, fb_bytes) != 0) {
                return strprintf("%s: step %zu: split and unsplit updates decode differently", tc.name.c_str(), k);
            }
            const std::vector<uint8_t> want = expected_pixels(fb, conv.value());
            const std::string diff = compare(par->cl->frameBuffer, want.data(), kW, kH, tc.pf, max_err, mean_err);
            if (!diff.empty()) {
                return strprintf("%s: step %zu (%s%s): %s", tc.name.c_str(), k, content_name(st.content),
                                     shared ? ", shared encode" : "", diff.c_str());
            }
        }
        // Every encoding this test runs can take shared bytes after its
        // first update.
        if (shared_steps != (g_lossy ? 3 : 4)) {
            return strprintf("%s: %d shared encodes, expected %d", tc.name.c_str(), shared_steps, g_lossy ? 3 : 4);
        }
    }
    return {};
}

void run_case(void **state)
{
    const Case &tc = *static_cast<const Case *>(*state);
    GMainContext *gctx = g_main_context_new();
    std::string err;
    {
        work::WorkerPool pool(gctx, 3);
        bool started = false;
        pool.submit([] {}, [&started] { started = true; }); // starts the threads
        err = run_steps(tc, pool);
    }
    g_main_context_unref(gctx);
    if (!err.empty()) {
        fail_msg("%s", err.c_str());
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
    for (const NamedFormat &f : client_formats()) {
        if (!skip_case(f.pf)) g_cases.push_back({std::string(f.name) + "/xrgb", f.pf, PIXMAN_x8r8g8b8});
    }
    std::vector<CMUnitTest> tests;
    for (Case &c : g_cases) {
        tests.push_back({c.name.c_str(), run_case, nullptr, nullptr, &c});
    }
    const std::string group = std::string("enc-chunks-") + argv[1] + (g_lossy ? "-lossy" : "");
    return _cmocka_run_group_tests(group.c_str(), tests.data(), tests.size(), nullptr, nullptr);
}
