// PixelConverter against a reference written independently of it: source
// channel positions come from pixman's own format macros, widening uses
// the per-width formulas (v<<3|v>>2, ...), narrowing uses a multiply/divide
// (or floating-point rounding) instead of shifts, and bytes are assembled
// one by one.
#include <bit>
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <pixman.h>

#include "byte-buffer.hpp"
#include "byte-writer.hpp"
#include "pixel-convert.hpp"
#include "pixel-format.hpp"

// Last: cmocka defines a fail() macro that clashes with <ios>.
#include "cmocka.hpp"

using namespace qvnc;
using namespace qvnc::vnc;

namespace {

constexpr bool kHostBig = std::endian::native == std::endian::big;

const uint32_t kSourceFormats[] = {
    PIXMAN_x8r8g8b8, PIXMAN_a8r8g8b8, PIXMAN_x8b8g8r8, PIXMAN_a8b8g8r8,
    PIXMAN_b8g8r8x8, PIXMAN_b8g8r8a8, PIXMAN_r5g6b5,   PIXMAN_x1r5g5b5,
};

struct RefSource {
    int bytes;
    int pos[3];  // r, g, b
    int bits[3];
};

RefSource ref_source(uint32_t f)
{
    const int bpp = PIXMAN_FORMAT_BPP(f);
    const int r = PIXMAN_FORMAT_R(f), g = PIXMAN_FORMAT_G(f), b = PIXMAN_FORMAT_B(f);
    RefSource s{bpp / 8, {}, {r, g, b}};
    switch (PIXMAN_FORMAT_TYPE(f)) {
    case PIXMAN_TYPE_ARGB:
        s.pos[2] = 0, s.pos[1] = b, s.pos[0] = b + g;
        break;
    case PIXMAN_TYPE_ABGR:
        s.pos[0] = 0, s.pos[1] = r, s.pos[2] = r + g;
        break;
    case PIXMAN_TYPE_BGRA:
        s.pos[2] = bpp - b, s.pos[1] = bpp - b - g, s.pos[0] = bpp - b - g - r;
        break;
    default:
        fail_msg("unexpected pixman type");
    }
    return s;
}

uint32_t ref_widen(uint32_t v, int bits)
{
    switch (bits) {
    case 8: return v;
    case 6: return v << 2 | v >> 4;
    case 5: return v << 3 | v >> 2;
    }
    fail_msg("unexpected width %d", bits);
    return 0;
}

uint32_t ref_narrow(uint32_t v8, uint32_t max)
{
    if (max <= 255 && std::has_single_bit(max + 1)) {
        return v8 * (max + 1) / 256; // keep the top bits
    }
    return static_cast<uint32_t>(std::lround(v8 * static_cast<double>(max) / 255.0));
}

struct Dst {
    const char *name;
    PixelFormat pf;
};

PixelFormat pf(uint8_t bpp, bool be, uint16_t rm, uint16_t gm, uint16_t bm, uint8_t rs, uint8_t gs, uint8_t bs)
{
    PixelFormat p;
    p.bpp = bpp;
    p.depth = bpp == 32 ? 24 : bpp;
    p.big_endian = be;
    p.true_colour = true;
    p.red_max = rm, p.green_max = gm, p.blue_max = bm;
    p.red_shift = rs, p.green_shift = gs, p.blue_shift = bs;
    return p;
}

std::vector<Dst> destinations()
{
    std::vector<Dst> out;
    for (bool be : {false, true}) {
        out.push_back({"32 rgb888", pf(32, be, 255, 255, 255, 16, 8, 0)});
        out.push_back({"32 bgr888", pf(32, be, 255, 255, 255, 0, 8, 16)});
        out.push_back({"32 rgbx", pf(32, be, 255, 255, 255, 24, 16, 8)});
        out.push_back({"32 odd shifts", pf(32, be, 255, 255, 255, 1, 9, 23)});
        out.push_back({"32 10-bit", pf(32, be, 1023, 1023, 1023, 20, 10, 0)});
        out.push_back({"32 non-pow2", pf(32, be, 100, 200, 50, 3, 13, 22)});
        out.push_back({"16 rgb565", pf(16, be, 31, 63, 31, 11, 5, 0)});
        out.push_back({"16 bgr565", pf(16, be, 31, 63, 31, 0, 5, 11)});
        out.push_back({"16 rgb555", pf(16, be, 31, 31, 31, 10, 5, 0)});
        out.push_back({"16 rgb444", pf(16, be, 15, 15, 15, 12, 8, 4)});
        out.push_back({"16 odd", pf(16, be, 7, 63, 7, 3, 7, 13)});
        out.push_back({"16 non-pow2", pf(16, be, 20, 40, 10, 0, 5, 11)});
        out.push_back({"8 bgr233", pf(8, be, 7, 7, 3, 0, 3, 6)});
        out.push_back({"8 rgb332", pf(8, be, 7, 7, 3, 5, 2, 0)});
        out.push_back({"8 rgb222", pf(8, be, 3, 3, 3, 4, 2, 0)});
        out.push_back({"8 non-pow2", pf(8, be, 5, 6, 2, 0, 3, 6)});
    }
    return out;
}

uint32_t load_bytes(const uint8_t *p, int n, bool be)
{
    uint32_t v = 0;
    for (int i = 0; i < n; i++) {
        v |= static_cast<uint32_t>(p[i]) << (8 * (be ? n - 1 - i : i));
    }
    return v;
}

uint32_t channel_mask(const PixelFormat &p)
{
    return (uint32_t{p.red_max} << p.red_shift) | (uint32_t{p.green_max} << p.green_shift) |
           (uint32_t{p.blue_max} << p.blue_shift);
}

// Builds source pixels (native-endian words) with the given channel values
// and random bits everywhere else (x/alpha).
struct SourceRow {
    std::vector<uint8_t> bytes;
    std::vector<std::array<uint32_t, 3>> channels; // source-width values
};

SourceRow make_source(uint32_t fmt, bool exhaustive, std::mt19937 &rng)
{
    const RefSource s = ref_source(fmt);
    SourceRow row;
    auto add = [&](uint32_t word, bool random_other) {
        uint32_t chan_bits = 0;
        std::array<uint32_t, 3> ch{};
        for (int c = 0; c < 3; c++) {
            const uint32_t m = (1u << s.bits[c]) - 1;
            ch[c] = (word >> s.pos[c]) & m;
            chan_bits |= m << s.pos[c];
        }
        if (random_other) {
            word = (word & chan_bits) | (static_cast<uint32_t>(rng()) & ~chan_bits);
        }
        uint8_t buf[4];
        if (s.bytes == 4) {
            std::memcpy(buf, &word, 4);
        } else {
            const auto w16 = static_cast<uint16_t>(word);
            std::memcpy(buf, &w16, 2);
        }
        row.bytes.insert(row.bytes.end(), buf, buf + s.bytes);
        row.channels.push_back(ch);
    };
    if (exhaustive) {
        for (uint32_t v = 0; v < (1u << (8 * s.bytes)); v++) add(v, false);
        return row;
    }
    add(0, false);
    add(0xffffffff, false);
    for (int c = 0; c < 3; c++) {
        for (uint32_t v = 0; v < (1u << s.bits[c]); v++) {
            add(v << s.pos[c], true);
        }
    }
    for (int i = 0; i < 2000; i++) add(static_cast<uint32_t>(rng()), true);
    return row;
}

void check_pair(uint32_t fmt, const Dst &d, const SourceRow &src)
{
    auto made = PixelConverter::make(fmt, d.pf);
    if (!made) {
        fail_msg("make(0x%08x, %s): %s", fmt, d.name, made.error().message.c_str());
    }
    const PixelConverter &conv = made.value();
    const RefSource s = ref_source(fmt);
    const int db = d.pf.bpp / 8;
    assert_int_equal(conv.src_bytes_per_pixel(), s.bytes);
    assert_int_equal(conv.dst_bytes_per_pixel(), db);
    assert_int_equal(conv.src_bpp(), s.bytes * 8);
    assert_int_equal(conv.dst_bpp(), d.pf.bpp);

    const int n = static_cast<int>(src.channels.size());
    std::vector<uint8_t> out(static_cast<size_t>(n) * db + 1, 0x5a);
    conv.convert(src.bytes.data(), n, out.data());
    assert_int_equal(out.back(), 0x5a); // nothing written past the row

    const uint16_t maxes[3] = {d.pf.red_max, d.pf.green_max, d.pf.blue_max};
    const uint8_t shifts[3] = {d.pf.red_shift, d.pf.green_shift, d.pf.blue_shift};
    const uint32_t mask = channel_mask(d.pf);
    for (int i = 0; i < n; i++) {
        uint32_t want = 0, rgb = 0;
        for (int c = 0; c < 3; c++) {
            const uint32_t v8 = ref_widen(src.channels[i][c], s.bits[c]);
            rgb = rgb << 8 | v8;
            want |= ref_narrow(v8, maxes[c]) << shifts[c];
        }
        const uint32_t got = load_bytes(&out[static_cast<size_t>(i) * db], db, d.pf.big_endian);
        // A plain copy passes x/alpha bits through; everything else must
        // produce exactly the reference, zero padding included.
        const uint32_t cmp = conv.is_copy() ? got & mask : got;
        if (cmp != want) {
            fail_msg("0x%08x -> %s%s pixel %d: got 0x%08x want 0x%08x", fmt, d.name,
                     d.pf.big_endian ? " BE" : " LE", i, got, want);
        }
        const uint8_t *sp = &src.bytes[static_cast<size_t>(i) * s.bytes];
        assert_int_equal(conv.map_pixel(sp), want);
        assert_int_equal(conv.to_rgb888(sp), rgb);
        uint8_t rgbbytes[3] = {static_cast<uint8_t>(rgb >> 16), static_cast<uint8_t>(rgb >> 8),
                               static_cast<uint8_t>(rgb)};
        assert_int_equal(pack_pixel(d.pf, rgbbytes[0], rgbbytes[1], rgbbytes[2]), want);
    }
}

void test_all_formats(void **)
{
    std::mt19937 rng(12345);
    const std::vector<Dst> dsts = destinations();
    for (uint32_t fmt : kSourceFormats) {
        assert_true(is_supported_surface_format(fmt));
        assert_int_equal(surface_bytes_per_pixel(fmt), PIXMAN_FORMAT_BPP(fmt) / 8);
        // 16-bit sources are checked for every possible pixel.
        const SourceRow src = make_source(fmt, PIXMAN_FORMAT_BPP(fmt) == 16, rng);
        for (const Dst &d : dsts) {
            check_pair(fmt, d, src);
        }
    }
}

void test_copy_detection(void **)
{
    const PixelFormat native = PixelFormat::server_default();
    PixelFormat swapped = native;
    swapped.big_endian = !kHostBig;
    auto is_copy = [](uint32_t fmt, const PixelFormat &p) {
        auto c = PixelConverter::make(fmt, p);
        assert_true(c.ok());
        return c->is_copy();
    };
    assert_true(is_copy(PIXMAN_x8r8g8b8, native));
    assert_true(is_copy(PIXMAN_a8r8g8b8, native));
    assert_false(is_copy(PIXMAN_x8r8g8b8, swapped));
    assert_false(is_copy(PIXMAN_x8b8g8r8, native));
    assert_true(is_copy(PIXMAN_x8b8g8r8, pf(32, kHostBig, 255, 255, 255, 0, 8, 16)));
    assert_true(is_copy(PIXMAN_b8g8r8x8, pf(32, kHostBig, 255, 255, 255, 8, 16, 24)));
    assert_true(is_copy(PIXMAN_r5g6b5, pf(16, kHostBig, 31, 63, 31, 11, 5, 0)));
    assert_false(is_copy(PIXMAN_r5g6b5, pf(16, !kHostBig, 31, 63, 31, 11, 5, 0)));
    assert_true(is_copy(PIXMAN_x1r5g5b5, pf(16, kHostBig, 31, 31, 31, 10, 5, 0)));
    assert_false(is_copy(PIXMAN_x8r8g8b8, pf(16, kHostBig, 31, 63, 31, 11, 5, 0)));

    // The copy really is the bytes (QEMU's vnc_write_pixels_copy).
    const uint32_t px[3] = {0x11223344, 0xff000000, 0x00abcdef};
    uint8_t out[12];
    auto c = PixelConverter::make(PIXMAN_a8r8g8b8, native);
    c->convert(reinterpret_cast<const uint8_t *>(px), 3, out);
    assert_memory_equal(out, px, 12);
    c->convert(reinterpret_cast<const uint8_t *>(px), 0, nullptr); // empty row
}

void test_make_errors(void **)
{
    const PixelFormat ok = PixelFormat::server_default();
    for (uint32_t fmt : {uint32_t{PIXMAN_r8g8b8}, uint32_t{PIXMAN_a8}, uint32_t{PIXMAN_a2r10g10b10},
                         uint32_t{PIXMAN_r8g8b8a8}, uint32_t{0}}) {
        assert_false(is_supported_surface_format(fmt));
        auto r = PixelConverter::make(fmt, ok);
        assert_false(r.ok());
    }
    assert_false(PixelConverter::make(PIXMAN_x8r8g8b8, pf(24, false, 255, 255, 255, 16, 8, 0)).ok());
    assert_false(PixelConverter::make(PIXMAN_x8r8g8b8, pf(32, false, 0, 255, 255, 16, 8, 0)).ok());
    assert_false(PixelConverter::make(PIXMAN_x8r8g8b8, pf(32, false, 255, 255, 255, 25, 8, 0)).ok());
    assert_false(PixelConverter::make(PIXMAN_x8r8g8b8, pf(8, false, 7, 7, 3, 0, 3, 7)).ok());
    auto err = PixelConverter::make(PIXMAN_a8, ok);
    assert_string_equal(err.error().message.c_str(), "unsupported surface format 0x08018000");
}

void test_pack_and_store(void **)
{
    const PixelFormat def = pf(32, false, 255, 255, 255, 16, 8, 0);
    assert_int_equal(pack_pixel(def, 0x12, 0x34, 0x56), 0x123456);
    const PixelFormat bgr = PixelFormat::bgr233();
    assert_int_equal(pack_pixel(bgr, 255, 255, 255), 0xff);
    assert_int_equal(pack_pixel(bgr, 0xe0, 0, 0), 7);
    assert_int_equal(pack_pixel(bgr, 0xdf, 0, 0), 6);
    assert_int_equal(pack_pixel(bgr, 0, 0x20, 0), 1 << 3);
    assert_int_equal(pack_pixel(bgr, 0, 0, 0xc0), 3 << 6);

    uint8_t b[4] = {};
    store_pixel(pf(16, true, 31, 63, 31, 11, 5, 0), 0x1234, b);
    assert_int_equal(b[0], 0x12);
    assert_int_equal(b[1], 0x34);
    store_pixel(pf(16, false, 31, 63, 31, 11, 5, 0), 0x1234, b);
    assert_int_equal(b[0], 0x34);
    assert_int_equal(b[1], 0x12);

    io::ByteBuffer buf;
    io::ByteWriter w(buf);
    write_pixel(w, pf(32, true, 255, 255, 255, 16, 8, 0), 0x00a1b2c3);
    write_pixel(w, pf(32, false, 255, 255, 255, 16, 8, 0), 0x00a1b2c3);
    write_pixel(w, bgr, 0x9c);
    const uint8_t want[] = {0x00, 0xa1, 0xb2, 0xc3, 0xc3, 0xb2, 0xa1, 0x00, 0x9c};
    assert_int_equal(buf.size(), sizeof want);
    assert_memory_equal(buf.data().data(), want, sizeof want);
}

void test_colour_map(void **)
{
    io::ByteBuffer buf;
    io::ByteWriter w(buf);
    write_bgr233_colour_map(w);
    assert_int_equal(buf.size(), 6 + 256 * 6);
    const uint8_t *p = buf.data().data();
    const uint8_t header[6] = {1, 0, 0, 0, 1, 0};
    assert_memory_equal(p, header, 6);
    auto u16 = [&](int i) { return static_cast<unsigned>(p[6 + 2 * i] << 8 | p[7 + 2 * i]); };
    for (int i = 0; i < 256; i++) {
        // QEMU's send_color_map(): value << (16 - bits).
        assert_int_equal(u16(3 * i + 0), (i & 7) * 0x2000);
        assert_int_equal(u16(3 * i + 1), ((i >> 3) & 7) * 0x2000);
        assert_int_equal(u16(3 * i + 2), ((i >> 6) & 3) * 0x4000);
    }
    assert_int_equal(u16(3 * 255 + 0), 0xe000);
    assert_int_equal(u16(3 * 255 + 2), 0xc000);
}

} // namespace

int main()
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_all_formats),
        cmocka_unit_test(test_copy_detection),
        cmocka_unit_test(test_make_errors),
        cmocka_unit_test(test_pack_and_store),
        cmocka_unit_test(test_colour_map),
    };
    return cmocka_run_group_tests_name("pixels/pixel-convert", tests, nullptr, nullptr);
}
