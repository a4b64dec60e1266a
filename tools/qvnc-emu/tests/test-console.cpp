#include <glib.h>

#include "console-guest.hpp"
#include "event-lines.hpp"
#include "font.hpp"
#include "recording-screen.hpp"

// cmocka last: its fail() macro would break the C++ headers.
#include "cmocka.hpp"

using namespace qvnc_emu;

namespace {

constexpr uint32_t kReturn = 0xff0d;
constexpr uint32_t kBackSpace = 0xff08;
constexpr uint32_t kShiftL = 0xffe1;

// Whether the cell at (row, col) shows `ch` (ink where the glyph has ink).
bool cell_shows(const Canvas &c, int row, int col, char ch)
{
    const Glyph &g = glyph_for(static_cast<unsigned char>(ch));
    const Rgb bg = c.get(col * kGlyphWidth + 7, row * kGlyphHeight); // margins are background
    for (int y = 0; y < kGlyphHeight; ++y) {
        for (int x = 0; x < kGlyphWidth; ++x) {
            const bool ink = !(c.get(col * kGlyphWidth + x, row * kGlyphHeight + y) == bg);
            if (ink != glyph_bit(g, x, y)) {
                return false;
            }
        }
    }
    return true;
}

void type(ConsoleGuest &g, uint32_t keysym)
{
    g.key_event(keysym, 0, true);
    g.key_event(keysym, 0, false);
}

void test_keysyms(void **)
{
    assert_int_equal(keysym_to_char('a'), 'a');
    assert_int_equal(keysym_to_char('~'), '~');
    assert_int_equal(keysym_to_char(0xe9), 0xe9); // eacute
    assert_int_equal(keysym_to_char(0xffb7), '7'); // KP_7
    assert_int_equal(keysym_to_char(0xffab), '+'); // KP_Add
    assert_int_equal(keysym_to_char(0xffae), '.'); // KP_Decimal
    assert_int_equal(keysym_to_char(kReturn), -1);
    assert_int_equal(keysym_to_char(kShiftL), -1);
    assert_int_equal(keysym_to_char(0x1f), -1);
    assert_int_equal(keysym_to_char(0x7f), -1);
}

void test_start_shows_frame_cursor_and_tablet(void **)
{
    RecordingScreen screen;
    Options options;
    options.name = "vm1";
    ConsoleGuest g(options, screen);
    g.start();
    assert_int_equal(screen.shows, 1);
    assert_ptr_equal(screen.shown, &g.frame());
    assert_int_equal(g.frame().width(), 1024);
    assert_int_equal(g.frame().height(), 768);
    assert_true(screen.absolute);
    assert_true(screen.cursor.width > 0 && screen.cursor.argb.size() ==
                static_cast<size_t>(screen.cursor.width * screen.cursor.height));
    assert_true(screen.updates.empty()); // the first frame is the surface itself
    // Banner: " qvnc-emu console guest - vm1"
    assert_true(cell_shows(g.frame(), 0, 1, 'q'));
    assert_true(cell_shows(g.frame(), 0, 26, 'v'));
}

void test_typing_shows_and_damages_only_cells(void **)
{
    RecordingScreen screen;
    Options options;
    ConsoleGuest g(options, screen);
    g.start();
    // Row 2 holds the greeting, row 3 the prompt "> ".
    assert_true(cell_shows(g.frame(), 3, 0, '>'));
    type(g, 'h');
    type(g, kShiftL);
    type(g, 'i');
    assert_string_equal(g.input().c_str(), "hi");
    assert_true(cell_shows(g.frame(), 3, 2, 'h'));
    assert_true(cell_shows(g.frame(), 3, 3, 'i'));
    for (const Rect &r : screen.updates) {
        // Status-line counter digits or a few prompt cells, never more.
        assert_true(r.h == kGlyphHeight);
        assert_true(r.y == 16 || r.y == 3 * 16);
        assert_true(r.w <= 3 * kGlyphWidth);
    }
    type(g, kBackSpace);
    assert_string_equal(g.input().c_str(), "h");
    assert_true(cell_shows(g.frame(), 3, 2, 'h'));
    type(g, kReturn);
    assert_string_equal(g.input().c_str(), "");
    assert_true(cell_shows(g.frame(), 3, 2, 'h'));  // the committed line
    assert_true(cell_shows(g.frame(), 4, 0, '>'));  // the new prompt
}

void test_log_scrolls(void **)
{
    RecordingScreen screen;
    Options options;
    options.size = Size{160, 96}; // 20 x 6 cells: 4 log rows
    ConsoleGuest g(options, screen);
    g.start();
    for (char c : std::string("abcdefg")) {
        type(g, static_cast<uint32_t>(c));
        type(g, kReturn);
    }
    // Rows 2..4 hold the last three lines, row 5 the prompt.
    assert_true(cell_shows(g.frame(), 2, 2, 'e'));
    assert_true(cell_shows(g.frame(), 4, 2, 'g'));
    assert_true(cell_shows(g.frame(), 5, 0, '>'));
    // Long input wraps instead of running off the row.
    for (int i = 0; i < 30; ++i) {
        type(g, 'x');
    }
    assert_true(g.input().size() < 20);
}

void test_pointer_updates_status_line_only(void **)
{
    RecordingScreen screen;
    Options options;
    ConsoleGuest g(options, screen);
    g.start();
    for (int i = 0; i < 20; ++i) {
        g.pointer_event(100 + i, 200, 0);
    }
    assert_false(screen.updates.empty());
    for (const Rect &r : screen.updates) {
        assert_int_equal(r.y, 16);
        assert_int_equal(r.h, 16);
    }
    screen.updates.clear();
    g.pointer_event(10, 20, QVNC_BUTTON_LEFT);   // logged: pressed
    g.pointer_event(10, 20, 0);                  // logged: released
    bool log_changed = false;
    for (const Rect &r : screen.updates) {
        log_changed = log_changed || r.y >= 32;
    }
    assert_true(log_changed);
    g.cut_text("clip\nboard");
    assert_false(g.desktop_resize(800, 600));
}

void test_stopped_console_never_changes(void **)
{
    RecordingScreen screen;
    Options options;
    options.start_stopped = true;
    ConsoleGuest g(options, screen);
    g.start();
    type(g, 'a');
    g.pointer_event(1, 2, 1);
    g.cut_text("x");
    assert_true(screen.updates.empty());
    assert_string_equal(g.input().c_str(), "");
}

void test_clock_ticks_and_damages_only_itself(void **)
{
    RecordingScreen screen;
    Options options;
    ConsoleGuest g(options, screen);
    g.start();
    GMainLoop *loop = g_main_loop_new(nullptr, FALSE);
    g_timeout_add(
        2100, +[](gpointer l) -> gboolean {
            g_main_loop_quit(static_cast<GMainLoop *>(l));
            return G_SOURCE_REMOVE;
        },
        loop);
    g_main_loop_run(loop);
    g_main_loop_unref(loop);
    assert_true(screen.updates.size() >= 1);
    for (const Rect &r : screen.updates) {
        assert_int_equal(r.y, 0);
        assert_int_equal(r.h, 16);
        assert_true(r.x >= 1024 - 10 * 8); // the clock's cells
    }
}

void test_event_lines(void **)
{
    assert_string_equal(key_line(0x61, 0x1e, true).c_str(), "INPUT key keysym=0x61 qnum=0x1e down=1");
    assert_string_equal(pointer_line(5, 7, 0x11).c_str(), "INPUT pointer x=5 y=7 buttons=0x11");
    assert_string_equal(cut_text_line("a b\n\\\xc3\xa9").c_str(),
                        "INPUT cut-text len=7 text=a b\\x0a\\x5c\\xc3\\xa9");
    assert_string_equal(resize_request_line(800, 600).c_str(), "RESIZE-REQUEST 800x600");
    qvnc_client_info info{};
    info.struct_size = sizeof info;
    info.host = "127.0.0.1";
    info.service = "41234";
    info.family = "ipv4";
    assert_string_equal(client_line(QVNC_CLIENT_CONNECTED, info, "default").c_str(),
                        "CLIENT connected host=127.0.0.1 service=41234");
    info.sasl_username = "alice smith";
    assert_string_equal(client_line(QVNC_CLIENT_INITIALIZED, info, "default").c_str(),
                        "CLIENT initialized host=127.0.0.1 service=41234 family=ipv4 websocket=0 display=default "
                        "sasl-username=alice\\x20smith");
    assert_string_equal(client_line(QVNC_CLIENT_DISCONNECTED, info, "vnc2").c_str(),
                        "CLIENT disconnected host=127.0.0.1 service=41234 display=vnc2");
}

} // namespace

int main()
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keysyms),
        cmocka_unit_test(test_start_shows_frame_cursor_and_tablet),
        cmocka_unit_test(test_typing_shows_and_damages_only_cells),
        cmocka_unit_test(test_log_scrolls),
        cmocka_unit_test(test_pointer_updates_status_line_only),
        cmocka_unit_test(test_stopped_console_never_changes),
        cmocka_unit_test(test_clock_ticks_and_damages_only_itself),
        cmocka_unit_test(test_event_lines),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
