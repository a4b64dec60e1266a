// The root object behind qvnc_context: the host's GMainContext, the log
// sink, user-created objects (secrets; later TLS creds and authz) and the
// id -> display registry.  No globals: two contexts in one process are
// independent.
#pragma once

#include <glib.h>

#include <list>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "error.hpp"
#include "log.hpp"
#include "qvnc-display.h"
#include "secret.hpp"

namespace qvnc {

namespace vnc {
class Server;
}

class Context {
public:
    explicit Context(GMainContext *main_context);
    ~Context();
    Context(const Context &) = delete;
    Context &operator=(const Context &) = delete;

    GMainContext *main_context() const { return main_context_; }
    Logger &logger() { return logger_; }
    const Logger &logger() const { return logger_; }

    const std::string &name() const { return name_; }
    void set_name(std::string name);

    crypto::SecretStore &secrets() { return secrets_; }
    Status add_object(std::string_view spec);

    Result<vnc::Server *> open_display(std::string_view options, const qvnc_display_ops *ops,
                                       void *opaque);
    void close_display(vnc::Server *server);
    vnc::Server *find_display(std::string_view id) const;
    std::vector<vnc::Server *> displays() const;

private:
    GMainContext *main_context_;
    Logger logger_;
    std::string name_;
    crypto::SecretStore secrets_;
    std::list<std::unique_ptr<vnc::Server>> servers_;
};

} // namespace qvnc
