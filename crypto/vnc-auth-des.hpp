// RFB "VNC Authentication" (security type 2, and the *Vnc VeNCrypt subtypes):
// DES-ECB over a 16-byte challenge with the password as the key.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace qvnc::crypto {

inline constexpr size_t kVncAuthChallengeSize = 16;

using VncAuthChallenge = std::array<uint8_t, kVncAuthChallengeSize>;

// The response a client holding `password` sends for `challenge`.
// Only the first 8 bytes of the password count; shorter passwords are
// zero-padded (so "" is the all-zero key).  Each key byte is bit-reversed
// because the RFB spec numbers DES key bits from the least significant bit.
// The key may be a DES weak key ("" is one): RFB does not exclude those, so
// they are used as-is.
[[nodiscard]] std::array<uint8_t, kVncAuthChallengeSize>
vnc_auth_response(std::string_view password, std::span<const uint8_t, kVncAuthChallengeSize> challenge);

// True when `response` is the correct answer to `challenge` for `password`.
// Compared in constant time.  A response of the wrong length is rejected.
[[nodiscard]] bool vnc_auth_check(std::string_view password,
                                  std::span<const uint8_t, kVncAuthChallengeSize> challenge,
                                  std::span<const uint8_t> response);

} // namespace qvnc::crypto
