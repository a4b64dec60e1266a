// Slows down password guessing, as TigerVNC's Blacklist does: after
// kThreshold failed authentications from one address, that address is
// refused for a timeout that doubles with each further failure (capped);
// a success clears it.  One per context, so all displays share it.
#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace qvnc::vnc {

class AuthBlacklist {
public:
    static constexpr int kThreshold = 5;
    static constexpr int64_t kInitialBlockUs = 10 * 1000 * 1000;
    static constexpr int64_t kMaxBlockUs = 10 * 60 * 1000 * 1000LL;

    // now_us: a monotonic clock (g_get_monotonic_time).
    bool is_blocked(const std::string &addr, int64_t now_us) const;
    // Returns true when this failure started (or extended) a block.
    bool failed(const std::string &addr, int64_t now_us);
    void succeeded(const std::string &addr) { entries_.erase(addr); }

private:
    struct Entry {
        int failures = 0;
        int64_t blocked_until = 0;
        int64_t block_us = 0;
    };
    void expire(int64_t now_us);
    std::map<std::string, Entry> entries_;
};

} // namespace qvnc::vnc
