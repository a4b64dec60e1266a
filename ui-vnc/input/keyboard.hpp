// Keyboard input between the VNC clients of one display and the emulator
// (QEMU's ui/vnc.c key_event/ext_key_event/do_key_event plus the QKbdState
// and key delay queue of ui/kbd-state.c and ui/input.c):
//
//  * keysym -> key number through the -k keymap for clients without the
//    QEMU extended key event, and (as QEMU does) for every client when the
//    keymap was given with -k;
//  * lock-key-sync: Caps Lock / Num Lock presses injected when a keysym
//    contradicts the guest's lock state, for clients without the LED state
//    pseudo-encoding;
//  * key-delay-ms: events reach the emulator spaced by at least that much,
//    through a bounded queue drained by a timer on the display's GMainContext;
//  * the keys held down are tracked, releases of keys that are not down are
//    dropped, and reset() releases everything (client disconnect).
#pragma once

#include <glib.h>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <initializer_list>
#include <memory>
#include <unordered_set>
#include <vector>

#include "keymap.hpp"
#include "source-handle.hpp"

namespace qvnc {
class Logger;
}

namespace qvnc::vnc {

class KeyboardProcessor {
public:
    // Receives every event for the emulator, in order, already spaced.
    // qnum 0: no key number known (no keymap, unmapped keysym).
    using Sink = std::function<void(uint32_t keysym, uint32_t qnum, bool down)>;

    struct Options {
        // The keymap for keysym-only clients; null: keysyms pass with qnum 0.
        // QEMU always has one (en-us when -k is absent).
        std::shared_ptr<const Keymap> keymap;
        // QEMU: "if the user specifies a keyboard layout, always use it" --
        // with -k the extended key event's keycode is ignored and its keysym
        // goes through the keymap.  Set it to whether -k was given; false
        // lets the client's keycode win.
        bool keymap_overrides_ext_key = true;
        // key-delay-ms; 0 delivers synchronously.
        unsigned key_delay_ms = 10;
        // lock-key-sync
        bool lock_key_sync = true;
        // Presses beyond this many queued events are dropped (with a log
        // line); releases of held keys are always queued.
        size_t max_pending = 1024;
        // Not QEMU: when a keymap-translated printable keysym needs Shift or
        // AltGr in a state other than the one held, press/release them
        // around the key (for scripted clients that send "@" alone).
        bool fix_modifiers = false;
    };

    // `ctx` runs the delay timer; `logger` may be null.
    KeyboardProcessor(GMainContext *ctx, Options opts, Sink sink, const Logger *logger = nullptr);
    ~KeyboardProcessor();
    KeyboardProcessor(const KeyboardProcessor &) = delete;
    KeyboardProcessor &operator=(const KeyboardProcessor &) = delete;

    // A client key event: RFB KeyEvent (qnum 0) or QEMU extended key event
    // (qnum = the client's keycode).  `client_has_led_state`: the client
    // negotiated the LED state pseudo-encoding, so it keeps its own locks in
    // sync and QEMU does no lock-key-sync for it.
    void key_event(uint32_t keysym, uint32_t qnum, bool down, bool client_has_led_state = false);

    // The guest's LEDs (bit0 ScrollLock, bit1 NumLock, bit2 CapsLock), from
    // the emulator.  Between reports the processor assumes each Caps/Num
    // Lock press it forwards toggles the lock.
    void set_led_state(unsigned leds);
    unsigned led_state() const { return leds_; }

    // Releases every key held down (queued behind pending events).
    void reset();

    // Events waiting for the delay.
    size_t pending() const { return queue_.size(); }
    // Whether a key (by qnum) is down as the guest will see it once the
    // queue has drained.
    bool is_down(uint32_t qnum) const;
    const Options &options() const { return opts_; }

private:
    struct Event {
        uint32_t keysym;
        uint32_t qnum;
        bool down;
    };
    struct Held {
        uint64_t id; // qnum, or (1 << 32) | keysym when qnum is 0
        uint32_t keysym;
        uint32_t qnum;
    };

    static uint64_t key_id(uint32_t keysym, uint32_t qnum);
    uint32_t translate(uint32_t keysym, uint32_t qnum, bool down, const Keymap::KeyPress **chosen);
    void sync_locks(uint32_t keysym, uint32_t qnum);
    void press_release(uint32_t keysym, uint32_t qnum);
    // Updates the held set and lock expectations, then queues.
    void forward(uint32_t keysym, uint32_t qnum, bool down);
    void enqueue(const Event &ev);
    void deliver(const Event &ev);
    void drain();
    void arm_timer(int64_t now);
    bool held_any(std::initializer_list<uint32_t> qnums, std::initializer_list<uint32_t> keysyms) const;
    bool shift_held() const;
    bool altgr_held() const;
    bool ctrl_or_alt_held() const;
    void warn(const char *fmt, ...) const __attribute__((format(printf, 2, 3)));

    GMainContext *ctx_;
    Options opts_;
    Sink sink_;
    const Logger *logger_;
    unsigned leds_ = 0;
    std::vector<Held> held_;
    std::deque<Event> queue_;
    io::SourceHandle timer_;
    int64_t last_delivery_us_ = 0;
    bool delivered_any_ = false;
    bool in_delivery_ = false;
    bool dropping_ = false;
    std::unordered_set<uint32_t> warned_keysyms_;
};

} // namespace qvnc::vnc
