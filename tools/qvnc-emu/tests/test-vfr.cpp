#include <glib.h>
#include <glib/gstdio.h>

#include <cstring>
#include <string>
#include <vector>

#include "recording-screen.hpp"
#include "replay-guest.hpp"
#include "vfr-file.hpp"

// cmocka last: its fail() macro would break the C++ headers.
#include "cmocka.hpp"

using namespace qvnc_emu;

namespace {

// A tiny recording written from the format description: 8x4 pixels,
// three states.  State 0 is black; record 1 paints a 2x2 red square at
// (1,1); record 2 paints a 3x1 green line at (4,3); record 0 blacks both.
struct Rec {
    uint16_t x, y, w, h;
    uint32_t colour;
};

void put16(std::vector<uint8_t> &b, size_t at, uint16_t v)
{
    b[at] = static_cast<uint8_t>(v);
    b[at + 1] = static_cast<uint8_t>(v >> 8);
}
void put32(std::vector<uint8_t> &b, size_t at, uint32_t v)
{
    for (int i = 0; i < 4; ++i) {
        b[at + i] = static_cast<uint8_t>(v >> (8 * i));
    }
}
void put64(std::vector<uint8_t> &b, size_t at, uint64_t v)
{
    put32(b, at, static_cast<uint32_t>(v));
    put32(b, at + 4, static_cast<uint32_t>(v >> 32));
}
size_t align64(size_t n)
{
    return (n + 63) / 64 * 64;
}

std::vector<uint8_t> build_vfr()
{
    const std::vector<std::vector<Rec>> records = {
        {{1, 1, 2, 2, 0}, {4, 3, 3, 1, 0}},
        {{1, 1, 2, 2, 0x00ff0000}},
        {{4, 3, 3, 1, 0x0000ff00}},
    };
    const uint32_t w = 8, h = 4, stride = 32;
    std::vector<uint8_t> b(256 + stride * h, 0);
    std::memcpy(b.data(), "VFRAMES1", 8);
    put32(b, 8, w);
    put32(b, 12, h);
    put32(b, 16, stride);
    put32(b, 20, static_cast<uint32_t>(records.size()));
    put32(b, 24, 0x34325258);
    std::memcpy(b.data() + 32, "unit", 4);
    put64(b, 64, 256);
    const size_t index = b.size();
    put64(b, 72, index);
    b.resize(index + records.size() * 24, 0);
    for (size_t i = 0; i < records.size(); ++i) {
        const size_t offset = b.size();
        put64(b, index + i * 24, offset);
        put32(b, index + i * 24 + 8, static_cast<uint32_t>(records[i].size()));
        b.resize(offset + align64(records[i].size() * 8), 0);
        for (size_t k = 0; k < records[i].size(); ++k) {
            const Rec &r = records[i][k];
            put16(b, offset + k * 8, r.x);
            put16(b, offset + k * 8 + 2, r.y);
            put16(b, offset + k * 8 + 4, r.w);
            put16(b, offset + k * 8 + 6, r.h);
        }
        for (const Rec &r : records[i]) {
            const size_t at = b.size();
            b.resize(at + align64(r.w * r.h * 4u), 0);
            for (int p = 0; p < r.w * r.h; ++p) {
                put32(b, at + p * 4u, r.colour);
            }
        }
    }
    put64(b, 80, b.size());
    return b;
}

struct TempFile {
    TempFile() : dir(g_dir_make_tmp("qvnc-emu-vfr-XXXXXX", nullptr)), path(std::string(dir) + "/t.vfr") {}
    ~TempFile()
    {
        g_unlink(path.c_str());
        g_rmdir(dir);
        g_free(dir);
    }
    void write(const std::vector<uint8_t> &b) const
    {
        assert_true(g_file_set_contents(path.c_str(), reinterpret_cast<const char *>(b.data()),
                                        static_cast<gssize>(b.size()), nullptr));
    }
    char *dir;
    std::string path;
};

void test_reads_and_loops(void **)
{
    TempFile f;
    f.write(build_vfr());
    std::string error;
    auto vfr = VfrFile::open(f.path, error);
    if (!vfr) {
        fail_msg("open: %s", error.c_str());
    }
    assert_int_equal(vfr->width(), 8);
    assert_int_equal(vfr->height(), 4);
    assert_int_equal(vfr->frames(), 3);
    assert_string_equal(vfr->workload().c_str(), "unit");

    RecordingScreen screen;
    Options options;
    ReplayGuest guest(options, screen, std::move(vfr));
    guest.start(); // starts a timer too; the test steps by hand
    assert_int_equal(screen.shows, 1);
    assert_true((guest.frame().get(1, 1) == Rgb{0, 0, 0}));
    guest.advance(); // record 1
    assert_true((guest.frame().get(2, 2) == Rgb{0xff, 0, 0}));
    assert_int_equal(screen.updates.size(), 1);
    assert_true((screen.updates[0] == Rect{1, 1, 2, 2}));
    guest.advance(); // record 2
    assert_true((guest.frame().get(6, 3) == Rgb{0, 0xff, 0}));
    assert_true((screen.updates[1] == Rect{4, 3, 3, 1}));
    guest.advance(); // record 0 closes the loop
    assert_true((guest.frame().get(2, 2) == Rgb{0, 0, 0}));
    assert_true((guest.frame().get(6, 3) == Rgb{0, 0, 0}));
    assert_int_equal(screen.updates.size(), 4); // one update per rect
    guest.advance(); // record 1 again
    assert_true((guest.frame().get(1, 1) == Rgb{0xff, 0, 0}));
}

// --replay-fps 0: nothing moves until a display asks, then exactly one
// record per request, applied from the main loop (not inside the call).
void test_demand_driven(void **)
{
    TempFile f;
    f.write(build_vfr());
    std::string error;
    auto vfr = VfrFile::open(f.path, error);
    if (!vfr) {
        fail_msg("open: %s", error.c_str());
    }
    RecordingScreen screen;
    Options options;
    options.replay_fps = 0;
    ReplayGuest guest(options, screen, std::move(vfr));
    guest.start();
    while (g_main_context_iteration(nullptr, FALSE)) {
    }
    assert_int_equal(screen.updates.size(), 0); // no timer: no request, no frame
    guest.update_wanted();
    guest.update_wanted(); // asked twice before the loop ran: still one record
    assert_int_equal(screen.updates.size(), 0);
    while (g_main_context_iteration(nullptr, FALSE)) {
    }
    assert_int_equal(screen.updates.size(), 1);
    assert_true((screen.updates[0] == Rect{1, 1, 2, 2}));
    guest.update_wanted();
    while (g_main_context_iteration(nullptr, FALSE)) {
    }
    assert_int_equal(screen.updates.size(), 2);
    assert_true((screen.updates[1] == Rect{4, 3, 3, 1}));
    // Each record ends with a flush after its last rect, none earlier.
    assert_int_equal(screen.flushed_at.size(), 2);
    assert_int_equal(screen.flushed_at[0], 1);
    assert_int_equal(screen.flushed_at[1], 2);
    guest.set_running(false);
    guest.update_wanted(); // a stopped guest keeps its frame
    while (g_main_context_iteration(nullptr, FALSE)) {
    }
    assert_int_equal(screen.updates.size(), 2);
}

void test_rejects_broken_files(void **)
{
    TempFile f;
    std::string error;
    std::vector<uint8_t> b = build_vfr();

    std::vector<uint8_t> truncated(b.begin(), b.end() - 10);
    f.write(truncated);
    assert_null(VfrFile::open(f.path, error).get());

    std::vector<uint8_t> bad_magic = b;
    bad_magic[0] = 'X';
    f.write(bad_magic);
    assert_null(VfrFile::open(f.path, error).get());

    std::vector<uint8_t> rect_outside = b;
    // The first rect of record 0 lives right after the index.
    const size_t record0 = 256 + 32 * 4 + 3 * 24;
    put16(rect_outside, record0 + 4, 200);
    f.write(rect_outside);
    assert_null(VfrFile::open(f.path, error).get());
    assert_non_null(strstr(error.c_str(), "outside"));

    std::vector<uint8_t> many_rects = b;
    put32(many_rects, 256 + 32 * 4 + 8, 0x7fffffff);
    f.write(many_rects);
    assert_null(VfrFile::open(f.path, error).get());

    assert_null(VfrFile::open(f.path + ".missing", error).get());
    assert_false(error.empty());
}

} // namespace

int main()
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reads_and_loops),
        cmocka_unit_test(test_demand_driven),
        cmocka_unit_test(test_rejects_broken_files),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
