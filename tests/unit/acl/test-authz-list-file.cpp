// authz-list-file: the qemu-tests.md §3c table (refresh=off), creation
// errors, and refresh=on reloading through a GFileMonitor on a private
// GMainContext (in-place rewrites, editor-style rename replacement, a broken
// file denying everyone until it is fixed).
#include <glib.h>
#include <glib/gstdio.h>
#include <unistd.h>

#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "acl-store.hpp"
#include "authz-list-file.hpp"
#include "object-spec.hpp"

#include "cmocka.hpp" // last: its macros clash with <ios>

using namespace qvnc;
using namespace qvnc::acl;

namespace {

// Upper bound for a file event to arrive; the wait ends as soon as it does.
constexpr guint kEventTimeoutMs = 10000;

struct Fixture {
    GMainContext *ctx = nullptr;
    std::string dir;
    std::vector<std::string> logs;
    std::unique_ptr<AclStore> store;

    std::string path(const char *name) const { return dir + "/" + name; }
    bool logged(const std::string &needle) const
    {
        for (const std::string &line : logs) {
            if (line.find(needle) != std::string::npos) {
                return true;
            }
        }
        return false;
    }
};

int setup(void **state)
{
    auto fx = std::make_unique<Fixture>();
    GError *err = nullptr;
    char *dir = g_dir_make_tmp("qvnc-authz-XXXXXX", &err);
    if (!dir) {
        g_error_free(err);
        return -1;
    }
    fx->dir = dir;
    g_free(dir);
    fx->ctx = g_main_context_new();
    fx->store = std::make_unique<AclStore>(fx->ctx);
    Fixture *raw = fx.get();
    fx->store->set_log_handler(
        [raw](LogLevel, const std::string &message) { raw->logs.push_back(message); });
    *state = fx.release();
    return 0;
}

int teardown(void **state)
{
    std::unique_ptr<Fixture> fx(static_cast<Fixture *>(*state));
    fx->store.reset(); // monitors go before their context
    // Drain what the cancelled monitors may have queued.
    while (g_main_context_iteration(fx->ctx, FALSE)) {
    }
    g_main_context_unref(fx->ctx);
    if (GDir *d = g_dir_open(fx->dir.c_str(), 0, nullptr)) {
        while (const char *name = g_dir_read_name(d)) {
            g_unlink((fx->dir + "/" + name).c_str());
        }
        g_dir_close(d);
    }
    g_rmdir(fx->dir.c_str());
    return 0;
}

Fixture &fixture(void **state)
{
    return *static_cast<Fixture *>(*state);
}

void write_in_place(const std::string &path, const char *content)
{
    FILE *f = std::fopen(path.c_str(), "w");
    assert_non_null(f);
    std::fputs(content, f);
    assert_int_equal(std::fclose(f), 0);
}

// What editors and g_file_set_contents do: write a temporary file, then
// rename it over the target.
void replace_by_rename(const std::string &path, const char *content)
{
    const std::string tmp = path + ".new";
    write_in_place(tmp, content);
    assert_int_equal(std::rename(tmp.c_str(), path.c_str()), 0);
}

// Iterates the context until `done` holds or kEventTimeoutMs passes.  The
// timeout source guarantees that a blocking iteration returns.
bool wait_for(GMainContext *ctx, const std::function<bool()> &done)
{
    bool timed_out = false;
    GSource *timer = g_timeout_source_new(kEventTimeoutMs);
    g_source_set_callback(
        timer,
        [](gpointer flag) -> gboolean {
            *static_cast<bool *>(flag) = true;
            return G_SOURCE_REMOVE;
        },
        &timed_out, nullptr);
    g_source_attach(timer, ctx);
    while (!done() && !timed_out) {
        g_main_context_iteration(ctx, TRUE);
    }
    g_source_destroy(timer);
    g_source_unref(timer);
    return done();
}

std::string add(AclStore &store, const std::string &text)
{
    auto spec = opts::parse_object_spec(text);
    if (!spec) {
        return "parse: " + spec.error().message;
    }
    Status st = store.add_object(*spec);
    return st ? std::string() : st.error().message;
}

void expect_add_ok(AclStore &store, const std::string &text)
{
    std::string err = add(store, text);
    if (!err.empty()) {
        print_error("%s: %s\n", text.c_str(), err.c_str());
    }
    assert_true(err.empty());
}

AuthzListFile *file_object(AclStore &store, const char *id)
{
    return dynamic_cast<AuthzListFile *>(store.find_object(id));
}

const char kAllowFred[] =
    R"({ "rules": [ { "match": "fred", "policy": "allow", "format": "exact" } ], "policy": "deny" })";
const char kDenyFred[] =
    R"({ "rules": [ { "match": "fred", "policy": "deny", "format": "exact" } ], "policy": "allow" })";

struct TableRow {
    const char *content;
    bool fred;
};

// qemu-tests.md §3c
const TableRow kTable[] = {
    {R"({ "policy": "deny" })", false},
    {R"({ "policy": "allow" })", true},
    {kDenyFred, false},
    {kAllowFred, true},
};

void test_static_table(void **state)
{
    Fixture &fx = fixture(state);
    int n = 0;
    for (const TableRow &row : kTable) {
        const std::string id = "f" + std::to_string(n++);
        const std::string path = fx.path((id + ".json").c_str());
        write_in_place(path, row.content);
        expect_add_ok(*fx.store,
                      "authz-list-file,id=" + id + ",filename=" + path + ",refresh=off");
        print_message("# %s -> fred %s\n", row.content, row.fred ? "allow" : "deny");
        assert_int_equal(fx.store->is_allowed(id, "fred"), row.fred);
        AuthzListFile *obj = file_object(*fx.store, id.c_str());
        assert_non_null(obj);
        assert_false(obj->refresh());
        assert_string_equal(obj->filename().c_str(), path.c_str());
    }
}

void test_static_complex(void **state)
{
    Fixture &fx = fixture(state);
    const std::string path = fx.path("complex.json");
    write_in_place(path, R"({ "rules": [
        { "match": "fred", "policy": "allow", "format": "exact" },
        { "match": "bob", "policy": "allow", "format": "exact" },
        { "match": "dan", "policy": "deny", "format": "exact" },
        { "match": "dan*", "policy": "allow", "format": "glob" } ],
      "policy": "deny" })");
    // JSON form of -object, refresh as a JSON bool.
    expect_add_ok(*fx.store, R"({"qom-type":"authz-list-file","id":"c","filename":")" + path +
                                 R"(","refresh":false})");
    assert_true(fx.store->is_allowed("c", "fred"));
    assert_true(fx.store->is_allowed("c", "bob"));
    assert_false(fx.store->is_allowed("c", "dan"));
    assert_true(fx.store->is_allowed("c", "danb"));
    assert_false(fx.store->is_allowed("c", "eve"));
    // Not editable through the legacy commands.
    assert_null(fx.store->find_list("c"));
}

