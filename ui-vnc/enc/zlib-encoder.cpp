#include "zlib-encoder.hpp"

#include <algorithm>

#include "byte-writer.hpp"

namespace qvnc::vnc {

size_t ZlibEncoder::encode(const Rect &r, const EncodeContext &ctx, io::ByteBuffer &out)
{
    write_rect_header(out, r, encoding());
    z_.set_level(enc::zlib_level(ctx.compress_level, kDefaultLevel));
    z_.clear_output();

    const size_t row_bytes = static_cast<size_t>(r.w) * ctx.pf.bytes_per_pixel();
    const size_t src_off = static_cast<size_t>(r.x) * ctx.fb.bytes_per_pixel();
    if (ctx.conv.is_copy()) {
        for (int y = r.y; y < r.bottom(); y++) {
            z_.feed(ctx.fb.row(y) + src_off, row_bytes);
        }
    } else {
        // Convert a band of rows at a time (~64 KiB) so that the scratch
        // stays in cache, and feed it to deflate.
        const int band = std::max(1, static_cast<int>((64 * 1024) / std::max<size_t>(row_bytes, 1)));
        rows_.resize(row_bytes * static_cast<size_t>(std::min(band, r.h)));
        for (int y = r.y; y < r.bottom(); y += band) {
            const int n = std::min(band, r.bottom() - y);
            uint8_t *dst = rows_.data();
            for (int k = 0; k < n; k++, dst += row_bytes) {
                ctx.conv.convert(ctx.fb.row(y + k) + src_off, r.w, dst);
            }
            z_.feed(rows_.data(), row_bytes * static_cast<size_t>(n));
        }
    }
    z_.sync_flush();

    io::ByteWriter(out).u32(static_cast<uint32_t>(z_.output_size()));
    out.append({z_.output_data(), z_.output_size()});
    return 1;
}

} // namespace qvnc::vnc
