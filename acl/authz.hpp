// QEMU's QAuthZ object family (authz/base.c, simple.c, list.c): the
// `-object authz-*` types a display names in tls-authz= / sasl-authz=.
// authz-list-file lives in authz-list-file.hpp; AclStore owns them all.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "acl.hpp"
#include "error.hpp"
#include "object-spec.hpp"

namespace qvnc::acl {

enum class LogLevel { Info, Warning };
// Where the ACL module reports what happens outside any request (file
// reloads).  The owner routes it to the context's logger.
using LogFn = std::function<void(LogLevel level, const std::string &message)>;

class Authz {
public:
    virtual ~Authz() = default;
    Authz(const Authz &) = delete;
    Authz &operator=(const Authz &) = delete;

    const std::string &id() const { return id_; }
    // The -object type name, e.g. "authz-list".
    virtual const char *type_name() const = 0;

    // The access decision for `identity` (SASL username or x509 DN).  `why`
    // (optional) receives a reason only when a failure, rather than the
    // rules, made the decision, e.g. an authz-list-file whose file is broken.
    virtual bool is_allowed(std::string_view identity, std::string *why) const = 0;

protected:
    explicit Authz(std::string id) : id_(std::move(id)) {}

private:
    std::string id_;
};

// authz-simple: allows exactly one identity (string equality).
class AuthzSimple final : public Authz {
public:
    AuthzSimple(std::string id, std::string identity);

    // Properties: identity (required: "The 'identity' property must be set").
    static Result<std::unique_ptr<AuthzSimple>> create(const opts::ObjectSpec &spec);

    const char *type_name() const override { return "authz-simple"; }
    bool is_allowed(std::string_view identity, std::string *why) const override;
    const std::string &identity() const { return identity_; }

private:
    std::string identity_;
};

// authz-list, and the lists the legacy `-vnc ...,acl` flag creates
// (vnc.username etc.).  Editable through acl(): the monitor's acl_*
// commands change the live object.
class AuthzList final : public Authz {
public:
    // A deny-all list without rules.
    explicit AuthzList(std::string id);

    // Properties: policy=deny|allow (default deny) and, in the JSON form
    // only, rules=[{match, policy, format=exact|glob}].
    static Result<std::unique_ptr<AuthzList>> create(const opts::ObjectSpec &spec);

    const char *type_name() const override { return "authz-list"; }
    bool is_allowed(std::string_view identity, std::string *why) const override;

    Acl &acl() { return acl_; }
    const Acl &acl() const { return acl_; }

private:
    Acl acl_;
};

// Reads QAuthZList properties {"policy": ..., "rules": [...]} (the authz-list
// object's, and the content of an authz-list-file) into `out`, replacing its
// policy and rules.  Errors in QEMU's wording with QEMU's member paths:
// "Invalid parameter 'KEY'", "Parameter 'policy' does not accept value 'X'",
// "Parameter 'rules[1].match' is missing",
// "Invalid parameter type for 'rules', expected: array", ...
// `out` is left unchanged on error.
[[nodiscard]] Status parse_list_props(const nlohmann::json &props, Acl &out);

} // namespace qvnc::acl
