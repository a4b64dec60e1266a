#include "random.hpp"

#include <cerrno>
#include <cstring>
#include <system_error>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <sys/random.h>

namespace qvnc::crypto {

namespace {

// getrandom may return short counts for large requests and EINTR while
// blocking for the initial entropy pool; both are retried.
int fill_from_kernel(std::span<uint8_t> out)
{
    size_t done = 0;
    while (done < out.size()) {
        ssize_t n = getrandom(out.data() + done, out.size() - done, 0);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return errno;
        }
        done += static_cast<size_t>(n);
    }
    return 0;
}

} // namespace

Status try_random_bytes(std::span<uint8_t> out)
{
    if (out.empty()) {
        return ok_status();
    }
    if (gnutls_rnd(GNUTLS_RND_RANDOM, out.data(), out.size()) == 0) {
        return ok_status();
    }
    int err = fill_from_kernel(out);
    if (err == 0) {
        return ok_status();
    }
    // Do not leave half-random data behind that someone might use anyway.
    std::memset(out.data(), 0, out.size());
    return make_error(ErrorCode::Internal, "Unable to read random bytes: %s", std::strerror(err));
}

void random_bytes(std::span<uint8_t> out)
{
    Status st = try_random_bytes(out);
    if (!st.ok()) {
        throw std::system_error(std::make_error_code(std::errc::io_error), st.error().message);
    }
}

} // namespace qvnc::crypto
