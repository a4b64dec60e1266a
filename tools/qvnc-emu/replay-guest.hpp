// Plays a VFR recording (see vfr-file.hpp) in a loop at --replay-fps,
// reporting each record's rects as damage, one update per rect, exactly as
// the benchmark prescribes (finding what really changed is the server's job).
#pragma once

#include <memory>

#include "guest.hpp"
#include "source-id.hpp"
#include "vfr-file.hpp"

namespace qvnc_emu {

class ReplayGuest final : public Guest {
public:
    ReplayGuest(const Options &options, Screen &screen, std::unique_ptr<VfrFile> file);

    void start() override;
    void set_running(bool running) override;
    void key_event(uint32_t, uint32_t, bool) override {}
    void pointer_event(int, int, uint32_t) override {}
    void cut_text(std::string_view) override {}
    bool desktop_resize(int, int) override { return false; }
    const Canvas &frame() const override { return canvas_; }

    // Applies the next record and reports its damage.
    void advance();

private:
    void arm_timer();

    Screen &screen_;
    std::unique_ptr<VfrFile> file_;
    bool running_;
    double fps_;
    Canvas canvas_;
    uint32_t next_;
    SourceId tick_;
};

} // namespace qvnc_emu
