#include "secret-decrypt.hpp"

#include <glib.h>
#include <nettle/aes.h>
#include <nettle/cbc.h>

#include <cstring>
#include <memory>
#include <vector>

namespace qvnc::crypto {

namespace {

Result<std::string> b64(const std::string &text, const char *what)
{
    if (text.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=\n") !=
        std::string::npos) {
        return make_error(ErrorCode::InvalidArg, "%s: base64 data contains invalid characters", what);
    }
    gsize len = 0;
    std::unique_ptr<guchar, decltype(&g_free)> raw(g_base64_decode(text.c_str(), &len), g_free);
    return std::string(reinterpret_cast<const char *>(raw.get()), len);
}

} // namespace

Result<std::string> decrypt_secret(const std::string &ciphertext, const std::string &master_key,
                                   const std::string &iv_b64)
{
    if (master_key.size() != AES256_KEY_SIZE) {
        return make_error(ErrorCode::InvalidArg, "Master key length %zu is not equal to %d",
                          master_key.size(), AES256_KEY_SIZE);
    }
    if (iv_b64.empty()) {
        return make_error(ErrorCode::InvalidArg, "IV is required to decrypt secret");
    }
    auto iv = b64(iv_b64, "iv");
    if (!iv) {
        return iv.take_error();
    }
    if (iv->size() != AES_BLOCK_SIZE) {
        return make_error(ErrorCode::InvalidArg, "IV length %zu is not equal to %d", iv->size(),
                          AES_BLOCK_SIZE);
    }
    const std::string *ct = &ciphertext;
    if (ct->empty() || ct->size() % AES_BLOCK_SIZE != 0) {
        return make_error(ErrorCode::InvalidArg,
                          "Ciphertext length %zu is not a multiple of the AES block size", ct->size());
    }
    struct aes256_ctx aes;
    aes256_set_decrypt_key(&aes, reinterpret_cast<const uint8_t *>(master_key.data()));
    std::vector<uint8_t> ivbuf(iv->begin(), iv->end());
    std::string plain(ct->size(), '\0');
    cbc_decrypt(&aes, reinterpret_cast<nettle_cipher_func *>(aes256_decrypt), AES_BLOCK_SIZE,
                ivbuf.data(), ct->size(), reinterpret_cast<uint8_t *>(plain.data()),
                reinterpret_cast<const uint8_t *>(ct->data()));
    explicit_bzero(&aes, sizeof aes);
    uint8_t pad = static_cast<uint8_t>(plain.back());
    if (pad == 0 || pad > AES_BLOCK_SIZE || pad > plain.size()) {
        explicit_bzero(plain.data(), plain.size());
        return make_error(ErrorCode::InvalidArg,
                          "Incorrect number of padding bytes (%d) found on decrypted data", pad);
    }
    plain.resize(plain.size() - pad);
    return plain;
}

} // namespace qvnc::crypto
