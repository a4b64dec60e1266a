// Flow control for a client that takes continuous updates and answers
// fences (TigerVNC's viewer, noVNC).
//
// Without requests to pace it, a continuous-updates client gets an update
// whenever damage and an empty-enough output queue meet; on a path slower
// than the guest (a WAN, a slow decoder) the socket buffers fill, and what
// the user sees lags by seconds of queued frames.  The server therefore
// follows updates with ping fences (ServerFence, Request flag, our 4-byte
// id as payload): a client answers them in order, after it has read what
// came before, so an answer tells the server which bytes the client has
// taken, when, and how long the round trip took.
//
// From those answers: the path's own round trip (the least recent RTT) and
// the rate the client takes data at (bytes in flight behind a ping over its
// RTT, the most of recent samples, as BBR estimates delivery rate).  New
// updates wait while more than a window is unanswered:
//
//     window = max(64 KiB, rate * (2 * min_rtt + 16 ms))
//
// twice the path's bandwidth-delay product keeps the path busy (an update
// is under way while the previous one is answered), and the 16 ms are the
// queueing delay allowed on top: room for the next update while the viewer
// decodes this one, and for answers that come late because the viewer
// shares a busy core (it answers when the scheduler gets to it, several ms
// on a loaded machine).  With 4 ms the server waited on such answers and
// the two ends took turns: a 1080p Tight+JPEG stream to a viewer on the
// same 2 cores went from ~132 to ~152 updates/s with the wider budget.  So
// the queue in front of the client holds about a round trip plus 16 ms of
// what it takes: a slow path sees fresh frames (damage keeps accumulating
// and goes out merged), a fast one is never held back by the window.
//
// Pure bookkeeping on byte counts and microsecond times given by the
// caller, so it is tested without sockets or clocks.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>

namespace qvnc::vnc {

class FlowControl {
public:
    static constexpr uint64_t kMinWindow = 64 * 1024;
    static constexpr uint64_t kInitialWindow = 256 * 1024; // before any answer
    static constexpr uint64_t kMaxWindow = 64ull * 1024 * 1024;
    static constexpr int64_t kQueueDelayUs = 16000;
    static constexpr int64_t kMinRttLifetimeUs = 10'000'000; // routes change
    // Pings are at least this far apart unless a quarter of the window was
    // queued since the last one.  A ping per update cost a read and two
    // polls per update on a fast client's small updates (a moving cursor:
    // each answer woke the loop), a third of the server's system calls.
    static constexpr int64_t kMinPingIntervalUs = 1000;
    static constexpr int64_t kRateLifetimeUs = 2'000'000;
    static constexpr size_t kMaxPings = 64; // bounds memory per client
    // Held this long with everything sent taken by the client's TCP, and no
    // answer: the client does not answer fence requests (rfbproto says it
    // must), and flow control is switched off for it (Connection).
    static constexpr unsigned kStallMs = 5000;
    // A ping on the wire (ServerFence with a 4-byte payload): its answer
    // acknowledges it too, else every answer would leave 13 bytes to ping.
    static constexpr uint64_t kPingBytes = 13;

    // After an update was queued; `queued` counts every byte queued to the
    // client so far (the ping returned is queued after them).  Returns the
    // id of a ping to queue right behind it when one is due: none is
    // outstanding and the last left kMinPingIntervalUs ago, or the bytes
    // since the last ping are a quarter of the window (finer
    // acknowledgement while the pipe is full).  Bytes not followed by a
    // ping hold nothing back: congested() needs a ping outstanding.
    std::optional<uint32_t> after_update(uint64_t queued, int64_t now_us);

    // An answer arrived (a ServerFence reply whose payload was 4 bytes).
    // Returns false when it is no ping we wait for (another fence, a
    // duplicate, a stray id): nothing changes then.
    bool answered(uint32_t id, int64_t now_us);

    // After an answer: bytes queued after the last ping, with no ping left
    // to acknowledge them.  Returns the id of a ping to queue now (when the
    // interval allows; else the next update's ping covers them).
    std::optional<uint32_t> after_answer(uint64_t queued, int64_t now_us);

    // More than a window unanswered: hold new updates.
    bool congested(uint64_t queued) const { return !pings_.empty() && queued > acked_ && queued - acked_ > window(); }

    uint64_t window() const;
    uint64_t acked() const { return acked_; }
    size_t outstanding() const { return pings_.size(); }
    int64_t min_rtt_us() const { return min_rtt_us_; }       // 0 = no sample yet
    double rate_bytes_per_s() const { return rate_max_; }    // 0 = no sample yet
    uint64_t answers() const { return answers_; }

    // Continuous updates switched off or on again: forget the pings; what
    // was queued before counts as taken (no ping covers it any more).
    void reset(uint64_t queued)
    {
        *this = FlowControl();
        acked_ = last_ping_queued_ = queued;
    }

private:
    std::optional<uint32_t> ping(uint64_t queued, int64_t now_us);
    bool ping_due(int64_t now_us) const;
    void add_rate(double rate, int64_t now_us);

    struct Ping {
        uint32_t id;
        uint64_t queued;   // bytes queued up to the ping's end
        int64_t sent_us;
        uint64_t acked_at_send;
    };
    struct RateSample {
        double rate = 0;
        int64_t at_us = 0;
    };
    std::deque<Ping> pings_;
    uint32_t next_id_ = 1;
    uint64_t acked_ = 0;
    uint64_t last_ping_queued_ = 0;
    std::optional<int64_t> last_ping_us_;
    int64_t min_rtt_us_ = 0, min_rtt_at_us_ = 0;
    std::array<RateSample, 16> rates_{};
    size_t rate_next_ = 0;
    double rate_max_ = 0;
    uint64_t answers_ = 0;
};

} // namespace qvnc::vnc
