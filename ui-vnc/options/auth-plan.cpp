#include "auth-plan.hpp"

namespace qvnc::vnc {

namespace {

// RFB security types QEMU can name but never selects.  They are reachable
// only through a cast, so they are matched on the raw value.
constexpr uint8_t kAuthRa2 = 5;
constexpr uint8_t kAuthRa2ne = 6;
constexpr uint8_t kAuthTight = 16;
constexpr uint8_t kAuthUltra = 17;
constexpr uint8_t kAuthTls = 18;

AuthType plain_auth(bool password, bool sasl)
{
    if (password) {
        return AuthType::Vnc;
    }
    return sasl ? AuthType::Sasl : AuthType::None;
}

VencryptSub vencrypt_sub(bool password, bool sasl, bool x509)
{
    if (password) {
        return x509 ? VencryptSub::X509Vnc : VencryptSub::TlsVnc;
    }
    if (sasl) {
        return x509 ? VencryptSub::X509Sasl : VencryptSub::TlsSasl;
    }
    return x509 ? VencryptSub::X509None : VencryptSub::TlsNone;
}

} // namespace

AuthPlan plan_auth(bool password, bool sasl, TlsKind tls)
{
    AuthPlan plan{};
    plan.ws_auth = plain_auth(password, sasl);
    plan.ws_subauth = VencryptSub::None;
    if (tls == TlsKind::None) {
        plan.auth = plan.ws_auth;
        plan.subauth = VencryptSub::None;
    } else {
        plan.auth = AuthType::VeNCrypt;
        plan.subauth = vencrypt_sub(password, sasl, tls == TlsKind::X509);
    }
    return plan;
}

const char *auth_name(AuthType auth, VencryptSub subauth)
{
    switch (static_cast<uint8_t>(auth)) {
    case static_cast<uint8_t>(AuthType::Invalid): return "invalid";
    case static_cast<uint8_t>(AuthType::None): return "none";
    case static_cast<uint8_t>(AuthType::Vnc): return "vnc";
    case kAuthRa2: return "ra2";
    case kAuthRa2ne: return "ra2ne";
    case kAuthTight: return "tight";
    case kAuthUltra: return "ultra";
    case kAuthTls: return "tls";
    case static_cast<uint8_t>(AuthType::Sasl): return "sasl";
    case static_cast<uint8_t>(AuthType::VeNCrypt):
        switch (subauth) {
        case VencryptSub::Plain: return "vencrypt+plain";
        case VencryptSub::TlsNone: return "vencrypt+tls+none";
        case VencryptSub::TlsVnc: return "vencrypt+tls+vnc";
        case VencryptSub::TlsPlain: return "vencrypt+tls+plain";
        case VencryptSub::X509None: return "vencrypt+x509+none";
        case VencryptSub::X509Vnc: return "vencrypt+x509+vnc";
        case VencryptSub::X509Plain: return "vencrypt+x509+plain";
        case VencryptSub::TlsSasl: return "vencrypt+tls+sasl";
        case VencryptSub::X509Sasl: return "vencrypt+x509+sasl";
        case VencryptSub::None: break;
        }
        return "vencrypt";
    default:
        return "unknown";
    }
}

const char *primary_auth_qapi(AuthType auth)
{
    switch (static_cast<uint8_t>(auth)) {
    case static_cast<uint8_t>(AuthType::Vnc): return "vnc";
    case kAuthRa2: return "ra2";
    case kAuthRa2ne: return "ra2ne";
    case kAuthTight: return "tight";
    case kAuthUltra: return "ultra";
    case kAuthTls: return "tls";
    case static_cast<uint8_t>(AuthType::VeNCrypt): return "vencrypt";
    case static_cast<uint8_t>(AuthType::Sasl): return "sasl";
    default: return "none";
    }
}

const char *vencrypt_sub_qapi(VencryptSub subauth)
{
    switch (subauth) {
    case VencryptSub::Plain: return "plain";
    case VencryptSub::TlsNone: return "tls-none";
    case VencryptSub::X509None: return "x509-none";
    case VencryptSub::TlsVnc: return "tls-vnc";
    case VencryptSub::X509Vnc: return "x509-vnc";
    case VencryptSub::TlsPlain: return "tls-plain";
    case VencryptSub::X509Plain: return "x509-plain";
    case VencryptSub::TlsSasl: return "tls-sasl";
    case VencryptSub::X509Sasl: return "x509-sasl";
    case VencryptSub::None: break;
    }
    return nullptr;
}

} // namespace qvnc::vnc
