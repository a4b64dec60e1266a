// ServerFramebuffer: the compare-copy refresh and its read bounds.  Guest
// surfaces that must not be over-read end exactly at a PROT_NONE page, so
// reading one byte too far crashes the test (CVE-2015-5225).
#include <algorithm>
#include <cstring>
#include <thread>
#include <vector>

#include <pixman.h>
#include <sys/mman.h>
#include <unistd.h>

#include "dirty-map.hpp"
#include "server-framebuffer.hpp"
#include "surface.hpp"

// Last: cmocka defines a fail() macro that clashes with <ios>.
#include "cmocka.hpp"

using namespace qvnc::vnc;

namespace {

// `size` writable bytes followed directly by an inaccessible page.
class GuardedBuffer {
public:
    explicit GuardedBuffer(size_t size) : size_(size)
    {
        const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
        map_len_ = (size + page - 1) / page * page + page;
        void *p = mmap(nullptr, map_len_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        assert_true(p != MAP_FAILED);
        base_ = static_cast<uint8_t *>(p);
        assert_int_equal(mprotect(base_ + map_len_ - page, page, PROT_NONE), 0);
        data_ = base_ + map_len_ - page - size;
    }
    ~GuardedBuffer() { munmap(base_, map_len_); }
    GuardedBuffer(const GuardedBuffer &) = delete;
    GuardedBuffer &operator=(const GuardedBuffer &) = delete;

    uint8_t *data() { return data_; }
    size_t size() const { return size_; }

private:
    uint8_t *base_ = nullptr;
    uint8_t *data_ = nullptr;
    size_t map_len_ = 0;
    size_t size_ = 0;
};

void put32(uint8_t *row, int x, uint32_t v)
{
    std::memcpy(row + 4 * x, &v, 4);
}

uint32_t get32(const uint8_t *row, int x)
{
    uint32_t v;
    std::memcpy(&v, row + 4 * x, 4);
    return v;
}

void fill_pattern(uint8_t *data, int w, int h, int stride, uint32_t seed)
{
    for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
            put32(data + static_cast<size_t>(y) * stride, x, seed ^ static_cast<uint32_t>(y * 7919 + x * 31));
        }
    }
}

int count_blocks(const DirtyMap &m)
{
    int n = 0;
    for (int y = 0; y < m.height(); y++)
        for (int b = 0; b < m.blocks_per_row(); b++) n += m.test_block(b, y);
    return n;
}

void test_reset_copies(void **)
{
    const int w = 40, h = 10, stride = w * 4 + 12;
    std::vector<uint8_t> guest(static_cast<size_t>(stride) * h, 0xee);
    fill_pattern(guest.data(), w, h, stride, 0x1000);
    ServerFramebuffer fb;
    assert_true(fb.empty());
    fb.reset(SurfaceView{w, h, stride, PIXMAN_x8r8g8b8, guest.data()});
    assert_false(fb.empty());
    assert_int_equal(fb.width(), w);
    assert_int_equal(fb.height(), h);
    assert_int_equal(fb.format(), PIXMAN_x8r8g8b8);
    assert_int_equal(fb.bytes_per_pixel(), 4);
    assert_int_equal(fb.stride(), 48 * 4); // padded to whole blocks
    for (int y = 0; y < h; y++) {
        assert_memory_equal(fb.row(y), guest.data() + static_cast<size_t>(y) * stride, w * 4);
        // The guest's padding bytes are not copied.
        for (int i = w * 4; i < fb.stride(); i++) assert_int_equal(fb.row(y)[i], 0);
    }
    const SurfaceView v = fb.view();
    assert_int_equal(v.width, w);
    assert_int_equal(v.stride, fb.stride());
    assert_ptr_equal(v.data, fb.row(0));
}

