// RFC 6455 framing, incremental in both directions.  The decoder never holds
// a whole frame: payload is unmasked and handed out as it arrives, so a
// frame that announces a huge length costs no memory (CVE-2015-1779).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace qvnc::ws {

enum Opcode : uint8_t { Continuation = 0, Text = 1, Binary = 2, Close = 8, Ping = 9, Pong = 10 };

class FrameDecoder {
public:
    struct Output {
        std::string data;        // binary payload bytes, in order
        std::vector<std::string> pings; // ping payloads to answer
        bool closed = false;     // a close frame arrived
        std::string error;       // non-empty: protocol violation
    };
    // Consumes all of `in` (or stops at an error / close).
    void feed(std::span<const uint8_t> in, Output &out);

private:
    enum class State { Header, ExtLen, Mask, Payload };
    State state_ = State::Header;
    uint8_t hdr_[2] = {};
    uint8_t ext_[8] = {};
    size_t need_ = 2, have_ = 0;
    uint8_t opcode_ = 0;
    bool fin_ = false;
    bool in_fragmented_binary_ = false;
    uint8_t mask_[4] = {};
    uint64_t remaining_ = 0;
    uint64_t offset_ = 0; // position in the payload, for the mask
    std::string control_; // payload of the control frame being read
};

// One unmasked server frame with FIN set.
void encode_frame(Opcode op, std::span<const uint8_t> payload, std::string &out);

} // namespace qvnc::ws
