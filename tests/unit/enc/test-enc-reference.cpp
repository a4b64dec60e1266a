// Second opinion on the compressed encodings, with decoders written here
// from the protocol description (not from the encoders): ZRLE (every CPIXEL
// layout, including the big-endian ones libvncclient gets wrong), Tight
// (every sub-encoding, TPIXEL in both byte orders, JPEG through libjpeg)
// and Tight PNG (through libpng).  Also QEMU's encoding choice.
#include <csetjmp>
#include <memory>

#include <jpeglib.h>
#include <png.h>
#include <zlib.h>

#include "byte-buffer.hpp"
#include "enc-test-common.hpp"
#include "enc-util.hpp"
#include "encoder.hpp"

#include "cmocka.hpp"

using namespace qvnc;
using namespace qvnc::vnc;
using namespace enctest;

namespace {

struct Reader {
    const uint8_t *p, *end;
    bool ok = true;
    uint8_t u8()
    {
        if (p >= end) {
            ok = false;
            return 0;
        }
        return *p++;
    }
    uint32_t be(int n)
    {
        uint32_t v = 0;
        for (int i = 0; i < n; i++) v = v << 8 | u8();
        return v;
    }
    const uint8_t *take(size_t n)
    {
        if (static_cast<size_t>(end - p) < n) {
            ok = false;
            p = end;
            return nullptr;
        }
        const uint8_t *r = p;
        p += n;
        return r;
    }
};

struct Inflater {
    z_stream zs{};
    bool init = false;
    ~Inflater()
    {
        if (init) inflateEnd(&zs);
    }
    bool run(const uint8_t *in, size_t n, std::vector<uint8_t> &out)
    {
        if (!init) {
            if (inflateInit(&zs) != Z_OK) return false;
            init = true;
        }
        out.clear();
        zs.next_in = const_cast<Bytef *>(in);
        zs.avail_in = static_cast<uInt>(n);
        uint8_t buf[65536];
        do {
            zs.next_out = buf;
            zs.avail_out = sizeof buf;
            const int rc = inflate(&zs, Z_SYNC_FLUSH);
            if (rc != Z_OK && rc != Z_BUF_ERROR) return false;
            out.insert(out.end(), buf, buf + (sizeof buf - zs.avail_out));
            if (rc == Z_BUF_ERROR) break;
        } while (zs.avail_in > 0 || zs.avail_out == 0);
        return zs.avail_in == 0;
    }
};

// The decoder's view: a client framebuffer of wire pixels.
struct Client {
    PixelFormat pf;
    int w = 0, h = 0;
    std::vector<uint8_t> fb;
    Inflater zrle, tight[4];
    int counts[16] = {}; // Tight sub-encodings seen: 0 copy, 1 mono, 2 palette, 3 gradient, 8 fill, 9 jpeg, 10 png
    int bpp() const { return pf.bpp / 8; }
    void put_value(int x, int y, uint32_t v)
    {
        uint8_t *d = fb.data() + (static_cast<size_t>(y) * w + x) * bpp();
        const int n = bpp();
        for (int i = 0; i < n; i++) d[i] = static_cast<uint8_t>(pf.big_endian ? v >> (8 * (n - 1 - i)) : v >> (8 * i));
    }
    uint32_t from_rgb(int r, int g, int b) const
    {
        auto ch = [](int c, int max) { return static_cast<uint32_t>(std::lround(c * max / 255.0)); };
        return ch(r, pf.red_max) << pf.red_shift | ch(g, pf.green_max) << pf.green_shift |
               ch(b, pf.blue_max) << pf.blue_shift;
    }
};

// ---- ZRLE -------------------------------------------------------------------

// CPIXEL per RFB: 3 bytes when 32 bpp, true colour, depth <= 24 and the
// colour bits fit in the low or the high three bytes of the value.  A
// channel's colour bits are all the bits its values can set: bit_width(max)
// bits from its shift (max 72 at shift 5 occupies bits 5..11).
int cpixel_skip(const PixelFormat &pf, int *nbytes)
{
    *nbytes = pf.bpp / 8;
    if (pf.bpp != 32 || pf.depth > 24) return 0;
    auto bits = [](uint16_t max, int shift) {
        uint64_t m = 0;
        for (unsigned v = max; v != 0; v >>= 1) m = m << 1 | 1;
        return m << shift;
    };
    const uint64_t all =
        bits(pf.red_max, pf.red_shift) | bits(pf.green_max, pf.green_shift) | bits(pf.blue_max, pf.blue_shift);
    const bool low = (all >> 24) == 0, high = (all & 0xff) == 0;
    if (!low && !high) return 0;
    *nbytes = 3;
    // Which wire bytes hold the kept value bytes.
    if (pf.big_endian) return low && !high ? 1 : 0;
    return low ? 0 : 1;
}

bool decode_zrle(Client &c, Reader &in, int rx, int ry, int rw, int rh)
{
    const uint32_t len = in.be(4);
    const uint8_t *z = in.take(len);
    std::vector<uint8_t> data;
    if (!z || !c.zrle.run(z, len, data)) return false;
    Reader t{data.data(), data.data() + data.size()};
    int cb;
    const int skip = cpixel_skip(c.pf, &cb);
    const int pb = c.bpp();
    auto cpixel = [&](uint8_t *wire) {
        std::memset(wire, 0, 4);
        const uint8_t *s = t.take(static_cast<size_t>(cb));
        if (s) std::memcpy(wire + skip, s, static_cast<size_t>(cb));
    };
    auto put = [&](int x, int y, const uint8_t *wire) {
        std::memcpy(c.fb.data() + (static_cast<size_t>(y) * c.w + x) * pb, wire, static_cast<size_t>(pb));
    };
    for (int ty = ry; ty < ry + rh; ty += 64) {
        for (int tx = rx; tx < rx + rw; tx += 64) {
            const int tw = std::min(64, rx + rw - tx), th = std::min(64, ry + rh - ty);
            const int type = t.u8();
            uint8_t pal[128][4];
            if (type == 0) {
                for (int y = 0; y < th; y++)
                    for (int x = 0; x < tw; x++) {
                        uint8_t px[4];
                        cpixel(px);
                        put(tx + x, ty + y, px);
                    }
            } else if (type == 1) {
                uint8_t px[4];
                cpixel(px);
                for (int y = 0; y < th; y++)
                    for (int x = 0; x < tw; x++) put(tx + x, ty + y, px);
            } else if (type <= 16) {
                for (int i = 0; i < type; i++) cpixel(pal[i]);
                const int bits = type == 2 ? 1 : type <= 4 ? 2 : 4;
                for (int y = 0; y < th; y++) {
                    int nb = 0, byte = 0;
                    for (int x = 0; x < tw; x++) {
                        if (nb == 0) {
                            byte = t.u8();
                            nb = 8;
                        }
                        nb -= bits;
                        const int i = byte >> nb & ((1 << bits) - 1);
                        if (i >= type) return false;
                        put(tx + x, ty + y, pal[i]);
                    }
                }
            } else if (type == 128 || type >= 130) {
                const int np = type == 128 ? 0 : type - 128;
                for (int i = 0; i < np; i++) cpixel(pal[i]);
                int i = 0;
                while (i < tw * th && t.ok) {
                    uint8_t px[4];
                    int len = 1;
                    if (np == 0) {
                        cpixel(px);
                        int b;
                        do len += (b = t.u8()); while (b == 255 && t.ok);
                    } else {
                        const int b0 = t.u8();
                        if ((b0 & 0x7f) >= np) return false;
                        std::memcpy(px, pal[b0 & 0x7f], 4);
                        if (b0 & 0x80) {
                            int b;
                            do len += (b = t.u8()); while (b == 255 && t.ok);
                        }
                    }
                    if (i + len > tw * th) return false;
                    for (; len > 0; len--, i++) put(tx + i % tw, ty + i / tw, px);
                }
            } else {
                return false;
            }
            if (!t.ok) return false;
        }
    }
    return t.p == t.end;
}

// ---- Tight ------------------------------------------------------------------

bool rgb24(const PixelFormat &pf)
{
    return pf.bpp == 32 && pf.depth == 24 && pf.red_max == 255 && pf.green_max == 255 && pf.blue_max == 255;
}

uint32_t compact_length(Reader &in)
{
    uint32_t b = in.u8(), len = b & 0x7f;
    if (b & 0x80) {
        b = in.u8();
        len |= (b & 0x7f) << 7;
        if (b & 0x80) len |= static_cast<uint32_t>(in.u8()) << 14;
    }
    return len;
}

struct JpegErr {
    jpeg_error_mgr mgr;
    jmp_buf jb;
};
extern "C" void test_jpeg_exit(j_common_ptr c)
{
    longjmp(reinterpret_cast<JpegErr *>(c->err)->jb, 1);
}

bool decode_jpeg(const uint8_t *d, size_t n, int w, int h, std::vector<uint8_t> &rgb)
{
    jpeg_decompress_struct ci;
    JpegErr err;
    ci.err = jpeg_std_error(&err.mgr);
    err.mgr.error_exit = test_jpeg_exit;
    rgb.assign(static_cast<size_t>(w) * h * 3, 0);
    if (setjmp(err.jb)) {
        jpeg_destroy_decompress(&ci);
        return false;
    }
    jpeg_create_decompress(&ci);
    jpeg_mem_src(&ci, d, static_cast<unsigned long>(n));
    jpeg_read_header(&ci, TRUE);
    ci.out_color_space = JCS_RGB;
    jpeg_start_decompress(&ci);
    if (static_cast<int>(ci.output_width) != w || static_cast<int>(ci.output_height) != h) longjmp(err.jb, 1);
    while (ci.output_scanline < ci.output_height) {
        JSAMPROW row = rgb.data() + static_cast<size_t>(ci.output_scanline) * w * 3;
        jpeg_read_scanlines(&ci, &row, 1);
    }
    jpeg_finish_decompress(&ci);
    jpeg_destroy_decompress(&ci);
    return true;
}

bool decode_png(const uint8_t *d, size_t n, int w, int h, std::vector<uint8_t> &rgb)
{
    png_image img{};
    img.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_memory(&img, d, n)) return false;
    if (static_cast<int>(img.width) != w || static_cast<int>(img.height) != h) {
        png_image_free(&img);
        return false;
    }
    img.format = PNG_FORMAT_RGB;
    rgb.assign(PNG_IMAGE_SIZE(img), 0);
    return png_image_finish_read(&img, nullptr, rgb.data(), 0, nullptr) != 0;
}

