// The QAPI schema subset of qapi/schema/*.json, embedded at build time by
// qapi/schema/gen-schema.py (which also checks it) and loaded once.
//
// The QMP dispatcher checks every command's arguments against it, with the
// texts of QEMU's QObject input visitor:
//   Parameter 'NAME' is missing
//   Parameter 'NAME' is unexpected
//   Invalid parameter type for 'NAME', expected: string|integer|boolean|number|object|array
//   Parameter 'NAME' does not accept value 'VALUE'        (enums)
//   Parameter 'NAME' expects uint16                       (ranges)
// NAME is the full path for nested members ("addresses[0].port"), except
// for the last two, where QEMU also prints the bare member name.
// Replies and events are checked against their types in the unit tests (and
// logged at run time should a handler ever build one the schema disagrees
// with).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "error.hpp"
#include "json-stream.hpp"

namespace qvnc::monitor {

struct TypeRef {
    std::string name; // a built-in (str, int, uint16, bool, number, any) or a schema type
    bool array = false;
};

struct Member {
    std::string name;
    bool optional = false;
    TypeRef type;
};

enum class TypeKind { Builtin, Enum, Struct, Union };

struct TypeDef {
    TypeKind kind = TypeKind::Builtin;
    std::string name;
    std::vector<std::string> values;             // Enum
    std::vector<Member> members;                 // Struct (base first), Union base
    std::string discriminator;                   // Union
    std::map<std::string, std::string> variants; // Union: value -> struct
};

struct CommandDef {
    std::string name;
    std::string args;                // a struct or union; "" = no arguments
    std::optional<TypeRef> returns;  // none: {} on success
};

struct EventDef {
    std::string name;
    std::string data; // a struct; "" = no data member
};

class Schema {
public:
    // Parses schema text (the generated kSchemaJson, or a test's own).
    static Result<Schema> parse(std::string_view text);
    // The built-in schema, parsed on first use.
    static const Schema &builtin();

    const TypeDef *type(std::string_view name) const;
    const CommandDef *command(std::string_view name) const;
    const EventDef *event(std::string_view name) const;
    // In schema order.
    const std::vector<CommandDef> &commands() const { return commands_; }
    const std::vector<EventDef> &events() const { return events_; }

    // Checks a command's "arguments" object.  The error text is QEMU's.
    Status check_arguments(const CommandDef &cmd, const Json &args) const;
    // Checks any value (replies, event data) against a type.
    Status check_value(const TypeRef &type, const Json &value) const;
    Status check_event(const EventDef &ev, const Json *data) const;

private:
    Status check(const TypeRef &t, const Json &v, const std::string &path,
                 const std::string &member) const;
    Status check_members(const std::vector<const Member *> &members, const Json &obj,
                         const std::string &path) const;
    Status check_object(const TypeDef &t, const Json &v, const std::string &path) const;

    std::map<std::string, TypeDef, std::less<>> types_;
    std::vector<CommandDef> commands_;
    std::vector<EventDef> events_;
};

} // namespace qvnc::monitor
