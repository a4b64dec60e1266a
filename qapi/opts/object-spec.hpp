// QEMU's -object argument, in either syntax:
//   key=value form:  "secret,id=sec0,data=letmein,format=raw"
//                    (the first item may be the bare type; ",," escapes a comma)
//   JSON form:       '{"qom-type":"secret","id":"sec0","data":"letmein"}'
// Values of the key=value form stay strings; the JSON form keeps JSON types.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "error.hpp"

namespace qvnc::opts {

struct ObjectSpec {
    std::string qom_type;
    std::string id;
    nlohmann::json props = nlohmann::json::object(); // without qom-type and id
};

// Errors use QEMU's texts: "Parameter 'id' is missing",
// "Parameter 'qom-type' is missing", "Invalid parameter 'KEY'" is left to the
// object's own property check (see check_known_props).
Result<ObjectSpec> parse_object_spec(std::string_view text);

// A string property; nullopt when absent.  A JSON number/bool is an error
// "Invalid parameter type for 'KEY', expected: string".
Result<std::optional<std::string>> get_string(const ObjectSpec &spec, std::string_view key);
// A bool property: JSON true/false, or the strings on|off|yes|no|true|false|y|n.
// Error: "Parameter 'KEY' expects 'on' or 'off'".
Result<bool> get_bool(const ObjectSpec &spec, std::string_view key, bool default_value);
// Fails with "Invalid parameter 'KEY'" for the first property not in `known`.
Status check_known_props(const ObjectSpec &spec, std::initializer_list<std::string_view> known);

} // namespace qvnc::opts