bool decode_tight(Client &c, Reader &in, int rx, int ry, int rw, int rh, bool png)
{
    const int ctl = in.u8();
    for (int i = 0; i < 4; i++) {
        if (ctl >> i & 1) {
            c.tight[i].~Inflater();
            new (&c.tight[i]) Inflater();
        }
    }
    const int kind = ctl >> 4;
    const bool tp3 = rgb24(c.pf);
    const int tpb = tp3 ? 3 : c.bpp();
    auto tpixel = [&](Reader &r) -> uint32_t {
        if (tp3) {
            const int R = r.u8(), G = r.u8(), B = r.u8();
            return static_cast<uint32_t>(R) << c.pf.red_shift | static_cast<uint32_t>(G) << c.pf.green_shift |
                   static_cast<uint32_t>(B) << c.pf.blue_shift;
        }
        return c.pf.big_endian ? r.be(c.bpp()) : [&] {
            uint32_t v = 0;
            for (int i = 0; i < c.bpp(); i++) v |= static_cast<uint32_t>(r.u8()) << (8 * i);
            return v;
        }();
    };
    if (kind == 8) {
        c.counts[8]++;
        const uint32_t v = tpixel(in);
        for (int y = 0; y < rh; y++)
            for (int x = 0; x < rw; x++) c.put_value(rx + x, ry + y, v);
        return in.ok;
    }
    if (kind == 9 || kind == 10) {
        if (kind == 10 && !png) return false;
        c.counts[kind]++;
        const uint32_t len = compact_length(in);
        const uint8_t *d = in.take(len);
        std::vector<uint8_t> rgb;
        if (!d || !(kind == 9 ? decode_jpeg(d, len, rw, rh, rgb) : decode_png(d, len, rw, rh, rgb))) return false;
        for (int y = 0; y < rh; y++)
            for (int x = 0; x < rw; x++) {
                const uint8_t *p = rgb.data() + (static_cast<size_t>(y) * rw + x) * 3;
                c.put_value(rx + x, ry + y, c.from_rgb(p[0], p[1], p[2]));
            }
        return true;
    }
    if (kind >= 8 || png) return false; // no basic compression in Tight PNG
    const int stream = kind & 3;
    int filter = 0;
    if (kind & 4) filter = in.u8();
    std::vector<uint32_t> palette;
    int bits = tpb * 8;
    if (filter == 1) {
        const int n = in.u8() + 1;
        for (int i = 0; i < n; i++) palette.push_back(tpixel(in));
        bits = n == 2 ? 1 : 8;
    } else if (filter == 2) {
        if (c.bpp() == 1) return false;
    } else if (filter != 0) {
        return false;
    }
    const size_t row_bytes = (static_cast<size_t>(rw) * bits + 7) / 8;
    const size_t size = row_bytes * rh;
    std::vector<uint8_t> data;
    if (size < 12) {
        const uint8_t *d = in.take(size);
        if (!d) return false;
        data.assign(d, d + size);
    } else {
        const uint32_t len = compact_length(in);
        const uint8_t *d = in.take(len);
        if (!d || !c.tight[stream].run(d, len, data) || data.size() != size) return false;
    }
    c.counts[filter == 1 ? (palette.size() == 2 ? 1 : 2) : filter == 2 ? 3 : 0]++;
    Reader r{data.data(), data.data() + data.size()};
    std::vector<int> prev(static_cast<size_t>(rw) * 3, 0), cur(static_cast<size_t>(rw) * 3, 0);
    const int shift[3] = {c.pf.red_shift, c.pf.green_shift, c.pf.blue_shift};
    const int max[3] = {c.pf.red_max, c.pf.green_max, c.pf.blue_max};
    for (int y = 0; y < rh; y++) {
        const uint8_t *row = data.data() + row_bytes * y;
        r.p = row;
        for (int x = 0; x < rw; x++) {
            uint32_t v;
            if (filter == 1) {
                const int i = bits == 1 ? (row[x / 8] >> (7 - x % 8) & 1) : row[x];
                if (i >= static_cast<int>(palette.size())) return false;
                v = palette[static_cast<size_t>(i)];
            } else if (filter == 2) {
                const uint32_t d = tpixel(r);
                v = 0;
                for (int k = 0; k < 3; k++) {
                    const int left = x ? cur[(x - 1) * 3 + k] : 0, ul = x ? prev[(x - 1) * 3 + k] : 0;
                    const int pred = std::clamp(left + prev[x * 3 + k] - ul, 0, max[k]);
                    const int comp = (pred + static_cast<int>(d >> shift[k] & max[k])) & max[k];
                    cur[x * 3 + k] = comp;
                    v |= static_cast<uint32_t>(comp) << shift[k];
                }
            } else {
                v = tpixel(r);
            }
            c.put_value(rx + x, ry + y, v);
        }
        std::swap(prev, cur);
    }
    return true;
}

