// Deflater::feed stores what does not compress, Huffman-codes what only
// compresses a little and compresses the rest: its output must inflate
// (zlib's own inflate, an independent decoder) to exactly the input,
// whatever mix of runs it made; it must store noise and nothing else, and
// Huffman-code only where that costs few bytes.
#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

#include <zlib.h>

#include "enc-util.hpp"

#include "cmocka.hpp"

using qvnc::vnc::enc::Deflater;

namespace {

std::vector<uint8_t> noise(size_t n, unsigned seed)
{
    std::mt19937 rng(seed);
    std::vector<uint8_t> v(n);
    for (uint8_t &b : v) b = static_cast<uint8_t>(rng());
    return v;
}

// Rows of "text": a few runs of two colours, three bytes a pixel, as
// ZRLE's raw CPIXELs of a terminal would be.
std::vector<uint8_t> text(size_t n, unsigned seed)
{
    std::mt19937 rng(seed);
    std::vector<uint8_t> v(n);
    for (size_t i = 0; i < n; i += 3) {
        const bool ink = (i / 3) % 17 < 2 || rng() % 29 == 0;
        v[i] = ink ? 0x10 : 0xf0;
        if (i + 1 < n) v[i + 1] = ink ? 0x10 : 0xf0;
        if (i + 2 < n) v[i + 2] = ink ? 0x20 : 0xf8;
    }
    return v;
}

// Photo-like bytes: a smooth wave with grain.  Level 1 finds few repeats;
// it saves ~10-20% through the skewed byte statistics alone.
std::vector<uint8_t> photo(size_t n, unsigned seed)
{
    std::mt19937 rng(seed);
    std::vector<uint8_t> v(n);
    for (size_t i = 0; i < n; i++) {
        const int wave = static_cast<int>((i / 97) % 64) - 32;
        v[i] = static_cast<uint8_t>(128 + wave + static_cast<int>(rng() % 48) - 24);
    }
    return v;
}

// Noise with repeats: 64-byte blocks, one in five a copy of a recent one.
// Level 1 saves ~20% through the repeats; Huffman coding saves nothing.
std::vector<uint8_t> repeats(size_t n, unsigned seed)
{
    std::mt19937 rng(seed);
    std::vector<uint8_t> v = noise(n, seed + 100);
    for (size_t b = 64; b + 64 <= n; b += 64) {
        if (rng() % 5 == 0) {
            const size_t from = b - 64 * (1 + rng() % std::min<size_t>(64, b / 64));
            std::copy_n(v.begin() + static_cast<std::ptrdiff_t>(from), 64, v.begin() + static_cast<std::ptrdiff_t>(b));
        }
    }
    return v;
}

// What zlib alone makes of `in` at level 1 (raw deflate, one sync flush).
size_t level1_size(const std::vector<uint8_t> &in)
{
    z_stream s{};
    assert_int_equal(deflateInit2(&s, 1, Z_DEFLATED, -15, 9, Z_DEFAULT_STRATEGY), Z_OK);
    std::vector<uint8_t> out(deflateBound(&s, static_cast<uLong>(in.size())) + 64);
    s.next_in = const_cast<Bytef *>(in.data());
    s.avail_in = static_cast<uInt>(in.size());
    s.next_out = out.data();
    s.avail_out = static_cast<uInt>(out.size());
    assert_int_equal(deflate(&s, Z_SYNC_FLUSH), Z_OK);
    const size_t n = out.size() - s.avail_out;
    deflateEnd(&s);
    return n;
}

// Inflates a Deflater's output (zlib header, raw deflate, no trailer).
std::vector<uint8_t> inflate_all(const Deflater &z, size_t expect)
{
    z_stream s{};
    assert_int_equal(inflateInit(&s), Z_OK);
    std::vector<uint8_t> out(expect + 1024);
    s.next_in = const_cast<Bytef *>(z.output_data());
    s.avail_in = static_cast<uInt>(z.output_size());
    s.next_out = out.data();
    s.avail_out = static_cast<uInt>(out.size());
    const int rc = inflate(&s, Z_SYNC_FLUSH);
    assert_true(rc == Z_OK || rc == Z_BUF_ERROR);
    assert_int_equal(s.avail_in, 0);
    out.resize(out.size() - s.avail_out);
    inflateEnd(&s);
    return out;
}

void check_round_trip(const Deflater &z, const std::vector<uint8_t> &in)
{
    const std::vector<uint8_t> back = inflate_all(z, in.size());
    assert_int_equal(back.size(), in.size());
    assert_memory_equal(back.data(), in.data(), in.size());
}

void noise_is_stored(void **)
{
    Deflater z;
    z.set_level(1);
    const std::vector<uint8_t> in = noise(1 << 20, 1);
    z.feed(in.data(), in.size());
    z.sync_flush();
    assert_true(z.stored_runs() >= 10); // 1 MiB in runs of 64 KiB
    assert_true(z.output_size() < in.size() + in.size() / 100);
    check_round_trip(z, in);
}

void text_is_compressed(void **)
{
    Deflater z;
    z.set_level(1);
    const std::vector<uint8_t> in = text(1 << 20, 2);
    z.feed(in.data(), in.size());
    z.sync_flush();
    assert_int_equal(z.stored_runs(), 0);
    assert_int_equal(z.huffman_runs(), 0);
    assert_true(z.output_size() * 10 < in.size());
    check_round_trip(z, in);
}

// Photo-like data goes Huffman-only, within 10% of level 1's bytes.
void photo_is_huffman_coded(void **)
{
    Deflater z;
    z.set_level(1);
    const std::vector<uint8_t> in = photo(1 << 20, 9);
    z.feed(in.data(), in.size());
    z.sync_flush();
    const size_t l1 = level1_size(in);
    assert_true(l1 * 20 < in.size() * 19); // the data does compress
    assert_int_equal(z.stored_runs(), 0);
    assert_true(z.huffman_runs() >= 3); // 1 MiB in runs of 256 KiB
    assert_true(z.output_size() * 10 <= l1 * 11);
    check_round_trip(z, in);
}

// Where level 1's saving comes from repeats, one Huffman run shows that it
// keeps little of it, and the rest of the input is compressed at level 1.
void repeats_keep_the_level(void **)
{
    Deflater z;
    z.set_level(1);
    const std::vector<uint8_t> in = repeats(2 << 20, 10);
    z.feed(in.data(), in.size());
    z.sync_flush();
    const size_t l1 = level1_size(in);
    assert_true(l1 * 10 < in.size() * 9); // level 1 saves > 10%
    assert_int_equal(z.stored_runs(), 0);
    assert_true(z.huffman_runs() <= 1);
    // One 256 KiB run of 2 MiB without the repeats' saving.
    assert_true(z.output_size() * 100 <= l1 * 104);
    check_round_trip(z, in);
}

// Noise, text, noise in one feed and then more text: the text after the
// stored noise is compressed again (runs after a stored probe are short),
// and the stream stays valid across the level switches and flushes.
void mixed_switches_back(void **)
{
    Deflater z;
    z.set_level(1);
    std::vector<uint8_t> in = noise(200 * 1024, 3);
    const std::vector<uint8_t> t = text(600 * 1024, 4), n2 = noise(150 * 1024, 5);
    in.insert(in.end(), t.begin(), t.end());
    in.insert(in.end(), n2.begin(), n2.end());
    z.feed(in.data(), in.size());
    z.sync_flush();
    const size_t after_first = z.output_size();
    // Noise 350 KiB stored; the text at least halved (alone it is < 1/10).
    assert_true(z.stored_runs() >= 4);
    assert_true(after_first < 350 * 1024 + 300 * 1024);
    const std::vector<uint8_t> more = text(100 * 1024, 6);
    z.feed(more.data(), more.size());
    z.sync_flush();
    assert_true(z.output_size() - after_first < more.size() / 10);
    in.insert(in.end(), more.begin(), more.end());
    check_round_trip(z, in);
}

// A chunk compressor left stored by a feed starts its next chunk at its
// level again (restart), and small feeds are never probed.
void restart_restores_level(void **)
{
    Deflater z(false);
    z.restart(1, Z_DEFAULT_STRATEGY, {});
    const std::vector<uint8_t> in = noise(256 * 1024, 7);
    z.feed(in.data(), in.size());
    z.sync_flush();
    const size_t stored = z.stored_runs();
    assert_true(stored > 0);
    z.restart(1, Z_DEFAULT_STRATEGY, {});
    const std::vector<uint8_t> small = text(32 * 1024, 8);
    z.feed(small.data(), small.size());
    z.sync_flush();
    assert_int_equal(z.stored_runs(), stored);
    assert_true(z.output_size() * 10 < small.size());
}

} // namespace

int main()
{
    const CMUnitTest tests[] = {
        cmocka_unit_test(noise_is_stored),
        cmocka_unit_test(text_is_compressed),
        cmocka_unit_test(photo_is_huffman_coded),
        cmocka_unit_test(repeats_keep_the_level),
        cmocka_unit_test(mixed_switches_back),
        cmocka_unit_test(restart_restores_level),
    };
    return cmocka_run_group_tests_name("deflater", tests, nullptr, nullptr);
}
