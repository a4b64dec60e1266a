// Adaptive lossy encoding (QEMU's default with -vnc lossy, off with
// non-adaptive): per 64x64 tile, the times of its last changes give its
// update frequency, which Tight uses to choose JPEG only for tiles that
// keep changing.  A tile that has not changed for kIdleUs is reset to
// frequency 0 and reported idle: clients that were sent it lossy get it
// again, losslessly (Connection::refresh_lossy).
//
// Times are recorded on the loop thread at each compare pass (at most one
// per tile and pass); expire() runs from a 500 ms timer that exists only
// while some tile has history, so an idle display has no wakeups.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "dirty-map.hpp"
#include "tile-freq.hpp"

namespace qvnc::vnc {

class UpdateStats {
public:
    static constexpr int kTimes = 10;              // changes remembered per tile
    static constexpr int64_t kIdleUs = 2'000'000;  // QEMU's lossy refresh delay
    static constexpr unsigned kExpireMs = 500;     // QEMU's stats period

    // A new surface: every tile without history.
    void resize(int width, int height);
    // The blocks that changed in one compare pass, at `now_us` (a map of
    // another size first resizes), and the tiles `also` touches.
    void record(const DirtyMap &changed, int64_t now_us, const Rect &also = {});
    // The tiles r touches changed at `now_us` (a guest-reported copy).
    void record_rect(const Rect &r, int64_t now_us);
    // Tiles unchanged for kIdleUs: history dropped, frequency 0, and their
    // indices (row-major) appended to `idle`.
    void expire(int64_t now_us, std::vector<int> &idle);
    // Some tile has history (the expiry timer is needed).
    bool active() const { return active_ > 0; }

    const TileFreq &freq() const { return freq_; }
    // The screen rectangle of tile i.
    Rect tile_rect(int i) const;

private:
    // seen_[i] = 1 for the tiles r touches.
    void see(const Rect &r);
    // Adds now_us to the history of the tiles seen_ marks.
    void touch_seen(int64_t now_us);
    struct Tile {
        std::array<int64_t, kTimes> times{};
        int n = 0;   // valid entries
        int next = 0; // where the next goes
    };
    int width_ = 0, height_ = 0;
    TileFreq freq_;
    std::vector<Tile> tiles_;
    std::vector<uint8_t> seen_; // this pass
    std::vector<uint64_t> acc_; // a tile row's dirty bits, ORed (record)
    int active_ = 0;            // tiles with n > 0
};

} // namespace qvnc::vnc
