// The display's TLS credentials and the authorization of x509 names and
// SASL users (tls-authz/sasl-authz objects, or the legacy vnc.* ACLs).
#include "acl-store.hpp"
#include "context.hpp"
#include "server.hpp"

namespace qvnc::vnc {

Status Server::resolve_tls()
{
    if (!config_.tls_creds.empty()) {
        tls_creds_ = ctx_.tls_creds().find(config_.tls_creds);
        if (!tls_creds_ && ctx_.object_exists(config_.tls_creds)) {
            return make_error(ErrorCode::InvalidArg, "Object with id '%s' is not TLS credentials",
                              config_.tls_creds.c_str());
        }
        if (!tls_creds_) {
            return make_error(ErrorCode::NotFound, "No TLS credentials with id '%s'",
                              config_.tls_creds.c_str());
        }
        if (!tls_creds_->is_server()) {
            return make_error(ErrorCode::InvalidArg, "Expected TLS credentials for a server endpoint");
        }
        return ok_status();
    }
    if (!config_.tls) {
        return ok_status(); // x509/x509verify without tls are ignored, as QEMU did
    }
    // Legacy keys: QEMU created an internal creds object "tlsvnc<id>".
    crypto::TlsCreds::Config c;
    c.id = "tlsvnc" + config_.id;
    c.server = true;
    if (!config_.x509verify.empty() || !config_.x509.empty()) {
        c.type = crypto::TlsCredsType::X509;
        c.verify_peer = !config_.x509verify.empty();
        c.dir = c.verify_peer ? config_.x509verify : config_.x509;
    } else {
        c.type = crypto::TlsCredsType::Anon;
        c.verify_peer = false;
    }
    auto creds = crypto::TlsCreds::create(std::move(c), ctx_.secrets());
    if (!creds) {
        return creds.take_error();
    }
    tls_creds_ = std::move(creds.value());
    return ok_status();
}

Status Server::reload_tls()
{
    if (!tls_creds_) {
        return make_error(ErrorCode::State, "vnc tls is not enabled");
    }
    return tls_creds_->reload(ctx_.secrets());
}

bool Server::x509_allowed(const std::string &dname, std::string *why) const
{
    return authz_allowed(config_.tls_authz, "x509dname", dname, why);
}

bool Server::sasl_allowed(const std::string &user, std::string *why) const
{
    return authz_allowed(config_.sasl_authz, "username", user, why);
}

bool Server::authz_allowed(const std::string &authz, const char *legacy_kind, const std::string &id,
                           std::string *why) const
{
    // An authz object named by the option wins; `acl` means QEMU's legacy
    // ACL of that kind; neither: everyone authenticated is allowed.
    if (!authz.empty()) {
        return ctx_.authz_allowed(authz, id, why);
    }
    if (config_.acl) {
        return ctx_.authz_allowed(legacy_acl_name(legacy_kind), id, why);
    }
    return true;
}

std::string Server::legacy_acl_name(const char *kind) const
{
    return acl::legacy_list_name(config_.id, kind);
}

} // namespace qvnc::vnc
