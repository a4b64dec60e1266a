// A small pool of threads for work that must not run on the event loop
// (encoding updates).  One pool per display, so two contexts in one process
// never share threads or state.
//
// A job is two functions: `work` runs on a worker thread and must touch only
// what it owns (captured by value or moved in); `done` then runs on the
// display's GMainContext, woken through an eventfd, and may touch anything
// the loop owns.  The loop never waits on a worker.  Destroying the pool
// waits for running jobs and drops the `done` of those that finished but
// were not delivered yet (their captured state is freed).
#pragma once

#include <glib.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "source-handle.hpp"
#include "unique-fd.hpp"

namespace qvnc::work {

class WorkerPool {
public:
    using Fn = std::function<void()>;

    // `threads` workers are started on the first submit() or parallel_for().
    WorkerPool(GMainContext *ctx, int threads);
    ~WorkerPool();
    WorkerPool(const WorkerPool &) = delete;
    WorkerPool &operator=(const WorkerPool &) = delete;

    void submit(Fn work, Fn done);

    // Runs fn(i, slot) for every i in [0, n) on the calling thread and on
    // idle workers of this pool, and returns when every call has returned.
    // `slot` (0 for the caller, < slots()) is never shared by two calls
    // running at once, so fn can index per-thread scratch with it.  Meant
    // for a job that splits its work (one big update's chunks): the caller
    // takes whatever no worker took, so it never waits on a queued helper
    // and cannot deadlock even when every worker is busy with other jobs.
    using IndexFn = std::function<void(size_t i, int slot)>;
    void parallel_for(size_t n, const IndexFn &fn);
    int slots() const { return nthreads_; }

    // Workers for this machine: one per core, at most 4 (encoders are the
    // only users and one client has one job in flight at a time).
    static int default_threads();

private:
    struct Job {
        Fn work;
        Fn done; // empty for parallel_for helpers
    };
    bool start();
    void run();
    void deliver();

    GMainContext *ctx_;
    int nthreads_;
    std::mutex mu_;
    std::condition_variable cv_;
    std::deque<Job> queue_;    // waiting for a worker (mu_)
    // `done` of finished jobs (mu_), and the batch deliver() runs: the two
    // swap, so both keep their capacity and delivering allocates nothing.
    std::vector<Fn> finished_;
    std::vector<Fn> delivering_; // loop thread only
    bool stop_ = false;        // (mu_)
    std::vector<std::thread> threads_;
    io::UniqueFd wake_;        // eventfd: finished_ became non-empty
    io::SourceHandle watch_;
};

} // namespace qvnc::work
