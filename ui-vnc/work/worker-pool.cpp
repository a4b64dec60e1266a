#include "worker-pool.hpp"

#include <algorithm>
#include <cstdint>

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
    std::deque<Fn> batch;
    {
        std::lock_guard<std::mutex> lock(mu_);
        batch.swap(finished_);
    }
    for (Fn &f : batch) {
        f();
    }
}

} // namespace qvnc::work
