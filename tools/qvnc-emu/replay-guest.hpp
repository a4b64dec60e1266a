// Plays a VFR recording (see vfr-file.hpp) in a loop at --replay-fps,
// reporting each record's rects as damage, one update per rect, exactly as
// the benchmark prescribes (finding what really changed is the server's job).
// With --replay-fps 0 it is demand-driven: the next record is applied as
// soon as a display says a client waits with everything so far sent
// (update_wanted), so the replay runs exactly as fast as the server serves.
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
    void update_wanted() override;
    const Canvas &frame() const override { return canvas_; }

    // Applies the next record and reports its damage.
    void advance();

private:
    void arm_timer();
    bool demand_driven() const { return fps_ <= 0; }

    Screen &screen_;
    std::unique_ptr<VfrFile> file_;
    bool running_;
    double fps_;
    Canvas canvas_;
    uint32_t next_;
    SourceId tick_; // the rate timer, or the pending demand-driven advance
};

} // namespace qvnc_emu
