// QMP's wire format around nlohmann-json: cutting the input stream into
// messages, QEMU's extensions of the input syntax, and QEMU's output style.
//
// Input (QEMU's json-lexer/json-streamer behaviour):
//   * messages are not line-based: a message ends when the '{'/'[' that
//     opened it is closed, so one line may carry several messages and one
//     message may span lines; a bare scalar at the top level ends at
//     whitespace or at the next bracket;
//   * strings may be single-quoted ('it''s' is not an escape; \' is):
//     they are rewritten to standard JSON before nlohmann parses them;
//   * a message larger than the size limit, or nested deeper than the depth
//     limit, is answered with one error; its remaining bytes are skipped
//     (without being stored) until its brackets close, and the stream goes
//     on with the next message.  QEMU's limits are 64 MiB and 1024; qvnc
//     uses a smaller size limit (no QMP command here needs more than a few
//     KiB, and a client must not make the monitor hold 64 MiB).
// Output: QEMU's JSON writer style, `{"return": {}, "id": 1}` (": " after
// keys, ", " between members), or its pretty style with 4-space indents;
// strings escape '"', '\\', control characters and every non-ASCII code
// point as \uXXXX (invalid UTF-8 becomes U+FFFD).
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace qvnc::monitor {

// Insertion-ordered, so replies keep the member order the schema gives.
using Json = nlohmann::ordered_json;

class JsonStreamer {
public:
    static constexpr std::size_t kDefaultMaxSize = 1 << 20;
    static constexpr int kMaxDepth = 1024;

    // `message`: the text of one complete message (standard JSON once the
    // quotes are rewritten).  `error`: a framing error, already worded for
    // the client ("JSON token size limit exceeded", ...).
    struct Sink {
        std::function<void(std::string &&message)> message;
        std::function<void(const std::string &error)> error;
    };

    explicit JsonStreamer(Sink sink, std::size_t max_size = kDefaultMaxSize);

    void feed(std::string_view bytes);
    // Drops a partial message (the peer went away).
    void reset();
    // True while a message is incomplete.
    bool partial() const { return depth_ > 0 || !buf_.empty(); }

private:
    void put(char c);
    void emit();
    void overflow(const char *why);

    Sink sink_;
    std::size_t max_size_;
    std::string buf_;
    int depth_ = 0;
    char quote_ = 0;     // inside a string: '"' or '\''
    bool escape_ = false;
    bool scalar_ = false; // a top-level scalar is being collected
    bool skipping_ = false;
};

// Parses one message.  nullopt plus `error` set: the QMP error text
// ("JSON parse error, ...").  Duplicate keys and "\u0000" are refused as
// QEMU's parser refuses them.
std::optional<Json> parse_message(const std::string &text, std::string *error);

// QEMU's compact or pretty JSON text (no line terminator).
std::string format_json(const Json &value, bool pretty = false);

} // namespace qvnc::monitor
