#include "object-spec.hpp"

#include <algorithm>

#include "qemu-opts.hpp"

namespace qvnc::opts {

namespace {

Error opts_error(const std::string &message)
{
    return Error{ErrorCode::Opts, message};
}

Error missing(const char *key)
{
    return opts_error(strprintf("Parameter '%s' is missing", key));
}

Error wrong_type(std::string_view key, const char *expected)
{
    return opts_error(strprintf("Invalid parameter type for '%.*s', expected: %s",
                                static_cast<int>(key.size()), key.data(), expected));
}

// Both syntaxes end in user_creatable_add_type(), which insists on a
// well-formed id whatever the syntax.
Status check_id(const std::string &id)
{
    if (!id_wellformed(id)) {
        return opts_error("Parameter 'id' expects an identifier");
    }
    return ok_status();
}

Result<ObjectSpec> parse_json_form(std::string_view text)
{
    nlohmann::json doc;
    try {
        doc = nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception &e) {
        // nlohmann prefixes "[json.exception.parse_error.101] "; drop it so
        // the user sees only the explanation.
        std::string why = e.what();
        if (auto close = why.find("] "); why.rfind("[json.exception", 0) == 0 &&
                                         close != std::string::npos) {
            why.erase(0, close + 2);
        }
        return opts_error("JSON parse error, " + why);
    }
    if (!doc.is_object()) {
        return opts_error("JSON parse error, expecting an object");
    }

    ObjectSpec spec;
    // QEMU visits the union discriminator first, then the common members.
    auto type = doc.find("qom-type");
    if (type == doc.end()) {
        return missing("qom-type");
    }
    if (!type->is_string()) {
        return wrong_type("qom-type", "string");
    }
    spec.qom_type = type->get<std::string>();

    auto id = doc.find("id");
    if (id == doc.end()) {
        return missing("id");
    }
    if (!id->is_string()) {
        return wrong_type("id", "string");
    }
    spec.id = id->get<std::string>();
    if (Status st = check_id(spec.id); !st) {
        return st.take_error();
    }

    doc.erase("qom-type");
    doc.erase("id");
    spec.props = std::move(doc);
    return spec;
}

Result<ObjectSpec> parse_keyval_form(std::string_view text)
{
    // -object has used keyval since QEMU 6.0, which knows no short-form
    // booleans: "secret,id=s,foo" is an error rather than foo=on.
    ParseOptions po;
    po.implied_key = "qom-type";
    po.accept_any = true;
    po.short_form = ShortForm::Reject;
    po.list_name = "object";
    auto parsed = parse_opts(text, {}, po);
    if (!parsed) {
        return parsed.take_error();
    }
    if (parsed->help) {
        return opts_error("Listing object types or properties is not supported here");
    }

    ObjectSpec spec;
    auto type = parsed->get("qom-type");
    if (!type) {
        return missing("qom-type");
    }
    spec.qom_type = std::string(*type);
    if (!parsed->id) {
        return missing("id");
    }
    spec.id = *parsed->id; // already checked by parse_opts
    // Repeated keys: the last one wins, as keyval does.
    for (const Opt &o : parsed->items) {
        if (o.name != "qom-type") {
            spec.props[o.name] = o.str;
        }
    }
    return spec;
}

} // namespace

Result<ObjectSpec> parse_object_spec(std::string_view text)
{
    if (!text.empty() && text.front() == '{') {
        return parse_json_form(text);
    }
    return parse_keyval_form(text);
}

Result<std::optional<std::string>> get_string(const ObjectSpec &spec, std::string_view key)
{
    auto it = spec.props.find(std::string(key));
    if (it == spec.props.end()) {
        return std::optional<std::string>{};
    }
    if (!it->is_string()) {
        return wrong_type(key, "string");
    }
    return std::optional<std::string>(it->get<std::string>());
}

Result<bool> get_bool(const ObjectSpec &spec, std::string_view key, bool default_value)
{
    auto it = spec.props.find(std::string(key));
    if (it == spec.props.end()) {
        return default_value;
    }
    if (it->is_boolean()) {
        return it->get<bool>();
    }
    if (it->is_string()) {
        return parse_bool(key, it->get_ref<const std::string &>());
    }
    return wrong_type(key, "boolean");
}

Status check_known_props(const ObjectSpec &spec, std::initializer_list<std::string_view> known)
{
    for (auto it = spec.props.begin(); it != spec.props.end(); ++it) {
        const std::string &key = it.key();
        if (std::find(known.begin(), known.end(), key) == known.end()) {
            return opts_error(strprintf("Invalid parameter '%s'", key.c_str()));
        }
    }
    return ok_status();
}

} // namespace qvnc::opts
