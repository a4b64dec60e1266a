#include "ws-frame.hpp"

#include <algorithm>

namespace qvnc::ws {

void FrameDecoder::feed(std::span<const uint8_t> in, Output &out)
{
    size_t i = 0;
    while (i < in.size() && out.error.empty() && !out.closed) {
        switch (state_) {
        case State::Header: {
            hdr_[have_++] = in[i++];
            if (have_ < 2) {
                break;
            }
            have_ = 0;
            fin_ = hdr_[0] & 0x80;
            opcode_ = hdr_[0] & 0x0F;
            if (hdr_[0] & 0x70) {
                out.error = "reserved bits set";
                return;
            }
            if (!(hdr_[1] & 0x80)) {
                out.error = "client frame is not masked";
                return;
            }
            bool control = opcode_ & 0x08;
            if (control) {
                if (!fin_ || (hdr_[1] & 0x7F) >= 126) {
                    out.error = "malformed control frame";
                    return;
                }
                if (opcode_ != Close && opcode_ != Ping && opcode_ != Pong) {
                    out.error = "unknown control opcode";
                    return;
                }
            } else if (opcode_ == Binary) {
                if (in_fragmented_binary_) {
                    out.error = "new data frame inside a fragmented message";
                    return;
                }
                in_fragmented_binary_ = !fin_;
            } else if (opcode_ == Continuation) {
                if (!in_fragmented_binary_) {
                    out.error = "continuation without a fragmented message";
                    return;
                }
                in_fragmented_binary_ = !fin_;
            } else {
                out.error = "only binary frames are accepted";
                return;
            }
            uint8_t len7 = hdr_[1] & 0x7F;
            if (len7 == 126) {
                state_ = State::ExtLen;
                need_ = 2;
            } else if (len7 == 127) {
                state_ = State::ExtLen;
                need_ = 8;
            } else {
                remaining_ = len7;
                state_ = State::Mask;
                need_ = 4;
            }
            break;
        }
        case State::ExtLen:
            ext_[have_++] = in[i++];
            if (have_ == need_) {
                remaining_ = 0;
                for (size_t k = 0; k < need_; k++) {
                    remaining_ = remaining_ << 8 | ext_[k];
                }
                if (need_ == 8 && (remaining_ >> 63)) {
                    out.error = "frame length has the top bit set";
                    return;
                }
                have_ = 0;
                need_ = 4;
                state_ = State::Mask;
            }
            break;
        case State::Mask:
            mask_[have_++] = in[i++];
            if (have_ == 4) {
                have_ = 0;
                offset_ = 0;
                control_.clear();
                state_ = State::Payload;
                if (remaining_ > 0) {
                    break;
                }
            } else {
                break;
            }
            [[fallthrough]];
        case State::Payload: {
            size_t take = static_cast<size_t>(std::min<uint64_t>(remaining_, in.size() - i));
            bool control = opcode_ & 0x08;
            std::string &dst = control ? control_ : out.data;
            size_t base = dst.size();
            dst.resize(base + take);
            for (size_t k = 0; k < take; k++) {
                dst[base + k] = static_cast<char>(in[i + k] ^ mask_[(offset_ + k) & 3]);
            }
            i += take;
            offset_ += take;
            remaining_ -= take;
            if (remaining_ == 0) {
                if (opcode_ == Close) {
                    out.closed = true;
                } else if (opcode_ == Ping) {
                    out.pings.push_back(control_);
                }
                state_ = State::Header;
                need_ = 2;
            }
            break;
        }
        }
    }
}

void encode_frame(Opcode op, std::span<const uint8_t> payload, std::string &out)
{
    out.push_back(static_cast<char>(0x80 | op));
    size_t n = payload.size();
    if (n < 126) {
        out.push_back(static_cast<char>(n));
    } else if (n <= 0xFFFF) {
        out.push_back(static_cast<char>(126));
        out.push_back(static_cast<char>(n >> 8));
        out.push_back(static_cast<char>(n));
    } else {
        out.push_back(static_cast<char>(127));
        for (int s = 56; s >= 0; s -= 8) {
            out.push_back(static_cast<char>(static_cast<uint64_t>(n) >> s));
        }
    }
    out.append(reinterpret_cast<const char *>(payload.data()), n);
}

} // namespace qvnc::ws
