// Hextile's guess of raw tiles (hextile-raw.hpp, issue 8): tiles that went
// raw lately are written raw without the analysis, bands of them as Raw
// rectangles.  A guess may cost bytes, never pixels; these cases hold it
// to that and to its bounds:
//  - every update decodes exactly in libvncclient;
//  - a window over what was noise (two colours) is analysed at once: its
//    tiles fail the sampled-rows check, whatever the history says;
//  - content that passes the check but is not raw (noise only in the
//    sampled rows) is written raw at first, and analysed again within
//    kProbeEvery updates, after which the bytes are the analysis's;
//  - a cell found raw long ago is not trusted (kForgetAfter);
//  - a column of flat tiles in noise cuts each band there: the noise on
//    its left goes Raw, the flat column Hextile (video has such areas).
// The sizes compared against are a fresh encoder's encode(), which
// analyses every tile.
#include <csignal>
#include <cstdlib>
#include <memory>

#include "byte-buffer.hpp"
#include "enc-test-common.hpp"
#include "encoder.hpp"
#include "error.hpp"
#include "hextile.hpp"
#include "vncclient-harness.hpp"

#include "cmocka.hpp"

using namespace qvnc;
using namespace qvnc::vnc;
using namespace enctest;

namespace {

constexpr int kW = 320, kH = 192; // 20 x 12 tiles

struct Case {
    std::string name;
    PixelFormat pf;
};

std::vector<Case> g_cases;

// One client and one encoder, updates of the whole screen.
struct Session {
    const Case &tc;
    std::unique_ptr<Conn> conn = std::make_unique<Conn>();
    HextileEncoder enc;
    Image im{kW, kH, std::vector<uint32_t>(static_cast<size_t>(kW) * kH, 0)};
    bool connected = false;
    size_t rects = 0; // in the last update: more than 1 when bands went Raw

    explicit Session(const Case &c) : tc(c) {}

    // Encodes `r` of the image with encode_rects (the history) and checks
    // what libvncclient decodes; returns the update's size, 0 on a failure
    // (reported in err).  `analysed`: the size with every tile analysed.
    size_t update(std::string &err, size_t *analysed = nullptr, Rect r = {0, 0, kW, kH})
    {
        if (!connected && !(connected = connect_client(*conn, kW, kH, tc.pf))) {
            err = "libvncclient did not take the ServerInit";
            return 0;
        }
        const Surface surf = make_surface(im, PIXMAN_x8r8g8b8);
        ServerFramebuffer fb;
        fb.reset(surf.view(im));
        auto conv = PixelConverter::make(fb.format(), tc.pf);
        if (!conv.ok()) {
            err = "no pixel converter";
            return 0;
        }
        const EncodeContext ctx{fb, tc.pf, conv.value()};
        io::ByteBuffer bytes;
        const size_t n = enc.encode_rects(std::span(&r, 1), ctx, bytes);
        rects = n;
        if (analysed) {
            HextileEncoder fresh;
            io::ByteBuffer ref;
            (void)fresh.encode(r, ctx, ref);
            *analysed = ref.size();
        }
        if (!deliver(*conn, update_message(bytes, n))) {
            err = "libvncclient rejected the update";
            return 0;
        }
        const std::vector<uint8_t> want = expected_pixels(fb, conv.value());
        const std::string diff = compare(conn->cl->frameBuffer, want.data(), kW, kH, tc.pf);
        if (!diff.empty()) {
            err = "decoded pixels differ: " + diff;
            return 0;
        }
        return bytes.size();
    }

