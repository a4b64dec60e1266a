// PixelFormat wire layout and QEMU's SetPixelFormat rules.
#include <bit>
#include <cstring>
#include <vector>

#include "byte-buffer.hpp"
#include "byte-reader.hpp"
#include "byte-writer.hpp"
#include "pixel-format.hpp"

// Last: cmocka defines a fail() macro that clashes with <ios>.
#include "cmocka.hpp"

using namespace qvnc;
using namespace qvnc::vnc;

namespace {

constexpr bool kHostBig = std::endian::native == std::endian::big;

PixelFormat make_pf(uint8_t bpp, uint8_t depth, bool be, bool tc, uint16_t rm, uint16_t gm, uint16_t bm,
                    uint8_t rs, uint8_t gs, uint8_t bs)
{
    PixelFormat pf;
    pf.bpp = bpp;
    pf.depth = depth;
    pf.big_endian = be;
    pf.true_colour = tc;
    pf.red_max = rm;
    pf.green_max = gm;
    pf.blue_max = bm;
    pf.red_shift = rs;
    pf.green_shift = gs;
    pf.blue_shift = bs;
    return pf;
}

void test_wire_layout(void **)
{
    io::ByteBuffer buf;
    io::ByteWriter w(buf);
    make_pf(16, 15, true, true, 31, 0x123, 0xabcd, 10, 5, 0).write(w);
    const uint8_t want[16] = {16, 15, 1, 1, 0x00, 31, 0x01, 0x23, 0xab, 0xcd, 10, 5, 0, 0, 0, 0};
    assert_int_equal(buf.size(), 16);
    assert_memory_equal(buf.data().data(), want, 16);

    io::ByteReader r(buf.data());
    PixelFormat back = PixelFormat::read(r);
    assert_false(r.short_read());
    assert_int_equal(r.consumed(), 16);
    assert_true(back == make_pf(16, 15, true, true, 31, 0x123, 0xabcd, 10, 5, 0));
}

void test_read_flags_and_short(void **)
{
    // Any non-zero flag byte means true; padding content is ignored.
    const uint8_t bytes[16] = {32, 24, 7, 0x80, 0, 255, 0, 255, 0, 255, 16, 8, 0, 9, 9, 9};
    io::ByteReader r(bytes);
    PixelFormat pf = PixelFormat::read(r);
    assert_true(pf.big_endian);
    assert_true(pf.true_colour);
    assert_int_equal(pf.red_shift, 16);

    io::ByteReader short_r(std::span<const uint8_t>(bytes, 15));
    (void)PixelFormat::read(short_r);
    assert_true(short_r.short_read());
}

void test_defaults(void **)
{
    const PixelFormat d = PixelFormat::server_default();
    assert_true(d == make_pf(32, 24, kHostBig, true, 255, 255, 255, 16, 8, 0));
    assert_int_equal(d.bytes_per_pixel(), 4);

    io::ByteBuffer buf;
    io::ByteWriter w(buf);
    d.write(w);
    // What QEMU's pixel_format_message() sends on this host.
    const uint8_t want[16] = {32, 24, kHostBig ? 1 : 0, 1, 0, 255, 0, 255, 0, 255, 16, 8, 0, 0, 0, 0};
    assert_memory_equal(buf.data().data(), want, 16);

    const PixelFormat b = PixelFormat::bgr233();
    assert_true(b == make_pf(8, 8, false, true, 7, 7, 3, 0, 3, 6));
    assert_int_equal(b.bytes_per_pixel(), 1);
    assert_int_equal(make_pf(16, 16, false, true, 31, 63, 31, 11, 5, 0).bytes_per_pixel(), 2);
}

void expect_invalid(const PixelFormat &pf, const char *message)
{
    auto r = sanitize(pf);
    assert_false(r.ok());
    assert_string_equal(r.error().message.c_str(), message);
}

void test_sanitize_bpp(void **)
{
    for (int bpp : {0, 1, 4, 7, 9, 12, 15, 24, 31, 33, 64, 255}) {
        PixelFormat pf = make_pf(static_cast<uint8_t>(bpp), 24, false, true, 1, 1, 1, 0, 1, 2);
        char msg[64];
        snprintf(msg, sizeof msg, "invalid bits-per-pixel %d", bpp);
        expect_invalid(pf, msg);
    }
    // Depth follows QEMU: 24 at 32 bpp, otherwise bpp, whatever was sent.
    auto r32 = sanitize(make_pf(32, 32, true, true, 255, 255, 255, 0, 8, 16));
    assert_true(r32.ok());
    assert_false(r32->send_colour_map);
    assert_true(r32->format == make_pf(32, 24, true, true, 255, 255, 255, 0, 8, 16));
    auto r16 = sanitize(make_pf(16, 15, false, true, 31, 31, 31, 10, 5, 0));
    assert_true(r16.ok());
    assert_true(r16->format == make_pf(16, 16, false, true, 31, 31, 31, 10, 5, 0));
    auto r8 = sanitize(make_pf(8, 6, false, true, 3, 3, 3, 4, 2, 0));
    assert_true(r8.ok());
    assert_true(r8->format == make_pf(8, 8, false, true, 3, 3, 3, 4, 2, 0));
}

void test_sanitize_zero_max(void **)
{
    auto r = sanitize(make_pf(32, 24, false, true, 0, 0, 0, 16, 8, 0));
    assert_true(r.ok());
    assert_int_equal(r->format.red_max, 255);
    assert_int_equal(r->format.green_max, 255);
    assert_int_equal(r->format.blue_max, 255);
    auto one = sanitize(make_pf(32, 24, false, true, 255, 0, 255, 16, 8, 0));
    assert_true(one.ok());
    assert_int_equal(one->format.green_max, 255);
    assert_int_equal(one->format.red_max, 255);
}

void test_sanitize_shift_bounds(void **)
{
    // Exactly filling the pixel is fine.
    assert_true(sanitize(make_pf(32, 24, false, true, 255, 255, 255, 24, 16, 8)).ok());
    assert_true(sanitize(make_pf(16, 16, false, true, 31, 63, 31, 11, 5, 0)).ok());
    assert_true(sanitize(make_pf(8, 8, false, true, 7, 7, 3, 5, 2, 0)).ok());
    assert_true(sanitize(make_pf(32, 24, false, true, 1023, 1023, 1023, 20, 10, 0)).ok());

    expect_invalid(make_pf(32, 24, false, true, 255, 255, 255, 25, 8, 0),
                   "invalid pixel format: red-max 255 with red-shift 25 does not fit in 32 bits");
    expect_invalid(make_pf(16, 16, false, true, 31, 63, 31, 11, 11, 0),
                   "invalid pixel format: green-max 63 with green-shift 11 does not fit in 16 bits");
    expect_invalid(make_pf(8, 8, false, true, 7, 7, 3, 0, 3, 7),
                   "invalid pixel format: blue-max 3 with blue-shift 7 does not fit in 8 bits");
    expect_invalid(make_pf(32, 24, false, true, 255, 255, 255, 200, 8, 0),
                   "invalid pixel format: red-max 255 with red-shift 200 does not fit in 32 bits");
    // A zero max became 255 and must fit as such.
    expect_invalid(make_pf(16, 16, false, true, 0, 63, 31, 11, 5, 0),
                   "invalid pixel format: red-max 255 with red-shift 11 does not fit in 16 bits");
    // 16-bit maxes at 16 bpp.
    expect_invalid(make_pf(16, 16, false, true, 0xffff, 1, 1, 1, 0, 0),
                   "invalid pixel format: red-max 65535 with red-shift 1 does not fit in 16 bits");
}

void test_sanitize_colour_map(void **)
{
    // Colour-map requests become BGR233 before bpp is looked at (QEMU's
    // order), so even a nonsense bpp is accepted then.
    for (int bpp : {8, 16, 24, 32, 0}) {
        auto r = sanitize(make_pf(static_cast<uint8_t>(bpp), 8, false, false, 0, 0, 0, 99, 99, 99));
        assert_true(r.ok());
        assert_true(r->send_colour_map);
        assert_true(r->format == PixelFormat::bgr233());
    }
    auto be = sanitize(make_pf(8, 8, true, false, 7, 7, 3, 0, 3, 6));
    assert_true(be.ok());
    assert_true(be->format.big_endian);
    assert_true(be->format.true_colour);
}

} // namespace

int main()
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wire_layout),
        cmocka_unit_test(test_read_flags_and_short),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_sanitize_bpp),
        cmocka_unit_test(test_sanitize_zero_max),
        cmocka_unit_test(test_sanitize_shift_bounds),
        cmocka_unit_test(test_sanitize_colour_map),
    };
    return cmocka_run_group_tests_name("pixels/pixel-format", tests, nullptr, nullptr);
}
