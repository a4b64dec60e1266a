// Typed client->server messages and their incremental parser.  The parser
// never consumes a partial message: it either returns a whole message and
// its length, NeedMore, or Fail with the reason (which closes that client).
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "byte-reader.hpp"
#include "pixel-format.hpp"

namespace qvnc::rfb {

struct SetPixelFormatMsg {
    vnc::PixelFormat pf;
};
struct SetEncodingsMsg {
    std::vector<int32_t> encodings;
};
struct UpdateRequestMsg {
    bool incremental;
    uint16_t x, y, w, h;
};
struct KeyEventMsg {
    bool down;
    uint32_t keysym;
};
struct PointerEventMsg {
    uint8_t mask;
    uint16_t x, y;
};
struct CutTextMsg {
    std::string latin1; // classic cut text
};
struct ExtClipboardMsg {
    uint32_t flags;
    std::vector<uint8_t> payload; // after the flags word
};
struct QemuExtKeyMsg {
    bool down;
    uint32_t keysym;
    uint32_t keycode;
};
struct QemuAudioMsg {
    uint16_t op;
    uint8_t format = 0, channels = 0;
    uint32_t frequency = 0;
};
struct Screen {
    uint32_t id;
    uint16_t x, y, w, h;
    uint32_t flags;
};
struct SetDesktopSizeMsg {
    uint16_t w, h;
    std::vector<Screen> screens;
};
struct EnableCuMsg {
    bool enable;
    uint16_t x, y, w, h;
};
struct FenceMsg {
    uint32_t flags;
    std::vector<uint8_t> payload;
};
struct XvpMsg {
    uint8_t version, code;
};

using ClientMessage =
    std::variant<SetPixelFormatMsg, SetEncodingsMsg, UpdateRequestMsg, KeyEventMsg,
                 PointerEventMsg, CutTextMsg, ExtClipboardMsg, QemuExtKeyMsg, QemuAudioMsg,
                 SetDesktopSizeMsg, EnableCuMsg, FenceMsg, XvpMsg>;

struct ParseResult {
    enum class Kind { Message, NeedMore, Fail } kind;
    size_t length = 0;     // bytes of a complete message
    ClientMessage message; // valid when Kind::Message
    std::string error;     // valid when Kind::Fail
};

// What the parser needs to know about the session.
struct ParserOptions {
    bool ext_clipboard = false; // negative cut-text lengths allowed
};

ParseResult parse_client_message(io::Bytes input, const ParserOptions &opts);

} // namespace qvnc::rfb
