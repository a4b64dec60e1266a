#include "vnc-ops.hpp"

#include <netdb.h>

#include <cerrno>
#include <cstdlib>
#include <ctime>

#include "auth-plan.hpp"
#include "connection.hpp"
#include "context.hpp"
#include "listener.hpp"
#include "server.hpp"

namespace qvnc::monitor {

namespace {

vnc::Server *first_display(Context &ctx)
{
    auto all = ctx.displays();
    return all.empty() ? nullptr : all.front();
}

vnc::Server *lookup(Context &ctx, const std::string *id)
{
    return id ? ctx.find_display(*id) : first_display(ctx);
}

Json basic_info(const io::AddressInfo &a, bool websocket)
{
    Json j;
    j["host"] = a.host;
    j["service"] = a.service;
    j["family"] = a.family.empty() ? "unknown" : a.family;
    j["websocket"] = websocket;
    return j;
}

Json client_info(const vnc::Connection &c, bool basic)
{
    Json j = basic_info(c.peer(), c.websocket());
    if (!basic) {
        if (c.x509_dname()) {
            j["x509_dname"] = *c.x509_dname();
        }
        if (c.sasl_username()) {
            j["sasl_username"] = *c.sasl_username();
        }
    }
    return j;
}

// QEMU builds client lists by prepending: the newest client comes first.
Json client_list(const vnc::Server &s)
{
    Json list = Json::array();
    const auto &conns = s.connections();
    for (auto it = conns.rbegin(); it != conns.rend(); ++it) {
        if (!(*it)->closing()) {
            list.push_back(client_info(**it, false));
        }
    }
    return list;
}

// The address QEMU reports for a display: the first socket of its
// (non-websocket) listener.
std::optional<io::AddressInfo> primary_address(const vnc::Server &s)
{
    for (const auto &l : s.listeners()) {
        if (!l->websocket()) {
            auto addrs = l->addresses();
            if (!addrs.empty()) {
                return addrs.front();
            }
        }
    }
    return std::nullopt;
}

Reply ok() { return Json::object(); }

} // namespace

Json query_vnc(Context &ctx)
{
    Json info;
    vnc::Server *s = first_display(ctx);
    auto addr = s ? primary_address(*s) : std::nullopt;
    if (!addr) {
        info["enabled"] = false;
        return info;
    }
    info["enabled"] = true;
    info["host"] = addr->host;
    info["family"] = addr->family.empty() ? "unknown" : addr->family;
    info["service"] = addr->service;
    info["auth"] = vnc::auth_name(s->auth_plan().auth, s->auth_plan().subauth);
    info["clients"] = client_list(*s);
    return info;
}

Json query_vnc_servers(Context &ctx)
{
    Json out = Json::array();
    auto displays = ctx.displays();
    for (auto d = displays.rbegin(); d != displays.rend(); ++d) {
        const vnc::Server &s = **d;
        const vnc::AuthPlan &plan = s.auth_plan();
        // Every listening socket, plain ones first then websockets, each
        // list prepended to: reverse the collected order.
        std::vector<Json> servers;
        for (int pass = 0; pass < 2; ++pass) {
            bool ws = pass == 1;
            for (const auto &l : s.listeners()) {
                if (l->websocket() != ws) {
                    continue;
                }
                for (const auto &a : l->addresses()) {
                    Json e = basic_info(a, ws);
                    e["auth"] = vnc::primary_auth_qapi(ws ? plan.ws_auth : plan.auth);
                    if (const char *sub = vnc::vencrypt_sub_qapi(ws ? plan.ws_subauth : plan.subauth)) {
                        e["vencrypt"] = sub;
                    }
                    servers.push_back(std::move(e));
                }
            }
        }
        Json info;
        info["id"] = s.id();
        info["server"] = Json::array();
        for (auto it = servers.rbegin(); it != servers.rend(); ++it) {
            info["server"].push_back(std::move(*it));
        }
        info["clients"] = client_list(s);
        info["auth"] = vnc::primary_auth_qapi(plan.auth);
        if (const char *sub = vnc::vencrypt_sub_qapi(plan.subauth)) {
            info["vencrypt"] = sub;
        }
        if (!s.config().display.empty()) {
            info["display"] = s.config().display;
        }
        out.push_back(std::move(info));
    }
    return out;
}

Reply set_vnc_password(Context &ctx, const std::string *display, const std::string &password,
                       bool *hint)
{
    vnc::Server *s = lookup(ctx, display);
    if (!s) {
        return generic_error("Could not set password");
    }
    if (s->auth_plan().auth == vnc::AuthType::None) {
        // QEMU >= 2.1: no silent switch from "none" to password auth.
        if (hint) {
            *hint = true;
        }
        return generic_error("Could not set password");
    }
    if (!s->set_password(password)) {
        return generic_error("Could not set password");
    }
    return ok();
}

std::optional<int64_t> parse_expire_time(const std::string &time, int64_t now)
{
    if (time == "now") {
        return 0;
    }
    if (time == "never") {
        return -1;
    }
    int64_t base = 0;
    const char *num = time.c_str();
    if (time[0] == '+') {
        base = now;
        ++num;
    }
    // qemu_strtou64(base 10): the whole rest, no overflow; a leading '-'
    // wraps as strtoull does.
    char *end = nullptr;
    errno = 0;
    unsigned long long v = std::strtoull(num, &end, 10);
    if (end == num || *end != '\0' || errno == ERANGE) {
        return std::nullopt;
    }
    auto when = static_cast<int64_t>(static_cast<uint64_t>(base) + v);
    // A time_t that wrapped negative lies in the past for QEMU: expired.
    return when < 0 ? 0 : when;
}

Reply expire_vnc_password(Context &ctx, const std::string *display, const std::string &time)
{
    auto when = parse_expire_time(time, static_cast<int64_t>(::time(nullptr)));
    if (!when) {
        return generic_error(strprintf("Parameter 'time' doesn't take value '%s'", time.c_str()));
    }
    vnc::Server *s = lookup(ctx, display);
    if (!s || !s->expire_password(*when)) {
        return generic_error("Could not set password expire time");
    }
    return ok();
}

Reply reload_vnc(Context &ctx, bool tls_certs)
{
    if (!tls_certs) {
        return ok(); // QEMU does nothing at all then
    }
    vnc::Server *s = first_display(ctx);
    if (!s) {
        return generic_error("Can not find vnc display");
    }
    auto st = s->reload_tls();
    if (!st) {
        return generic_error(st.error().message);
    }
    return ok();
}

namespace {

Result<vnc::ListenAddress> listen_address(const Json &a)
{
    vnc::ListenAddress la;
    const std::string &type = a["type"].get_ref<const std::string &>();
    if (type == "unix") {
        if (a.value("abstract", false)) {
            return make_error(ErrorCode::Unsupported, "abstract UNIX sockets are not supported by qvnc");
        }
        la.kind = vnc::ListenAddress::Kind::Unix;
        la.path = a["path"].get<std::string>();
        return la;
    }
    if (type != "inet") {
        return make_error(ErrorCode::Unsupported, "address type '%s' is not supported by qvnc",
                          type.c_str());
    }
    la.kind = vnc::ListenAddress::Kind::Inet;
    la.host = a["host"].get<std::string>();
    const std::string &port = a["port"].get_ref<const std::string &>();
    char *end = nullptr;
    errno = 0;
    long v = std::strtol(port.c_str(), &end, 10);
    if (port.empty() || *end != '\0' || errno == ERANGE || v < 0 || v > 65535) {
        const servent *se = getservbyname(port.c_str(), "tcp");
        if (!se) {
            return make_error(ErrorCode::InvalidArg, "address resolution failed for %s:%s: %s",
                              la.host.c_str(), port.c_str(), gai_strerror(EAI_SERVICE));
        }
        v = ntohs(static_cast<uint16_t>(se->s_port));
    }
    la.port = static_cast<int>(v);
    if (a.contains("to")) {
        la.port_to = a["to"].get<int>();
    }
    if (a.contains("ipv4")) {
        la.ipv4 = a["ipv4"].get<bool>();
    }
    if (a.contains("ipv6")) {
        la.ipv6 = a["ipv6"].get<bool>();
    }
    return la;
}

} // namespace

Reply update_vnc(Context &ctx, const Json &options)
{
    vnc::Server *s = first_display(ctx);
    if (!s) {
        return generic_error("Can not find vnc display");
    }
    if (!options.contains("addresses")) {
        return ok();
    }
    std::vector<vnc::ListenAddress> list;
    for (const auto &a : options["addresses"]) {
        auto la = listen_address(a);
        if (!la) {
            return generic_error(la.error().message);
        }
        list.push_back(std::move(la.value()));
    }
    auto st = s->replace_addresses(list);
    if (!st) {
        return generic_error(st.error().message);
    }
    return ok();
}

Reply add_vnc_client(Context &ctx, io::UniqueFd fd, bool skipauth)
{
    vnc::Server *s = first_display(ctx);
    if (!s) {
        // QEMU answers success and drops the socket.
        return ok();
    }
    auto st = s->add_client(std::move(fd), skipauth);
    if (!st) {
        return generic_error(st.error().message);
    }
    return ok();
}

std::optional<Json> vnc_event_data(vnc::Server &s, bool basic_client, const vnc::Connection &c)
{
    auto addr = primary_address(s);
    if (!addr) {
        return std::nullopt;
    }
    Json server = basic_info(*addr, false);
    server["auth"] = vnc::auth_name(s.auth_plan().auth, s.auth_plan().subauth);
    Json data;
    data["server"] = std::move(server);
    data["client"] = client_info(c, basic_client);
    return data;
}

} // namespace qvnc::monitor
