#include "acl-store.hpp"

#include "authz-list-file.hpp"

namespace qvnc::acl {

std::string legacy_list_name(std::string_view display_id, std::string_view kind)
{
    if (display_id == "default") {
        return strprintf("vnc.%.*s", static_cast<int>(kind.size()), kind.data());
    }
    return strprintf("vnc.%.*s.%.*s", static_cast<int>(display_id.size()), display_id.data(),
                     static_cast<int>(kind.size()), kind.data());
}

AclStore::AclStore(GMainContext *main_context) : main_context_(main_context) {}

// Out of line: destroys the objects (and their file monitors) while the
// members they call back into still exist.
AclStore::~AclStore()
{
    objects_.clear();
}

bool AclStore::handles_type(std::string_view qom_type)
{
    return qom_type == "authz-simple" || qom_type == "authz-list" ||
           qom_type == "authz-list-file" || qom_type == "authz-pam";
}

Status AclStore::add_object(const opts::ObjectSpec &spec)
{
    if (contains(spec.id)) {
        return make_error(ErrorCode::InvalidArg,
                          "attempt to add duplicate property '%s' to object (type 'container')",
                          spec.id.c_str());
    }

    std::unique_ptr<Authz> object;
    if (spec.qom_type == "authz-simple") {
        auto created = AuthzSimple::create(spec);
        if (!created) {
            return created.take_error();
        }
        object = std::move(created.value());
    } else if (spec.qom_type == "authz-list") {
        auto created = AuthzList::create(spec);
        if (!created) {
            return created.take_error();
        }
        object = std::move(created.value());
    } else if (spec.qom_type == "authz-list-file") {
        // The object can outlive a log handler change: route through the
        // store so the current handler is used.
        auto created = AuthzListFile::create(
            spec, main_context_,
            [this](LogLevel level, const std::string &message) { log(level, message); });
        if (!created) {
            return created.take_error();
        }
        object = std::move(created.value());
    } else if (spec.qom_type == "authz-pam") {
        return make_error(ErrorCode::Unsupported, "authz-pam is not supported by qvnc");
    } else {
        return make_error(ErrorCode::InvalidArg, "invalid object type: %s",
                          spec.qom_type.c_str());
    }

    objects_.emplace(spec.id, std::move(object));
    return ok_status();
}

bool AclStore::remove_object(std::string_view id)
{
    auto it = objects_.find(id);
    if (it == objects_.end()) {
        return false;
    }
    objects_.erase(it);
    return true;
}

bool AclStore::contains(std::string_view id) const
{
    return objects_.find(id) != objects_.end();
}

Authz *AclStore::find_object(std::string_view id)
{
    auto it = objects_.find(id);
    return it == objects_.end() ? nullptr : it->second.get();
}

const Authz *AclStore::find_object(std::string_view id) const
{
    auto it = objects_.find(id);
    return it == objects_.end() ? nullptr : it->second.get();
}

std::vector<std::string> AclStore::ids() const
{
    std::vector<std::string> out;
    out.reserve(objects_.size());
    for (const auto &entry : objects_) {
        out.push_back(entry.first);
    }
    return out;
}

Acl *AclStore::find_list(std::string_view name)
{
    auto *list = dynamic_cast<AuthzList *>(find_object(name));
    return list ? &list->acl() : nullptr;
}

Acl &AclStore::ensure_list(std::string_view name)
{
    auto it = objects_.find(name);
    if (it != objects_.end()) {
        if (auto *list = dynamic_cast<AuthzList *>(it->second.get())) {
            return list->acl();
        }
        log(LogLevel::Warning,
            strprintf("replacing %s '%s' with an empty access control list (policy deny)",
                      it->second->type_name(), it->first.c_str()));
        objects_.erase(it);
    }
    auto list = std::make_unique<AuthzList>(std::string(name));
    Acl &acl = list->acl();
    objects_.emplace(std::string(name), std::move(list));
    return acl;
}

bool AclStore::is_allowed(std::string_view id, std::string_view identity, std::string *why) const
{
    const Authz *object = find_object(id);
    if (!object) {
        if (why) {
            *why = strprintf("Cannot find QAuthZ object ID %.*s", static_cast<int>(id.size()),
                             id.data());
        }
        return false;
    }
    return object->is_allowed(identity, why);
}

void AclStore::log(LogLevel level, const std::string &message) const
{
    if (log_) {
        log_(level, message);
        return;
    }
    g_log_structured("qvnc-acl", level == LogLevel::Warning ? G_LOG_LEVEL_WARNING : G_LOG_LEVEL_INFO,
                     "MESSAGE", "%s", message.c_str());
}

} // namespace qvnc::acl
