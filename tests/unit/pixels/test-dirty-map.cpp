// DirtyMap: QEMU's 16-pixel block rounding, clamping, and take_rects()
// checked against a brute-force per-block model.
#include <climits>
#include <random>
#include <vector>

#include "dirty-map.hpp"
#include "rect.hpp"

// Last: cmocka defines a fail() macro that clashes with <ios>.
#include "cmocka.hpp"

using namespace qvnc::vnc;

namespace {

int count_blocks(const DirtyMap &m)
{
    int n = 0;
    for (int y = 0; y < m.height(); y++) {
        for (int b = 0; b < m.blocks_per_row(); b++) {
            n += m.test_block(b, y);
        }
    }
    return n;
}

void expect_rects(const std::vector<Rect> &got, std::initializer_list<Rect> want)
{
    assert_int_equal(got.size(), want.size());
    size_t i = 0;
    for (const Rect &w : want) {
        const Rect &g = got[i++];
        if (!(g == w)) {
            fail_msg("rect %zu: got {%d,%d,%d,%d} want {%d,%d,%d,%d}", i - 1, g.x, g.y, g.w, g.h, w.x, w.y, w.w, w.h);
        }
    }
}

void test_rect_helpers(void **)
{
    assert_true(intersect(Rect{0, 0, 10, 10}, Rect{5, 5, 10, 10}) == (Rect{5, 5, 5, 5}));
    assert_true(intersect(Rect{0, 0, 10, 10}, Rect{10, 0, 5, 5}).empty());
    assert_true(intersect(Rect{INT_MAX - 1, 0, INT_MAX, 1}, Rect{0, 0, INT_MAX, 1}) == (Rect{INT_MAX - 1, 0, 1, 1}));
    assert_true(intersects(Rect{0, 0, 2, 2}, Rect{1, 1, 2, 2}));
    assert_false(intersects(Rect{0, 0, 2, 2}, Rect{2, 2, 2, 2}));
    assert_true(contains(Rect{0, 0, 10, 10}, Rect{2, 2, 8, 8}));
    assert_false(contains(Rect{0, 0, 10, 10}, Rect{2, 2, 9, 8}));
    assert_true(contains(Rect{0, 0, 10, 10}, Rect{50, 50, 0, 0}));
    assert_true(bounding(Rect{0, 0, 2, 2}, Rect{5, 1, 1, 4}) == (Rect{0, 0, 6, 5}));
    assert_true(bounding(Rect{}, Rect{5, 1, 1, 4}) == (Rect{5, 1, 1, 4}));
    assert_true(bounding(Rect{5, 1, 1, 4}, Rect{9, 9, 0, 3}) == (Rect{5, 1, 1, 4}));
}

void test_dimensions(void **)
{
    DirtyMap big(10000, 5000);
    assert_int_equal(big.width(), kVncMaxWidth);
    assert_int_equal(big.height(), kVncMaxHeight);
    assert_int_equal(big.blocks_per_row(), 320);
    big.mark(0, 0, INT_MAX, INT_MAX);
    assert_int_equal(count_blocks(big), 320 * 2160);

    DirtyMap odd(100, 3);
    assert_int_equal(odd.blocks_per_row(), 7);
    DirtyMap none(-5, -5);
    assert_int_equal(none.width(), 0);
    assert_int_equal(none.height(), 0);
    none.mark_all();
    none.mark(0, 0, 10, 10);
    assert_false(none.any());
    assert_true(none.take_rects(Rect{0, 0, 100, 100}).empty());
    DirtyMap def;
    assert_false(def.any());
}

void test_mark_rounding(void **)
{
    DirtyMap m(100, 4);
    m.mark(17, 0, 1, 1);
    assert_false(m.test_block(0, 0));
    assert_true(m.test_block(1, 0));
    assert_false(m.test_block(2, 0));
    assert_int_equal(count_blocks(m), 1);

    m.clear();
    m.mark(15, 1, 2, 1); // straddles blocks 0 and 1
    assert_true(m.test_block(0, 1) && m.test_block(1, 1));
    assert_int_equal(count_blocks(m), 2);

    m.clear();
    m.mark(0, 2, 16, 1); // exactly one block
    assert_int_equal(count_blocks(m), 1);

    m.clear();
    m.mark(-10, -10, 30, 12); // clipped to x 0..20, y 0..2
    assert_int_equal(count_blocks(m), 4);
    assert_true(m.test_block(1, 1));
    assert_false(m.test_block(1, 2));

    m.clear();
    m.mark(99, 3, 1000, 1000); // last, partial block
    assert_true(m.test_block(6, 3));
    assert_int_equal(count_blocks(m), 1);

    m.clear();
    m.mark(100, 0, 5, 5);
    m.mark(0, 4, 5, 5);
    m.mark(10, 1, 0, 5);
    m.mark(10, 1, 5, -1);
    m.mark(INT_MAX, INT_MAX, INT_MAX, INT_MAX);
    m.mark(INT_MIN, INT_MIN, INT_MAX, INT_MAX);
    assert_false(m.any());
    m.mark(Rect{32, 0, 1, 4});
    assert_int_equal(count_blocks(m), 4);
    assert_false(m.test_block(7, 0)); // out of range queries are false
    assert_false(m.test_block(-1, 0));
    assert_false(m.test_block(0, 4));
}

void test_take_rects_merging(void **)
{
    DirtyMap m(100, 50);
    m.mark_all();
    expect_rects(m.take_rects(Rect{0, 0, 100, 50}), {{0, 0, 100, 50}});
    assert_false(m.any());

    m.mark(0, 0, 32, 10);
    expect_rects(m.take_rects(Rect{0, 0, 100, 50}), {{0, 0, 32, 10}});

    // Two spans in one row.
    m.mark(0, 0, 16, 1);
    m.mark(48, 0, 16, 1);
    expect_rects(m.take_rects(Rect{0, 0, 100, 50}), {{0, 0, 16, 1}, {48, 0, 16, 1}});

    // The span grows down while the next rows contain it entirely; the
    // rest of a wider row is its own rectangle.
    m.mark(0, 0, 32, 1);
    m.mark(0, 1, 64, 1);
    m.mark(0, 2, 16, 1);
    expect_rects(m.take_rects(Rect{0, 0, 100, 50}), {{0, 0, 32, 2}, {32, 1, 32, 1}, {0, 2, 16, 1}});
    assert_false(m.any());

    // A gap row splits.
    m.mark(16, 5, 16, 1);
    m.mark(16, 7, 16, 1);
    expect_rects(m.take_rects(Rect{0, 0, 100, 50}), {{16, 5, 16, 1}, {16, 7, 16, 1}});

    // Empty and out-of-area clips return nothing and change nothing.
    m.mark_all();
    assert_true(m.take_rects(Rect{0, 0, 0, 0}).empty());
    assert_true(m.take_rects(Rect{100, 0, 10, 10}).empty());
    assert_int_equal(count_blocks(m), 7 * 50);
}

void test_take_rects_clip(void **)
{
    DirtyMap m(64, 4);
    m.mark_all();
    // Blocks 0 and 1 stick out of the clip: reported, but kept dirty.
    expect_rects(m.take_rects(Rect{8, 0, 16, 4}), {{8, 0, 16, 4}});
    assert_int_equal(count_blocks(m), 16);

    // Whole blocks inside the clip are cleared; the others stay.
    expect_rects(m.take_rects(Rect{16, 1, 32, 2}), {{16, 1, 32, 2}});
    assert_int_equal(count_blocks(m), 16 - 4);
    assert_false(m.test_block(1, 1));
    assert_false(m.test_block(2, 2));
    assert_true(m.test_block(0, 1));
    assert_true(m.test_block(3, 1));
    assert_true(m.test_block(1, 0));

    // Greedy: a span takes every following row that contains it.
    expect_rects(m.take_rects(Rect{0, 0, 64, 4}),
                 {{0, 0, 64, 1}, {0, 1, 16, 3}, {48, 1, 16, 3}, {16, 3, 32, 1}});
    assert_false(m.any());

    // The last block of an odd width ends at the width, so a clip that
    // reaches the width covers it.
    DirtyMap odd(40, 2);
    odd.mark_all();
    expect_rects(odd.take_rects(Rect{32, 0, 8, 2}), {{32, 0, 8, 2}});
    assert_int_equal(count_blocks(odd), 4);
    expect_rects(odd.take_rects(Rect{-100, -100, 1000, 1000}), {{0, 0, 32, 2}});
}

void test_merge(void **)
{
    DirtyMap a(64, 4), b(128, 8), c(20, 2);
    b.mark_all();
    a.merge(b);
    assert_int_equal(count_blocks(a), 4 * 4);
    // No bits leak past the last block.
    for (int y = 0; y < 4; y++) {
        assert_int_equal(a.row_bits(y).size(), 1);
        assert_int_equal(a.row_bits(y)[0], 0xf);
    }
    assert_true(a.row_bits(4).empty());
    a.clear();
    c.mark(16, 1, 1, 1);
    a.merge(c);
    assert_int_equal(count_blocks(a), 1);
    assert_true(a.test_block(1, 1));
    b.clear();
    b.merge(a);
    assert_int_equal(count_blocks(b), 1);
}

// Random damage and clips against a per-block model.
void test_random_against_model(void **)
{
    std::mt19937 rng(7);
    for (int round = 0; round < 300; round++) {
        const int w = 1 + static_cast<int>(rng() % 1200);
        const int h = 1 + static_cast<int>(rng() % 40);
        DirtyMap m(w, h);
        const int blocks = m.blocks_per_row();
        std::vector<char> model(static_cast<size_t>(blocks) * h, 0);
        auto at = [&](int b, int y) -> char & { return model[static_cast<size_t>(y) * blocks + b]; };

        const int nmarks = static_cast<int>(rng() % 12);
        for (int i = 0; i < nmarks; i++) {
            const int x = static_cast<int>(rng() % (w + 40)) - 20, y = static_cast<int>(rng() % (h + 4)) - 2;
            const int rw = static_cast<int>(rng() % 300), rh = static_cast<int>(rng() % 12);
            m.mark(x, y, rw, rh);
            for (int yy = std::max(y, 0); yy < std::min(y + rh, h); yy++) {
                for (int px = std::max(x, 0); px < std::min(x + rw, w); px++) {
                    at(px / 16, yy) = 1;
                }
            }
        }
        for (int y = 0; y < h; y++) {
            for (int b = 0; b < blocks; b++) {
                assert_int_equal(m.test_block(b, y), at(b, y));
            }
        }

        Rect clip{static_cast<int>(rng() % (w + 1)) - 8, static_cast<int>(rng() % (h + 1)) - 1,
                  static_cast<int>(rng() % (w + 20)), static_cast<int>(rng() % (h + 4))};
        if (round % 3 == 0) clip = Rect{0, 0, w, h};
        const Rect c = intersect(clip, Rect{0, 0, w, h});
        const std::vector<Rect> rects = m.take_rects(clip);

        // Coverage: every pixel of a dirty block inside the clip exactly once.
        std::vector<int> cover(static_cast<size_t>(w) * h, 0);
        for (const Rect &r : rects) {
            assert_false(r.empty());
            assert_true(contains(c, r));
            for (int y = r.y; y < r.bottom(); y++)
                for (int x = r.x; x < r.right(); x++) cover[static_cast<size_t>(y) * w + x]++;
        }
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                const bool inside = contains(c, Rect{x, y, 1, 1});
                const int want = inside && at(x / 16, y) ? 1 : 0;
                assert_int_equal(cover[static_cast<size_t>(y) * w + x], want);
            }
        }
        // Afterwards: blocks wholly inside the clip are clean, others unchanged.
        for (int y = 0; y < h; y++) {
            for (int b = 0; b < blocks; b++) {
                const Rect blk{b * 16, y, std::min(16, w - b * 16), 1};
                const bool whole = contains(c, blk);
                assert_int_equal(m.test_block(b, y), whole ? 0 : at(b, y));
            }
        }
    }
}