void test_refresh_marks_real_changes(void **)
{
    const int w = 40, h = 10, stride = w * 4;
    std::vector<uint8_t> guest(static_cast<size_t>(stride) * h);
    fill_pattern(guest.data(), w, h, stride, 0x2000);
    const SurfaceView gv{w, h, stride, PIXMAN_x8r8g8b8, guest.data()};
    ServerFramebuffer fb;
    fb.reset(gv);

    DirtyMap guest_dirty(w, h), changed(w, h);
    guest_dirty.mark_all();
    assert_false(fb.refresh_from(gv, guest_dirty, changed)); // nothing differs
    assert_false(changed.any());

    put32(guest.data() + 3 * stride, 5, 0xdeadbeef);
    put32(guest.data() + 7 * stride, 33, 0xcafef00d);
    put32(guest.data() + 2 * stride, 20, 0x12345678); // drawn but not reported
    guest_dirty.clear();
    guest_dirty.mark(0, 3, 8, 1);
    guest_dirty.mark(30, 5, 10, 5);
    assert_true(fb.refresh_from(gv, guest_dirty, changed));
    assert_int_equal(count_blocks(changed), 2);
    assert_true(changed.test_block(0, 3));
    assert_true(changed.test_block(2, 7));
    assert_int_equal(get32(fb.row(3), 5), 0xdeadbeef);
    assert_int_equal(get32(fb.row(7), 33), 0xcafef00d);
    assert_int_not_equal(get32(fb.row(2), 20), 0x12345678);

    changed.clear();
    assert_false(fb.refresh_from(gv, guest_dirty, changed));
    assert_false(changed.any());

    // A smaller `changed` map is clipped, not overrun.
    DirtyMap small(16, 2);
    put32(guest.data() + 1 * stride, 39, 1);
    put32(guest.data() + 0 * stride, 0, 1);
    guest_dirty.mark_all();
    assert_true(fb.refresh_from(gv, guest_dirty, small));
    assert_int_equal(count_blocks(small), 1);
}

void test_larger_stride_tight_buffer(void **)
{
    // Rows padded to a larger stride; the last row has no padding and ends
    // at the guard page.
    const int w = 37, h = 6, stride = w * 4 + 20;
    GuardedBuffer buf(static_cast<size_t>(stride) * (h - 1) + w * 4);
    std::memset(buf.data(), 0xab, buf.size());
    fill_pattern(buf.data(), w, h, stride, 0x3000);
    const SurfaceView gv{w, h, stride, PIXMAN_a8b8g8r8, buf.data()};
    ServerFramebuffer fb;
    fb.reset(gv);
    DirtyMap gd(w, h), changed(w, h);
    put32(buf.data() + static_cast<size_t>(h - 1) * stride, w - 1, 0x55555555);
    gd.mark_all();
    assert_true(fb.refresh_from(gv, gd, changed));
    assert_int_equal(count_blocks(changed), 1);
    assert_true(changed.test_block(2, h - 1));
    assert_int_equal(get32(fb.row(h - 1), w - 1), 0x55555555);
}

void test_guest_narrower_than_copy(void **)
{
    const int w = 64, h = 8;
    std::vector<uint8_t> wide(static_cast<size_t>(w) * 4 * h);
    fill_pattern(wide.data(), w, h, w * 4, 0x4000);
    ServerFramebuffer fb;
    fb.reset(SurfaceView{w, h, w * 4, PIXMAN_x8r8g8b8, wide.data()});

    // Same format, 40 pixels wide, packed tightly against the guard page.
    const int nw = 40;
    GuardedBuffer narrow(static_cast<size_t>(nw) * 4 * h);
    fill_pattern(narrow.data(), nw, h, nw * 4, 0x5000);
    const SurfaceView gv{nw, h, nw * 4, PIXMAN_x8r8g8b8, narrow.data()};
    DirtyMap gd(w, h), changed(w, h);
    gd.mark_all();
    assert_true(fb.refresh_from(gv, gd, changed));
    for (int y = 0; y < h; y++) {
        assert_memory_equal(fb.row(y), narrow.data() + static_cast<size_t>(y) * nw * 4, nw * 4);
        // Beyond the guest's width the copy keeps its old pixels.
        assert_memory_equal(fb.row(y) + nw * 4, wide.data() + static_cast<size_t>(y) * w * 4 + nw * 4,
                            (w - nw) * 4);
        assert_true(changed.test_block(2, y));
        assert_false(changed.test_block(3, y));
    }
}

