// WorkerPool: work runs off the loop thread, completions run on the pool's
// own GMainContext (two pools on two contexts never cross), the loop never
// blocks on a job, and destroying a pool with jobs queued or finished but
// undelivered frees their state without running their completions.
#include <glib.h>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "worker-pool.hpp"

// Last: cmocka defines a fail() macro that clashes with <ios>.
#include "cmocka.hpp"

using namespace qvnc;

namespace {

struct Loop {
    GMainContext *ctx = g_main_context_new();
    ~Loop() { g_main_context_unref(ctx); }
    // Iterates until pred() holds; fails after 10 s.
    template <class P> void run_until(P pred)
    {
        const gint64 end = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
        while (!pred()) {
            assert_true(g_get_monotonic_time() < end);
            g_main_context_iteration(ctx, TRUE);
        }
    }
};

void test_work_off_loop_done_on_loop(void **)
{
    Loop loop;
    work::WorkerPool pool(loop.ctx, 2);
    const std::thread::id loop_thread = std::this_thread::get_id();
    constexpr int kJobs = 50;
    std::vector<int> results(kJobs, 0);
    std::atomic<int> off_loop{0};
    int done = 0;
    for (int i = 0; i < kJobs; i++) {
        auto value = std::make_shared<int>(0);
        pool.submit(
            [value, i, loop_thread, &off_loop] {
                *value = i * i;
                if (std::this_thread::get_id() != loop_thread) off_loop++;
            },
            [value, i, loop_thread, &results, &done] {
                assert_true(std::this_thread::get_id() == loop_thread);
                results[i] = *value;
                done++;
            });
    }
    // Nothing is delivered before the loop runs.
    assert_int_equal(done, 0);
    loop.run_until([&] { return done == kJobs; });
    assert_int_equal(off_loop.load(), kJobs);
    for (int i = 0; i < kJobs; i++) assert_int_equal(results[i], i * i);
}

void test_two_contexts(void **)
{
    Loop a, b;
    work::WorkerPool pa(a.ctx, 1), pb(b.ctx, 1);
    int done_a = 0, done_b = 0;
    pa.submit([] {}, [&] { done_a++; });
    pb.submit([] {}, [&] { done_b++; });
    a.run_until([&] { return done_a == 1; });
    // b's completion waits for b's loop.
    assert_int_equal(done_b, 0);
    b.run_until([&] { return done_b == 1; });
    assert_int_equal(done_a, 1);
}

void test_loop_not_blocked(void **)
{
    Loop loop;
    work::WorkerPool pool(loop.ctx, 1);
    std::atomic<bool> release{false};
    bool done = false;
    pool.submit([&] {
        while (!release.load()) std::this_thread::yield();
    }, [&] { done = true; });
    // The loop keeps dispatching while the job runs.
    bool ticked = false;
    GSource *idle = g_idle_source_new();
    g_source_set_callback(idle, [](gpointer p) -> gboolean { *static_cast<bool *>(p) = true; return G_SOURCE_REMOVE; },
                          &ticked, nullptr);
    g_source_attach(idle, loop.ctx);
    g_source_unref(idle);
    loop.run_until([&] { return ticked; });
    assert_false(done);
    release = true;
    loop.run_until([&] { return done; });
}

void test_destroy_with_pending(void **)
{
    Loop loop;
    auto state = std::make_shared<int>(7);
    std::weak_ptr<int> watch = state;
    bool ran_done = false;
    {
        work::WorkerPool pool(loop.ctx, 1);
        for (int i = 0; i < 20; i++) {
            pool.submit([state] { std::this_thread::yield(); }, [state, &ran_done] { ran_done = true; });
        }
        state.reset();
    }
    // Completions were never delivered, and their captures are gone.
    assert_false(ran_done);
    assert_true(watch.expired());
    // Nothing is left attached to the context.
    assert_false(g_main_context_iteration(loop.ctx, FALSE));
}

// parallel_for from a job: every index runs once, on the job's thread and
// the other worker at the same time, each with its own slot.
void test_parallel_for_spreads(void **)
{
    Loop loop;
    work::WorkerPool pool(loop.ctx, 2);
    constexpr size_t kN = 64;
    std::vector<std::atomic<int>> hits(kN);
    std::atomic<int> inside{0}, most_inside{0};
    std::atomic<int> slot_busy[2] = {0, 0};
    std::atomic<bool> slot_clash{false};
    bool done = false;
    pool.submit(
        [&] {
            pool.parallel_for(kN, [&](size_t i, int slot) {
                assert_true(slot >= 0 && slot < pool.slots());
                if (slot_busy[slot]++ != 0) slot_clash = true;
                const int now = ++inside;
                int seen = most_inside.load();
                while (now > seen && !most_inside.compare_exchange_weak(seen, now)) {
                }
                if (i == 0) {
                    // Whoever runs index 0 waits for the other thread to run
                    // another index at the same time (10 s: a loaded machine).
                    const gint64 until = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
                    while (most_inside.load() < 2 && g_get_monotonic_time() < until) std::this_thread::yield();
                }
                hits[i]++;
                inside--;
                slot_busy[slot]--;
            });
        },
        [&] { done = true; });
    loop.run_until([&] { return done; });
    for (size_t i = 0; i < kN; i++) assert_int_equal(hits[i].load(), 1);
    assert_false(slot_clash.load());
    assert_int_equal(most_inside.load(), 2);
}

// Every worker busy with another job: the caller runs all the indices
// itself instead of waiting for a helper that cannot start.
void test_parallel_for_workers_busy(void **)
{
    Loop loop;
    work::WorkerPool pool(loop.ctx, 2);
    std::atomic<bool> release{false}, blocker_running{false};
    int done = 0;
    pool.submit(
        [&] {
            blocker_running = true;
            while (!release.load()) std::this_thread::yield();
        },
        [&] { done++; });
    while (!blocker_running.load()) std::this_thread::yield();
    std::atomic<int> ran{0};
    pool.submit(
        [&] {
            pool.parallel_for(10, [&](size_t, int slot) {
                assert_int_equal(slot, 0);
                ran++;
            });
            release = true; // the blocker only ends after parallel_for did
        },
        [&] { done++; });
    loop.run_until([&] { return done == 2; });
    assert_int_equal(ran.load(), 10);
}

} // namespace

int main()
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_work_off_loop_done_on_loop),
        cmocka_unit_test(test_two_contexts),
        cmocka_unit_test(test_loop_not_blocked),
        cmocka_unit_test(test_destroy_with_pending),
        cmocka_unit_test(test_parallel_for_spreads),
        cmocka_unit_test(test_parallel_for_workers_busy),
    };
    return cmocka_run_group_tests_name("ui-vnc/worker-pool", tests, nullptr, nullptr);
}
