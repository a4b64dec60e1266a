#include "ext-clipboard.hpp"

#include <glib.h>
#include <zlib.h>

#include <memory>
#include <vector>

#include "byte-reader.hpp"
#include "byte-writer.hpp"

namespace qvnc::clip {

namespace {

// RAII for the two zlib directions used here.
struct Inflater {
    z_stream zs{};
    bool ok = false;
    Inflater() { ok = inflateInit(&zs) == Z_OK; }
    ~Inflater()
    {
        if (ok) {
            inflateEnd(&zs);
        }
    }
    Inflater(const Inflater &) = delete;
    Inflater &operator=(const Inflater &) = delete;
};

} // namespace

std::string server_message(uint32_t flags, std::span<const uint8_t> payload)
{
    io::ByteBuffer b;
    io::ByteWriter w(b);
    w.u8(3).pad(3); // ServerCutText
    w.s32(-static_cast<int32_t>(4 + payload.size())).u32(flags).bytes(payload);
    auto d = b.data();
    return {reinterpret_cast<const char *>(d.data()), d.size()};
}

std::string caps_message()
{
    // One max size per format bit: text only, up to our cap.
    io::ByteBuffer b;
    io::ByteWriter(b).u32(kMaxText);
    return server_message(kCaps | kRequest | kPeek | kNotify | kProvide | kText, b.data());
}

Result<std::string> provide_message(const std::string &utf8)
{
    std::string text;
    text.reserve(utf8.size() + 16);
    for (char c : utf8) {
        if (c == '\n') {
            text += "\r\n";
        } else {
            text += c;
        }
    }
    text.push_back('\0');
    if (text.size() > kMaxText) {
        text.resize(kMaxText - 1);
        text.push_back('\0');
    }
    io::ByteBuffer raw;
    io::ByteWriter(raw).u32(static_cast<uint32_t>(text.size())).text(text);
    uLongf bound = compressBound(static_cast<uLong>(raw.size()));
    std::vector<uint8_t> z(bound);
    if (compress2(z.data(), &bound, raw.data().data(), static_cast<uLong>(raw.size()), 6) != Z_OK) {
        return make_error(ErrorCode::Internal, "clipboard compression failed");
    }
    return server_message(kProvide | kText, {z.data(), bound});
}

Result<std::optional<std::string>> parse_provide(uint32_t flags, std::span<const uint8_t> zdata)
{
    Inflater inf;
    if (!inf.ok) {
        return make_error(ErrorCode::Internal, "inflateInit failed");
    }
    std::vector<uint8_t> out;
    inf.zs.next_in = const_cast<Bytef *>(zdata.data());
    inf.zs.avail_in = static_cast<uInt>(zdata.size());
    uint8_t chunk[16384];
    for (;;) {
        inf.zs.next_out = chunk;
        inf.zs.avail_out = sizeof chunk;
        int rc = inflate(&inf.zs, Z_NO_FLUSH);
        size_t got = sizeof chunk - inf.zs.avail_out;
        out.insert(out.end(), chunk, chunk + got);
        if (out.size() > kMaxText + 4) {
            return make_error(ErrorCode::InvalidArg, "clipboard data exceeds 1 MiB");
        }
        if (rc == Z_STREAM_END) {
            break;
        }
        if (rc != Z_OK && rc != Z_BUF_ERROR) {
            return make_error(ErrorCode::InvalidArg, "clipboard data is not a valid zlib stream");
        }
        if (got == 0 && inf.zs.avail_in == 0) {
            break; // truncated stream: take what arrived, never spin
        }
        if (got == 0 && rc == Z_BUF_ERROR) {
            break;
        }
    }
    if (!(flags & kText)) {
        return std::optional<std::string>{};
    }
    io::ByteReader r({out.data(), out.size()});
    uint32_t size = r.u32();
    if (r.short_read() || size > r.remaining()) {
        return make_error(ErrorCode::InvalidArg, "clipboard text size exceeds the data");
    }
    std::string_view t = r.text(size);
    std::string text;
    text.reserve(t.size());
    for (size_t i = 0; i < t.size(); i++) {
        if (t[i] == '\0') {
            break;
        }
        if (t[i] == '\r' && i + 1 < t.size() && t[i + 1] == '\n') {
            continue;
        }
        text += t[i];
    }
    if (!g_utf8_validate(text.data(), static_cast<gssize>(text.size()), nullptr)) {
        return make_error(ErrorCode::InvalidArg, "clipboard text is not valid UTF-8");
    }
    return std::optional<std::string>(std::move(text));
}

std::string utf8_to_latin1(const std::string &utf8)
{
    std::string out;
    const char *p = utf8.c_str();
    const char *end = p + utf8.size();
    while (p < end) {
        gunichar c = g_utf8_get_char_validated(p, end - p);
        if (c == static_cast<gunichar>(-1) || c == static_cast<gunichar>(-2)) {
            out += '?';
            p++;
            continue;
        }
        out += c < 256 ? static_cast<char>(c) : '?';
        p = g_utf8_next_char(p);
    }
    return out;
}

} // namespace qvnc::clip
