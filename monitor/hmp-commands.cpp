// The HMP command table and its handlers.  Texts are QEMU's: acl_* as in
// QEMU 0.11 - 3.1 (monitor.c with util/acl.c; no 4.x deprecation line),
// the others as in QEMU 7.2.
#include <array>

#include "acl-store.hpp"
#include "context.hpp"
#include "hmp.hpp"
#include "monitor.hpp"
#include "vnc-ops.hpp"

namespace qvnc::monitor {

namespace {

void print_error(HmpEnv &env, const Reply &r)
{
    if (const auto *e = std::get_if<QmpError>(&r)) {
        env.out += "Error: " + e->desc + "\n";
    }
}

// ---- acl_* (util/acl.c semantics, acl/acl.hpp) ------------------------------

acl::Acl *find_acl(HmpEnv &env, const HmpArgs &a)
{
    const std::string &name = *a.str("aclname");
    acl::Acl *list = env.mon.context().acls().find_list(name);
    if (!list) {
        env.out += "acl: unknown list '" + name + "'\n";
    }
    return list;
}

void unknown_policy(HmpEnv &env, const std::string &policy)
{
    env.out += "acl: unknown policy '" + policy + "', expected 'deny' or 'allow'\n";
}

void cmd_acl_show(HmpEnv &env, const HmpArgs &a)
{
    if (acl::Acl *list = find_acl(env, a)) {
        env.out += std::string("policy: ") + acl::policy_name(list->policy()) + "\n";
        std::size_t i = 0;
        for (const auto &r : list->rules()) {
            env.out += strprintf("%zu: %s %s\n", ++i, acl::policy_name(r.policy), r.match.c_str());
        }
    }
}

void cmd_acl_reset(HmpEnv &env, const HmpArgs &a)
{
    if (acl::Acl *list = find_acl(env, a)) {
        list->reset();
        env.out += "acl: removed all rules\n";
    }
}

void cmd_acl_policy(HmpEnv &env, const HmpArgs &a)
{
    if (acl::Acl *list = find_acl(env, a)) {
        const std::string &policy = *a.str("policy");
        auto p = acl::parse_policy(policy);
        if (!p) {
            unknown_policy(env, policy);
            return;
        }
        list->set_policy(*p);
        env.out += std::string("acl: policy set to '") + acl::policy_name(*p) + "'\n";
    }
}

void cmd_acl_add(HmpEnv &env, const HmpArgs &a)
{
    acl::Acl *list = find_acl(env, a);
    if (!list) {
        return;
    }
    const std::string &policy = *a.str("policy");
    auto p = acl::parse_policy(policy);
    if (!p) {
        unknown_policy(env, policy);
        return;
    }
    std::optional<int64_t> index;
    if (auto i = a.integer("index")) {
        // QEMU keeps the (32-bit checked) value in an int: 2^31 and above
        // turn negative and are refused like 0.
        index = static_cast<int32_t>(static_cast<uint32_t>(*i));
    }
    auto pos = list->add(acl::Rule{*a.str("match"), *p, acl::Format::Fnmatch}, index);
    if (!pos) {
        env.out += "acl: unable to add acl entry\n";
        return;
    }
    env.out += strprintf("acl: added rule at position %zu\n", *pos);
}

void cmd_acl_remove(HmpEnv &env, const HmpArgs &a)
{
    if (acl::Acl *list = find_acl(env, a)) {
        if (auto pos = list->remove(*a.str("match"))) {
            env.out += strprintf("acl: removed rule at position %zu\n", *pos);
        } else {
            env.out += "acl: no matching acl entry\n";
        }
    }
}

// ---- VNC passwords ---------------------------------------------------------

void print_password_result(HmpEnv &env, const Reply &r, bool hint)
{
    if (hint) {
        env.out += std::string(kPasswordHint) + "\n";
    }
    print_error(env, r);
}

void cmd_change(HmpEnv &env, const HmpArgs &a)
{
    const std::string &device = *a.str("device");
    const std::string &target = *a.str("target");
    if (device != "vnc") {
        // No block devices here: QEMU's answer for an unknown device.
        env.out += "Error: Device '" + device + "' not found\n";
        return;
    }
    if (a.str("read-only-mode")) {
        env.out += "Error: Parameter 'read-only-mode' is invalid for VNC\n";
        return;
    }
    if (target != "passwd" && target != "password") {
        env.out += "Error: Expected 'password' after 'vnc'\n";
        return;
    }
    if (const std::string *pw = a.str("arg")) {
        bool hint = false;
        Reply r = set_vnc_password(env.mon.context(), nullptr, *pw, &hint);
        print_password_result(env, r, hint);
        return;
    }
    if (!env.interactive) {
        env.out += "terminal does not support password prompting\n";
        return;
    }
    // QEMU ignores the outcome of the prompted change.
    env.password_cb = [](HmpEnv &e, const std::string &pw) {
        (void)set_vnc_password(e.mon.context(), nullptr, pw);
    };
}

// qapi_enum_parse(): "invalid parameter value: X".
bool check_enum(HmpEnv &env, const std::string *value, std::initializer_list<const char *> values)
{
    if (!value) {
        return true;
    }
    for (const char *v : values) {
        if (*value == v) {
            return true;
        }
    }
    env.out += "Error: invalid parameter value: " + *value + "\n";
    return false;
}

void cmd_set_password(HmpEnv &env, const HmpArgs &a)
{
    const std::string *connected = a.str("connected");
    const std::string *protocol = a.str("protocol");
    if (!check_enum(env, connected, {"keep", "fail", "disconnect"}) ||
        !check_enum(env, protocol, {"vnc", "spice"})) {
        return;
    }
    if (*protocol == "spice") {
        env.out += "Error: SPICE is not in use\n";
        return;
    }
    if (connected && *connected != "keep") {
        env.out += "Error: Invalid parameter 'connected'\n";
        return;
    }
    bool hint = false;
    Reply r = set_vnc_password(env.mon.context(), a.str("display"), *a.str("password"), &hint);
    print_password_result(env, r, hint);
}

void cmd_expire_password(HmpEnv &env, const HmpArgs &a)
{
    const std::string *protocol = a.str("protocol");
    if (!check_enum(env, protocol, {"vnc", "spice"})) {
        return;
    }
    const std::string &time = *a.str("time");
    if (*protocol == "spice") {
        if (!parse_expire_time(time, 0)) {
            env.out += "Error: Parameter 'time' doesn't take value '" + time + "'\n";
        } else {
            env.out += "Error: SPICE is not in use\n";
        }
        return;
    }
    print_error(env, expire_vnc_password(env.mon.context(), a.str("display"), time));
}

// ---- file descriptors --------------------------------------------------------

void cmd_getfd(HmpEnv &env, const HmpArgs &a) { print_error(env, fd_get(env.fds, *a.str("fdname"))); }

void cmd_closefd(HmpEnv &env, const HmpArgs &a)
{
    print_error(env, fd_close(env.fds, *a.str("fdname")));
}

// ---- run state and the rest ----------------------------------------------------

void cmd_cont(HmpEnv &env, const HmpArgs &) { env.mon.cont(); }
void cmd_stop(HmpEnv &env, const HmpArgs &) { env.mon.stop(); }

void cmd_quit(HmpEnv &env, const HmpArgs &)
{
    env.suspend = true;
    env.mon.request_quit();
}

void cmd_help(HmpEnv &env, const HmpArgs &a) { hmp_help(env, a.str("name")); }

void cmd_info(HmpEnv &env, const HmpArgs &)
{
    std::string info = "info";
    hmp_help(env, &info);
}

void cmd_info_status(HmpEnv &env, const HmpArgs &)
{
    RunState s = env.mon.run_state();
    env.out += std::string("VM status: ") + (s == RunState::Running ? "running" : "paused");
    if (s == RunState::Prelaunch) {
        env.out += " (prelaunch)";
    }
    env.out += "\n";
}

void cmd_info_version(HmpEnv &env, const HmpArgs &)
{
    env.out += strprintf("%d.%d.%d%s\n", kQemuMajor, kQemuMinor, kQemuMicro, kPackage);
}

void cmd_info_name(HmpEnv &env, const HmpArgs &)
{
    const std::string &name = env.mon.context().name();
    if (!name.empty()) {
        env.out += name + "\n";
    }
}

// QEMU >= 2.10 "info vnc", from query-vnc-servers.
void cmd_info_vnc(HmpEnv &env, const HmpArgs &)
{
    Json servers = query_vnc_servers(env.mon.context());
    if (servers.empty()) {
        env.out += "None\n";
        return;
    }
    auto basic = [&](const Json &i, const char *what) {
        env.out += strprintf("  %s: %s:%s (%s%s)\n", what, i["host"].get<std::string>().c_str(),
                             i["service"].get<std::string>().c_str(),
                             i["family"].get<std::string>().c_str(),
                             i["websocket"].get<bool>() ? " (Websocket)" : "");
    };
    auto authcrypt = [&](const char *indent, const Json &i) {
        env.out += strprintf("%sAuth: %s (Sub: %s)\n", indent, i["auth"].get<std::string>().c_str(),
                             i.contains("vencrypt") ? i["vencrypt"].get<std::string>().c_str()
                                                    : "none");
    };
    for (const auto &info : servers) {
        env.out += info["id"].get<std::string>() + ":\n";
        for (const auto &s : info["server"]) {
            basic(s, "Server");
            authcrypt("    ", s);
        }
        for (const auto &c : info["clients"]) {
            basic(c, "Client");
            env.out += "    x509_dname: " + c.value("x509_dname", std::string("none")) + "\n";
            env.out += "    sasl_username: " + c.value("sasl_username", std::string("none")) + "\n";
        }
        if (info["server"].empty()) {
            authcrypt("  ", info);
        }
        if (info.contains("display")) {
            env.out += "  Display: " + info["display"].get<std::string>() + "\n";
        }
    }
}

const std::array<HmpCommand, 4> kInfoCommands = {{
    {"name", "", "", "show the current VM name", cmd_info_name, {}},
    {"status", "", "", "show the current VM status (running|paused)", cmd_info_status, {}},
    {"version", "", "", "show the version of QEMU", cmd_info_version, {}},
    {"vnc", "", "", "show the vnc server status", cmd_info_vnc, {}},
}};

const std::array<HmpCommand, 15> kCommands = {{
    {"acl_add", "aclname:s,match:s,policy:s,index:i?", "aclname match allow|deny [index]",
     "add a match rule to the access control list", cmd_acl_add, {}},
    {"acl_policy", "aclname:s,policy:s", "aclname allow|deny",
     "set default access control list policy", cmd_acl_policy, {}},
    {"acl_remove", "aclname:s,match:s", "aclname match",
     "remove a match rule from the access control list", cmd_acl_remove, {}},
    {"acl_reset", "aclname:s", "aclname", "reset the access control list", cmd_acl_reset, {}},
    {"acl_show", "aclname:s", "aclname", "list rules in the access control list", cmd_acl_show,
     {}},
    {"change", "device:B,force:-f,target:F,arg:s?,read-only-mode:s?",
     "device [-f] filename [format [read-only-mode]]",
     "change a removable medium, optional format, use -f to force the operation", cmd_change, {}},
    {"closefd", "fdname:s", "closefd name",
     "close a file descriptor previously passed via SCM rights", cmd_closefd, {}},
    {"cont|c", "", "", "resume emulation", cmd_cont, {}},
    {"expire_password", "protocol:s,time:s,display:-ds", "protocol time [-d display]",
     "set vnc password expire-time", cmd_expire_password, {}},
    {"getfd", "fdname:s", "getfd name",
     "receive a file descriptor via SCM rights and assign it a name", cmd_getfd, {}},
    {"help|?", "name:S?", "[cmd]", "show the help", cmd_help, {}},
    {"info", "item:s?", "[subcommand]", "show various information about the system state",
     cmd_info, kInfoCommands},
    {"quit|q", "", "", "quit the emulator", cmd_quit, {}},
    {"set_password", "protocol:s,password:s,display:-ds,connected:s?",
     "protocol password [-d display] [action-if-connected]", "set vnc password", cmd_set_password,
     {}},
    {"stop|s", "", "", "stop emulation", cmd_stop, {}},
}};

} // namespace

std::span<const HmpCommand> hmp_commands() { return kCommands; }
std::span<const HmpCommand> hmp_info_commands() { return kInfoCommands; }

} // namespace qvnc::monitor
