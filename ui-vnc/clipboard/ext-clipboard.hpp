// The extended clipboard pseudo-encoding (0xC0A1E5CE) as byte builders and a
// bounded decoder.  Only text is exchanged, as in QEMU.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "error.hpp"

namespace qvnc::clip {

enum : uint32_t {
    kText = 1u << 0,
    kRtf = 1u << 1,
    kHtml = 1u << 2,
    kDib = 1u << 3,
    kFiles = 1u << 4,
    kFormatMask = 0xFFFF,
    kCaps = 1u << 24,
    kRequest = 1u << 25,
    kPeek = 1u << 26,
    kNotify = 1u << 27,
    kProvide = 1u << 28,
    kActionMask = 0xFF000000u,
};

// Most text we accept or send: QEMU's 1 MiB cap.
constexpr uint32_t kMaxText = 1024 * 1024;

// A ServerCutText carrying an extended message (negative length).
std::string server_message(uint32_t flags, std::span<const uint8_t> payload);
// Our capabilities: text, with request/peek/notify/provide.
std::string caps_message();
// A provide message for `utf8`: zlib(u32 size + text with CRLF and a NUL).
Result<std::string> provide_message(const std::string &utf8);

// The text inside a client's provide payload (a zlib stream), with CRLF
// turned into LF and the NUL dropped.  Inflation stops at the end of the
// stream, at kMaxText, or when input runs out without progress
// (CVE-2023-3255: a truncated stream must not loop forever).
Result<std::optional<std::string>> parse_provide(uint32_t flags, std::span<const uint8_t> zdata);

// UTF-8 <-> Latin-1 for classic cut text (characters outside Latin-1 are
// replaced by '?').
std::string utf8_to_latin1(const std::string &utf8);

} // namespace qvnc::clip