bool decode_update(Client &c, const io::ByteBuffer &buf, size_t nrects, int32_t expect_enc)
{
    Reader in{buf.data().data(), buf.data().data() + buf.size()};
    for (size_t i = 0; i < nrects; i++) {
        const int x = static_cast<int>(in.be(2)), y = static_cast<int>(in.be(2));
        const int w = static_cast<int>(in.be(2)), h = static_cast<int>(in.be(2));
        const int32_t e = static_cast<int32_t>(in.be(4));
        if (x + w > c.w || y + h > c.h || w == 0 || h == 0) return false;
        if (e == 7 || e == -260) {
            if (e != expect_enc || w > 2048 || !decode_tight(c, in, x, y, w, h, e == -260)) return false;
        } else if (e == 16) {
            if ((expect_enc != 16 && expect_enc != 17) || !decode_zrle(c, in, x, y, w, h)) return false;
        } else {
            return false;
        }
    }
    return in.ok && in.p == in.end;
}

struct Mode {
    int32_t encoding;
    bool lossy;
};

void run_formats(const Mode &m, const std::vector<NamedFormat> &formats)
{
    for (const NamedFormat &f : formats) {
        for (const uint32_t sf : {uint32_t{PIXMAN_x8r8g8b8}, uint32_t{PIXMAN_r5g6b5}}) {
            const bool wide = sf == PIXMAN_r5g6b5 && f.pf.bpp == 16;
            const int W = wide ? 2100 : 131, H = wide ? 40 : 97;
            Client c;
            c.pf = f.pf;
            c.w = W;
            c.h = H;
            c.fb.assign(static_cast<size_t>(W) * H * (f.pf.bpp / 8), 0);
            std::unique_ptr<Encoder> enc = make_encoder(m.encoding);
            Image im{W, H, std::vector<uint32_t>(static_cast<size_t>(W) * H, 0)};
            const Rect steps[] = {{0, 0, W, H}, {0, 0, 1, 1}, {W - 1, H - 1, 1, 1}, {5, 7, 17, 33},
                                  {W - 20, H - 30, 20, 30}, {60, 5, 70, 35}};
            const Content contents[] = {Content::Mixed, Content::Photo, Content::TwoColour, Content::TwentyColour,
                                        Content::Solid};
            int step = 0;
            for (int round = 0; round < 5; round++) {
                for (const Rect &r : steps) {
                    const Content content = contents[(round + step) % 5];
                    paint(im, content, static_cast<unsigned>(step * 17 + 3), r.x, r.y, r.right(), r.bottom());
                    const Surface surf = make_surface(im, sf);
                    ServerFramebuffer fb;
                    fb.reset(surf.view(im));
                    auto conv = PixelConverter::make(fb.format(), f.pf);
                    assert_true(conv.ok());
                    EncodeContext ctx{fb, f.pf, conv.value()};
                    ctx.lossy = m.lossy;
                    ctx.quality_level = m.lossy ? step % 10 : -1;
                    ctx.compress_level = step % 4 == 0 ? -1 : step % 10;
                    io::ByteBuffer out;
                    const size_t n = enc->encode(r, ctx, out);
                    if (!decode_update(c, out, n, m.encoding)) {
                        fail_msg("enc %d %s: step %d (%s %dx%d+%d+%d): undecodable", m.encoding, f.name, step,
                                 content_name(content), r.w, r.h, r.x, r.y);
                    }
                    const std::vector<uint8_t> want = expected_pixels(fb, conv.value());
                    const std::string diff =
                        compare(c.fb.data(), want.data(), W, H, f.pf, m.lossy ? 255 : 0,
                                m.lossy ? 32.0 : 0); // JPEG down to quality 5 (level 0, QEMU's)
                    if (!diff.empty()) {
                        fail_msg("enc %d %s: step %d (%s %dx%d+%d+%d): %s", m.encoding, f.name, step,
                                 content_name(content), r.w, r.h, r.x, r.y, diff.c_str());
                    }
                    step++;
                }
            }
            if (m.encoding == 7 || m.encoding == -260) {
                print_message("# %s %s: copy %d mono %d palette %d gradient %d fill %d jpeg %d png %d\n", f.name,
                              sf == PIXMAN_r5g6b5 ? "rgb565" : "xrgb", c.counts[0], c.counts[1], c.counts[2],
                              c.counts[3], c.counts[8], c.counts[9], c.counts[10]);
                if (m.encoding == 7 && !m.lossy) {
                    assert_true(c.counts[1] > 0 && c.counts[8] > 0);
                    if (f.pf.bpp > 8) assert_true(c.counts[2] > 0);
                }
                if (m.lossy && f.pf.bpp > 8) assert_true(c.counts[9] > 0);
                if (m.encoding == -260) assert_true(c.counts[10] > 0);
            }
        }
    }
}

