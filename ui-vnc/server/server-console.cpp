// The emulator-facing half of Server: the console it shows and the damage
// path into the server-side copy.
#include <algorithm>
#include <optional>

#include "connection.hpp"
#include "scroll-detect.hpp"
#include "server.hpp"
#include "worker-pool.hpp"

namespace qvnc::vnc {

Status Server::switch_surface(const qvnc_surface *surface)
{
    return console_->switch_surface(surface);
}

void Server::update(int x, int y, int w, int h)
{
    console_->update(x, y, w, h);
}

Status Server::set_cursor(int w, int h, int hot_x, int hot_y, const uint32_t *argb)
{
    return console_->set_cursor(w, h, hot_x, hot_y, argb);
}

void Server::set_pointer_absolute(bool absolute)
{
    console_->set_pointer_absolute(absolute);
}

void Server::set_led_state(unsigned leds)
{
    console_->set_led_state(leds);
}

void Server::console_surface_changed()
{
    // CVE-2017-2633: the copy is clamped to the VNC maximum size.
    fb_.reset(console_->surface());
    guest_dirty_ = DirtyMap(fb_.width(), fb_.height());
    changed_ = DirtyMap(fb_.width(), fb_.height());
    for (auto &c : conns_) {
        c->surface_changed();
        c->try_send_update();
    }
}

void Server::console_damage(int x, int y, int w, int h)
{
    guest_dirty_.mark(x, y, w, h);
    schedule_refresh();
}

void Server::flush_damage()
{
    // Nothing reported since the last pass, or called from inside one of
    // our own calls into the emulator: the idle source stays and runs the
    // pass on the loop's next turn.
    if (!refresh_source_ || host_calls_ > 0) {
        return;
    }
    // Saves the sparse-damage round trip one main-loop iteration (a poll
    // and a dispatch) between the emulator's drawing and the update.
    refresh_source_.reset();
    refresh();
}

void Server::compare_damage(bool write_shared)
{
    // Below this many pixels of dirty rows one thread compares: a hand-off
    // to the pool costs more than it saves.
    constexpr size_t kParallelPixels = 512 * 1024;
    const SurfaceView guest = console_->surface();
    const auto [y0, y1] = guest_dirty_.dirty_rows();
    work::WorkerPool &pool = workers();
    if (pool.slots() < 2 || static_cast<size_t>(y1 - y0) * static_cast<size_t>(fb_.width()) < kParallelPixels) {
        fb_.refresh_from(guest, guest_dirty_, changed_, write_shared);
        return;
    }
    // A full-screen frame (video, a redraw) is compared and copied in
    // bands on the pool, the loop thread taking its share: the client
    // waits for this pass, and memcmp plus memcpy of 8 MB at 1080p is a
    // millisecond on one core.
    const ServerFramebuffer::RowsPlan plan = fb_.plan_rows(guest, guest_dirty_, write_shared);
    if (plan.y1 <= plan.y0) {
        return;
    }
    refresh_differ_.assign(static_cast<size_t>(plan.y1 - plan.y0) * plan.words, 0);
    const size_t bands = static_cast<size_t>(pool.slots()) * 2;
    const int rows = plan.y1 - plan.y0;
    pool.parallel_for(bands, [&](size_t b, int) {
        const int a = plan.y0 + static_cast<int>(static_cast<size_t>(rows) * b / bands);
        const int e = plan.y0 + static_cast<int>(static_cast<size_t>(rows) * (b + 1) / bands);
        fb_.refresh_rows(plan, guest, guest_dirty_, a, e, refresh_differ_);
    });
    for (int y = plan.y0; y < plan.y1; y++) {
        for (size_t w = 0; w < plan.words; w++) {
            const uint64_t bits = refresh_differ_[static_cast<size_t>(y - plan.y0) * plan.words + w];
            if (bits != 0) {
                changed_.or_word(y, static_cast<int>(w), bits);
            }
        }
    }
}

void Server::console_cursor_changed()
{
    for (auto &c : conns_) {
        c->cursor_changed();
        c->try_send_update();
    }
}

void Server::console_pointer_mode_changed()
{
    for (auto &c : conns_) {
        c->pointer_mode_changed();
        c->try_send_update();
    }
}

void Server::console_leds_changed()
{
    if (keyboard_) {
        keyboard_->set_led_state(console_->leds());
    }
    for (auto &c : conns_) {
        c->led_state_changed();
        c->try_send_update();
    }
}

void Server::audio_write(std::span<const int16_t> samples, int channels, int frequency)
{
    for (auto &c : conns_) {
        c->audio_samples(samples, channels, frequency);
    }
}

void Server::set_clipboard(std::string utf8)
{
    clipboard_ = std::move(utf8);
    for (auto &c : conns_) {
        c->clipboard_changed();
    }
}

Rect Server::move_scrolled()
{
    if (fb_.shared() || std::none_of(conns_.begin(), conns_.end(), [](const auto &c) { return c->takes_copies(); })) {
        return {};
    }
    const SurfaceView guest = console_->surface();
    work::WorkerPool &pool = workers();
    RunBands bands;
    if (pool.slots() >= 2) {
        bands = [&pool](size_t n, const std::function<void(size_t)> &body) {
            pool.parallel_for(n, [&body](size_t i, int) { body(i); });
        };
    }
    const std::optional<ScrollMove> m = find_scroll(guest, fb_, guest_dirty_, bands);
    if (!m) {
        return {};
    }
    // The guest's dst rows are what the copy holds at src (find_scroll
    // compared them): copying them from the guest is the move, and unlike
    // a move inside the copy, bands of it can run in parallel.
    fb_.make_writable();
    const Rect dst = m->dst;
    auto take = [&](size_t k, size_t n) {
        const int a = dst.y + static_cast<int>(static_cast<int64_t>(dst.h) * static_cast<int64_t>(k) / static_cast<int64_t>(n));
        const int e = dst.y + static_cast<int>(static_cast<int64_t>(dst.h) * static_cast<int64_t>(k + 1) / static_cast<int64_t>(n));
        fb_.take_rows(guest, dst, a, e);
    };
    if (bands && dst.h >= 64) {
        bands(8, [&](size_t k) { take(k, 8); });
    } else {
        take(0, 1);
    }
    // dst now equals the guest there: nothing to compare.
    guest_dirty_.clear_inside(m->dst);
    for (auto &c : conns_) {
        c->copy_rect(m->src, m->dst); // or plain damage for those that cannot
    }
    return m->dst;
}

Status Server::copy(int src_x, int src_y, int dst_x, int dst_y, int w, int h)
{
    // 64-bit arithmetic: x + w must not overflow into "inside" (a guest
    // controls these numbers).
    auto inside = [this](int64_t x, int64_t y, int64_t wd, int64_t ht) {
        return x >= 0 && y >= 0 && wd > 0 && ht > 0 && x + wd <= fb_.width() && y + ht <= fb_.height();
    };
    Rect src{src_x, src_y, w, h}, dst{dst_x, dst_y, w, h};
    if (!inside(src_x, src_y, w, h) || !inside(dst_x, dst_y, w, h)) {
        return make_error(ErrorCode::InvalidArg, "copy %dx%d from %d,%d to %d,%d is outside the surface",
                          w, h, src_x, src_y, dst_x, dst_y);
    }
    // The guest has moved its pixels already when it tells us.  With damage
    // pending inside src, the server copy's src is stale and the surface
    // no longer holds what src was before the move (an overlapping copy
    // overwrote it), so neither can be moved: dst becomes plain damage, read
    // from the surface later.  (Pulling that damage first, as this did,
    // moved post-copy source pixels into dst: lost updates, found by the
    // convergence burst.)  Damage pending elsewhere stays pending and is
    // still valid, the surface holding the final pixels.
    if (guest_dirty_.any_in(src)) {
        console_damage(dst.x, dst.y, dst.w, dst.h);
        return ok_status();
    }
    fb_.copy_rect(src, dst);
    for (auto &c : conns_) {
        c->copy_rect(src, dst);
    }
    record_copy(dst);
    for (auto &c : conns_) {
        c->try_send_update();
    }
    return ok_status();
}

} // namespace qvnc::vnc
