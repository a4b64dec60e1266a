#include "context.hpp"

#include "object-spec.hpp"
#include "server.hpp"
#include "vnc-config.hpp"

namespace qvnc {

Context::Context(GMainContext *main_context)
    : main_context_(main_context ? main_context : g_main_context_default())
{
    g_main_context_ref(main_context_);
}

Context::~Context()
{
    // Displays first: their sources live in the main context.
    servers_.clear();
    g_main_context_unref(main_context_);
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
    if (type == "secret") {
        return secrets_.add(*spec);
    }
    if (type == "tls-creds-x509" || type == "tls-creds-anon" || type == "tls-creds-psk") {
        return make_error(ErrorCode::Unsupported,
                          "object type '%s' is not implemented yet in qvnc (TLS support pending)",
                          type.c_str());
    }
    if (type == "authz-simple" || type == "authz-list" || type == "authz-list-file" ||
        type == "authz-pam") {
        return make_error(ErrorCode::Unsupported,
                          "object type '%s' is not implemented yet in qvnc (authz support pending)",
                          type.c_str());
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
