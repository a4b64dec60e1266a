// The C ABI's handle structs, shared by the translation units that define
// extern "C" entry points (ui-vnc/capi.cpp, monitor/capi-monitor.cpp).
// Internal: never installed, never included by a public header.
#pragma once

#include <string>

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
