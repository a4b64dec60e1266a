#include "enc-util.hpp"

#include <bit>
#include <cstdlib>

namespace qvnc::vnc::enc {

Deflater::~Deflater()
{
    if (active_) {
        deflateEnd(&zs_);
    }
}

void Deflater::set_level(int level, int strategy)
{
    if (!active_) {
        zs_ = z_stream{};
        // Raw deflate (see the header), 15-bit window, memLevel 9: decoders
        // accept any deflate stream.
        if (deflateInit2(&zs_, level, Z_DEFLATED, -15, 9, strategy) != Z_OK) {
            abort(); // only on out-of-memory or a bad level
        }
        active_ = true;
        level_ = zlevel_ = level;
        strategy_ = zstrategy_ = strategy;
        // zlib's own header for these parameters (deflate.c): CM 8, CINFO
        // 7, FLEVEL from the first level, FCHECK; run() writes it.
        const unsigned flevel = strategy >= Z_HUFFMAN_ONLY || level < 2 ? 0 : level < 6 ? 1 : level == 6 ? 2 : 3;
        header_ = (Z_DEFLATED + (7u << 4)) << 8 | flevel << 6;
        header_ += 31 - header_ % 31;
        return;
    }
    if (level != zlevel_ || strategy != zstrategy_) {
        // The stream was flushed at the end of the previous rectangle, so
        // this only switches the parameters for what follows.
        deflateParams(&zs_, level, strategy);
        zlevel_ = level;
        zstrategy_ = strategy;
    }
    level_ = level;
    strategy_ = strategy;
}

void Deflater::use_params(int level, int strategy)
{
    if (level == zlevel_ && strategy == zstrategy_) {
        return;
    }
    // deflateParams compresses what is pending with the old level into
    // whatever output room there is and refuses to switch when it does not
    // fit: end the block here first (run grows the output as needed).
    zs_.next_in = nullptr;
    zs_.avail_in = 0;
    run(Z_BLOCK);
    deflateParams(&zs_, level, strategy);
    zlevel_ = level;
    zstrategy_ = strategy;
}

void Deflater::restart(int level, int strategy, std::span<const uint8_t> history)
{
    if (active_ && (level != level_ || strategy != strategy_)) {
        deflateEnd(&zs_);
        active_ = false;
    }
    if (active_) {
        deflateReset(&zs_);
        if (zlevel_ != level_ || zstrategy_ != strategy_) {
            // left stored or Huffman-only by feed(); nothing is pending
            deflateParams(&zs_, level_, strategy_);
            zlevel_ = level_;
            zstrategy_ = strategy_;
        }
    } else {
        header_pending_ = false;
        set_level(level, strategy);
    }
    clear_output();
    if (history.size() > kWindow) {
        history = history.last(kWindow);
    }
    if (!history.empty()) {
        deflateSetDictionary(&zs_, history.data(), static_cast<uInt>(history.size()));
    }
}

void Deflater::forget_history()
{
    // A raw stream's reset writes nothing: the next block simply starts
    // after the previous flush's byte boundary, with an empty window.
    header_pending_ = false;
    if (active_) {
        deflateReset(&zs_);
    }
}

void Deflater::start_over()
{
    if (active_) {
        deflateEnd(&zs_);
        active_ = false;
    }
    header_pending_ = true;
    clear_output();
}

void Deflater::continue_after(std::span<const uint8_t> tail)
{
    // Raw deflate accepts a dictionary right after a flush; with 32 KiB or
    // more it replaces the whole window, with less it is appended to it,
    // and both match the peer's window.
    if (!tail.empty()) {
        deflateSetDictionary(&zs_, tail.data(), static_cast<uInt>(tail.size()));
    }
}

void Deflater::reserve(size_t room)
{
    if (out_.size() - used_ < room) {
        out_.resize(std::max<size_t>(out_.size() * 2, used_ + std::max<size_t>(room, 64 * 1024)));
    }
}

void Deflater::run(int flush)
{
    if (header_pending_) {
        reserve(2);
        out_[used_++] = static_cast<uint8_t>(header_ >> 8);
        out_[used_++] = static_cast<uint8_t>(header_);
        header_pending_ = false;
    }
    for (;;) {
        reserve(64);
        const size_t room = out_.size() - used_;
        const uInt chunk = static_cast<uInt>(std::min<size_t>(room, 1u << 30));
        zs_.next_out = out_.data() + used_;
        zs_.avail_out = chunk;
        const int rc = deflate(&zs_, flush);
        used_ += chunk - zs_.avail_out;
        if (rc == Z_STREAM_ERROR) {
            abort();
        }
        // Done when all input was taken and deflate did not fill the
        // output (so nothing is left pending).
        if (zs_.avail_in == 0 && zs_.avail_out != 0) {
            return;
        }
    }
}

void Deflater::feed(const uint8_t *data, size_t n)
{
    // Level 0 has nothing to gain, Z_RLE and Huffman-only are cheap already.
    const bool adapt = n >= kAdaptMin && level_ > 0 &&
                       (strategy_ == Z_DEFAULT_STRATEGY || strategy_ == Z_FILTERED);
    if (!adapt) {
        use_params(level_, strategy_);
        push(data, n);
        return;
    }
    // The last Huffman-only run: where its output began, its input size and
    // what its probe saved at level_.
    size_t huff_start = 0, huff_in = 0, huff_probe_saved = 0;
    bool huffman_ok = true;
    while (n > 0) {
        // The probe's output is measured between two block ends, so that
        // nothing compressed earlier and still held by zlib counts in it.
        use_params(level_, strategy_);
        zs_.next_in = nullptr;
        zs_.avail_in = 0;
        run(Z_BLOCK);
        if (huff_in > 0) {
            // Huffman coding kept less than a third of what level_ saved
            // on the probe (on photo-like data it keeps about half): the
            // savings came from repeats, which it cannot see; the rest of
            // this input goes at level_.
            const auto saved = static_cast<int64_t>(huff_in) - static_cast<int64_t>(used_ - huff_start);
            if (saved * 3 * static_cast<int64_t>(kProbe) < static_cast<int64_t>(huff_probe_saved * huff_in)) {
                huffman_ok = false;
            }
            huff_in = 0;
        }
        const size_t before = used_;
        const size_t probe = std::min(n, kProbe);
        push(data, probe);
        run(Z_BLOCK);
        const size_t got = used_ - before;
        // Incompressible: level_ saved less than 1/32 of the probe.
        const bool stored = got * 32 >= probe * 31;
        // Photo-like: level_ saved less than a quarter; what it saves there
        // comes mostly from the byte statistics, which Huffman coding alone
        // keeps at ~2.5x the speed (ZRLE of the video workload: 5% more
        // bytes than level 6 for 1.4x the updates).
        const bool huffman = huffman_ok && !stored && got * 4 >= probe * 3 && probe == kProbe;
        size_t run_len = std::min(n, stored ? kStoredRun : kCompressedRun);
        if (n - run_len < kProbe) {
            run_len = n; // a tail too short to probe goes with this run
        }
        if (stored) {
            use_params(0, strategy_);
            stored_runs_++;
        } else if (huffman) {
            use_params(level_, Z_HUFFMAN_ONLY);
            huffman_runs_++;
            huff_start = used_;
            huff_in = run_len - probe;
            huff_probe_saved = probe - got;
        }
        push(data + probe, run_len - probe);
        data += run_len;
        n -= run_len;
    }
}

void Deflater::push(const uint8_t *data, size_t n)
{
    while (n > 0) {
        const uInt part = static_cast<uInt>(std::min<size_t>(n, 1u << 30));
        zs_.next_in = const_cast<Bytef *>(data);
        zs_.avail_in = part;
        run(Z_NO_FLUSH);
        data += part;
        n -= part;
    }
}

void Deflater::sync_flush()
{
    zs_.next_in = nullptr;
    zs_.avail_in = 0;
    run(Z_SYNC_FLUSH);
}

CPixelLayout cpixel_layout(const PixelFormat &pf)
{
    if (pf.bpp == 32 && pf.true_colour && pf.depth <= 24) {
        // rfbproto counts the bits a channel's values can occupy, not the
        // bits of (max << shift): blue max 72 at shift 5 uses bits 5..11
        // although 72 << 5 has a zero low byte.  sanitize() keeps every
        // shift + bit width within 32 bits.
        auto colour_bits = [](uint16_t max, uint8_t shift) {
            return ((uint64_t{1} << std::bit_width(static_cast<unsigned>(max))) - 1) << shift;
        };
        const uint64_t all = colour_bits(pf.red_max, pf.red_shift) | colour_bits(pf.green_max, pf.green_shift) |
                             colour_bits(pf.blue_max, pf.blue_shift);
        const bool ls3 = all < (1u << 24);
        const bool ms3 = (all & 0xff) == 0 && all < (uint64_t{1} << 32);
        // Prefer the first three wire bytes when both fit, like the decoders.
        if ((ls3 && !pf.big_endian) || (ms3 && pf.big_endian)) {
            return {3, 0};
        }
        if (ls3 || ms3) {
            return {3, 1};
        }
    }
    return {pf.bpp / 8, 0};
}

bool tpixel_is_rgb24(const PixelFormat &pf)
{
    return pf.bpp == 32 && pf.true_colour && pf.depth == 24 && pf.red_max == 255 && pf.green_max == 255 &&
           pf.blue_max == 255;
}

int convert_rect(const Rect &r, const EncodeContext &ctx, std::vector<uint8_t> &buf)
{
    const int bpp = ctx.pf.bytes_per_pixel();
    const size_t row_bytes = static_cast<size_t>(r.w) * bpp;
    const size_t need = row_bytes * static_cast<size_t>(r.h);
    if (buf.size() < need) {
        buf.resize(need);
    }
    const size_t src_off = static_cast<size_t>(r.x) * ctx.fb.bytes_per_pixel();
    uint8_t *dst = buf.data();
    for (int y = r.y; y < r.y + r.h; y++) {
        ctx.conv.convert(ctx.fb.row(y) + src_off, r.w, dst);
        dst += row_bytes;
    }
    return bpp;
}

ColourTable::ColourTable(int capacity) : capacity_(capacity)
{
    const unsigned slots = std::bit_ceil(static_cast<unsigned>(capacity) * 4u);
    mask_ = slots - 1;
    shift_ = 32 - static_cast<unsigned>(std::countr_zero(slots));
    stamp_.assign(slots, 0);
    keys_.assign(slots, 0);
    idx_.assign(slots, 0);
}

} // namespace qvnc::vnc::enc