void test_stride_smaller_than_width(void **)
{
    // A malformed surface: the stride covers only 16 of the 32 pixels.
    const int w = 32, h = 4, stride = 16 * 4;
    GuardedBuffer buf(static_cast<size_t>(stride) * h);
    fill_pattern(buf.data(), 16, h, stride, 0x6000);
    const SurfaceView gv{w, h, stride, PIXMAN_x8r8g8b8, buf.data()};
    ServerFramebuffer fb;
    fb.reset(gv);
    assert_int_equal(fb.width(), w);
    DirtyMap gd(w, h), changed(w, h);
    put32(buf.data() + static_cast<size_t>(h - 1) * stride, 15, 0x77777777);
    gd.mark_all();
    assert_true(fb.refresh_from(gv, gd, changed));
    assert_int_equal(count_blocks(changed), 1);
    assert_true(changed.test_block(0, h - 1));
}

void test_guest_shorter_than_copy(void **)
{
    const int w = 16, h = 8;
    std::vector<uint8_t> full(static_cast<size_t>(w) * 4 * h, 0);
    ServerFramebuffer fb;
    fb.reset(SurfaceView{w, h, w * 4, PIXMAN_x8r8g8b8, full.data()});
    GuardedBuffer shortbuf(static_cast<size_t>(w) * 4 * 3);
    std::memset(shortbuf.data(), 0x11, shortbuf.size());
    DirtyMap gd(w, h), changed(w, h);
    gd.mark_all();
    assert_true(fb.refresh_from(SurfaceView{w, 3, w * 4, PIXMAN_x8r8g8b8, shortbuf.data()}, gd, changed));
    assert_int_equal(count_blocks(changed), 3);
    assert_int_equal(fb.row(3)[0], 0);
}

void test_clamped_to_vnc_max(void **)
{
    // 16 bpp keeps the buffer small; 10 extra columns and 1 extra row.
    const int w = kVncMaxWidth + 10, h = kVncMaxHeight + 1, stride = w * 2;
    GuardedBuffer buf(static_cast<size_t>(stride) * h);
    std::memset(buf.data(), 0, buf.size());
    const SurfaceView gv{w, h, stride, PIXMAN_r5g6b5, buf.data()};
    ServerFramebuffer fb;
    fb.reset(gv);
    assert_int_equal(fb.width(), kVncMaxWidth);
    assert_int_equal(fb.height(), kVncMaxHeight);
    assert_int_equal(fb.stride(), kVncMaxWidth * 2);
    assert_int_equal(fb.bytes_per_pixel(), 2);

    DirtyMap gd(w, h), changed(w, h);
    assert_int_equal(gd.width(), kVncMaxWidth);
    uint8_t *last = buf.data() + static_cast<size_t>(kVncMaxHeight - 1) * stride;
    last[2 * (kVncMaxWidth - 1)] = 0xff;                 // inside: changes
    last[2 * (kVncMaxWidth + 5)] = 0xff;                 // beyond the width
    buf.data()[static_cast<size_t>(kVncMaxHeight) * stride] = 0xff; // beyond the height
    gd.mark_all();
    assert_true(fb.refresh_from(gv, gd, changed));
    assert_int_equal(count_blocks(changed), 1);
    assert_true(changed.test_block(kVncMaxWidth / 16 - 1, kVncMaxHeight - 1));
}

