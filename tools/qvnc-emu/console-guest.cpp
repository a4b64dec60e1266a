#include "console-guest.hpp"

#include <glib.h>

#include <array>
#include <cstdio>
#include <memory>

#include "cursor.hpp"
#include "event-lines.hpp"

namespace qvnc_emu {
namespace {

constexpr Size kDefaultSize{1024, 768};

constexpr Rgb kBackground{0x12, 0x16, 0x1e};
constexpr Rgb kText{0xd0, 0xd4, 0xdc};
constexpr Rgb kTyped{0xff, 0xff, 0xff};
constexpr Rgb kEvent{0x80, 0xd0, 0xff};
constexpr Rgb kClipboard{0xff, 0xd0, 0x60};
constexpr Rgb kBannerBg{0x20, 0x50, 0x9c};
constexpr Rgb kBannerFg{0xff, 0xff, 0xff};
constexpr Rgb kStatusBg{0x32, 0x36, 0x40};
constexpr Rgb kStatusFg{0xe8, 0xe8, 0x90};

constexpr int kClockWidth = 10; // " HH:MM:SS "
constexpr std::string_view kPrompt = "> ";

constexpr uint32_t kKeysymBackSpace = 0xff08;
constexpr uint32_t kKeysymTab = 0xff09;
constexpr uint32_t kKeysymReturn = 0xff0d;
constexpr uint32_t kKeysymKpEnter = 0xff8d;

struct ButtonName {
    uint32_t bit;
    const char *name;
};
constexpr std::array<ButtonName, 5> kButtons = {{
    {QVNC_BUTTON_LEFT, "left"},
    {QVNC_BUTTON_MIDDLE, "middle"},
    {QVNC_BUTTON_RIGHT, "right"},
    {QVNC_BUTTON_WHEEL_UP, "wheel-up"},
    {QVNC_BUTTON_WHEEL_DOWN, "wheel-down"},
}};

struct DateTimeUnref {
    void operator()(GDateTime *dt) const { g_date_time_unref(dt); }
};

std::string clock_text()
{
    std::unique_ptr<GDateTime, DateTimeUnref> now(g_date_time_new_now_local());
    if (!now) {
        return "--:--:--";
    }
    char buf[16];
    std::snprintf(buf, sizeof buf, "%02d:%02d:%02d", g_date_time_get_hour(now.get()),
                  g_date_time_get_minute(now.get()), g_date_time_get_second(now.get()));
    return buf;
}

std::string printf_string(const char *fmt, auto... args)
{
    char buf[256];
    std::snprintf(buf, sizeof buf, fmt, args...);
    return buf;
}

} // namespace

int keysym_to_char(uint32_t keysym)
{
    // Latin-1 keysyms are the Latin-1 code points themselves.
    if ((keysym >= 0x20 && keysym <= 0x7e) || (keysym >= 0xa0 && keysym <= 0xff)) {
        return static_cast<int>(keysym);
    }
    // The keypad: KP_Multiply..KP_9 (0xffaa..0xffb9) mirror ASCII '*'..'9'.
    if (keysym >= 0xffaa && keysym <= 0xffb9) {
        return static_cast<int>(keysym - 0xffaa + '*');
    }
    if (keysym == 0xff80) { // KP_Space
        return ' ';
    }
    if (keysym == 0xffbd) { // KP_Equal
        return '=';
    }
    return -1;
}

ConsoleGuest::ConsoleGuest(const Options &options, Screen &screen)
    : screen_(screen), name_(options.name), running_(!options.start_stopped),
      canvas_(options.size.value_or(kDefaultSize).width, options.size.value_or(kDefaultSize).height, options.format),
      grid_(canvas_, kBackground)
{
    add_log_line("Type here: keys, clicks and clipboard text sent by VNC clients show up below.", kText);
    if (!running_) {
        add_log_line("The guest was started stopped (-S): this screen stays still until cont.", kText);
    }
}

void ConsoleGuest::start()
{
    draw_banner();
    draw_clock();
    draw_status();
    draw_log();
    grid_.discard_damage();
    screen_.show(canvas_);
    screen_.set_cursor(make_arrow_cursor());
    screen_.set_pointer_absolute(true);
    if (running_) {
        schedule_clock();
    }
}

void ConsoleGuest::set_running(bool running)
{
    if (running == running_) {
        return;
    }
    running_ = running;
    if (running_) {
        add_log_line("The guest runs (monitor: cont).", kText);
        draw_clock();
        grid_.flush(screen_);
        schedule_clock();
    } else {
        clock_.reset(); // nothing changes on screen from here on
    }
}

int ConsoleGuest::log_rows() const
{
    return grid_.rows() > 2 ? grid_.rows() - 2 : 0;
}

int ConsoleGuest::input_capacity() const
{
    // Room for the prompt and the caret cell after the text.
    const int room = grid_.cols() - static_cast<int>(kPrompt.size()) - 1;
    return room > 1 ? room : 1;
}

void ConsoleGuest::draw_banner()
{
    std::string text = " qvnc-emu console guest";
    if (!name_.empty()) {
        text += " - " + name_;
    }
    const int width = grid_.cols() - kClockWidth;
    text.resize(static_cast<size_t>(width > 0 ? width : 0), ' ');
    grid_.put(0, 0, text, kBannerFg, kBannerBg);
}

void ConsoleGuest::draw_clock()
{
    const int col = grid_.cols() - kClockWidth;
    grid_.put(0, col > 0 ? col : 0, " " + clock_text() + " ", kBannerFg, kBannerBg);
}

void ConsoleGuest::draw_status()
{
    std::string text;
    if (pointer_seen_) {
        text = printf_string(" pointer x=%-5d y=%-5d buttons=0x%02x", pointer_x_, pointer_y_, buttons_);
        for (const ButtonName &b : kButtons) {
            if (buttons_ & b.bit) {
                text += " ";
                text += b.name;
            }
        }
    } else {
        text = " pointer: no events yet";
    }
    const std::string keys = printf_string("keys pressed: %u ", keys_pressed_);
    const size_t cols = static_cast<size_t>(grid_.cols());
    if (text.size() + keys.size() < cols) {
        text.resize(cols - keys.size(), ' ');
        text += keys;
    }
    text.resize(cols, ' ');
    grid_.put(1, 0, text, kStatusFg, kStatusBg);
}

void ConsoleGuest::draw_log()
{
    const int rows = log_rows();
    if (rows == 0) {
        return;
    }
    // The prompt line is always the last visible row of text; older lines
    // scroll off the top.
    const int history = rows - 1;
    const int skip = static_cast<int>(log_.size()) > history ? static_cast<int>(log_.size()) - history : 0;
    const size_t cols = static_cast<size_t>(grid_.cols());
    int row = 2;
    for (size_t i = static_cast<size_t>(skip); i < log_.size(); ++i, ++row) {
        std::string text = log_[i].text;
        text.resize(cols, ' ');
        grid_.put(row, 0, text, log_[i].fg, kBackground);
    }
    std::string prompt = std::string(kPrompt) + input_;
    grid_.put(row, 0, prompt, kTyped, kBackground);
    int col = static_cast<int>(prompt.size());
    if (running_) {
        grid_.put_cell(row, col++, Cell{' ', kBackground, kTyped}); // block caret
    }
    for (; col < grid_.cols(); ++col) {
        grid_.put_cell(row, col, Cell{' ', kText, kBackground});
    }
    for (++row; row < grid_.rows(); ++row) {
        grid_.put(row, 0, std::string(cols, ' '), kText, kBackground);
    }
}

void ConsoleGuest::add_log_line(std::string text, Rgb fg)
{
    log_.push_back(LogLine{std::move(text), fg});
    // Keep only what can be shown; nothing scrolls back.
    const size_t keep = log_rows() > 1 ? static_cast<size_t>(log_rows() - 1) : 0;
    while (log_.size() > keep) {
        log_.pop_front();
    }
}

void ConsoleGuest::commit_input()
{
    add_log_line(std::string(kPrompt) + input_, kTyped);
    input_.clear();
}

void ConsoleGuest::key_event(uint32_t keysym, uint32_t /*qnum*/, bool down)
{
    if (!running_ || !down) {
        return;
    }
    ++keys_pressed_;
    draw_status();
    if (keysym == kKeysymReturn || keysym == kKeysymKpEnter) {
        commit_input();
    } else if (keysym == kKeysymBackSpace) {
        if (!input_.empty()) {
            input_.pop_back();
        }
    } else if (keysym == kKeysymTab) {
        do {
            input_ += ' ';
        } while (input_.size() % 8 != 0 && static_cast<int>(input_.size()) < input_capacity());
    } else if (int ch = keysym_to_char(keysym); ch >= 0) {
        input_ += static_cast<char>(ch);
    }
    if (static_cast<int>(input_.size()) >= input_capacity()) {
        commit_input(); // wrap: the line is full
    }
    draw_log();
    grid_.flush(screen_);
}

void ConsoleGuest::pointer_event(int x, int y, uint32_t buttons)
{
    if (!running_) {
        return;
    }
    const uint32_t before = pointer_seen_ ? buttons_ : 0;
    pointer_seen_ = true;
    pointer_x_ = x;
    pointer_y_ = y;
    buttons_ = buttons;
    draw_status();
    bool logged = false;
    for (const ButtonName &b : kButtons) {
        const bool was = before & b.bit;
        const bool is = buttons & b.bit;
        const bool wheel = b.bit == QVNC_BUTTON_WHEEL_UP || b.bit == QVNC_BUTTON_WHEEL_DOWN;
        if (was == is || (wheel && !is)) {
            continue; // a wheel notch is a press/release pair; log it once
        }
        add_log_line(printf_string("* %s %s at (%d, %d)", b.name, wheel ? "turned" : is ? "pressed" : "released", x, y),
                     kEvent);
        logged = true;
    }
    if (logged) {
        draw_log();
    }
    grid_.flush(screen_);
}

void ConsoleGuest::cut_text(std::string_view text)
{
    if (!running_) {
        return;
    }
    // Only the start can be seen; escaping a megabyte to show a line is waste.
    const std::string_view shown = text.substr(0, static_cast<size_t>(grid_.cols()));
    add_log_line(printf_string("* clipboard (%zu bytes): ", text.size()) + escape_bytes(shown, false), kClipboard);
    draw_log();
    grid_.flush(screen_);
}

bool ConsoleGuest::desktop_resize(int /*width*/, int /*height*/)
{
    // A text console has no mode setting: the request is refused (QEMU's
    // answer without a guest agent).
    return false;
}

void ConsoleGuest::schedule_clock()
{
    // Fire just after the next wall-clock second so the display flips in
    // step with real time instead of drifting against it.
    const gint64 now_us = g_get_real_time();
    const guint delay_ms = static_cast<guint>(1000 - (now_us / 1000) % 1000) + 2;
    clock_ = SourceId(g_timeout_add(
        delay_ms,
        +[](gpointer self_ptr) -> gboolean {
            auto *self = static_cast<ConsoleGuest *>(self_ptr);
            self->clock_.release();
            self->draw_clock();
            self->grid_.flush(self->screen_);
            self->schedule_clock();
            return G_SOURCE_REMOVE;
        },
        this));
}

} // namespace qvnc_emu
