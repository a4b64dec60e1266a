#include "security-vncauth.hpp"

#include <ctime>

#include "random.hpp"
#include "vnc-auth-des.hpp"

namespace qvnc::vnc {

void SecurityVncAuth::begin(io::ByteBuffer &out)
{
    crypto::random_bytes(challenge_);
    out.append(challenge_);
}

Step SecurityVncAuth::on_input(io::ByteReader &in, io::ByteBuffer & /*out*/)
{
    if (!in.has(16)) {
        return Step::need_more();
    }
    io::Bytes response = in.bytes(16);
    PasswordState st = source_();
    if (!st.password) {
        return Step::reject("no password configured");
    }
    if (st.expires >= 0 && st.expires <= static_cast<int64_t>(std::time(nullptr))) {
        return Step::reject("password expired");
    }
    std::span<const uint8_t, 16> resp16(response.data(), 16);
    if (!crypto::vnc_auth_check(*st.password, challenge_, resp16)) {
        return Step::reject("mismatched response");
    }
    return Step::done();
}

} // namespace qvnc::vnc
