#include "schema.hpp"

#include <glib.h>

#include <cstdint>
#include <functional>
#include <set>

namespace qvnc::monitor {

extern const char kSchemaJson[]; // generated (qapi/schema/gen-schema.py)

namespace {

constexpr const char *kBuiltins[] = {"str",    "int",    "int64",  "uint16", "uint32",
                                     "uint64", "bool",   "number", "any",    "null"};

TypeRef parse_ref(const Json &j)
{
    if (j.is_array() && j.size() == 1 && j[0].is_string()) {
        return TypeRef{j[0].get<std::string>(), true};
    }
    return TypeRef{j.get<std::string>(), false};
}

std::vector<Member> parse_members(const Json &data)
{
    std::vector<Member> out;
    for (auto it = data.begin(); it != data.end(); ++it) {
        Member m;
        m.name = it.key();
        if (!m.name.empty() && m.name[0] == '*') {
            m.optional = true;
            m.name.erase(0, 1);
        }
        m.type = parse_ref(it.value());
        out.push_back(std::move(m));
    }
    return out;
}

std::string type_error(const std::string &path, const char *expected)
{
    return strprintf("Invalid parameter type for '%s', expected: %s",
                     path.empty() ? "null" : path.c_str(), expected);
}

std::string child(const std::string &path, const std::string &name)
{
    return path.empty() ? name : path + "." + name;
}

Status fail(std::string msg) { return Error{ErrorCode::InvalidArg, std::move(msg)}; }

} // namespace

Result<Schema> Schema::parse(std::string_view text)
{
    Schema s;
    std::string err;
    auto doc = parse_message(std::string(text), &err);
    if (!doc || !doc->is_array()) {
        return Error{ErrorCode::Internal, "QAPI schema: " + (err.empty() ? "not an array" : err)};
    }
    for (const char *b : kBuiltins) {
        s.types_[b] = TypeDef{TypeKind::Builtin, b, {}, {}, {}, {}};
    }
    // Struct bases are resolved once every type is known.
    std::map<std::string, std::string> bases;
    try {
        for (const auto &e : *doc) {
            if (e.contains("enum")) {
                TypeDef t{TypeKind::Enum, e["enum"].get<std::string>(), {}, {}, {}, {}};
                t.values = e["data"].get<std::vector<std::string>>();
                s.types_[t.name] = std::move(t);
            } else if (e.contains("struct")) {
                TypeDef t{TypeKind::Struct, e["struct"].get<std::string>(), {}, {}, {}, {}};
                if (e.contains("data")) {
                    t.members = parse_members(e["data"]);
                }
                if (e.contains("base")) {
                    bases[t.name] = e["base"].get<std::string>();
                }
                s.types_[t.name] = std::move(t);
            } else if (e.contains("union")) {
                TypeDef t{TypeKind::Union, e["union"].get<std::string>(), {}, {}, {}, {}};
                t.members = parse_members(e["base"]);
                t.discriminator = e["discriminator"].get<std::string>();
                for (auto it = e["data"].begin(); it != e["data"].end(); ++it) {
                    t.variants[it.key()] = it.value().get<std::string>();
                }
                s.types_[t.name] = std::move(t);
            } else if (e.contains("command") || e.contains("event")) {
                bool is_cmd = e.contains("command");
                std::string name = e[is_cmd ? "command" : "event"].get<std::string>();
                std::string args;
                if (e.contains("data") && e["data"].is_string()) {
                    args = e["data"].get<std::string>();
                } else if (e.contains("data")) {
                    // QEMU's name for an implicit argument struct.
                    args = "q_obj_" + name + "-arg";
                    s.types_[args] = TypeDef{TypeKind::Struct, args, {}, parse_members(e["data"]),
                                             {}, {}};
                }
                if (is_cmd) {
                    CommandDef c{name, args, std::nullopt};
                    if (e.contains("returns")) {
                        c.returns = parse_ref(e["returns"]);
                    }
                    s.commands_.push_back(std::move(c));
                } else {
                    s.events_.push_back(EventDef{name, args});
                }
            }
        }
    } catch (const Json::exception &ex) {
        return Error{ErrorCode::Internal, std::string("QAPI schema: ") + ex.what()};
    }
    // Prepend base members, innermost base first; gen-schema.py has checked
    // that every base exists and is a struct.
    std::set<std::string> done;
    std::function<void(const std::string &)> resolve = [&](const std::string &name) {
        if (done.count(name) || !bases.count(name)) {
            return;
        }
        done.insert(name);
        const std::string &base = bases[name];
        resolve(base);
        auto &members = s.types_[name].members;
        const auto &inherited = s.types_[base].members;
        members.insert(members.begin(), inherited.begin(), inherited.end());
    };
    for (const auto &[name, base] : bases) {
        resolve(name);
    }
    return s;
}

const Schema &Schema::builtin()
{
    // Immutable once built: parsing it again per monitor would only cost.
    static const Schema schema = [] {
        auto r = parse(kSchemaJson);
        if (!r) {
            // gen-schema.py checked the text at build time: unreachable
            // unless the generator and this loader disagree.
            g_error("%s", r.error().message.c_str());
        }
        return std::move(r).value();
    }();
    return schema;
}

const TypeDef *Schema::type(std::string_view name) const
{
    auto it = types_.find(name);
    return it == types_.end() ? nullptr : &it->second;
}

const CommandDef *Schema::command(std::string_view name) const
{
    for (const auto &c : commands_) {
        if (c.name == name) {
            return &c;
        }
    }
    return nullptr;
}

const EventDef *Schema::event(std::string_view name) const
{
    for (const auto &e : events_) {
        if (e.name == name) {
            return &e;
        }
    }
    return nullptr;
}

Status Schema::check_arguments(const CommandDef &cmd, const Json &args) const
{
    if (cmd.args.empty()) {
        for (auto it = args.begin(); it != args.end(); ++it) {
            return fail(strprintf("Parameter '%s' is unexpected", it.key().c_str()));
        }
        return ok_status();
    }
    const TypeDef *t = type(cmd.args);
    if (!t) {
        return Error{ErrorCode::Internal, "unknown argument type " + cmd.args};
    }
    return check_object(*t, args, "");
}

Status Schema::check_value(const TypeRef &t, const Json &value) const
{
    return check(t, value, "", "");
}

Status Schema::check_event(const EventDef &ev, const Json *data) const
{
    if (ev.data.empty()) {
        if (data) {
            return fail("event " + ev.name + " has no data");
        }
        return ok_status();
    }
    if (!data) {
        return fail("event " + ev.name + " lacks its data");
    }
    const TypeDef *t = type(ev.data);
    return t ? check_object(*t, *data, "") : fail("unknown type " + ev.data);
}

Status Schema::check(const TypeRef &t, const Json &v, const std::string &path,
                     const std::string &member) const
{
    if (t.array) {
        if (!v.is_array()) {
            return fail(type_error(path, "array"));
        }
        TypeRef elem{t.name, false};
        for (std::size_t i = 0; i < v.size(); ++i) {
            // QEMU visits list elements without a name: "null" in the texts
            // that print the bare name.
            auto st = check(elem, v[i], strprintf("%s[%zu]", path.c_str(), i), "null");
            if (!st) {
                return st;
            }
        }
        return ok_status();
    }
    const TypeDef *def = type(t.name);
    if (!def) {
        return Error{ErrorCode::Internal, "unknown type " + t.name};
    }
    const std::string &n = t.name;
    switch (def->kind) {
    case TypeKind::Builtin:
        if (n == "str") {
            return v.is_string() ? ok_status() : fail(type_error(path, "string"));
        }
        if (n == "bool") {
            return v.is_boolean() ? ok_status() : fail(type_error(path, "boolean"));
        }
        if (n == "number") {
            return v.is_number() ? ok_status() : fail(type_error(path, "number"));
        }
        if (n == "null") {
            return v.is_null() ? ok_status() : fail(type_error(path, "null"));
        }
        if (n == "any") {
            return ok_status();
        }
        if (!v.is_number_integer()) {
            return fail(type_error(path, "integer"));
        }
        if (n == "int" || n == "int64") {
            if (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
                return fail(type_error(path, "integer"));
            }
            return ok_status();
        }
        {
            // Unsigned: QEMU accepts negative numbers as their 64-bit wrap.
            uint64_t u = v.is_number_unsigned() ? v.get<uint64_t>()
                                                : static_cast<uint64_t>(v.get<int64_t>());
            uint64_t max = n == "uint16" ? UINT16_MAX : n == "uint32" ? UINT32_MAX : UINT64_MAX;
            if (u > max) {
                return fail(strprintf("Parameter '%s' expects %s", member.c_str(), n.c_str()));
            }
        }
        return ok_status();
    case TypeKind::Enum:
        if (!v.is_string()) {
            return fail(type_error(path, "string"));
        }
        for (const auto &val : def->values) {
            if (val == v.get_ref<const std::string &>()) {
                return ok_status();
            }
        }
        return fail(strprintf("Parameter '%s' does not accept value '%s'", member.c_str(),
                              v.get_ref<const std::string &>().c_str()));
    case TypeKind::Struct:
    case TypeKind::Union:
        return check_object(*def, v, path);
    }
    return ok_status();
}

Status Schema::check_members(const std::vector<const Member *> &members, const Json &obj,
                             const std::string &path) const
{
    for (const Member *m : members) {
        auto it = obj.find(m->name);
        if (it == obj.end()) {
            if (!m->optional) {
                return fail(strprintf("Parameter '%s' is missing", child(path, m->name).c_str()));
            }
            continue;
        }
        auto st = check(m->type, *it, child(path, m->name), m->name);
        if (!st) {
            return st;
        }
    }
    return ok_status();
}

Status Schema::check_object(const TypeDef &t, const Json &v, const std::string &path) const
{
    if (!v.is_object()) {
        return fail(type_error(path, "object"));
    }
    std::vector<const Member *> members;
    for (const auto &m : t.members) {
        members.push_back(&m);
    }
    auto st = check_members(members, v, path);
    if (!st) {
        return st;
    }
    if (t.kind == TypeKind::Union) {
        // The discriminator is a required enum member: valid by now.
        auto variant = t.variants.find(v[t.discriminator].get<std::string>());
        if (variant != t.variants.end()) {
            const TypeDef *vt = type(variant->second);
            std::vector<const Member *> extra;
            for (const auto &m : vt->members) {
                extra.push_back(&m);
            }
            st = check_members(extra, v, path);
            if (!st) {
                return st;
            }
            members.insert(members.end(), extra.begin(), extra.end());
        }
    }
    for (auto it = v.begin(); it != v.end(); ++it) {
        bool known = false;
        for (const Member *m : members) {
            known = known || m->name == it.key();
        }
        if (!known) {
            return fail(strprintf("Parameter '%s' is unexpected", child(path, it.key()).c_str()));
        }
    }
    return ok_status();
}

} // namespace qvnc::monitor
