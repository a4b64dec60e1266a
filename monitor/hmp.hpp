// HMP: QEMU's human monitor.  A command table in the shape of
// hmp-commands.hx ({name, args_type, params, help}), one argument parser
// (hmp-args.hpp) and the handlers (hmp-commands.cpp).  Handlers print into
// HmpEnv::out with "\n" line ends; the transport (or human-monitor-command)
// turns them into "\r\n" as QEMU's monitor_puts() does.
#pragma once

#include <functional>
#include <span>
#include <string>
#include <string_view>

#include "hmp-args.hpp"

namespace qvnc::monitor {

class Monitor;
struct FdState;

struct HmpEnv {
    explicit HmpEnv(Monitor &m) : mon(m) {}
    Monitor &mon;
    std::string out;
    // A readline monitor (a terminal or socket client): it can prompt for a
    // password.  human-monitor-command and qvnc_monitor_hmp() cannot.
    bool interactive = false;
    // The monitor's file descriptors (getfd, closefd); null: none.
    FdState *fds = nullptr;
    // Set by handlers: no prompt after this command (quit).
    bool suspend = false;
    // Set by handlers: prompt "Password: " and pass the next line here.
    std::function<void(HmpEnv &env, const std::string &password)> password_cb;
};

struct HmpCommand {
    const char *name;      // "cont|c": alternatives separated by '|'
    const char *args_type;
    const char *params;
    const char *help;
    void (*handler)(HmpEnv &env, const HmpArgs &args);
    std::span<const HmpCommand> sub_table; // info
};

// The tables, sorted by name as QEMU sorts them for "help".
std::span<const HmpCommand> hmp_commands();
std::span<const HmpCommand> hmp_info_commands();

// Runs one command line.
void hmp_execute(HmpEnv &env, std::string_view line);
// "help [name...]" output.
void hmp_help(HmpEnv &env, const std::string *name);

// The banner a readline monitor prints when a client arrives.
std::string hmp_banner();

// "\n" -> "\r\n" (QEMU's monitor_puts).
std::string hmp_crlf(std::string_view text);

} // namespace qvnc::monitor
