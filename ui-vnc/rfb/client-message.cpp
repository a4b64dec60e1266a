#include "client-message.hpp"

#include "error.hpp"
#include "protocol.hpp"

namespace qvnc::rfb {

namespace {

ParseResult need_more() { return {ParseResult::Kind::NeedMore, 0, {}, {}}; }

ParseResult fail(std::string why) { return {ParseResult::Kind::Fail, 0, {}, std::move(why)}; }

ParseResult done(const io::ByteReader &r, ClientMessage m)
{
    if (r.short_read()) {
        return need_more();
    }
    return {ParseResult::Kind::Message, r.consumed(), std::move(m), {}};
}

ParseResult parse_cut_text(io::ByteReader &r, const ParserOptions &opts)
{
    r.skip(3);
    int32_t len = r.s32();
    if (r.short_read()) {
        return need_more();
    }
    if (len >= 0) {
        if (static_cast<uint32_t>(len) > kMaxCutText) {
            return fail(strprintf("client_cut_text msg payload has %u bytes which exceeds "
                                  "our limit of 1MB.",
                                  static_cast<uint32_t>(len)));
        }
        std::string_view text = r.text(static_cast<size_t>(len));
        return done(r, CutTextMsg{std::string(text)});
    }
    if (!opts.ext_clipboard) {
        return fail("extended clipboard message while disabled");
    }
    uint32_t size = static_cast<uint32_t>(-static_cast<int64_t>(len));
    if (size > kMaxCutText) {
        return fail(strprintf("extended clipboard payload has %u bytes which exceeds our "
                              "limit of 1MB.",
                              size));
    }
    if (size < 4) {
        return fail("malformed payload (header less than 4 bytes) in extended clipboard "
                    "pseudo-encoding.");
    }
    uint32_t flags = r.u32();
    io::Bytes rest = r.bytes(size - 4);
    return done(r, ExtClipboardMsg{flags, {rest.begin(), rest.end()}});
}

ParseResult parse_qemu(io::ByteReader &r)
{
    uint8_t sub = r.u8();
    if (r.short_read()) {
        return need_more();
    }
    switch (sub) {
    case 0: {
        uint16_t down = r.u16();
        uint32_t keysym = r.u32();
        uint32_t keycode = r.u32();
        return done(r, QemuExtKeyMsg{down != 0, keysym, keycode});
    }
    case 1: {
        QemuAudioMsg m{};
        m.op = r.u16();
        if (r.short_read()) {
            return need_more();
        }
        if (m.op == 2) {
            m.format = r.u8();
            m.channels = r.u8();
            m.frequency = r.u32();
        } else if (m.op > 2) {
            return fail(strprintf("invalid audio message %u", m.op));
        }
        return done(r, m);
    }
    default:
        return fail(strprintf("unknown QEMU client message %u", sub));
    }
}

} // namespace

ParseResult parse_client_message(io::Bytes input, const ParserOptions &opts)
{
    io::ByteReader r(input);
    if (!r.has(1)) {
        return need_more();
    }
    uint8_t type = r.u8();
    switch (static_cast<ClientMsg>(type)) {
    case ClientMsg::SetPixelFormat: {
        r.skip(3);
        if (!r.has(16)) {
            return need_more();
        }
        return done(r, SetPixelFormatMsg{vnc::PixelFormat::read(r)});
    }
    case ClientMsg::SetEncodings: {
        r.skip(1);
        uint16_t n = r.u16();
        if (!r.has(size_t{n} * 4)) {
            return need_more();
        }
        SetEncodingsMsg m;
        m.encodings.reserve(n);
        for (unsigned i = 0; i < n; i++) {
            m.encodings.push_back(r.s32());
        }
        return done(r, std::move(m));
    }
    case ClientMsg::FramebufferUpdateRequest: {
        UpdateRequestMsg m{};
        m.incremental = r.u8() != 0;
        m.x = r.u16();
        m.y = r.u16();
        m.w = r.u16();
        m.h = r.u16();
        return done(r, m);
    }
    case ClientMsg::KeyEvent: {
        KeyEventMsg m{};
        m.down = r.u8() != 0;
        r.skip(2);
        m.keysym = r.u32();
        return done(r, m);
    }
    case ClientMsg::PointerEvent: {
        PointerEventMsg m{};
        m.mask = r.u8();
        m.x = r.u16();
        m.y = r.u16();
        return done(r, m);
    }
    case ClientMsg::ClientCutText:
        return parse_cut_text(r, opts);
    case ClientMsg::EnableContinuousUpdates: {
        EnableCuMsg m{};
        m.enable = r.u8() != 0;
        m.x = r.u16();
        m.y = r.u16();
        m.w = r.u16();
        m.h = r.u16();
        return done(r, m);
    }
    case ClientMsg::ClientFence: {
        r.skip(3);
        FenceMsg m{};
        m.flags = r.u32();
        uint8_t len = r.u8();
        if (r.short_read()) {
            return need_more();
        }
        if (len > 64) {
            return fail(strprintf("fence payload of %u bytes exceeds 64", len));
        }
        io::Bytes p = r.bytes(len);
        m.payload.assign(p.begin(), p.end());
        return done(r, std::move(m));
    }
    case ClientMsg::Xvp: {
        r.skip(1);
        XvpMsg m{};
        m.version = r.u8();
        m.code = r.u8();
        return done(r, m);
    }
    case ClientMsg::SetDesktopSize: {
        r.skip(1);
        SetDesktopSizeMsg m{};
        m.w = r.u16();
        m.h = r.u16();
        uint8_t n = r.u8();
        r.skip(1);
        if (!r.has(size_t{n} * 16)) {
            return need_more();
        }
        for (unsigned i = 0; i < n; i++) {
            Screen s{};
            s.id = r.u32();
            s.x = r.u16();
            s.y = r.u16();
            s.w = r.u16();
            s.h = r.u16();
            s.flags = r.u32();
            m.screens.push_back(s);
        }
        return done(r, std::move(m));
    }
    case ClientMsg::Qemu:
        return parse_qemu(r);
    }
    return fail(strprintf("unknown client message type %u", type));
}

} // namespace qvnc::rfb
