// QEMU's QemuOpts "key=value,..." syntax (util/qemu-option.c, QEMU 6.0 - 9.x
// semantics), driven by a descriptor table in the style of QemuOptsList.
//
//   * items are separated by ',';  inside a value ",," is a literal ','
//   * only the first item may omit "key=": with an implied key it becomes
//     "<implied>=<item>" (the whole item, ",," escapes included)
//   * a later bare item "key" means key=on and "nokey" means key=off
//     (short-form booleans, deprecated since 6.0: reported as warnings)
//   * "help" / "?" as a bare item requests help
//   * "id=..." is the list id, not an option; the first one wins
//   * repeated keys are all kept, in order; lookups return the last one
//
// Errors use QEMU's texts, e.g. "Invalid parameter 'KEY'",
// "Parameter 'KEY' expects 'on' or 'off'", "Parameter 'KEY' expects a number".
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "error.hpp"

namespace qvnc::opts {

enum class OptType : uint8_t { String, Bool, Number, Size };

struct OptDesc {
    std::string_view name;
    OptType type = OptType::String;
};

struct Opt {
    std::string name;
    std::string str;                    // the value as written ("on"/"off" for short forms)
    OptType type = OptType::String;     // String for undescribed keys of an accept-any list
    bool boolean = false;               // valid when type == Bool
    uint64_t number = 0;                // valid when type == Number or Size
};

// What a bare item that is not the implied value means.
enum class ShortForm : uint8_t {
    // QemuOpts (-vnc): "key" = key=on, "nokey" = key=off, plus a deprecation
    // warning each.
    Warn,
    // keyval (-object since 6.0): a bare item is an error,
    // "Expected '=' after parameter 'KEY'".
    Reject,
};

struct ParseOptions {
    std::string_view implied_key;       // "" = no implied key
    bool accept_any = false;            // true: unknown keys are kept as strings
    ShortForm short_form = ShortForm::Warn;
    // For "Duplicate ID '%s' for %s": the list name and a lookup of the ids
    // already in use.  An empty function means no id is taken.
    std::string_view list_name;
    std::function<bool(std::string_view)> id_taken;
};

struct ParsedOpts {
    std::optional<std::string> id;
    bool help = false;                  // "help" or "?" was given; parsing stopped there
    std::vector<Opt> items;             // in input order, without "id"
    // Deprecation notices, not printed: the first line is the warning and the
    // second the hint, exactly as QEMU prints them.
    std::vector<std::string> warnings;

    // The last occurrence of `name`, or nullptr.
    const Opt *find(std::string_view name) const;
    bool has(std::string_view name) const { return find(name) != nullptr; }
    std::optional<std::string_view> get(std::string_view name) const;
    // Every occurrence of a repeatable key, in input order.
    std::vector<std::string_view> get_all(std::string_view name) const;
    // Typed lookups of described keys; `def` when absent.
    bool get_bool(std::string_view name, bool def) const;
    uint64_t get_number(std::string_view name, uint64_t def) const;
    uint64_t get_size(std::string_view name, uint64_t def) const;
};

Result<ParsedOpts> parse_opts(std::string_view text, std::span<const OptDesc> desc,
                              const ParseOptions &options);

// The value parsers used for typed keys, with QEMU's error texts.
// on|yes|true|y and off|no|false|n, case-sensitive.
Result<bool> parse_bool(std::string_view name, std::string_view value);
// strtoull base 0: decimal, 0x hex, 0 octal; leading whitespace allowed;
// "-1" wraps to UINT64_MAX like QEMU.
Result<uint64_t> parse_number(std::string_view name, std::string_view value);
// Decimal with optional fraction and a B/K/M/G/T/P/E suffix (powers of 1024).
Result<uint64_t> parse_size(std::string_view name, std::string_view value);

bool is_help_option(std::string_view s);
// QEMU's id_wellformed(): a letter, then letters, digits, '-', '.', '_'.
bool id_wellformed(std::string_view id);

// The "-OPTION help" listing as qemu_opts_print_help() prints it: a caption
// "NAME options:" and one sorted line "  KEY=<type>" per descriptor.
std::string format_help(std::string_view list_name, std::span<const OptDesc> desc);

} // namespace qvnc::opts
