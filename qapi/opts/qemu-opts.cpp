#include "qemu-opts.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>

namespace qvnc::opts {

namespace {

Error opts_error(const std::string &message)
{
    return Error{ErrorCode::Opts, message};
}

// QERR_INVALID_PARAMETER_VALUE: "Parameter '%s' expects %s".
Error expects(std::string_view name, const char *what)
{
    return opts_error(strprintf("Parameter '%.*s' expects %s", static_cast<int>(name.size()),
                                name.data(), what));
}

// One item of the option string, before type checking.
struct Token {
    std::string name;
    std::string value;
    bool bare = false;          // written without '=' (and not the implied value)
    bool no_prefix = false;     // bare "noKEY" turned into KEY=off
};

// Reads a value up to the next single ',' (",," is a literal comma).
// Returns the position of that ',' or of the end.
size_t read_value(std::string_view s, size_t pos, std::string &out)
{
    while (pos < s.size()) {
        if (s[pos] == ',') {
            if (pos + 1 < s.size() && s[pos + 1] == ',') {
                out.push_back(',');
                pos += 2;
                continue;
            }
            break;
        }
        out.push_back(s[pos++]);
    }
    return pos;
}

// Splits off the item starting at `pos` and returns where the next begins.
// Mirrors QEMU's get_opt_name_value(): the key/flag decision looks at the
// first '=' or ',' of the raw text, so "unix:/a,,b=c" as the first item is
// the implied value "unix:/a,b=c", while "a=b" never is.  `strip_no`
// selects the QemuOpts short-form reading of bare items.
size_t next_token(std::string_view s, size_t pos, std::string_view implied_key, bool strip_no,
                  Token &tok)
{
    size_t len = s.substr(pos).find_first_of("=,");
    if (len == std::string_view::npos) {
        len = s.size() - pos;
    }
    size_t p;
    if (pos + len >= s.size() || s[pos + len] != '=') {
        if (!implied_key.empty()) {
            tok.name = std::string(implied_key);
            p = read_value(s, pos, tok.value);
        } else {
            tok.name = std::string(s.substr(pos, len));
            tok.bare = true;
            if (strip_no && tok.name.compare(0, 2, "no") == 0) {
                tok.name.erase(0, 2);
                tok.value = "off";
                tok.no_prefix = true;
            } else {
                tok.value = "on";
            }
            p = pos + len;
        }
    } else {
        tok.name = std::string(s.substr(pos, len));
        p = read_value(s, pos + len + 1, tok.value);
    }
    if (p < s.size() && s[p] == ',') {
        ++p;
    }
    return p;
}

// QEMU's opts_parse_id(): a separate scan without the implied key, so the
// first "id" item anywhere wins (even one hidden inside an escaped implied
// value -- a QEMU quirk kept for fidelity).
std::optional<std::string> scan_id(std::string_view s)
{
    for (size_t pos = 0; pos < s.size();) {
        Token tok;
        pos = next_token(s, pos, {}, true, tok);
        if (tok.name == "id") {
            return tok.value;
        }
    }
    return std::nullopt;
}

const OptDesc *find_desc(std::span<const OptDesc> desc, std::string_view name)
{
    for (const OptDesc &d : desc) {
        if (d.name == name) {
            return &d;
        }
    }
    return nullptr;
}

Status validate(Opt &opt, std::span<const OptDesc> desc, bool accept_any)
{
    const OptDesc *d = find_desc(desc, opt.name);
    if (d == nullptr) {
        if (!accept_any) {
            return opts_error(strprintf("Invalid parameter '%s'", opt.name.c_str()));
        }
        opt.type = OptType::String;
        return ok_status();
    }
    opt.type = d->type;
    switch (d->type) {
    case OptType::String:
        break;
    case OptType::Bool: {
        auto b = parse_bool(opt.name, opt.str);
        if (!b) {
            return b.take_error();
        }
        opt.boolean = *b;
        break;
    }
    case OptType::Number: {
        auto n = parse_number(opt.name, opt.str);
        if (!n) {
            return n.take_error();
        }
        opt.number = *n;
        break;
    }
    case OptType::Size: {
        auto n = parse_size(opt.name, opt.str);
        if (!n) {
            return n.take_error();
        }
        opt.number = *n;
        break;
    }
    }
    return ok_status();
}

int suffix_multiplier_shift(char c)
{
    switch (std::toupper(static_cast<unsigned char>(c))) {
    case 'B': return 0;
    case 'K': return 10;
    case 'M': return 20;
    case 'G': return 30;
    case 'T': return 40;
    case 'P': return 50;
    case 'E': return 60;
    default: return -1;
    }
}

const char *type_name(OptType t)
{
    switch (t) {
    case OptType::String: return "str";
    case OptType::Bool: return "bool (on/off)";
    case OptType::Number: return "num";
    case OptType::Size: return "size";
    }
    return "str";
}

} // namespace

const Opt *ParsedOpts::find(std::string_view name) const
{
    for (auto it = items.rbegin(); it != items.rend(); ++it) {
        if (it->name == name) {
            return &*it;
        }
    }
    return nullptr;
}

std::optional<std::string_view> ParsedOpts::get(std::string_view name) const
{
    const Opt *o = find(name);
    if (o == nullptr) {
        return std::nullopt;
    }
    return std::string_view(o->str);
}

std::vector<std::string_view> ParsedOpts::get_all(std::string_view name) const
{
    std::vector<std::string_view> out;
    for (const Opt &o : items) {
        if (o.name == name) {
            out.emplace_back(o.str);
        }
    }
    return out;
}

bool ParsedOpts::get_bool(std::string_view name, bool def) const
{
    const Opt *o = find(name);
    return (o != nullptr && o->type == OptType::Bool) ? o->boolean : def;
}

uint64_t ParsedOpts::get_number(std::string_view name, uint64_t def) const
{
    const Opt *o = find(name);
    return (o != nullptr && o->type == OptType::Number) ? o->number : def;
}

uint64_t ParsedOpts::get_size(std::string_view name, uint64_t def) const
{
    const Opt *o = find(name);
    return (o != nullptr && o->type == OptType::Size) ? o->number : def;
}

Result<bool> parse_bool(std::string_view name, std::string_view value)
{
    if (value == "on" || value == "yes" || value == "true" || value == "y") {
        return true;
    }
    if (value == "off" || value == "no" || value == "false" || value == "n") {
        return false;
    }
    return expects(name, "'on' or 'off'");
}

Result<uint64_t> parse_number(std::string_view name, std::string_view value)
{
    // strtoull needs a terminated copy; an embedded NUL then shows up as
    // unconsumed input and is rejected like any trailing garbage.
    const std::string copy(value);
    const char *start = copy.c_str();
    char *end = nullptr;
    errno = 0;
    unsigned long long n = std::strtoull(start, &end, 0);
    const int err = errno;
    // Same precedence as QEMU's check_strtox_error(): nothing parsed or
    // trailing characters beat overflow.
    if ((err == 0 && end == start) || static_cast<size_t>(end - start) != copy.size()) {
        return expects(name, "a number");
    }
    if (err == ERANGE) {
        return opts_error(strprintf("Value '%s' is too large for parameter '%.*s'", copy.c_str(),
                                    static_cast<int>(name.size()), name.data()));
    }
    if (err != 0) {
        return expects(name, "a number");
    }
    return static_cast<uint64_t>(n);
}

Result<uint64_t> parse_size(std::string_view name, std::string_view value)
{
    const std::string copy(value);
    auto invalid = [&]() -> Error {
        return expects(name, "a non-negative number below 2^64");
    };
    auto range = [&]() -> Error {
        return opts_error(strprintf("Value '%s' is out of range for parameter '%.*s'",
                                    copy.c_str(), static_cast<int>(name.size()), name.data()));
    };

    const char *start = copy.c_str();
    char *endp = nullptr;
    errno = 0;
    unsigned long long ull = std::strtoull(start, &endp, 10);
    if (endp == start) {
        return invalid();
    }
    if (errno == ERANGE) {
        return range();
    }
    // strtoull happily wraps negative input; sizes must not.
    if (std::find(start, static_cast<const char *>(endp), '-') != endp) {
        return invalid();
    }
    uint64_t val = ull;
    const char *p = endp;
    if (val == 0 && (*p == 'x' || *p == 'X')) {
        return invalid(); // hex is not a size
    }

    // Fraction digits are read by hand: strtod would take the 'E' suffix
    // for an exponent.  "1.k" (no digits) is accepted like QEMU does.
    double fraction = 0.0;
    bool has_fraction = false;
    if (*p == '.') {
        ++p;
        double scale = 0.1;
        while (std::isdigit(static_cast<unsigned char>(*p))) {
            fraction += (*p - '0') * scale;
            scale /= 10.0;
            ++p;
            has_fraction = true;
        }
    }

    int shift = 0;
    if (*p != '\0') {
        shift = suffix_multiplier_shift(*p);
        if (shift < 0) {
            return invalid();
        }
        ++p;
    }
    if (*p != '\0') {
        return invalid();
    }
    if (shift == 0) {
        // A fraction needs a scale to mean a whole number of bytes.
        if (has_fraction && fraction != 0.0) {
            return invalid();
        }
        return val;
    }
    const uint64_t mul = uint64_t{1} << shift;
    if (val > UINT64_MAX / mul) {
        return range();
    }
    val *= mul;
    const auto frac_bytes = static_cast<uint64_t>(fraction * static_cast<double>(mul));
    if (val > UINT64_MAX - frac_bytes) {
        return range();
    }
    return val + frac_bytes;
}

bool is_help_option(std::string_view s)
{
    return s == "help" || s == "?";
}

bool id_wellformed(std::string_view id)
{
    if (id.empty() || !std::isalpha(static_cast<unsigned char>(id[0]))) {
        return false;
    }
    return std::all_of(id.begin() + 1, id.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_';
    });
}

