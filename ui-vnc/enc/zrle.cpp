#include "zrle.hpp"

#include <algorithm>

#include "byte-writer.hpp"
#include "zywrle.hpp"

namespace qvnc::vnc {

namespace {

constexpr int kTile = 64;

// A compressed pixel: C bytes of the wire pixel from byte `off`.
template <class T, int C> inline uint8_t *put_cpixel(uint8_t *dst, T v, int off)
{
    if constexpr (C == static_cast<int>(sizeof(T))) {
        enc::store_px<T>(dst, v);
    } else {
        uint8_t tmp[sizeof(T)];
        enc::store_px<T>(tmp, v);
        dst[0] = tmp[off];
        dst[1] = tmp[off + 1];
        dst[2] = tmp[off + 2];
    }
    return dst + C;
}

// The run length (>= 1) as 255-continued bytes of length-1.
inline uint8_t *put_run(uint8_t *dst, int len)
{
    int k = len - 1;
    while (k >= 255) {
        *dst++ = 255;
        k -= 255;
    }
    *dst++ = static_cast<uint8_t>(k);
    return dst;
}

inline size_t run_bytes(int len)
{
    return static_cast<size_t>((len - 1) / 255 + 1);
}

// ZYWRLE's state for a rectangle: the wavelet level (0: plain ZRLE) and
// where the decoder finds the colour values in a client pixel.
struct Zywrle {
    int level = 0;
    zywrle::Layout layout = zywrle::Layout::None;
};

// Encodes one tile (tw x th pixels of wire bytes at `raw`) at `dst`;
// returns the end of what it wrote.
template <class T, int C>
uint8_t *encode_tile(const uint8_t *raw, int tw, int th, int off, ZrleEncoder::Scratch &s, uint8_t *dst,
                     const Zywrle &zy)
{
    constexpr int B = sizeof(T);
    const int n = tw * th;
    enc::ColourTable &pal = s.palette;
    uint8_t *idx = s.index;
    pal.clear();

    // One pass: runs (across rows, as ZRLE allows) and the palette.
    size_t nruns = 0, len_bytes = 0, single = 0;
    bool pal_ok = true;
    T prev = enc::load_px<T>(raw);
    int cur = pal.lookup_or_add(prev);
    idx[0] = static_cast<uint8_t>(cur);
    int run = 1;
    for (int i = 1; i < n; i++) {
        const T v = enc::load_px<T>(raw + i * B);
        if (v == prev) {
            run++;
            idx[i] = static_cast<uint8_t>(cur);
            continue;
        }
        nruns++;
        len_bytes += run_bytes(run);
        single += run == 1;
        prev = v;
        run = 1;
        if (pal_ok) {
            cur = pal.lookup_or_add(v);
            pal_ok = cur >= 0;
        }
        idx[i] = static_cast<uint8_t>(cur);
    }
    nruns++;
    len_bytes += run_bytes(run);
    single += run == 1;

    const int np = pal_ok ? pal.size() : 0;
    if (np == 1) {
        *dst++ = 1;
        return put_cpixel<T, C>(dst, prev, off);
    }

    // Sizes of the candidate subencodings (kNone: not applicable).
    constexpr size_t kNone = SIZE_MAX;
    const size_t plain_rle = 1 + nruns * C + len_bytes;
    const int bits = np <= 2 ? 1 : np <= 4 ? 2 : 4;
    const size_t packed = np >= 2 && np <= 16
                              ? 1 + static_cast<size_t>(np) * C + static_cast<size_t>(th) * ((tw * bits + 7) / 8)
                              : kNone;
    const size_t prle = np >= 2 ? 1 + static_cast<size_t>(np) * C + nruns + (len_bytes - single) : kNone;
    enum Kind { Raw, Packed, PlainRle, PaletteRle };
    auto cheapest = [&](size_t raw_size) {
        Kind k = Raw;
        size_t best = raw_size;
        if (plain_rle < best) {
            best = plain_rle;
            k = PlainRle;
        }
        if (packed < best) {
            best = packed;
            k = Packed;
        }
        if (prle < best) {
            k = PaletteRle;
        }
        return k;
    };
    // With ZYWRLE, "raw" means the wavelet tile, which compresses far
    // better than raw pixels: QEMU's estimate divides by 2^level.
    Kind kind = cheapest(1 + ((static_cast<size_t>(n) * C) >> zy.level));

    if (kind == Raw && zy.level > 0) {
        // At ZYWRLE levels > 0 the decoder reads a type-0 tile as a nested
        // ZRLE tile of coefficients (zywrle.md), always, so even a tile too
        // small for the transform goes nested (the analyzer copies it).
        if (s.zywrle.analyze(raw, tw, th, zy.level, zy.layout, zywrle::max_tile_mse(zy.level), s.coef)) {
            *dst++ = 0;
            return encode_tile<T, C>(s.coef.data(), tw, th, off, s, dst, Zywrle{});
        }
        // No wavelet tile comes close enough to the source: send it
        // losslessly in any form but raw.
        kind = cheapest(kNone);
    }

    switch (kind) {
    case Raw:
        *dst++ = 0;
        if constexpr (C == B) {
            std::memcpy(dst, raw, static_cast<size_t>(n) * B);
            return dst + static_cast<size_t>(n) * B;
        } else {
            for (int i = 0; i < n; i++) {
                dst = put_cpixel<T, C>(dst, enc::load_px<T>(raw + i * B), off);
            }
            return dst;
        }
    case Packed: {
        *dst++ = static_cast<uint8_t>(np);
        for (int k = 0; k < np; k++) {
            dst = put_cpixel<T, C>(dst, static_cast<T>(pal.colour(k)), off);
        }
        const uint8_t *ip = idx;
        for (int y = 0; y < th; y++) {
            unsigned acc = 0;
            int nb = 0;
            for (int x = 0; x < tw; x++) {
                acc = acc << bits | *ip++;
                nb += bits;
                if (nb == 8) {
                    *dst++ = static_cast<uint8_t>(acc);
                    acc = 0;
                    nb = 0;
                }
            }
            if (nb > 0) {
                *dst++ = static_cast<uint8_t>(acc << (8 - nb));
            }
        }
        return dst;
    }
    case PlainRle: {
        *dst++ = 128;
        T c = enc::load_px<T>(raw);
        int len = 1;
        for (int i = 1; i < n; i++) {
            const T v = enc::load_px<T>(raw + i * B);
            if (v == c) {
                len++;
                continue;
            }
            dst = put_run(put_cpixel<T, C>(dst, c, off), len);
            c = v;
            len = 1;
        }
        return put_run(put_cpixel<T, C>(dst, c, off), len);
    }
    case PaletteRle: {
        *dst++ = static_cast<uint8_t>(128 + np);
        for (int k = 0; k < np; k++) {
            dst = put_cpixel<T, C>(dst, static_cast<T>(pal.colour(k)), off);
        }
        uint8_t c = idx[0];
        int len = 1;
        auto flush = [&dst](uint8_t ci, int l) {
            if (l == 1) {
                *dst++ = ci;
            } else {
                *dst++ = static_cast<uint8_t>(ci | 0x80);
                dst = put_run(dst, l);
            }
        };
        for (int i = 1; i < n; i++) {
            if (idx[i] == c) {
                len++;
                continue;
            }
            flush(c, len);
            c = idx[i];
            len = 1;
        }
        flush(c, len);
        return dst;
    }
    }
    return dst;
}

// Appends the ZRLE data of r's tiles (any height) to plain[used..], growing
// it as needed.
template <class T, int C>
void append_tiles(const Rect &r, const EncodeContext &ctx, int off, ZrleEncoder::Scratch &s,
                  std::vector<uint8_t> &plain, size_t &used, const Zywrle &zy)
{
    // Worst case per tile: the raw subencoding, nested once for ZYWRLE.
    const size_t tiles_per_band = static_cast<size_t>((r.w + kTile - 1) / kTile);
    const size_t worst = tiles_per_band * (2 + kTile * kTile * C) + 16;
    for (int ty = r.y; ty < r.bottom(); ty += kTile) {
        const int th = std::min(kTile, r.bottom() - ty);
        if (plain.size() < used + worst) {
            plain.resize(std::max(used + worst, plain.size() * 2));
        }
        uint8_t *dst = plain.data() + used;
        for (int tx = r.x; tx < r.right(); tx += kTile) {
            const int tw = std::min(kTile, r.right() - tx);
            enc::convert_rect({tx, ty, tw, th}, ctx, s.tile);
            dst = encode_tile<T, C>(s.tile.data(), tw, th, off, s, dst, zy);
        }
        used = static_cast<size_t>(dst - plain.data());
    }
}

// append_tiles() for the client's pixel format.
void append_plain(const Rect &r, const EncodeContext &ctx, ZrleEncoder::Scratch &s, std::vector<uint8_t> &plain,
                  size_t &used, const Zywrle &zy)
{
    // level_for() is 0 at 8 bpp and for the 16/32 bpp formats the
    // decoders cannot invert, so those take the lossless path.
    const enc::CPixelLayout cp = enc::cpixel_layout(ctx.pf);
    switch (ctx.pf.bytes_per_pixel()) {
    case 1: append_tiles<uint8_t, 1>(r, ctx, 0, s, plain, used, Zywrle{}); break;
    case 2: append_tiles<uint16_t, 2>(r, ctx, 0, s, plain, used, zy); break;
    default:
        if (cp.bytes == 3) {
            append_tiles<uint32_t, 3>(r, ctx, cp.offset, s, plain, used, zy);
        } else {
            append_tiles<uint32_t, 4>(r, ctx, 0, s, plain, used, zy);
        }
        break;
    }
}

Zywrle zywrle_for(int32_t number, const EncodeContext &ctx)
{
    // See the header: level-0 ZYWRLE is plain ZRLE on the wire, numbered 16.
    Zywrle zy;
    if (number == 17) {
        zy.level = zywrle::level_for(ctx.pf, ctx.lossy, ctx.quality_level);
        zy.layout = zywrle::layout_of(ctx.pf);
    }
    return zy;
}

} // namespace

size_t ZrleEncoder::encode(const Rect &r, const EncodeContext &ctx, io::ByteBuffer &out)
{
    const Zywrle zy = zywrle_for(number_, ctx);
    write_rect_header(out, r, zy.level > 0 ? 17 : 16);
    z_.set_level(enc::zlib_level(ctx.compress_level, kDefaultLevel));
    z_.clear_output();
    // One row of tiles at a time, so that the scratch stays in cache.
    for (int y = r.y; y < r.bottom(); y += kTile) {
        size_t used = 0;
        append_plain({r.x, y, r.w, std::min(kTile, r.bottom() - y)}, ctx, s_, s_.plain, used, zy);
        z_.feed(s_.plain.data(), used);
    }
    z_.sync_flush();
    io::ByteWriter(out).u32(static_cast<uint32_t>(z_.output_size()));
    out.append({z_.output_data(), z_.output_size()});
    return 1;
}

size_t ZrleEncoder::encode_rects(std::span<const Rect> rects, const EncodeContext &ctx, io::ByteBuffer &out)
{
    if (!plan_.plan(rects, kTile, ctx)) {
        return Encoder::encode_rects(rects, ctx, out);
    }
    const Zywrle zy = zywrle_for(number_, ctx);
    const int level = enc::zlib_level(ctx.compress_level, kDefaultLevel);
    const size_t nchunks = plan_.chunks();
    chunks_.reset(plan_);
    if (plain_.size() < nchunks) {
        plain_.resize(nchunks);
    }
    plain_end_.assign(plan_.pieces().size(), 0);
    while (slots_.size() < static_cast<size_t>(enc::parallel_slots(ctx))) {
        slots_.push_back(std::make_unique<Slot>());
    }

    // 1. Each chunk's tiles, uncompressed.
    enc::run_parallel(ctx, nchunks, [&](size_t c, int slot) {
        size_t used = 0;
        size_t k = plan_.first_piece(c);
        for (const enc::ChunkPlan::Piece &p : plan_.chunk(c)) {
            append_plain(p.r, ctx, slots_[static_cast<size_t>(slot)]->s, plain_[c], used, zy);
            plain_end_[k++] = used;
        }
    });
    auto plain_of = [&](size_t c) {
        const size_t n = plan_.chunk(c).empty() ? 0 : plain_end_[plan_.first_piece(c) + plan_.chunk(c).size() - 1];
        return std::span<const uint8_t>(plain_[c].data(), n);
    };

    // 2. Compressed: chunk 0 by the connection's stream (which has the
    // real history and writes the header on first use), the others by a
    // slot's Deflater primed with the chunk before.  Each piece ends on a
    // sync flush, so each rectangle's data is whole bytes.
    z_.set_level(level);
    enc::run_parallel(ctx, nchunks, [&](size_t c, int slot) {
        enc::Deflater &z = c == 0 ? z_ : slots_[static_cast<size_t>(slot)]->z;
        if (c == 0) {
            z.clear_output();
        } else {
            z.restart(level, Z_DEFAULT_STRATEGY, plain_of(c - 1));
        }
        size_t at = 0;
        size_t k = plan_.first_piece(c);
        for (size_t i = 0; i < plan_.chunk(c).size(); i++, k++) {
            z.feed(plain_[c].data() + at, plain_end_[k] - at);
            z.sync_flush();
            at = plain_end_[k];
            chunks_.piece_end[k] = z.output_size();
        }
        chunks_.bytes[c].append({z.output_data(), z.output_size()});
    });

    // The stream goes on from what the peer's window now holds: the last
    // 32 KiB of chunks 1.. (or all of them when shorter).
    tail_.clear();
    for (size_t c = nchunks; c-- > 1 && tail_.size() < enc::Deflater::kWindow;) {
        const std::span<const uint8_t> p = plain_of(c);
        const size_t take = std::min(p.size(), enc::Deflater::kWindow - tail_.size());
        tail_.insert(tail_.begin(), p.end() - static_cast<std::ptrdiff_t>(take), p.end());
    }
    z_.continue_after(tail_);

    // 3. The rectangles, each with the total length of its pieces.
    rect_len_.assign(rects.size(), 0);
    for (size_t c = 0; c < nchunks; c++) {
        size_t at = 0;
        size_t k = plan_.first_piece(c);
        for (const enc::ChunkPlan::Piece &p : plan_.chunk(c)) {
            rect_len_[p.rect] += chunks_.piece_end[k] - at;
            at = chunks_.piece_end[k++];
        }
    }
    uint32_t last = UINT32_MAX;
    for (size_t c = 0; c < nchunks; c++) {
        const std::span<const uint8_t> bytes = chunks_.bytes[c].data();
        size_t at = 0;
        size_t k = plan_.first_piece(c);
        for (const enc::ChunkPlan::Piece &p : plan_.chunk(c)) {
            if (p.rect != last) {
                write_rect_header(out, rects[p.rect], zy.level > 0 ? 17 : 16);
                io::ByteWriter(out).u32(static_cast<uint32_t>(rect_len_[p.rect]));
                last = p.rect;
            }
            out.append(bytes.subspan(at, chunks_.piece_end[k] - at));
            at = chunks_.piece_end[k++];
        }
    }
    return rects.size();
}

} // namespace qvnc::vnc
