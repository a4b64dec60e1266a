// FlowControl (ui-vnc/server/flow-control.hpp): the window that holds a
// continuous-updates client's updates while too much is unanswered, driven
// here by a simulated path (a fixed rate and base RTT) instead of sockets.
#include <algorithm>
#include <cstdint>
#include <deque>
#include <optional>

#include "flow-control.hpp"

#include "cmocka.hpp"

using namespace qvnc::vnc;

namespace {

// A sender that queues `update` bytes whenever the window allows, over a
// path that delivers `rate` bytes/s after `base_us` of delay, and a client
// that answers each ping once every byte before it has arrived; with
// `late_us`, every other answer comes that much later (a viewer that shares
// a busy core answers when the scheduler gets to it), and the answers
// behind it with it (they come in order).  Returns the largest number of
// unanswered bytes seen once the first answer came, and the window at the
// end.
struct PathResult {
    uint64_t max_in_flight = 0;
    uint64_t window = 0;
    uint64_t delivered = 0;
    double rate = 0;
    int64_t min_rtt = 0;
};

PathResult simulate(double rate, int64_t base_us, uint64_t update, int64_t duration_us, int64_t late_us = 0,
                    uint64_t first_update = 0)
{
    FlowControl fc;
    struct InFlight {
        uint32_t id;
        int64_t answer_at;
    };
    std::deque<InFlight> pings;
    uint64_t queued = 0;
    int64_t link_free_at = 0; // when the path has sent everything queued
    uint64_t nping = 0;
    auto answer_at = [&](int64_t arrived) {
        int64_t at = arrived + (nping++ % 2 == 1 ? late_us : 0);
        return pings.empty() ? at : std::max(at, pings.back().answer_at);
    };
    PathResult res;
    for (int64_t now = 0; now < duration_us; now += 10) {
        while (!pings.empty() && pings.front().answer_at <= now) {
            assert_true(fc.answered(pings.front().id, now));
            pings.pop_front();
            if (std::optional<uint32_t> id = fc.after_answer(queued, now)) {
                queued += FlowControl::kPingBytes;
                pings.push_back({*id, answer_at(std::max(link_free_at, now) + base_us)});
            }
        }
        if (fc.congested(queued)) {
            continue;
        }
        const uint64_t size = queued == 0 && first_update != 0 ? first_update : update;
        queued += size;
        link_free_at = std::max(link_free_at, now) + static_cast<int64_t>(static_cast<double>(size) * 1e6 / rate);
        if (std::optional<uint32_t> id = fc.after_update(queued, now)) {
            queued += FlowControl::kPingBytes;
            pings.push_back({*id, answer_at(link_free_at + base_us)});
        }
        if (fc.answers() > 0) { // past the initial window
            res.max_in_flight = std::max(res.max_in_flight, queued - fc.acked());
        }
    }
    res.window = fc.window();
    res.delivered = fc.acked();
    res.rate = fc.rate_bytes_per_s();
    res.min_rtt = fc.min_rtt_us();
    return res;
}

// A slow path (1 MB/s, 20 ms): the unanswered bytes stay near two
// bandwidth-delay products, not the seconds of data an unpaced sender
// would queue, and the path is still used at its rate.
void slow_path_is_paced(void **)
{
    const double rate = 1e6;
    const PathResult r = simulate(rate, 20'000, 16 * 1024, 3'000'000);
    assert_true(r.rate > 0.7 * rate && r.rate < 1.3 * rate);
    assert_true(r.min_rtt >= 20'000 && r.min_rtt < 60'000);
    // Two BDPs plus jitter: 44 KB; the floor is 64 KiB; plus one update
    // (the check comes before it is queued).
    assert_true(r.window <= 96 * 1024);
    assert_true(r.max_in_flight <= r.window + 16 * 1024 + 16 * 1024);
    // Delivered about rate x time (less the first round trips).
    assert_true(static_cast<double>(r.delivered) > 0.8 * rate * 3.0);
}

// A fast path (1 GB/s, 100 us): the window opens far beyond the floor, so
// the sender keeps the path busy.
void fast_path_opens_window(void **)
{
    const double rate = 1e9;
    const PathResult r = simulate(rate, 100, 64 * 1024, 200'000);
    assert_true(r.window > 1024 * 1024);
    assert_true(static_cast<double>(r.delivered) > 0.5 * rate * 0.2);
}

// A fast path to a viewer that decodes slowly and answers late (every other
// answer 8 ms behind, as when it shares a busy core with the server): the
// window leaves room for the next update meanwhile, so the path still
// carries about its rate.  With 4 ms of slack instead of kQueueDelayUs the
// sender waited on each late answer: 63% of the rate (100% with answers
// on time).
void late_answers_keep_path_busy(void **)
{
    const double rate = 40e6;
    // The first update is small (pseudo-rectangles), so the min RTT is the
    // path's 0.3 ms, not a 160 KiB update's.
    const PathResult r = simulate(rate, 300, 160 * 1024, 1'000'000, 8'000, 1024);
    assert_true(static_cast<double>(r.delivered) > 0.85 * rate * 1.0);
    // Still bounded by about the queue-delay budget of data.
    assert_true(r.max_in_flight <= static_cast<uint64_t>(rate * 0.05));
}

// Nothing answered: after the initial window the sender is held, however
// long it waits; one answer lets it go on.
void unanswered_pings_hold(void **)
{
    FlowControl fc;
    uint64_t queued = 0;
    std::optional<uint32_t> first;
    int64_t now = 0;
    while (!fc.congested(queued)) {
        queued += 10'000;
        std::optional<uint32_t> id = fc.after_update(queued, now);
        if (!first) {
            first = id;
        }
        now += 100;
        assert_true(queued < 10 * FlowControl::kInitialWindow);
    }
    assert_true(queued > FlowControl::kInitialWindow);
    assert_true(queued <= FlowControl::kInitialWindow + 10'000);
    assert_true(fc.outstanding() >= 1 && fc.outstanding() <= FlowControl::kMaxPings);
    assert_true(first.has_value());
    // Stray ids change nothing.
    assert_false(fc.answered(*first + 1000, now));
    assert_false(fc.answered(0, now));
    assert_true(fc.congested(queued));
    // The first ping's answer acknowledges the first update's bytes.
    assert_true(fc.answered(*first, now + 5000));
    assert_int_equal(fc.answers(), 1);
    assert_int_equal(fc.acked(), 10'000 + FlowControl::kPingBytes);
}

// Bytes queued after the last ping are pinged when that ping is answered
// (once kMinPingIntervalUs has passed since it left), else they would stay
// unacknowledged.
void tail_is_pinged_on_answer(void **)
{
    FlowControl fc;
    constexpr uint64_t P = FlowControl::kPingBytes;
    constexpr int64_t I = FlowControl::kMinPingIntervalUs;
    std::optional<uint32_t> id = fc.after_update(1000, 0);
    assert_true(id.has_value());
    // A second small update while the ping is out: no ping for it.
    assert_false(fc.after_update(2000 + P, 10).has_value());
    assert_true(fc.answered(*id, I + 500));
    assert_int_equal(fc.acked(), 1000 + P);
    std::optional<uint32_t> tail = fc.after_answer(2000 + P, I + 500);
    assert_true(tail.has_value());
    assert_true(fc.answered(*tail, I + 900));
    assert_int_equal(fc.acked(), 2000 + 2 * P);
    // Nothing left unacknowledged, the pings included: no ping, so
    // answers do not breed pings.
    assert_false(fc.after_answer(2000 + 2 * P, 3 * I).has_value());
    // Duplicated answers are refused.
    assert_false(fc.answered(*tail, 3 * I));
}

// Small updates to a client that answers at once (a moving cursor over
// loopback: 4 KB every 30 us, answered 50 us later): at most one ping per
// kMinPingIntervalUs, not one per update (each answer costs the server a
// wakeup and reads), and a ping is never more than that late: every update
// is acknowledged within two intervals and an RTT.
void small_updates_ping_sparingly(void **)
{
    FlowControl fc;
    constexpr int64_t I = FlowControl::kMinPingIntervalUs;
    std::deque<std::pair<uint32_t, int64_t>> out; // id, answer time
    uint64_t queued = 0;
    uint64_t pings = 0;
    std::deque<std::pair<uint64_t, int64_t>> sent; // queued after an update, when
    for (int64_t now = 0; now < 100 * I; now += 30) {
        while (!out.empty() && out.front().second <= now) {
            assert_true(fc.answered(out.front().first, now));
            out.pop_front();
            if (std::optional<uint32_t> id = fc.after_answer(queued, now)) {
                queued += FlowControl::kPingBytes;
                out.push_back({*id, now + 50});
                pings++;
            }
        }
        assert_false(fc.congested(queued));
        queued += 4096;
        if (std::optional<uint32_t> id = fc.after_update(queued, now)) {
            queued += FlowControl::kPingBytes;
            out.push_back({*id, now + 50});
            pings++;
        }
        sent.push_back({queued, now});
        while (!sent.empty() && sent.front().first <= fc.acked()) {
            sent.pop_front();
        }
        assert_true(sent.empty() || now - sent.front().second <= 2 * I + 50);
    }
    // 3334 updates in 100 intervals.
    assert_true(pings <= 101);
    assert_true(pings >= 50);
}

// reset() forgets the pings (continuous updates turned off and on).
void reset_forgets(void **)
{
    FlowControl fc;
    std::optional<uint32_t> id = fc.after_update(1u << 20, 0);
    assert_true(id.has_value());
    assert_true(fc.congested(1u << 20));
    fc.reset(1u << 20);
    assert_false(fc.congested(1u << 20));
    assert_false(fc.answered(*id, 10));
    // The bytes before the reset count as taken: a ping after the next
    // update covers only what follows, and its rate sample too.
    std::optional<uint32_t> next = fc.after_update((1u << 20) + 1000, 100);
    assert_true(next.has_value());
    assert_true(fc.answered(*next, 1100));
    assert_int_equal(fc.acked(), (1u << 20) + 1000 + FlowControl::kPingBytes);
    assert_true(fc.rate_bytes_per_s() < 2e6); // 1013 bytes in 1 ms, not 1 MiB
}

} // namespace

int main()
{
    const CMUnitTest tests[] = {
        cmocka_unit_test(slow_path_is_paced),
        cmocka_unit_test(fast_path_opens_window),
        cmocka_unit_test(late_answers_keep_path_busy),
        cmocka_unit_test(unanswered_pings_hold),
        cmocka_unit_test(tail_is_pinged_on_answer),
        cmocka_unit_test(small_updates_ping_sparingly),
        cmocka_unit_test(reset_forgets),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
