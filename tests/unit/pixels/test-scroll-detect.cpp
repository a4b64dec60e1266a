// find_scroll: which rows of the guest's damage the server copy holds a few
// rows away.  The guest ends at a PROT_NONE page (no read past the box).
#include <algorithm>
#include <cstring>
#include <optional>
#include <functional>
#include <random>
#include <thread>
#include <vector>

#include <pixman.h>
#include <sys/mman.h>
#include <unistd.h>

#include "dirty-map.hpp"
#include "scroll-detect.hpp"
#include "server-framebuffer.hpp"
#include "surface.hpp"

#include "cmocka.hpp"

using namespace qvnc::vnc;

namespace {

constexpr int kW = 200, kH = 150;

// A picture whose rows all differ and are not flat; `seed` varies it.
std::vector<uint32_t> picture(unsigned seed)
{
    std::mt19937 rng(seed);
    std::vector<uint32_t> px(static_cast<size_t>(kW) * kH);
    for (uint32_t &p : px) p = rng() & 0xffffff;
    return px;
}

// The guest: kW x kH x8r8g8b8 ending at an inaccessible page.
class Guest {
public:
    Guest()
    {
        const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
        bytes_ = static_cast<size_t>(kW) * kH * 4;
        len_ = (bytes_ + page - 1) / page * page + page;
        base_ = static_cast<uint8_t *>(mmap(nullptr, len_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
        assert_true(base_ != MAP_FAILED);
        assert_int_equal(mprotect(base_ + len_ - page, page, PROT_NONE), 0);
    }
    ~Guest() { munmap(base_, len_); }
    uint8_t *data() { return base_ + len_ - sysconf(_SC_PAGESIZE) - bytes_; }
    void set(const std::vector<uint32_t> &px) { std::memcpy(data(), px.data(), bytes_); }
    SurfaceView view() { return SurfaceView{kW, kH, kW * 4, PIXMAN_x8r8g8b8, data()}; }

private:
    uint8_t *base_ = nullptr;
    size_t len_ = 0, bytes_ = 0;
};

// Row y of `to` is row y + dy of `from` where that exists, fresh rows
// elsewhere.
std::vector<uint32_t> shifted(const std::vector<uint32_t> &from, int dy, unsigned seed)
{
    std::vector<uint32_t> to = picture(seed);
    for (int y = 0; y < kH; y++) {
        if (y + dy >= 0 && y + dy < kH) {
            std::memcpy(&to[static_cast<size_t>(y) * kW], &from[static_cast<size_t>(y + dy) * kW], kW * 4);
        }
    }
    return to;
}

// Bands on threads of their own, as the worker pool runs them.
void on_threads(size_t n, const std::function<void(size_t)> &body)
{
    std::vector<std::thread> t;
    for (size_t i = 0; i < n; i++) t.emplace_back(body, i);
    for (auto &th : t) th.join();
}

std::optional<ScrollMove> detect(const std::vector<uint32_t> &before, const std::vector<uint32_t> &now,
                                 const Rect &damage, const RunBands &bands = {})
{
    Guest g;
    g.set(before);
    ServerFramebuffer fb;
    fb.reset(g.view());
    g.set(now);
    DirtyMap d(kW, kH);
    d.mark(damage);
    return find_scroll(g.view(), fb, d, bands);
}

void finds_up_and_down(void **)
{
    const std::vector<uint32_t> a = picture(1);
    for (int dy : {16, 1, -5, 70, -16}) {
        const std::optional<ScrollMove> m =
            detect(a, shifted(a, dy, 2), Rect{0, 0, kW, kH}, dy == -16 ? RunBands(on_threads) : RunBands());
        assert_true(m.has_value());
        const int n = kH - (dy > 0 ? dy : -dy);
        assert_true(m->src == (Rect{0, dy > 0 ? dy : 0, kW, n}));
        assert_true(m->dst == (Rect{0, dy > 0 ? 0 : -dy, kW, n}));
    }
}

// A scroll of a 96-column region inside wider damage whose edges did not
// move (a window's border): found, and only where it holds.
void stays_in_the_damage(void **)
{
    const std::vector<uint32_t> a = picture(3);
    std::vector<uint32_t> b = a;
    const std::vector<uint32_t> moved = shifted(a, 8, 4);
    for (int y = 20; y < 120; y++) {
        std::memcpy(&b[static_cast<size_t>(y) * kW + 32], &moved[static_cast<size_t>(y) * kW + 32], 96 * 4);
    }
    for (int y = 20; y < 120; y++) { // the border changes, but does not move
        b[static_cast<size_t>(y) * kW + 20] ^= 0x10101;
        b[static_cast<size_t>(y) * kW + 140] ^= 0x10101;
    }
    const std::optional<ScrollMove> m = detect(a, b, Rect{20, 20, 121, 100});
    assert_true(m.has_value());
    const std::optional<ScrollMove> mt = detect(a, b, Rect{20, 20, 121, 100}, on_threads);
    assert_true(mt.has_value() && mt->src == m->src && mt->dst == m->dst);
    // Rows 20..111 of the box are rows 28..119 of before (and 112..119 are new).
    assert_true(m->dst == (Rect{32, 20, 96, 92}));
    assert_true(m->src == (Rect{32, 28, 96, 92}));
}

void nothing_without_a_scroll(void **)
{
    const std::vector<uint32_t> a = picture(5);
    assert_false(detect(a, picture(6), Rect{0, 0, kW, kH}).has_value());  // a new frame
    assert_false(detect(a, a, Rect{0, 0, kW, kH}).has_value());           // unchanged
    assert_false(detect(a, shifted(a, 4, 7), Rect{0, 0, 48, kH}).has_value()); // too narrow
    assert_false(detect(a, shifted(a, 140, 8), Rect{0, 0, kW, kH}).has_value()); // band too short
}

// Whatever find_scroll returns must be exact: every row of dst in the
// guest equals the same columns of src in the copy, both inside the
// surface, at least kScrollMinRows rows.  Random shifts, damage, edits of
// single pixels inside the moved part and flat (repeating) rows.
void any_answer_is_exact(void **)
{
    std::mt19937 rng(77);
    int found = 0;
    for (int round = 0; round < 300; round++) {
        std::vector<uint32_t> a = picture(1000 + static_cast<unsigned>(round));
        if (rng() % 3 == 0) { // flat rows: they match at any shift
            for (int y = 0; y < kH; y += 1 + static_cast<int>(rng() % 7)) {
                std::fill_n(a.begin() + static_cast<std::ptrdiff_t>(y) * kW, kW, 0x202020u);
            }
        }
        const int dy = static_cast<int>(rng() % 121) - 60;
        std::vector<uint32_t> b = shifted(a, dy, 2000 + static_cast<unsigned>(round));
        for (int k = static_cast<int>(rng() % 4); k > 0; k--) {
            b[rng() % b.size()] ^= 0x10101u;
        }
        // Damage anywhere from a sliver to the whole surface.
        const int x = static_cast<int>(rng() % 40), y = static_cast<int>(rng() % 30);
        const Rect damage{x, y, 1 + static_cast<int>(rng() % static_cast<unsigned>(kW - x)),
                          1 + static_cast<int>(rng() % static_cast<unsigned>(kH - y))};
        const std::optional<ScrollMove> m = detect(a, b, damage, rng() % 2 ? RunBands(on_threads) : RunBands());
        if (!m) continue;
        found++;
        assert_true(m->src.w == m->dst.w && m->src.h == m->dst.h && m->src.x == m->dst.x);
        assert_true(m->dst.h >= kScrollMinRows && m->dst.w > 0);
        assert_true(m->src.x >= 0 && m->src.right() <= kW && m->src.y >= 0 && m->src.bottom() <= kH);
        assert_true(m->dst.y >= 0 && m->dst.bottom() <= kH);
        for (int r = 0; r < m->dst.h; r++) {
            assert_memory_equal(&b[static_cast<size_t>(m->dst.y + r) * kW + m->dst.x],
                                &a[static_cast<size_t>(m->src.y + r) * kW + m->src.x],
                                static_cast<size_t>(m->dst.w) * 4);
        }
    }
    print_message("%d of 300 rounds found a scroll\n", found);
    assert_true(found > 50); // the rounds do exercise answers
}

} // namespace

int main()
{
    const CMUnitTest tests[] = {
        cmocka_unit_test(finds_up_and_down),
        cmocka_unit_test(stays_in_the_damage),
        cmocka_unit_test(nothing_without_a_scroll),
        cmocka_unit_test(any_answer_is_exact),
    };
    return cmocka_run_group_tests_name("scroll-detect", tests, nullptr, nullptr);
}