void test_creation_errors(void **state)
{
    Fixture &fx = fixture(state);
    AclStore &store = *fx.store;

    assert_string_equal(add(store, "authz-list-file,id=e").c_str(), "filename not provided");
    assert_string_equal(add(store, "authz-list-file,id=e,filename=/x,foo=1").c_str(),
                        "Invalid parameter 'foo'");
    assert_string_equal(add(store, "authz-list-file,id=e,filename=/x,refresh=maybe").c_str(),
                        "Parameter 'refresh' expects 'on' or 'off'");

    const std::string missing = fx.path("missing.json");
    std::string err = add(store, "authz-list-file,id=e,filename=" + missing);
    print_message("# %s\n", err.c_str());
    assert_true(err.rfind("Unable to read '" + missing + "': ", 0) == 0);

    struct Bad {
        const char *content;
        const char *suffix; // after "File 'PATH'"
    };
    const Bad bad[] = {
        {"[1, 2]", " must contain a JSON object"},
        {"", ": JSON parse error, "},
        {"{ \"policy\": ", ": JSON parse error, "},
        {R"({ "policy": "maybe" })", ": Parameter 'policy' does not accept value 'maybe'"},
        {R"({ "policy": "deny", "colour": "red" })", ": Invalid parameter 'colour'"},
        {R"({ "rules": [ { "match": "fred" } ] })", ": Parameter 'rules[0].policy' is missing"},
    };
    const std::string path = fx.path("bad.json");
    for (const Bad &b : bad) {
        write_in_place(path, b.content);
        err = add(store, "authz-list-file,id=e,refresh=off,filename=" + path);
        print_message("# %s -> %s\n", b.content, err.c_str());
        const std::string want = "File '" + path + "'" + b.suffix;
        assert_true(err.rfind(want, 0) == 0);
    }
    assert_true(store.ids().empty());
}

