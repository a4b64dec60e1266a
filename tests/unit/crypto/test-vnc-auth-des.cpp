// VNC authentication DES: known answers.  The expected responses were
// derived outside this code base: the key bytes bit-reversed by hand and
// the challenge encrypted with `openssl enc -des-ecb -nopad -K <key>`
// (OpenSSL 3.0, legacy provider), plus the FIPS 81 DES example.
#include <array>
#include <cstring>
#include <string>

#include "ct-equal.hpp"
#include "random.hpp"
#include "vnc-auth-des.hpp"

// Last: cmocka defines a fail() macro that clashes with <ios>.
#include "cmocka.hpp"

using namespace qvnc::crypto;

namespace {

std::array<uint8_t, 16> hex16(const char *hex)
{
    std::array<uint8_t, 16> out{};
    for (size_t i = 0; i < out.size(); i++) {
        unsigned v = 0;
        sscanf(hex + 2 * i, "%2x", &v);
        out[i] = static_cast<uint8_t>(v);
    }
    return out;
}

const std::array<uint8_t, 16> kSeq = hex16("000102030405060708090a0b0c0d0e0f");
const std::array<uint8_t, 16> kMix = hex16("deadbeef0badf00dcafebabe8badc0de");

struct Vector {
    std::string password;
    const std::array<uint8_t, 16> *challenge;
    const char *response;
};

// password, challenge, openssl's output for key = bitrev(password[0..8])
const Vector kVectors[] = {
    {"password", &kSeq, "b866924125c8eebb9debc1db61c538e2"},     // key 0e86ceceeef64e26
    {"password", &kMix, "b10bf6fedb39ac2276671ddd67bc371a"},
    {"12345678", &kSeq, "83dd2b4dbd04367f28578fdd5b142740"},     // key 8c4ccc2cac6cec1c
    {"12345678", &kMix, "fe5571db7b707d715d690b4b60b30bed"},
    {"abc", &kSeq, "9c22b4f2088c3465a1562c4b9d6edb04"},          // zero padded: 8646c60000000000
    {"abc", &kMix, "1d42633d3785a6d24111146c6963b856"},
    {std::string("\x01", 1), &kSeq, "e62f8ab7d9989577bb81503202daf321"}, // key 8000000000000000
    {std::string("\x01", 1), &kMix, "270202284dbb0d4a546785efca4d5ba0"},
    // Weak and semi-weak DES keys must still encrypt like every client does.
    {"", &kSeq, "491e890de9ace932838a49792f2213f3"},             // key 0000000000000000
    {"", &kMix, "9d258788b15d69fa33dd9cfc961ec72b"},
    {std::string(8, '\x80'), &kSeq, "491e890de9ace932838a49792f2213f3"}, // key 0101010101010101
    {"\x07\x07\x07\x07\x8f\x8f\x8f\x8f", &kSeq, "cefd8eade2346830f356690cb27c3602"}, // e0e0e0e0f1f1f1f1
    {"\x07\x07\x07\x07\x8f\x8f\x8f\x8f", &kMix, "d437dc627fc6ed8d5b66e11f881e78b3"},
};

void test_known_vectors(void **)
{
    for (const Vector &v : kVectors) {
        const auto got = vnc_auth_response(v.password, *v.challenge);
        const auto want = hex16(v.response);
        assert_memory_equal(got.data(), want.data(), 16);
        assert_true(vnc_auth_check(v.password, *v.challenge, want));
    }
}

// FIPS 81 example: DES(0123456789abcdef, "Now is t") = 3fa40e8a984d4815.
// The VNC password whose bit-reversed bytes form that key is 80 c4 a2 e6 91
// d5 b3 f7, which checks the bit reversal against a published vector.
void test_fips81_with_bit_reversal(void **)
{
    const std::string password("\x80\xc4\xa2\xe6\x91\xd5\xb3\xf7", 8);
    std::array<uint8_t, 16> challenge{};
    std::memcpy(challenge.data(), "Now is tNow is t", 16);
    const auto got = vnc_auth_response(password, challenge);
    const auto want = hex16("3fa40e8a984d48153fa40e8a984d4815");
    assert_memory_equal(got.data(), want.data(), 16);
}

void test_only_eight_chars_count(void **)
{
    const auto a = vnc_auth_response("12345678", kMix);
    const auto b = vnc_auth_response("123456789abc", kMix);
    assert_memory_equal(a.data(), b.data(), 16);
    assert_true(vnc_auth_check("12345678XYZ", kMix, a));
    // A shorter prefix is a different (zero-padded) key.
    assert_false(vnc_auth_check("1234567", kMix, a));
}

void test_check_rejects(void **)
{
    auto resp = vnc_auth_response("secret", kSeq);
    assert_true(vnc_auth_check("secret", kSeq, resp));
    assert_false(vnc_auth_check("Secret", kSeq, resp));
    assert_false(vnc_auth_check("secret", kMix, resp));
    assert_false(vnc_auth_check("", kSeq, resp));
    resp[15] ^= 1;
    assert_false(vnc_auth_check("secret", kSeq, resp));
    resp[15] ^= 1;
    // Wrong response length.
    assert_false(vnc_auth_check("secret", kSeq, std::span<const uint8_t>(resp.data(), 15)));
    assert_false(vnc_auth_check("secret", kSeq, std::span<const uint8_t>()));
}

void test_ct_equal(void **)
{
    const uint8_t a[] = {1, 2, 3, 4};
    const uint8_t b[] = {1, 2, 3, 4};
    const uint8_t c[] = {1, 2, 3, 5};
    const uint8_t d[] = {0, 2, 3, 4};
    assert_true(ct_equal(a, b));
    assert_false(ct_equal(a, c));
    assert_false(ct_equal(a, d));
    assert_false(ct_equal(std::span<const uint8_t>(a, 3), b));
    assert_true(ct_equal(std::span<const uint8_t>(), std::span<const uint8_t>()));
    assert_false(ct_equal(std::span<const uint8_t>(), b));
}

void test_random_bytes(void **)
{
    std::array<uint8_t, 64> a{}, b{};
    random_bytes(a);
    assert_true(try_random_bytes(b).ok());
    // 2^-512 chance of a false failure.
    assert_false(ct_equal(a, b));
    bool nonzero = false;
    for (uint8_t v : a) nonzero |= v != 0;
    assert_true(nonzero);
    random_bytes(std::span<uint8_t>()); // empty is fine
}

} // namespace

int main()
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_vectors),
        cmocka_unit_test(test_fips81_with_bit_reversal),
        cmocka_unit_test(test_only_eight_chars_count),
        cmocka_unit_test(test_check_rejects),
        cmocka_unit_test(test_ct_equal),
        cmocka_unit_test(test_random_bytes),
    };
    return cmocka_run_group_tests_name("crypto/vnc-auth-des", tests, nullptr, nullptr);
}
