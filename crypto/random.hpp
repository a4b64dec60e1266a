// Cryptographically strong random bytes (VNC auth challenges, nonces).
#pragma once

#include <cstdint>
#include <span>

#include "error.hpp"

namespace qvnc::crypto {

// Fills out from gnutls' RNG, falling back to the kernel's getrandom(2) if
// gnutls fails.  Never returns predictable bytes: when both sources fail it
// reports an Internal error and out is zero-filled.
[[nodiscard]] Status try_random_bytes(std::span<uint8_t> out);

// Same, for callers that cannot continue without randomness: if both sources
// fail it throws std::system_error (the C ABI guard turns that into
// QVNC_ERR_INTERNAL) instead of aborting the host process.
void random_bytes(std::span<uint8_t> out);

} // namespace qvnc::crypto
