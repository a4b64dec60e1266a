#include "context.hpp"

#include "object-spec.hpp"
#include "server.hpp"
#include "vnc-config.hpp"

namespace qvnc {

Context::Context(GMainContext *main_context)
    : main_context_(g_main_context_ref(main_context ? main_context : g_main_context_default())),
      acls_(main_context_.get())
{
    acls_.set_log_handler([this](acl::LogLevel level, const std::string &msg) {
        logger_.emit(level == acl::LogLevel::Warning ? QVNC_LOG_WARNING : QVNC_LOG_INFO, "authz", msg);
    });
}

Context::~Context()
{
    // Displays first: their sources live in the main context.
    servers_.clear();
}

Status Context::set_keymap(const std::string &layout)
{
    auto km = vnc::Keymap::load(layout.empty() ? "en-us" : layout);
    if (!km) {
        return km.take_error();
    }
    keymap_ = std::make_shared<const vnc::Keymap>(std::move(km.value()));
    keymap_given_ = !layout.empty();
    return ok_status();
}

void Context::set_name(std::string name)
{
    name_ = std::move(name);
    for (auto &s : servers_) {
        s->name_changed();
    }
}

Status Context::add_object(std::string_view text)
{
    Result<opts::ObjectSpec> spec = opts::parse_object_spec(text);
    if (!spec) {
        return spec.take_error();
    }
    const std::string &type = spec->qom_type;
    // Object ids share one namespace (QEMU's /objects container).
    if (object_exists(spec->id)) {
        return make_error(ErrorCode::InvalidArg,
                          "attempt to add duplicate property '%s' to object (type 'container')",
                          spec->id.c_str());
    }
    if (type == "secret") {
        return secrets_.add(*spec);
    }
    if (type == "tls-creds-x509" || type == "tls-creds-anon") {
        auto creds = crypto::TlsCreds::from_spec(*spec, secrets_);
        if (!creds) {
            return creds.take_error();
        }
        return tls_creds_.add(std::move(creds.value()));
    }
    if (type == "tls-creds-psk") {
        return make_error(ErrorCode::Unsupported, "object type 'tls-creds-psk' is not supported by qvnc");
    }
    if (acl::AclStore::handles_type(type)) {
        return acls_.add_object(*spec);
    }
    return make_error(ErrorCode::InvalidArg, "invalid object type: %s", type.c_str());
}

Result<vnc::Server *> Context::open_display(std::string_view options, const qvnc_display_ops *ops,
                                            void *opaque)
{
    Result<vnc::VncConfig> cfg = vnc::parse_vnc_options(
        options, [this](std::string_view id) { return find_display(id) != nullptr; });
    if (!cfg) {
        return cfg.take_error();
    }
    if (find_display(cfg->id)) {
        return make_error(ErrorCode::InvalidArg, "Duplicate ID '%s' for vnc", cfg->id.c_str());
    }
    auto server = std::make_unique<vnc::Server>(*this, std::move(cfg.value()), ops, opaque);
    Status st = server->start();
    if (!st) {
        return st.take_error();
    }
    servers_.push_back(std::move(server));
    return servers_.back().get();
}

void Context::close_display(vnc::Server *server)
{
    servers_.remove_if([server](const auto &s) { return s.get() == server; });
}

bool Context::authz_allowed(std::string_view id, std::string_view identity, std::string *why) const
{
    return acls_.is_allowed(id, identity, why);
}

Result<std::shared_ptr<vnc::Console>> Context::add_console(const std::string &device_id, int head)
{
    if (device_id.empty() || head < 0) {
        return make_error(ErrorCode::InvalidArg, "a console needs a device id and a head >= 0");
    }
    if (find_console(device_id, head)) {
        return make_error(ErrorCode::InvalidArg, "Device %s (head %d) already has a console",
                          device_id.c_str(), head);
    }
    auto con = std::make_shared<vnc::Console>(device_id, head);
    consoles_.push_back(con);
    return con;
}

void Context::remove_console(const vnc::Console *console)
{
    std::erase_if(consoles_, [console](const auto &c) { return c.get() == console; });
}

std::shared_ptr<vnc::Console> Context::find_console(std::string_view device_id, int head) const
{
    for (const auto &c : consoles_) {
        if (c->device_id() == device_id && c->head() == head) {
            return c;
        }
    }
    return nullptr;
}

Error Context::console_lookup_error(std::string_view device_id, int head) const
{
    std::string id(device_id);
    for (const auto &c : consoles_) {
        if (c->device_id() == device_id) {
            return make_error(ErrorCode::NotFound, "Device %s (head %d) is not bound to a QemuConsole",
                              id.c_str(), head);
        }
    }
    return make_error(ErrorCode::NotFound, "Device '%s' not found", id.c_str());
}

int Context::add_client_observer(ClientObserver fn)
{
    int token = next_observer_++;
    observers_.emplace(token, std::move(fn));
    return token;
}

void Context::remove_client_observer(int token) { observers_.erase(token); }

void Context::notify_client_event(vnc::Server &s, qvnc_client_event ev, const vnc::Connection &c)
{
    // A copy: an observer may add or remove observers.
    auto snapshot = observers_;
    for (auto &[token, fn] : snapshot) {
        fn(s, ev, c);
    }
}

vnc::Server *Context::find_display(std::string_view id) const
{
    for (const auto &s : servers_) {
        if (s->id() == id) {
            return s.get();
        }
    }
    return nullptr;
}

std::vector<vnc::Server *> Context::displays() const
{
    std::vector<vnc::Server *> out;
    for (const auto &s : servers_) {
        out.push_back(s.get());
    }
    return out;
}

} // namespace qvnc
