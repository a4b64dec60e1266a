#include <cstring>

#include "pattern-guest.hpp"
#include "pattern.hpp"
#include "recording-screen.hpp"

// cmocka last: its fail() macro would break the C++ headers.
#include "cmocka.hpp"

using namespace qvnc_emu;

namespace {

bool same_pixels(const Canvas &a, const Canvas &b)
{
    if (a.width() != b.width() || a.height() != b.height() || a.stride() != b.stride()) {
        return false;
    }
    const size_t row_bytes = static_cast<size_t>(a.width() * bytes_per_pixel(a.format()));
    for (int y = 0; y < a.height(); ++y) {
        if (std::memcmp(a.row(y), b.row(y), row_bytes) != 0) {
            return false;
        }
    }
    return true;
}

// Drawing only the damage of each step must give exactly the full picture:
// this is what proves the damage is complete.
void check_incremental(int w, int h, PixelFormat format, uint64_t frames)
{
    const PatternLayout layout = pattern_layout(w, h);
    Canvas incremental(w, h, format);
    render_pattern(incremental, layout, 0, incremental.bounds());
    for (uint64_t f = 1; f <= frames; ++f) {
        for (const Rect &r : pattern_damage(layout, f)) {
            assert_false(r.empty());
            assert_true(r.x >= 0 && r.y >= 0 && r.x + r.w <= w && r.y + r.h <= h);
            render_pattern(incremental, layout, f, r);
        }
        if (f % 37 == 0 || f == frames) {
            Canvas full(w, h, format);
            render_pattern(full, layout, f, full.bounds());
            if (!same_pixels(incremental, full)) {
                fail_msg("%dx%d %s: frame %llu differs from its incremental rendering", w, h,
                         pixel_format_name(format), static_cast<unsigned long long>(f));
            }
        }
    }
}

void test_damage_is_complete(void **)
{
    check_incremental(320, 240, PixelFormat::X8R8G8B8, 300);
    check_incremental(1024, 768, PixelFormat::X8R8G8B8, 40);
    check_incremental(200, 150, PixelFormat::R5G6B5, 120);
    check_incremental(97, 61, PixelFormat::B8G8R8X8, 120);
    check_incremental(33, 17, PixelFormat::X8B8G8R8, 50);
    check_incremental(3, 2, PixelFormat::A8R8G8B8, 10);
}

void test_damage_is_small(void **)
{
    const PatternLayout layout = pattern_layout(1024, 768);
    for (uint64_t f = 1; f < 50; ++f) {
        long area = 0;
        for (const Rect &r : pattern_damage(layout, f)) {
            area += static_cast<long>(r.w) * r.h;
        }
        assert_true(area > 0);
        assert_true(area <= 2 * 64 * 64 + 40 * 8 * 16);
    }
    assert_int_equal(pattern_damage(layout, 0).size(), 1); // frame 0: everything
}

void test_deterministic(void **)
{
    const PatternLayout layout = pattern_layout(640, 480);
    const PatternFrame a(layout, 42);
    const PatternFrame b(layout, 42);
    const PatternFrame c(layout, 43);
    bool differs = false;
    for (int y = 0; y < 480; y += 3) {
        for (int x = 0; x < 640; x += 3) {
            assert_true(a.pixel(x, y) == b.pixel(x, y));
            differs = differs || !(a.pixel(x, y) == c.pixel(x, y));
        }
    }
    assert_true(differs);
    assert_string_equal(pattern_text(layout, 42).c_str(), "qvnc-emu pattern 640x480 frame 00000042");
    // Top-left is the white bar, the 1-px checker alternates.
    assert_true((a.pixel(0, 0) == Rgb{0xff, 0xff, 0xff}));
    const int y = layout.height - 1;
    assert_false(a.pixel(0, y) == a.pixel(1, y));
}

void test_guest_animates_and_resizes(void **)
{
    RecordingScreen screen;
    Options options;
    options.guest = GuestKind::Pattern;
    options.format = PixelFormat::R5G6B5;
    PatternGuest guest(options, screen);
    guest.start();
    assert_int_equal(screen.shows, 1);
    assert_ptr_equal(screen.shown, &guest.frame());
    assert_int_equal(guest.frame().width(), 1024);
    assert_true(guest.frame().format() == PixelFormat::R5G6B5);
    guest.advance();
    assert_int_equal(guest.frame_number(), 1);
    assert_true(screen.updates.size() >= 2);
    guest.resize(Size{800, 600});
    assert_int_equal(screen.shows, 2);
    assert_int_equal(guest.frame().width(), 800);
    assert_int_equal(guest.frame().height(), 600);
    assert_ptr_equal(screen.shown, &guest.frame());
    assert_true(guest.desktop_resize(640, 480));
    assert_false(guest.desktop_resize(0, 480));
    assert_false(guest.desktop_resize(640, 100000));
}

void test_stopped_guest_does_not_change(void **)
{
    RecordingScreen screen;
    Options options;
    options.start_stopped = true;
    PatternGuest guest(options, screen);
    guest.start(); // no timers when stopped
    assert_int_equal(screen.shows, 1);
    assert_true(screen.updates.empty());
    assert_true(guest.desktop_resize(640, 480)); // taken, but never acted on
}

} // namespace

int main()
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_damage_is_complete),
        cmocka_unit_test(test_damage_is_small),
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_guest_animates_and_resizes),
        cmocka_unit_test(test_stopped_guest_does_not_change),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