void test_unusable_inputs(void **)
{
    std::vector<uint8_t> px(16 * 4 * 4, 0);
    ServerFramebuffer fb;
    fb.reset(SurfaceView{16, 4, 64, PIXMAN_x8r8g8b8, px.data()});
    DirtyMap gd(16, 4), changed(16, 4);
    gd.mark_all();
    px[0] = 1;
    // Another format: the caller must reset() first.
    assert_false(fb.refresh_from(SurfaceView{16, 4, 64, PIXMAN_a8r8g8b8, px.data()}, gd, changed));
    assert_false(fb.refresh_from(SurfaceView{16, 4, 64, PIXMAN_x8r8g8b8, nullptr}, gd, changed));
    assert_false(fb.refresh_from(SurfaceView{16, 4, 0, PIXMAN_x8r8g8b8, px.data()}, gd, changed));
    assert_false(fb.refresh_from(SurfaceView{16, 4, -64, PIXMAN_x8r8g8b8, px.data()}, gd, changed));
    assert_false(changed.any());
    assert_true(fb.refresh_from(SurfaceView{16, 4, 64, PIXMAN_x8r8g8b8, px.data()}, gd, changed));

    fb.reset(SurfaceView{0, 4, 64, PIXMAN_x8r8g8b8, px.data()});
    assert_true(fb.empty());
    fb.reset(SurfaceView{16, 4, 64, PIXMAN_x8r8g8b8, nullptr});
    assert_true(fb.empty());
    fb.reset(SurfaceView{16, 4, 64, 0, px.data()});
    assert_true(fb.empty());
    assert_false(fb.refresh_from(SurfaceView{16, 4, 64, 0, px.data()}, gd, changed));
    assert_true(fb.view().data == nullptr);
}

// Runs of dirty blocks are compared as a whole first, then block by block;
// the changed blocks are reported exactly, also across the 64-block words
// of the bitmap and at a partial last block.
void test_refresh_runs_across_words(void **)
{
    const int w = 16 * 140 + 5, h = 3, stride = w * 4;
    std::vector<uint8_t> guest(static_cast<size_t>(stride) * h);
    fill_pattern(guest.data(), w, h, stride, 0x3000);
    const SurfaceView gv{w, h, stride, PIXMAN_x8r8g8b8, guest.data()};
    ServerFramebuffer fb;
    fb.reset(gv);
    const int changed_blocks[] = {0, 63, 64, 65, 127, 128, 140};
    for (int b : changed_blocks) {
        put32(guest.data() + 1 * stride, std::min(b * 16 + 15, w - 1), 0xabcdef00u + static_cast<uint32_t>(b));
    }
    DirtyMap guest_dirty(w, h), changed(w, h);
    guest_dirty.mark_all();
    assert_true(fb.refresh_from(gv, guest_dirty, changed));
    assert_int_equal(count_blocks(changed), 7);
    for (int b : changed_blocks) assert_true(changed.test_block(b, 1));
    for (int y = 0; y < h; y++) {
        assert_memory_equal(fb.row(y), guest.data() + static_cast<size_t>(y) * stride, w * 4);
    }
    // Dirty blocks that did not change are not reported.
    changed.clear();
    put32(guest.data() + 2 * stride, 70 * 16, 1);
    guest_dirty.clear();
    guest_dirty.mark(60 * 16, 2, 16 * 20, 1); // blocks 60..79, one changed
    assert_true(fb.refresh_from(gv, guest_dirty, changed));
    assert_int_equal(count_blocks(changed), 1);
    assert_true(changed.test_block(70, 2));
}

