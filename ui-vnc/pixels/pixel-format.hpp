// RFB PIXEL_FORMAT: how a client wants pixels laid out on the wire
// (rfbproto §7.4; 16 bytes in ServerInit, SetPixelFormat and WMVi).
#pragma once

#include <cstdint>

#include "byte-reader.hpp"
#include "byte-writer.hpp"
#include "error.hpp"

namespace qvnc::vnc {

struct PixelFormat {
    uint8_t bpp = 32;
    uint8_t depth = 24;
    bool big_endian = false;
    bool true_colour = true;
    uint16_t red_max = 255, green_max = 255, blue_max = 255;
    uint8_t red_shift = 16, green_shift = 8, blue_shift = 0;

    // Reads the 16-byte wire form (the 3 padding bytes are skipped).  Any
    // non-zero flag byte counts as true, as in QEMU.  On a short read the
    // reader's short_read() flag is set and the result is meaningless.
    static PixelFormat read(io::ByteReader &in);
    // Writes the 16-byte wire form including the padding.
    void write(io::ByteWriter &out) const;

    // What QEMU announces in ServerInit: 32 bpp, depth 24, host byte order,
    // true colour, 8 bits per channel at shifts 16/8/0 (x8r8g8b8).
    static PixelFormat server_default();
    // The 256-colour fallback QEMU imposes on colour-map clients:
    // bbgggrrr (red max 7 at shift 0, green max 7 at 3, blue max 3 at 6).
    static PixelFormat bgr233();

    int bytes_per_pixel() const { return bpp / 8; }

    bool operator==(const PixelFormat &) const = default;
};

// The outcome of a client's SetPixelFormat once QEMU's rules are applied.
struct SanitizedPixelFormat {
    PixelFormat format;
    // The client asked for a colour map: `format` is bgr233() and the
    // caller must send write_bgr233_colour_map() to it.
    bool send_colour_map = false;
};

// Applies QEMU's set_pixel_format() rules to what a client requested:
//  - true_colour == 0 -> BGR233 plus a colour map (checked first, so the
//    requested bpp does not matter then);
//  - bpp not 8, 16 or 32 -> error "invalid bits-per-pixel N" (the caller
//    drops the client; CVE-2014-7815);
//  - a max of 0 becomes 255 (CVE-2015-8504: a zero max divided by zero);
//  - a channel whose max << shift does not fit in bpp bits is an error
//    (QEMU accepts it and sends garbage; nothing could draw it);
//  - depth is set to 24 for 32 bpp and to bpp otherwise, as QEMU records it.
[[nodiscard]] Result<SanitizedPixelFormat> sanitize(const PixelFormat &requested);

} // namespace qvnc::vnc
