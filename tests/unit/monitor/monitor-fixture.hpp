// A context on a private GMainContext, a monitor with recorded host
// callbacks and events, and a scratch directory; owned by cmocka's
// setup/teardown so a failed assertion (a longjmp) leaks nothing.
#pragma once

#include <glib.h>
#include <glib/gstdio.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "capi-internal.hpp"
#include "qvnc.h"

struct MonitorFixture {
    GMainContext *main = nullptr;
    qvnc_context *ctx = nullptr;
    qvnc_monitor *mon = nullptr;
    std::string dir;
    std::vector<std::string> events;
    std::vector<bool> run_changes;
    int quits = 0;

    qvnc::Context &context() { return ctx->impl; }

    qvnc_display *open(const std::string &opts)
    {
        qvnc_error *err = nullptr;
        qvnc_display *d = qvnc_display_open(ctx, opts.c_str(), nullptr, nullptr, &err);
        if (!d) {
            fprintf(stderr, "qvnc_display_open(%s): %s\n", opts.c_str(), qvnc_error_get_message(err));
            qvnc_error_free(err);
        }
        return d;
    }

    std::string hmp(const std::string &line)
    {
        char *out = qvnc_monitor_hmp(mon, line.c_str());
        std::string s = out ? out : "(null)";
        qvnc_free(out);
        return s;
    }

    std::string qmp(const std::string &json)
    {
        char *out = qvnc_monitor_qmp(mon, json.c_str());
        std::string s = out ? out : "(null)";
        qvnc_free(out);
        return s;
    }

    // Runs the loop until `done()` or `ms` milliseconds passed.
    template <class Pred> bool pump(Pred done, int ms = 3000)
    {
        gint64 end = g_get_monotonic_time() + ms * 1000LL;
        while (!done()) {
            if (g_get_monotonic_time() > end) {
                return false;
            }
            if (!g_main_context_iteration(main, FALSE)) {
                g_usleep(1000);
            }
        }
        return true;
    }
    void pump_for(int ms)
    {
        pump([] { return false; }, ms);
    }
};

inline int monitor_fixture_setup(void **state)
{
    auto *f = new MonitorFixture;
    f->main = g_main_context_new();
    f->ctx = qvnc_context_new(f->main, nullptr);
    static const qvnc_monitor_ops ops = {
        sizeof(qvnc_monitor_ops),
        [](void *o, bool running) { static_cast<MonitorFixture *>(o)->run_changes.push_back(running); },
        [](void *o) { static_cast<MonitorFixture *>(o)->quits++; },
    };
    f->mon = qvnc_monitor_new(f->ctx, &ops, f, nullptr);
    qvnc_monitor_set_event_handler(
        f->mon, [](void *o, const char *ev) { static_cast<MonitorFixture *>(o)->events.push_back(ev); },
        f);
    char *d = g_dir_make_tmp("qvnc-monitor-XXXXXX", nullptr);
    f->dir = d;
    g_free(d);
    *state = f;
    return 0;
}

inline int monitor_fixture_teardown(void **state)
{
    auto *f = static_cast<MonitorFixture *>(*state);
    qvnc_monitor_free(f->mon);
    qvnc_context_free(f->ctx);
    while (g_main_context_iteration(f->main, FALSE)) {
    }
    g_main_context_unref(f->main);
    if (GDir *d = g_dir_open(f->dir.c_str(), 0, nullptr)) {
        while (const char *n = g_dir_read_name(d)) {
            g_unlink((f->dir + "/" + n).c_str());
        }
        g_dir_close(d);
    }
    g_rmdir(f->dir.c_str());
    delete f;
    return 0;
}