// refresh_rows in bands on three threads at once (as the server's pool
// runs it on a big frame) finds and copies exactly what refresh_from does,
// reading the guest no further (it ends at a guard page).
void test_refresh_rows_in_bands(void **)
{
    const int w = 16 * 70 + 9, h = 97, stride = w * 4;
    GuardedBuffer buf(static_cast<size_t>(stride) * h);
    fill_pattern(buf.data(), w, h, stride, 0x5000);
    const SurfaceView gv{w, h, stride, PIXMAN_x8r8g8b8, buf.data()};
    ServerFramebuffer one, banded;
    one.reset(gv);
    banded.reset(gv);
    uint32_t seed = 12345;
    auto rnd = [&seed](int n) {
        seed = seed * 1103515245u + 12345u;
        return static_cast<int>((seed >> 8) % static_cast<uint32_t>(n));
    };
    for (int round = 0; round < 4; round++) {
        for (int i = 0; i < 300; i++) {
            put32(buf.data() + static_cast<size_t>(rnd(h)) * stride, rnd(w), seed);
        }
        DirtyMap guest_dirty(w, h), want(w, h), got(w, h);
        for (int i = 0; i < 6; i++) {
            guest_dirty.mark(rnd(w), rnd(h), 1 + rnd(w / 2), 1 + rnd(h / 2));
        }
        const bool any = one.refresh_from(gv, guest_dirty, want);
        const ServerFramebuffer::RowsPlan plan = banded.plan_rows(gv, guest_dirty);
        std::vector<uint64_t> differ(static_cast<size_t>(plan.y1 - plan.y0) * plan.words, 0);
        std::vector<std::thread> threads;
        const int rows = plan.y1 - plan.y0;
        for (int b = 0; b < 3; b++) {
            threads.emplace_back([&, b] {
                banded.refresh_rows(plan, gv, guest_dirty, plan.y0 + rows * b / 3, plan.y0 + rows * (b + 1) / 3,
                                    differ);
            });
        }
        for (std::thread &t : threads) t.join();
        for (int y = plan.y0; y < plan.y1; y++) {
            for (size_t k = 0; k < plan.words; k++) {
                got.or_word(y, static_cast<int>(k), differ[static_cast<size_t>(y - plan.y0) * plan.words + k]);
            }
        }
        assert_int_equal(count_blocks(got), count_blocks(want));
        assert_true((count_blocks(want) > 0) == any);
        for (int y = 0; y < h; y++) {
            for (int b = 0; b < want.blocks_per_row(); b++) assert_int_equal(got.test_block(b, y), want.test_block(b, y));
            assert_memory_equal(banded.row(y), one.row(y), static_cast<size_t>(w) * 4);
        }
    }
}

// An encoder snapshot: the geometry of the source, the pixels of the given
// rectangles, nothing else copied.
void test_copy_rects_from(void **)
{
    const int w = 50, h = 20, stride = w * 4;
    std::vector<uint8_t> guest(static_cast<size_t>(stride) * h);
    fill_pattern(guest.data(), w, h, stride, 0x4000);
    ServerFramebuffer fb, snap;
    fb.reset(SurfaceView{w, h, stride, PIXMAN_x8r8g8b8, guest.data()});
    const Rect rects[] = {{3, 2, 10, 4}, {40, 15, 20, 20}}; // the second is clipped
    snap.copy_rects_from(fb, rects);
    assert_int_equal(snap.width(), w);
    assert_int_equal(snap.height(), h);
    assert_int_equal(snap.stride(), fb.stride());
    assert_int_equal(snap.format(), fb.format());
    for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
            const bool inside = (x >= 3 && x < 13 && y >= 2 && y < 6) || (x >= 40 && y >= 15);
            if (inside) {
                assert_int_equal(get32(snap.row(y), x), get32(fb.row(y), x));
            } else {
                assert_int_equal(get32(snap.row(y), x), 0);
            }
        }
    }
    // Again with the same geometry: only the new rectangle changes.
    const Rect again[] = {{0, 0, 1, 1}};
    snap.copy_rects_from(fb, again);
    assert_int_equal(get32(snap.row(0), 0), get32(fb.row(0), 0));
    assert_int_equal(get32(snap.row(2), 3), get32(fb.row(2), 3));
}

// A w x h guest surface of 32-bit pixels filled with the pattern `seed`.
struct PatternGuest {
    int w, h, stride;
    std::vector<uint8_t> pixels;
    PatternGuest(int width, int height, uint32_t seed)
        : w(width), h(height), stride(width * 4), pixels(static_cast<size_t>(stride) * height)
    {
        fill_pattern(pixels.data(), w, h, stride, seed);
    }
    SurfaceView view() { return SurfaceView{w, h, stride, PIXMAN_x8r8g8b8, pixels.data()}; }
    void put(int x, int y, uint32_t v) { put32(pixels.data() + static_cast<size_t>(y) * stride, x, v); }
};

