#include "raw.hpp"

#include <cstring>

namespace qvnc::vnc {

void append_converted_pixels(const Rect &r, const EncodeContext &ctx, io::ByteBuffer &out)
{
    const size_t row_bytes = static_cast<size_t>(r.w) * ctx.pf.bytes_per_pixel();
    const size_t src_off = static_cast<size_t>(r.x) * ctx.fb.bytes_per_pixel();
    uint8_t *dst = out.prepare(row_bytes * static_cast<size_t>(r.h));
    for (int y = r.y; y < r.y + r.h; y++) {
        ctx.conv.convert(ctx.fb.row(y) + src_off, r.w, dst);
        dst += row_bytes;
    }
    out.commit(row_bytes * static_cast<size_t>(r.h));
}

size_t RawEncoder::encode(const Rect &r, const EncodeContext &ctx, io::ByteBuffer &out)
{
    write_rect_header(out, r, encoding());
    append_converted_pixels(r, ctx, out);
    return 1;
}

size_t RawEncoder::encode_rects(std::span<const Rect> rects, const EncodeContext &ctx, io::ByteBuffer &out)
{
    if (!plan_.plan(rects, 1, ctx)) {
        return Encoder::encode_rects(rects, ctx, out);
    }
    const size_t bpp = static_cast<size_t>(ctx.pf.bytes_per_pixel());
    size_t total = 0;
    pixels_at_.resize(rects.size());
    for (size_t i = 0; i < rects.size(); i++) {
        pixels_at_[i] = total + 12;
        total += 12 + static_cast<size_t>(rects[i].w) * static_cast<size_t>(rects[i].h) * bpp;
    }
    uint8_t *base = out.prepare(total);
    for (size_t i = 0; i < rects.size(); i++) {
        header_.clear();
        write_rect_header(header_, rects[i], encoding());
        std::memcpy(base + pixels_at_[i] - 12, header_.data().data(), 12);
    }
    const size_t src_bpp = static_cast<size_t>(ctx.fb.bytes_per_pixel());
    enc::run_parallel(ctx, plan_.chunks(), [&](size_t c, int) {
        for (const enc::ChunkPlan::Piece &p : plan_.chunk(c)) {
            const Rect &r = rects[p.rect];
            const size_t row_bytes = static_cast<size_t>(r.w) * bpp;
            uint8_t *dst = base + pixels_at_[p.rect] + static_cast<size_t>(p.r.y - r.y) * row_bytes;
            for (int y = p.r.y; y < p.r.bottom(); y++, dst += row_bytes) {
                ctx.conv.convert(ctx.fb.row(y) + static_cast<size_t>(r.x) * src_bpp, r.w, dst);
            }
        }
    });
    out.commit(total);
    return rects.size();
}

} // namespace qvnc::vnc
