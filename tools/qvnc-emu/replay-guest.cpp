#include "replay-guest.hpp"

#include <algorithm>
#include <cmath>

namespace qvnc_emu {

ReplayGuest::ReplayGuest(const Options &options, Screen &screen, std::unique_ptr<VfrFile> file)
    : screen_(screen), file_(std::move(file)), running_(!options.start_stopped), fps_(options.replay_fps),
      canvas_(file_->width(), file_->height(), PixelFormat::X8R8G8B8), next_(1 % file_->frames())
{
    file_->load_base(canvas_);
}

void ReplayGuest::start()
{
    screen_.show(canvas_);
    if (running_) {
        arm_timer();
    }
}

void ReplayGuest::set_running(bool running)
{
    if (running == running_) {
        return;
    }
    running_ = running;
    if (running_) {
        arm_timer();
        // Demand-driven: a client may have been waiting all along.
        update_wanted();
    } else {
        tick_.reset();
    }
}

void ReplayGuest::update_wanted()
{
    if (!running_ || !demand_driven() || tick_) {
        return; // stopped, paced by the timer, or an advance is already due
    }
    // From the main loop, not inside the library's callback.
    tick_ = SourceId(g_idle_add(
        +[](gpointer self) -> gboolean {
            auto *guest = static_cast<ReplayGuest *>(self);
            guest->tick_.release();
            guest->advance();
            return G_SOURCE_REMOVE;
        },
        this));
}

void ReplayGuest::arm_timer()
{
    if (demand_driven()) {
        return; // update_wanted() drives it
    }
    const auto interval_ms = static_cast<guint>(std::max(1.0, std::round(1000.0 / fps_)));
    tick_ = SourceId(g_timeout_add(
        interval_ms,
        +[](gpointer self) -> gboolean {
            static_cast<ReplayGuest *>(self)->advance();
            return G_SOURCE_CONTINUE;
        },
        this));
}

void ReplayGuest::advance()
{
    for (const Rect &r : file_->apply(next_, canvas_)) {
        screen_.update(r);
    }
    screen_.flush();
    next_ = (next_ + 1) % file_->frames();
}

} // namespace qvnc_emu
