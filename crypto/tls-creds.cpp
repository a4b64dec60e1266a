#include "tls-creds.hpp"

#include <glib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "tls-cert-check.hpp"

namespace qvnc::crypto {

namespace {

// QEMU's file names inside dir=.
constexpr const char *kCaCert = "ca-cert.pem";
constexpr const char *kCaCrl = "ca-crl.pem";
constexpr const char *kServerCert = "server-cert.pem";
constexpr const char *kServerKey = "server-key.pem";
constexpr const char *kDhParams = "dh-params.pem";

struct CredsPath {
    std::string path;
    bool exists = false;
};

Result<CredsPath> creds_path(const std::string &dir, const char *name, bool required)
{
    CredsPath p{dir + "/" + name, false};
    struct stat sb;
    if (::stat(p.path.c_str(), &sb) == 0) {
        p.exists = true;
        return p;
    }
    if (errno == ENOENT && !required) {
        return p;
    }
    return make_error(ErrorCode::Tls, "Unable to access credentials %s: %s", p.path.c_str(),
                      std::strerror(errno));
}

Result<std::string> read_file(const std::string &path)
{
    gchar *data = nullptr;
    gsize len = 0;
    GError *gerr = nullptr;
    if (!g_file_get_contents(path.c_str(), &data, &len, &gerr)) {
        std::string msg = gerr->message;
        g_error_free(gerr);
        return make_error(ErrorCode::Tls, "Cannot read %s: %s", path.c_str(), msg.c_str());
    }
    std::string out(data, len);
    g_free(data);
    return out;
}

gnutls_datum_t datum(const std::string &s)
{
    return {reinterpret_cast<unsigned char *>(const_cast<char *>(s.data())),
            static_cast<unsigned>(s.size())};
}

// Imports every certificate of a PEM file (a CA file may hold a chain).
Result<std::vector<X509CrtPtr>> import_certs(const std::string &path)
{
    Result<std::string> pem = read_file(path);
    if (!pem) {
        return pem.take_error();
    }
    gnutls_datum_t d = datum(*pem);
    gnutls_x509_crt_t *list = nullptr;
    unsigned n = 0;
    int rc = gnutls_x509_crt_list_import2(&list, &n, &d, GNUTLS_X509_FMT_PEM, 0);
    if (rc < 0) {
        return make_error(ErrorCode::Tls, "Unable to import certificate %s: %s", path.c_str(),
                          gnutls_strerror(rc));
    }
    std::vector<X509CrtPtr> out;
    for (unsigned i = 0; i < n; i++) {
        out.emplace_back(list[i]);
    }
    gnutls_free(list);
    return out;
}

} // namespace

Result<std::shared_ptr<TlsCreds>> TlsCreds::create(Config config, const SecretStore &secrets)
{
    auto c = std::make_shared<TlsCreds>(Key{}, std::move(config));
    if (!c->config_.server) {
        // A client-endpoint object is valid to create; a VNC server simply
        // cannot use it (checked where -vnc tls-creds= resolves it).
        return c;
    }
    Result<std::shared_ptr<const Loaded>> l = c->load(secrets);
    if (!l) {
        return l.take_error();
    }
    c->loaded_ = std::move(l.value());
    return c;
}

Result<std::shared_ptr<TlsCreds>> TlsCreds::from_spec(const opts::ObjectSpec &spec,
                                                      const SecretStore &secrets)
{
    Config c;
    c.id = spec.id;
    bool x509 = spec.qom_type == "tls-creds-x509";
    c.type = x509 ? TlsCredsType::X509 : TlsCredsType::Anon;
    Status known = x509 ? opts::check_known_props(spec, {"dir", "endpoint", "verify-peer", "priority",
                                                         "sanity-check", "passwordid", "loaded"})
                        : opts::check_known_props(spec, {"dir", "endpoint", "verify-peer", "priority",
                                                         "loaded"});
    if (!known) {
        return known.take_error();
    }
    auto dir = opts::get_string(spec, "dir");
    auto endpoint = opts::get_string(spec, "endpoint");
    auto priority = opts::get_string(spec, "priority");
    auto passwordid = opts::get_string(spec, "passwordid");
    auto verify = opts::get_bool(spec, "verify-peer", true);
    auto sanity = opts::get_bool(spec, "sanity-check", true);
    for (const auto *r : {&dir, &endpoint, &priority, &passwordid}) {
        if (!*r) {
            return r->error();
        }
    }
    if (!verify) {
        return verify.take_error();
    }
    if (!sanity) {
        return sanity.take_error();
    }
    c.dir = dir->value_or("");
    std::string ep = endpoint->value_or("client");
    if (ep != "client" && ep != "server") {
        return make_error(ErrorCode::InvalidArg, "Parameter 'endpoint' does not accept value '%s'",
                          ep.c_str());
    }
    c.server = ep == "server";
    c.verify_peer = *verify;
    c.sanity_check = *sanity;
    c.priority = priority->value_or("");
    c.passwordid = passwordid->value_or("");
    if (x509 && c.dir.empty()) {
        return make_error(ErrorCode::InvalidArg, "Missing 'dir' property value");
    }
    return create(std::move(c), secrets);
}

std::string TlsCreds::priority() const
{
    std::string base = config_.priority.empty() ? "NORMAL" : config_.priority;
    if (config_.type == TlsCredsType::Anon) {
        // Anonymous key exchange exists only up to TLS 1.2; ECDH first.
        base += ":+ANON-ECDH:+ANON-DH";
    }
    return base;
}

Status TlsCreds::reload(const SecretStore &secrets)
{
    Result<std::shared_ptr<const Loaded>> l = load(secrets);
    if (!l) {
        return l.take_error();
    }
    loaded_ = std::move(l.value());
    return ok_status();
}

Result<std::shared_ptr<const TlsCreds::Loaded>> TlsCreds::load(const SecretStore &secrets) const
{
    return config_.type == TlsCredsType::X509 ? load_x509(secrets) : load_anon();
}

Result<std::shared_ptr<const TlsCreds::Loaded>> TlsCreds::load_anon() const
{
    auto l = std::make_shared<Loaded>();
    gnutls_anon_server_credentials_t anon = nullptr;
    int rc = gnutls_anon_allocate_server_credentials(&anon);
    if (rc < 0) {
        return make_error(ErrorCode::Tls, "Cannot allocate credentials: %s", gnutls_strerror(rc));
    }
    l->anon.reset(anon);
    if (!config_.dir.empty()) {
        auto dh = creds_path(config_.dir, kDhParams, false);
        if (!dh) {
            return dh.take_error();
        }
        if (dh->exists) {
            auto pem = read_file(dh->path);
            if (!pem) {
                return pem.take_error();
            }
            gnutls_dh_params_t p = nullptr;
            gnutls_dh_params_init(&p);
            l->dh.reset(p);
            gnutls_datum_t d = datum(*pem);
            rc = gnutls_dh_params_import_pkcs3(p, &d, GNUTLS_X509_FMT_PEM);
            if (rc < 0) {
                return make_error(ErrorCode::Tls, "Unable to load DH parameters from %s: %s",
                                  dh->path.c_str(), gnutls_strerror(rc));
            }
            gnutls_anon_set_server_dh_params(anon, p);
            return std::shared_ptr<const Loaded>(std::move(l));
        }
    }
    gnutls_anon_set_server_known_dh_params(anon, GNUTLS_SEC_PARAM_MEDIUM);
    return std::shared_ptr<const Loaded>(std::move(l));
}

Result<std::shared_ptr<const TlsCreds::Loaded>> TlsCreds::load_x509(const SecretStore &secrets) const
{
    auto ca = creds_path(config_.dir, kCaCert, true);
    auto crl = creds_path(config_.dir, kCaCrl, false);
    auto cert = creds_path(config_.dir, kServerCert, true);
    auto key = creds_path(config_.dir, kServerKey, true);
    auto dh = creds_path(config_.dir, kDhParams, false);
    for (auto *p : {&ca, &crl, &cert, &key, &dh}) {
        if (!*p) {
            return p->error();
        }
    }
    if (config_.sanity_check) {
        auto cas = import_certs(ca->path);
        if (!cas) {
            return make_error(ErrorCode::Tls, "Unable to import CA certificate list %s",
                              ca->path.c_str());
        }
        auto leaf = import_certs(cert->path);
        if (!leaf || leaf->empty()) {
            return make_error(ErrorCode::Tls, "Unable to import server certificate %s: %s",
                              cert->path.c_str(), leaf ? "no certificate" : leaf.error().message.c_str());
        }
        std::vector<gnutls_x509_crt_t> raw_cas;
        for (auto &c : *cas) {
            Status st = check_certificate(c.get(), ca->path, CertRole::Ca);
            if (!st) {
                return st.take_error();
            }
            raw_cas.push_back(c.get());
        }
        Status st = check_certificate((*leaf)[0].get(), cert->path, CertRole::Server);
        if (!st) {
            return st.take_error();
        }
        st = check_certificate_pair((*leaf)[0].get(), cert->path, raw_cas, ca->path, CertRole::Server);
        if (!st) {
            return st.take_error();
        }
    }

    auto l = std::make_shared<Loaded>();
    gnutls_certificate_credentials_t creds = nullptr;
    int rc = gnutls_certificate_allocate_credentials(&creds);
    if (rc < 0) {
        return make_error(ErrorCode::Tls, "Cannot allocate credentials: '%s'", gnutls_strerror(rc));
    }
    l->x509.reset(creds);
    rc = gnutls_certificate_set_x509_trust_file(creds, ca->path.c_str(), GNUTLS_X509_FMT_PEM);
    if (rc < 0) {
        return make_error(ErrorCode::Tls, "Cannot load CA certificate '%s': %s", ca->path.c_str(),
                          gnutls_strerror(rc));
    }
    std::string password;
    if (!config_.passwordid.empty()) {
        auto pw = secrets.lookup(config_.passwordid);
        if (!pw) {
            return pw.take_error();
        }
        password = std::move(pw.value());
    }
    rc = gnutls_certificate_set_x509_key_file2(creds, cert->path.c_str(), key->path.c_str(),
                                               GNUTLS_X509_FMT_PEM,
                                               password.empty() ? nullptr : password.c_str(), 0);
    if (rc < 0) {
        return make_error(ErrorCode::Tls, "Cannot load certificate '%s' & key '%s': %s",
                          cert->path.c_str(), key->path.c_str(), gnutls_strerror(rc));
    }
    if (crl->exists) {
        rc = gnutls_certificate_set_x509_crl_file(creds, crl->path.c_str(), GNUTLS_X509_FMT_PEM);
        if (rc < 0) {
            return make_error(ErrorCode::Tls, "Cannot load CRL '%s': %s", crl->path.c_str(),
                              gnutls_strerror(rc));
        }
    }
    if (dh->exists) {
        auto pem = read_file(dh->path);
        if (!pem) {
            return pem.take_error();
        }
        gnutls_dh_params_t p = nullptr;
        gnutls_dh_params_init(&p);
        l->dh.reset(p);
        gnutls_datum_t d = datum(*pem);
        rc = gnutls_dh_params_import_pkcs3(p, &d, GNUTLS_X509_FMT_PEM);
        if (rc < 0) {
            return make_error(ErrorCode::Tls, "Unable to load DH parameters from %s: %s",
                              dh->path.c_str(), gnutls_strerror(rc));
        }
        gnutls_certificate_set_dh_params(creds, p);
    } else {
        gnutls_certificate_set_known_dh_params(creds, GNUTLS_SEC_PARAM_MEDIUM);
    }
    return std::shared_ptr<const Loaded>(std::move(l));
}

Status TlsCredsStore::add(std::shared_ptr<TlsCreds> creds)
{
    const std::string &id = creds->id();
    if (creds_.count(id)) {
        return make_error(ErrorCode::InvalidArg,
                          "attempt to add duplicate property '%s' to object (type 'container')",
                          id.c_str());
    }
    creds_.emplace(id, std::move(creds));
    return ok_status();
}

std::shared_ptr<TlsCreds> TlsCredsStore::find(std::string_view id) const
{
    auto it = creds_.find(id);
    return it == creds_.end() ? nullptr : it->second;
}

bool TlsCredsStore::remove(std::string_view id)
{
    auto it = creds_.find(id);
    if (it == creds_.end()) {
        return false;
    }
    creds_.erase(it);
    return true;
}

} // namespace qvnc::crypto
