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

namespace {

// An fd watch that glib does not "block" around each dispatch.  For a source
// that may not recurse, glib removes its fd from the poll set before the
// callback and adds it back after, and each of those signals the context's
// wakeup eventfd: two writes, one more poll and a read for every client
// message or job completion (about half the syscalls of a small update).
// This source may recurse and blocks itself only when that really happens,
// i.e. when a callback of ours runs a main loop on this context (an
// emulator iterating it inside a key callback): the nested dispatch mutes
// the fd until the outer call returns, as glib's blocking would.
struct FdSource {
    GSource base; // first: glib allocates and frees the whole struct
    gpointer tag;
    GIOCondition cond;
    bool in_call;
    bool muted;
};

gboolean fd_source_dispatch(GSource *s, GSourceFunc callback, gpointer data)
{
    auto *fs = reinterpret_cast<FdSource *>(s);
    if (fs->in_call) {
        g_source_modify_unix_fd(s, fs->tag, static_cast<GIOCondition>(0));
        fs->muted = true;
        return G_SOURCE_CONTINUE;
    }
    (void)callback; // always call_fd_fn (add_fd_watch)
    const GIOCondition got = g_source_query_unix_fd(s, fs->tag);
    fs->in_call = true;
    const gboolean keep = call_fd_fn(-1, got, data);
    fs->in_call = false;
    if (fs->muted && !g_source_is_destroyed(s)) {
        g_source_modify_unix_fd(s, fs->tag, fs->cond);
        fs->muted = false;
    }
    return keep;
}

GSourceFuncs fd_source_funcs = {nullptr, nullptr, fd_source_dispatch, nullptr, nullptr, nullptr};

} // namespace

SourceHandle add_fd_watch(GMainContext *ctx, int fd, GIOCondition cond, FdSourceFn fn)
{
    GSource *s = g_source_new(&fd_source_funcs, sizeof(FdSource));
    auto *fs = reinterpret_cast<FdSource *>(s);
    fs->tag = g_source_add_unix_fd(s, fd, cond);
    fs->cond = cond;
    g_source_set_can_recurse(s, TRUE);
    g_source_set_name(s, "qvnc fd watch");
    auto holder = std::make_unique<FdSourceFn>(std::move(fn));
    g_source_set_callback(s, reinterpret_cast<GSourceFunc>(reinterpret_cast<void (*)()>(call_fd_fn)),
                          holder.release(), destroy_fn<FdSourceFn>);
    return attach(ctx, s);
}

} // namespace qvnc::io
