#include "ws-handshake.hpp"

#include <glib.h>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "error.hpp"

namespace qvnc::ws {

namespace {

constexpr size_t kMaxHeaderBytes = 4096;
constexpr size_t kMaxHeaders = 32;
constexpr const char *kGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

std::string lower(std::string_view s)
{
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

std::string_view trim(std::string_view s)
{
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

// Whether a comma-separated header value lists `token` (case-insensitive).
bool lists_token(std::string_view value, std::string_view token)
{
    std::string want = lower(token);
    size_t pos = 0;
    while (pos <= value.size()) {
        size_t end = value.find(',', pos);
        if (end == std::string_view::npos) end = value.size();
        if (lower(trim(value.substr(pos, end - pos))) == want) {
            return true;
        }
        pos = end + 1;
    }
    return false;
}

std::string http_date()
{
    char buf[64];
    time_t now = std::time(nullptr);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    return buf;
}

HandshakeResult reject(const char *status, std::string reason, bool version_hint = false)
{
    HandshakeResult r;
    r.kind = HandshakeResult::Kind::Reject;
    r.reason = std::move(reason);
    r.response = strprintf("HTTP/1.1 %s\r\nServer: QEMU VNC\r\nDate: %s\r\n%sConnection: close\r\n"
                           "Content-Length: 0\r\n\r\n",
                           status, http_date().c_str(),
                           version_hint ? "Sec-WebSocket-Version: 13\r\n" : "");
    return r;
}

} // namespace

std::string accept_key(std::string_view client_key)
{
    std::string in(client_key);
    in += kGuid;
    // Owned handles: the std::string copies below may throw.
    std::unique_ptr<GChecksum, decltype(&g_checksum_free)> sum(g_checksum_new(G_CHECKSUM_SHA1), &g_checksum_free);
    g_checksum_update(sum.get(), reinterpret_cast<const guchar *>(in.data()), static_cast<gssize>(in.size()));
    guint8 digest[20];
    gsize len = sizeof digest;
    g_checksum_get_digest(sum.get(), digest, &len);
    std::unique_ptr<gchar, decltype(&g_free)> b64(g_base64_encode(digest, len), &g_free);
    return std::string(b64.get());
}

HandshakeResult process_handshake(std::string_view received)
{
    size_t end = received.find("\r\n\r\n");
    if (end == std::string_view::npos) {
        if (received.size() >= kMaxHeaderBytes) {
            // CVE-2015-1779: endless headers must not grow our memory.
            return reject("403 Request Entity Too Large", "headers exceed 4096 bytes");
        }
        return {};
    }
    if (end + 4 > kMaxHeaderBytes) {
        return reject("403 Request Entity Too Large", "headers exceed 4096 bytes");
    }
    std::string_view head = received.substr(0, end);
    size_t line_end = head.find("\r\n");
    std::string_view request = head.substr(0, line_end);
    // "GET <path> HTTP/1.1"
    if (request.substr(0, 4) != "GET ") {
        return reject("400 Bad Request", "not a GET request", true);
    }
    size_t sp = request.find(' ', 4);
    if (sp == std::string_view::npos || request.substr(sp + 1) != "HTTP/1.1") {
        return reject("400 Bad Request", "malformed request line", true);
    }
    std::string_view path = request.substr(4, sp - 4);
    size_t q = path.find('?');
    std::string_view bare = q == std::string_view::npos ? path : path.substr(0, q);
    // QEMU serves "/"; noVNC's default path "websockify" is accepted too so
    // that a stock noVNC page connects without configuration.
    if (bare != "/" && bare != "/websockify") {
        return reject("404 Not Found", "unknown path " + std::string(path));
    }
    std::map<std::string, std::string> headers;
    size_t count = 0;
    size_t pos = line_end == std::string_view::npos ? head.size() : line_end + 2;
    while (pos < head.size()) {
        size_t e = head.find("\r\n", pos);
        if (e == std::string_view::npos) e = head.size();
        std::string_view line = head.substr(pos, e - pos);
        pos = e + 2;
        size_t colon = line.find(':');
        if (colon == std::string_view::npos) {
            return reject("400 Bad Request", "malformed header line", true);
        }
        if (++count > kMaxHeaders) {
            return reject("400 Bad Request", "too many headers", true);
        }
        // RFC 7230 3.2.4: a server must refuse whitespace between a field
        // name and its colon, and may refuse a folded line (leading
        // whitespace).  Trimming them instead would take "Sec-WebSocket-Key :"
        // as the key a proxy in front of us saw as another header.
        std::string_view name = line.substr(0, colon);
        if (name.empty() || trim(name).size() != name.size()) {
            return reject("400 Bad Request", "malformed header name", true);
        }
        headers[lower(name)] = std::string(trim(line.substr(colon + 1)));
    }
    auto get = [&](const char *name) -> const std::string * {
        auto it = headers.find(name);
        return it == headers.end() ? nullptr : &it->second;
    };
    const std::string *host = get("host"), *upgrade = get("upgrade"), *conn = get("connection"),
                      *key = get("sec-websocket-key"), *version = get("sec-websocket-version"),
                      *proto = get("sec-websocket-protocol");
    if (!host || !upgrade || !conn || !key || !version) {
        return reject("400 Bad Request", "missing websocket headers", true);
    }
    if (*version != "13") {
        return reject("400 Bad Request", "unsupported websocket version " + *version, true);
    }
    if (key->size() != 24) {
        return reject("400 Bad Request", "Sec-WebSocket-Key is not 24 characters", true);
    }
    if (!lists_token(*upgrade, "websocket") || !lists_token(*conn, "upgrade")) {
        return reject("400 Bad Request", "not a websocket upgrade", true);
    }
    if (proto && !lists_token(*proto, "binary")) {
        return reject("400 Bad Request", "client does not offer the binary protocol", true);
    }
    HandshakeResult r;
    r.kind = HandshakeResult::Kind::Accept;
    r.consumed = end + 4;
    r.response = strprintf("HTTP/1.1 101 Switching Protocols\r\nServer: QEMU VNC\r\nDate: %s\r\n"
                           "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n"
                           "%s\r\n",
                           http_date().c_str(), accept_key(*key).c_str(),
                           proto ? "Sec-WebSocket-Protocol: binary\r\n" : "");
    return r;
}

} // namespace qvnc::ws
