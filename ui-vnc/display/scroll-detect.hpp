// Finding a vertical scroll in the guest's damage.  Guests that scroll by
// redrawing (a terminal, an editor, a browser: most of them, since the
// emulator reports a blit only when the guest's driver does one) damage a
// big area whose rows mostly reappear a few rows away.  Moving those rows
// in the server copy first turns them into a CopyRect for the clients that
// list it, and the compare that follows finds only the rows that are new.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>

#include "dirty-map.hpp"
#include "rect.hpp"
#include "surface.hpp"

namespace qvnc::vnc {

class ServerFramebuffer;

struct ScrollMove {
    Rect src, dst; // same size; dst.x == src.x
};

// The longest band of rows of the damage's bounding box that the guest now
// shows `dy` rows away from where the copy `fb` has them, for the best
// vertical shift dy != 0, when that band is worth a CopyRect (at least
// kMinRows rows and a quarter of the box).  Row equality is exact (bytes of
// the box's columns), so moving src to dst in the copy makes dst equal to
// the guest.  Looks at a few sample rows first: damage that did not scroll
// (video, a redraw) costs a few thousand early-exit row compares.
// `bands`, when given, runs body(0..n-1) on several threads and returns
// when all are done (the display's worker pool): the band's rows are
// verified in parallel, which on a 1080p scroll is most of the work.
using RunBands = std::function<void(size_t n, const std::function<void(size_t)> &body)>;
std::optional<ScrollMove> find_scroll(const SurfaceView &guest, const ServerFramebuffer &fb, const DirtyMap &damage,
                                      const RunBands &bands = {});

inline constexpr int kScrollMinRows = 16;
inline constexpr int kScrollMinWidth = 64;
inline constexpr int kScrollMaxShift = 512;

} // namespace qvnc::vnc