void run_mode(const Mode &m)
{
    run_formats(m, client_formats());
}

void test_zrle(void **)
{
    run_mode({16, false});
}

// Found by fuzz-encoders (tests/fuzz/crashes/encoders-crash-bc4f1773a3b72a00):
// maxima that are not 2^n - 1.  (max << shift) has a zero low byte, yet blue
// (max 72 at shift 5) sets bits 5..11, so the colour bits fit neither three
// byte window and the CPIXEL must be the whole 4-byte pixel.  (Red, bits
// 11..13, overlaps blue; sanitize() allows that, and both sides convert the
// same way, so the wire values still have to match.)
void test_zrle_cpixel_odd_maxima(void **)
{
    const PixelFormat odd_le = make_pf(32, 24, false, 5, 31, 72, 11, 25, 5);
    const PixelFormat odd_be = make_pf(32, 24, true, 5, 31, 72, 11, 25, 5);
    for (const PixelFormat &pf : {odd_le, odd_be}) {
        const enc::CPixelLayout cp = enc::cpixel_layout(pf);
        assert_int_equal(cp.bytes, 4);
        assert_int_equal(cp.offset, 0);
    }
    // Same maxima moved so that every colour bit is above bit 7: the
    // most significant three bytes are the CPIXEL (wire offset 1 when
    // little-endian, 0 when big-endian).
    const enc::CPixelLayout hi_le = enc::cpixel_layout(make_pf(32, 24, false, 5, 31, 72, 16, 25, 8));
    assert_int_equal(hi_le.bytes, 3);
    assert_int_equal(hi_le.offset, 1);
    const enc::CPixelLayout hi_be = enc::cpixel_layout(make_pf(32, 24, true, 5, 31, 72, 16, 25, 8));
    assert_int_equal(hi_be.bytes, 3);
    assert_int_equal(hi_be.offset, 0);
    // Red max 64 at shift 2: 64 << 2 has a zero low byte, but red 1 is bit 2.
    const enc::CPixelLayout low_bit = enc::cpixel_layout(make_pf(32, 24, false, 64, 255, 255, 2, 16, 24));
    assert_int_equal(low_bit.bytes, 4);

    // And the pixels survive the round trip through the reference decoder.
    run_formats({16, false}, {{"32le-odd-maxima", odd_le}, {"32be-odd-maxima", odd_be}});
}

