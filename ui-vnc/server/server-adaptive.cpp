// Adaptive lossy encoding for the display (update-stats.hpp): what changed
// feeds the tile statistics; tiles that stopped changing are sent again,
// losslessly, to the clients that saw them as JPEG.
#include <glib.h>

#include "connection.hpp"
#include "server.hpp"

namespace qvnc::vnc {

const TileFreq *Server::tile_freq() const
{
    return config_.lossy && !config_.non_adaptive ? &stats_.freq() : nullptr;
}

void Server::record_changes()
{
    if (!tile_freq()) {
        return;
    }
    // A scrolled band is not in changed_ (its rows were moved, not
    // compared) but its tiles did change.
    stats_.record(changed_, g_get_monotonic_time(), moved_);
    start_stats_timer();
}

void Server::record_copy(const Rect &dst)
{
    if (!tile_freq()) {
        return;
    }
    // The copied tiles changed: they go idle, and get their lossless
    // refresh where the copy brought JPEG along, like any other.
    stats_.record_rect(dst, g_get_monotonic_time());
    start_stats_timer();
}

void Server::start_stats_timer()
{
    if (stats_.active() && !stats_timer_) {
        stats_timer_ = io::add_timeout(main_context(), UpdateStats::kExpireMs, [this] {
            expire_stats();
            if (stats_.active()) {
                return true;
            }
            stats_timer_.reset(); // the source is being removed; drop our handle first
            return false;
        });
    }
}

void Server::expire_stats()
{
    idle_tiles_.clear();
    stats_.expire(g_get_monotonic_time(), idle_tiles_);
    if (idle_tiles_.empty()) {
        return;
    }
    for (auto &c : conns_) {
        if (c->refresh_lossy(idle_tiles_, stats_)) {
            c->try_send_update();
        }
    }
}

} // namespace qvnc::vnc
