#include "acl.hpp"

#include <fnmatch.h>
#include <glib.h>

#include <algorithm>

namespace qvnc::acl {

namespace {

bool has_nul(std::string_view s)
{
    return s.find('\0') != std::string_view::npos;
}

// '*' and '?' over bytes, for input that is not valid UTF-8.
// g_pattern_match_simple steps with g_utf8_next_char, which on a truncated
// multi-byte sequence can step past the terminating NUL; the byte matcher
// keeps such identities matchable (a deny rule "*evil*" must still apply)
// without reading out of bounds.
bool glob_match_bytes(std::string_view pattern, std::string_view text)
{
    std::size_t p = 0;
    std::size_t t = 0;
    std::size_t star = std::string_view::npos; // position after the last '*'
    std::size_t star_text = 0;                 // text position that '*' is up to
    while (t < text.size()) {
        if (p < pattern.size() && pattern[p] == '*') {
            star = ++p;
            star_text = t;
        } else if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == text[t])) {
            ++p;
            ++t;
        } else if (star != std::string_view::npos) {
            p = star;
            t = ++star_text;
        } else {
            return false;
        }
    }
    while (p < pattern.size() && pattern[p] == '*') {
        ++p;
    }
    return p == pattern.size();
}

bool valid_utf8(std::string_view s)
{
    return g_utf8_validate(s.data(), static_cast<gssize>(s.size()), nullptr);
}

} // namespace

const char *policy_name(Policy policy)
{
    return policy == Policy::Allow ? "allow" : "deny";
}

std::optional<Policy> parse_policy(std::string_view text)
{
    if (text == "deny") {
        return Policy::Deny;
    }
    if (text == "allow") {
        return Policy::Allow;
    }
    return std::nullopt;
}

const char *format_name(Format format)
{
    switch (format) {
    case Format::Exact:
        return "exact";
    case Format::Glob:
        return "glob";
    case Format::Fnmatch:
        return "fnmatch";
    }
    return "exact";
}

std::optional<Format> parse_format(std::string_view text)
{
    if (text == "exact") {
        return Format::Exact;
    }
    if (text == "glob") {
        return Format::Glob;
    }
    return std::nullopt;
}

bool pattern_matches(Format format, std::string_view pattern, std::string_view identity)
{
    if (format == Format::Exact) {
        return pattern == identity;
    }
    if (has_nul(pattern) || has_nul(identity)) {
        return false;
    }
    // The C matchers need terminated strings.
    const std::string pat(pattern);
    const std::string id(identity);
    if (format == Format::Fnmatch) {
        return fnmatch(pat.c_str(), id.c_str(), 0) == 0;
    }
    if (valid_utf8(pat) && valid_utf8(id)) {
        return g_pattern_match_simple(pat.c_str(), id.c_str());
    }
    return glob_match_bytes(pat, id);
}

Acl::Acl(std::string name) : name_(std::move(name)) {}

bool Acl::is_allowed(std::string_view identity) const
{
    for (const Rule &rule : rules_) {
        if (pattern_matches(rule.format, rule.match, identity)) {
            return rule.policy == Policy::Allow;
        }
    }
    return policy_ == Policy::Allow;
}

void Acl::reset()
{
    policy_ = Policy::Deny;
    rules_.clear();
}

std::optional<std::size_t> Acl::add(Rule rule, std::optional<int64_t> index)
{
    if (!index) {
        rules_.push_back(std::move(rule));
        return rules_.size();
    }
    if (*index <= 0) {
        return std::nullopt;
    }
    if (static_cast<uint64_t>(*index) > rules_.size()) {
        rules_.push_back(std::move(rule));
        return rules_.size();
    }
    const auto pos = static_cast<std::size_t>(*index);
    rules_.insert(rules_.begin() + static_cast<std::ptrdiff_t>(pos - 1), std::move(rule));
    return pos;
}

std::optional<std::size_t> Acl::remove(std::string_view match)
{
    auto it = std::find_if(rules_.begin(), rules_.end(),
                           [&](const Rule &r) { return r.match == match; });
    if (it == rules_.end()) {
        return std::nullopt;
    }
    const auto pos = static_cast<std::size_t>(it - rules_.begin()) + 1;
    rules_.erase(it);
    return pos;
}

std::size_t Acl::append_rule(Rule rule)
{
    rules_.push_back(std::move(rule));
    return rules_.size() - 1;
}

std::size_t Acl::insert_rule(Rule rule, std::size_t index)
{
    const std::size_t pos = std::min(index, rules_.size());
    rules_.insert(rules_.begin() + static_cast<std::ptrdiff_t>(pos), std::move(rule));
    return pos;
}

std::ptrdiff_t Acl::delete_rule(std::string_view match)
{
    auto it = std::find_if(rules_.begin(), rules_.end(),
                           [&](const Rule &r) { return r.match == match; });
    if (it == rules_.end()) {
        return -1;
    }
    const std::ptrdiff_t pos = it - rules_.begin();
    rules_.erase(it);
    return pos;
}

} // namespace qvnc::acl
