// The extended clipboard decoder, clip::parse_provide: zlib data from a
// client that may be truncated (CVE-2023-3255), inflate to more than 1 MiB,
// or carry a size word that lies.
//
// byte 0: mode.  Mode 0: the rest is a client's provide payload (zlib
// stream) with flags from byte 1.  Mode 1: the rest is compressed here
// first (so the fuzzer reaches the text decoding) and then cut short at a
// fuzz-chosen point.  Mode 2: round trip: the rest as UTF-8 text through
// clip::provide_message and back must give the text again.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <glib.h>
#include <zlib.h>

#include "ext-clipboard.hpp"

using namespace qvnc;

namespace {

[[noreturn]] void violated(const char *what)
{
    fprintf(stderr, "==fuzz== clipboard contract violated: %s\n", what);
    __builtin_trap();
}

void check_parse(uint32_t flags, const uint8_t *z, size_t n)
{
    Result<std::optional<std::string>> r = clip::parse_provide(flags, {z, n});
    if (!r) return;
    if (!(flags & clip::kText)) {
        if (r->has_value()) violated("text returned without the text flag");
        return;
    }
    if (!r->has_value()) return;
    const std::string &t = **r;
    if (t.size() > clip::kMaxText) violated("more than 1 MiB of text");
    if (memchr(t.data(), '\0', t.size())) violated("a NUL inside the text");
    if (!g_utf8_validate(t.data(), static_cast<gssize>(t.size()), nullptr)) violated("text is not UTF-8");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2) return 0;
    const uint8_t mode = data[0] % 3;
    const uint32_t flags = (data[1] & 0x1f) | (static_cast<uint32_t>(data[1] & 0xe0) << 21); // formats + actions
    data += 2;
    size -= 2;
    if (mode == 0) {
        check_parse(flags, data, size);
    } else if (mode == 1) {
        if (size < 2) return 0;
        // u32 size word chosen by the input (may lie), then the text.
        const size_t cut = data[0] | data[1] << 8;
        std::vector<uint8_t> raw;
        const uint32_t claimed = size > 6 ? (data[2] << 8 | data[3]) : static_cast<uint32_t>(size - 2);
        raw.push_back(static_cast<uint8_t>(claimed >> 24));
        raw.push_back(static_cast<uint8_t>(claimed >> 16));
        raw.push_back(static_cast<uint8_t>(claimed >> 8));
        raw.push_back(static_cast<uint8_t>(claimed));
        raw.insert(raw.end(), data + 2, data + size);
        uLongf bound = compressBound(static_cast<uLong>(raw.size()));
        std::vector<uint8_t> z(bound);
        if (compress2(z.data(), &bound, raw.data(), static_cast<uLong>(raw.size()), 1) != Z_OK) return 0;
        check_parse(flags | clip::kText, z.data(), std::min<size_t>(bound, cut));
        check_parse(flags | clip::kText, z.data(), bound);
    } else {
        std::string text(reinterpret_cast<const char *>(data), size);
        if (!g_utf8_validate(text.data(), static_cast<gssize>(text.size()), nullptr)) return 0;
        if (text.find('\0') != std::string::npos || text.find('\r') != std::string::npos) return 0;
        Result<std::string> msg = clip::provide_message(text);
        if (!msg) violated("provide_message refused valid UTF-8");
        // ServerCutText: u8 3, 3 pad, s32 -len, u32 flags, zlib data.
        const std::string &m = msg.value();
        if (m.size() < 12 || static_cast<uint8_t>(m[0]) != 3) violated("provide message framing");
        const uint32_t f = static_cast<uint8_t>(m[8]) << 24 | static_cast<uint8_t>(m[9]) << 16 |
                           static_cast<uint8_t>(m[10]) << 8 | static_cast<uint8_t>(m[11]);
        Result<std::optional<std::string>> back =
            clip::parse_provide(f, {reinterpret_cast<const uint8_t *>(m.data()) + 12, m.size() - 12});
        if (!back || !back->has_value()) violated("our own provide message does not parse");
        if (**back != text) violated("clipboard text changed on a round trip");
    }
    return 0;
}