    // A first update of noise over the whole screen: every cell went raw.
    bool noise_first(std::string &err)
    {
        paint(im, Content::Noise, 1);
        return update(err) != 0;
    }
};

// Noise only in the rows looks_raw samples (0, 5, 10, 15 of each tile),
// one colour elsewhere: it passes the check, but the analysis finds it
// cheaper than raw.
void paint_sampled_rows_noise(Image &im, unsigned seed)
{
    paint(im, Content::Solid, seed);
    std::mt19937 rng(seed);
    for (int y = 0; y < im.h; y++) {
        if (y % 16 % 5 == 0) {
            for (int x = 0; x < im.w; x++) im.at(x, y) = rng() & 0xffffff;
        }
    }
}

std::string window_over_noise(const Case &tc)
{
    Session s(tc);
    std::string err;
    paint(s.im, Content::Noise, 1);
    const size_t raw_size = s.update(err);
    if (raw_size == 0) return err;
    paint(s.im, Content::Noise, 2);
    if (s.update(err) == 0) return err;
    paint(s.im, Content::TwoColour, 3);
    size_t analysed = 0;
    const size_t got = s.update(err, &analysed);
    if (got == 0) return err;
    if (got != analysed) {
        return strprintf("two colours after noise: %zu bytes, the analysis makes %zu (raw %zu)", got, analysed,
                         raw_size);
    }
    return {};
}

std::string guess_is_probed(const Case &tc)
{
    Session s(tc);
    std::string err;
    if (!s.noise_first(err)) return err;
    size_t first = 0, first_analysed = 0, analysed = 0, last = 0;
    for (uint32_t k = 0; k <= HextileRawHistory::kProbeEvery; k++) {
        paint_sampled_rows_noise(s.im, 10 + k);
        const size_t got = s.update(err, &analysed);
        if (got == 0) return strprintf("update %u: %s", k, err.c_str());
        if (k == 0) {
            first = got;
            first_analysed = analysed;
            // All but the probed row of cells went as Raw bands.
            if (s.rects < 2) return "the guessed bands were not sent as Raw rectangles";
        }
        last = got;
    }
    // The first is mostly guessed raw (all but the cells probed in it).
    if (first <= first_analysed + first_analysed / 10) {
        return strprintf("no tile was guessed raw: %zu bytes, analysed %zu", first, first_analysed);
    }
    if (last != analysed || s.rects != 1) {
        return strprintf("still guessed after %u updates: %zu bytes in %zu rectangles, analysed %zu",
                         HextileRawHistory::kProbeEvery, last, s.rects, analysed);
    }
    return {};
}

std::string old_history_forgotten(const Case &tc)
{
    Session s(tc);
    std::string err;
    if (!s.noise_first(err)) return err;
    // Updates of one tile elsewhere: the history of the others ages.
    for (uint32_t k = 0; k < HextileRawHistory::kForgetAfter; k++) {
        paint(s.im, Content::Noise, 100 + k, 0, 0, 16, 16);
        if (s.update(err, nullptr, {0, 0, 16, 16}) == 0) return err;
    }
    paint_sampled_rows_noise(s.im, 5);
    paint(s.im, Content::Noise, 6, 0, 0, 16, 16); // raw either way
    size_t analysed = 0;
    const size_t got = s.update(err, &analysed);
    if (got == 0) return err;
    if (got != analysed) {
        return strprintf("a history %u updates old was trusted: %zu bytes, analysed %zu",
                         HextileRawHistory::kForgetAfter, got, analysed);
    }
    return {};
}

std::string flat_column_cuts_bands(const Case &tc)
{
    Session s(tc);
    std::string err;
    if (!s.noise_first(err)) return err;
    // Tiles 0..15 of each row noise again, tile 16 one colour (predicted
    // raw, but it fails the check), 17..19 noise: too narrow for Raw on
    // their own, they go with the flat tile.
    paint(s.im, Content::Noise, 2);
    paint(s.im, Content::Solid, 3, 256, 0, 272, kH);
    size_t analysed = 0;
    const size_t got = s.update(err, &analysed);
    if (got == 0) return err;
    // Raw runs left of the column in every band but the probed one, Hextile
    // from the column on: at least a Raw and a Hextile rectangle, and a
    // byte a tile less than all of it as Hextile.
    if (s.rects < 2 || got >= analysed) {
        return strprintf("the flat column did not cut the bands: %zu rectangles, %zu bytes, all Hextile %zu", s.rects,
                         got, analysed);
    }
    if (s.rects > HextileEncoder().max_rects(Rect{0, 0, kW, kH})) {
        return strprintf("%zu rectangles, more than max_rects", s.rects);
    }
    return {};
}

template <std::string (*F)(const Case &)> void run(void **state)
{
    const std::string err = F(*static_cast<const Case *>(*state));
    if (!err.empty()) {
        fail_msg("%s: %s", static_cast<const Case *>(*state)->name.c_str(), err.c_str());
    }
}

} // namespace

int main()
{
    signal(SIGPIPE, SIG_IGN);
    rfbEnableClientLogging = FALSE;
    for (const NamedFormat &f : client_formats()) {
        if (libvncclient_decodes(f.pf, 5, false)) g_cases.push_back({f.name, f.pf});
    }
    std::vector<CMUnitTest> tests;
    std::vector<std::string> names;
    names.reserve(g_cases.size() * 4);
    for (Case &c : g_cases) {
        names.push_back("window_over_noise/" + c.name);
        tests.push_back({names.back().c_str(), run<window_over_noise>, nullptr, nullptr, &c});
        names.push_back("guess_is_probed/" + c.name);
        tests.push_back({names.back().c_str(), run<guess_is_probed>, nullptr, nullptr, &c});
        names.push_back("old_history_forgotten/" + c.name);
        tests.push_back({names.back().c_str(), run<old_history_forgotten>, nullptr, nullptr, &c});
        names.push_back("flat_column_cuts_bands/" + c.name);
        tests.push_back({names.back().c_str(), run<flat_column_cuts_bands>, nullptr, nullptr, &c});
    }
    return _cmocka_run_group_tests("hextile-history", tests.data(), tests.size(), nullptr, nullptr);
}
