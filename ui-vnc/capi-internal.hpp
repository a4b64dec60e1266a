// The C ABI's handle structs, shared by the translation units that define
// extern "C" entry points (ui-vnc/capi.cpp, monitor/capi-monitor.cpp).
// Internal: never installed, never included by a public header.
#pragma once

#include <memory>
#include <new>
#include <string>
#include <utility>

#include "context.hpp"
#include "qvnc-error.h"

struct qvnc_error {
    qvnc_error_code code;
    std::string message;
};

struct qvnc_context {
    explicit qvnc_context(GMainContext *mc) : impl(mc) {}
    qvnc::Context impl;
};

// The error plumbing every entry point shares: C++ exceptions and Status
// errors become a qvnc_error here and nowhere else, so none crosses the ABI.
namespace qvnc::capi {

inline void set_error(qvnc_error **err, qvnc_error_code code, std::string msg)
{
    if (err && !*err) {
        try {
            *err = std::make_unique<qvnc_error>(qvnc_error{code, std::move(msg)}).release();
        } catch (...) {
            // Out of memory while reporting: the failed return value remains.
        }
    }
}

inline void set_error(qvnc_error **err, const Error &e)
{
    set_error(err, static_cast<qvnc_error_code>(e.code), e.message);
}

// Runs fn; an exception becomes *err and the `failed` return value.
template <class Ret, class Fn> Ret guard(qvnc_error **err, Ret failed, Fn &&fn) noexcept
{
    try {
        return fn();
    } catch (const std::bad_alloc &) {
        set_error(err, QVNC_ERR_NOMEM, "out of memory");
    } catch (const std::exception &e) {
        set_error(err, QVNC_ERR_INTERNAL, std::string("internal error: ") + e.what());
    } catch (...) {
        set_error(err, QVNC_ERR_INTERNAL, "internal error");
    }
    return failed;
}

// For entry points without an error out-parameter: the exception is logged.
template <class Fn> void guard_void(const char *what, Fn &&fn) noexcept
{
    try {
        fn();
    } catch (...) {
        log_uncaught(what);
    }
}

inline bool check(qvnc_error **err, const Status &st)
{
    if (!st) {
        set_error(err, st.error());
        return false;
    }
    return true;
}

} // namespace qvnc::capi
