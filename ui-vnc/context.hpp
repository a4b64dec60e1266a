// The root object behind qvnc_context: the host's GMainContext, the log
// sink, user-created objects (secrets; later TLS creds and authz) and the
// id -> display registry.  No globals: two contexts in one process are
// independent.
#pragma once

#include <glib.h>

#include <functional>
#include <list>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "acl-store.hpp"
#include "auth-blacklist.hpp"
#include "console.hpp"
#include "error.hpp"
#include "keymap.hpp"
#include "log.hpp"
#include "qvnc-display.h"
#include "secret.hpp"
#include "tls-creds.hpp"

namespace qvnc {

namespace vnc {
class Server;
class Connection;
}

class Context {
public:
    explicit Context(GMainContext *main_context);
    ~Context();
    Context(const Context &) = delete;
    Context &operator=(const Context &) = delete;

    GMainContext *main_context() const { return main_context_.get(); }
    Logger &logger() { return logger_; }
    const Logger &logger() const { return logger_; }

    const std::string &name() const { return name_; }
    // QEMU's -k: the layout for keysym-only clients ("" = en-us default).
    Status set_keymap(const std::string &layout);
    const std::shared_ptr<const vnc::Keymap> &keymap() const { return keymap_; }
    bool keymap_given() const { return keymap_given_; }
    void set_name(std::string name);
    // How long a client may take from connect to ClientInit (all of the
    // security handshake, a person typing included).  Applies to clients
    // that connect afterwards.
    unsigned handshake_timeout_ms() const { return handshake_timeout_ms_; }
    void set_handshake_timeout_ms(unsigned ms) { handshake_timeout_ms_ = ms; }

    crypto::SecretStore &secrets() { return secrets_; }
    crypto::TlsCredsStore &tls_creds() { return tls_creds_; }
    acl::AclStore &acls() { return acls_; }
    vnc::AuthBlacklist &blacklist() { return blacklist_; }
    const acl::AclStore &acls() const { return acls_; }
    // Late-bound authorization (QEMU's qauthz_is_allowed_by_id): the object
    // is looked up at each decision; a missing one denies.
    bool authz_allowed(std::string_view id, std::string_view identity, std::string *why) const;
    Status add_object(std::string_view spec);
    // Whether any user-created object (secret, creds, authz) has this id.
    bool object_exists(std::string_view id) const
    {
        return secrets_.contains(id) || tls_creds_.find(id) || acls_.contains(id);
    }

    Result<vnc::Server *> open_display(std::string_view options, const qvnc_display_ops *ops,
                                       void *opaque);
    void close_display(vnc::Server *server);
    vnc::Server *find_display(std::string_view id) const;

    // Consoles the emulator registered (qvnc_console_new), by device id and
    // head, for -vnc ...,display=ID,head=N.
    Result<std::shared_ptr<vnc::Console>> add_console(const std::string &device_id, int head);
    void remove_console(const vnc::Console *console);
    std::shared_ptr<vnc::Console> find_console(std::string_view device_id, int head) const;
    // QEMU's texts for a failed lookup.
    Error console_lookup_error(std::string_view device_id, int head) const;

    // Observers of client lifecycle events (the monitor's VNC_* events).
    using ClientObserver =
        std::function<void(vnc::Server &, qvnc_client_event, const vnc::Connection &)>;
    int add_client_observer(ClientObserver fn);
    void remove_client_observer(int token);
    void notify_client_event(vnc::Server &s, qvnc_client_event ev, const vnc::Connection &c);
    std::vector<vnc::Server *> displays() const;

private:
    struct MainContextUnref {
        void operator()(GMainContext *c) const { g_main_context_unref(c); }
    };
    // Declared first: everything below may hold sources attached to it.
    std::unique_ptr<GMainContext, MainContextUnref> main_context_;
    Logger logger_;
    std::string name_;
    std::shared_ptr<const vnc::Keymap> keymap_;
    bool keymap_given_ = false;
    unsigned handshake_timeout_ms_ = 120 * 1000;
    crypto::SecretStore secrets_;
    crypto::TlsCredsStore tls_creds_;
    acl::AclStore acls_;
    vnc::AuthBlacklist blacklist_;
    std::list<std::unique_ptr<vnc::Server>> servers_;
    std::map<int, ClientObserver> observers_;
    std::vector<std::shared_ptr<vnc::Console>> consoles_;
    int next_observer_ = 1;
};

} // namespace qvnc
