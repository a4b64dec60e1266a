// The WebSocket layer (ui-vnc/ws): the HTTP upgrade as QEMU answers it
// (spec 2.8), the incremental frame decoder (CVE-2015-1779: huge lengths
// cost no memory, unmasked / text / malformed control frames are errors)
// and the server frame encoder.
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "ws-frame.hpp"
#include "ws-handshake.hpp"

// Last: cmocka defines macros (fail) that clash with the standard headers.
#include "cmocka.hpp"

using qvnc::ws::FrameDecoder;
using Kind = qvnc::ws::HandshakeResult::Kind;

namespace {

constexpr const char *kKey = "dGhlIHNhbXBsZSBub25jZQ==";
constexpr const char *kAccept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

bool contains(const std::string &hay, std::string_view needle)
{
    return hay.find(needle) != std::string::npos;
}

void expect_contains(const std::string &hay, std::string_view needle)
{
    if (!contains(hay, needle)) {
        print_error("expected [%.*s] in:\n%s\n", static_cast<int>(needle.size()), needle.data(), hay.c_str());
        fail();
    }
}

void expect_lacks(const std::string &hay, std::string_view needle)
{
    if (contains(hay, needle)) {
        print_error("did not expect [%.*s] in:\n%s\n", static_cast<int>(needle.size()), needle.data(),
                    hay.c_str());
        fail();
    }
}

// A well-formed upgrade request; `extra` goes before the blank line.
std::string request(std::string_view extra = "", std::string_view path = "/", std::string_view key = kKey)
{
    std::string r = "GET ";
    r += path;
    r += " HTTP/1.1\r\nHost: 127.0.0.1:5700\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
         "Sec-WebSocket-Key: ";
    r += key;
    r += "\r\nSec-WebSocket-Version: 13\r\n";
    r += extra;
    r += "\r\n";
    return r;
}

// Asserts a rejection with the given status line.
void expect_reject(const std::string &req, std::string_view status, bool version_hint)
{
    auto r = qvnc::ws::process_handshake(req);
    if (r.kind != Kind::Reject) {
        print_error("request not rejected (kind %d):\n%s\n", static_cast<int>(r.kind), req.c_str());
        fail();
    }
    std::string want = "HTTP/1.1 ";
    want += status;
    want += "\r\n";
    if (r.response.rfind(want, 0) != 0) {
        print_error("response starts [%.40s], want [%s]\n", r.response.c_str(), want.c_str());
        fail();
    }
    expect_contains(r.response, "\r\nConnection: close\r\n");
    expect_contains(r.response, "\r\nServer: QEMU VNC\r\n");
    if (version_hint) {
        expect_contains(r.response, "\r\nSec-WebSocket-Version: 13\r\n");
    }
    assert_true(r.response.size() >= 4 && r.response.compare(r.response.size() - 4, 4, "\r\n\r\n") == 0);
    assert_false(r.reason.empty());
}

// ---- accept key and handshake ---------------------------------------------

void test_accept_key_rfc6455(void **)
{
    assert_string_equal(qvnc::ws::accept_key(kKey).c_str(), kAccept);
    // Another key: the function really hashes its input.
    assert_string_not_equal(qvnc::ws::accept_key("AAAAAAAAAAAAAAAAAAAAAA==").c_str(), kAccept);
}

void test_handshake_accept(void **)
{
    std::string req = request();
    auto r = qvnc::ws::process_handshake(req);
    assert_int_equal(static_cast<int>(r.kind), static_cast<int>(Kind::Accept));
    assert_int_equal(r.consumed, req.size());
    assert_true(r.response.rfind("HTTP/1.1 101 Switching Protocols\r\n", 0) == 0);
    expect_contains(r.response, "\r\nServer: QEMU VNC\r\n");
    expect_contains(r.response, "\r\nUpgrade: websocket\r\n");
    expect_contains(r.response, "\r\nConnection: Upgrade\r\n");
    expect_contains(r.response, std::string("\r\nSec-WebSocket-Accept: ") + kAccept + "\r\n");
    expect_contains(r.response, " GMT\r\n");
    expect_contains(r.response, "\r\nDate: ");
    // No protocol asked for (noVNC 1.7): none answered.
    expect_lacks(r.response, "Sec-WebSocket-Protocol");
    assert_true(r.response.compare(r.response.size() - 4, 4, "\r\n\r\n") == 0);
}

void test_handshake_protocol_binary(void **)
{
    auto r = qvnc::ws::process_handshake(request("Sec-WebSocket-Protocol: base64, binary\r\n"));
    assert_int_equal(static_cast<int>(r.kind), static_cast<int>(Kind::Accept));
    expect_contains(r.response, "\r\nSec-WebSocket-Protocol: binary\r\n");
    // Only base64 offered: refused.
    expect_reject(request("Sec-WebSocket-Protocol: base64\r\n"), "400 Bad Request", true);
}

void test_handshake_case_insensitive(void **)
{
    std::string req = "GET / HTTP/1.1\r\nhost: x\r\nUPGRADE: WebSocket\r\nconnection: keep-alive, Upgrade\r\n"
                      "sec-websocket-key: " + std::string(kKey) + "\r\nSEC-WEBSOCKET-VERSION: 13\r\n\r\n";
    auto r = qvnc::ws::process_handshake(req);
    assert_int_equal(static_cast<int>(r.kind), static_cast<int>(Kind::Accept));
    expect_contains(r.response, kAccept);
}

void test_handshake_paths(void **)
{
    assert_int_equal(static_cast<int>(qvnc::ws::process_handshake(request("", "/websockify")).kind),
                     static_cast<int>(Kind::Accept));
    assert_int_equal(static_cast<int>(qvnc::ws::process_handshake(request("", "/?token=1")).kind),
                     static_cast<int>(Kind::Accept));
    expect_reject(request("", "/vnc"), "404 Not Found", false);
    expect_reject(request("", "/websockify/x"), "404 Not Found", false);
}

void test_handshake_need_more(void **)
{
    std::string req = request();
    // Every proper prefix waits for more.
    for (size_t n = 0; n < req.size(); n++) {
        auto r = qvnc::ws::process_handshake(std::string_view(req).substr(0, n));
        if (r.kind != Kind::NeedMore) {
            print_error("prefix of %zu bytes: kind %d\n", n, static_cast<int>(r.kind));
            fail();
        }
        assert_true(r.response.empty());
    }
}

void test_handshake_trailing_frame(void **)
{
    // A client that sends its first frame right behind the request: only
    // the request is consumed, the frame is left for the decoder.
    std::string req = request();
    std::string with_frame = req + std::string("\x82\x80\x01\x02\x03\x04", 6);
    auto r = qvnc::ws::process_handshake(with_frame);
    assert_int_equal(static_cast<int>(r.kind), static_cast<int>(Kind::Accept));
    assert_int_equal(r.consumed, req.size());
}

void test_handshake_bad_requests(void **)
{
    std::string post = request();
    post.replace(0, 3, "PUT");
    expect_reject(post, "400 Bad Request", true);
    std::string http10 = request();
    http10.replace(http10.find("HTTP/1.1"), 8, "HTTP/1.0");
    expect_reject(http10, "400 Bad Request", true);
    // Key lengths 23 and 25.
    expect_reject(request("", "/", "dGhlIHNhbXBsZSBub25jZQ="), "400 Bad Request", true);
    expect_reject(request("", "/", "dGhlIHNhbXBsZSBub25jZQ==="), "400 Bad Request", true);
    // Wrong version.
    std::string v8 = request();
    v8.replace(v8.find("Version: 13"), 11, "Version: 8");
    expect_reject(v8, "400 Bad Request", true);
    // Missing Host / Upgrade / Connection / key.
    for (const char *drop : {"Host: 127.0.0.1:5700\r\n", "Upgrade: websocket\r\n", "Connection: Upgrade\r\n",
                             "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"}) {
        std::string r = request();
        r.erase(r.find(drop), std::strlen(drop));
        expect_reject(r, "400 Bad Request", true);
    }
    // Not an upgrade to websocket.
    std::string up = request();
    up.replace(up.find("Upgrade: websocket"), 18, "Upgrade: h2c");
    expect_reject(up, "400 Bad Request", true);
    std::string conn = request();
    conn.replace(conn.find("Connection: Upgrade"), 19, "Connection: close");
    expect_reject(conn, "400 Bad Request", true);
    // A header line without a colon.
    expect_reject(request("garbage-without-colon\r\n"), "400 Bad Request", true);
    // Whitespace before the colon, a folded line, an empty name (RFC 7230
    // 3.2.4; found by fuzz-websocket: the key was taken from "Key :").
    std::string spaced = request();
    spaced.replace(spaced.find("Sec-WebSocket-Key:"), 18, "Sec-WebSocket-Key :");
    expect_reject(spaced, "400 Bad Request", true);
    expect_reject(request("\tX-Folded: a\r\n"), "400 Bad Request", true);
    expect_reject(request(" X-Folded: a\r\n"), "400 Bad Request", true);
    expect_reject(request(": no name\r\n"), "400 Bad Request", true);
}

void test_handshake_header_count(void **)
{
    // 5 headers in request() + 27 = 32: accepted; one more is refused.
    std::string extra;
    for (int i = 0; i < 27; i++) {
        extra += "X-Pad-" + std::to_string(i) + ": a\r\n";
    }
    assert_int_equal(static_cast<int>(qvnc::ws::process_handshake(request(extra)).kind),
                     static_cast<int>(Kind::Accept));
    extra += "X-Pad-last: a\r\n";
    expect_reject(request(extra), "400 Bad Request", true);
}

void test_handshake_header_limit(void **)
{
    // Endless headers: 4095 bytes without an end still wait, 4096 are refused.
    std::string endless = "GET / HTTP/1.1\r\nX-Long: ";
    endless.append(4095 - endless.size(), 'a');
    assert_int_equal(static_cast<int>(qvnc::ws::process_handshake(endless).kind),
                     static_cast<int>(Kind::NeedMore));
    endless.push_back('a');
    expect_reject(endless, "403 Request Entity Too Large", false);
    endless.append(100000, 'a');
    expect_reject(endless, "403 Request Entity Too Large", false);
    // A complete request that ends just past 4096 bytes.
    std::string base = request();
    std::string pad = "X-Pad: ";
    pad.append(4097 - base.size() - 2 - pad.size(), 'b');
    pad += "\r\n";
    std::string big = request(pad);
    assert_int_equal(big.size(), 4097);
    expect_reject(big, "403 Request Entity Too Large", false);
    // And one that ends exactly at 4096 is fine.
    pad.erase(7, 1);
    std::string fits = request(pad);
    assert_int_equal(fits.size(), 4096);
    assert_int_equal(static_cast<int>(qvnc::ws::process_handshake(fits).kind), static_cast<int>(Kind::Accept));
}

// ---- frames -----------------------------------------------------------------

// A masked client frame.
std::vector<uint8_t> client_frame(uint8_t first, std::string_view payload, const uint8_t mask[4],
                                  uint64_t announced = UINT64_MAX)
{
    uint64_t len = announced == UINT64_MAX ? payload.size() : announced;
    std::vector<uint8_t> f;
    f.push_back(first);
    if (len < 126) {
        f.push_back(static_cast<uint8_t>(0x80 | len));
    } else if (len <= 0xFFFF) {
        f.push_back(0x80 | 126);
        f.push_back(static_cast<uint8_t>(len >> 8));
        f.push_back(static_cast<uint8_t>(len));
    } else {
        f.push_back(0x80 | 127);
        for (int s = 56; s >= 0; s -= 8) {
            f.push_back(static_cast<uint8_t>(len >> s));
        }
    }
    f.insert(f.end(), mask, mask + 4);
    for (size_t i = 0; i < payload.size(); i++) {
        f.push_back(static_cast<uint8_t>(payload[i]) ^ mask[i & 3]);
    }
    return f;
}

const uint8_t kMask[4] = {0x37, 0xfa, 0x21, 0x3d};

void append(std::vector<uint8_t> &a, const std::vector<uint8_t> &b)
{
    a.insert(a.end(), b.begin(), b.end());
}

void test_frame_binary(void **)
{
    // RFC 6455 5.7's masked "Hello", but binary.
    auto f = client_frame(0x82, "Hello", kMask);
    const uint8_t want[] = {0x82, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58};
    assert_int_equal(f.size(), sizeof want);
    assert_memory_equal(f.data(), want, sizeof want);
    FrameDecoder d;
    FrameDecoder::Output out;
    d.feed(f, out);
    assert_true(out.error.empty());
    assert_false(out.closed);
    assert_string_equal(out.data.c_str(), "Hello");
}

void test_frame_byte_by_byte(void **)
{
    std::string big(300, '\0');
    for (size_t i = 0; i < big.size(); i++) big[i] = static_cast<char>(i * 7);
    std::string huge(70000, 'q');
    std::vector<uint8_t> all = client_frame(0x82, "abc", kMask);
    append(all, client_frame(0x82, big, kMask));  // 16-bit length
    append(all, client_frame(0x82, huge, kMask)); // 64-bit length
    append(all, client_frame(0x82, "", kMask));   // empty
    FrameDecoder d;
    FrameDecoder::Output out;
    for (uint8_t b : all) {
        d.feed({&b, 1}, out);
        assert_true(out.error.empty());
    }
    assert_true(out.data == "abc" + big + huge);
}

void test_frame_unmasked(void **)
{
    const uint8_t f[] = {0x82, 0x03, 'a', 'b', 'c'};
    FrameDecoder d;
    FrameDecoder::Output out;
    d.feed(f, out);
    assert_false(out.error.empty());
    assert_true(out.data.empty());
}

void test_frame_text_and_unknown(void **)
{
    for (uint8_t first : {0x81, 0x83, 0x87, 0x8b, 0x8f, 0xc2, 0xa2, 0x92}) {
        FrameDecoder d;
        FrameDecoder::Output out;
        d.feed(client_frame(first, "xyz", kMask), out);
        if (out.error.empty()) {
            print_error("first byte %#x accepted\n", first);
            fail();
        }
        assert_true(out.data.empty());
    }
}

void test_frame_huge_length(void **)
{
    // 2^62 announced: no error, no allocation; the payload streams out.
    auto f = client_frame(0x82, "", kMask, 1ull << 62);
    FrameDecoder d;
    FrameDecoder::Output out;
    d.feed(f, out);
    assert_true(out.error.empty());
    assert_true(out.data.empty());
    uint8_t chunk[4096];
    for (size_t i = 0; i < sizeof chunk; i++) chunk[i] = static_cast<uint8_t>('z' ^ kMask[i & 3]);
    for (int i = 0; i < 16; i++) {
        out.data.clear();
        d.feed(chunk, out);
        assert_true(out.error.empty());
        assert_int_equal(out.data.size(), sizeof chunk);
        assert_int_equal(out.data[0], 'z');
        assert_int_equal(out.data[4095], 'z');
    }
    // The top bit of a 64-bit length is an error.
    FrameDecoder d2;
    FrameDecoder::Output out2;
    d2.feed(client_frame(0x82, "", kMask, 1ull << 63), out2);
    assert_false(out2.error.empty());
}

void test_frame_fragmented(void **)
{
    std::vector<uint8_t> all = client_frame(0x02, "ab", kMask); // binary, no FIN
    append(all, client_frame(0x89, "p1", kMask));                // ping between fragments
    append(all, client_frame(0x00, "cd", kMask));                // continuation, no FIN
    append(all, client_frame(0x80, "ef", kMask));                // continuation, FIN
    append(all, client_frame(0x8a, "pong", kMask));              // unsolicited pong: ignored
    append(all, client_frame(0x82, "g", kMask));
    FrameDecoder d;
    FrameDecoder::Output out;
    d.feed(all, out);
    assert_true(out.error.empty());
    assert_string_equal(out.data.c_str(), "abcdefg");
    assert_int_equal(out.pings.size(), 1);
    assert_string_equal(out.pings[0].c_str(), "p1");

    // A continuation with nothing to continue.
    FrameDecoder d2;
    FrameDecoder::Output out2;
    d2.feed(client_frame(0x80, "x", kMask), out2);
    assert_false(out2.error.empty());
    // A new binary frame inside a fragmented message.
    FrameDecoder d3;
    FrameDecoder::Output out3;
    std::vector<uint8_t> f3 = client_frame(0x02, "x", kMask);
    append(f3, client_frame(0x82, "y", kMask));
    d3.feed(f3, out3);
    assert_false(out3.error.empty());
}

void test_frame_control_limits(void **)
{
    std::string p126(126, 'p');
    // A ping of 126 bytes, a ping without FIN, a close without FIN.
    for (auto f : {client_frame(0x89, p126, kMask), client_frame(0x09, "x", kMask), client_frame(0x08, "", kMask)}) {
        FrameDecoder d;
        FrameDecoder::Output out;
        d.feed(f, out);
        assert_false(out.error.empty());
        assert_true(out.pings.empty());
    }
    // 125 bytes is the largest allowed control payload.
    FrameDecoder d;
    FrameDecoder::Output out;
    d.feed(client_frame(0x89, std::string(125, 'p'), kMask), out);
    assert_true(out.error.empty());
    assert_int_equal(out.pings.size(), 1);
    assert_int_equal(out.pings[0].size(), 125);
}

void test_frame_close(void **)
{
    // Data, then close (with a status code), then bytes that must not be read.
    std::vector<uint8_t> all = client_frame(0x82, "before", kMask);
    append(all, client_frame(0x88, std::string("\x03\xe8", 2), kMask));
    append(all, client_frame(0x82, "after", kMask));
    FrameDecoder d;
    FrameDecoder::Output out;
    d.feed(all, out);
    assert_true(out.error.empty());
    assert_true(out.closed);
    assert_string_equal(out.data.c_str(), "before");
}

void test_frame_close_mid_frame(void **)
{
    // A close frame starting inside the payload of a binary frame is
    // payload, not a close (CVE-2015-1779 class: no confusion of states).
    auto f = client_frame(0x82, "0123456789", kMask);
    auto c = client_frame(0x88, "", kMask);
    std::vector<uint8_t> part(f.begin(), f.begin() + 8); // header + mask + 2 bytes
    FrameDecoder d;
    FrameDecoder::Output out;
    d.feed(part, out);
    assert_string_equal(out.data.c_str(), "01");
    d.feed(c, out); // 6 bytes, taken as payload
    assert_true(out.error.empty());
    assert_false(out.closed);
    assert_int_equal(out.data.size(), 8);
}

// ---- encoder ----------------------------------------------------------------

void test_encode_lengths(void **)
{
    struct Case {
        size_t n;
        std::vector<uint8_t> head;
    };
    const Case cases[] = {
        {0, {0x82, 0x00}},
        {125, {0x82, 0x7d}},
        {126, {0x82, 0x7e, 0x00, 0x7e}},
        {65535, {0x82, 0x7e, 0xff, 0xff}},
        {65536, {0x82, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0}},
        {70000, {0x82, 0x7f, 0, 0, 0, 0, 0, 1, 0x11, 0x70}},
    };
    for (const Case &c : cases) {
        std::vector<uint8_t> payload(c.n);
        for (size_t i = 0; i < c.n; i++) payload[i] = static_cast<uint8_t>(i);
        std::string out = "prefix";
        qvnc::ws::encode_frame(qvnc::ws::Binary, payload, out);
        assert_int_equal(out.size(), 6 + c.head.size() + c.n);
        assert_memory_equal(out.data(), "prefix", 6);
        assert_memory_equal(out.data() + 6, c.head.data(), c.head.size());
        if (c.n) {
            assert_memory_equal(out.data() + 6 + c.head.size(), payload.data(), c.n);
        }
    }
    std::string close;
    qvnc::ws::encode_frame(qvnc::ws::Close, {}, close);
    assert_int_equal(close.size(), 2);
    assert_memory_equal(close.data(), "\x88\x00", 2);
    std::string pong;
    const uint8_t p[] = {'h', 'i'};
    qvnc::ws::encode_frame(qvnc::ws::Pong, p, pong);
    assert_memory_equal(pong.data(), "\x8a\x02hi", 4);
}

void test_encode_decode_roundtrip(void **)
{
    // Server frames are unmasked; masked by hand, they decode to the input.
    std::string payload(100000, '\0');
    for (size_t i = 0; i < payload.size(); i++) payload[i] = static_cast<char>(i * 13 + 5);
    std::string enc;
    qvnc::ws::encode_frame(qvnc::ws::Binary,
                           {reinterpret_cast<const uint8_t *>(payload.data()), payload.size()}, enc);
    size_t hlen = 10;
    std::vector<uint8_t> f(enc.begin(), enc.begin() + static_cast<long>(hlen));
    f[1] |= 0x80;
    f.insert(f.end(), kMask, kMask + 4);
    for (size_t i = 0; i < payload.size(); i++) {
        f.push_back(static_cast<uint8_t>(enc[hlen + i]) ^ kMask[i & 3]);
    }
    FrameDecoder d;
    FrameDecoder::Output out;
    d.feed(f, out);
    assert_true(out.error.empty());
    assert_true(out.data == payload);
}

} // namespace

int main()
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accept_key_rfc6455),
        cmocka_unit_test(test_handshake_accept),
        cmocka_unit_test(test_handshake_protocol_binary),
        cmocka_unit_test(test_handshake_case_insensitive),
        cmocka_unit_test(test_handshake_paths),
        cmocka_unit_test(test_handshake_need_more),
        cmocka_unit_test(test_handshake_trailing_frame),
        cmocka_unit_test(test_handshake_bad_requests),
        cmocka_unit_test(test_handshake_header_count),
        cmocka_unit_test(test_handshake_header_limit),
        cmocka_unit_test(test_frame_binary),
        cmocka_unit_test(test_frame_byte_by_byte),
        cmocka_unit_test(test_frame_unmasked),
        cmocka_unit_test(test_frame_text_and_unknown),
        cmocka_unit_test(test_frame_huge_length),
        cmocka_unit_test(test_frame_fragmented),
        cmocka_unit_test(test_frame_control_limits),
        cmocka_unit_test(test_frame_close),
        cmocka_unit_test(test_frame_close_mid_frame),
        cmocka_unit_test(test_encode_lengths),
        cmocka_unit_test(test_encode_decode_roundtrip),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
