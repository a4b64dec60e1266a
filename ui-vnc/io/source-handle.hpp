// RAII for GSource: destroying the handle destroys and unrefs the source, so
// a callback can never run after the object that registered it is gone
// (which is what QEMU's VNC_MAGIC checks try to catch after the fact).
#pragma once

#include <glib.h>

#include <functional>
#include <memory>
#include <utility>

namespace qvnc::io {

class SourceHandle {
public:
    SourceHandle() = default;
    explicit SourceHandle(GSource *s) : src_(s) {}
    SourceHandle(SourceHandle &&o) noexcept : src_(std::exchange(o.src_, nullptr)) {}
    SourceHandle &operator=(SourceHandle &&o) noexcept
    {
        if (this != &o) {
            reset(std::exchange(o.src_, nullptr));
        }
        return *this;
    }
    SourceHandle(const SourceHandle &) = delete;
    SourceHandle &operator=(const SourceHandle &) = delete;
    ~SourceHandle() { reset(); }

    explicit operator bool() const { return src_ != nullptr; }
    GSource *get() const { return src_; }
    void reset(GSource *s = nullptr)
    {
        if (src_) {
            g_source_destroy(src_);
            g_source_unref(src_);
        }
        src_ = s;
    }

private:
    GSource *src_ = nullptr;
};

// Callbacks are std::function held by the source itself (freed with it).
// Return true to keep the source, false to remove it.
using SourceFn = std::function<bool()>;
using FdSourceFn = std::function<bool(GIOCondition)>;

// A timer (milliseconds) attached to `ctx`.
SourceHandle add_timeout(GMainContext *ctx, unsigned ms, SourceFn fn);
// An idle callback attached to `ctx`.
SourceHandle add_idle(GMainContext *ctx, SourceFn fn, int priority = G_PRIORITY_DEFAULT);
// Watches an fd for `cond` (G_IO_IN/G_IO_OUT...); the fd itself is not owned.
SourceHandle add_fd_watch(GMainContext *ctx, int fd, GIOCondition cond, FdSourceFn fn);

} // namespace qvnc::io