// A job reading the pixels in place (share_from) sees them as they were
// when it took them, whatever the server does next: compare pass, guest
// blit, new surface.  Each change copies the pixels first while shared.
void test_share_from_copy_on_write(void **)
{
    const int w = 48, h = 8;
    PatternGuest guest(w, h, 0x1000);
    const SurfaceView gv = guest.view();
    ServerFramebuffer fb, job;
    fb.reset(gv);
    assert_false(fb.shared());
    job.share_from(fb);
    assert_true(fb.shared());
    assert_true(job.shared());
    assert_ptr_equal(job.row(0), fb.row(0)); // no copy taken
    const uint32_t before = get32(job.row(3), 5);

    // Compare pass: the server's copy changes, the job's pixels do not.
    guest.put(5, 3, ~before);
    DirtyMap dirty(w, h), changed(w, h);
    dirty.mark(0, 0, w, h);
    assert_true(fb.refresh_from(gv, dirty, changed));
    assert_int_equal(get32(fb.row(3), 5), ~before);
    assert_int_equal(get32(job.row(3), 5), before);
    assert_false(fb.shared()); // the server has pixels of its own again

    // A blit while shared again.
    ServerFramebuffer job2;
    job2.share_from(fb);
    const uint32_t at0 = get32(fb.row(0), 0);
    fb.copy_rect(Rect{16, 4, 16, 4}, Rect{0, 0, 16, 4});
    assert_int_equal(get32(job2.row(0), 0), at0);
    assert_int_equal(get32(fb.row(0), 0), get32(fb.row(4), 16));

    // A new surface while shared: the job keeps the old size and pixels.
    ServerFramebuffer job3;
    job3.share_from(fb);
    const uint32_t old = get32(fb.row(1), 1);
    std::vector<uint8_t> small(16 * 4 * 2, 0xAB);
    fb.reset(SurfaceView{16, 2, 16 * 4, PIXMAN_x8r8g8b8, small.data()});
    assert_int_equal(fb.width(), 16);
    assert_int_equal(job3.width(), w);
    assert_int_equal(get32(job3.row(1), 1), old);

    // Released: the server changes its pixels in place again.
    job3.release();
    assert_true(job3.empty());
    assert_false(fb.shared());
    const uint8_t *where = fb.row(0);
    fb.copy_rect(Rect{0, 1, 16, 1}, Rect{0, 0, 16, 1});
    assert_ptr_equal(fb.row(0), where);
}

// The server compares damage that no sharer reads in place, around a
// job's rectangles (write_shared): no copy of the frame, and the sharer's
// own rectangle keeps its pixels.
void test_refresh_writes_around_sharer(void **)
{
    const int w = 64, h = 4;
    PatternGuest guest(w, h, 0x2000);
    const SurfaceView gv = guest.view();
    ServerFramebuffer fb, job;
    fb.reset(gv);
    job.share_from(fb); // say it reads block 0 of row 0 only
    const uint32_t job_px = get32(job.row(0), 3);
    guest.put(40, 2, 0xFFFFFFFF); // outside the job's rect
    DirtyMap dirty(w, h), changed(w, h);
    dirty.mark(32, 2, 16, 1);
    assert_true(fb.refresh_from(gv, dirty, changed, true));
    assert_true(fb.shared());                 // no copy was made
    assert_ptr_equal(fb.row(0), job.row(0));
    assert_int_equal(get32(fb.row(2), 40), 0xFFFFFFFF);
    assert_int_equal(get32(job.row(0), 3), job_px);
}

} // namespace

int main()
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reset_copies),
        cmocka_unit_test(test_refresh_marks_real_changes),
        cmocka_unit_test(test_larger_stride_tight_buffer),
        cmocka_unit_test(test_guest_narrower_than_copy),
        cmocka_unit_test(test_stride_smaller_than_width),
        cmocka_unit_test(test_guest_shorter_than_copy),
        cmocka_unit_test(test_clamped_to_vnc_max),
        cmocka_unit_test(test_unusable_inputs),
        cmocka_unit_test(test_refresh_runs_across_words),
        cmocka_unit_test(test_refresh_rows_in_bands),
        cmocka_unit_test(test_copy_rects_from),
        cmocka_unit_test(test_share_from_copy_on_write),
        cmocka_unit_test(test_refresh_writes_around_sharer),
    };
    return cmocka_run_group_tests_name("pixels/server-framebuffer", tests, nullptr, nullptr);
}
