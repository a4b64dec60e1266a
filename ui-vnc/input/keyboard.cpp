#include "keyboard.hpp"

#include <xkbcommon/xkbcommon-keysyms.h>
#include <xkbcommon/xkbcommon.h>

#include <algorithm>
#include <cstdarg>

#include "log.hpp"

namespace qvnc::vnc {

namespace {

constexpr unsigned kLedNumLock = 1u << 1;
constexpr unsigned kLedCapsLock = 1u << 2;

// qnums of the keys that matter here.
constexpr uint32_t kQnumCapsLock = 0x3a;
constexpr uint32_t kQnumNumLock = 0x45;
constexpr uint32_t kQnumShiftL = 0x2a;
constexpr uint32_t kQnumShiftR = 0x36;
constexpr uint32_t kQnumCtrlL = 0x1d;
constexpr uint32_t kQnumCtrlR = 0x9d;
constexpr uint32_t kQnumAltL = 0x38;
constexpr uint32_t kQnumAltGr = 0xb8;

// The keypad keys whose meaning Num Lock changes: 7 8 9 / 4 5 6 / 1 2 3 /
// 0 .  (0x47..0x53 without KP- 0x4a and KP+ 0x4e, which QEMU's range
// includes although Num Lock does not affect them).
bool is_numlock_keypad_key(uint32_t qnum)
{
    return qnum >= 0x47 && qnum <= 0x53 && qnum != 0x4a && qnum != 0x4e;
}

// Keysyms a keypad key produces with Num Lock on.  QEMU counts KP_0..KP_9,
// KP_Decimal and KP_Separator; the plain digits and separators (which some
// clients send for the keypad in their extended key events) count too.
bool is_numlock_keysym(uint32_t ks)
{
    return (ks >= XKB_KEY_KP_0 && ks <= XKB_KEY_KP_9) || ks == XKB_KEY_KP_Decimal ||
           ks == XKB_KEY_KP_Separator || (ks >= '0' && ks <= '9') || ks == '.' || ks == ',';
}

bool is_ascii_letter(uint32_t ks)
{
    return (ks >= 'A' && ks <= 'Z') || (ks >= 'a' && ks <= 'z');
}

// A keysym whose key position is fully described by Shift/AltGr: it types a
// character and has no case (case is Caps Lock's business).
bool is_uncased_printable(uint32_t ks)
{
    if (ks >= XKB_KEY_KP_Space && ks <= XKB_KEY_KP_Equal) {
        return false;
    }
    const uint32_t cp = xkb_keysym_to_utf32(ks);
    return cp >= 0x20 && cp != 0x7f && xkb_keysym_to_lower(ks) == ks && xkb_keysym_to_upper(ks) == ks;
}

} // namespace

KeyboardProcessor::KeyboardProcessor(GMainContext *ctx, Options opts, Sink sink, const Logger *logger)
    : ctx_(ctx), opts_(std::move(opts)), sink_(std::move(sink)), logger_(logger)
{
}

KeyboardProcessor::~KeyboardProcessor() = default;

uint64_t KeyboardProcessor::key_id(uint32_t keysym, uint32_t qnum)
{
    return qnum ? qnum : (uint64_t{1} << 32) | keysym;
}

bool KeyboardProcessor::is_down(uint32_t qnum) const
{
    const uint64_t id = key_id(0, qnum);
    return std::any_of(held_.begin(), held_.end(), [&](const Held &h) { return h.id == id; });
}

bool KeyboardProcessor::held_any(std::initializer_list<uint32_t> qnums,
                                 std::initializer_list<uint32_t> keysyms) const
{
    for (const Held &h : held_) {
        if (h.qnum ? std::find(qnums.begin(), qnums.end(), h.qnum) != qnums.end()
                   : std::find(keysyms.begin(), keysyms.end(), h.keysym) != keysyms.end()) {
            return true;
        }
    }
    return false;
}

bool KeyboardProcessor::shift_held() const
{
    return held_any({kQnumShiftL, kQnumShiftR}, {XKB_KEY_Shift_L, XKB_KEY_Shift_R});
}

bool KeyboardProcessor::altgr_held() const
{
    return held_any({kQnumAltGr}, {XKB_KEY_ISO_Level3_Shift, XKB_KEY_Mode_switch});
}

bool KeyboardProcessor::ctrl_or_alt_held() const
{
    return held_any({kQnumCtrlL, kQnumCtrlR, kQnumAltL},
                    {XKB_KEY_Control_L, XKB_KEY_Control_R, XKB_KEY_Alt_L, XKB_KEY_Alt_R, XKB_KEY_Meta_L,
                     XKB_KEY_Meta_R});
}

void KeyboardProcessor::warn(const char *fmt, ...) const
{
    if (!logger_) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    std::string msg = vstrprintf(fmt, ap);
    va_end(ap);
    logger_->warn("vnc", msg);
}

uint32_t KeyboardProcessor::translate(uint32_t keysym, uint32_t qnum, bool down, const Keymap::KeyPress **chosen)
{
    *chosen = nullptr;
    if (!opts_.keymap || (qnum != 0 && !opts_.keymap_overrides_ext_key)) {
        return qnum;
    }
    // As QEMU: A-Z are looked up as a-z (the key is the same; Shift and
    // Caps Lock decide the case).
    uint32_t lsym = keysym >= 'A' && keysym <= 'Z' ? keysym - 'A' + 'a' : keysym;
    auto cands = opts_.keymap->candidates(lsym);
    if (cands.empty()) {
        if (keysym != 0 && warned_keysyms_.size() < 256 && warned_keysyms_.insert(keysym).second) {
            warn("no scancode found for keysym %#x in keymap '%s'", keysym, opts_.keymap->name().c_str());
        }
        return qnum; // an extended key event's own keycode is better than none
    }
    if (down) {
        // Several keys produce the keysym: prefer the one whose modifiers
        // are the ones held now (QEMU's keysym2scancode).
        const bool shift = shift_held(), altgr = altgr_held();
        for (const Keymap::KeyPress &kp : cands) {
            if (kp.shift == shift && kp.altgr == altgr) {
                *chosen = &kp;
                return kp.qnum;
            }
        }
        *chosen = &cands.front();
        return cands.front().qnum;
    }
    // A release: the candidate that is down.
    for (const Keymap::KeyPress &kp : cands) {
        if (is_down(kp.qnum)) {
            return kp.qnum;
        }
    }
    return cands.front().qnum;
}

void KeyboardProcessor::key_event(uint32_t keysym, uint32_t qnum, bool down, bool client_has_led_state)
{
    if (down && queue_.size() >= opts_.max_pending) {
        if (!dropping_) {
            warn("keyboard queue full (%zu events pending), dropping key presses", queue_.size());
            dropping_ = true;
        }
        return;
    }
    const Keymap::KeyPress *chosen = nullptr;
    const uint32_t code = translate(keysym, qnum, down, &chosen);
    if (!down) {
        forward(keysym, code, false);
        return;
    }
    if (opts_.lock_key_sync && !client_has_led_state) {
        sync_locks(keysym, code);
    }
    if (!opts_.fix_modifiers || !chosen || !is_uncased_printable(keysym) || ctrl_or_alt_held()) {
        forward(keysym, code, true);
        return;
    }
    // The keymap says which of Shift and AltGr this key needs for the
    // keysym; make the guest see exactly those around the press.
    std::vector<Event> before, after;
    const bool shift = shift_held(), altgr = altgr_held();
    if (chosen->shift && !shift) {
        before.push_back({XKB_KEY_Shift_L, kQnumShiftL, true});
        after.push_back({XKB_KEY_Shift_L, kQnumShiftL, false});
    } else if (!chosen->shift && shift) {
        for (const Held &h : held_) {
            if (h.qnum == kQnumShiftL || h.qnum == kQnumShiftR ||
                (!h.qnum && (h.keysym == XKB_KEY_Shift_L || h.keysym == XKB_KEY_Shift_R))) {
                before.push_back({h.keysym, h.qnum, false});
                after.push_back({h.keysym, h.qnum, true});
            }
        }
    }
    if (chosen->altgr && !altgr) {
        before.push_back({XKB_KEY_ISO_Level3_Shift, kQnumAltGr, true});
        after.push_back({XKB_KEY_ISO_Level3_Shift, kQnumAltGr, false});
    } else if (!chosen->altgr && altgr) {
        for (const Held &h : held_) {
            if (h.qnum == kQnumAltGr ||
                (!h.qnum && (h.keysym == XKB_KEY_ISO_Level3_Shift || h.keysym == XKB_KEY_Mode_switch))) {
                before.push_back({h.keysym, h.qnum, false});
                after.push_back({h.keysym, h.qnum, true});
            }
        }
    }
    for (const Event &e : before) {
        enqueue(e);
    }
    forward(keysym, code, true);
    for (auto it = after.rbegin(); it != after.rend(); ++it) {
        enqueue(*it); // restored in reverse order
    }
}

void KeyboardProcessor::sync_locks(uint32_t keysym, uint32_t qnum)
{
    // Num Lock: a keypad key whose keysym says which half of the key the
    // user meant (KP_1 needs Num Lock on, KP_End needs it off).
    if (keysym != 0 && is_numlock_keypad_key(qnum)) {
        const bool want = is_numlock_keysym(keysym);
        if (want != ((leds_ & kLedNumLock) != 0)) {
            press_release(XKB_KEY_Num_Lock, kQnumNumLock);
        }
    }
    // Caps Lock: the case of a letter, given Shift, says the lock state.
    if (is_ascii_letter(keysym)) {
        const bool upper = keysym >= 'A' && keysym <= 'Z';
        const bool want = upper != shift_held();
        if (want != ((leds_ & kLedCapsLock) != 0)) {
            press_release(XKB_KEY_Caps_Lock, kQnumCapsLock);
        }
    }
}

void KeyboardProcessor::press_release(uint32_t keysym, uint32_t qnum)
{
    forward(keysym, qnum, true);
    forward(keysym, qnum, false);
}

void KeyboardProcessor::forward(uint32_t keysym, uint32_t qnum, bool down)
{
    const uint64_t id = key_id(keysym, qnum);
    auto it = std::find_if(held_.begin(), held_.end(), [&](const Held &h) { return h.id == id; });
    if (down) {
        if (it == held_.end()) {
            held_.push_back({id, keysym, qnum});
            // The lock toggles on the press; the guest's next LED report
            // replaces the guess.
            if (qnum == kQnumCapsLock || (!qnum && keysym == XKB_KEY_Caps_Lock)) {
                leds_ ^= kLedCapsLock;
            } else if (qnum == kQnumNumLock || (!qnum && keysym == XKB_KEY_Num_Lock)) {
                leds_ ^= kLedNumLock;
            }
        }
        // Held already: auto-repeat, forwarded as QEMU does.
        enqueue({keysym, qnum, true});
        return;
    }
    if (it == held_.end()) {
        return; // the guest never saw this key go down
    }
    // The release carries the keysym of the press, so the pair matches
    // for emulators that look at keysyms.
    const Event ev{it->keysym, qnum, false};
    held_.erase(it);
    enqueue(ev);
}

void KeyboardProcessor::set_led_state(unsigned leds)
{
    leds_ = leds & 7;
}

void KeyboardProcessor::reset()
{
    // Most recent first, so modifiers go up after the keys they modify.
    std::vector<Held> held = std::move(held_);
    held_.clear();
    for (auto it = held.rbegin(); it != held.rend(); ++it) {
        enqueue({it->keysym, it->qnum, false});
    }
}

void KeyboardProcessor::enqueue(const Event &ev)
{
    if (opts_.key_delay_ms == 0) {
        queue_.push_back(ev);
        if (!in_delivery_) {
            while (!queue_.empty()) {
                Event e = queue_.front();
                queue_.pop_front();
                deliver(e);
            }
            dropping_ = false;
        }
        return;
    }
    const int64_t now = g_get_monotonic_time();
    const int64_t delay_us = int64_t{opts_.key_delay_ms} * 1000;
    if (queue_.empty() && !timer_ && !in_delivery_ && (!delivered_any_ || now - last_delivery_us_ >= delay_us)) {
        deliver(ev);
        return;
    }
    queue_.push_back(ev);
    if (!timer_) {
        arm_timer(now);
    }
}

void KeyboardProcessor::deliver(const Event &ev)
{
    in_delivery_ = true;
    if (sink_) {
        sink_(ev.keysym, ev.qnum, ev.down);
    }
    in_delivery_ = false;
    // Taken after the sink returns: the next delivery starts at least one
    // delay after this one ended.
    last_delivery_us_ = g_get_monotonic_time();
    delivered_any_ = true;
}

void KeyboardProcessor::arm_timer(int64_t now)
{
    const int64_t due = last_delivery_us_ + int64_t{opts_.key_delay_ms} * 1000;
    const int64_t wait_us = delivered_any_ ? std::max<int64_t>(0, due - now) : 0;
    const unsigned ms = static_cast<unsigned>((wait_us + 999) / 1000);
    timer_ = io::add_timeout(ctx_, ms, [this] {
        drain();
        return false;
    });
}

void KeyboardProcessor::drain()
{
    // Called from the timer's own callback; glib keeps the source alive
    // until the callback returns.
    timer_.reset();
    const int64_t delay_us = int64_t{opts_.key_delay_ms} * 1000;
    if (!queue_.empty() && (!delivered_any_ || g_get_monotonic_time() - last_delivery_us_ >= delay_us)) {
        Event e = queue_.front();
        queue_.pop_front();
        deliver(e);
    }
    if (!queue_.empty()) {
        arm_timer(g_get_monotonic_time());
    } else {
        dropping_ = false;
    }
}

} // namespace qvnc::vnc
