#include "hmp-args.hpp"

#include <cerrno>
#include <cstdlib>

#include "error.hpp"

namespace qvnc::monitor {

namespace {

constexpr std::size_t kStrMax = 1023; // QEMU's char buf[1024]

void skip_spaces(std::string_view &p)
{
    while (!p.empty() && hmp_isspace(p.front())) {
        p.remove_prefix(1);
    }
}

// QEMU's get_expr(): a small recursive-descent evaluator over int64 with
// wrap-around arithmetic.  Errors are reported through `error`.
class ExprParser {
public:
    explicit ExprParser(std::string_view p) : p_(p) {}

    bool parse(int64_t &value, std::string &error)
    {
        skip_spaces(p_);
        value = sum();
        if (failed_) {
            error = error_;
            return false;
        }
        return true;
    }
    std::string_view rest() const { return p_; }

private:
    char peek() const { return p_.empty() ? '\0' : p_.front(); }
    // Consumes one character, then the spaces after it (QEMU's next()).
    void next()
    {
        if (!p_.empty()) {
            p_.remove_prefix(1);
            skip_spaces(p_);
        }
    }
    int64_t fail(std::string msg)
    {
        if (!failed_) {
            failed_ = true;
            error_ = std::move(msg);
        }
        p_ = {};
        return 0;
    }

    static int64_t wrap(uint64_t v) { return static_cast<int64_t>(v); }

    int64_t unary()
    {
        if (failed_) {
            return 0;
        }
        switch (peek()) {
        case '+':
            next();
            return unary();
        case '-':
            next();
            return wrap(0 - static_cast<uint64_t>(unary()));
        case '~':
            next();
            return ~unary();
        case '(': {
            next();
            int64_t n = sum();
            if (peek() != ')') {
                return fail("')' expected");
            }
            next();
            return n;
        }
        case '\'': {
            p_.remove_prefix(1);
            if (p_.empty()) {
                return fail("character constant expected");
            }
            int64_t n = static_cast<signed char>(p_.front());
            p_.remove_prefix(1);
            if (peek() != '\'') {
                return fail("missing terminating ' character");
            }
            next();
            return n;
        }
        case '$':
            return fail("unknown register");
        case '\0':
            return fail("unexpected end of expression");
        default: {
            std::string text(p_);
            char *end = nullptr;
            errno = 0;
            unsigned long long v = std::strtoull(text.c_str(), &end, 0);
            if (errno == ERANGE) {
                return fail("number too large");
            }
            if (end == text.c_str()) {
                return fail(strprintf("invalid char '%c' in expression", text[0]));
            }
            p_.remove_prefix(static_cast<std::size_t>(end - text.c_str()));
            skip_spaces(p_);
            return wrap(v);
        }
        }
    }

    int64_t prod()
    {
        int64_t val = unary();
        while (!failed_) {
            char op = peek();
            if (op != '*' && op != '/' && op != '%') {
                break;
            }
            next();
            int64_t val2 = unary();
            if (op == '*') {
                val = wrap(static_cast<uint64_t>(val) * static_cast<uint64_t>(val2));
            } else if (val2 == 0) {
                return fail("division by zero");
            } else if (val2 == -1) { // INT64_MIN / -1 would trap
                val = op == '/' ? wrap(0 - static_cast<uint64_t>(val)) : 0;
            } else {
                val = op == '/' ? val / val2 : val % val2;
            }
        }
        return val;
    }

    int64_t logic()
    {
        int64_t val = prod();
        while (!failed_) {
            char op = peek();
            if (op != '&' && op != '|' && op != '^') {
                break;
            }
            next();
            int64_t val2 = prod();
            val = op == '&' ? (val & val2) : op == '|' ? (val | val2) : (val ^ val2);
        }
        return val;
    }

    int64_t sum()
    {
        int64_t val = logic();
        while (!failed_) {
            char op = peek();
            if (op != '+' && op != '-') {
                break;
            }
            next();
            uint64_t val2 = static_cast<uint64_t>(logic());
            val = wrap(op == '+' ? static_cast<uint64_t>(val) + val2 : static_cast<uint64_t>(val) - val2);
        }
        return val;
    }

