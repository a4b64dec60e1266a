// One RFB security type on the server side.
//
// Contract: the connection calls begin() once, right after the client chose
// this type (3.7+) or the server announced it (3.3), then on_input() each
// time bytes arrive, until it returns something other than NeedMore.
// on_input() never blocks and consumes only whole protocol units; whatever
// it leaves in `in` is offered again with more bytes.
//   Done:   authenticated; the connection sends SecurityResult OK.
//   Reject: wrong credentials; the connection delays, then sends the failure
//           SecurityResult in the client's version format and closes.
//   Abort:  protocol violation; close without a SecurityResult.
#pragma once

#include <memory>
#include <string>

#include "byte-buffer.hpp"
#include "byte-reader.hpp"

namespace qvnc::vnc {

struct Step {
    // StartTls: the connection must now run a TLS handshake on its
    // transport, then call on_tls_ready() (VeNCrypt only).
    enum class Kind { NeedMore, Done, Reject, Abort, StartTls } kind = Kind::NeedMore;
    std::string reason; // for the log: why it was rejected/aborted
    // SASL rejections carry the reason string for every RFB minor (QEMU).
    bool reason_always = false;
    // An Abort caused by wrong credentials (SASL closes without a result):
    // still counts towards blocking the address.
    bool bad_credentials = false;

    static Step need_more() { return {}; }
    static Step done() { return {Kind::Done, {}}; }
    static Step reject(std::string why) { return {Kind::Reject, std::move(why)}; }
    static Step abort(std::string why) { return {Kind::Abort, std::move(why)}; }
    static Step start_tls() { return {Kind::StartTls, {}}; }
    static Step reject_sasl(std::string why) { return {Kind::Reject, std::move(why), true}; }
    static Step abort_credentials(std::string why) { return {Kind::Abort, std::move(why), false, true}; }
};

class SecurityHandler {
public:
    virtual ~SecurityHandler() = default;
    virtual const char *name() const = 0;
    virtual void begin(io::ByteBuffer &out) = 0;
    virtual Step on_input(io::ByteReader &in, io::ByteBuffer &out) = 0;
    // After the StartTls step: TLS is up; continue (may already be Done).
    virtual Step on_tls_ready(io::ByteBuffer &) { return Step::abort("unexpected TLS upgrade"); }
    // Whether the handler decides without client bytes (None): asked right
    // after begin(); NeedMore for everything that waits for the client.
    virtual Step decide_without_input() { return Step::need_more(); }
};

} // namespace qvnc::vnc
