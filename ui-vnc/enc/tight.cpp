#include "tight.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "byte-writer.hpp"

namespace qvnc::vnc {

namespace {

constexpr uint8_t kFill = 0x80;
constexpr uint8_t kJpeg = 0x90;
constexpr uint8_t kPng = 0xA0;
constexpr uint8_t kExplicitFilter = 0x40;
constexpr uint8_t kFilterPalette = 1;
constexpr uint8_t kFilterGradient = 2;
constexpr size_t kMinToCompress = 12;
// Below this area JPEG's fixed overhead (headers and tables, ~600 bytes)
// outweighs its gain.
constexpr int kJpegMinArea = 1024;
// Gradient data up to this many bytes is deflated with matching (see
// send_data): 16 KB is a 72x72 piece at 24 bits.
constexpr size_t kSmallGradientBytes = 16 * 1024;
constexpr bool kHostBig = std::endian::native == std::endian::big;


// Whether the gradient filter's residuals can be packed into pixels of
// `pf` and decoded back exactly: each channel is predicted modulo max + 1
// (so max must be 2^n - 1) and its residual goes back at its shift (so the
// channels must not overlap, nor pass bpp).  rfbproto allows other formats;
// they get the copy filter.  (Found by fuzz-encoders: maxima 16383/32767/
// 65535 at shifts 7/7/0, red and green overlapping.)
bool gradient_format(const PixelFormat &pf)
{
    const uint32_t max[3] = {pf.red_max, pf.green_max, pf.blue_max};
    const int shift[3] = {pf.red_shift, pf.green_shift, pf.blue_shift};
    uint64_t used = 0;
    for (int c = 0; c < 3; c++) {
        if (max[c] == 0 || (max[c] & (max[c] + 1)) != 0 || shift[c] >= 64) {
            return false;
        }
        const uint64_t bits = uint64_t{max[c]} << shift[c];
        if ((used & bits) != 0 || (pf.bpp < 64 && (bits >> pf.bpp) != 0)) {
            return false;
        }
        used |= bits;
    }
    return true;
}

// A client pixel (wire bytes loaded natively) as a TPIXEL.
template <class T> inline uint8_t *put_tpixel(uint8_t *d, T v, const PixelFormat &pf, bool rgb24)
{
    if constexpr (sizeof(T) == 4) {
        if (rgb24) {
            const uint32_t x = enc::px_value(v, pf.big_endian);
            d[0] = static_cast<uint8_t>(x >> pf.red_shift);
            d[1] = static_cast<uint8_t>(x >> pf.green_shift);
            d[2] = static_cast<uint8_t>(x >> pf.blue_shift);
            return d + 3;
        }
    }
    enc::store_px<T>(d, v);
    return d + sizeof(T);
}

// Widens a channel value of maximum `max` to 8 bits.
inline uint8_t to8(uint32_t c, uint32_t max)
{
    return static_cast<uint8_t>(max == 255 ? c : (c * 255 + max / 2) / max);
}

// A client pixel value as R, G, B bytes.
inline void value_to_rgb(uint32_t x, const PixelFormat &pf, uint8_t *d)
{
    d[0] = to8((x >> pf.red_shift) & pf.red_max, pf.red_max);
    d[1] = to8((x >> pf.green_shift) & pf.green_max, pf.green_max);
    d[2] = to8((x >> pf.blue_shift) & pf.blue_max, pf.blue_max);
}

} // namespace

// The constructor and destructor are in tight-parallel.cpp (Parallel).

// Tight's compact length: 7 bits a byte, low bits first, at most 3 bytes.
void TightEncoder::put_compact_length(io::ByteBuffer &out, size_t len)
{
    uint8_t b[3];
    size_t n = 0;
    b[n++] = static_cast<uint8_t>(len & 0x7f);
    if (len > 0x7f) {
        b[0] |= 0x80;
        b[n++] = static_cast<uint8_t>((len >> 7) & 0x7f);
        if (len > 0x3fff) {
            b[1] |= 0x80;
            b[n++] = static_cast<uint8_t>((len >> 14) & 0xff);
        }
    }
    out.append({b, n});
}

void TightEncoder::forget_history()
{
    if (png_) {
        return;
    }
    for (enc::Deflater &z : z_) {
        // A new stream, header included: the client inflates it with a
        // fresh zlib stream once the reset bit reached it.
        z.start_over();
    }
    reset_pending_ = 0x0f;
}

void TightEncoder::mark_resets(io::ByteBuffer &out, size_t ctl_at)
{
    if (reset_pending_) {
        out.patch_or_u8(ctl_at, reset_pending_);
        reset_pending_ = 0;
    }
}

void TightEncoder::take_lossy(std::vector<Rect> &out)
{
    out.insert(out.end(), lossy_.begin(), lossy_.end());
    lossy_.clear();
}

namespace {

// Per quality level: below this many changes a second no JPEG (QEMU's
// figures for its adaptive Tight).
constexpr double kJpegFreqMin[10] = {0, 0, 0, 0, 0, 0.1, 0.2, 0.3, 0.4, 0.5};

} // namespace

bool TightEncoder::jpeg_allowed(int quality_level, double hz)
{
    // QEMU allows JPEG at frequency 0 for levels 0-4; here a tile that is
    // not changing is always sent lossless, or its lossless refresh would
    // come out as JPEG again.
    return hz > 0 && hz >= kJpegFreqMin[std::clamp(quality_level, 0, 9)];
}

int TightEncoder::jpeg_quality(int quality_level)
{
    // QEMU's table (its tight_conf jpeg_quality column): a QEMU user who
    // swaps in qvnc keeps the picture and the bandwidth their viewer's
    // quality level gave them.
    static constexpr int kQuality[10] = {5, 10, 15, 25, 37, 50, 60, 70, 75, 80};
    return kQuality[std::clamp(quality_level, 0, 9)];
}

size_t TightEncoder::encode(const Rect &r, const EncodeContext &ctx, io::ByteBuffer &out)
{
    const int pw = std::min(r.w, kMaxWidth);
    const int ph = piece_height(pw);
    size_t count = 0;
    for (int y = r.y; y < r.bottom(); y += ph) {
        const int h = std::min(ph, r.bottom() - y);
        for (int x = r.x; x < r.right(); x += pw) {
            encode_one(Rect{x, y, std::min(pw, r.right() - x), h}, ctx, out);
            count++;
        }
    }
    return count;
}

void TightEncoder::encode_one(const Rect &piece, const EncodeContext &ctx, io::ByteBuffer &out)
{
    switch (ctx.pf.bytes_per_pixel()) {
    case 1: encode_piece<uint8_t>(piece, ctx, out); break;
    case 2: encode_piece<uint16_t>(piece, ctx, out); break;
    default: encode_piece<uint32_t>(piece, ctx, out); break;
    }
}

size_t TightEncoder::max_rects(const Rect &r) const
{
    // The same cut as encode().
    if (r.empty()) {
        return 0;
    }
    const int pw = std::min(r.w, kMaxWidth);
    const int ph = piece_height(pw);
    return static_cast<size_t>((r.w + pw - 1) / pw) * static_cast<size_t>((r.h + ph - 1) / ph);
}

template <class T> void TightEncoder::encode_piece(const Rect &r, const EncodeContext &ctx, io::ByteBuffer &out)
{
    constexpr int B = sizeof(T);
    const int area = r.w * r.h;
    if (ctx.conv.is_copy()) {
        pix_ = ctx.fb.row(r.y) + static_cast<size_t>(r.x) * B;
        pix_stride_ = static_cast<size_t>(ctx.fb.stride());
    } else {
        enc::convert_rect(r, ctx, px_);
        pix_ = px_.data();
        pix_stride_ = static_cast<size_t>(r.w) * B;
    }
    write_rect_header(out, r, encoding());
    // Every sub-encoding below starts with its compression control byte
    // here; the reset bits are ORed in once it is written, whichever
    // branch wrote it.
    struct Resets {
        TightEncoder &enc;
        io::ByteBuffer &out;
        size_t at;
        ~Resets() { enc.mark_resets(out, at); }
    } resets{*this, out, out.size()};

    // Colour census, remembering each pixel's palette index.
    if (index_.size() < static_cast<size_t>(area)) {
        index_.resize(static_cast<size_t>(area));
    }
    palette_.clear();
    T prev = enc::load_px<T>(pix_row(0));
    int cur = palette_.lookup_or_add(prev);
    bool over = false;
    uint8_t *idx = index_.data();
    for (int y = 0; y < r.h && !over; y++) {
        const uint8_t *row = pix_row(y);
        for (int x = 0; x < r.w; x++) {
            const T v = enc::load_px<T>(row + x * B);
            if (v != prev) {
                prev = v;
                cur = palette_.lookup_or_add(v);
                if (cur < 0) {
                    over = true;
                    break;
                }
            }
            *idx++ = static_cast<uint8_t>(cur);
        }
    }
    const int ncolours = over ? 257 : palette_.size();
    const bool rgb24 = enc::tpixel_is_rgb24(ctx.pf);

    if (ncolours == 1) {
        uint8_t b[5] = {kFill};
        uint8_t *e = put_tpixel<T>(b + 1, enc::load_px<T>(pix_row(0)), ctx.pf, rgb24);
        out.append({b, static_cast<size_t>(e - b)});
        return;
    }

    bool jpeg_ok = ctx.lossy && ctx.quality_level >= 0 && ctx.pf.bpp >= 16 && area >= kJpegMinArea;
    if (jpeg_ok && ctx.freq) {
        // Every tile of the piece must be changing, not just their mean: a
        // lossless refresh of idle tiles that a viewer's bounding box
        // (merge_small_damage) joined to a moving one went out as JPEG, and
        // as those tiles had no history left, nothing refreshed them again.
        jpeg_ok = jpeg_allowed(ctx.quality_level, ctx.freq->over(r)) && !ctx.freq->any_idle(r);
    }
    const int tpixel = rgb24 ? 3 : B;
    // A palette pays when each colour covers many pixels: its colours cost
    // a TPIXEL each, uncompressed.  One colour per 16 pixels at most (QEMU
    // allows one per 32 at its default level); the former one per 2 sent
    // the many-coloured 16-pixel-wide rectangles around a moving cursor as
    // palettes of up to 250 colours: cursor workload 1061 -> 976 bytes an
    // update (libvncserver 889), desktop and scroll unchanged.  With JPEG
    // on offer the bound is the same, so only few-colour (text, UI) content
    // keeps a palette.  QEMU's adaptive mode forces JPEG on fast-changing
    // tiles even then; not here: on the scroll workload that made
    // Tight+JPEG 2.6x libvncserver's bytes (text as JPEG), without it 0.85x
    // and no slower.
    const bool palette_ok = ncolours == 2 || (ncolours <= 256 && tpixel > 1 && ncolours * 16 <= area);

    if (png_) {
        if (!palette_ok && jpeg_ok && send_jpeg(r, ctx, out)) {
            return;
        }
        send_png<T>(r, ctx, ncolours, out);
        return;
    }
    if (palette_ok) {
        send_palette<T>(r, ctx, ncolours, out);
        return;
    }
    if (jpeg_ok && send_jpeg(r, ctx, out)) {
        return;
    }
    const bool gradient_ok = rgb24 || (B >= 2 && ctx.pf.big_endian == kHostBig && gradient_format(ctx.pf));
    if (gradient_ok && is_smooth<T>(r, ctx)) {
        send_gradient<T>(r, ctx, out);
        return;
    }
    send_copy<T>(r, ctx, out);
}

void TightEncoder::send_data(int stream, const uint8_t *data, size_t n, int level, io::ByteBuffer &out)
{
    if (n < kMinToCompress) {
        out.append({data, n});
        return;
    }
    // Gradient residuals (photo-like content) are small values with few
    // long matches: run-length matching only (Z_RLE) keeps ~95% of level
    // 6's ratio at ~20x its speed and beats level 1 on both (video
    // workload: ratio 3.20 vs 3.40 at level 6 and 2.97 at level 1).
    // Compress levels 7..9 still get the full search.  Small pieces (a
    // cursor's columns) are the exception: the window holds the same
    // background from earlier updates, which RLE (distance 1 only) cannot
    // reach and level 1 does, at little cost on so few bytes: cursor
    // workload 922 instead of 977 bytes an update (libvncserver 888) for
    // ~5% more CPU; level 3 there was 899 bytes for 55% more.
    int strategy = Z_DEFAULT_STRATEGY;
    if (stream == 3 && level < 7) {
        if (n > kSmallGradientBytes) {
            strategy = Z_RLE;
        } else {
            level = 1;
        }
    }
    if (defer_) {
        Chunk &c = *defer_;
        c.deferred.push_back(Deferred{stream, level, strategy, out.size(), c.data.size(), c.data.size() + n, 0, 0, 0});
        c.data.insert(c.data.end(), data, data + n);
        return;
    }
    enc::Deflater &z = z_[stream];
    z.set_level(level, strategy);
    z.clear_output();
    z.feed(data, n);
    z.sync_flush();
    put_compact_length(out, z.output_size());
    out.append({z.output_data(), z.output_size()});
}

template <class T>
void TightEncoder::send_palette(const Rect &r, const EncodeContext &ctx, int ncolours, io::ByteBuffer &out)
{
    const bool rgb24 = enc::tpixel_is_rgb24(ctx.pf);
    const int stream = ncolours == 2 ? 1 : 2;
    uint8_t head[3 + 256 * 4];
    size_t n = 0;
    head[n++] = static_cast<uint8_t>(stream << 4 | kExplicitFilter);
    head[n++] = kFilterPalette;
    head[n++] = static_cast<uint8_t>(ncolours - 1);
    for (int i = 0; i < ncolours; i++) {
        n = static_cast<size_t>(put_tpixel<T>(head + n, static_cast<T>(palette_.colour(i)), ctx.pf, rgb24) - head);
    }
    out.append({head, n});

    const int level = std::max(1, enc::zlib_level(ctx.compress_level, kDefaultPaletteLevel));
    if (ncolours > 2) {
        send_data(stream, index_.data(), static_cast<size_t>(r.w) * r.h, level, out);
        return;
    }
    // One bit per pixel, rows padded to a byte, most significant bit first.
    const size_t row_bytes = static_cast<size_t>((r.w + 7) / 8);
    data_.assign(row_bytes * r.h, 0);
    const uint8_t *ip = index_.data();
    for (int y = 0; y < r.h; y++) {
        uint8_t *d = data_.data() + row_bytes * y;
        for (int x = 0; x < r.w; x++) {
            d[x >> 3] |= static_cast<uint8_t>(*ip++ << (7 - (x & 7)));
        }
    }
    send_data(stream, data_.data(), data_.size(), level, out);
}

template <class T> void TightEncoder::send_copy(const Rect &r, const EncodeContext &ctx, io::ByteBuffer &out)
{
    const int level = std::max(1, enc::zlib_level(ctx.compress_level, kDefaultCopyLevel));
    out.push_back(0x00); // stream 0, copy filter implied
    const size_t row_bytes = static_cast<size_t>(r.w) * sizeof(T);
    if (!enc::tpixel_is_rgb24(ctx.pf)) {
        if (pix_stride_ == row_bytes) {
            send_data(0, pix_, row_bytes * r.h, level, out);
            return;
        }
        data_.resize(row_bytes * r.h);
        for (int y = 0; y < r.h; y++) {
            std::memcpy(data_.data() + row_bytes * y, pix_row(y), row_bytes);
        }
        send_data(0, data_.data(), data_.size(), level, out);
        return;
    }
    data_.resize(static_cast<size_t>(r.w) * r.h * 3);
    uint8_t *d = data_.data();
    for (int y = 0; y < r.h; y++) {
        const uint8_t *row = pix_row(y);
        for (int x = 0; x < r.w; x++) {
            d = put_tpixel<T>(d, enc::load_px<T>(row + x * sizeof(T)), ctx.pf, true);
        }
    }
    send_data(0, data_.data(), data_.size(), level, out);
}

// Samples every 4th row: photo-like (smooth) content has few pixels equal
// to their left neighbour and small gradient prediction errors.
template <class T> bool TightEncoder::is_smooth(const Rect &r, const EncodeContext &ctx) const
{
    if (r.w < 16 || r.h < 16) {
        return false;
    }
    const PixelFormat &pf = ctx.pf;
    const int shift[3] = {pf.red_shift, pf.green_shift, pf.blue_shift};
    const int max[3] = {pf.red_max, pf.green_max, pf.blue_max};
    long samples = 0, repeats = 0;
    long err8 = 0; // summed errors scaled to 8-bit channels
    for (int y = 1; y < r.h; y += 4) {
        const uint8_t *row = pix_row(y);
        const uint8_t *up = pix_row(y - 1);
        for (int x = 1; x < r.w; x++) {
            const T v = enc::load_px<T>(row + x * sizeof(T));
            const T l = enc::load_px<T>(row + (x - 1) * sizeof(T));
            samples++;
            if (v == l) {
                repeats++;
                continue;
            }
            const uint32_t pv = enc::px_value(v, pf.big_endian), pl = enc::px_value(l, pf.big_endian);
            const uint32_t pu = enc::px_value(enc::load_px<T>(up + x * sizeof(T)), pf.big_endian);
            const uint32_t pul = enc::px_value(enc::load_px<T>(up + (x - 1) * sizeof(T)), pf.big_endian);
            for (int c = 0; c < 3; c++) {
                const int m = max[c];
                const int pred = std::clamp(static_cast<int>((pl >> shift[c]) & m) + static_cast<int>((pu >> shift[c]) & m) -
                                                static_cast<int>((pul >> shift[c]) & m),
                                            0, m);
                const int e = std::abs(static_cast<int>((pv >> shift[c]) & m) - pred);
                err8 += m == 255 ? e : e * 255 / m;
            }
        }
    }
    if (samples == 0 || repeats * 4 > samples) {
        return false;
    }
    const long changed = samples - repeats;
    return err8 < changed * 3 * 12; // mean error under 12 of 255 per channel
}

template <class T> void TightEncoder::send_gradient(const Rect &r, const EncodeContext &ctx, io::ByteBuffer &out)
{
    const PixelFormat &pf = ctx.pf;
    const bool rgb24 = enc::tpixel_is_rgb24(pf);
    const int shift[3] = {pf.red_shift, pf.green_shift, pf.blue_shift};
    const int max[3] = {pf.red_max, pf.green_max, pf.blue_max};
    const uint8_t head[2] = {static_cast<uint8_t>(3 << 4 | kExplicitFilter), kFilterGradient};
    out.append({head, 2});

    const size_t w = static_cast<size_t>(r.w);
    const size_t out_px = rgb24 ? 3 : sizeof(T);
    data_.resize(w * r.h * out_px);
    if constexpr (sizeof(T) == 4) {
        if (rgb24) {
            gradient_rgb24(r, pf);
            send_data(3, data_.data(), data_.size(), std::max(1, enc::zlib_level(ctx.compress_level, kDefaultLevel)), out);
            return;
        }
    }
    // Component rows (current and previous), with the row above the first
    // and the column left of the first all zero.
    grad_rows_.assign(w * 6, 0);
    int *prev = grad_rows_.data(), *curr = grad_rows_.data() + w * 3;
    uint8_t *d = data_.data();
    for (int y = 0; y < r.h; y++) {
        const uint8_t *src = pix_row(y);
        for (size_t x = 0; x < w; x++) {
            const uint32_t v = enc::px_value(enc::load_px<T>(src + x * sizeof(T)), pf.big_endian);
            uint32_t packed = 0;
            for (int c = 0; c < 3; c++) {
                const int comp = static_cast<int>((v >> shift[c]) & max[c]);
                const int left = x > 0 ? curr[(x - 1) * 3 + c] : 0;
                const int upleft = x > 0 ? prev[(x - 1) * 3 + c] : 0;
                const int pred = std::clamp(left + prev[x * 3 + c] - upleft, 0, max[c]);
                curr[x * 3 + c] = comp;
                const uint32_t diff = static_cast<uint32_t>(comp - pred) & static_cast<uint32_t>(max[c]);
                if (rgb24) {
                    d[c] = static_cast<uint8_t>(diff);
                } else {
                    packed |= diff << shift[c];
                }
            }
            if (!rgb24) {
                enc::store_px<T>(d, static_cast<T>(packed)); // host order == client order here
            }
            d += out_px;
        }
        std::swap(prev, curr);
    }
    send_data(3, data_.data(), data_.size(), std::max(1, enc::zlib_level(ctx.compress_level, kDefaultLevel)), out);
}

// The gradient filter for 8-bit channels (TPIXEL = R, G, B), the common
// case, at a few cycles a pixel: the channels of a row are first split into
// byte planes with a zero column on the left, so the prediction loop has no
// branches, no per-channel masks and vectorises.
void TightEncoder::gradient_rgb24(const Rect &r, const PixelFormat &pf)
{
    const size_t w = static_cast<size_t>(r.w);
    const size_t span = w + 1; // one plane row: the zero column, then w values
    grad_bytes_.assign(span * 6, 0);
    uint8_t *prev = grad_bytes_.data();       // planes R, G, B of the row above
    uint8_t *curr = grad_bytes_.data() + span * 3;
    const bool swap = pf.big_endian != kHostBig;
    const unsigned sh[3] = {pf.red_shift, pf.green_shift, pf.blue_shift};
    uint8_t *d = data_.data();
    for (int y = 0; y < r.h; y++) {
        const uint8_t *src = pix_row(y);
        for (size_t x = 0; x < w; x++) {
            uint32_t v = enc::load_px<uint32_t>(src + x * 4);
            v = swap ? __builtin_bswap32(v) : v;
            curr[1 + x] = static_cast<uint8_t>(v >> sh[0]);
            curr[span + 1 + x] = static_cast<uint8_t>(v >> sh[1]);
            curr[2 * span + 1 + x] = static_cast<uint8_t>(v >> sh[2]);
        }
        for (int c = 0; c < 3; c++) {
            const uint8_t *cp = curr + c * span, *pp = prev + c * span;
            uint8_t *dc = d + c;
            for (size_t x = 0; x < w; x++) {
                int pred = static_cast<int>(cp[x]) + pp[x + 1] - pp[x];
                pred = pred < 0 ? 0 : pred > 255 ? 255 : pred;
                dc[x * 3] = static_cast<uint8_t>(cp[x + 1] - pred);
            }
        }
        d += w * 3;
        std::swap(prev, curr);
    }
}

bool TightEncoder::send_jpeg(const Rect &r, const EncodeContext &ctx, io::ByteBuffer &out)
{
    if (!jpeg_) {
        jpeg_ = std::make_unique<enc::JpegCompressor>();
    }
    // 4:2:0 at every level, as QEMU (libjpeg's default): 6 blocks a 16x16
    // MCU, where 4:4:4 codes 12 and 4:2:2 codes 8.
    if (!jpeg_->compress(r, ctx.fb, ctx.conv, jpeg_quality(ctx.quality_level), 2, 2, image_)) {
        return false;
    }
    out.push_back(kJpeg);
    put_compact_length(out, image_.size());
    out.append({image_.data(), image_.size()});
    lossy_.push_back(r);
    return true;
}

template <class T>
void TightEncoder::send_png(const Rect &r, const EncodeContext &ctx, int ncolours, io::ByteBuffer &out)
{
    const PixelFormat &pf = ctx.pf;
    const size_t area = static_cast<size_t>(r.w) * r.h;
    const int level = enc::zlib_level(ctx.compress_level, kDefaultLevel);
    bool ok;
    if (ncolours <= 256) {
        uint8_t plte[256 * 3];
        for (int i = 0; i < ncolours; i++) {
            value_to_rgb(enc::px_value(static_cast<T>(palette_.colour(i)), pf.big_endian), pf, plte + 3 * i);
        }
        ok = enc::png_compress(index_.data(), r.w, r.h, plte, ncolours, level, image_);
    } else {
        data_.resize(area * 3);
        uint8_t *d = data_.data();
        for (int y = 0; y < r.h; y++) {
            const uint8_t *row = pix_row(y);
            for (int x = 0; x < r.w; x++, d += 3) {
                value_to_rgb(enc::px_value(enc::load_px<T>(row + x * sizeof(T)), pf.big_endian), pf, d);
            }
        }
        ok = enc::png_compress(data_.data(), r.w, r.h, nullptr, 0, level, image_);
    }
    if (!ok) {
        abort(); // libpng fails only on out-of-memory with valid input
    }
    out.push_back(kPng);
    put_compact_length(out, image_.size());
    out.append({image_.data(), image_.size()});
}

} // namespace qvnc::vnc