    std::string_view p_;
    bool failed_ = false;
    std::string error_;
};

// One "KEY:TYPE" item of args_type.
struct ArgSpec {
    std::string key;
    std::string_view type; // the rest of args_type after the ':'
};

bool next_spec(std::string_view &types, ArgSpec &spec)
{
    if (!types.empty() && types.front() == ',') {
        types.remove_prefix(1);
    }
    auto colon = types.find(':');
    if (colon == std::string_view::npos) {
        return false;
    }
    spec.key = std::string(types.substr(0, colon));
    types.remove_prefix(colon + 1);
    return true;
}

} // namespace

bool hmp_isspace(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

const std::string *HmpArgs::str(std::string_view key) const
{
    auto it = values_.find(key);
    return it == values_.end() ? nullptr : std::get_if<std::string>(&it->second);
}

std::optional<int64_t> HmpArgs::integer(std::string_view key) const
{
    auto it = values_.find(key);
    if (it == values_.end() || !std::holds_alternative<int64_t>(it->second)) {
        return std::nullopt;
    }
    return std::get<int64_t>(it->second);
}

bool HmpArgs::flag(std::string_view key) const
{
    auto it = values_.find(key);
    return it != values_.end() && std::holds_alternative<bool>(it->second) &&
           std::get<bool>(it->second);
}

bool hmp_get_str(std::string_view &p, std::string &value)
{
    value.clear();
    skip_spaces(p);
    if (p.empty()) {
        return false;
    }
    auto keep = [&](char c) {
        if (value.size() < kStrMax) {
            value += c;
        }
    };
    if (p.front() == '"') {
        p.remove_prefix(1);
        while (!p.empty() && p.front() != '"') {
            if (p.front() == '\\') {
                p.remove_prefix(1);
                char c = p.empty() ? '\0' : p.front();
                if (!p.empty()) {
                    p.remove_prefix(1);
                }
                switch (c) {
                case 'n': c = '\n'; break;
                case 'r': c = '\r'; break;
                case '\\':
                case '\'':
                case '"': break;
                default: return false; // "unsupported escape code" (QEMU prints it to stdout)
                }
                keep(c);
            } else {
                keep(p.front());
                p.remove_prefix(1);
            }
        }
        if (p.empty()) {
            return false; // "unterminated string"
        }
        p.remove_prefix(1);
        return true;
    }
    while (!p.empty() && !hmp_isspace(p.front())) {
        keep(p.front());
        p.remove_prefix(1);
    }
    return true;
}

std::optional<HmpArgs> parse_hmp_args(std::string_view cmd_name, std::string_view args_type,
                                      std::string_view text, std::string &out)
{
    const std::string name(cmd_name);
    HmpArgs args;
    std::string_view p = text;
    std::string_view types = args_type;
    ArgSpec spec;
    while (next_spec(types, spec)) {
        char c = types.empty() ? '\0' : types.front();
        if (!types.empty()) {
            types.remove_prefix(1);
        }
        auto optional_here = [&]() {
            if (!types.empty() && types.front() == '?') {
                types.remove_prefix(1);
                return true;
            }
            return false;
        };
        switch (c) {
        case 's':
        case 'F':
        case 'B': {
            skip_spaces(p);
            if (optional_here() && p.empty()) {
                break;
            }
            std::string value;
            if (!hmp_get_str(p, value)) {
                out += strprintf(c == 'F'   ? "%s: filename expected\n"
                                 : c == 'B' ? "%s: block device name expected\n"
                                            : "%s: string expected\n",
                                 name.c_str());
                return std::nullopt;
            }
            args.set(spec.key, std::move(value));
            break;
        }
        case 'S': {
            skip_spaces(p);
            if (optional_here() && p.empty()) {
                break;
            }
            if (p.empty()) {
                out += strprintf("%s: string expected\n", name.c_str());
                return std::nullopt;
            }
            args.set(spec.key, std::string(p));
            p = {};
            break;
        }
        case 'i':
        case 'l': {
            skip_spaces(p);
            if (optional_here() && p.empty()) {
                break;
            }
            ExprParser expr(p);
            int64_t val = 0;
            std::string error;
            if (!expr.parse(val, error)) {
                out += error + "\n";
                return std::nullopt;
            }
            p = expr.rest();
            if (c == 'i' && ((static_cast<uint64_t>(val) >> 32) & 0xffffffffu)) {
                out += strprintf("'%s' has failed: integer is for 32-bit values\n", name.c_str());
                return std::nullopt;
            }
            args.set(spec.key, val);
            break;
        }
        case 'b': {
            skip_spaces(p);
            std::size_t n = 0;
            while (n < p.size() && p[n] > ' ' && p[n] < 0x7f) {
                ++n;
            }
            std::string_view word = p.substr(0, n);
            p.remove_prefix(n);
            if (word != "on" && word != "off") {
                out += "Expected 'on' or 'off'\n";
                return std::nullopt;
            }
            args.set(spec.key, word == "on");
            break;
        }
        case '-': {
            char letter = types.empty() ? '\0' : types.front();
            if (letter == '\0') {
                out += strprintf("%s: unknown type '%c'\n", name.c_str(), c);
                return std::nullopt;
            }
            types.remove_prefix(1);
            bool with_value = !types.empty() && types.front() == 's';
            std::string_view saved = p;
            skip_spaces(p);
            if (!p.empty() && p.front() == '-') {
                std::string_view opt = p.substr(1);
                char given = opt.empty() ? '\0' : opt.front();
                if (given != letter) {
                    // Another option of this command: this one is absent.
                    std::string flag = std::string("-") + given;
                    if (given == '\0' || types.find(flag) == std::string_view::npos) {
                        out += strprintf("%s: unsupported option -%c\n", name.c_str(), given);
                        return std::nullopt;
                    }
                    p = saved;
                    if (with_value) {
                        types.remove_prefix(1);
                    }
                    break;
                }
                p = opt.substr(1);
                if (with_value) {
                    types.remove_prefix(1);
                    std::string value;
                    if (!hmp_get_str(p, value)) {
                        out += strprintf("%s: value expected for -%c\n", name.c_str(), letter);
                        return std::nullopt;
                    }
                    args.set(spec.key, std::move(value));
                } else {
                    args.set(spec.key, true);
                }
            } else if (with_value) {
                types.remove_prefix(1);
            }
            break;
        }
        default:
            out += strprintf("%s: unknown type '%c'\n", name.c_str(), c);
            return std::nullopt;
        }
    }
    skip_spaces(p);
    if (!p.empty()) {
        out += strprintf("%s: extraneous characters at the end of line\n", name.c_str());
        return std::nullopt;
    }
    return args;
}

} // namespace qvnc::monitor
