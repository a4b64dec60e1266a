#include "error.hpp"

#include <cstdio>
#include <vector>

namespace qvnc {

std::string vstrprintf(const char *fmt, va_list ap)
{
    va_list copy;
    va_copy(copy, ap);
    int n = std::vsnprintf(nullptr, 0, fmt, copy);
    va_end(copy);
    if (n <= 0) {
        return {};
    }
    std::string out(static_cast<size_t>(n), '\0');
    std::vsnprintf(out.data(), out.size() + 1, fmt, ap);
    return out;
}

std::string strprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    std::string s = vstrprintf(fmt, ap);
    va_end(ap);
    return s;
}

Error make_error(ErrorCode code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    Error e{code, vstrprintf(fmt, ap)};
    va_end(ap);
    return e;
}

} // namespace qvnc
