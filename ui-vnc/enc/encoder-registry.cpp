// The table of encoders this build offers.  Adding an encoding means one
// line here plus its class.
#include "encoder.hpp"

#include <algorithm>
#include <vector>

#include "byte-writer.hpp"
#include "hextile.hpp"
#include "raw.hpp"
#include "tight.hpp"
#include "zlib-encoder.hpp"
#include "zrle.hpp"

namespace qvnc::vnc {

std::unique_ptr<Encoder> make_encoder(int32_t encoding)
{
    switch (encoding) {
    case 0:
        return std::make_unique<RawEncoder>();
    case 5:
        return std::make_unique<HextileEncoder>();
    case 6:
        return std::make_unique<ZlibEncoder>();
    case 7:
        return std::make_unique<TightEncoder>(false);
    case 16:
        return std::make_unique<ZrleEncoder>(16);
    case 17:
        // Lossy wavelet levels only with lossy=on and a quality level (zrle.hpp).
        return std::make_unique<ZrleEncoder>(17);
    case -260:
        return std::make_unique<TightEncoder>(true);
    default:
        return nullptr;
    }
}

bool encoder_available(int32_t encoding)
{
    switch (encoding) {
    case 0:
    case 5:
    case 6:
    case 7:
    case 16:
    case 17:
    case -260:
        return true;
    default:
        return false;
    }
}

int32_t choose_encoding(const std::vector<int32_t> &client_list)
{
    // QEMU walks the list from the end, so the first-listed supported
    // encoding wins; Zlib loses to ZRLE wherever ZRLE is listed.
    const bool has_zrle = std::find(client_list.begin(), client_list.end(), 16) != client_list.end();
    for (const int32_t e : client_list) {
        if (e == 6 && has_zrle) {
            continue;
        }
        if (encoder_available(e)) {
            return e;
        }
    }
    return 0;
}

size_t Encoder::encode_rects(std::span<const Rect> rects, const EncodeContext &ctx, io::ByteBuffer &out)
{
    size_t n = 0;
    for (const Rect &r : rects) {
        n += encode(r, ctx, out);
    }
    return n;
}

void write_rect_header(io::ByteBuffer &out, const Rect &r, int32_t encoding)
{
    io::ByteWriter w(out);
    w.u16(static_cast<uint16_t>(r.x)).u16(static_cast<uint16_t>(r.y));
    w.u16(static_cast<uint16_t>(r.w)).u16(static_cast<uint16_t>(r.h)).s32(encoding);
}

} // namespace qvnc::vnc
