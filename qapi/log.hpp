// Logging routed to the host's handler (qvnc_context_set_log_handler).
// Secrets are never logged.
#pragma once

#include <string>

#include "qvnc-error.h"

namespace qvnc {

class Logger {
public:
    void set_handler(qvnc_log_fn fn, void *opaque)
    {
        fn_ = fn;
        opaque_ = opaque;
    }
    void log(qvnc_log_level level, const char *domain, const char *fmt, ...) const
        __attribute__((format(printf, 4, 5)));
    void error(const char *domain, const std::string &msg) const { emit(QVNC_LOG_ERROR, domain, msg); }
    void warn(const char *domain, const std::string &msg) const { emit(QVNC_LOG_WARNING, domain, msg); }
    void info(const char *domain, const std::string &msg) const { emit(QVNC_LOG_INFO, domain, msg); }
    void debug(const char *domain, const std::string &msg) const { emit(QVNC_LOG_DEBUG, domain, msg); }
    void emit(qvnc_log_level level, const char *domain, const std::string &msg) const;

private:
    qvnc_log_fn fn_ = nullptr;
    void *opaque_ = nullptr;
};

// For code that has no context at hand (C trampolines catching an exception).
void log_uncaught(const char *where);

} // namespace qvnc