void test_relative_name_with_refresh(void **state)
{
    Fixture &fx = fixture(state);
    // QEMU watches dirname(filename) and refuses a bare name when refreshing.
    const std::string name = "qvnc-test-authz-" + std::to_string(getpid()) + ".json";
    write_in_place(name, R"({ "policy": "allow" })");
    std::string on = add(*fx.store, "authz-list-file,id=r,filename=" + name);
    std::string off = add(*fx.store, "authz-list-file,id=r2,refresh=off,filename=" + name);
    g_unlink(name.c_str());
    assert_string_equal(on.c_str(), "Filename must be an absolute path");
    assert_true(off.empty());
    assert_true(fx.store->is_allowed("r2", "anyone"));
}

void test_refresh_in_place(void **state)
{
    Fixture &fx = fixture(state);
    const std::string path = fx.path("acl.json");
    write_in_place(path, kAllowFred);
    expect_add_ok(*fx.store, "authz-list-file,id=live,filename=" + path); // refresh on by default
    AuthzListFile *obj = file_object(*fx.store, "live");
    assert_non_null(obj);
    assert_true(obj->refresh());
    assert_true(fx.store->is_allowed("live", "fred"));
    assert_false(fx.store->is_allowed("live", "bob"));

    write_in_place(path, kDenyFred);
    assert_true(wait_for(fx.ctx, [&] { return !fx.store->is_allowed("live", "fred"); }));
    assert_true(fx.store->is_allowed("live", "bob"));
    assert_true(obj->last_error().empty());
    assert_true(obj->reload_count() > 0);
}

void test_refresh_rename(void **state)
{
    Fixture &fx = fixture(state);
    const std::string path = fx.path("acl.json");
    write_in_place(path, kDenyFred);
    expect_add_ok(*fx.store, "authz-list-file,id=live,refresh=on,filename=" + path);
    assert_false(fx.store->is_allowed("live", "fred"));

    replace_by_rename(path, kAllowFred);
    assert_true(wait_for(fx.ctx, [&] { return fx.store->is_allowed("live", "fred"); }));
    assert_false(fx.store->is_allowed("live", "bob"));

    // Again: the watch follows the name, not the replaced inode.
    replace_by_rename(path, kDenyFred);
    assert_true(wait_for(fx.ctx, [&] { return !fx.store->is_allowed("live", "fred"); }));
    assert_true(fx.store->is_allowed("live", "bob"));
}

void test_refresh_delete_recreate(void **state)
{
    Fixture &fx = fixture(state);
    const std::string path = fx.path("acl.json");
    write_in_place(path, kAllowFred);
    expect_add_ok(*fx.store, "authz-list-file,id=live,filename=" + path);
    AuthzListFile *obj = file_object(*fx.store, "live");
    assert_non_null(obj);

    // Deleting the file keeps the rules in force (QEMU ignores deletions).
    g_unlink(path.c_str());
    while (g_main_context_iteration(fx.ctx, FALSE)) {
    }
    assert_true(fx.store->is_allowed("live", "fred"));
    assert_non_null(obj->list());

    // A new file under the name is picked up.
    write_in_place(path, kDenyFred);
    assert_true(wait_for(fx.ctx, [&] { return !fx.store->is_allowed("live", "fred"); }));
    assert_true(fx.store->is_allowed("live", "bob"));
    assert_true(obj->last_error().empty());
}

