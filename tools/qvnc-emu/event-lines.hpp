// The machine-readable lines the emulator prints on stdout.  Tests parse
// them, so the formats are a contract (README.md lists them): one event per
// line, "KEYWORD key=value ...", values never containing spaces or newlines.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "qvnc-display.h"

namespace qvnc_emu {

// Bytes outside printable ASCII, and the backslash itself, become \xNN
// (lower-case hex); with `escape_space` so does ' ', for values that must
// stay one token.
std::string escape_bytes(std::string_view bytes, bool escape_space);

std::string key_line(uint32_t keysym, uint32_t qnum, bool down);
std::string pointer_line(int x, int y, uint32_t buttons);
std::string cut_text_line(std::string_view text);
std::string client_line(qvnc_client_event event, const qvnc_client_info &client, std::string_view display_id);
std::string resize_request_line(int width, int height);
// "POWER shutdown|reboot|reset" for an XVP request.
std::string power_line(qvnc_power_action action);
std::string frame_dumped_line(std::string_view path);

// Writes `line` and a newline to stdout and flushes, so a reader on a pipe
// sees each event as it happens.
void emit_line(std::string_view line);

} // namespace qvnc_emu
