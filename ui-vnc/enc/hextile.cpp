// Hextile, per tile:
//  - one colour: nothing but the background (a lone 0 byte when it equals
//    the background carried over from the previous tile);
//  - two colours: background plus foreground subrectangles;
//  - more: background plus coloured subrectangles;
//  - raw whenever that would be smaller.
// Background and foreground carry over between the tiles of one rectangle:
// the background until a raw tile, the foreground until a raw tile or one
// with coloured subrectangles (decoders overwrite their foreground with each
// subrectangle colour).
#include "hextile.hpp"

#include <algorithm>
#include <bit>
#include <cstring>

#include "enc-util.hpp"

namespace qvnc::vnc {

namespace {

constexpr uint8_t kRaw = 1;
constexpr uint8_t kBackground = 2;
constexpr uint8_t kForeground = 4;
constexpr uint8_t kAnySubrects = 8;
constexpr uint8_t kColoured = 16;

template <class T> struct Carry {
    bool bg_valid = false;
    bool fg_valid = false;
    T bg{};
    T fg{};
};

// Whether coloured subrectangles (`per` bytes each) would surely take more
// than `raw_size` bytes: then raw it is, before the (quadratic)
// subrectangle search, which on photo-like tiles would emit ~raw_size/per
// subrectangles before giving up.  A subrectangle starts at a pixel that
// differs from the background, from its left neighbour and from the pixel
// above; those starts are counted only when the horizontal runs (a cheap
// upper bound of them, enough for text) are already too many.
// The loops are branch-free (& and +, no &&) so that they vectorise: on
// photo-like content every tile comes here and most go raw.
template <class T> bool many_subrects(const T *work, int tw, int th, T bg, size_t raw_size, size_t per)
{
    int runs = 0;
    for (int y = 0; y < th; y++) {
        const T *row = work + y * tw;
        runs += row[0] != bg;
        for (int x = 1; x < tw; x++) {
            runs += (row[x] != bg) & (row[x] != row[x - 1]);
        }
    }
    if (static_cast<size_t>(runs) * per < raw_size) {
        return false;
    }
    int starts = 0;
    for (int x = 0; x < tw; x++) { // the top row: no pixel above
        starts += (work[x] != bg) & (x == 0 || work[x] != work[x - 1]);
    }
    for (int y = 1; y < th; y++) {
        const T *row = work + y * tw;
        starts += (row[0] != bg) & (row[0] != row[-tw]);
        for (int x = 1; x < tw; x++) {
            const T v = row[x];
            starts += (v != bg) & (v != row[x - 1]) & (v != row[x - tw]);
        }
    }
    return static_cast<size_t>(starts) * per >= raw_size;
}

// Copies a tile's rows (`stride` bytes apart) together to `dst`;
// full-width tiles, nearly all of them, with a fixed-size copy the compiler
// inlines (a libc call per 64-byte row was a quarter of the time on noise).
template <class T> void gather(uint8_t *dst, const uint8_t *raw, size_t stride, int tw, int th)
{
    if (tw == 16) {
        for (int y = 0; y < th; y++) {
            std::memcpy(dst + y * 16 * sizeof(T), raw + static_cast<size_t>(y) * stride, 16 * sizeof(T));
        }
        return;
    }
    const size_t row = static_cast<size_t>(tw) * sizeof(T);
    for (int y = 0; y < th; y++) {
        std::memcpy(dst + static_cast<size_t>(y) * row, raw + static_cast<size_t>(y) * stride, row);
    }
}

// Appends a raw tile: the marker and the tile's rows.
template <class T> void put_raw(const uint8_t *raw, size_t stride, int tw, int th, io::ByteBuffer &out)
{
    const size_t bytes = 1 + static_cast<size_t>(tw * th) * sizeof(T);
    uint8_t *dst = out.prepare(bytes);
    dst[0] = kRaw;
    gather<T>(dst + 1, raw, stride, tw, th);
    out.commit(bytes);
}

// Encodes one tile (tw x th pixels of wire bytes at `raw`, rows `stride`
// bytes apart) into `out`; true when it went raw.
template <class T>
bool encode_tile(const uint8_t *raw, size_t stride, int tw, int th, Carry<T> &st, io::ByteBuffer &out)
{
    constexpr int B = sizeof(T);
    const int n = tw * th;
    // Not zeroed (a 1 KiB memset a tile): only the n pixels copied in are read.
    T work[256];
    gather<T>(reinterpret_cast<uint8_t *>(work), raw, stride, tw, th);

    // Colour census: the first two colours, how often each occurs and
    // whether there are more (counted branch-free, see many_subrects).
    const T c0 = work[0];
    T differ = 0; // solid tiles (most of a desktop) are told in one vector pass
    for (int i = 1; i < n; i++) {
        differ |= work[i] ^ c0;
    }
    int first1 = n;
    if (differ != 0) {
        first1 = 1;
        while (work[first1] == c0) first1++;
    }
    const bool have1 = first1 < n;
    const T c1 = have1 ? work[first1] : c0;
    int n0 = 0, n1 = 0;
    if (have1) {
        for (int i = 0; i < n; i++) {
            n0 += work[i] == c0;
            n1 += work[i] == c1;
        }
    }
    const bool multi = n0 + n1 < n;

    uint8_t buf[1 + 2 * 4 + 1 + 256 * (2 + 4)];
    if (!have1) {
        if (st.bg_valid && st.bg == c0) {
            out.push_back(0);
        } else {
            buf[0] = kBackground;
            enc::store_px<T>(buf + 1, c0);
            out.append({buf, 1 + B});
            st.bg = c0;
            st.bg_valid = true;
        }
        return false;
    }

    const T bg = n0 >= n1 ? c0 : c1;
    const T fg = n0 >= n1 ? c1 : c0;
    const size_t raw_size = 1 + static_cast<size_t>(n) * B;

    if (multi && many_subrects(work, tw, th, bg, raw_size, 2 + B)) {
        put_raw<T>(reinterpret_cast<const uint8_t *>(work), static_cast<size_t>(tw) * B, tw, th, out); // intact
        st.bg_valid = st.fg_valid = false;
        return true;
    }

    uint8_t flags = kAnySubrects;
    size_t pos = 1;
    if (!(st.bg_valid && st.bg == bg)) {
        flags |= kBackground;
        enc::store_px<T>(buf + pos, bg);
        pos += B;
    }
    if (multi) {
        flags |= kColoured;
    } else if (!(st.fg_valid && st.fg == fg)) {
        flags |= kForeground;
        enc::store_px<T>(buf + pos, fg);
        pos += B;
    }
    const size_t count_pos = pos++;
    const size_t per_subrect = multi ? 2 + B : 2;
    int count = 0;
    bool too_big = false;

    // Per row, a bit for each pixel not yet covered by the background or a
    // subrectangle: the search jumps from one to the next instead of
    // testing every pixel (on text most are background).
    uint32_t todo[16];
    for (int y = 0; y < th; y++) {
        const T *row = work + y * tw;
        uint32_t m = 0;
        for (int x = 0; x < tw; x++) {
            m |= static_cast<uint32_t>(row[x] != bg) << x;
        }
        todo[y] = m;
    }
    for (int y = 0; y < th && !too_big; y++) {
        T *row = work + y * tw;
        while (todo[y] != 0) {
            const int x = std::countr_zero(todo[y]);
            const T c = row[x];
            // Horizontal first: the run in this row, then as many rows
            // below as repeat it.
            int w1 = 1;
            while (x + w1 < tw && row[x + w1] == c) w1++;
            int h1 = 1;
            for (; y + h1 < th; h1++) {
                const T *r2 = row + h1 * tw;
                int k = 0;
                while (k < w1 && r2[x + k] == c) k++;
                if (k < w1) break;
            }
            // Vertical first: the run in this column, then columns right.
            int h2 = 1;
            while (y + h2 < th && row[h2 * tw + x] == c) h2++;
            int w2 = 1;
            for (; x + w2 < tw; w2++) {
                int k = 0;
                while (k < h2 && row[k * tw + x + w2] == c) k++;
                if (k < h2) break;
            }
            int sw = w1, sh = h1;
            if (w2 * h2 > w1 * h1) {
                sw = w2;
                sh = h2;
            }
            const uint32_t cols = ((uint32_t{1} << sw) - 1) << x;
            for (int yy = 0; yy < sh; yy++) {
                std::fill_n(row + yy * tw + x, sw, bg);
                todo[y + yy] &= ~cols;
            }
            if (pos + per_subrect >= raw_size || count == 255) {
                too_big = true;
                break;
            }
            if (multi) {
                enc::store_px<T>(buf + pos, c);
                pos += B;
            }
            buf[pos++] = static_cast<uint8_t>(x << 4 | y);
            buf[pos++] = static_cast<uint8_t>((sw - 1) << 4 | (sh - 1));
            count++;
        }
    }

    if (too_big) {
        put_raw<T>(raw, stride, tw, th, out); // the search overwrote work
        st.bg_valid = st.fg_valid = false;
        return true;
    }
    buf[0] = flags;
    buf[count_pos] = static_cast<uint8_t>(count);
    out.append({buf, pos});
    st.bg = bg;
    st.bg_valid = true;
    if (multi) {
        st.fg_valid = false;
    } else {
        st.fg = fg;
        st.fg_valid = true;
    }
    return false;
}

// `history`: null, or the tiles that went raw lately (HextileRawHistory):
// a tile predicted raw is written raw without the analysis.
template <class T>
void encode_rect(const Rect &r, const EncodeContext &ctx, std::vector<uint8_t> &tile, HextileRawHistory *history,
                 io::ByteBuffer &out)
{
    Carry<T> st;
    for (int ty = r.y; ty < r.bottom(); ty += 16) {
        const int th = std::min(16, r.bottom() - ty);
        for (int tx = r.x; tx < r.right(); tx += 16) {
            const int tw = std::min(16, r.right() - tx);
            const uint8_t *at;
            size_t stride;
            if (ctx.conv.is_copy()) {
                // The client's format is ours: the tile is read where it is.
                at = ctx.fb.row(ty) + static_cast<size_t>(tx) * sizeof(T);
                stride = static_cast<size_t>(ctx.fb.stride());
            } else {
                enc::convert_rect({tx, ty, tw, th}, ctx, tile);
                at = tile.data();
                stride = static_cast<size_t>(tw) * sizeof(T);
            }
            if (!history) {
                encode_tile<T>(at, stride, tw, th, st, out);
            } else if (history->predict_raw(tx, ty, tw, th) && looks_raw<T>(at, stride, tw, th)) {
                put_raw<T>(at, stride, tw, th, out);
                st.bg_valid = st.fg_valid = false;
            } else {
                history->record(tx, ty, tw, th, encode_tile<T>(at, stride, tw, th, st, out));
            }
        }
    }
}

void encode_any(const Rect &r, const EncodeContext &ctx, std::vector<uint8_t> &tile, HextileRawHistory *history,
                io::ByteBuffer &out)
{
    switch (ctx.pf.bytes_per_pixel()) {
    case 1: encode_rect<uint8_t>(r, ctx, tile, history, out); break;
    case 2: encode_rect<uint16_t>(r, ctx, tile, history, out); break;
    default: encode_rect<uint32_t>(r, ctx, tile, history, out); break;
    }
}

} // namespace

size_t HextileEncoder::encode(const Rect &r, const EncodeContext &ctx, io::ByteBuffer &out)
{
    write_rect_header(out, r, encoding());
    encode_any(r, ctx, tile_, nullptr, out);
    return 1;
}

size_t HextileEncoder::encode_rects(std::span<const Rect> rects, const EncodeContext &ctx, io::ByteBuffer &out)
{
    history_.next_update(ctx.fb.width(), ctx.fb.height());
    raw_rects_.clear();
    hextile_rects_.clear();
    if (!split_raw_bands(rects, ctx, history_, cuts_, raw_rects_, hextile_rects_)) {
        return encode_hextile(rects, ctx, out);
    }
    // The rectangles of one update may come in any order: they do not
    // overlap.
    const size_t n = raw_.encode_rects(raw_rects_, ctx, out);
    return n + encode_hextile(hextile_rects_, ctx, out);
}

size_t HextileEncoder::encode_hextile(std::span<const Rect> rects, const EncodeContext &ctx, io::ByteBuffer &out)
{
    if (rects.empty()) {
        return 0;
    }
    if (!plan_.plan(rects, 16, ctx)) {
        for (const Rect &r : rects) {
            write_rect_header(out, r, encoding());
            encode_any(r, ctx, tile_, &history_, out);
        }
        return rects.size();
    }
    chunks_.reset(plan_);
    slot_tiles_.resize(static_cast<size_t>(enc::parallel_slots(ctx)));
    enc::run_parallel(ctx, plan_.chunks(), [&](size_t c, int slot) {
        io::ByteBuffer &bytes = chunks_.bytes[c];
        std::vector<uint8_t> &tile = slot_tiles_[static_cast<size_t>(slot)];
        size_t k = plan_.first_piece(c);
        for (const enc::ChunkPlan::Piece &p : plan_.chunk(c)) {
            encode_any(p.r, ctx, tile, &history_, bytes);
            chunks_.piece_end[k++] = bytes.size();
        }
    });
    return enc::write_stateless(rects, plan_, chunks_, encoding(), ctx, out);
}

} // namespace qvnc::vnc
