// The animated test-pattern guest (see pattern.hpp for the picture): 10
// frames a second unless stopped, reporting only the rects that changed.
// With --resize-every it cycles through two or three sizes, and it accepts
// clients' SetDesktopSize requests.
#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "guest.hpp"
#include "pattern.hpp"
#include "source-id.hpp"

namespace qvnc_emu {

class PatternGuest final : public Guest {
public:
    PatternGuest(const Options &options, Screen &screen);

    void start() override;
    void set_running(bool running) override;
    void key_event(uint32_t, uint32_t, bool) override {}
    void pointer_event(int, int, uint32_t) override {}
    void cut_text(std::string_view) override {}
    bool desktop_resize(int width, int height) override;
    const Canvas &frame() const override { return *canvas_; }

    uint64_t frame_number() const { return frame_; }
    // One animation step (the 10 Hz timer calls this).
    void advance();
    // Switches to a new size, redrawing the current frame in it.
    void resize(Size size);

private:
    void arm_timers();

    Screen &screen_;
    PixelFormat format_;
    bool running_;
    double resize_every_;
    std::vector<Size> sizes_; // the --resize-every cycle; [0] is the start size
    size_t size_index_ = 0;
    uint64_t frame_ = 0;
    PatternLayout layout_;
    std::unique_ptr<Canvas> canvas_;
    std::optional<Size> requested_;
    SourceId tick_;
    SourceId resize_timer_;
    SourceId resize_idle_;
};

} // namespace qvnc_emu
