#include "console.hpp"

#include <algorithm>

#include "pixel-convert.hpp"

namespace qvnc::vnc {

namespace {
constexpr int kBlankWidth = 640, kBlankHeight = 480;
}

Console::Console(std::string device_id, int head) : device_id_(std::move(device_id)), head_(head)
{
    set_blank();
}

Console::~Console() = default;

void Console::set_blank()
{
    blank_.assign(static_cast<size_t>(kBlankWidth) * kBlankHeight * 4, 0);
    surface_ = SurfaceView{kBlankWidth, kBlankHeight, kBlankWidth * 4, QVNC_FORMAT_X8R8G8B8, blank_.data()};
}

Status Console::switch_surface(const qvnc_surface *s)
{
    if (!s) {
        set_blank();
    } else {
        if (s->struct_size < sizeof(qvnc_surface) || s->width <= 0 || s->height <= 0 || !s->data) {
            return make_error(ErrorCode::InvalidArg, "invalid surface");
        }
        if (!is_supported_surface_format(s->format)) {
            return make_error(ErrorCode::InvalidArg, "unsupported surface format 0x%08x", s->format);
        }
        int bpp = static_cast<int>(s->format >> 24) / 8;
        if (s->stride < s->width * bpp) {
            return make_error(ErrorCode::InvalidArg, "surface stride %d too small for width %d",
                              s->stride, s->width);
        }
        blank_.clear();
        surface_ = SurfaceView{s->width, s->height, s->stride, s->format,
                               static_cast<const uint8_t *>(s->data)};
    }
    for (ConsoleListener *l : std::vector<ConsoleListener *>(listeners_)) {
        l->console_surface_changed();
    }
    return ok_status();
}

void Console::update(int x, int y, int w, int h)
{
    for (ConsoleListener *l : listeners_) {
        l->console_damage(x, y, w, h);
    }
}

Status Console::set_cursor(int w, int h, int hot_x, int hot_y, const uint32_t *argb)
{
    if (w <= 0 || h <= 0 || w > 256 || h > 256 || !argb) {
        return make_error(ErrorCode::InvalidArg, "invalid cursor %dx%d", w, h);
    }
    cursor_.width = w;
    cursor_.height = h;
    cursor_.hot_x = std::clamp(hot_x, 0, w - 1);
    cursor_.hot_y = std::clamp(hot_y, 0, h - 1);
    cursor_.argb.assign(argb, argb + static_cast<size_t>(w) * h);
    for (ConsoleListener *l : std::vector<ConsoleListener *>(listeners_)) {
        l->console_cursor_changed();
    }
    return ok_status();
}

void Console::set_pointer_absolute(bool absolute)
{
    if (pointer_absolute_ == absolute) {
        return;
    }
    pointer_absolute_ = absolute;
    for (ConsoleListener *l : std::vector<ConsoleListener *>(listeners_)) {
        l->console_pointer_mode_changed();
    }
}

void Console::set_led_state(unsigned leds)
{
    leds_ = leds & 7;
    for (ConsoleListener *l : std::vector<ConsoleListener *>(listeners_)) {
        l->console_leds_changed();
    }
}

void Console::attach(ConsoleListener *l)
{
    listeners_.push_back(l);
}

void Console::detach(ConsoleListener *l)
{
    listeners_.erase(std::remove(listeners_.begin(), listeners_.end(), l), listeners_.end());
}

} // namespace qvnc::vnc
