// HMP command-line parsing, as QEMU's monitor_parse_arguments() does it,
// driven by the args_type strings of hmp-commands.hx:
//
//   NAME:s   a word or a "double-quoted string" (\n \r \\ \' \" escapes);
//            at most 1023 bytes are kept, like QEMU's 1024-byte buffer
//   NAME:S   the rest of the line
//   NAME:F, NAME:B   like s (file name, block device)
//   NAME:i   an expression (+ - * / % & | ^ ~ ( ) 'c', strtoull numbers)
//            that must fit in 32 bits;  NAME:l  the same in 64 bits
//   NAME:b   on | off
//   NAME:-X  a flag -X;  NAME:-Xs  an option -X VALUE
//   a trailing '?' makes the argument optional (absent at end of line)
//
// Failures print QEMU's line ("acl_add: string expected", "'acl_add' has
// failed: integer is for 32-bit values", "invalid char 'x' in expression",
// "set_password: extraneous characters at the end of line", ...); the
// caller adds `Try "help CMD" for more information`.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace qvnc::monitor {

class HmpArgs {
public:
    using Value = std::variant<std::string, int64_t, bool>;

    void set(std::string key, Value v) { values_[std::move(key)] = std::move(v); }
    bool has(std::string_view key) const { return values_.find(key) != values_.end(); }
    // nullptr when absent (or not a string).
    const std::string *str(std::string_view key) const;
    std::optional<int64_t> integer(std::string_view key) const;
    bool flag(std::string_view key) const;

private:
    std::map<std::string, Value, std::less<>> values_;
};

// `out` receives the failure text (lines ending in '\n').
std::optional<HmpArgs> parse_hmp_args(std::string_view cmd_name, std::string_view args_type,
                                      std::string_view text, std::string &out);

// QEMU's get_str(): one word or quoted string from `p` (advanced past it).
// False at end of input or on a bad quoted string.
bool hmp_get_str(std::string_view &p, std::string &value);

bool hmp_isspace(char c);

} // namespace qvnc::monitor
