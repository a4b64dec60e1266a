#include "source-handle.hpp"

#include <glib-unix.h>

#include "log.hpp"

namespace qvnc::io {

namespace {

// Every trampoline swallows exceptions: none may unwind through glib.
gboolean call_source_fn(gpointer data)
{
    auto *fn = static_cast<SourceFn *>(data);
    try {
        return (*fn)() ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
    } catch (...) {
        log_uncaught("glib source callback");
        return G_SOURCE_REMOVE;
    }
}

gboolean call_fd_fn(gint /*fd*/, GIOCondition cond, gpointer data)
{
    auto *fn = static_cast<FdSourceFn *>(data);
    try {
        return (*fn)(cond) ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
    } catch (...) {
        log_uncaught("fd watch callback");
        return G_SOURCE_REMOVE;
    }
}

// glib owns the callback object from g_source_set_callback on; hand it back
// to a unique_ptr when glib releases it.
template <class Fn> void destroy_fn(gpointer data) { std::unique_ptr<Fn> owned(static_cast<Fn *>(data)); }

SourceHandle attach(GMainContext *ctx, GSource *s)
{
    g_source_attach(s, ctx);
    return SourceHandle(s);
}

} // namespace

SourceHandle add_timeout(GMainContext *ctx, unsigned ms, SourceFn fn)
{
    GSource *s = g_timeout_source_new(ms);
    auto holder = std::make_unique<SourceFn>(std::move(fn));
    g_source_set_callback(s, call_source_fn, holder.release(), destroy_fn<SourceFn>);
    return attach(ctx, s);
}

SourceHandle add_idle(GMainContext *ctx, SourceFn fn, int priority)
{
    GSource *s = g_idle_source_new();
    g_source_set_priority(s, priority);
    auto holder = std::make_unique<SourceFn>(std::move(fn));
    g_source_set_callback(s, call_source_fn, holder.release(), destroy_fn<SourceFn>);
    return attach(ctx, s);
}

SourceHandle add_fd_watch(GMainContext *ctx, int fd, GIOCondition cond, FdSourceFn fn)
{
    GSource *s = g_unix_fd_source_new(fd, cond);
    auto holder = std::make_unique<FdSourceFn>(std::move(fn));
    g_source_set_callback(s, reinterpret_cast<GSourceFunc>(reinterpret_cast<void (*)()>(call_fd_fn)),
                          holder.release(), destroy_fn<FdSourceFn>);
    return attach(ctx, s);
}

} // namespace qvnc::io
