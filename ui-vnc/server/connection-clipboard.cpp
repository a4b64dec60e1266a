// Clipboard in both directions: classic cut text and the extended
// clipboard pseudo-encoding (text only, as QEMU).
#include "byte-writer.hpp"
#include "connection.hpp"
#include "ext-clipboard.hpp"
#include "server.hpp"

namespace qvnc::vnc {

namespace {
void queue_string(Connection &c, const std::string &s, void (Connection::*q)(std::span<const uint8_t>))
{
    (c.*q)({reinterpret_cast<const uint8_t *>(s.data()), s.size()});
}
} // namespace

void Connection::send_clipboard_caps()
{
    queue_string(*this, clip::caps_message(), &Connection::queue);
}

void Connection::on_ext_clipboard(const rfb::ExtClipboardMsg &m)
{
    uint32_t action = m.flags & clip::kActionMask;
    if (action & clip::kCaps) {
        client_clip_formats_ = m.flags & clip::kFormatMask;
        return;
    }
    if (action == clip::kNotify) {
        if (m.flags & clip::kText) {
            queue_string(*this, clip::server_message(clip::kRequest | clip::kText, {}), &Connection::queue);
        }
        return;
    }
    if (action == clip::kPeek) {
        uint32_t have = server_.clipboard() ? static_cast<uint32_t>(clip::kText) : 0u;
        queue_string(*this, clip::server_message(clip::kNotify | have, {}), &Connection::queue);
        return;
    }
    if (action == clip::kRequest) {
        if ((m.flags & clip::kText) && server_.clipboard()) {
            auto msg = clip::provide_message(*server_.clipboard());
            if (msg) {
                queue_string(*this, *msg, &Connection::queue);
            }
        }
        return;
    }
    if (action == clip::kProvide) {
        auto text = clip::parse_provide(m.flags, m.payload);
        if (!text) {
            close("protocol error: extended clipboard: " + text.error().message);
            return;
        }
        if (*text) {
            server_.cut_text(**text);
        }
        return;
    }
    // Several actions in one message, or none: ignored as TigerVNC does.
}

void Connection::clipboard_changed()
{
    if (phase_ != Phase::Normal) {
        return;
    }
    const std::optional<std::string> &text = server_.clipboard();
    if (caps_.ext_clipboard) {
        queue_string(*this, clip::server_message(clip::kNotify | (text ? static_cast<uint32_t>(clip::kText) : 0u), {}),
                     &Connection::queue);
        return;
    }
    if (!text) {
        return;
    }
    std::string latin1 = clip::utf8_to_latin1(*text);
    io::ByteBuffer b;
    io::ByteWriter(b).u8(3).pad(3).u32(static_cast<uint32_t>(latin1.size())).text(latin1);
    queue(b.data());
}

} // namespace qvnc::vnc
