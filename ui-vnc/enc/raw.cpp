#include "raw.hpp"

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

} // namespace qvnc::vnc
