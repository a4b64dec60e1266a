#include "json-stream.hpp"

#include <cstdint>
#include <set>
#include <vector>

namespace qvnc::monitor {

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool is_open(char c) { return c == '{' || c == '['; }
bool is_close(char c) { return c == '}' || c == ']'; }

} // namespace

JsonStreamer::JsonStreamer(Sink sink, std::size_t max_size)
    : sink_(std::move(sink)), max_size_(max_size)
{
}

void JsonStreamer::reset()
{
    buf_.clear();
    depth_ = 0;
    quote_ = 0;
    escape_ = false;
    scalar_ = false;
    skipping_ = false;
}

void JsonStreamer::feed(std::string_view bytes)
{
    for (char c : bytes) {
        if (!skipping_) {
            put(c);
            continue;
        }
        // Skipping the rest of an oversized message: only its structure is
        // followed, nothing is stored.
        if (quote_) {
            if (escape_) {
                escape_ = false;
            } else if (c == '\\') {
                escape_ = true;
            } else if (c == quote_) {
                quote_ = 0;
                if (depth_ == 0) {
                    reset();
                }
            }
            continue;
        }
        if (depth_ == 0) { // an oversized top-level scalar
            if (is_space(c) || is_open(c) || is_close(c)) {
                reset();
                put(c);
            }
            continue;
        }
        if (c == '"' || c == '\'') {
            quote_ = c;
        } else if (is_open(c)) {
            ++depth_;
        } else if (is_close(c) && --depth_ == 0) {
            reset();
        }
    }
}

void JsonStreamer::put(char c)
{
    if (quote_) {
        if (escape_) {
            escape_ = false;
            if (c == '\'') {
                buf_ += '\''; // QEMU's \' escape; standard JSON has none
            } else {
                buf_ += '\\';
                buf_ += c;
            }
        } else if (c == '\\') {
            escape_ = true;
        } else if (c == quote_) {
            quote_ = 0;
            buf_ += '"';
            if (depth_ == 0) { // a top-level string is a message of its own
                emit();
                return;
            }
        } else if (c == '"') { // inside a single-quoted string
            buf_ += "\\\"";
        } else {
            buf_ += c;
        }
    } else if (depth_ == 0) {
        if (is_space(c)) {
            if (scalar_) {
                emit();
            }
            return;
        }
        if (scalar_ && (is_open(c) || is_close(c))) {
            emit();
        }
        if (is_open(c)) {
            depth_ = 1;
            buf_ += c;
        } else if (is_close(c)) { // a stray closer: a message the parser refuses
            buf_ += c;
            emit();
            return;
        } else if (c == '"' || c == '\'') {
            scalar_ = true;
            quote_ = c;
            buf_ += '"';
        } else {
            scalar_ = true;
            buf_ += c;
        }
    } else {
        if (c == '"' || c == '\'') {
            quote_ = c;
            buf_ += '"';
        } else if (is_open(c)) {
            if (++depth_ > kMaxDepth) {
                overflow("JSON nesting depth limit exceeded");
                return;
            }
            buf_ += c;
        } else if (is_close(c)) {
            buf_ += c;
            if (--depth_ == 0) {
                emit();
                return;
            }
        } else {
            buf_ += c;
        }
    }
    if (buf_.size() > max_size_) {
        overflow("JSON token size limit exceeded");
    }
}

void JsonStreamer::emit()
{
    std::string msg = std::move(buf_);
    buf_.clear();
    depth_ = 0;
    scalar_ = false;
    if (sink_.message) {
        sink_.message(std::move(msg));
    }
}

void JsonStreamer::overflow(const char *why)
{
    buf_.clear();
    buf_.shrink_to_fit();
    skipping_ = true;
    if (sink_.error) {
        sink_.error(why);
    }
}

std::optional<Json> parse_message(const std::string &text, std::string *error)
{
    // The callback sees every key and value: it enforces what QEMU's parser
    // refuses and nlohmann accepts.
    std::vector<std::set<std::string>> keys;
    const char *refused = nullptr;
    auto cb = [&](int, Json::parse_event_t ev, Json &parsed) {
        switch (ev) {
        case Json::parse_event_t::object_start:
            keys.emplace_back();
            break;
        case Json::parse_event_t::object_end:
            if (!keys.empty()) {
                keys.pop_back();
            }
            break;
        case Json::parse_event_t::key: {
            const auto &k = parsed.get_ref<const std::string &>();
            if (k.find('\0') != std::string::npos) {
                refused = "\\u0000 is not supported";
            } else if (!keys.empty() && !keys.back().insert(k).second && !refused) {
                refused = "duplicate key";
            }
            break;
        }
        case Json::parse_event_t::value:
            if (parsed.is_string() &&
                parsed.get_ref<const std::string &>().find('\0') != std::string::npos) {
                refused = "\\u0000 is not supported";
            }
            break;
        default:
            break;
        }
        return true;
    };
    Json v = Json::parse(text, cb, /*allow_exceptions=*/false);
    if (v.is_discarded() || refused) {
        if (error) {
            *error = std::string("JSON parse error, ") + (refused ? refused : "expecting value");
        }
        return std::nullopt;
    }
    return v;
}

