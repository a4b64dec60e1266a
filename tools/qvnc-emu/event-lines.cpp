#include "event-lines.hpp"

#include <cstddef>
#include <cstdio>

namespace qvnc_emu {
namespace {

std::string format(const char *fmt, auto... args)
{
    const int n = std::snprintf(nullptr, 0, fmt, args...);
    if (n <= 0) {
        return {};
    }
    std::string out(static_cast<size_t>(n), '\0');
    std::snprintf(out.data(), out.size() + 1, fmt, args...);
    return out;
}

// Library strings may be NULL (x509_dname, sasl_username) or, from an older
// library, missing from a shorter struct.
std::string_view field(const char *s)
{
    return s != nullptr ? std::string_view(s) : std::string_view();
}

} // namespace

std::string escape_bytes(std::string_view bytes, bool escape_space)
{
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size());
    for (char ch : bytes) {
        const auto c = static_cast<unsigned char>(ch);
        const bool plain = c > 0x20 && c < 0x7f && c != '\\';
        if (plain || (c == ' ' && !escape_space)) {
            out += ch;
        } else {
            out += "\\x";
            out += kHex[c >> 4];
            out += kHex[c & 0xf];
        }
    }
    return out;
}

std::string key_line(uint32_t keysym, uint32_t qnum, bool down)
{
    return format("INPUT key keysym=0x%x qnum=0x%x down=%d", keysym, qnum, down ? 1 : 0);
}

std::string pointer_line(int x, int y, uint32_t buttons)
{
    return format("INPUT pointer x=%d y=%d buttons=0x%x", x, y, buttons);
}

std::string cut_text_line(std::string_view text)
{
    return format("INPUT cut-text len=%zu text=", text.size()) + escape_bytes(text, false);
}

std::string client_line(qvnc_client_event event, const qvnc_client_info &client, std::string_view display_id)
{
    // struct_size tells whether the library's struct reaches the optional
    // identity fields (the ABI lets structs grow at the end).
    const bool has = client.struct_size >= offsetof(qvnc_client_info, sasl_username) + sizeof(const char *);
    const std::string host = escape_bytes(field(client.host), true);
    const std::string service = escape_bytes(field(client.service), true);
    switch (event) {
    case QVNC_CLIENT_CONNECTED:
        return "CLIENT connected host=" + host + " service=" + service;
    case QVNC_CLIENT_INITIALIZED: {
        std::string line = "CLIENT initialized host=" + host + " service=" + service +
                           " family=" + escape_bytes(field(client.family), true) +
                           " websocket=" + (client.websocket ? "1" : "0") +
                           " display=" + escape_bytes(display_id, true);
        if (has && client.x509_dname != nullptr) {
            line += " x509-dname=" + escape_bytes(client.x509_dname, true);
        }
        if (has && client.sasl_username != nullptr) {
            line += " sasl-username=" + escape_bytes(client.sasl_username, true);
        }
        return line;
    }
    case QVNC_CLIENT_DISCONNECTED:
        return "CLIENT disconnected host=" + host + " service=" + service +
               " display=" + escape_bytes(display_id, true);
    }
    return format("CLIENT event=%d host=", static_cast<int>(event)) + host + " service=" + service;
}

std::string resize_request_line(int width, int height)
{
    return format("RESIZE-REQUEST %dx%d", width, height);
}

std::string power_line(qvnc_power_action action)
{
    switch (action) {
    case QVNC_POWER_SHUTDOWN:
        return "POWER shutdown";
    case QVNC_POWER_REBOOT:
        return "POWER reboot";
    case QVNC_POWER_RESET:
        return "POWER reset";
    }
    return format("POWER %d", static_cast<int>(action));
}

std::string frame_dumped_line(std::string_view path)
{
    return "FRAME-DUMPED " + std::string(path);
}

void emit_line(std::string_view line)
{
    std::fwrite(line.data(), 1, line.size(), stdout);
    std::fputc('\n', stdout);
    std::fflush(stdout);
}

} // namespace qvnc_emu