// Tight's gradient filter only for formats it can pack exactly (maxima
// 2^n - 1, channels apart): others, among them the one fuzz-encoders found
// (red and green overlapping) and odd maxima, get the copy filter and
// still decode exactly.
void test_tight_gradient_odd_formats(void **)
{
    run_formats({7, false}, {{"32le-overlapping", make_pf(32, 24, false, 16383, 32767, 65535, 7, 7, 0)},
                             {"32le-odd-maxima", make_pf(32, 24, false, 5, 31, 72, 11, 25, 5)},
                             {"16le-odd-maxima", make_pf(16, 16, false, 20, 40, 9, 11, 5, 0)}});
}

void test_zywrle(void **)
{
    run_mode({17, false});
}
void test_tight(void **)
{
    run_mode({7, false});
}
void test_tight_lossy(void **)
{
    run_mode({7, true});
}
void test_tight_png(void **)
{
    run_mode({-260, false});
}
void test_tight_png_lossy(void **)
{
    run_mode({-260, true});
}

void test_choose_encoding(void **)
{
    assert_int_equal(choose_encoding({}), 0);
    assert_int_equal(choose_encoding({1, -239}), 0);
    assert_int_equal(choose_encoding({5, 16, 0}), 5);
    assert_int_equal(choose_encoding({6, 16}), 16);
    assert_int_equal(choose_encoding({16, 6}), 16);
    assert_int_equal(choose_encoding({6, 5}), 6);
    assert_int_equal(choose_encoding({-260, 7, 16}), -260);
    assert_int_equal(choose_encoding({99, 17, 16}), 17);
    assert_int_equal(choose_encoding({-223, 7}), 7);
    assert_int_equal(choose_encoding({8, 2, 4, 15, 0}), 0);
    assert_true(encoder_available(0) && encoder_available(5) && encoder_available(6) && encoder_available(7));
    assert_true(encoder_available(16) && encoder_available(17) && encoder_available(-260));
    assert_false(encoder_available(1) || encoder_available(2) || encoder_available(8) || encoder_available(15));
    assert_null(make_encoder(2).get());
    for (int32_t e : {0, 5, 6, 7, 16, 17, -260}) {
        assert_int_equal(make_encoder(e)->encoding(), e);
    }
}

} // namespace

int main()
{
    const CMUnitTest tests[] = {
        cmocka_unit_test(test_choose_encoding), cmocka_unit_test(test_zrle),
        cmocka_unit_test(test_zrle_cpixel_odd_maxima), cmocka_unit_test(test_tight_gradient_odd_formats),
        cmocka_unit_test(test_zywrle),
        cmocka_unit_test(test_tight),           cmocka_unit_test(test_tight_lossy),
        cmocka_unit_test(test_tight_png),       cmocka_unit_test(test_tight_png_lossy),
    };
    return cmocka_run_group_tests_name("enc-reference", tests, nullptr, nullptr);
}
