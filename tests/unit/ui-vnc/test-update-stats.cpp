// UpdateStats::record: a tile's change frequency counts the compare passes
// in which any of its 16-pixel blocks changed.  Checked against tiles
// worked out from the marked rectangles themselves (block-rounded x, exact
// y), on a surface whose width and height are not multiples of a tile.
#include <random>
#include <vector>

#include "dirty-map.hpp"
#include "update-stats.hpp"

#include "cmocka.hpp"

using namespace qvnc::vnc;

namespace {

constexpr int kW = 1000, kH = 700, kTile = TileFreq::kTile;

// Tiles (row-major) that a rectangle's blocks reach, clipped to the map.
void touched(const Rect &r, std::vector<bool> &tiles, int cols)
{
    // Clipped first, then x rounded down to its block (a block never
    // straddles two tiles, so rounding the right edge up changes nothing).
    const int cx0 = std::max(0, r.x), x1 = std::min(kW, r.right());
    const int y0 = std::max(0, r.y), y1 = std::min(kH, r.bottom());
    if (x1 <= cx0 || y1 <= y0) return;
    const int x0 = cx0 / kDirtyPixelsPerBit * kDirtyPixelsPerBit;
    for (int ty = y0 / kTile; ty <= (y1 - 1) / kTile; ty++) {
        for (int tx = x0 / kTile; tx <= (x1 - 1) / kTile; tx++) {
            tiles[static_cast<size_t>(ty * cols + tx)] = true;
        }
    }
}

void frequency_follows_changed_tiles(void **)
{
    std::mt19937 rng(42);
    const int cols = (kW + kTile - 1) / kTile, rows = (kH + kTile - 1) / kTile;
    for (int round = 0; round < 50; round++) {
        UpdateStats st;
        DirtyMap map(kW, kH);
        std::vector<bool> expect(static_cast<size_t>(cols * rows), false);
        const int nrects = 1 + static_cast<int>(rng() % 6);
        for (int i = 0; i < nrects; i++) {
            const Rect r{static_cast<int>(rng() % (kW + 40)) - 20, static_cast<int>(rng() % (kH + 40)) - 20,
                         1 + static_cast<int>(rng() % 200), 1 + static_cast<int>(rng() % 150)};
            map.mark(r);
            touched(r, expect, cols);
        }
        // Two passes one second apart: 1 Hz where changed, 0 elsewhere.
        st.record(map, 1'000'000);
        st.record(map, 2'000'000);
        assert_int_equal(st.freq().cols, cols);
        assert_int_equal(st.freq().rows, rows);
        for (size_t t = 0; t < expect.size(); t++) {
            const float hz = st.freq().hz[t];
            if (expect[t] ? hz != 1.0f : hz != 0.0f) {
                print_error("round %d tile %zu: hz %f, expected %d\n", round, t, static_cast<double>(hz),
                            static_cast<int>(expect[t]));
                fail();
            }
        }
        assert_true(st.active());
    }
}

// A full-screen change marks every tile, the partial last row and column
// included; an empty map marks none.
void full_and_empty(void **)
{
    UpdateStats st;
    DirtyMap map(kW, kH);
    map.mark_all();
    st.record(map, 1'000'000);
    st.record(map, 1'500'000);
    for (float hz : st.freq().hz) assert_true(hz == 2.0f);
    UpdateStats quiet;
    DirtyMap none(kW, kH);
    quiet.record(none, 1'000'000);
    assert_false(quiet.active());
}

// TileFreq::over: the mean of the tiles a rectangle touches, 0 for one that
// touches none (past the grid's edge).
void mean_over_tiles(void **)
{
    TileFreq f;
    f.cols = 3;
    f.rows = 2;
    f.hz = {1, 2, 4, 8, 16, 32};
    assert_true(f.over(Rect{0, 0, 10, 10}) == 1.0);
    assert_true(f.over(Rect{kTile - 1, 0, 2, 1}) == 1.5);               // tiles 0 and 1
    assert_true(f.over(Rect{0, 0, 3 * kTile, 2 * kTile}) == 63.0 / 6); // all six
    assert_true(f.over(Rect{3 * kTile, 0, 10, 10}) == 0.0);             // right of the grid
    assert_true(f.over(Rect{0, 2 * kTile + 5, 10, 10}) == 0.0);         // below it
    assert_true(f.over(Rect{0, 0, 0, 0}) == 0.0);
}

// TileFreq::any_idle: a rectangle touching one tile at 0 Hz among moving
// ones is idle somewhere (Tight then sends it lossless: a refresh of idle
// tiles boxed with a moving one must not go out as JPEG again).
void idle_tile_in_rect(void **)
{
    TileFreq f;
    f.cols = 3;
    f.rows = 2;
    f.hz = {0, 2, 4, 8, 16, 32};
    assert_true(f.any_idle(Rect{0, 0, 2 * kTile, 2 * kTile}));   // tiles 0, 1, 3, 4
    assert_true(f.over(Rect{0, 0, 2 * kTile, 2 * kTile}) > 0.2); // whose mean is high
    assert_false(f.any_idle(Rect{kTile, 0, 2 * kTile, 2 * kTile}));
    assert_true(f.any_idle(Rect{5, 5, 1, 1}));
    assert_false(f.any_idle(Rect{kTile + 5, 5, 1, 1}));
}

} // namespace

int main()
{
    const CMUnitTest tests[] = {
        cmocka_unit_test(frequency_follows_changed_tiles),
        cmocka_unit_test(full_and_empty),
        cmocka_unit_test(mean_over_tiles),
        cmocka_unit_test(idle_tile_in_rect),
    };
    return cmocka_run_group_tests_name("update-stats", tests, nullptr, nullptr);
}
