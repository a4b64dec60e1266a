// Constant-time comparison for authentication secrets.
#pragma once

#include <cstdint>
#include <span>

namespace qvnc::crypto {

// True when a and b hold the same bytes.  The running time depends only on
// the lengths, never on where the first difference is, so a client cannot
// learn a response or password byte by byte from timing (QEMU, TigerVNC and
// neatvnc all use memcmp here).  Lengths are not secret: different lengths
// return false immediately.
[[nodiscard]] bool ct_equal(std::span<const uint8_t> a, std::span<const uint8_t> b);

} // namespace qvnc::crypto
