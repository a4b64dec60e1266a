#include "vnc-auth-des.hpp"

#include <algorithm>
#include <cstring>

#include <nettle/des.h>

#include "ct-equal.hpp"

namespace qvnc::crypto {

namespace {

constexpr uint8_t reverse_bits(uint8_t b)
{
    b = static_cast<uint8_t>((b & 0xf0) >> 4 | (b & 0x0f) << 4);
    b = static_cast<uint8_t>((b & 0xcc) >> 2 | (b & 0x33) << 2);
    b = static_cast<uint8_t>((b & 0xaa) >> 1 | (b & 0x55) << 1);
    return b;
}
static_assert(reverse_bits(0x01) == 0x80 && reverse_bits(0x23) == 0xc4);

// Key material and the expanded schedule live on the stack; wipe them on
// every exit so a later stack read cannot recover the password.
struct DesKey {
    uint8_t key[DES_KEY_SIZE] = {};
    des_ctx ctx{};
    ~DesKey()
    {
        explicit_bzero(key, sizeof key);
        explicit_bzero(&ctx, sizeof ctx);
    }
};

} // namespace

std::array<uint8_t, kVncAuthChallengeSize>
vnc_auth_response(std::string_view password, std::span<const uint8_t, kVncAuthChallengeSize> challenge)
{
    DesKey k;
    const size_t n = std::min(password.size(), sizeof k.key);
    for (size_t i = 0; i < n; i++) {
        k.key[i] = reverse_bits(static_cast<uint8_t>(password[i]));
    }
    // nettle returns 0 for the (semi-)weak keys but has already built the
    // schedule; VNC clients encrypt with such keys too (the empty password
    // is the all-zero weak key), so the result is deliberately ignored.
    (void)des_set_key(&k.ctx, k.key);

    std::array<uint8_t, kVncAuthChallengeSize> out{};
    // ECB: the two 8-byte blocks are encrypted independently.
    des_encrypt(&k.ctx, challenge.size(), out.data(), challenge.data());
    return out;
}

bool vnc_auth_check(std::string_view password, std::span<const uint8_t, kVncAuthChallengeSize> challenge,
                    std::span<const uint8_t> response)
{
    std::array<uint8_t, kVncAuthChallengeSize> expected = vnc_auth_response(password, challenge);
    const bool ok = ct_equal(expected, response);
    explicit_bzero(expected.data(), expected.size());
    return ok;
}

} // namespace qvnc::crypto
