// QMP dispatch (QEMU's qmp_dispatch() and monitor_qmp_dispatch()) and the
// command handlers.  Arguments reach a handler only after the schema check,
// so handlers read them without further type tests.
#include <array>

#include "context.hpp"
#include "hmp.hpp"
#include "monitor.hpp"
#include "vnc-ops.hpp"

namespace qvnc::monitor {

namespace {

struct CommandCtx {
    Monitor &mon;
    QmpState &st;
};

using Handler = Reply (*)(CommandCtx &c, const Json &args);

Reply ok() { return Json::object(); }

QmpError not_active(const char *what) { return {"DeviceNotActive", std::string(what) + " is not in use"}; }

const std::string *opt_str(const Json &args, const char *key)
{
    auto it = args.find(key);
    return it == args.end() ? nullptr : &it->get_ref<const std::string &>();
}

Reply qmp_capabilities(CommandCtx &c, const Json &args)
{
    if (c.st.negotiated) {
        return QmpError{"CommandNotFound",
                        "Capabilities negotiation is already complete, command ignored"};
    }
    if (args.contains("enable") && !args["enable"].empty()) {
        // Nothing is offered (no "oob" in the greeting).
        std::string list;
        for (const auto &cap : args["enable"]) {
            list += (list.empty() ? "" : ", ") + cap.get<std::string>();
        }
        return generic_error("Capability " + list + " not available");
    }
    c.st.negotiated = true;
    return ok();
}

Reply query_version(CommandCtx &, const Json &)
{
    Json v;
    v["qemu"]["micro"] = kQemuMicro;
    v["qemu"]["minor"] = kQemuMinor;
    v["qemu"]["major"] = kQemuMajor;
    v["package"] = kPackage;
    return v;
}

Reply query_commands(CommandCtx &, const Json &)
{
    Json list = Json::array();
    auto names = qmp_handler_names();
    for (auto it = names.rbegin(); it != names.rend(); ++it) { // QEMU prepends
        list.push_back(Json{{"name", *it}});
    }
    return list;
}

Reply quit(CommandCtx &c, const Json &)
{
    c.mon.request_quit();
    return ok();
}

Reply human_monitor_command(CommandCtx &c, const Json &args)
{
    if (args.contains("cpu-index") && args["cpu-index"].get<int64_t>() != 0) {
        return generic_error("Parameter 'cpu-index' expects a CPU number");
    }
    // A fresh non-interactive HMP monitor, as QEMU creates one: no
    // descriptors, no password prompt.
    HmpEnv env{c.mon};
    hmp_execute(env, args["command-line"].get_ref<const std::string &>());
    return Json(hmp_crlf(env.out));
}

Reply getfd(CommandCtx &c, const Json &args)
{
    return fd_get(&c.st.fds, args["fdname"].get<std::string>());
}

Reply closefd(CommandCtx &c, const Json &args)
{
    return fd_close(&c.st.fds, args["fdname"].get<std::string>());
}

Reply add_client(CommandCtx &c, const Json &args)
{
    QmpError err;
    auto fd = fd_take(&c.st.fds, args["fdname"].get<std::string>(), &err);
    if (!fd) {
        return err;
    }
    const std::string &protocol = args["protocol"].get_ref<const std::string &>();
    if (protocol == "vnc") {
        return add_vnc_client(c.mon.context(), std::move(*fd), args.value("skipauth", false));
    }
    if (protocol == "spice") {
        return not_active("SPICE");
    }
    return generic_error("protocol '" + protocol + "' is invalid");
}

Reply query_status(CommandCtx &c, const Json &)
{
    Json s;
    s["running"] = c.mon.running();
    s["singlestep"] = false;
    s["status"] = run_state_name(c.mon.run_state());
    return s;
}

Reply cont(CommandCtx &c, const Json &)
{
    c.mon.cont();
    return ok();
}

Reply stop(CommandCtx &c, const Json &)
{
    c.mon.stop();
    return ok();
}

Reply set_password(CommandCtx &c, const Json &args)
{
    if (args["protocol"] == "spice") {
        return not_active("SPICE");
    }
    if (const std::string *connected = opt_str(args, "connected"); connected && *connected != "keep") {
        return generic_error("Invalid parameter 'connected'"); // VNC supports "keep" only
    }
    return set_vnc_password(c.mon.context(), opt_str(args, "display"),
                            args["password"].get_ref<const std::string &>());
}

Reply expire_password(CommandCtx &c, const Json &args)
{
    const std::string &time = args["time"].get_ref<const std::string &>();
    if (args["protocol"] == "spice") {
        if (!parse_expire_time(time, 0)) {
            return generic_error("Parameter 'time' doesn't take value '" + time + "'");
        }
        return not_active("SPICE");
    }
    return expire_vnc_password(c.mon.context(), opt_str(args, "display"), time);
}

Reply query_vnc_cmd(CommandCtx &c, const Json &) { return query_vnc(c.mon.context()); }

Reply query_vnc_servers_cmd(CommandCtx &c, const Json &)
{
    return query_vnc_servers(c.mon.context());
}

Reply change_vnc_password(CommandCtx &c, const Json &args)
{
    return set_vnc_password(c.mon.context(), nullptr, args["password"].get_ref<const std::string &>());
}

Reply display_reload(CommandCtx &c, const Json &args)
{
    return reload_vnc(c.mon.context(), args.value("tls-certs", false));
}

Reply display_update(CommandCtx &c, const Json &args) { return update_vnc(c.mon.context(), args); }

struct Entry {
    const char *name;
    Handler fn;
};

// In schema order.
const std::array<Entry, 18> kHandlers = {{
    {"qmp_capabilities", qmp_capabilities},
    {"query-version", query_version},
    {"query-commands", query_commands},
    {"quit", quit},
    {"human-monitor-command", human_monitor_command},
    {"getfd", getfd},
    {"closefd", closefd},
    {"add_client", add_client},
    {"query-status", query_status},
    {"cont", cont},
    {"stop", stop},
    {"set_password", set_password},
    {"expire_password", expire_password},
    {"query-vnc", query_vnc_cmd},
    {"query-vnc-servers", query_vnc_servers_cmd},
    {"change-vnc-password", change_vnc_password},
    {"display-reload", display_reload},
    {"display-update", display_update},
}};

Handler find_handler(std::string_view name)
{
    for (const auto &e : kHandlers) {
        if (name == e.name) {
            return e.fn;
        }
    }
    return nullptr;
}

} // namespace

bool qmp_has_handler(std::string_view name) { return find_handler(name) != nullptr; }

std::vector<std::string> qmp_handler_names()
{
    std::vector<std::string> out;
    for (const auto &e : kHandlers) {
        out.emplace_back(e.name);
    }
    return out;
}

Json Monitor::dispatch_qmp(const Json &request, QmpState &st)
{
    Json id;
    bool has_id = false;
    auto answer = [&](Reply r) {
        Json out;
        if (auto *e = std::get_if<QmpError>(&r)) {
            out = error_reply(*e);
        } else {
            out["return"] = std::move(std::get<Json>(r));
        }
        if (has_id) {
            out["id"] = id;
        }
        return out;
    };
    if (!request.is_object()) {
        return answer(generic_error("QMP input must be a JSON object"));
    }
    // qmp_dispatch_check_obj(); "id" is set aside first and echoed back.
    const std::string *command = nullptr;
    const Json *args = nullptr;
    std::optional<QmpError> bad;
    for (auto it = request.begin(); it != request.end(); ++it) {
        const std::string &key = it.key();
        if (key == "id") {
            id = it.value();
            has_id = true;
        } else if (key == "execute") {
            if (!it->is_string()) {
                bad = bad ? bad : generic_error("QMP input member 'execute' must be a string");
            } else {
                command = &it->get_ref<const std::string &>();
            }
        } else if (key == "arguments") {
            if (!it->is_object()) {
                bad = bad ? bad : generic_error("QMP input member 'arguments' must be an object");
            } else {
                args = &*it;
            }
        } else if (!bad) {
            // Also "exec-oob": out-of-band execution is not offered.
            bad = generic_error("QMP input member '" + key + "' is unexpected");
        }
    }
    if (bad) {
        return answer(*bad);
    }
    if (!command) {
        return answer(generic_error("QMP input lacks member 'execute'"));
    }
    if (!st.negotiated && *command != "qmp_capabilities") {
        return answer(QmpError{"CommandNotFound",
                               "Expecting capabilities negotiation with 'qmp_capabilities'"});
    }
    const CommandDef *def = schema_.command(*command);
    Handler fn = find_handler(*command);
    if (!def || !fn) {
        return answer(QmpError{"CommandNotFound", "The command " + *command + " has not been found"});
    }
    static const Json kNoArgs = Json::object();
    const Json &a = args ? *args : kNoArgs;
    auto valid = schema_.check_arguments(*def, a);
    if (!valid) {
        return answer(generic_error(valid.error().message));
    }
    CommandCtx ctx{*this, st};
    Reply r = fn(ctx, a);
    if (const Json *ret = std::get_if<Json>(&r); ret && def->returns) {
        auto shaped = schema_.check_value(*def->returns, *ret);
        if (!shaped) {
            ctx_.logger().error("monitor", "reply of " + *command + " does not match the schema: " +
                                               shaped.error().message);
        }
    }
    return answer(std::move(r));
}

} // namespace qvnc::monitor
