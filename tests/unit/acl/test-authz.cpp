// authz-simple and authz-list (qemu-tests.md §3a, §3b, §3d) through the
// AclStore, plus object creation errors, late binding and the legacy lists.
#include <memory>
#include <string>

#include "acl-store.hpp"
#include "object-spec.hpp"

#include "cmocka.hpp" // last: its macros clash with <ios>

using namespace qvnc;
using namespace qvnc::acl;

namespace {

// Fixture-owned: a failed assertion longjmps past destructors.
int setup_store(void **state)
{
    *state = std::make_unique<AclStore>(nullptr).release();
    return 0;
}

int teardown_store(void **state)
{
    std::unique_ptr<AclStore> owned(static_cast<AclStore *>(*state));
    return 0;
}

AclStore &store_of(void **state)
{
    return *static_cast<AclStore *>(*state);
}

// Adds the object described by an -object argument; returns the error text
// ("" on success).
std::string add(AclStore &store, const char *text)
{
    auto spec = opts::parse_object_spec(text);
    if (!spec) {
        return "parse: " + spec.error().message;
    }
    Status st = store.add_object(*spec);
    return st ? std::string() : st.error().message;
}

void expect_add_ok(AclStore &store, const char *text)
{
    std::string err = add(store, text);
    if (!err.empty()) {
        print_error("%s: %s\n", text, err.c_str());
    }
    assert_true(err.empty());
}

void expect_add_error(AclStore &store, const char *text, const char *message)
{
    std::string err = add(store, text);
    print_message("# %s -> %s\n", text, err.c_str());
    assert_string_equal(err.c_str(), message);
    // Nothing is stored on failure.
}

// §3a
void test_simple(void **state)
{
    AclStore &store = store_of(state);
    expect_add_ok(store, "authz-simple,id=auth0,identity=cthulu");
    assert_false(store.is_allowed("auth0", "cthul"));
    assert_true(store.is_allowed("auth0", "cthulu"));
    assert_false(store.is_allowed("auth0", "cthuluu"));
    assert_false(store.is_allowed("auth0", "fred"));
    // Not an editable list.
    assert_null(store.find_list("auth0"));
    assert_non_null(store.find_object("auth0"));
    assert_string_equal(store.find_object("auth0")->type_name(), "authz-simple");
}

// §3b default/deny, default/allow, explicit/deny, explicit/allow
void test_list_policies(void **state)
{
    AclStore &store = store_of(state);
    expect_add_ok(store, "authz-list,id=d");
    expect_add_ok(store, "authz-list,id=a,policy=allow");
    expect_add_ok(store, R"({"qom-type":"authz-list","id":"ed","policy":"allow",)"
                         R"("rules":[{"match":"fred","policy":"deny","format":"exact"}]})");
    expect_add_ok(store, R"({"qom-type":"authz-list","id":"ea","policy":"deny",)"
                         R"("rules":[{"match":"fred","policy":"allow","format":"exact"}]})");
    assert_false(store.is_allowed("d", "fred"));
    assert_true(store.is_allowed("a", "fred"));
    assert_false(store.is_allowed("ed", "fred"));
    assert_true(store.is_allowed("ea", "fred"));
}

// §3b complex: first match wins, before the glob.
void test_list_complex(void **state)
{
    AclStore &store = store_of(state);
    expect_add_ok(store, R"({"qom-type":"authz-list","id":"c","policy":"deny","rules":[)"
                         R"({"match":"fred","policy":"allow","format":"exact"},)"
                         R"({"match":"bob","policy":"allow","format":"exact"},)"
                         R"({"match":"dan","policy":"deny","format":"exact"},)"
                         R"({"match":"dan*","policy":"allow","format":"glob"}]})");
    assert_true(store.is_allowed("c", "fred"));
    assert_true(store.is_allowed("c", "bob"));
    assert_false(store.is_allowed("c", "dan"));
    assert_true(store.is_allowed("c", "danb"));
    assert_false(store.is_allowed("c", "eve"));
    Acl *acl = store.find_list("c");
    assert_non_null(acl);
    assert_int_equal(acl->size(), 4);
    assert_int_equal(static_cast<int>(acl->rules()[3].format), static_cast<int>(Format::Glob));
    // format omitted: exact.
    expect_add_ok(store, R"({"qom-type":"authz-list","id":"noformat",)"
                         R"("rules":[{"match":"dan*","policy":"allow"}]})");
    assert_false(store.is_allowed("noformat", "danb"));
    assert_true(store.is_allowed("noformat", "dan*"));
}

// §3b add-remove: the 0-based QAuthZ API on a live object.
void test_list_add_remove(void **state)
{
    AclStore &store = store_of(state);
    expect_add_ok(store, "authz-list,id=ar,policy=allow");
    Acl *acl = store.find_list("ar");
    assert_non_null(acl);
    assert_int_equal(acl->append_rule({"fred", Policy::Allow, Format::Exact}), 0);
    assert_int_equal(acl->append_rule({"bob", Policy::Allow, Format::Exact}), 1);
    assert_int_equal(acl->append_rule({"dan", Policy::Deny, Format::Exact}), 2);
    assert_int_equal(acl->append_rule({"frank", Policy::Deny, Format::Exact}), 3);
    assert_false(store.is_allowed("ar", "dan"));
    assert_int_equal(acl->delete_rule("dan"), 2);
    assert_true(store.is_allowed("ar", "dan"));
    assert_int_equal(acl->insert_rule({"dan", Policy::Deny, Format::Exact}, 2), 2);
    assert_false(store.is_allowed("ar", "dan"));
    assert_string_equal(acl->rules()[2].match.c_str(), "dan");
    assert_string_equal(acl->rules()[3].match.c_str(), "frank");
}

struct ErrRow {
    const char *object;
    const char *error;
};

const ErrRow kErrors[] = {
    {"authz-simple,id=s", "The 'identity' property must be set"},
    {"authz-simple,id=s,identity=x,foo=bar", "Invalid parameter 'foo'"},
    {R"({"qom-type":"authz-simple","id":"s","identity":3})",
     "Invalid parameter type for 'identity', expected: string"},
    {"authz-list,id=l,policy=maybe", "Parameter 'policy' does not accept value 'maybe'"},
    {"authz-list,id=l,policy=Allow", "Parameter 'policy' does not accept value 'Allow'"},
    {"authz-list,id=l,bogus=1", "Invalid parameter 'bogus'"},
    // key=value values are strings: rules need the JSON form.
    {"authz-list,id=l,rules=fred", "Invalid parameter type for 'rules', expected: array"},
    {R"({"qom-type":"authz-list","id":"l","policy":1})",
     "Invalid parameter type for 'policy', expected: string"},
    {R"({"qom-type":"authz-list","id":"l","rules":{}})",
     "Invalid parameter type for 'rules', expected: array"},
    {R"({"qom-type":"authz-list","id":"l","rules":["fred"]})",
     "Invalid parameter type for 'rules[0]', expected: object"},
    {R"({"qom-type":"authz-list","id":"l","rules":[{"match":"a","policy":"deny"},)"
     R"({"policy":"deny"}]})",
     "Parameter 'rules[1].match' is missing"},
    {R"({"qom-type":"authz-list","id":"l","rules":[{"match":"a"}]})",
     "Parameter 'rules[0].policy' is missing"},
    {R"({"qom-type":"authz-list","id":"l","rules":[{"match":5,"policy":"deny"}]})",
     "Invalid parameter type for 'rules[0].match', expected: string"},
    {R"({"qom-type":"authz-list","id":"l","rules":[{"match":"a","policy":"nope"}]})",
     "Parameter 'rules[0].policy' does not accept value 'nope'"},
    {R"({"qom-type":"authz-list","id":"l","rules":[{"match":"a","policy":"deny",)"
     R"("format":"fnmatch"}]})",
     "Parameter 'rules[0].format' does not accept value 'fnmatch'"},
    {R"({"qom-type":"authz-list","id":"l","rules":[{"match":"a","policy":"deny",)"
     R"("extra":true}]})",
     "Parameter 'rules[0].extra' is unexpected"},
    {"authz-pam,id=p,service=qemu-vnc", "authz-pam is not supported by qvnc"},
    {"secret,id=x,data=y", "invalid object type: secret"},
};

void test_object_errors(void **state)
{
    AclStore &store = store_of(state);
    for (const ErrRow &row : kErrors) {
        expect_add_error(store, row.object, row.error);
    }
    assert_true(store.ids().empty());

    auto pam = opts::parse_object_spec("authz-pam,id=p,service=qemu-vnc");
    assert_true(pam.ok());
    Status st = store.add_object(*pam);
    assert_false(st.ok());
    assert_int_equal(static_cast<int>(st.error().code), static_cast<int>(ErrorCode::Unsupported));
    assert_true(AclStore::handles_type("authz-pam"));
    assert_true(AclStore::handles_type("authz-list-file"));
    assert_false(AclStore::handles_type("secret"));
}

void test_duplicate_id(void **state)
{
    AclStore &store = store_of(state);
    expect_add_ok(store, "authz-simple,id=dup,identity=a");
    expect_add_error(store, "authz-list,id=dup",
                     "attempt to add duplicate property 'dup' to object (type 'container')");
    // The original survives.
    assert_true(store.is_allowed("dup", "a"));
    assert_string_equal(store.find_object("dup")->type_name(), "authz-simple");
}

void test_late_binding(void **state)
{
    AclStore &store = store_of(state);
    std::string why;
    assert_false(store.is_allowed("auth0", "fred", &why));
    assert_string_equal(why.c_str(), "Cannot find QAuthZ object ID auth0");

    expect_add_ok(store, "authz-simple,id=auth0,identity=fred");
    why.clear();
    assert_true(store.is_allowed("auth0", "fred", &why));
    assert_true(why.empty());
    assert_false(store.is_allowed("auth0", "bob", &why));
    assert_true(why.empty()); // the rules decided

    assert_true(store.remove_object("auth0"));
    assert_false(store.remove_object("auth0"));
    assert_false(store.is_allowed("auth0", "fred"));

    // Re-created with another type under the same id: used at the next check.
    expect_add_ok(store, "authz-list,id=auth0,policy=allow");
    assert_true(store.is_allowed("auth0", "bob"));
}

void test_find_and_ensure_list(void **state)
{
    AclStore &store = store_of(state);
    assert_null(store.find_list("vnc.username"));

    Acl &user = store.ensure_list(legacy_list_name("default", "username"));
    assert_string_equal(user.name().c_str(), "vnc.username");
    assert_int_equal(static_cast<int>(user.policy()), static_cast<int>(Policy::Deny));
    assert_false(store.is_allowed("vnc.username", "fred"));

    // The legacy commands edit the live list (fnmatch rules, 1-based).
    Acl *found = store.find_list("vnc.username");
    assert_ptr_equal(found, &user);
    assert_int_equal(*found->add({"*@EXAMPLE.COM", Policy::Allow, Format::Fnmatch}), 1);
    assert_true(store.is_allowed("vnc.username", "fred@EXAMPLE.COM"));
    assert_false(store.is_allowed("vnc.username", "fred@example.com"));

    // ensure_list is idempotent: rules survive.
    Acl &again = store.ensure_list("vnc.username");
    assert_ptr_equal(&again, &user);
    assert_int_equal(again.size(), 1);

    // authz-list objects are editable lists too.
    expect_add_ok(store, "authz-list,id=mylist");
    assert_non_null(store.find_list("mylist"));

    // Another type under a list name is replaced by a deny-all list.
    expect_add_ok(store, "authz-simple,id=simple0,identity=fred");
    std::string logged;
    store.set_log_handler([&](LogLevel, const std::string &m) { logged = m; });
    Acl &replaced = store.ensure_list("simple0");
    assert_int_equal(replaced.size(), 0);
    assert_false(store.is_allowed("simple0", "fred"));
    assert_string_equal(store.find_object("simple0")->type_name(), "authz-list");
    assert_true(logged.find("simple0") != std::string::npos);
    store.set_log_handler(nullptr);
}

void test_legacy_list_names(void **)
{
    assert_string_equal(legacy_list_name("default", "username").c_str(), "vnc.username");
    assert_string_equal(legacy_list_name("default", "x509dname").c_str(), "vnc.x509dname");
    assert_string_equal(legacy_list_name("vnc1", "username").c_str(), "vnc.vnc1.username");
    assert_string_equal(legacy_list_name("vnc1", "x509dname").c_str(), "vnc.vnc1.x509dname");
}

void test_two_stores_independent(void **state)
{
    AclStore &store = store_of(state);
    AclStore other(nullptr);
    store.ensure_list("vnc.username").set_policy(Policy::Allow);
    assert_true(store.is_allowed("vnc.username", "fred"));
    assert_null(other.find_list("vnc.username"));
    assert_false(other.is_allowed("vnc.username", "fred"));
    other.ensure_list("vnc.username");
    assert_false(other.is_allowed("vnc.username", "fred"));
    assert_true(store.is_allowed("vnc.username", "fred"));
}

} // namespace

#define STORE_TEST(fn) cmocka_unit_test_setup_teardown(fn, setup_store, teardown_store)

int main()
{
    const struct CMUnitTest tests[] = {
        STORE_TEST(test_simple),
        STORE_TEST(test_list_policies),
        STORE_TEST(test_list_complex),
        STORE_TEST(test_list_add_remove),
        STORE_TEST(test_object_errors),
        STORE_TEST(test_duplicate_id),
        STORE_TEST(test_late_binding),
        STORE_TEST(test_find_and_ensure_list),
        cmocka_unit_test(test_legacy_list_names),
        STORE_TEST(test_two_stores_independent),
    };
    return cmocka_run_group_tests_name("authz", tests, nullptr, nullptr);
}
