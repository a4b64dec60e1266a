// -k keymaps built from xkbcommon: the keys and modifiers that the de, fr
// and en-us layouts need for the keysyms a client sends.
#include <linux/input-event-codes.h>

#include <algorithm>
#include <memory>
#include <string>

#include "evdev-qnum.hpp"
#include "keymap.hpp"

// Last: cmocka defines macros (fail) that clash with the standard headers.
#include "cmocka.hpp"

using qvnc::vnc::Keymap;

namespace {

std::unique_ptr<Keymap> g_us, g_de, g_fr;

std::unique_ptr<Keymap> load_or_die(const char *name)
{
    auto r = Keymap::load(name);
    if (!r.ok()) {
        print_error("load %s: %s\n", name, r.error().message.c_str());
        return nullptr;
    }
    return std::make_unique<Keymap>(std::move(r).value());
}

int group_setup(void **)
{
    g_us = load_or_die("en-us");
    g_de = load_or_die("de");
    g_fr = load_or_die("fr");
    return g_us && g_de && g_fr ? 0 : -1;
}

int group_teardown(void **)
{
    g_us.reset();
    g_de.reset();
    g_fr.reset();
    return 0;
}

// Asserts keysym -> (qnum, shift, altgr) as the preferred key.
void expect_key(const Keymap &m, uint32_t keysym, uint32_t qnum, bool shift, bool altgr)
{
    auto kp = m.lookup(keysym);
    if (!kp) {
        print_error("%s: keysym %#x not found\n", m.name().c_str(), keysym);
        fail();
    }
    if (kp->qnum != qnum || kp->shift != shift || kp->altgr != altgr) {
        print_error("%s: keysym %#x -> qnum %#x shift %d altgr %d, want %#x %d %d\n", m.name().c_str(), keysym,
                    kp->qnum, kp->shift, kp->altgr, qnum, shift, altgr);
        fail();
    }
}

void test_evdev_table(void **)
{
    using qvnc::vnc::evdev_to_qnum;
    assert_int_equal(evdev_to_qnum(KEY_ESC), 0x01);
    assert_int_equal(evdev_to_qnum(KEY_A), 0x1e);
    assert_int_equal(evdev_to_qnum(KEY_KPDOT), 0x53);
    assert_int_equal(evdev_to_qnum(KEY_102ND), 0x56);
    assert_int_equal(evdev_to_qnum(KEY_F12), 0x58);
    assert_int_equal(evdev_to_qnum(KEY_KPENTER), 0x9c);
    assert_int_equal(evdev_to_qnum(KEY_RIGHTCTRL), 0x9d);
    assert_int_equal(evdev_to_qnum(KEY_RIGHTALT), 0xb8);
    assert_int_equal(evdev_to_qnum(KEY_RIGHT), 0xcd);
    assert_int_equal(evdev_to_qnum(KEY_DELETE), 0xd3);
    assert_int_equal(evdev_to_qnum(KEY_SYSRQ), 0x54);
    assert_int_equal(evdev_to_qnum(KEY_PAUSE), 0xc6);
    assert_int_equal(evdev_to_qnum(KEY_LEFTMETA), 0xdb);
    assert_int_equal(evdev_to_qnum(KEY_COMPOSE), 0xdd);
    assert_int_equal(evdev_to_qnum(0), 0);
    assert_int_equal(evdev_to_qnum(84), 0);
    assert_int_equal(evdev_to_qnum(100000), 0);
    assert_int_equal(qvnc::vnc::xkb_keycode_to_qnum(KEY_A + 8), 0x1e);
    assert_int_equal(qvnc::vnc::xkb_keycode_to_qnum(3), 0);
}

void test_en_us(void **)
{
    const Keymap &m = *g_us;
    assert_string_equal(m.name().c_str(), "en-us");
    expect_key(m, 'a', 0x1e, false, false);
    expect_key(m, 'A', 0x1e, true, false);
    expect_key(m, 'z', 0x2c, false, false);
    expect_key(m, 'y', 0x15, false, false);
    expect_key(m, 'q', 0x10, false, false);
    expect_key(m, '1', 0x02, false, false);
    expect_key(m, '0', 0x0b, false, false);
    expect_key(m, '@', 0x03, true, false);
    expect_key(m, '!', 0x02, true, false);
    expect_key(m, ' ', 0x39, false, false);
    expect_key(m, 0xff0d, 0x1c, false, false); // Return
    expect_key(m, 0xff1b, 0x01, false, false); // Escape
    expect_key(m, 0xff51, 0xcb, false, false); // Left
    expect_key(m, 0xffff, 0xd3, false, false); // Delete
    expect_key(m, 0xffe1, 0x2a, false, false); // Shift_L
    expect_key(m, 0xffe4, 0x9d, false, false); // Control_R
    expect_key(m, 0xffbe, 0x3b, false, false); // F1
    expect_key(m, 0xff61, 0x54, false, false); // Print
    expect_key(m, 0xff13, 0xc6, false, false); // Pause
    expect_key(m, 0xff09, 0x0f, false, false); // Tab
    expect_key(m, 0xfe20, 0x0f, false, false); // ISO_Left_Tab is looked up as Tab
    expect_key(m, 0xff9c, 0x4f, false, false); // KP_End
    auto kp1 = m.lookup(0xffb1);                // KP_1 needs Num Lock
    assert_true(kp1.has_value());
    assert_int_equal(kp1->qnum, 0x4f);
    assert_true(kp1->numlock);
    assert_false(m.lookup(0x20ac).has_value()); // EuroSign: not on a US keyboard
    assert_false(m.lookup(0).has_value());
    assert_true(m.candidates(0x12345678).empty());
}

void test_de(void **)
{
    const Keymap &m = *g_de;
    expect_key(m, 'y', 0x2c, false, false); // QWERTZ: y and z swap
    expect_key(m, 'z', 0x15, false, false);
    expect_key(m, 'Y', 0x2c, true, false);
    expect_key(m, 'a', 0x1e, false, false);
    expect_key(m, '@', 0x10, false, true);        // AltGr+q
    expect_key(m, 0x20ac, 0x12, false, true);     // EuroSign: AltGr+e
    expect_key(m, 0x10020ac, 0x12, false, true);  // U+20AC as a Unicode keysym
    expect_key(m, 0xe4, 0x28, false, false);      // adiaeresis
    expect_key(m, 0x10000e4, 0x28, false, false); // as a Unicode keysym
    expect_key(m, 0xdf, 0x0c, false, false);      // ssharp
    expect_key(m, '<', 0x56, false, false);       // the 102nd key
    expect_key(m, '>', 0x56, true, false);
    expect_key(m, '"', 0x03, true, false);
    expect_key(m, '{', 0x08, false, true);
    expect_key(m, '\\', 0x0c, false, true);
    expect_key(m, '^', 0x29, false, false); // nodeadkeys: asciicircum, not a dead key
    expect_key(m, 0xfe03, 0xb8, false, false); // ISO_Level3_Shift = AltGr
}

void test_fr(void **)
{
    const Keymap &m = *g_fr;
    expect_key(m, 'a', 0x10, false, false); // AZERTY: a and q swap
    expect_key(m, 'q', 0x1e, false, false);
    expect_key(m, 'z', 0x11, false, false); // z and w swap
    expect_key(m, 'w', 0x2c, false, false);
    expect_key(m, 'm', 0x27, false, false);
    // Digits are the shifted level of the top row.
    for (uint32_t d = 1; d <= 9; d++) {
        expect_key(m, '0' + d, 0x01 + d, true, false);
    }
    expect_key(m, '0', 0x0b, true, false);
    expect_key(m, '&', 0x02, false, false);
    expect_key(m, 0xe9, 0x03, false, false); // eacute
    expect_key(m, 0xe0, 0x0b, false, false); // agrave
    expect_key(m, '@', 0x0b, false, true);   // AltGr+à
    expect_key(m, 0x20ac, 0x12, false, true);
    expect_key(m, '#', 0x04, false, true);
    expect_key(m, '<', 0x56, false, false);
    // '@' is also reachable elsewhere, but AltGr+à comes first.
    assert_true(m.candidates('@').size() >= 1);
    assert_int_equal(m.candidates('@')[0].qnum, 0x0b);
}

void test_unknown_layout(void **)
{
    auto r = Keymap::load("xx");
    assert_false(r.ok());
    assert_string_equal(r.error().message.c_str(), "could not read keymap file: 'xx'");
    assert_int_equal(static_cast<int>(r.error().code), static_cast<int>(qvnc::ErrorCode::NotFound));
    auto e = Keymap::load("");
    assert_false(e.ok());
    assert_string_equal(e.error().message.c_str(), "could not read keymap file: ''");
    // xkb layout names are not QEMU keymap names.
    assert_false(Keymap::load("us").ok());
    assert_false(Keymap::load("DE").ok());
}

void test_all_layouts_load(void **)
{
    auto names = Keymap::known_layouts();
    assert_true(names.size() >= 30);
    for (auto n : {"en-us", "de", "de-ch", "fr", "fr-be", "fr-ca", "fr-ch", "es", "it", "ja", "pt", "pt-br", "sv",
                   "no", "da", "fi", "nl", "pl", "ru", "tr", "hu", "cz", "en-gb"}) {
        assert_true(std::find(names.begin(), names.end(), std::string_view(n)) != names.end());
    }
    for (auto n : names) {
        auto r = Keymap::load(n);
        if (!r.ok()) {
            print_error("%.*s: %s\n", static_cast<int>(n.size()), n.data(), r.error().message.c_str());
            fail();
        }
        assert_true(r->size() > 100);
        expect_key(*r, 0xff0d, 0x1c, false, false); // Return
        expect_key(*r, 0xff1b, 0x01, false, false); // Escape
        expect_key(*r, 0xffe1, 0x2a, false, false); // Shift_L
    }
}

void test_other_layouts(void **)
{
    auto ch = Keymap::load("fr-ch");
    assert_true(ch.ok());
    expect_key(*ch, 'z', 0x15, false, false);
    expect_key(*ch, 0xe8, 0x1a, false, false); // egrave
    expect_key(*ch, '@', 0x03, false, true);
    auto ja = Keymap::load("ja");
    assert_true(ja.ok());
    expect_key(*ja, 0xff23, 0x79, false, false); // Henkan
    expect_key(*ja, 0xff22, 0x7b, false, false); // Muhenkan
    expect_key(*ja, '@', 0x1a, false, false);
    expect_key(*ja, '"', 0x03, true, false);
    auto gb = Keymap::load("en-gb");
    assert_true(gb.ok());
    expect_key(*gb, '@', 0x28, true, false);
    expect_key(*gb, 0xa3, 0x04, true, false); // sterling
}

} // namespace

int main()
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_evdev_table),  cmocka_unit_test(test_en_us),
        cmocka_unit_test(test_de),           cmocka_unit_test(test_fr),
        cmocka_unit_test(test_unknown_layout), cmocka_unit_test(test_all_layouts_load),
        cmocka_unit_test(test_other_layouts),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
