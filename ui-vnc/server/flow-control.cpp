#include "flow-control.hpp"

#include <algorithm>

namespace qvnc::vnc {

std::optional<uint32_t> FlowControl::ping(uint64_t queued, int64_t now_us)
{
    if (pings_.size() >= kMaxPings) {
        return std::nullopt; // a later ping acknowledges these bytes too
    }
    const uint32_t id = next_id_++;
    queued += kPingBytes;
    pings_.push_back({id, queued, now_us, acked_});
    last_ping_queued_ = queued;
    last_ping_us_ = now_us;
    return id;
}

bool FlowControl::ping_due(int64_t now_us) const
{
    return pings_.empty() && (!last_ping_us_ || now_us - *last_ping_us_ >= kMinPingIntervalUs);
}

std::optional<uint32_t> FlowControl::after_update(uint64_t queued, int64_t now_us)
{
    if (ping_due(now_us) || queued - last_ping_queued_ >= window() / 4) {
        return ping(queued, now_us);
    }
    return std::nullopt;
}

std::optional<uint32_t> FlowControl::after_answer(uint64_t queued, int64_t now_us)
{
    if (ping_due(now_us) && queued > acked_) {
        return ping(queued, now_us);
    }
    return std::nullopt;
}

bool FlowControl::answered(uint32_t id, int64_t now_us)
{
    auto it = std::find_if(pings_.begin(), pings_.end(), [&](const Ping &p) { return p.id == id; });
    if (it == pings_.end()) {
        return false;
    }
    const Ping p = *it;
    // Answers come in order; earlier pings are answered by this one too.
    pings_.erase(pings_.begin(), it + 1);
    acked_ = std::max(acked_, p.queued);
    answers_++;
    const int64_t rtt = std::max<int64_t>(1, now_us - p.sent_us);
    if (min_rtt_us_ == 0 || rtt <= min_rtt_us_ || now_us - min_rtt_at_us_ > kMinRttLifetimeUs) {
        min_rtt_us_ = rtt;
        min_rtt_at_us_ = now_us;
    }
    // What was in flight when the ping left, taken in one round trip: the
    // rate the path and the client sustained (an application-limited
    // sample is low, and the maximum below passes over it).
    const double rate = static_cast<double>(p.queued - p.acked_at_send) * 1e6 / static_cast<double>(rtt);
    add_rate(rate, now_us);
    return true;
}

void FlowControl::add_rate(double rate, int64_t now_us)
{
    rates_[rate_next_] = {rate, now_us};
    rate_next_ = (rate_next_ + 1) % rates_.size();
    rate_max_ = rate;
    for (const RateSample &s : rates_) {
        if (s.at_us != 0 && now_us - s.at_us <= kRateLifetimeUs) {
            rate_max_ = std::max(rate_max_, s.rate);
        }
    }
}

uint64_t FlowControl::window() const
{
    if (answers_ == 0) {
        return kInitialWindow;
    }
    const double w = rate_max_ * static_cast<double>(2 * min_rtt_us_ + kQueueDelayUs) / 1e6;
    if (w >= static_cast<double>(kMaxWindow)) {
        return kMaxWindow;
    }
    return std::max(kMinWindow, static_cast<uint64_t>(w));
}

} // namespace qvnc::vnc
