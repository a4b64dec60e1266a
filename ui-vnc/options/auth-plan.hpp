// Which RFB security type (and VeNCrypt sub-type) a display offers, as a pure
// function of its options -- QEMU's vnc_display_setup_auth().  Priority is
// password > sasl > none; TLS credentials wrap the choice in VeNCrypt.
// Websocket listeners do TLS as wss:// before the HTTP upgrade, so their
// mapping ignores TLS.
#pragma once

#include <cstdint>

namespace qvnc::vnc {

// RFB security type numbers (QEMU's VNC_AUTH_*).
enum class AuthType : uint8_t { Invalid = 0, None = 1, Vnc = 2, VeNCrypt = 19, Sasl = 20 };

// VeNCrypt sub-types with QEMU's (and gtk-vnc's) numbering: X509SASL=263,
// TLSSASL=264.  rfbproto lists these two the other way round; QEMU clients
// expect QEMU's values.
enum class VencryptSub : uint32_t {
    None = 0,
    Plain = 256,
    TlsNone = 257,
    TlsVnc = 258,
    TlsPlain = 259,
    X509None = 260,
    X509Vnc = 261,
    X509Plain = 262,
    X509Sasl = 263,
    TlsSasl = 264,
};

// The kind of the display's TLS credentials (None: no TLS at all).
enum class TlsKind { None, Anon, X509 };

struct AuthPlan {
    AuthType auth;          // offered on plain RFB listeners / add_client
    VencryptSub subauth;    // None unless auth == VeNCrypt
    AuthType ws_auth;       // offered on websocket listeners
    VencryptSub ws_subauth; // always None
};

AuthPlan plan_auth(bool password, bool sasl, TlsKind tls);

// QEMU's vnc_auth_name(): "none", "vnc", "sasl", "vencrypt+x509+vnc", ...
// (query-vnc "auth", VNC_CONNECTED events).  Unknown values give "unknown".
const char *auth_name(AuthType auth, VencryptSub subauth);

// QAPI VncPrimaryAuth names: none, vnc, ra2, ra2ne, tight, ultra, tls,
// vencrypt, sasl.  Anything unknown (including Invalid) maps to "none", as
// in QEMU's query-vnc-servers.
const char *primary_auth_qapi(AuthType auth);

// QAPI VncVencryptSubAuth names: plain, tls-none, x509-none, tls-vnc,
// x509-vnc, tls-plain, x509-plain, tls-sasl, x509-sasl.  nullptr when the
// value is not a VeNCrypt sub-type (the optional "vencrypt" member is then
// absent; HMP prints "none").
const char *vencrypt_sub_qapi(VencryptSub subauth);

} // namespace qvnc::vnc
