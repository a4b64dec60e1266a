// Building blocks shared by the compressing encoders: a persistent deflate
// stream, loads/stores of client pixels held as wire bytes, the compact
// pixel forms (ZRLE's CPIXEL, Tight's TPIXEL) and a small colour table.
#pragma once

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include <zlib.h>

#include "byte-buffer.hpp"
#include "encoder.hpp"

namespace qvnc::vnc::enc {

// One zlib deflate stream that lives as long as the encoder (RFB keeps one
// stream per connection and encoding; the client's inflater mirrors it).
// Output accumulates in an internal buffer that the caller takes with
// output() and empties with clear_output().
//
// The deflate data is raw (zlib's 2-byte header is written by hand before
// the first output, the same bytes zlib writes; a trailer is never due as
// the stream never ends), because only a raw stream may be given a new
// history mid-stream: that is what lets chunks of one big update be
// compressed in parallel by independent Deflaters (see chunks.hpp) and the
// persistent stream carry on after them.
class Deflater {
public:
    // `stream_header`: false for a chunk compressor, whose output continues
    // a stream whose header was already sent.
    explicit Deflater(bool stream_header = true) : header_pending_(stream_header) {}
    ~Deflater();
    Deflater(const Deflater &) = delete;
    Deflater &operator=(const Deflater &) = delete;

    // Starts the stream on first use; later calls change the level (and
    // zlib strategy) in place (the previous call ended on a flush, so
    // nothing pending is affected).
    void set_level(int level, int strategy = Z_DEFAULT_STRATEGY);
    // Compresses n bytes without flushing.  Big inputs go in runs, each
    // starting with a probe at the stream's level: when the probe does not
    // compress (noise, photo grain in raw tiles) the rest of a short run is
    // stored (level 0), a copy where level 1 spends ~6x the time to save
    // < 3%.  A probe that saved less than a quarter (photo-like data: the
    // saving is in the byte statistics, not in repeats) makes its run
    // Huffman-only, ~2.5x the speed of level 1 for a few % more bytes,
    // unless an earlier such run of the same input kept less than a third
    // of its probe's saving.  Runs are short after a stored probe and long
    // after the others, so compressible data is rarely stored and the
    // probes' block ends cost little on it.
    void feed(const uint8_t *data, size_t n);
    // Runs feed() has stored or Huffman-coded only (for tests and
    // statistics).
    size_t stored_runs() const { return stored_runs_; }
    size_t huffman_runs() const { return huffman_runs_; }
    // Ends the current unit with Z_SYNC_FLUSH so that the peer can decode
    // everything fed so far.
    void sync_flush();

    // A chunk compressor starts over: no output, and `history` (the stream
    // bytes just before the chunk; only the last 32 KiB count) as what
    // back-references may reach.  Any tail of the real history is valid.
    void restart(int level, int strategy, std::span<const uint8_t> history);
    // The persistent stream after other compressors continued it with
    // `tail`: the last bytes they compressed (all of them when fewer than
    // 32 KiB, else at least the last 32 KiB), so that later back-references
    // reach what the peer's window really holds.  Call after a flush.
    void continue_after(std::span<const uint8_t> tail);
    // Shared encoding (Encoder::forget_history): starts over with no
    // history and never writes the header (the peer had one already).
    void forget_history();
    // Ends the stream: the next output begins a new one, header included
    // (Tight's stream reset bits tell the peer to expect it).
    void start_over();
    // Whether the 2-byte header is still to be written (stream not begun).
    bool header_pending() const { return header_pending_; }

    const std::vector<uint8_t> &output() const { return out_; }
    size_t output_size() const { return used_; }
    const uint8_t *output_data() const { return out_.data(); }
    void clear_output() { used_ = 0; }

    static constexpr size_t kWindow = 32768;

    // Inputs from this size on are fed adaptively (smaller ones as they
    // are): a probe of kProbe bytes, then the rest of the segment.
    static constexpr size_t kAdaptMin = 64 * 1024;
    static constexpr size_t kProbe = 4 * 1024;
    static constexpr size_t kStoredRun = 64 * 1024;
    static constexpr size_t kCompressedRun = 256 * 1024;

private:
    void run(int flush);
    void reserve(size_t room);
    void push(const uint8_t *data, size_t n); // deflate n bytes, no flush
    // The level and strategy zlib compresses with right now (level_ and
    // strategy_, or 0 for a stored run, or Huffman-only); switching ends the
    // current deflate block.
    void use_params(int level, int strategy);

