// KeyboardProcessor: keymap translation, extended key events, lock-key-sync,
// key-delay-ms on a real GMainContext, the bounded queue and reset().
#include <glib.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "keyboard.hpp"
#include "keymap.hpp"
#include "log.hpp"

// Last: cmocka defines macros (fail) that clash with the standard headers.
#include "cmocka.hpp"

using qvnc::vnc::Keymap;
using qvnc::vnc::KeyboardProcessor;

namespace {

constexpr uint32_t kShiftL = 0xffe1, kCapsLock = 0xffe5, kNumLock = 0xff7f, kAltGr = 0xfe03;
constexpr uint32_t kKP1 = 0xffb1, kKPEnd = 0xff9c, kKPSubtract = 0xffad;

std::shared_ptr<const Keymap> g_us, g_de, g_fr;

struct Ev {
    uint32_t keysym;
    uint32_t qnum;
    bool down;
    int64_t t = 0;
};

// Each test's processor, context and recorded events, owned by the fixture
// so that a failed assertion leaks nothing.
struct Fixture {
    GMainContext *ctx = nullptr;
    std::vector<Ev> evs;
    std::vector<std::string> warnings;
    qvnc::Logger logger;
    std::unique_ptr<KeyboardProcessor> kp;

    KeyboardProcessor &make(KeyboardProcessor::Options o)
    {
        kp = std::make_unique<KeyboardProcessor>(
            ctx, std::move(o),
            [this](uint32_t ks, uint32_t q, bool d) { evs.push_back({ks, q, d, g_get_monotonic_time()}); }, &logger);
        return *kp;
    }
    // Runs the context until `n` events arrived (or 5 s passed).
    void run_until(size_t n)
    {
        const int64_t end = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
        while (evs.size() < n && g_get_monotonic_time() < end) {
            g_main_context_iteration(ctx, TRUE);
        }
    }
    void run_for_ms(int ms)
    {
        const int64_t end = g_get_monotonic_time() + ms * 1000;
        while (g_get_monotonic_time() < end) {
            g_main_context_iteration(ctx, FALSE);
            g_usleep(500);
        }
    }
};

void log_cb(void *opaque, qvnc_log_level, const char *, const char *msg)
{
    static_cast<Fixture *>(opaque)->warnings.push_back(msg);
}

int setup(void **state)
{
    auto *f = new Fixture;
    f->ctx = g_main_context_new();
    f->logger.set_handler(log_cb, f);
    *state = f;
    return 0;
}

int teardown(void **state)
{
    auto *f = static_cast<Fixture *>(*state);
    f->kp.reset();
    // Nothing may fire once the processor is gone.
    while (g_main_context_iteration(f->ctx, FALSE)) {
    }
    g_main_context_unref(f->ctx);
    delete f;
    return 0;
}

int group_setup(void **)
{
    for (auto [name, dst] : {std::pair{"en-us", &g_us}, std::pair{"de", &g_de}, std::pair{"fr", &g_fr}}) {
        auto r = Keymap::load(name);
        if (!r.ok()) {
            return -1;
        }
        *dst = std::make_shared<const Keymap>(std::move(r).value());
    }
    return 0;
}

int group_teardown(void **)
{
    g_us.reset();
    g_de.reset();
    g_fr.reset();
    return 0;
}

KeyboardProcessor::Options immediate(std::shared_ptr<const Keymap> km = nullptr)
{
    KeyboardProcessor::Options o;
    o.keymap = std::move(km);
    o.key_delay_ms = 0;
    return o;
}

// Compares the recorded events (keysym, qnum, down) with `want`.
void expect_events(const Fixture &f, std::initializer_list<Ev> want)
{
    bool same = f.evs.size() == want.size();
    size_t i = 0;
    for (const Ev &w : want) {
        if (!same) {
            break;
        }
        const Ev &g = f.evs[i++];
        same = g.keysym == w.keysym && g.qnum == w.qnum && g.down == w.down;
    }
    if (!same) {
        print_error("got:\n");
        for (const Ev &g : f.evs) {
            print_error("  %#x %#x %s\n", g.keysym, g.qnum, g.down ? "down" : "up");
        }
        print_error("want:\n");
        for (const Ev &w : want) {
            print_error("  %#x %#x %s\n", w.keysym, w.qnum, w.down ? "down" : "up");
        }
        fail();
    }
}

void tap(KeyboardProcessor &kp, uint32_t keysym, uint32_t qnum = 0, bool led = false)
{
    kp.key_event(keysym, qnum, true, led);
    kp.key_event(keysym, qnum, false, led);
}

void test_passthrough_without_keymap(void **state)
{
    auto &f = *static_cast<Fixture *>(*state);
    auto &kp = f.make(immediate());
    tap(kp, 'a');
    tap(kp, 'b', 0x30);
    expect_events(f, {{'a', 0, true}, {'a', 0, false}, {'b', 0x30, true}, {'b', 0x30, false}});
}

void test_keymap_for_keysym_clients(void **state)
{
    auto &f = *static_cast<Fixture *>(*state);
    auto &kp = f.make(immediate(g_de));
    tap(kp, 'z');
    tap(kp, 'y');
    kp.key_event(kShiftL, 0, true);
    tap(kp, 'Z');
    kp.key_event(kShiftL, 0, false);
    tap(kp, 0x20ac); // € keeps its key (AltGr is the client's business by default)
    expect_events(f, {{'z', 0x15, true}, {'z', 0x15, false}, {'y', 0x2c, true}, {'y', 0x2c, false},
                      {kShiftL, 0x2a, true}, {'Z', 0x15, true}, {'Z', 0x15, false}, {kShiftL, 0x2a, false},
                      {0x20ac, 0x12, true}, {0x20ac, 0x12, false}});

    f.evs.clear();
    auto &fr = f.make(immediate(g_fr));
    tap(fr, 'a');
    tap(fr, 'q');
    tap(fr, '1');
    expect_events(f, {{'a', 0x10, true}, {'a', 0x10, false}, {'q', 0x1e, true}, {'q', 0x1e, false},
                      {'1', 0x02, true}, {'1', 0x02, false}});
}

void test_ext_key_event(void **state)
{
    auto &f = *static_cast<Fixture *>(*state);
    // -k given: QEMU ignores the client's keycode and uses the keymap.
    auto &kp = f.make(immediate(g_de));
    tap(kp, 'z', 0x2c);
    expect_events(f, {{'z', 0x15, true}, {'z', 0x15, false}});

    // No -k (keymap only for keysym clients): the client's keycode wins.
    f.evs.clear();
    auto o = immediate(g_us);
    o.keymap_overrides_ext_key = false;
    auto &kp2 = f.make(o);
    tap(kp2, 'z', 0x15);
    tap(kp2, 'z');
    expect_events(f, {{'z', 0x15, true}, {'z', 0x15, false}, {'z', 0x2c, true}, {'z', 0x2c, false}});
}

void test_unmapped_keysym(void **state)
{
    auto &f = *static_cast<Fixture *>(*state);
    auto &kp = f.make(immediate(g_us));
    tap(kp, 0x20ac);       // not on a US keyboard: qnum 0, keysym still sent
    tap(kp, 0x20ac, 0x12); // an extended key event keeps its own keycode
    tap(kp, 0x20ac);       // warned once only
    expect_events(f, {{0x20ac, 0, true}, {0x20ac, 0, false}, {0x20ac, 0x12, true}, {0x20ac, 0x12, false},
                      {0x20ac, 0, true}, {0x20ac, 0, false}});
    assert_int_equal(f.warnings.size(), 1);
    assert_non_null(strstr(f.warnings[0].c_str(), "no scancode found for keysym 0x20ac"));
}

void test_release_pairs_with_press(void **state)
{
    auto &f = *static_cast<Fixture *>(*state);
    auto &kp = f.make(immediate(g_us));
    // Released without a press: the guest never saw it go down.
    kp.key_event('x', 0, false);
    kp.key_event('x', 0x2d, false);
    expect_events(f, {});
    // Shift+2 then Shift up before 2: the release says '2' but is the same key.
    kp.key_event(kShiftL, 0, true);
    kp.key_event('@', 0, true);
    kp.key_event(kShiftL, 0, false);
    kp.key_event('2', 0, false);
    expect_events(f, {{kShiftL, 0x2a, true}, {'@', 0x03, true}, {kShiftL, 0x2a, false}, {'@', 0x03, false}});
    assert_false(kp.is_down(0x03));
    // Auto-repeat: repeated presses pass, one release.
    f.evs.clear();
    kp.key_event('a', 0, true);
    kp.key_event('a', 0, true);
    assert_true(kp.is_down(0x1e));
    kp.key_event('a', 0, false);
    kp.key_event('a', 0, false);
    expect_events(f, {{'a', 0x1e, true}, {'a', 0x1e, true}, {'a', 0x1e, false}});
}

void test_fix_modifiers(void **state)
{
    auto &f = *static_cast<Fixture *>(*state);
    // Default (QEMU): no modifier dance.
    auto &plain = f.make(immediate(g_de));
    tap(plain, '@');
    expect_events(f, {{'@', 0x10, true}, {'@', 0x10, false}});

    f.evs.clear();
    auto o = immediate(g_de);
    o.fix_modifiers = true;
    auto &kp = f.make(o);
    tap(kp, '@'); // AltGr+q on a German keyboard
    expect_events(f, {{kAltGr, 0xb8, true}, {'@', 0x10, true}, {kAltGr, 0xb8, false}, {'@', 0x10, false}});

    // A US client holds Shift for '@': Shift goes up around AltGr+q.
    f.evs.clear();
    kp.key_event(kShiftL, 0, true);
    tap(kp, '@');
    kp.key_event(kShiftL, 0, false);
    expect_events(f, {{kShiftL, 0x2a, true},
                      {kShiftL, 0x2a, false},
                      {kAltGr, 0xb8, true},
                      {'@', 0x10, true},
                      {kAltGr, 0xb8, false},
                      {kShiftL, 0x2a, true},
                      {'@', 0x10, false},
                      {kShiftL, 0x2a, false}});

    // Letters keep the client's Shift (case is Caps Lock/Shift business),
    // and so do shortcuts with Ctrl.
    f.evs.clear();
    kp.key_event(kShiftL, 0, true);
    tap(kp, 'Y');
    kp.key_event(kShiftL, 0, false);
    expect_events(f, {{kShiftL, 0x2a, true}, {'Y', 0x2c, true}, {'Y', 0x2c, false}, {kShiftL, 0x2a, false}});

    // French digits need Shift.
    f.evs.clear();
    auto ofr = immediate(g_fr);
    ofr.fix_modifiers = true;
    auto &fr = f.make(ofr);
    tap(fr, '1');
    tap(fr, '&');
    expect_events(f, {{kShiftL, 0x2a, true}, {'1', 0x02, true}, {kShiftL, 0x2a, false}, {'1', 0x02, false},
                      {'&', 0x02, true}, {'&', 0x02, false}});
}

void test_caps_lock_sync(void **state)
{
    auto &f = *static_cast<Fixture *>(*state);
    auto &kp = f.make(immediate(g_us));
    tap(kp, 'a'); // guest Caps Lock off, lowercase: nothing to do
    expect_events(f, {{'a', 0x1e, true}, {'a', 0x1e, false}});

    // Uppercase without Shift: the client has Caps Lock on, the guest not.
    f.evs.clear();
    tap(kp, 'A');
    expect_events(f, {{kCapsLock, 0x3a, true}, {kCapsLock, 0x3a, false}, {'A', 0x1e, true}, {'A', 0x1e, false}});
    assert_int_equal(kp.led_state() & 4, 4);

    // The press is assumed to have toggled the lock: no second injection.
    f.evs.clear();
    tap(kp, 'B');
    expect_events(f, {{'B', 0x30, true}, {'B', 0x30, false}});

    // The guest reports Caps Lock on; Shift+'A' means the client's lock is off.
    f.evs.clear();
    kp.set_led_state(4);
    kp.key_event(kShiftL, 0, true);
    tap(kp, 'A');
    kp.key_event(kShiftL, 0, false);
    expect_events(f, {{kShiftL, 0x2a, true},
                      {kCapsLock, 0x3a, true},
                      {kCapsLock, 0x3a, false},
                      {'A', 0x1e, true},
                      {'A', 0x1e, false},
                      {kShiftL, 0x2a, false}});
    assert_int_equal(kp.led_state() & 4, 0);

    // Shift + lowercase with the guest's lock on: consistent, nothing added.
    f.evs.clear();
    kp.set_led_state(4);
    kp.key_event(kShiftL, 0, true);
    tap(kp, 'a');
    kp.key_event(kShiftL, 0, false);
    expect_events(f, {{kShiftL, 0x2a, true}, {'a', 0x1e, true}, {'a', 0x1e, false}, {kShiftL, 0x2a, false}});

    // A client with the LED state extension syncs itself.
    f.evs.clear();
    kp.set_led_state(0);
    tap(kp, 'A', 0, true);
    expect_events(f, {{'A', 0x1e, true}, {'A', 0x1e, false}});

    // Without a keymap the injected press still carries qnum 0x3a.
    f.evs.clear();
    auto &nokm = f.make(immediate());
    tap(nokm, 'Q');
    expect_events(f, {{kCapsLock, 0x3a, true}, {kCapsLock, 0x3a, false}, {'Q', 0, true}, {'Q', 0, false}});

    // lock-key-sync=off
    f.evs.clear();
    auto o = immediate(g_us);
    o.lock_key_sync = false;
    auto &off = f.make(o);
    tap(off, 'A');
    expect_events(f, {{'A', 0x1e, true}, {'A', 0x1e, false}});
}

void test_user_caps_lock_press_tracked(void **state)
{
    auto &f = *static_cast<Fixture *>(*state);
    auto &kp = f.make(immediate(g_us));
    // The user presses Caps Lock in the client: forwarded, and the lock is
    // then assumed on, so 'A' needs nothing.
    tap(kp, kCapsLock);
    tap(kp, 'A');
    expect_events(f, {{kCapsLock, 0x3a, true}, {kCapsLock, 0x3a, false}, {'A', 0x1e, true}, {'A', 0x1e, false}});
}

void test_num_lock_sync(void **state)
{
    auto &f = *static_cast<Fixture *>(*state);
    auto &kp = f.make(immediate(g_us));
    // KP_1 with the guest's Num Lock off.
    tap(kp, kKP1);
    expect_events(f, {{kNumLock, 0x45, true}, {kNumLock, 0x45, false}, {kKP1, 0x4f, true}, {kKP1, 0x4f, false}});
    assert_int_equal(kp.led_state() & 2, 2);

    // KP_End on the same key with Num Lock on: turn it off.
    f.evs.clear();
    kp.set_led_state(2);
    tap(kp, kKPEnd);
    expect_events(f,
                  {{kNumLock, 0x45, true}, {kNumLock, 0x45, false}, {kKPEnd, 0x4f, true}, {kKPEnd, 0x4f, false}});

    // KP_Subtract does not depend on Num Lock.
    f.evs.clear();
    kp.set_led_state(2);
    tap(kp, kKPSubtract);
    kp.set_led_state(0);
    tap(kp, kKPSubtract);
    expect_events(f, {{kKPSubtract, 0x4a, true}, {kKPSubtract, 0x4a, false}, {kKPSubtract, 0x4a, true},
                      {kKPSubtract, 0x4a, false}});

    // Extended key event clients without LED state: same, from their keycode.
    f.evs.clear();
    auto &nokm = f.make(immediate());
    tap(nokm, kKP1, 0x4f);
    expect_events(f, {{kNumLock, 0x45, true}, {kNumLock, 0x45, false}, {kKP1, 0x4f, true}, {kKP1, 0x4f, false}});
    // ... but not when they negotiated LED state.
    f.evs.clear();
    nokm.set_led_state(0);
    tap(nokm, kKP1, 0x4f, true);
    expect_events(f, {{kKP1, 0x4f, true}, {kKP1, 0x4f, false}});
    // A keysym-only client without a keymap has no key to judge by.
    f.evs.clear();
    tap(nokm, kKP1);
    expect_events(f, {{kKP1, 0, true}, {kKP1, 0, false}});
}

void test_reset_releases(void **state)
{
    auto &f = *static_cast<Fixture *>(*state);
    auto &kp = f.make(immediate(g_us));
    kp.key_event(kShiftL, 0, true);
    kp.key_event(0xffe3, 0, true); // Control_L
    kp.key_event('a', 0, true);
    kp.key_event('b', 0x30, true);
    kp.key_event(0x1234567, 0, true); // unmapped: tracked by keysym
    f.evs.clear();
    kp.reset();
    expect_events(f, {{0x1234567, 0, false},
                      {'b', 0x30, false},
                      {'a', 0x1e, false},
                      {0xffe3, 0x1d, false},
                      {kShiftL, 0x2a, false}});
    assert_false(kp.is_down(0x2a));
    // Nothing left: a second reset and late releases send nothing.
    f.evs.clear();
    kp.reset();
    kp.key_event('a', 0, false);
    kp.key_event(kShiftL, 0, false);
    expect_events(f, {});
}

void test_key_delay_spacing(void **state)
{
    auto &f = *static_cast<Fixture *>(*state);
    KeyboardProcessor::Options o;
    o.keymap = g_us;
    o.key_delay_ms = 15;
    auto &kp = f.make(o);
    const char *text = "qvnc";
    for (const char *p = text; *p; p++) {
        kp.key_event(static_cast<uint8_t>(*p), 0, true);
        kp.key_event(static_cast<uint8_t>(*p), 0, false);
    }
    // The first event goes out at once, the rest wait for the timer.
    assert_int_equal(f.evs.size(), 1);
    assert_int_equal(kp.pending(), 7);
    f.run_until(8);
    assert_int_equal(kp.pending(), 0);
    expect_events(f, {{'q', 0x10, true}, {'q', 0x10, false}, {'v', 0x2f, true}, {'v', 0x2f, false},
                      {'n', 0x31, true}, {'n', 0x31, false}, {'c', 0x2e, true}, {'c', 0x2e, false}});
    for (size_t i = 1; i < f.evs.size(); i++) {
        const int64_t gap = f.evs[i].t - f.evs[i - 1].t;
        if (gap < 15000) {
            print_error("events %zu-%zu only %lld us apart\n", i - 1, i, static_cast<long long>(gap));
            fail();
        }
    }

    // After a quiet period the next event goes out immediately; one right
    // behind it waits for the delay.
    f.run_for_ms(30);
    const size_t n = f.evs.size();
    kp.key_event('x', 0, true);
    assert_int_equal(f.evs.size(), n + 1);
    kp.key_event('x', 0, false);
    assert_int_equal(f.evs.size(), n + 1);
    assert_int_equal(kp.pending(), 1);
    f.run_until(n + 2);
    assert_int_equal(f.evs.size(), n + 2);
    assert_true(f.evs[n + 1].t - f.evs[n].t >= 15000);
    assert_false(f.evs[n + 1].down);
}

void test_injected_keys_are_spaced(void **state)
{
    auto &f = *static_cast<Fixture *>(*state);
    KeyboardProcessor::Options o;
    o.keymap = g_us;
    o.key_delay_ms = 5;
    auto &kp = f.make(o);
    tap(kp, 'A'); // Caps Lock press + release, then A down/up
    f.run_until(4);
    expect_events(f, {{kCapsLock, 0x3a, true}, {kCapsLock, 0x3a, false}, {'A', 0x1e, true}, {'A', 0x1e, false}});
    for (size_t i = 1; i < f.evs.size(); i++) {
        assert_true(f.evs[i].t - f.evs[i - 1].t >= 5000);
    }
}

void test_queue_bound(void **state)
{
    auto &f = *static_cast<Fixture *>(*state);
    KeyboardProcessor::Options o;
    o.keymap = g_us;
    o.key_delay_ms = 2;
    o.max_pending = 4;
    o.lock_key_sync = false;
    auto &kp = f.make(o);
    const char *keys = "abcdefghij";
    for (const char *p = keys; *p; p++) {
        kp.key_event(static_cast<uint8_t>(*p), 0, true);
    }
    // 'a' delivered, b..e queued, f..j dropped.
    assert_int_equal(kp.pending(), 4);
    assert_true(kp.is_down(0x1e));  // a
    assert_true(kp.is_down(0x12));  // e
    assert_false(kp.is_down(0x21)); // f
    assert_int_equal(f.warnings.size(), 1);
    assert_non_null(strstr(f.warnings[0].c_str(), "dropping key presses"));
    // Releases are never dropped; those of dropped presses are not sent.
    for (const char *p = keys; *p; p++) {
        kp.key_event(static_cast<uint8_t>(*p), 0, false);
    }
    assert_int_equal(kp.pending(), 9);
    f.run_until(10);
    assert_int_equal(f.evs.size(), 10);
    for (size_t i = 0; i < 5; i++) {
        assert_true(f.evs[i].down);
        assert_int_equal(f.evs[i].keysym, 'a' + i);
        assert_false(f.evs[5 + i].down);
        assert_int_equal(f.evs[5 + i].keysym, 'a' + i);
    }
    // Once drained, presses are accepted again.
    kp.key_event('z', 0, true);
    f.run_until(11);
    assert_int_equal(f.evs.size(), 11);
    assert_int_equal(f.evs[10].qnum, 0x2c);
}

void test_reset_behind_pending(void **state)
{
    auto &f = *static_cast<Fixture *>(*state);
    KeyboardProcessor::Options o;
    o.keymap = g_us;
    o.key_delay_ms = 3;
    o.lock_key_sync = false; // Shift+'a' would mean Caps Lock on
    auto &kp = f.make(o);
    kp.key_event(kShiftL, 0, true);
    kp.key_event('a', 0, true);
    kp.key_event('b', 0, true);
    kp.reset(); // client gone while presses are still queued
    f.run_until(6);
    expect_events(f, {{kShiftL, 0x2a, true},
                      {'a', 0x1e, true},
                      {'b', 0x30, true},
                      {'b', 0x30, false},
                      {'a', 0x1e, false},
                      {kShiftL, 0x2a, false}});
}

void test_destroy_with_pending(void **state)
{
    auto &f = *static_cast<Fixture *>(*state);
    KeyboardProcessor::Options o;
    o.key_delay_ms = 5;
    auto &kp = f.make(o);
    tap(kp, 'a');
    tap(kp, 'b');
    assert_int_equal(kp.pending(), 3);
    f.kp.reset();
    f.run_for_ms(30); // the timer must not fire into a dead processor
    assert_int_equal(f.evs.size(), 1);
}

} // namespace

int main()
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_passthrough_without_keymap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keymap_for_keysym_clients, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ext_key_event, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unmapped_keysym, setup, teardown),
        cmocka_unit_test_setup_teardown(test_release_pairs_with_press, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fix_modifiers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_caps_lock_sync, setup, teardown),
        cmocka_unit_test_setup_teardown(test_user_caps_lock_press_tracked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_num_lock_sync, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reset_releases, setup, teardown),
        cmocka_unit_test_setup_teardown(test_key_delay_spacing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_injected_keys_are_spaced, setup, teardown),
        cmocka_unit_test_setup_teardown(test_queue_bound, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reset_behind_pending, setup, teardown),
        cmocka_unit_test_setup_teardown(test_destroy_with_pending, setup, teardown),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
