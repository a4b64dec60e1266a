#include "pattern-guest.hpp"

#include <algorithm>
#include <cmath>

namespace qvnc_emu {
namespace {

constexpr Size kDefaultSize{1024, 768};
constexpr guint kFrameIntervalMs = 100;
constexpr int kMaxDimension = 16384;

} // namespace

PatternGuest::PatternGuest(const Options &options, Screen &screen)
    : screen_(screen), format_(options.format), running_(!options.start_stopped),
      resize_every_(options.resize_every)
{
    sizes_.push_back(options.size.value_or(kDefaultSize));
    for (Size s : {Size{800, 600}, Size{1280, 720}, Size{1024, 768}}) {
        if (sizes_.size() < 3 && std::find(sizes_.begin(), sizes_.end(), s) == sizes_.end()) {
            sizes_.push_back(s);
        }
    }
    layout_ = pattern_layout(sizes_[0].width, sizes_[0].height);
    canvas_ = std::make_unique<Canvas>(layout_.width, layout_.height, format_);
    render_pattern(*canvas_, layout_, frame_, canvas_->bounds());
}

void PatternGuest::start()
{
    screen_.show(*canvas_);
    if (running_) {
        arm_timers();
    }
}

void PatternGuest::set_running(bool running)
{
    if (running == running_) {
        return;
    }
    running_ = running;
    if (running_) {
        arm_timers();
    } else {
        tick_.reset();
        resize_timer_.reset();
    }
}

void PatternGuest::arm_timers()
{
    tick_ = SourceId(g_timeout_add(
        kFrameIntervalMs,
        +[](gpointer self) -> gboolean {
            static_cast<PatternGuest *>(self)->advance();
            return G_SOURCE_CONTINUE;
        },
        this));
    if (resize_every_ > 0) {
        const auto ms = static_cast<guint>(std::max(1.0, std::round(resize_every_ * 1000)));
        resize_timer_ = SourceId(g_timeout_add(
            ms,
            +[](gpointer self_ptr) -> gboolean {
                auto *self = static_cast<PatternGuest *>(self_ptr);
                self->size_index_ = (self->size_index_ + 1) % self->sizes_.size();
                self->resize(self->sizes_[self->size_index_]);
                return G_SOURCE_CONTINUE;
            },
            this));
    }
}

void PatternGuest::advance()
{
    ++frame_;
    for (const Rect &r : pattern_damage(layout_, frame_)) {
        render_pattern(*canvas_, layout_, frame_, r);
        screen_.update(r);
    }
    screen_.flush();
}

void PatternGuest::resize(Size size)
{
    const PatternLayout layout = pattern_layout(size.width, size.height);
    auto next = std::make_unique<Canvas>(layout.width, layout.height, format_);
    render_pattern(*next, layout, frame_, next->bounds());
    // Show the new pixels before the old buffer goes: displays borrow it.
    screen_.show(*next);
    canvas_ = std::move(next);
    layout_ = layout;
}

bool PatternGuest::desktop_resize(int width, int height)
{
    if (width < 1 || height < 1 || width > kMaxDimension || height > kMaxDimension) {
        return false;
    }
    requested_ = Size{width, height};
    // A stopped guest takes the request but, like a paused VM, never acts.
    if (running_ && !resize_idle_) {
        // Not from inside the library's message handler: switching surfaces
        // there would re-enter the display mid-message.
        resize_idle_ = SourceId(g_idle_add(
            +[](gpointer self_ptr) -> gboolean {
                auto *self = static_cast<PatternGuest *>(self_ptr);
                self->resize_idle_.release();
                if (self->requested_) {
                    const Size s = *self->requested_;
                    self->requested_.reset();
                    self->resize(s);
                }
                return G_SOURCE_REMOVE;
            },
            this));
    }
    return true;
}

} // namespace qvnc_emu
