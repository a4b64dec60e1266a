#include "pixel-format.hpp"

#include <bit>

namespace qvnc::vnc {

PixelFormat PixelFormat::read(io::ByteReader &in)
{
    PixelFormat pf;
    pf.bpp = in.u8();
    pf.depth = in.u8();
    pf.big_endian = in.u8() != 0;
    pf.true_colour = in.u8() != 0;
    pf.red_max = in.u16();
    pf.green_max = in.u16();
    pf.blue_max = in.u16();
    pf.red_shift = in.u8();
    pf.green_shift = in.u8();
    pf.blue_shift = in.u8();
    in.skip(3);
    return pf;
}

void PixelFormat::write(io::ByteWriter &out) const
{
    out.u8(bpp).u8(depth).u8(big_endian ? 1 : 0).u8(true_colour ? 1 : 0);
    out.u16(red_max).u16(green_max).u16(blue_max);
    out.u8(red_shift).u8(green_shift).u8(blue_shift);
    out.pad(3);
}

PixelFormat PixelFormat::server_default()
{
    PixelFormat pf;
    pf.bpp = 32;
    pf.depth = 24;
    pf.big_endian = std::endian::native == std::endian::big;
    pf.true_colour = true;
    pf.red_max = pf.green_max = pf.blue_max = 255;
    pf.red_shift = 16;
    pf.green_shift = 8;
    pf.blue_shift = 0;
    return pf;
}

PixelFormat PixelFormat::bgr233()
{
    PixelFormat pf;
    pf.bpp = 8;
    pf.depth = 8;
    pf.big_endian = false;
    pf.true_colour = true;
    pf.red_max = 7;
    pf.green_max = 7;
    pf.blue_max = 3;
    pf.red_shift = 0;
    pf.green_shift = 3;
    pf.blue_shift = 6;
    return pf;
}

namespace {

Status check_channel(const char *name, uint16_t max, uint8_t shift, uint8_t bpp)
{
    // Width of the field, counted from the highest set bit of max.
    const int bits = std::bit_width(static_cast<unsigned>(max));
    if (shift + bits > bpp) {
        return make_error(ErrorCode::InvalidArg,
                          "invalid pixel format: %s-max %u with %s-shift %u does not fit in %u bits",
                          name, max, name, shift, bpp);
    }
    return ok_status();
}

} // namespace

Result<SanitizedPixelFormat> sanitize(const PixelFormat &requested)
{
    SanitizedPixelFormat out;
    if (!requested.true_colour) {
        // QEMU answers a colour-map request with a fixed 256-entry map
        // rather than managing a palette.  The endian flag is irrelevant at
        // 8 bpp but kept as sent, like QEMU does.
        out.format = PixelFormat::bgr233();
        out.format.big_endian = requested.big_endian;
        out.send_colour_map = true;
        return out;
    }

    PixelFormat pf = requested;
    if (pf.bpp != 8 && pf.bpp != 16 && pf.bpp != 32) {
        return make_error(ErrorCode::InvalidArg, "invalid bits-per-pixel %u", pf.bpp);
    }
    for (uint16_t *max : {&pf.red_max, &pf.green_max, &pf.blue_max}) {
        if (*max == 0) {
            *max = 255;
        }
    }
    const struct {
        const char *name;
        uint16_t max;
        uint8_t shift;
    } channels[] = {{"red", pf.red_max, pf.red_shift},
                    {"green", pf.green_max, pf.green_shift},
                    {"blue", pf.blue_max, pf.blue_shift}};
    for (const auto &c : channels) {
        if (Status st = check_channel(c.name, c.max, c.shift, pf.bpp); !st) {
            return st.take_error();
        }
    }
    pf.depth = pf.bpp == 32 ? 24 : pf.bpp;
    out.format = pf;
    return out;
}

} // namespace qvnc::vnc
