#include "sasl-server.hpp"

#include <mutex>

namespace qvnc::crypto {

namespace {

// SASL data and responses are capped, as QEMU does (SASL_DATA_MAX_LEN).
constexpr unsigned kMaxData = 1024 * 1024;

Status global_init()
{
    // The only process-wide state in the library: cyrus-sasl's own.
    static std::once_flag once;
    static int rc = SASL_OK;
    std::call_once(once, [] { rc = sasl_server_init(nullptr, "qemu"); });
    if (rc != SASL_OK) {
        return make_error(ErrorCode::Sasl, "Failed to initialize SASL auth: %s",
                          sasl_errstring(rc, nullptr, nullptr));
    }
    return ok_status();
}

} // namespace

Result<std::unique_ptr<SaslServer>> SaslServer::create(const std::string &local,
                                                       const std::string &remote,
                                                       const SaslProps &props)
{
    Status st = global_init();
    if (!st) {
        return st.take_error();
    }
    auto s = std::make_unique<SaslServer>(Key{});
    sasl_conn_t *conn = nullptr;
    int rc = sasl_server_new("vnc", nullptr, nullptr, local.empty() ? nullptr : local.c_str(),
                             remote.empty() ? nullptr : remote.c_str(), nullptr,
                             SASL_SUCCESS_DATA, &conn);
    if (rc != SASL_OK) {
        return make_error(ErrorCode::Sasl, "sasl context setup failed %d (%s)", rc,
                          sasl_errstring(rc, nullptr, nullptr));
    }
    s->conn_.reset(conn);
    if (props.ssf_external) {
        sasl_ssf_t ext = props.ssf_external;
        rc = sasl_setprop(conn, SASL_SSF_EXTERNAL, &ext);
        if (rc != SASL_OK) {
            return make_error(ErrorCode::Sasl, "cannot set SASL external SSF %d (%s)", rc,
                              sasl_errstring(rc, nullptr, nullptr));
        }
    }
    sasl_security_properties_t sec{};
    sec.min_ssf = props.min_ssf;
    sec.max_ssf = props.max_ssf;
    sec.maxbufsize = props.maxbufsize;
    sec.security_flags = props.flags;
    rc = sasl_setprop(conn, SASL_SEC_PROPS, &sec);
    if (rc != SASL_OK) {
        return make_error(ErrorCode::Sasl, "cannot set SASL security props %d (%s)", rc,
                          sasl_errstring(rc, nullptr, nullptr));
    }
    return s;
}

SaslServer::~SaslServer() = default;

Result<std::string> SaslServer::mechlist()
{
    const char *list = nullptr;
    unsigned len = 0;
    int rc = sasl_listmech(conn_.get(), nullptr, "", ",", "", &list, &len, nullptr);
    if (rc != SASL_OK) {
        return make_error(ErrorCode::Sasl, "cannot list SASL mechanisms %d (%s)", rc,
                          sasl_errdetail(conn_.get()));
    }
    return std::string(list, len);
}

SaslServer::StepResult SaslServer::result(int rc, const char *out, unsigned outlen)
{
    StepResult r;
    if (rc != SASL_OK && rc != SASL_CONTINUE) {
        r.kind = StepResult::Kind::Fail;
        r.error = sasl_errdetail(conn_.get());
        return r;
    }
    if (outlen > kMaxData) {
        r.kind = StepResult::Kind::Fail;
        r.error = "SASL data too long";
        return r;
    }
    r.kind = rc == SASL_OK ? StepResult::Kind::Ok : StepResult::Kind::Continue;
    if (out) {
        r.out = std::string(out, outlen);
    }
    return r;
}

SaslServer::StepResult SaslServer::start(const std::string &mech, const std::optional<std::string> &in)
{
    const char *out = nullptr;
    unsigned outlen = 0;
    int rc = sasl_server_start(conn_.get(), mech.c_str(), in ? in->data() : nullptr,
                               in ? static_cast<unsigned>(in->size()) : 0, &out, &outlen);
    return result(rc, out, outlen);
}

SaslServer::StepResult SaslServer::step(const std::optional<std::string> &in)
{
    const char *out = nullptr;
    unsigned outlen = 0;
    int rc = sasl_server_step(conn_.get(), in ? in->data() : nullptr,
                              in ? static_cast<unsigned>(in->size()) : 0, &out, &outlen);
    return result(rc, out, outlen);
}

unsigned SaslServer::ssf() const
{
    const void *v = nullptr;
    if (sasl_getprop(conn_.get(), SASL_SSF, &v) != SASL_OK || !v) {
        return 0;
    }
    return *static_cast<const sasl_ssf_t *>(v);
}

std::optional<std::string> SaslServer::username() const
{
    const void *v = nullptr;
    if (sasl_getprop(conn_.get(), SASL_USERNAME, &v) != SASL_OK || !v) {
        return std::nullopt;
    }
    return std::string(static_cast<const char *>(v));
}

unsigned SaslServer::max_out_buf() const
{
    const void *v = nullptr;
    if (sasl_getprop(conn_.get(), SASL_MAXOUTBUF, &v) != SASL_OK || !v) {
        return 4096;
    }
    unsigned n = *static_cast<const unsigned *>(v);
    return n ? n : 4096;
}

Result<std::string> SaslServer::encode(std::span<const uint8_t> in)
{
    const char *out = nullptr;
    unsigned outlen = 0;
    int rc = sasl_encode(conn_.get(), reinterpret_cast<const char *>(in.data()),
                         static_cast<unsigned>(in.size()), &out, &outlen);
    if (rc != SASL_OK) {
        return make_error(ErrorCode::Sasl, "sasl_encode failed: %s", sasl_errdetail(conn_.get()));
    }
    return std::string(out, outlen);
}

Result<std::string> SaslServer::decode(std::span<const uint8_t> in)
{
    const char *out = nullptr;
    unsigned outlen = 0;
    int rc = sasl_decode(conn_.get(), reinterpret_cast<const char *>(in.data()),
                         static_cast<unsigned>(in.size()), &out, &outlen);
    if (rc != SASL_OK) {
        return make_error(ErrorCode::Sasl, "sasl_decode failed: %s", sasl_errdetail(conn_.get()));
    }
    return std::string(out ? out : "", outlen);
}

} // namespace qvnc::crypto