// The row bounds that let scans skip clean rows: they must cover every
// dirty row through mark, or_word, merge, partial takes and clear, or
// damage would be lost.
void test_row_bounds(void **)
{
    DirtyMap m(1920, 1080);
    assert_int_equal(m.dirty_rows().first, m.dirty_rows().second);
    assert_false(m.any());
    m.mark(100, 500, 24, 32);
    m.mark(1800, 40, 24, 32);
    assert_true(m.dirty_rows().first <= 40 && m.dirty_rows().second >= 532);
    // A clip over the upper one only: the lower one must survive.
    expect_rects(m.take_rects(Rect{0, 0, 1920, 100}), {Rect{1792, 40, 32, 32}});
    assert_true(m.any());
    assert_true(m.dirty_rows().first <= 500 && m.dirty_rows().second >= 532);
    expect_rects(m.take_rects(Rect{0, 0, 1920, 1080}), {Rect{96, 500, 32, 32}});
    assert_false(m.any());
    assert_int_equal(count_blocks(m), 0);

    m.or_word(1079, 0, 1);
    m.or_word(3, 1, 0); // no bits: no damage
    assert_true(m.any());
    expect_rects(m.take_rects(Rect{0, 0, 1920, 1080}), {Rect{0, 1079, 16, 1}});

    DirtyMap other(1920, 1080);
    other.mark(0, 700, 16, 2);
    m.merge(other);
    assert_true(m.any());
    expect_rects(m.take_rects(Rect{0, 0, 1920, 1080}), {Rect{0, 700, 16, 2}});

    m.mark(0, 10, 16, 1);
    m.clear();
    assert_false(m.any());
    assert_int_equal(count_blocks(m), 0);
    m.mark(0, 1070, 16, 1);
    expect_rects(m.take_rects(Rect{0, 0, 1920, 1080}), {Rect{0, 1070, 16, 1}});
    m.mark_all();
    assert_int_equal(count_blocks(m), 120 * 1080);
    assert_int_equal(static_cast<int>(m.take_rects(Rect{0, 0, 1920, 1080}).size()), 1);
}

