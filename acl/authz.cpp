#include "authz.hpp"

#include <vector>

namespace qvnc::acl {

namespace {

using nlohmann::json;

Error invalid(std::string message)
{
    return Error{ErrorCode::InvalidArg, std::move(message)};
}

Error wrong_type(const std::string &path, const char *expected)
{
    return invalid(strprintf("Invalid parameter type for '%s', expected: %s", path.c_str(),
                             expected));
}

Error bad_enum_value(const std::string &path, const std::string &value)
{
    return invalid(
        strprintf("Parameter '%s' does not accept value '%s'", path.c_str(), value.c_str()));
}

// QAuthZListPolicy / QAuthZListFormat members, visited as QEMU's QObject
// input visitor does: the value must be a JSON string naming a member.
template <class T, class Parse>
Result<T> parse_enum_member(const json &value, const std::string &path, Parse parse)
{
    if (!value.is_string()) {
        return wrong_type(path, "string");
    }
    const auto &text = value.get_ref<const std::string &>();
    auto parsed = parse(text);
    if (!parsed) {
        return bad_enum_value(path, text);
    }
    return *parsed;
}

Result<Rule> parse_rule(const json &item, std::size_t index)
{
    const std::string path = strprintf("rules[%zu]", index);
    if (!item.is_object()) {
        return wrong_type(path, "object");
    }
    Rule rule;

    auto match = item.find("match");
    if (match == item.end()) {
        return invalid(strprintf("Parameter '%s.match' is missing", path.c_str()));
    }
    if (!match->is_string()) {
        return wrong_type(path + ".match", "string");
    }
    rule.match = match->get<std::string>();

    auto policy = item.find("policy");
    if (policy == item.end()) {
        return invalid(strprintf("Parameter '%s.policy' is missing", path.c_str()));
    }
    auto p = parse_enum_member<Policy>(*policy, path + ".policy", parse_policy);
    if (!p) {
        return p.take_error();
    }
    rule.policy = *p;

    // QAuthZListRule.format is optional and defaults to exact.
    if (auto format = item.find("format"); format != item.end()) {
        auto f = parse_enum_member<Format>(*format, path + ".format", parse_format);
        if (!f) {
            return f.take_error();
        }
        rule.format = *f;
    }

    for (auto it = item.begin(); it != item.end(); ++it) {
        if (it.key() != "match" && it.key() != "policy" && it.key() != "format") {
            return invalid(
                strprintf("Parameter '%s.%s' is unexpected", path.c_str(), it.key().c_str()));
        }
    }
    return rule;
}

} // namespace

Status parse_list_props(const json &props, Acl &out)
{
    if (!props.is_object()) {
        return wrong_type("obj", "object");
    }
    for (auto it = props.begin(); it != props.end(); ++it) {
        if (it.key() != "policy" && it.key() != "rules") {
            return invalid(strprintf("Invalid parameter '%s'", it.key().c_str()));
        }
    }

    Policy policy = Policy::Deny;
    if (auto p = props.find("policy"); p != props.end()) {
        auto parsed = parse_enum_member<Policy>(*p, "policy", parse_policy);
        if (!parsed) {
            return parsed.take_error();
        }
        policy = *parsed;
    }

    std::vector<Rule> rules;
    if (auto r = props.find("rules"); r != props.end()) {
        // The key=value form carries strings only, so "rules=..." lands
        // here too; QEMU's keyval visitor rejects it the same way.
        if (!r->is_array()) {
            return wrong_type("rules", "array");
        }
        rules.reserve(r->size());
        for (std::size_t i = 0; i < r->size(); ++i) {
            auto rule = parse_rule((*r)[i], i);
            if (!rule) {
                return rule.take_error();
            }
            rules.push_back(std::move(rule.value()));
        }
    }

    out.set_policy(policy);
    out.set_rules(std::move(rules));
    return ok_status();
}

AuthzSimple::AuthzSimple(std::string id, std::string identity)
    : Authz(std::move(id)), identity_(std::move(identity))
{
}

Result<std::unique_ptr<AuthzSimple>> AuthzSimple::create(const opts::ObjectSpec &spec)
{
    if (Status st = opts::check_known_props(spec, {"identity"}); !st) {
        return st.take_error();
    }
    auto identity = opts::get_string(spec, "identity");
    if (!identity) {
        return identity.take_error();
    }
    if (!identity.value()) {
        return invalid("The 'identity' property must be set");
    }
    return std::make_unique<AuthzSimple>(spec.id, std::move(*identity.value()));
}

bool AuthzSimple::is_allowed(std::string_view identity, std::string * /*why*/) const
{
    return identity == identity_;
}

AuthzList::AuthzList(std::string id) : Authz(id), acl_(std::move(id)) {}

Result<std::unique_ptr<AuthzList>> AuthzList::create(const opts::ObjectSpec &spec)
{
    auto list = std::make_unique<AuthzList>(spec.id);
    if (Status st = parse_list_props(spec.props, list->acl()); !st) {
        return st.take_error();
    }
    return list;
}

bool AuthzList::is_allowed(std::string_view identity, std::string * /*why*/) const
{
    return acl_.is_allowed(identity);
}

} // namespace qvnc::acl
