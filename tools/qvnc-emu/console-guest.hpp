// The default guest: a text console that shows what the clients send.
//
//   row 0     banner: "qvnc-emu console guest - NAME" and a HH:MM:SS clock
//   row 1     status: the latest pointer position and buttons, key count
//   rows 2..  log: typed text on a "> " prompt line (Return starts a new
//             line, BackSpace deletes), button and clipboard events, and it
//             scrolls when full
//
// Pointer motion only rewrites the status line, so dragging the mouse never
// floods the log.  Started stopped (-S), or stopped by the monitor, it keeps
// its frame: the clock stands still and input is not drawn until "cont".
#pragma once

#include <cstdint>
#include <deque>
#include <string>

#include "guest.hpp"
#include "source-id.hpp"
#include "text-grid.hpp"

namespace qvnc_emu {

// The Latin-1 character an X11 keysym types (printable Latin-1 and the
// keypad's characters), or -1 for keys that type nothing.
int keysym_to_char(uint32_t keysym);

class ConsoleGuest final : public Guest {
public:
    ConsoleGuest(const Options &options, Screen &screen);

    void start() override;
    void set_running(bool running) override;
    void key_event(uint32_t keysym, uint32_t qnum, bool down) override;
    void pointer_event(int x, int y, uint32_t buttons) override;
    void cut_text(std::string_view text) override;
    bool desktop_resize(int width, int height) override;
    const Canvas &frame() const override { return canvas_; }

    // The text of the prompt line being typed (for tests).
    const std::string &input() const { return input_; }

private:
    struct LogLine {
        std::string text;
        Rgb fg;
    };

    void draw_banner();
    void draw_clock();
    void draw_status();
    void draw_log();
    void add_log_line(std::string text, Rgb fg);
    void commit_input();
    void schedule_clock();
    int log_rows() const;
    int input_capacity() const;

    Screen &screen_;
    std::string name_;
    bool running_;
    Canvas canvas_;
    TextGrid grid_;
    std::deque<LogLine> log_;
    std::string input_;
    bool pointer_seen_ = false;
    int pointer_x_ = 0;
    int pointer_y_ = 0;
    uint32_t buttons_ = 0;
    unsigned keys_pressed_ = 0;
    SourceId clock_;
};

} // namespace qvnc_emu