// coarsen(): a band's rows share the union of their blocks, small gaps are
// filled, and nothing outside [y0, y1) is touched.
void test_coarsen(void **)
{
    DirtyMap m(320, 64);
    m.mark(0, 1, 16, 1);   // block 0, row 1
    m.mark(64, 5, 16, 1);  // block 4, row 5: a 3-block gap to fill
    m.mark(288, 9, 16, 1); // block 18, row 9: a 13-block gap stays
    m.mark(0, 40, 16, 1);  // outside the range below: left alone
    m.coarsen(16, 4, 0, 32);
    expect_rects(m.take_rects(Rect{0, 0, 320, 64}),
                 {Rect{0, 1, 80, 15}, Rect{288, 1, 16, 15}, Rect{0, 40, 16, 1}});
    // A range that starts inside a band coarsens only its part of it (and
    // clean rows before the first dirty one stay clean).
    m.mark(0, 20, 16, 1);
    m.mark(32, 30, 16, 1);
    m.coarsen(16, 0, 25, 64);
    expect_rects(m.take_rects(Rect{0, 0, 320, 64}),
                 {Rect{0, 20, 16, 1}, Rect{32, 25, 16, 6}});
}

// A cursor's staircase (what take_rects gives for its old and new place)
// becomes one box; damage that is far apart, too big or alone stays.
void test_merge_to_bounding_box(void **)
{
    DirtyMap m(320, 200);
    m.mark(Rect{100, 50, 24, 32}); // old place: blocks 6..7
    m.mark(Rect{116, 60, 24, 32}); // new place: blocks 7..8
    std::vector<Rect> rects = m.take_rects(Rect{0, 0, 320, 200});
    expect_rects(rects, {Rect{96, 50, 32, 32}, Rect{128, 60, 16, 32}, Rect{112, 82, 16, 10}});
    std::vector<Rect> box = rects;
    assert_true(merge_to_bounding_box(box, 128 * 128, 2));
    expect_rects(box, {Rect{96, 50, 48, 42}});

    // 48x42 = 2016 pixels: a smaller limit keeps the three.
    box = rects;
    assert_false(merge_to_bounding_box(box, 2015, 2));
    assert_int_equal(box.size(), 3);
    box = rects;
    assert_true(merge_to_bounding_box(box, 2016, 2));

    // Their area is 1024 + 512 + 160 = 1696: the box is 1.19x that.
    box = rects;
    assert_false(merge_to_bounding_box(box, 128 * 128, 1));
    assert_int_equal(box.size(), 3);

    // Two corners of a big box: 2 x 256 pixels against 96 x 96.
    std::vector<Rect> apart{Rect{0, 0, 16, 16}, Rect{80, 80, 16, 16}};
    assert_false(merge_to_bounding_box(apart, 128 * 128, 2));
    expect_rects(apart, {Rect{0, 0, 16, 16}, Rect{80, 80, 16, 16}});

    std::vector<Rect> one{Rect{3, 4, 5, 6}};
    assert_false(merge_to_bounding_box(one, 128 * 128, 2));
    expect_rects(one, {Rect{3, 4, 5, 6}});
    std::vector<Rect> none;
    assert_false(merge_to_bounding_box(none, 128 * 128, 2));
    assert_true(none.empty());
}