void test_refresh_broken_then_fixed(void **state)
{
    Fixture &fx = fixture(state);
    const std::string path = fx.path("acl.json");
    write_in_place(path, R"({ "policy": "allow" })");
    expect_add_ok(*fx.store, "authz-list-file,id=live,filename=" + path);
    AuthzListFile *obj = file_object(*fx.store, "live");
    assert_non_null(obj);
    assert_true(fx.store->is_allowed("live", "anyone"));

    // Broken: everyone denied, with the reason logged and reported.
    write_in_place(path, R"({ "policy": "allow", )");
    assert_true(wait_for(fx.ctx, [&] { return obj->list() == nullptr; }));
    std::string why;
    assert_false(fx.store->is_allowed("live", "anyone", &why));
    assert_false(fx.store->is_allowed("live", "fred"));
    print_message("# why: %s\n", why.c_str());
    assert_true(why.find("JSON parse error") != std::string::npos);
    assert_true(why.find(path) != std::string::npos);
    assert_false(obj->last_error().empty());
    assert_true(fx.logged("'" + path + "'"));
    assert_true(fx.logged("denying all identities"));

    // A schema error counts as broken too.
    replace_by_rename(path, R"({ "policy": "allow", "rules": [ { "match": "x" } ] })");
    assert_true(wait_for(fx.ctx, [&] {
        return obj->last_error().find("rules[0].policy") != std::string::npos;
    }));
    assert_false(fx.store->is_allowed("live", "anyone"));

    // Fixed: the new rules apply.
    write_in_place(path, kAllowFred);
    assert_true(wait_for(fx.ctx, [&] { return obj->list() != nullptr; }));
    assert_true(fx.store->is_allowed("live", "fred"));
    assert_false(fx.store->is_allowed("live", "anyone"));
    assert_true(obj->last_error().empty());
    why.clear();
    assert_false(fx.store->is_allowed("live", "anyone", &why));
    assert_true(why.empty());
}

void test_reload_and_delete(void **state)
{
    Fixture &fx = fixture(state);
    const std::string path = fx.path("acl.json");
    write_in_place(path, kAllowFred);
    expect_add_ok(*fx.store, "authz-list-file,id=s,refresh=off,filename=" + path);
    AuthzListFile *obj = file_object(*fx.store, "s");
    assert_non_null(obj);

    // refresh=off: changes apply only through an explicit reload().
    write_in_place(path, kDenyFred);
    assert_true(fx.store->is_allowed("s", "fred"));
    assert_true(obj->reload().ok());
    assert_false(fx.store->is_allowed("s", "fred"));

    // A file that disappears fails the reload: deny all.
    g_unlink(path.c_str());
    Status st = obj->reload();
    assert_false(st.ok());
    assert_true(st.error().message.rfind("Unable to read '" + path + "'", 0) == 0);
    assert_false(fx.store->is_allowed("s", "bob"));
}

void test_remove_while_watching(void **state)
{
    Fixture &fx = fixture(state);
    const std::string path = fx.path("acl.json");
    const std::string other = fx.path("other.json");
    write_in_place(path, kAllowFred);
    write_in_place(other, kAllowFred);
    expect_add_ok(*fx.store, "authz-list-file,id=gone,filename=" + path);
    expect_add_ok(*fx.store, "authz-list-file,id=kept,filename=" + other);

    // Queue events for "gone", then delete it before they are dispatched.
    write_in_place(path, kDenyFred);
    assert_true(fx.store->remove_object("gone"));
    assert_false(fx.store->is_allowed("gone", "fred"));

    // The surviving object still reloads; by then any event queued for the
    // removed one has been dispatched (to nobody).
    write_in_place(other, kDenyFred);
    assert_true(wait_for(fx.ctx, [&] { return !fx.store->is_allowed("kept", "fred"); }));

    // Re-created under the same id: watched afresh.
    expect_add_ok(*fx.store, "authz-list-file,id=gone,filename=" + path);
    assert_false(fx.store->is_allowed("gone", "fred"));
    replace_by_rename(path, kAllowFred);
    assert_true(wait_for(fx.ctx, [&] { return fx.store->is_allowed("gone", "fred"); }));
}

} // namespace

#define FILE_TEST(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main()
{
    const struct CMUnitTest tests[] = {
        FILE_TEST(test_static_table),
        FILE_TEST(test_static_complex),
        FILE_TEST(test_creation_errors),
        FILE_TEST(test_relative_name_with_refresh),
        FILE_TEST(test_refresh_in_place),
        FILE_TEST(test_refresh_rename),
        FILE_TEST(test_refresh_delete_recreate),
        FILE_TEST(test_refresh_broken_then_fixed),
        FILE_TEST(test_reload_and_delete),
        FILE_TEST(test_remove_while_watching),
    };
    return cmocka_run_group_tests_name("authz-list-file", tests, nullptr, nullptr);
}
