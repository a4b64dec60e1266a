#include "security-vencrypt.hpp"

#include "byte-writer.hpp"
#include "error.hpp"

namespace qvnc::vnc {

void SecurityVencrypt::begin(io::ByteBuffer &out)
{
    io::ByteWriter(out).u8(0).u8(2);
}

Step SecurityVencrypt::on_input(io::ByteReader &in, io::ByteBuffer &out)
{
    io::ByteWriter w(out);
    switch (state_) {
    case State::Version: {
        if (!in.has(2)) {
            return Step::need_more();
        }
        uint8_t major = in.u8(), minor = in.u8();
        if (major != 0 || minor != 2) {
            w.u8(1);
            return Step::abort(strprintf("unsupported VeNCrypt version %u.%u", major, minor));
        }
        w.u8(0).u8(1).u32(static_cast<uint32_t>(subauth_));
        state_ = State::Subtype;
        return Step::need_more();
    }
    case State::Subtype: {
        if (!in.has(4)) {
            return Step::need_more();
        }
        uint32_t chosen = in.u32();
        if (chosen != static_cast<uint32_t>(subauth_)) {
            w.u8(0);
            return Step::abort(strprintf("client chose VeNCrypt subtype %u, offered %u", chosen,
                                         static_cast<unsigned>(subauth_)));
        }
        w.u8(1);
        state_ = State::Tls;
        return Step::start_tls();
    }
    case State::Tls:
        // Bytes before the handshake finished cannot come through here: the
        // connection refuses them (no plaintext survives a TLS upgrade).
        return Step::abort("data before the TLS handshake completed");
    case State::Inner:
        return inner_->on_input(in, out);
    }
    return Step::abort("bad state");
}

Step SecurityVencrypt::on_tls_ready(io::ByteBuffer &out)
{
    inner_ = make_inner_();
    if (!inner_) {
        return Step::abort("no inner authentication for this subtype");
    }
    state_ = State::Inner;
    inner_->begin(out);
    return inner_->decide_without_input();
}

} // namespace qvnc::vnc
