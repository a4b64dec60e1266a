// The WebSocket codec: ws::process_handshake on the bytes of an HTTP
// upgrade, and ws::FrameDecoder on client frames.
//
// byte 0 selects the mode:
//   0: handshake.  Accept must consume at most the input and answer 101
//      with the right Sec-WebSocket-Accept; NeedMore is only allowed while
//      fewer than 4096 bytes arrived (CVE-2015-1779: no endless headers);
//      prefixes of the input (every one near a boundary) get a verdict.
//   1: raw frames, fed whole and in fuzz-sized pieces: both give the same
//      payload, pings, close and error (the decoder is incremental).
//   2: frames built by the harness from a fuzz-made list (opcode, fin,
//      length, mask key, payload): the decoded binary payload must be the
//      concatenation of the data frames' payloads, pings come back as sent.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include <glib.h>

#include "fuzz-attrs.hpp"
#include "ws-frame.hpp"
#include "ws-handshake.hpp"

using namespace qvnc;

namespace {

[[noreturn]] void violated(const char *what)
{
    fprintf(stderr, "==fuzz== websocket contract violated: %s\n", what);
    __builtin_trap();
}

// Every value of header NAME (case-insensitive), trimmed.  A request may
// repeat a header; which one the server takes is its choice (QEMU takes
// the first), so the accept key is checked against all of them.
FUZZ_UNINSTRUMENTED std::vector<std::string> header_values(std::string_view req, std::string_view name)
{
    std::vector<std::string> out;
    std::string lower(req);
    for (auto &c : lower) c = static_cast<char>(g_ascii_tolower(c));
    std::string key = "\r\n" + std::string(name) + ":";
    for (auto &c : key) c = static_cast<char>(g_ascii_tolower(c));
    for (size_t p = lower.find(key); p != std::string::npos; p = lower.find(key, p + 1)) {
        size_t b = p + key.size();
        size_t e = req.find("\r\n", b);
        std::string v(req.substr(b, e == std::string::npos ? std::string::npos : e - b));
        while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.erase(v.begin());
        while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.pop_back();
        out.push_back(v);
    }
    return out;
}

void handshake(std::string_view req)
{
    ws::HandshakeResult r = ws::process_handshake(req);
    switch (r.kind) {
    case ws::HandshakeResult::Kind::NeedMore:
        if (req.size() >= 4096) violated("NeedMore after 4096 bytes of headers");
        if (!r.response.empty()) violated("NeedMore with a response");
        break;
    case ws::HandshakeResult::Kind::Reject:
        if (r.response.rfind("HTTP/1.1 ", 0) != 0) violated("a rejection that is not an HTTP response");
        if (r.response.find("Connection: close\r\n") == std::string::npos) violated("a rejection without close");
        break;
    case ws::HandshakeResult::Kind::Accept: {
        if (r.consumed == 0 || r.consumed > req.size()) violated("Accept consumed outside the input");
        if (r.consumed > 4096) violated("Accept of more than 4096 bytes of headers");
        if (r.response.rfind("HTTP/1.1 101 Switching Protocols\r\n", 0) != 0) violated("Accept without 101");
        std::string_view head = req.substr(0, r.consumed);
        bool found = false;
        for (const std::string &key : header_values(head, "Sec-WebSocket-Key")) {
            if (r.response.find("Sec-WebSocket-Accept: " + ws::accept_key(key) + "\r\n") != std::string::npos)
                found = true;
        }
        if (!found) violated("Accept with a Sec-WebSocket-Accept for none of the request's keys");
        break;
    }
    }
}

// Arrival in pieces: prefixes get a verdict too.  Not every prefix (that
// was up to 256 full parses per input, most of the target's time): every
// length up to 16, every length around the end of the header block and
// around the 4096-byte limit, where NeedMore must turn into a verdict, and
// 16 lengths spread over the rest.
void handshake_prefixes(std::string_view req)
{
    const size_t size = req.size();
    auto at = [&](size_t k) {
        if (k < size) handshake(req.substr(0, k));
    };
    for (size_t k = 0; k < 16; k++) at(k);
    const size_t end = req.find("\r\n\r\n");
    if (end != std::string_view::npos) {
        for (size_t k = end; k <= end + 5; k++) at(k);
    }
    for (size_t k = 4094; k <= 4097; k++) at(k);
    for (size_t i = 1; i <= 16; i++) at(size * i / 17);
}

struct Decoded {
    std::string data;
    std::vector<std::string> pings;
    bool closed = false;
    std::string error;
};

Decoded decode(const uint8_t *p, size_t n, const uint8_t *cuts, size_t ncuts)
{
    ws::FrameDecoder dec;
    ws::FrameDecoder::Output out;
    size_t off = 0, c = 0;
    while (off < n && out.error.empty() && !out.closed) {
        size_t take = n - off;
        if (c < ncuts) take = std::min<size_t>(take, 1 + cuts[c++] % 37);
        dec.feed({p + off, take}, out);
        off += take;
    }
    return {out.data, out.pings, out.closed, out.error};
}

void raw_frames(const uint8_t *data, size_t size)
{
    if (size < 1) return;
    const size_t ncuts = data[0] % 32;
    if (size < 1 + ncuts) return;
    const uint8_t *cuts = data + 1;
    data += 1 + ncuts;
    size -= 1 + ncuts;
    Decoded whole = decode(data, size, nullptr, 0);
    Decoded pieces = decode(data, size, cuts, ncuts);
    if (whole.data != pieces.data) violated("payload depends on how the input was split");
    if (whole.pings != pieces.pings) violated("pings depend on how the input was split");
    if (whole.closed != pieces.closed) violated("close depends on how the input was split");
    if (whole.error != pieces.error) violated("errors depend on how the input was split");
}

void built_frames(const uint8_t *data, size_t size)
{
    // Each frame: u8 op/fin (bit 7 fin, bits 0-1: binary, continuation,
    // ping, close), u8 len (0..255, scaled), u8 form (length encoding),
    // 4-byte mask, payload bytes taken from the input.
    std::string wire, want;
    std::vector<std::string> want_pings;
    bool fragmented = false, closed = false, valid = true;
    size_t i = 0;
    while (i + 7 <= size && valid && !closed) {
        const uint8_t opfin = data[i], len = data[i + 1], form = data[i + 2];
        const uint8_t *mask = data + i + 3;
        i += 7;
        const bool fin = opfin & 0x80;
        static const uint8_t kOps[4] = {ws::Binary, ws::Continuation, ws::Ping, ws::Close};
        const uint8_t op = kOps[opfin & 3];
        const bool control = op & 8;
        size_t n = std::min<size_t>(len * ((form & 3) == 3 ? 300u : 1u), size - i);
        if (control && (n >= 126 || !fin)) {
            break; // only well-formed frames here
        }
        if ((op == ws::Binary && fragmented) || (op == ws::Continuation && !fragmented)) {
            break;
        }
        std::string payload(reinterpret_cast<const char *>(data + i), n);
        i += n;
        wire.push_back(static_cast<char>((fin ? 0x80 : 0) | op));
        // Any of the legal length forms, also the non-minimal ones.
        const int lf = control ? 0 : (n < 126 ? (form >> 2) % 3 : (n <= 0xffff ? 1 + (form >> 2) % 2 : 2));
        if (lf == 0) {
            wire.push_back(static_cast<char>(0x80 | n));
        } else if (lf == 1) {
            wire.push_back(static_cast<char>(0x80 | 126));
            wire.push_back(static_cast<char>(n >> 8));
            wire.push_back(static_cast<char>(n));
        } else {
            wire.push_back(static_cast<char>(0x80 | 127));
            for (int s = 56; s >= 0; s -= 8) wire.push_back(static_cast<char>(static_cast<uint64_t>(n) >> s));
        }
        wire.append(reinterpret_cast<const char *>(mask), 4);
        for (size_t k = 0; k < n; k++) wire.push_back(static_cast<char>(payload[k] ^ mask[k & 3]));
        if (op == ws::Binary || op == ws::Continuation) {
            want += payload;
            fragmented = !fin;
        } else if (op == ws::Ping) {
            want_pings.push_back(payload);
        } else if (op == ws::Close) {
            closed = true;
        }
    }
    const uint8_t cuts[8] = {3, 0, 17, 1, 250, 2, 9, 40};
    for (size_t nc : {size_t{0}, size_t{8}}) {
        Decoded d = decode(reinterpret_cast<const uint8_t *>(wire.data()), wire.size(), cuts, nc);
        if (!d.error.empty()) violated("a well-formed frame sequence was refused");
        if (d.data != want) violated("decoded payload differs from what was framed");
        if (d.pings != want_pings) violated("decoded pings differ from what was framed");
        if (d.closed != closed) violated("close frame not reported");
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    const uint8_t mode = data[0] % 3;
    data++;
    size--;
    if (mode == 0) {
        std::string_view req(reinterpret_cast<const char *>(data), size);
        handshake(req);
        handshake_prefixes(req);
    } else if (mode == 1) {
        raw_frames(data, size);
    } else {
        built_frames(data, size);
    }
    return 0;
}