    z_stream zs_{};
    bool active_ = false;
    bool header_pending_;
    unsigned header_ = 0;
    int level_ = -2;
    int zlevel_ = -2; // what zlib was last told (use_params)
    size_t stored_runs_ = 0;
    size_t huffman_runs_ = 0;
    int strategy_ = Z_DEFAULT_STRATEGY;
    int zstrategy_ = Z_DEFAULT_STRATEGY; // what zlib was last told
    std::vector<uint8_t> out_;
    size_t used_ = 0;
};

// Clamps an RFB compress level (-1 = default) to a zlib level.
inline int zlib_level(int compress_level, int def)
{
    if (compress_level < 0) return def;
    return compress_level > 9 ? 9 : compress_level;
}

// Native load/store of a pixel kept as its wire bytes.  Equality of the
// loaded values is equality of the wire pixels, whatever the byte order.
template <class T> inline T load_px(const uint8_t *p)
{
    T v;
    std::memcpy(&v, p, sizeof v);
    return v;
}
template <class T> inline void store_px(uint8_t *p, T v)
{
    std::memcpy(p, &v, sizeof v);
}

// The numeric client pixel value of a pixel loaded with load_px (undoes the
// wire byte order).
template <class T> inline uint32_t px_value(T v, bool client_big_endian)
{
    constexpr bool host_big = std::endian::native == std::endian::big;
    if constexpr (sizeof(T) == 1) {
        return v;
    } else if constexpr (sizeof(T) == 2) {
        return client_big_endian != host_big ? static_cast<uint16_t>(__builtin_bswap16(v)) : v;
    } else {
        return client_big_endian != host_big ? __builtin_bswap32(v) : v;
    }
}

// ZRLE's CPIXEL: `bytes` of the wire pixel starting at `offset`.
struct CPixelLayout {
    int bytes = 4;
    int offset = 0;
};
CPixelLayout cpixel_layout(const PixelFormat &pf);

// Tight's TPIXEL: true when pixels go as 3 bytes R, G, B (32 bpp, depth 24,
// 8-bit channels).
bool tpixel_is_rgb24(const PixelFormat &pf);

// Converts the pixels of `r` to the client format, row after row with no
// padding, into `buf` (resized as needed).  Returns the bytes per pixel.
int convert_rect(const Rect &r, const EncodeContext &ctx, std::vector<uint8_t> &buf);

// Maps up to `capacity` distinct pixel values to indices 0..n-1 in order of
// first appearance.  Clearing is O(1) (generation stamps), so it can be
// reused for every tile.
class ColourTable {
public:
    // `capacity` <= 256; the hash table has 4 * capacity rounded up to a
    // power of two slots.
    explicit ColourTable(int capacity);

    void clear()
    {
        n_ = 0;
        if (++gen_ == 0) {
            std::fill(stamp_.begin(), stamp_.end(), 0);
            gen_ = 1;
        }
    }
    int size() const { return n_; }
    uint32_t colour(int i) const { return colours_[i]; }

    // Index of v; adds it when new.  Returns -1 when the table is full and v
    // is new (the table stays as it was).
    int lookup_or_add(uint32_t v)
    {
        uint32_t h = (v * 0x9E3779B1u) >> shift_;
        for (;;) {
            if (stamp_[h] != gen_) {
                if (n_ == capacity_) return -1;
                stamp_[h] = gen_;
                keys_[h] = v;
                idx_[h] = static_cast<uint8_t>(n_);
                colours_[n_] = v;
                return n_++;
            }
            if (keys_[h] == v) return idx_[h];
            h = (h + 1) & mask_;
        }
    }

private:
    int capacity_;
    int n_ = 0;
    uint32_t gen_ = 1;
    unsigned shift_;
    uint32_t mask_;
    std::vector<uint32_t> stamp_;
    std::vector<uint32_t> keys_;
    std::vector<uint8_t> idx_;
    uint32_t colours_[256] = {};
};

} // namespace qvnc::vnc::enc
