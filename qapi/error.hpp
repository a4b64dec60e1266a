// Internal error type and Result<T>: expected failures travel as values;
// exceptions are reserved for the truly exceptional and never cross the C ABI.
#pragma once

#include <cstdarg>
#include <string>
#include <utility>
#include <variant>

namespace qvnc {

enum class ErrorCode {
    InvalidArg = 1,
    Opts = 2,
    Io = 3,
    Tls = 4,
    Sasl = 5,
    NotFound = 6,
    State = 7,
    NoMem = 8,
    Internal = 9,
    Unsupported = 10,
};

struct Error {
    ErrorCode code = ErrorCode::Internal;
    std::string message; // user-facing, QEMU's wording where QEMU has one
};

// printf-style formatting (GCC 12 has no <format>).
[[nodiscard]] std::string strprintf(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
[[nodiscard]] std::string vstrprintf(const char *fmt, va_list ap);

[[nodiscard]] Error make_error(ErrorCode code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

template <class T> class [[nodiscard]] Result {
public:
    Result(T value) : v_(std::move(value)) {}
    Result(Error err) : v_(std::move(err)) {}

    bool ok() const { return v_.index() == 0; }
    explicit operator bool() const { return ok(); }

    T &value() & { return std::get<0>(v_); }
    const T &value() const & { return std::get<0>(v_); }
    T &&value() && { return std::get<0>(std::move(v_)); }
    T *operator->() { return &value(); }
    const T *operator->() const { return &value(); }
    T &operator*() { return value(); }

    const Error &error() const { return std::get<1>(v_); }
    Error take_error() { return std::get<1>(std::move(v_)); }

private:
    std::variant<T, Error> v_;
};

struct Ok {};
using Status = Result<Ok>;
inline Status ok_status() { return Ok{}; }

} // namespace qvnc