Result<ParsedOpts> parse_opts(std::string_view text, std::span<const OptDesc> desc,
                              const ParseOptions &options)
{
    const bool reject_short = options.short_form == ShortForm::Reject;
    ParsedOpts out;

    // The id is settled before any option is looked at, as in
    // qemu_opts_create(), so id errors win over option errors.
    out.id = scan_id(text);
    if (out.id) {
        if (!id_wellformed(*out.id)) {
            return expects("id", "an identifier");
        }
        if (options.id_taken && options.id_taken(*out.id)) {
            return opts_error(strprintf("Duplicate ID '%s' for %.*s", out.id->c_str(),
                                        static_cast<int>(options.list_name.size()),
                                        options.list_name.data()));
        }
    }

    std::string_view implied = options.implied_key;
    for (size_t pos = 0; pos < text.size();) {
        Token tok;
        pos = next_token(text, pos, implied, !reject_short, tok);
        implied = {};

        if (tok.bare) {
            if (!tok.no_prefix && is_help_option(tok.name)) {
                out.help = true;
                return out;
            }
            if (reject_short) {
                return opts_error(
                    strprintf("Expected '=' after parameter '%s'", tok.name.c_str()));
            }
            const char *prefix = tok.no_prefix ? "no" : "";
            out.warnings.push_back(strprintf(
                "short-form boolean option '%s%s' deprecated\nPlease use %s=%s instead", prefix,
                tok.name.c_str(), tok.name.c_str(), tok.value.c_str()));
        }
        if (tok.name == "id") {
            continue;
        }

        Opt opt;
        opt.name = std::move(tok.name);
        opt.str = std::move(tok.value);
        if (Status st = validate(opt, desc, options.accept_any); !st) {
            return st.take_error();
        }
        out.items.push_back(std::move(opt));
    }
    return out;
}

std::string format_help(std::string_view list_name, std::span<const OptDesc> desc)
{
    std::vector<std::string> lines;
    lines.reserve(desc.size());
    for (const OptDesc &d : desc) {
        lines.push_back(strprintf("  %.*s=<%s>", static_cast<int>(d.name.size()), d.name.data(),
                                  type_name(d.type)));
    }
    std::sort(lines.begin(), lines.end());

    const int n = static_cast<int>(list_name.size());
    std::string out;
    if (lines.empty()) {
        out = list_name.empty() ? std::string("No options available.\n")
                                : strprintf("There are no options for %.*s.\n", n, list_name.data());
        return out;
    }
    out = list_name.empty() ? std::string("Options:\n")
                            : strprintf("%.*s options:\n", n, list_name.data());
    for (const std::string &l : lines) {
        out += l;
        out += '\n';
    }
    return out;
}

} // namespace qvnc::opts
