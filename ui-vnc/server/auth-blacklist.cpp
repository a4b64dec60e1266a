#include "auth-blacklist.hpp"

#include <algorithm>

namespace qvnc::vnc {

bool AuthBlacklist::is_blocked(const std::string &addr, int64_t now_us) const
{
    auto it = entries_.find(addr);
    return it != entries_.end() && it->second.blocked_until > now_us;
}

void AuthBlacklist::expire(int64_t now_us)
{
    // Bounded memory: forget addresses whose block ran out long ago.
    if (entries_.size() < 4096) {
        return;
    }
    std::erase_if(entries_, [now_us](const auto &e) {
        return e.second.blocked_until + kMaxBlockUs < now_us;
    });
}

bool AuthBlacklist::failed(const std::string &addr, int64_t now_us)
{
    expire(now_us);
    Entry &e = entries_[addr];
    e.failures++;
    if (e.failures < kThreshold) {
        return false;
    }
    e.block_us = e.block_us == 0 ? kInitialBlockUs : std::min(e.block_us * 2, kMaxBlockUs);
    e.blocked_until = now_us + e.block_us;
    return true;
}

} // namespace qvnc::vnc
