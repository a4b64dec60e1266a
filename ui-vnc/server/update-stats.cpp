#include "update-stats.hpp"

#include <algorithm>
#include <bit>

namespace qvnc::vnc {

void UpdateStats::resize(int width, int height)
{
    width_ = width;
    height_ = height;
    freq_.cols = (width + TileFreq::kTile - 1) / TileFreq::kTile;
    freq_.rows = (height + TileFreq::kTile - 1) / TileFreq::kTile;
    const size_t n = static_cast<size_t>(freq_.cols) * freq_.rows;
    freq_.hz.assign(n, 0.0f);
    tiles_.assign(n, Tile{});
    seen_.assign(n, 0);
    active_ = 0;
}

Rect UpdateStats::tile_rect(int i) const
{
    const int x = (i % freq_.cols) * TileFreq::kTile, y = (i / freq_.cols) * TileFreq::kTile;
    return Rect{x, y, std::min(TileFreq::kTile, width_ - x), std::min(TileFreq::kTile, height_ - y)};
}

void UpdateStats::record(const DirtyMap &changed, int64_t now_us, const Rect &also)
{
    if (changed.width() != width_ || changed.height() != height_) {
        resize(changed.width(), changed.height()); // a new surface
    }
    constexpr int kBlocksPerTile = TileFreq::kTile / kDirtyPixelsPerBit;
    static_assert(64 % kBlocksPerTile == 0, "a tile's blocks share one word");
    const auto [y0, y1] = changed.dirty_rows();
    std::fill(seen_.begin(), seen_.end(), 0);
    // Which tiles of a tile row changed does not depend on which of its
    // rows did: OR the rows' bits first (a full-screen change visits each
    // of its ~130K set bits otherwise), then test each tile's group of
    // blocks once.
    const size_t words = changed.words_per_row();
    acc_.resize(words);
    const int yend = std::min(y1, height_);
    for (int ty = y0 / TileFreq::kTile; ty * TileFreq::kTile < yend; ty++) {
        std::fill(acc_.begin(), acc_.end(), 0);
        const int ra = std::max(y0, ty * TileFreq::kTile), rb = std::min(yend, (ty + 1) * TileFreq::kTile);
        for (int y = ra; y < rb; y++) {
            const std::span<const uint64_t> bits = changed.row_bits(y);
            for (size_t w = 0; w < words; w++) {
                acc_[w] |= bits[w];
            }
        }
        uint8_t *seen = seen_.data() + static_cast<size_t>(ty) * freq_.cols;
        constexpr uint64_t kGroup = (uint64_t{1} << kBlocksPerTile) - 1;
        for (int tx = 0; tx < freq_.cols; tx++) {
            const size_t bit = static_cast<size_t>(tx) * kBlocksPerTile;
            seen[tx] = (acc_[bit / 64] >> (bit % 64) & kGroup) != 0;
        }
    }
    see(also);
    touch_seen(now_us);
}

void UpdateStats::record_rect(const Rect &r, int64_t now_us)
{
    std::fill(seen_.begin(), seen_.end(), 0);
    see(r);
    touch_seen(now_us);
}

void UpdateStats::see(const Rect &r)
{
    freq_.for_tiles(intersect(r, Rect{0, 0, width_, height_}), [this](size_t i) { seen_[i] = 1; });
}

void UpdateStats::touch_seen(int64_t now_us)
{
    for (size_t i = 0; i < tiles_.size(); i++) {
        if (!seen_[i]) {
            continue;
        }
        Tile &t = tiles_[i];
        active_ += t.n == 0;
        t.times[static_cast<size_t>(t.next)] = now_us;
        t.next = (t.next + 1) % kTimes;
        t.n = std::min(t.n + 1, kTimes);
        // Changes per second over the remembered ones: n times span n-1
        // intervals.
        const int64_t oldest = t.times[static_cast<size_t>((t.next - t.n + kTimes) % kTimes)];
        const int64_t span = now_us - oldest;
        freq_.hz[i] = t.n >= 2 && span > 0 ? static_cast<float>((t.n - 1) * 1e6 / static_cast<double>(span)) : 0.0f;
    }
}

void UpdateStats::expire(int64_t now_us, std::vector<int> &idle)
{
    for (size_t i = 0; i < tiles_.size(); i++) {
        Tile &t = tiles_[i];
        if (t.n == 0) {
            continue;
        }
        const int64_t newest = t.times[static_cast<size_t>((t.next - 1 + kTimes) % kTimes)];
        if (now_us - newest > kIdleUs) {
            t = Tile{};
            freq_.hz[i] = 0.0f;
            active_--;
            idle.push_back(static_cast<int>(i));
        }
    }
}

} // namespace qvnc::vnc
