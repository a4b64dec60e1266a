#include "sasl-transport.hpp"

#include <algorithm>
#include <cstring>

namespace qvnc::io {

bool SaslTransport::has_buffered_input() const
{
    return decoded_off_ < decoded_.size() || inner_->has_buffered_input();
}

IoResult SaslTransport::read(std::span<uint8_t> buf)
{
    // sasl_decode buffers partial packets itself and may yield nothing for
    // a whole read: keep reading until there is output or no input.
    while (decoded_off_ >= decoded_.size()) {
        decoded_.clear();
        decoded_off_ = 0;
        uint8_t raw[16384];
        IoResult r = inner_->read(raw);
        if (r.status != IoStatus::Ok) {
            return r;
        }
        auto dec = sasl_->decode({raw, r.n});
        if (!dec) {
            return {IoStatus::Error, 0, dec.error().message};
        }
        decoded_ = std::move(dec.value());
    }
    size_t n = std::min(buf.size(), decoded_.size() - decoded_off_);
    std::memcpy(buf.data(), decoded_.data() + decoded_off_, n);
    decoded_off_ += n;
    return {IoStatus::Ok, n, {}};
}

IoResult SaslTransport::flush_encoded()
{
    while (sent_ < encoded_.size()) {
        auto rest = std::span<const uint8_t>(reinterpret_cast<const uint8_t *>(encoded_.data()) + sent_,
                                             encoded_.size() - sent_);
        IoResult r = inner_->write(rest);
        if (r.status != IoStatus::Ok) {
            return r;
        }
        sent_ += r.n;
    }
    encoded_.clear();
    sent_ = 0;
    return {IoStatus::Ok, 0, {}};
}

IoResult SaslTransport::write(std::span<const uint8_t> buf)
{
    if (plain_budget_ > 0) {
        IoResult r = inner_->write(buf.first(std::min(buf.size(), plain_budget_)));
        if (r.status == IoStatus::Ok) {
            plain_budget_ -= r.n;
        }
        return r;
    }
    // Encoded bytes of an earlier call go first, in order.
    IoResult f = flush_encoded();
    if (f.status != IoStatus::Ok) {
        return f;
    }
    if (buf.empty()) {
        return {IoStatus::Ok, 0, {}};
    }
    size_t chunk = std::min<size_t>(buf.size(), sasl_->max_out_buf());
    auto enc = sasl_->encode(buf.first(chunk));
    if (!enc) {
        return {IoStatus::Error, 0, enc.error().message};
    }
    encoded_ = std::move(enc.value());
    sent_ = 0;
    // The plaintext is consumed now; what the socket did not take stays in
    // encoded_ and is reported through has_pending_output().
    IoResult r = flush_encoded();
    if (r.status == IoStatus::Eof || r.status == IoStatus::Error) {
        return r;
    }
    return {IoStatus::Ok, chunk, {}};
}

} // namespace qvnc::io
