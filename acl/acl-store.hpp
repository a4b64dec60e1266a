// The authorization objects of one context: the `-object authz-*` family
// and the lists the legacy `-vnc ...,acl` flag creates.  One per context, no
// globals.  Not thread-safe: every call, and the file-monitor callbacks on
// the GMainContext given at construction, happen on the thread iterating it.
//
// Servers keep object ids, never pointers, and ask is_allowed(id, ...) at
// decision time (QEMU's qauthz_is_allowed_by_id): monitor edits, object-del
// and re-creation apply to the next login, and a missing object denies.
#pragma once

#include <glib.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "acl.hpp"
#include "authz.hpp"
#include "error.hpp"
#include "object-spec.hpp"

namespace qvnc::acl {

// The legacy list names QEMU used: "vnc.username" / "vnc.x509dname" for the
// display id "default", "vnc.<id>.username" / "vnc.<id>.x509dname"
// otherwise.  `kind` is "username" or "x509dname".
std::string legacy_list_name(std::string_view display_id, std::string_view kind);

class AclStore {
public:
    // `main_context` (nullptr = the global default context) runs the
    // authz-list-file monitors.  Not owned; must outlive the store.
    explicit AclStore(GMainContext *main_context);
    ~AclStore();
    // Objects hold callbacks into the store: it stays where it was built.
    AclStore(const AclStore &) = delete;
    AclStore &operator=(const AclStore &) = delete;

    // Receives reload reports of authz-list-file objects.  Without one they
    // go to g_log (domain "qvnc-acl").
    void set_log_handler(LogFn fn) { log_ = std::move(fn); }

    // The -object types add_object() accepts (authz-pam included, so that it
    // fails with the Unsupported error rather than "invalid object type").
    static bool handles_type(std::string_view qom_type);

    // object-add / -object for authz-simple, authz-list, authz-list-file.
    // Errors: "attempt to add duplicate property 'ID' to object (type
    // 'container')", "authz-pam is not supported by qvnc" (Unsupported),
    // "invalid object type: T", and the objects' own property errors.
    // Ids are only checked against this store: the caller checks other
    // object kinds (secrets, TLS credentials) sharing the namespace.
    [[nodiscard]] Status add_object(const opts::ObjectSpec &spec);

    // object-del.  False when there is no such object.
    bool remove_object(std::string_view id);

    bool contains(std::string_view id) const;
    Authz *find_object(std::string_view id);
    const Authz *find_object(std::string_view id) const;
    // Ids in sorted order.
    std::vector<std::string> ids() const;

    // The editable list with this name: any authz-list object, including the
    // legacy lists.  authz-simple and authz-list-file are not editable, so
    // they give nullptr like a missing name ("acl: unknown list 'NAME'").
    // The pointer is valid until the object is removed or replaced: use it
    // for one command, never keep it.
    Acl *find_list(std::string_view name);

    // The list `name`, created with policy deny and no rules if missing
    // (`-vnc ...,acl`).  Should `name` belong to an object of another type,
    // that object is replaced by a deny-all list: a name meant for a list
    // must never silently resolve to something else.  Same validity as
    // find_list().
    Acl &ensure_list(std::string_view name);

    // The access decision of object `id` for `identity`, resolved now.
    // A missing object denies with why = "Cannot find QAuthZ object ID ID".
    // `why` is also set when a broken authz-list-file denies; it is left
    // untouched when the rules decided.
    bool is_allowed(std::string_view id, std::string_view identity,
                    std::string *why = nullptr) const;

private:
    void log(LogLevel level, const std::string &message) const;

    GMainContext *main_context_;
    LogFn log_;
    std::map<std::string, std::unique_ptr<Authz>, std::less<>> objects_;
};

} // namespace qvnc::acl
