// authz-list-file: an authz-list whose policy and rules live in a JSON file
// ({"policy": ..., "rules": [...]}, the authz-list property schema).
//
// With refresh=on (the default) a GFileMonitor watches the file and the
// rules are reloaded when it changes, including when an editor replaces it
// through a rename.  A reload that fails (unreadable file, bad JSON, bad
// schema) leaves the object denying everyone, and logs why, until a good
// version is loaded: a half-written or broken file must never widen access.
// Deleting the file keeps the last rules (as QEMU, which ignores deletions).
//
// Monitor callbacks run on the GMainContext given at creation, the thread
// that iterates it being the only one that may use the object.
#pragma once

#include <gio/gio.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "acl.hpp"
#include "authz.hpp"

namespace qvnc::acl {

// Loads and validates a list file.  Errors name the file:
// "Unable to read 'F': <reason>", "File 'F' must contain a JSON object",
// "File 'F': JSON parse error, ...", "File 'F': Parameter 'policy' ...".
[[nodiscard]] Result<Acl> load_list_file(const std::string &filename);

class AuthzListFile final : public Authz {
    struct Key {
        explicit Key() = default;
    };

public:
    // Use create(); the key keeps construction to it (make_unique needs a
    // public constructor).
    AuthzListFile(Key, std::string id, std::string filename, LogFn log);

    // Properties: filename (required), refresh=on|off (default on).  The
    // file must load at creation; with refresh on the name must have a
    // directory part ("Filename must be an absolute path", as QEMU).
    // `main_context` (nullptr = the global default context) receives the
    // monitor's callbacks; `log` reports reloads.
    static Result<std::unique_ptr<AuthzListFile>> create(const opts::ObjectSpec &spec,
                                                         GMainContext *main_context, LogFn log);
    ~AuthzListFile() override;

    const char *type_name() const override { return "authz-list-file"; }
    bool is_allowed(std::string_view identity, std::string *why) const override;

    const std::string &filename() const { return filename_; }
    bool refresh() const { return monitor_ != nullptr; }
    // The rules in force; nullptr while the last load failed (deny all).
    const Acl *list() const { return list_ ? &*list_ : nullptr; }
    // Why the last load failed; empty while a good version is loaded.
    const std::string &last_error() const { return last_error_; }
    // Number of loads attempted after creation (monitor events or reload()).
    uint64_t reload_count() const { return reload_count_; }

    // Reads the file again now, with the semantics of a monitor event.
    Status reload();

private:
    struct GObjectUnref {
        void operator()(void *object) const { g_object_unref(object); }
    };

    Status watch(GMainContext *main_context);
    void on_file_event(GFileMonitorEvent event);
    static void file_changed_cb(GFileMonitor *monitor, GFile *file, GFile *other,
                                GFileMonitorEvent event, gpointer self);

    std::string filename_;
    LogFn log_;
    std::optional<Acl> list_;
    std::string last_error_;
    uint64_t reload_count_ = 0;
    std::unique_ptr<GFile, GObjectUnref> file_;
    std::unique_ptr<GFileMonitor, GObjectUnref> monitor_;
    gulong handler_id_ = 0;
};

} // namespace qvnc::acl