namespace {

// One code point of UTF-8 at s[i]; U+FFFD (one byte consumed) when the
// sequence is invalid, overlong, a surrogate or beyond U+10FFFF.
uint32_t decode_utf8(const std::string &s, std::size_t i, std::size_t *len)
{
    auto b = static_cast<unsigned char>(s[i]);
    int extra = (b >= 0xc2 && b < 0xe0) ? 1 : (b >= 0xe0 && b < 0xf0) ? 2 : (b >= 0xf0 && b < 0xf5) ? 3 : 0;
    *len = 1;
    if (extra == 0 || s.size() - i <= static_cast<std::size_t>(extra)) {
        return 0xfffd;
    }
    uint32_t v = b & (0x3fu >> extra);
    for (int k = 1; k <= extra; ++k) {
        auto c = static_cast<unsigned char>(s[i + static_cast<std::size_t>(k)]);
        if ((c & 0xc0) != 0x80) {
            return 0xfffd;
        }
        v = (v << 6) | (c & 0x3fu);
    }
    static const uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
    if (v < kMin[extra] || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) {
        return 0xfffd;
    }
    *len = static_cast<std::size_t>(extra) + 1;
    return v;
}

void append_string(std::string &out, const std::string &s)
{
    static const char hex[] = "0123456789ABCDEF";
    auto u4 = [&](uint32_t cp) {
        out += "\\u";
        for (int shift = 12; shift >= 0; shift -= 4) {
            out += hex[(cp >> shift) & 0xf];
        }
    };
    out += '"';
    std::size_t i = 0;
    while (i < s.size()) {
        auto b = static_cast<unsigned char>(s[i]);
        uint32_t cp;
        std::size_t len = 1;
        if (b < 0x80) {
            cp = b;
        } else {
            cp = decode_utf8(s, i, &len);
        }
        i += len;
        switch (cp) {
        case '"': out += "\\\""; continue;
        case '\\': out += "\\\\"; continue;
        case '\b': out += "\\b"; continue;
        case '\f': out += "\\f"; continue;
        case '\n': out += "\\n"; continue;
        case '\r': out += "\\r"; continue;
        case '\t': out += "\\t"; continue;
        default: break;
        }
        if (cp >= 0x20 && cp < 0x7f) {
            out += static_cast<char>(cp);
        } else if (cp > 0xffff) {
            cp -= 0x10000;
            u4(0xd800 | (cp >> 10));
            u4(0xdc00 | (cp & 0x3ff));
        } else {
            u4(cp);
        }
    }
    out += '"';
}

void newline(std::string &out, bool pretty, int depth)
{
    if (pretty) {
        out += '\n';
        out.append(static_cast<std::size_t>(depth) * 4, ' ');
    }
}

void write_value(std::string &out, const Json &v, bool pretty, int depth)
{
    if (v.is_object()) {
        out += '{';
        bool first = true;
        for (auto it = v.begin(); it != v.end(); ++it) {
            if (!first) {
                out += ',';
                if (!pretty) {
                    out += ' ';
                }
            }
            first = false;
            newline(out, pretty, depth + 1);
            append_string(out, it.key());
            out += ": ";
            write_value(out, it.value(), pretty, depth + 1);
        }
        if (!first) {
            newline(out, pretty, depth);
        }
        out += '}';
    } else if (v.is_array()) {
        out += '[';
        bool first = true;
        for (const auto &e : v) {
            if (!first) {
                out += ',';
                if (!pretty) {
                    out += ' ';
                }
            }
            first = false;
            newline(out, pretty, depth + 1);
            write_value(out, e, pretty, depth + 1);
        }
        if (!first) {
            newline(out, pretty, depth);
        }
        out += ']';
    } else if (v.is_string()) {
        append_string(out, v.get_ref<const std::string &>());
    } else {
        out += v.dump(); // numbers, booleans, null
    }
}

} // namespace

std::string format_json(const Json &value, bool pretty)
{
    std::string out;
    write_value(out, value, pretty, 0);
    return out;
}

} // namespace qvnc::monitor