// Shared encoding groups clients by these (server/share-pass.hpp).
void test_compare(void **)
{
    DirtyMap a(320, 200), b(320, 200);
    assert_true(a.same_damage(b));
    assert_true(a.subset_of(b));
    assert_int_equal(a.count(), 0);
    a.mark(Rect{20, 10, 40, 5}); // blocks 1..3, rows 10..14
    assert_int_equal(a.count(), 15);
    assert_false(a.same_damage(b));
    assert_false(a.subset_of(b));
    assert_true(b.subset_of(a)); // nothing is part of anything
    b.mark(Rect{0, 0, 320, 100});
    assert_true(a.subset_of(b));
    assert_false(b.subset_of(a));
    assert_int_equal(b.count(), 20 * 100);
    // Equal blocks reached in different orders, and different row ranges
    // whose extra rows are clean.
    DirtyMap c(320, 200);
    c.mark(Rect{300, 190, 16, 10});
    std::vector<Rect> taken;
    c.take_rects(Rect{0, 0, 320, 200}, taken);
    c.mark(Rect{40, 12, 8, 3});
    c.mark(Rect{16, 10, 48, 2});
    c.mark(Rect{32, 13, 16, 2});
    c.mark(Rect{16, 12, 16, 3});
    c.mark(Rect{48, 12, 16, 3});
    assert_true(a.same_damage(c));
    assert_true(c.same_damage(a));
    c.mark(Rect{0, 199, 1, 1});
    assert_false(a.same_damage(c));
    assert_true(a.subset_of(c));
    // Other sizes never compare equal.
    DirtyMap d(336, 200);
    d.mark(Rect{20, 10, 40, 5});
    assert_false(a.same_damage(d));
    assert_false(a.subset_of(d));
}

} // namespace

int main()
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rect_helpers),
        cmocka_unit_test(test_dimensions),
        cmocka_unit_test(test_mark_rounding),
        cmocka_unit_test(test_take_rects_merging),
        cmocka_unit_test(test_take_rects_clip),
        cmocka_unit_test(test_merge),
        cmocka_unit_test(test_random_against_model),
        cmocka_unit_test(test_row_bounds),
        cmocka_unit_test(test_coarsen),
        cmocka_unit_test(test_merge_to_bounding_box),
        cmocka_unit_test(test_compare),
    };
    return cmocka_run_group_tests_name("pixels/dirty-map", tests, nullptr, nullptr);
}
