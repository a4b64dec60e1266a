// Normal-phase client messages (QEMU protocol_client_msg).
#include <glib.h>

#include "byte-reader.hpp"
#include "byte-writer.hpp"
#include "connection.hpp"
#include "protocol.hpp"
#include "server.hpp"

namespace qvnc::vnc {

namespace {
constexpr uint32_t kFenceRequest = 1u << 31;
constexpr uint32_t kFenceKnown = 0x7; // BlockBefore | BlockAfter | SyncNext
template <class... Ts> struct Overloaded : Ts... {
    using Ts::operator()...;
};
template <class... Ts> Overloaded(Ts...) -> Overloaded<Ts...>;
} // namespace

size_t Connection::handle_message(io::Bytes in)
{
    rfb::ParserOptions opts;
    opts.ext_clipboard = caps_.ext_clipboard;
    rfb::ParseResult r = rfb::parse_client_message(in, opts);
    if (r.kind == rfb::ParseResult::Kind::NeedMore) {
        return 0;
    }
    if (r.kind == rfb::ParseResult::Kind::Fail) {
        // Malformed input closes this client only; the log says why.
        close("protocol error: " + r.error);
        return in.size();
    }
    std::visit(Overloaded{
                   [&](const rfb::SetPixelFormatMsg &m) { on_set_pixel_format(m); },
                   [&](const rfb::SetEncodingsMsg &m) { on_set_encodings(m); },
                   [&](const rfb::UpdateRequestMsg &m) { on_update_request(m); },
                   [&](const rfb::KeyEventMsg &m) { on_key(m); },
                   [&](const rfb::PointerEventMsg &m) { on_pointer(m); },
                   [&](const rfb::CutTextMsg &m) { on_cut_text(m); },
                   [&](const rfb::QemuExtKeyMsg &m) { on_qemu_ext_key(m); },
                   [&](const rfb::SetDesktopSizeMsg &m) { on_set_desktop_size(m); },
                   [&](const rfb::ExtClipboardMsg &m) { on_ext_clipboard(m); },
                   [&](const rfb::QemuAudioMsg &m) { on_qemu_audio(m); },
                   [&](const rfb::EnableCuMsg &m) { on_enable_cu(m); },
                   [&](const rfb::FenceMsg &m) { on_fence(m); },
                   [&](const rfb::XvpMsg &m) { on_xvp(m); },
               },
               r.message);
    return r.length;
}

void Connection::on_set_pixel_format(const rfb::SetPixelFormatMsg &m)
{
    Result<SanitizedPixelFormat> pf = sanitize(m.pf);
    if (!pf) {
        // CVE-2014-7815: odd bits-per-pixel values must not reach the encoders.
        close("SetPixelFormat: " + pf.error().message);
        return;
    }
    caps_.pf = pf->format;
    caps_.colour_map = pf->send_colour_map;
    pending_colour_map_ = pf->send_colour_map;
    rebuild_converter();
    // Everything the client has is in the old format now.
    dirty_.mark_all();
}

void Connection::rebuild_converter()
{
    Result<PixelConverter> conv = PixelConverter::make(server_.framebuffer().format(), caps_.pf);
    if (!conv) {
        close("pixel conversion: " + conv.error().message);
        return;
    }
    converter_.emplace(std::move(conv.value()));
}

void Connection::on_set_encodings(const rfb::SetEncodingsMsg &m)
{
    caps_.set_encodings(m.encodings);
    // As QEMU, acknowledge the pseudo-encodings in the next update.
    pending_ext_key_ack_ = caps_.ext_key_event;
    pending_pointer_type_ = caps_.pointer_type_change;
    pending_cursor_ = (caps_.rich_cursor || caps_.alpha_cursor) && server_.cursor().defined();
    pending_led_ = caps_.led_state;
    // The audio ack only when the emulator has audio (QEMU: an audio state).
    pending_audio_ack_ = caps_.audio && server_.audio_available();
    if (caps_.ext_clipboard && !ext_clipboard_announced_) {
        // rfbproto: the server sends its caps when the client lists it.
        ext_clipboard_announced_ = true;
        send_clipboard_caps();
    }
    if (caps_.continuous_updates && !cu_supported_) {
        // An EndOfContinuousUpdates tells the client we support them.
        cu_supported_ = true;
        const uint8_t eocu[1] = {static_cast<uint8_t>(rfb::ServerMsg::EndOfContinuousUpdates)};
        queue(eocu);
    }
    if (caps_.fence && !fence_supported_) {
        fence_supported_ = true;
        append_fence(kFenceRequest, {});
        queue({});
    }
    if (caps_.xvp && server_.config().power_control) {
        // XVP_INIT with our version, as soon as the client shows interest.
        const uint8_t init[4] = {static_cast<uint8_t>(rfb::ServerMsg::Xvp), 0, 1, 1};
        queue(init);
    }
}

void Connection::on_xvp(const rfb::XvpMsg &m)
{
    // QEMU's XVP feature needs both power-control=on and -309 in the
    // client's encodings.
    if (!server_.config().power_control || !caps_.xvp) {
        close("protocol error: xvp client message while disabled");
        return;
    }
    if (m.version != 1) {
        close(strprintf("protocol error: xvp client message version %u != 1", m.version));
        return;
    }
    server_.log_client(QVNC_LOG_INFO, *this, strprintf("xvp power action %u", m.code));
    if (!server_.power_action(m.code)) {
        const uint8_t fail[4] = {static_cast<uint8_t>(rfb::ServerMsg::Xvp), 0, 1, 0};
        queue(fail);
    }
}

void Connection::on_enable_cu(const rfb::EnableCuMsg &m)
{
    if (!cu_supported_) {
        close("protocol error: continuous updates were not negotiated");
        return;
    }
    // Pings of an earlier period are answered later and ignored.
    flow_.reset(queued_total());
    flow_timer_.reset();
    if (m.enable) {
        cu_enabled_ = true;
        cu_region_ = Rect{m.x, m.y, m.w, m.h};
        update_requested_ = true;
    } else {
        // Must be answered at once, even when already off.
        cu_enabled_ = false;
        const uint8_t eocu[1] = {static_cast<uint8_t>(rfb::ServerMsg::EndOfContinuousUpdates)};
        queue(eocu);
    }
}

void Connection::on_fence(const rfb::FenceMsg &m)
{
    if (!fence_supported_) {
        close("protocol error: fence was not negotiated");
        return;
    }
    if (!(m.flags & kFenceRequest)) {
        // The answer to our own fence: the first one (no payload) only
        // announced fences; a ping's carries its id (flow-control.hpp).
        if (m.payload.size() == 4 && flow_active()) {
            const uint32_t id = io::ByteReader(m.payload).u32();
            const int64_t now = g_get_monotonic_time();
            // process_input() then sends what the window now allows.
            if (flow_.answered(id, now)) {
                flow_timer_.reset();
                if (std::optional<uint32_t> next = flow_.after_answer(queued_total(), now)) {
                    append_ping(next);
                    queue({});
                }
                if (flow_held()) {
                    watch_flow_stall(); // still more than a window out
                }
            }
        }
        return;
    }
    // Everything before this point is already queued in order, which is
    // what BlockBefore asks; echo the flags we understand, request cleared.
    append_fence(m.flags & kFenceKnown, m.payload);
    queue({});
}

void Connection::append_ping(std::optional<uint32_t> id)
{
    if (!id) {
        return;
    }
    // Request only: the client answers once it has read what came before,
    // whatever it makes of the block flags; the payload is our id.
    const uint8_t payload[4] = {static_cast<uint8_t>(*id >> 24), static_cast<uint8_t>(*id >> 16),
                                static_cast<uint8_t>(*id >> 8), static_cast<uint8_t>(*id)};
    append_fence(kFenceRequest, payload);
}

void Connection::append_fence(uint32_t flags, io::Bytes payload)
{
    // Into the output queue, unflushed: a ping goes out in the same write
    // as the update it follows.  The parser caps payloads at 64 bytes.
    io::ByteWriter(out_)
        .u8(static_cast<uint8_t>(rfb::ServerMsg::ServerFence))
        .pad(3)
        .u32(flags)
        .u8(static_cast<uint8_t>(payload.size()))
        .bytes(payload);
}

void Connection::on_update_request(const rfb::UpdateRequestMsg &m)
{
    if (cu_enabled_ && m.incremental) {
        return; // continuous updates: incremental requests are redundant
    }
    update_requested_ = true;
    if (!m.incremental) {
        // A full request resends the area whatever we think the client has.
        force_update_ = true;
        dirty_.mark(m.x, m.y, m.w, m.h);
        if (caps_.ext_desktop_size) {
            pending_resize_ = true; // rfbproto: on every non-incremental request
        }
    }
}

void Connection::on_key(const rfb::KeyEventMsg &m)
{
    server_.client_key(m.keysym, 0, m.down, caps_.led_state);
}

void Connection::on_qemu_ext_key(const rfb::QemuExtKeyMsg &m)
{
    if (!caps_.ext_key_event) {
        close("protocol error: extended key event before the server enabled it");
        return;
    }
    server_.client_key(m.keysym, m.keycode, m.down, caps_.led_state);
}

void Connection::on_pointer(const rfb::PointerEventMsg &m)
{
    int x = m.x, y = m.y;
    if (caps_.pointer_type_change && !server_.pointer_absolute()) {
        // Relative mode: coordinates are deltas biased by 0x7FFF.
        x = last_x_ + (static_cast<int>(m.x) - 0x7FFF);
        y = last_y_ + (static_cast<int>(m.y) - 0x7FFF);
    }
    x = std::clamp(x, 0, std::max(0, server_.width() - 1));
    y = std::clamp(y, 0, std::max(0, server_.height() - 1));
    last_x_ = x;
    last_y_ = y;
    last_buttons_ = m.mask;
    server_.pointer_event(x, y, m.mask);
}

void Connection::on_cut_text(const rfb::CutTextMsg &m)
{
    // Classic cut text is Latin-1; the host gets UTF-8.
    gsize written = 0;
    g_autofree char *utf8 = g_convert(m.latin1.data(), static_cast<gssize>(m.latin1.size()), "UTF-8",
                                      "ISO-8859-1", nullptr, &written, nullptr);
    if (utf8) {
        server_.cut_text(std::string(utf8, written));
    }
}

void Connection::on_set_desktop_size(const rfb::SetDesktopSizeMsg &m)
{
    if (!caps_.ext_desktop_size) {
        close("protocol error: SetDesktopSize without ExtendedDesktopSize");
        return;
    }
    bool valid = m.w > 0 && m.h > 0 && m.w <= rfb::kMaxWidth && m.h <= rfb::kMaxHeight &&
                 !m.screens.empty();
    // Status 4 = "request forwarded" (the guest decides), 3 = invalid layout.
    uint16_t status = 3;
    if (valid && server_.desktop_resize(m.w, m.h)) {
        status = 4;
    }
    desktop_size_reply_ = DesktopSizeReply{status, m};
    update_requested_ = true; // the reply goes out with the next update
}

} // namespace qvnc::vnc
