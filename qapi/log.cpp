#include "log.hpp"

#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <exception>

#include <glib.h>

#include "error.hpp"

namespace qvnc {

void Logger::log(qvnc_log_level level, const char *domain, const char *fmt, ...) const
{
    va_list ap;
    va_start(ap, fmt);
    std::string msg = vstrprintf(fmt, ap);
    va_end(ap);
    emit(level, domain, msg);
}

void Logger::emit(qvnc_log_level level, const char *domain, const std::string &msg) const
{
    if (fn_) {
        fn_(opaque_, level, domain, msg.c_str());
        return;
    }
    // Default: like QEMU, warnings and errors on stderr; QVNC_DEBUG shows all.
    static const char *const names[] = {"error", "warning", "info", "debug"};
    bool verbose = std::getenv("QVNC_DEBUG") != nullptr;
    if (level <= QVNC_LOG_WARNING || verbose) {
        std::fprintf(stderr, "qvnc: %s: %s: %s\n", names[level], domain, msg.c_str());
    }
}

void log_uncaught(const char *where)
{
    try {
        throw;
    } catch (const std::exception &e) {
        g_critical("qvnc: exception in %s: %s", where, e.what());
    } catch (...) {
        g_critical("qvnc: unknown exception in %s", where);
    }
}

} // namespace qvnc
