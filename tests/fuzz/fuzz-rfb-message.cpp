// rfb::parse_client_message over arbitrary bytes, as Connection uses it:
// parse, consume the message, repeat.  Checks the parser's contract: a
// message's length is > 0 and within the input; NeedMore only while the
// input is a strict prefix of a message (feeding one more byte at a time
// never changes an earlier verdict); SetPixelFormat results go through
// sanitize() as the connection does.
//
// byte 0 bit 0: the extended clipboard was negotiated.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "client-message.hpp"
#include "fuzz-attrs.hpp"
#include "pixel-convert.hpp"
#include "pixel-format.hpp"

using namespace qvnc;

namespace {

[[noreturn]] void violated(const char *what, size_t off)
{
    fprintf(stderr, "==fuzz== parser contract violated at offset %zu: %s\n", off, what);
    __builtin_trap();
}

// The converter check below builds three PixelConverters (3 x 256-entry
// tables each) per SetPixelFormat: perf showed 72% of the target's time
// there, on inputs repeating the message hundreds of times.  A converter
// depends only on the format, so each input checks a format once, and at
// most kMaxConverterChecks distinct formats (any format can still come
// first in an input; the parser and sanitize() still see every message).
constexpr size_t kMaxConverterChecks = 8;

struct ConverterChecks {
    std::array<vnc::PixelFormat, kMaxConverterChecks> done;
    size_t n = 0;
};

FUZZ_UNINSTRUMENTED bool same_format(const vnc::PixelFormat &a, const vnc::PixelFormat &b)
{
    return a.bpp == b.bpp && a.depth == b.depth && a.big_endian == b.big_endian && a.true_colour == b.true_colour &&
           a.red_max == b.red_max && a.green_max == b.green_max && a.blue_max == b.blue_max &&
           a.red_shift == b.red_shift && a.green_shift == b.green_shift && a.blue_shift == b.blue_shift;
}

// Whether `f` is to be checked now (and records it).
FUZZ_UNINSTRUMENTED bool first_check(ConverterChecks &c, const vnc::PixelFormat &f)
{
    if (c.n == kMaxConverterChecks) return false;
    for (size_t i = 0; i < c.n; i++) {
        if (same_format(c.done[i], f)) return false;
    }
    c.done[c.n++] = f;
    return true;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    rfb::ParserOptions opts;
    opts.ext_clipboard = data[0] & 1;
    data++;
    size--;
    ConverterChecks checked;
    size_t off = 0;
    while (off < size) {
        io::Bytes in(data + off, size - off);
        rfb::ParseResult r = rfb::parse_client_message(in, opts);
        if (r.kind == rfb::ParseResult::Kind::NeedMore) {
            break;
        }
        if (r.kind == rfb::ParseResult::Kind::Fail) {
            if (r.error.empty()) violated("Fail without a reason", off);
            break;
        }
        if (r.length == 0 || r.length > in.size()) violated("message length outside the input", off);
        // The same message, given exactly its own bytes, parses the same,
        // and every strict prefix of it is NeedMore (never Fail, never a
        // different message).  Checked on small messages to stay fast.
        if (r.length <= 64) {
            rfb::ParseResult again = rfb::parse_client_message(in.subspan(0, r.length), opts);
            if (again.kind != rfb::ParseResult::Kind::Message || again.length != r.length ||
                again.message.index() != r.message.index())
                violated("a message does not parse the same from its own bytes", off);
            for (size_t k = 0; k < r.length; k++) {
                rfb::ParseResult p = rfb::parse_client_message(in.subspan(0, k), opts);
                if (p.kind != rfb::ParseResult::Kind::NeedMore) violated("a strict prefix is not NeedMore", off);
            }
        }
        if (auto *m = std::get_if<rfb::SetPixelFormatMsg>(&r.message)) {
            Result<vnc::SanitizedPixelFormat> pf = vnc::sanitize(m->pf);
            if (pf) {
                const vnc::PixelFormat &f = pf->format;
                if (f.bpp != 8 && f.bpp != 16 && f.bpp != 32) violated("sanitize() let an odd bpp through", off);
                if (f.red_max == 0 || f.green_max == 0 || f.blue_max == 0)
                    violated("sanitize() let a zero max through (CVE-2015-8504)", off);
                // The converter must accept every sanitized format, and
                // convert a row without reading or writing out of bounds.
                static const uint32_t kSrc[] = {0x20020888u, 0x10020565u, 0x20080888u};
                const bool check_converter = first_check(checked, f);
                for (uint32_t src : kSrc) {
                    if (!check_converter) break;
                    Result<vnc::PixelConverter> conv = vnc::PixelConverter::make(src, f);
                    if (!conv) violated("no converter for a sanitized format", off);
                    uint32_t row[7] = {0xffffffffu, 0, 0x12345678u, 0x00ff00ffu, 0xdeadbeefu, 1, 0x80808080u};
                    uint8_t out[7 * 4];
                    conv->convert(reinterpret_cast<const uint8_t *>(row), 7, out);
                }
            }
        }
        off += r.length;
    }
    return 0;
}
