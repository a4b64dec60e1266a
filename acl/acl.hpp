// One access-control list model for both of QEMU's eras.
//
// Semantics (decided; pinned by tests/unit/acl):
//
// * An Acl is a name, an ordered list of rules and a default policy.  A rule
//   is {match, policy, format}:
//     - Exact   string equality (authz-list "exact", authz-simple);
//     - Glob    GLib g_pattern_match_simple: '*' and '?' only, '[' and '\'
//               are literal (authz-list "glob", QEMU >= 4.0);
//     - Fnmatch POSIX fnmatch(pattern, identity, 0): '*', '?', '[...]' and
//               '\' escapes, '*' crosses '/' and a leading '.'.  Rules added
//               by the legacy acl_add command use it, as QEMU <= 3.x did.
//   Matching is case-sensitive and anchored at both ends.
// * The first matching rule decides; when none matches the default policy
//   decides.
// * A new list, and any list after reset(), denies everyone and has no
//   rules: there is never a window of open access between creating a list
//   and filling it.
// * Two position conventions coexist and must not be mixed up:
//     - legacy (monitor acl_* commands, util/acl.c 2014+): 1-based.
//       add() without index appends; with index <= 0 it fails ("unable to
//       add"); index > count appends; otherwise the rule goes in before the
//       current entry #index and index is returned.  This is the fixed
//       behaviour, without the 2009 acl.c off-by-one that appended when
//       index == count.  remove(match) drops the first rule whose match text
//       is equal (strcmp, not a pattern match) and returns its position.
//     - QAuthZ (authz-list): 0-based.  append_rule() returns the index,
//       insert_rule(index) inserts at min(index, count) and returns where
//       the rule landed, delete_rule(match) returns the index or -1.
//
// Identities and patterns containing a NUL byte never match a Glob or
// Fnmatch rule (the C matchers would see a truncated string, so "fred\0x"
// could pass as "fred").  Exact rules compare all bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace qvnc::acl {

enum class Policy { Deny, Allow };
enum class Format { Exact, Glob, Fnmatch };

struct Rule {
    std::string match;
    Policy policy = Policy::Deny;
    Format format = Format::Exact;
};

// "deny" / "allow", the QAuthZListPolicy and HMP spelling.
const char *policy_name(Policy policy);
// Case-sensitive, as QEMU's enum lookup: only "deny" and "allow".
std::optional<Policy> parse_policy(std::string_view text);
// "exact" / "glob" / "fnmatch".
const char *format_name(Format format);
// Only the QAuthZListFormat names "exact" and "glob": Fnmatch is reachable
// through the legacy monitor commands alone.
std::optional<Format> parse_format(std::string_view text);

// Whether `identity` matches `pattern` under `format` (see above).
bool pattern_matches(Format format, std::string_view pattern, std::string_view identity);

class Acl {
public:
    explicit Acl(std::string name = {});

    const std::string &name() const { return name_; }

    Policy policy() const { return policy_; }
    void set_policy(Policy policy) { policy_ = policy; }

    const std::vector<Rule> &rules() const { return rules_; }
    std::size_t size() const { return rules_.size(); }
    void set_rules(std::vector<Rule> rules) { rules_ = std::move(rules); }

    // First matching rule wins; otherwise the default policy.
    bool is_allowed(std::string_view identity) const;

    // Policy back to Deny, all rules dropped.
    void reset();

    // Legacy (1-based) API for acl_add / acl_remove.  `index` absent:
    // append.  Returns the rule's 1-based position, or nullopt when
    // index <= 0 (the monitor prints "acl: unable to add acl entry").
    std::optional<std::size_t> add(Rule rule, std::optional<int64_t> index = std::nullopt);
    // 1-based position of the removed rule, nullopt when no rule's match
    // text equals `match`.
    std::optional<std::size_t> remove(std::string_view match);

    // QAuthZ (0-based) API.
    std::size_t append_rule(Rule rule);
    std::size_t insert_rule(Rule rule, std::size_t index);
    // 0-based index of the removed rule, or -1.
    std::ptrdiff_t delete_rule(std::string_view match);

private:
    std::string name_;
    Policy policy_ = Policy::Deny;
    std::vector<Rule> rules_;
};

} // namespace qvnc::acl
