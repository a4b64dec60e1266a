// The monitor's extern "C" entry points.  As in ui-vnc/capi.cpp, every
// body runs inside a guard that turns C++ exceptions into a qvnc_error (or
// a log line), so none crosses the ABI; strings handed to the caller come
// from g_malloc, for qvnc_free().
#include <glib.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <new>

#include "capi-internal.hpp"
#include "monitor.hpp"
#include "qvnc-monitor.h"

struct qvnc_monitor {
    qvnc_monitor(qvnc::Context &ctx, qvnc::monitor::Monitor::HostOps ops) : impl(ctx, std::move(ops)) {}
    qvnc::monitor::Monitor impl;
};

namespace {

using qvnc::capi::check;
using qvnc::capi::guard;
using qvnc::capi::set_error;

char *dup_string(const std::string &s)
{
    auto *out = static_cast<char *>(g_malloc(s.size() + 1));
    std::memcpy(out, s.c_str(), s.size() + 1);
    return out;
}

} // namespace

extern "C" {

QVNC_API qvnc_monitor *qvnc_monitor_new(qvnc_context *ctx, const qvnc_monitor_ops *ops,
                                        void *opaque, qvnc_error **err)
{
    return guard(err, static_cast<qvnc_monitor *>(nullptr), [&]() -> qvnc_monitor * {
        if (!ctx) {
            set_error(err, QVNC_ERR_INVALID_ARG, "missing context");
            return nullptr;
        }
        if (ops && ops->struct_size < sizeof(size_t)) {
            set_error(err, QVNC_ERR_INVALID_ARG, "qvnc_monitor_ops.struct_size is not set");
            return nullptr;
        }
        // Copy what the caller's struct has; later members stay unset.
        qvnc_monitor_ops copy{};
        if (ops) {
            std::memcpy(&copy, ops, std::min(ops->struct_size, sizeof(copy)));
        }
        qvnc::monitor::Monitor::HostOps host;
        if (copy.run_state_changed) {
            auto fn = copy.run_state_changed;
            host.run_state_changed = [fn, opaque](bool running) { fn(opaque, running); };
        }
        if (copy.quit) {
            auto fn = copy.quit;
            host.quit = [fn, opaque] { fn(opaque); };
        }
        return std::make_unique<qvnc_monitor>(ctx->impl, std::move(host)).release();
    });
}

QVNC_API void qvnc_monitor_free(qvnc_monitor *mon)
{
    try {
        std::unique_ptr<qvnc_monitor> owned(mon);
    } catch (...) {
        qvnc::log_uncaught("qvnc_monitor_free");
    }
}

QVNC_API void qvnc_monitor_set_run_state(qvnc_monitor *mon, qvnc_run_state state)
{
    if (!mon) {
        return;
    }
    try {
        using qvnc::monitor::RunState;
        mon->impl.set_run_state(state == QVNC_RUN_STATE_PAUSED      ? RunState::Paused
                                : state == QVNC_RUN_STATE_PRELAUNCH ? RunState::Prelaunch
                                                                    : RunState::Running);
    } catch (...) {
        qvnc::log_uncaught("qvnc_monitor_set_run_state");
    }
}

QVNC_API bool qvnc_monitor_is_running(const qvnc_monitor *mon) { return mon && mon->impl.running(); }

QVNC_API char *qvnc_monitor_hmp(qvnc_monitor *mon, const char *cmdline)
{
    return guard(nullptr, static_cast<char *>(nullptr), [&]() -> char * {
        if (!mon || !cmdline) {
            return nullptr;
        }
        return dup_string(mon->impl.run_hmp(cmdline));
    });
}

QVNC_API char *qvnc_monitor_qmp(qvnc_monitor *mon, const char *json)
{
    return guard(nullptr, static_cast<char *>(nullptr), [&]() -> char * {
        if (!mon || !json) {
            return nullptr;
        }
        return dup_string(mon->impl.run_qmp(json));
    });
}

QVNC_API void qvnc_monitor_set_event_handler(qvnc_monitor *mon,
                                             void (*fn)(void *opaque, const char *event_json),
                                             void *opaque)
{
    if (!mon) {
        return;
    }
    try {
        if (!fn) {
            mon->impl.set_event_handler(nullptr);
            return;
        }
        mon->impl.set_event_handler([fn, opaque](const std::string &json) {
            try {
                fn(opaque, json.c_str());
            } catch (...) {
                qvnc::log_uncaught("qvnc monitor event handler");
            }
        });
    } catch (...) {
        qvnc::log_uncaught("qvnc_monitor_set_event_handler");
    }
}

QVNC_API bool qvnc_monitor_add_chardev(qvnc_monitor *mon, const char *chardev_opts, qvnc_error **err)
{
    return guard(err, false, [&] {
        if (!mon || !chardev_opts) {
            set_error(err, QVNC_ERR_INVALID_ARG, "missing monitor or -chardev options");
            return false;
        }
        return check(err, mon->impl.add_chardev(chardev_opts));
    });
}

QVNC_API bool qvnc_monitor_add(qvnc_monitor *mon, const char *mon_opts, qvnc_error **err)
{
    return guard(err, false, [&] {
        if (!mon || !mon_opts) {
            set_error(err, QVNC_ERR_INVALID_ARG, "missing monitor or -mon options");
            return false;
        }
        return check(err, mon->impl.add_mon(mon_opts));
    });
}

QVNC_API bool qvnc_monitor_add_legacy(qvnc_monitor *mon, const char *spec, bool qmp, qvnc_error **err)
{
    return guard(err, false, [&] {
        if (!mon || !spec) {
            set_error(err, QVNC_ERR_INVALID_ARG, "missing monitor or monitor specification");
            return false;
        }
        return check(err, mon->impl.add_legacy(spec, qmp));
    });
}

QVNC_API bool qvnc_monitor_attach_fd(qvnc_monitor *mon, int fd, bool qmp, qvnc_error **err)
{
    qvnc::io::UniqueFd owned(fd); // ours even on failure, as documented
    return guard(err, false, [&] {
        if (!mon) {
            set_error(err, QVNC_ERR_INVALID_ARG, "missing monitor");
            return false;
        }
        return check(err, mon->impl.attach_fd(std::move(owned), qmp));
    });
}

} // extern "C"
