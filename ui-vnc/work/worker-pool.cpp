#include "worker-pool.hpp"

#include <algorithm>
#include <cstdint>
#include <memory>

#include <sys/eventfd.h>
#include <unistd.h>

namespace qvnc::work {

WorkerPool::WorkerPool(GMainContext *ctx, int threads) : ctx_(ctx), nthreads_(std::max(1, threads)) {}

WorkerPool::~WorkerPool()
{
    {
        std::lock_guard<std::mutex> lock(mu_);
        stop_ = true;
    }
    cv_.notify_all();
    for (std::thread &t : threads_) {
        t.join();
    }
    watch_.reset();
}

int WorkerPool::default_threads()
{
    const unsigned n = std::thread::hardware_concurrency();
    return static_cast<int>(std::clamp(n, 1u, 4u));
}

bool WorkerPool::start()
{
    wake_.reset(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (!wake_.valid()) {
        return false;
    }
    watch_ = io::add_fd_watch(ctx_, wake_.get(), G_IO_IN, [this](GIOCondition) {
        deliver();
        return true;
    });
    for (int i = 0; i < nthreads_; i++) {
        threads_.emplace_back([this] { run(); });
    }
    return true;
}

void WorkerPool::submit(Fn work, Fn done)
{
    if (threads_.empty() && !start()) {
        // No eventfd: run inline rather than lose the job.
        work();
        done();
        return;
    }
    {
        std::lock_guard<std::mutex> lock(mu_);
        queue_.push_back(Job{std::move(work), std::move(done)});
    }
    cv_.notify_one();
}

namespace {

// One parallel_for call, shared with its helpers: a helper queued behind
// other jobs may start after the call returned, then finds no index left
// and touches nothing but this.
struct ParallelRun {
    size_t n = 0;
    const WorkerPool::IndexFn *fn = nullptr; // valid while indices remain
    std::atomic<size_t> next{0};
    std::mutex mu;
    std::condition_variable cv;
    size_t finished = 0; // (mu)

    void drain(int slot)
    {
        size_t done = 0;
        for (;;) {
            const size_t i = next.fetch_add(1, std::memory_order_relaxed);
            if (i >= n) {
                break;
            }
            (*fn)(i, slot);
            done++;
        }
        if (done > 0) {
            std::lock_guard<std::mutex> lock(mu);
            finished += done;
            if (finished == n) {
                cv.notify_all();
            }
        }
    }
};

} // namespace

void WorkerPool::parallel_for(size_t n, const IndexFn &fn)
{
    if (n == 0) {
        return;
    }
    // The loop thread may split work before any job was submitted (a big
    // Raw update, the damage compare): the workers start here then.
    if (threads_.empty() && nthreads_ > 1 && n > 1) {
        start();
    }
    const size_t helpers = threads_.empty() ? 0 : std::min<size_t>(n - 1, static_cast<size_t>(nthreads_ - 1));
    if (helpers == 0) {
        for (size_t i = 0; i < n; i++) {
            fn(i, 0);
        }
        return;
    }
    auto run = std::make_shared<ParallelRun>();
    run->n = n;
    run->fn = &fn;
    {
        std::lock_guard<std::mutex> lock(mu_);
        // Ahead of other jobs: this one is already running and holds its
        // connection's update until all its chunks are done.
        for (size_t h = helpers; h > 0; h--) {
            const int slot = static_cast<int>(h);
            queue_.push_front(Job{[run, slot] { run->drain(slot); }, nullptr});
        }
    }
    if (helpers == 1) {
        cv_.notify_one();
    } else {
        cv_.notify_all();
    }
    run->drain(0);
    // Only indices some helper took and is still running are left.
    std::unique_lock<std::mutex> lock(run->mu);
    run->cv.wait(lock, [&] { return run->finished == n; });
}

void WorkerPool::run()
{
    for (;;) {
        Job job;
        {
            std::unique_lock<std::mutex> lock(mu_);
            cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
            if (stop_) {
                return;
            }
            job = std::move(queue_.front());
            queue_.pop_front();
        }
        job.work();
        job.work = nullptr; // free what it captured here, not on the loop
        if (!job.done) {
            continue; // a parallel_for helper: the caller waits for it
        }
        bool first;
        {
            std::lock_guard<std::mutex> lock(mu_);
            first = finished_.empty();
            finished_.push_back(std::move(job.done));
        }
        if (first) {
            const uint64_t one = 1;
            // Cannot fail short of a bug: the counter never nears overflow
            // because deliver() drains it.
            (void)!write(wake_.get(), &one, sizeof one);
        }
    }
}

void WorkerPool::deliver()
{
    uint64_t n;
    (void)!read(wake_.get(), &n, sizeof n);
    {
        std::lock_guard<std::mutex> lock(mu_);
        delivering_.swap(finished_);
    }
    // A completion may submit new jobs (they finish into finished_), or
    // even run the loop's other sources, but never deliver() itself: the
    // eventfd source is not re-entered while it dispatches.
    for (Fn &f : delivering_) {
        f();
    }
    delivering_.clear();
}

} // namespace qvnc::work
