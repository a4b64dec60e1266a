#include "hmp.hpp"

#include <vector>

#include "error.hpp"
#include "monitor.hpp"

namespace qvnc::monitor {

namespace {

// QEMU's hmp_compare_cmd(): `name` equals one of the '|' alternatives.
bool name_matches(std::string_view name, std::string_view list)
{
    while (true) {
        auto bar = list.find('|');
        if (list.substr(0, bar) == name) {
            return true;
        }
        if (bar == std::string_view::npos) {
            return false;
        }
        list.remove_prefix(bar + 1);
    }
}

const HmpCommand *find(std::span<const HmpCommand> table, std::string_view name)
{
    for (const auto &c : table) {
        if (name_matches(name, c.name)) {
            return &c;
        }
    }
    return nullptr;
}

void dump_one(HmpEnv &env, const HmpCommand &c, const std::vector<std::string> &prefix)
{
    for (const auto &p : prefix) {
        env.out += p + " ";
    }
    env.out += strprintf("%s %s -- %s\n", c.name, c.params, c.help);
}

void dump(HmpEnv &env, std::span<const HmpCommand> table, const std::vector<std::string> &args,
          std::size_t index)
{
    std::vector<std::string> prefix(args.begin(), args.begin() + static_cast<long>(index));
    if (index >= args.size()) {
        for (const auto &c : table) {
            dump_one(env, c, prefix);
        }
        return;
    }
    if (const HmpCommand *c = find(table, args[index])) {
        if (!c->sub_table.empty()) {
            dump(env, c->sub_table, args, index + 1);
        } else {
            dump_one(env, *c, prefix);
        }
        return;
    }
    env.out += "unknown command: '";
    for (std::size_t i = 0; i <= index; ++i) {
        env.out += args[i] + (i == index ? "'\n" : " ");
    }
}

// QEMU's get_command_name(): up to '\0', '/' or a space, at most 255 bytes.
bool command_name(std::string_view &p, std::string &name)
{
    while (!p.empty() && hmp_isspace(p.front())) {
        p.remove_prefix(1);
    }
    if (p.empty()) {
        return false;
    }
    std::size_t n = 0;
    while (n < p.size() && p[n] != '/' && !hmp_isspace(p[n])) {
        ++n;
    }
    name = std::string(p.substr(0, std::min<std::size_t>(n, 255)));
    p.remove_prefix(n);
    return true;
}

} // namespace

std::string hmp_banner()
{
    return strprintf("QEMU %s monitor - type 'help' for more information\n", kQemuVersion);
}

std::string hmp_crlf(std::string_view text)
{
    std::string out;
    out.reserve(text.size() + text.size() / 16);
    for (char c : text) {
        if (c == '\n') {
            out += '\r';
        }
        out += c;
    }
    return out;
}

void hmp_help(HmpEnv &env, const std::string *name)
{
    std::vector<std::string> args;
    if (name) {
        // QEMU's parse_cmdline(): at most 16 words; a malformed one prints
        // nothing at all.
        std::string_view p = *name;
        std::string word;
        while (true) {
            while (!p.empty() && hmp_isspace(p.front())) {
                p.remove_prefix(1);
            }
            if (p.empty()) {
                break;
            }
            if (args.size() >= 16 || !hmp_get_str(p, word)) {
                return;
            }
            args.push_back(word);
        }
    }
    dump(env, hmp_commands(), args, 0);
}

void hmp_execute(HmpEnv &env, std::string_view line)
{
    const std::string_view start = line;
    std::string_view p = line;
    std::span<const HmpCommand> table = hmp_commands();
    const HmpCommand *cmd = nullptr;
    std::string name;
    // monitor_parse_command(): descend into sub-tables ("info vnc").
    while (true) {
        if (!command_name(p, name)) {
            if (!cmd) {
                return; // a blank line
            }
            break;
        }
        const HmpCommand *found = find(table, name);
        if (!found) {
            env.out += strprintf("unknown command: '%.*s'\n",
                                 static_cast<int>(start.size() - p.size()), start.data());
            return;
        }
        cmd = found;
        while (!p.empty() && hmp_isspace(p.front())) {
            p.remove_prefix(1);
        }
        if (cmd->sub_table.empty() || p.empty()) {
            break;
        }
        table = cmd->sub_table;
    }
    auto args = parse_hmp_args(name, cmd->args_type, p, env.out);
    if (!args) {
        // QEMU names the command as typed, up to its arguments.
        std::string_view typed = start.substr(0, start.size() - p.size());
        while (!typed.empty() && hmp_isspace(typed.back())) {
            typed.remove_suffix(1);
        }
        env.out += strprintf("Try \"help %.*s\" for more information\n",
                             static_cast<int>(typed.size()), typed.data());
        return;
    }
    cmd->handler(env, *args);
}

} // namespace qvnc::monitor
