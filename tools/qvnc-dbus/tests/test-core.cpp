// Unit tests for qvnc-dbus's pure parts: the command line (shared front end
// plus its own options), the framebuffer copy, pointer translation and PCM
// conversion.
#include <cstring>
#include <string>
#include <vector>

#include "audio-format.hpp"
#include "framebuffer.hpp"
#include "options.hpp"
#include "pointer.hpp"

// cmocka last: its fail() macro would break the C++ headers.
#include "cmocka.hpp"

using namespace qvnc_dbus;

namespace {

ParseResult parse(std::vector<const char *> args)
{
    return parse_options(std::span<const char *const>(args.data(), args.size()));
}

void test_front_end_and_own_options(void **)
{
    ParseResult r = parse({"-name", "guest=vm1", "-object", "secret,id=s0,data=pw", "-vnc",
                           "127.0.0.1:0,password-secret=s0", "-qmp", "unix:/tmp/q.sock,server=on,wait=off",
                           "--dbus-address", "unix:path=/tmp/bus", "--console", "2", "-machine", "pc"});
    assert_int_equal(static_cast<int>(r.action), static_cast<int>(qvnc_tools::ParseAction::Run));
    assert_string_equal(r.options.name.c_str(), "vm1");
    assert_int_equal(r.options.objects.size(), 1);
    assert_int_equal(r.options.vnc.size(), 1);
    assert_int_equal(r.options.monitors.size(), 1);
    assert_true(r.options.monitors[0].qmp);
    assert_string_equal(r.options.dbus_address.c_str(), "unix:path=/tmp/bus");
    assert_int_equal(r.options.console, 2);
    assert_int_equal(r.options.ignored.size(), 1); // -machine

    r = parse({"-vnc", ":0", "--console", "x"});
    assert_int_equal(static_cast<int>(r.action), static_cast<int>(qvnc_tools::ParseAction::Fail));
    r = parse({"--console", "1"}); // no -vnc
    assert_int_equal(static_cast<int>(r.action), static_cast<int>(qvnc_tools::ParseAction::Fail));
    r = parse({"-vnc", ":0", "--guest", "pattern"}); // qvnc-emu's, not ours
    assert_int_equal(static_cast<int>(r.action), static_cast<int>(qvnc_tools::ParseAction::Fail));
    assert_string_equal(r.error.c_str(), "--guest: invalid option");
    r = parse({"--help"});
    assert_int_equal(static_cast<int>(r.action), static_cast<int>(qvnc_tools::ParseAction::Help));
}

void test_framebuffer_scanout_and_update(void **)
{
    Framebuffer fb;
    std::string error;
    // 3x2 x8r8g8b8 with a padded stride of 16 bytes.
    std::vector<uint8_t> pixels(16 * 2, 0);
    assert_true(fb.scanout(3, 2, 16, QVNC_FORMAT_X8R8G8B8, pixels, error));
    assert_int_equal(fb.width(), 3);
    assert_int_equal(fb.height(), 2);
    qvnc_surface s = fb.surface();
    assert_int_equal(s.stride, 16);
    assert_int_equal(s.format, QVNC_FORMAT_X8R8G8B8);

    // A 2x1 update at (1,1), its own stride 8; then one reaching past the
    // right edge: clipped, not an error.
    const uint8_t rect[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    assert_true(fb.update(1, 1, 2, 1, 8, QVNC_FORMAT_X8R8G8B8, rect, error));
    s = fb.surface();
    const auto *data = static_cast<const uint8_t *>(s.data);
    assert_memory_equal(data + 16 + 4, rect, 8);
    assert_true(fb.update(2, 0, 2, 1, 8, QVNC_FORMAT_X8R8G8B8, rect, error));
    assert_memory_equal(data + 8, rect, 4);

    // Refused: short data, other format, unknown format, update first.
    assert_false(fb.update(0, 0, 2, 2, 8, QVNC_FORMAT_X8R8G8B8, std::span<const uint8_t>(rect, 8), error));
    assert_false(fb.update(0, 0, 1, 1, 4, QVNC_FORMAT_R5G6B5, rect, error));
    assert_false(fb.scanout(3, 2, 16, 0x12345678u, pixels, error));
    assert_false(fb.scanout(3, 3, 16, QVNC_FORMAT_X8R8G8B8, pixels, error));
    assert_false(fb.scanout(5, 2, 16, QVNC_FORMAT_X8R8G8B8, pixels, error)); // stride < 5*4
    Framebuffer empty;
    assert_false(empty.update(0, 0, 1, 1, 4, QVNC_FORMAT_X8R8G8B8, rect, error));
}

void test_pointer_relative(void **)
{
    PointerTranslator p;
    using K = MouseCall::Kind;
    // The first event only sets the reference point.
    assert_true(p.translate(100, 100, 0, false).empty());
    std::vector<MouseCall> calls = p.translate(110, 95, 0, false);
    assert_int_equal(calls.size(), 1);
    assert_true((calls[0] == MouseCall{K::RelMotion, 10, -5}));
    calls = p.translate(110, 95, 1u | 4u, false);
    assert_int_equal(calls.size(), 2);
    assert_true((calls[0] == MouseCall{K::Press, 0, 0}));
    assert_true((calls[1] == MouseCall{K::Press, 2, 0}));
    calls = p.translate(111, 95, 4u, false);
    assert_int_equal(calls.size(), 2);
    assert_true((calls[0] == MouseCall{K::RelMotion, 1, 0}));
    assert_true((calls[1] == MouseCall{K::Release, 0, 0}));
    // Wheel: RFB presses and releases bit 3 in two events.
    calls = p.translate(111, 95, 4u | 8u, false);
    assert_true((calls.size() == 1 && calls[0] == MouseCall{K::Press, 3, 0}));
    // Horizontal wheel (bits 5, 6) has no D-Bus button.
    assert_true(p.translate(111, 95, 4u | 32u, false).size() == 1); // only the wheel-up release
}

void test_pointer_absolute(void **)
{
    PointerTranslator p;
    using K = MouseCall::Kind;
    std::vector<MouseCall> calls = p.translate(5, 6, 0, true);
    assert_true((calls.size() == 1 && calls[0] == MouseCall{K::SetAbsPosition, 5, 6}));
    assert_true(p.translate(5, 6, 0, true).empty()); // no motion, no change
    calls = p.translate(5, 6, 2u, true);
    assert_true((calls.size() == 1 && calls[0] == MouseCall{K::Press, 1, 0}));
    p.reset();
    calls = p.translate(5, 6, 0, true);
    assert_true((calls.size() == 1 && calls[0] == MouseCall{K::SetAbsPosition, 5, 6}));
}

void test_pcm_to_s16(void **)
{
    std::vector<int16_t> out;
    // U8 mono (QEMU's PC speaker): 0 -> -32768, 128 -> 0, 255 -> 32512.
    PcmFormat u8{8, false, false, 32000, 1, 1, false};
    assert_true(pcm_supported(u8));
    const uint8_t u8_data[] = {0, 128, 255};
    pcm_to_s16(u8, u8_data, out);
    assert_int_equal(out.size(), 3);
    assert_int_equal(out[0], -32768);
    assert_int_equal(out[1], 0);
    assert_int_equal(out[2], 32512);

    // S16 stereo, both byte orders; a trailing partial frame is dropped.
    out.clear();
    PcmFormat le{16, true, false, 44100, 2, 4, false};
    const uint8_t le_data[] = {0x34, 0x12, 0x00, 0x80, 0xff};
    pcm_to_s16(le, le_data, out);
    assert_int_equal(out.size(), 2);
    assert_int_equal(out[0], 0x1234);
    assert_int_equal(out[1], -32768);
    out.clear();
    PcmFormat be = le;
    be.big_endian = true;
    pcm_to_s16(be, le_data, out);
    assert_int_equal(out[0], 0x3412);

    // S32: the top 16 bits; F32: scaled and clamped.
    out.clear();
    PcmFormat s32{32, true, false, 48000, 1, 4, false};
    const uint8_t s32_data[] = {0xff, 0xff, 0x00, 0x40};
    pcm_to_s16(s32, s32_data, out);
    assert_int_equal(out[0], 0x4000);
    out.clear();
    PcmFormat f32{32, true, true, 48000, 1, 4, false};
    const float values[] = {0.5f, -2.0f};
    uint8_t f32_data[sizeof values];
    std::memcpy(f32_data, values, sizeof values);
    pcm_to_s16(f32, f32_data, out);
    assert_int_equal(out[0], 16384);
    assert_int_equal(out[1], -32767);

    // Refused: 24-bit, six channels, inconsistent frame size.
    assert_false(pcm_supported(PcmFormat{24, true, false, 48000, 1, 3, false}));
    assert_false(pcm_supported(PcmFormat{16, true, false, 48000, 6, 12, false}));
    assert_false(pcm_supported(PcmFormat{16, true, false, 48000, 2, 2, false}));
}

} // namespace

int main()
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_front_end_and_own_options),
        cmocka_unit_test(test_framebuffer_scanout_and_update),
        cmocka_unit_test(test_pointer_relative),
        cmocka_unit_test(test_pointer_absolute),
        cmocka_unit_test(test_pcm_to_s16),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
