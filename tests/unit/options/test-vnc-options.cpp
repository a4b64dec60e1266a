// -vnc parsing: listen forms, every QEMU error text, defaults, cross-field
// rules and id assignment (table rows in the style of TigerVNC's hostport
// test).
#include "cmocka.hpp"

#include <cstring>
#include <set>
#include <string>

#include "vnc-config.hpp"
#include "vnc-options.hpp"

using namespace qvnc;
using namespace qvnc::vnc;

namespace {

bool taken_none(std::string_view)
{
    return false;
}

Result<VncConfig> parse(const char *text)
{
    return parse_vnc_options(text, taken_none);
}

struct ErrRow {
    const char *input;
    const char *error;
};

const ErrRow kErrors[] = {
    // Listen address forms (vnc_display_get_address).
    {"localhost", "no vnc port specified"},
    {"none,vnc=:1", "no vnc port specified"},
    {",password=on", "no vnc port specified"},
    {"localhost:", "vnc port cannot be empty"},
    {":abc", "can't convert to a number: abc"},
    {":-1", "can't convert to a number: -1"},
    {":0x1", "can't convert to a number: 0x1"},
    {"[::1]", "can't convert to a number: 1]"},
    {":65536", "port 65536 out of range"},
    {":59636", "port 59636 out of range"},
    {":99999999999999999999999", "can't convert to a number: 99999999999999999999999"},
    {"h:70000,reverse=on", "port 70000 out of range"},
    {"unix:/tmp/s,to=5", "Port range not support with UNIX socket"},
    {":0,websocket=host:", "vnc port cannot be empty"},
    {":0,websocket=abc", "can't convert to a number: abc"},
    {":0,websocket=70000", "port 70000 out of range"},
    {":0,vnc=:1,websocket", "explicit websocket port is required"},
    {":0,vnc=:1,websocket=on", "explicit websocket port is required"},
    {":0,vnc=:1,websocket=", "explicit websocket port is required"},
    {":0,websocket=unix:/ws,to=3", "Port range not support with UNIX socket"},
    // Reverse mode.
    {":0,reverse=on,websocket=5700", "Cannot use websockets in reverse mode"},
    {"h:1,vnc=h:2,reverse=on", "Expected a single address in reverse mode"},
    // Auth keys.
    {":0,password,password-secret=sec0", "'password' flag is redundant with 'password-secret'"},
    {":0,password=off,password-secret=sec0", "'password' flag is redundant with 'password-secret'"},
    {":0,tls-creds=tls0,tls", "'tls-creds' parameter is mutually exclusive with 'tls', 'x509' and 'x509verify' parameters"},
    {":0,tls-creds=tls0,tls=off", "'tls-creds' parameter is mutually exclusive with 'tls', 'x509' and 'x509verify' parameters"},
    {":0,tls-creds=tls0,x509=/pki", "'tls-creds' parameter is mutually exclusive with 'tls', 'x509' and 'x509verify' parameters"},
    {":0,tls-creds=tls0,x509verify=/pki", "'tls-creds' parameter is mutually exclusive with 'tls', 'x509' and 'x509verify' parameters"},
    {":0,tls-authz=authz0", "'tls-authz' provided but TLS is not enabled"},
    {":0,tls=off,tls-authz=authz0", "'tls-authz' provided but TLS is not enabled"},
    {":0,sasl-authz=authz0", "'sasl-authz' provided but SASL auth is not enabled"},
    {":0,sasl=off,sasl-authz=authz0", "'sasl-authz' provided but SASL auth is not enabled"},
    {":0,acl=on,tls-creds=t,tls-authz=a", "'acl' option is mutually exclusive with the 'tls-authz' option"},
    {":0,acl=on,sasl=on,sasl-authz=a", "'acl' option is mutually exclusive with the 'sasl-authz' option"},
    {":0,tls-creds=", "No TLS credentials with id ''"},
    {":0,password-secret=", "No secret with id ''"},
    {":0,tls-creds=t,tls-authz=", "Parameter 'tls-authz' expects an identifier"},
    {":0,sasl=on,sasl-authz=", "Parameter 'sasl-authz' expects an identifier"},
    {":0,display=", "Device '' not found"},
    {":0,audiodev=", "Audiodev '' not found"},
    // Other keys.
    {":0,share=bogus", "unknown vnc share= option"},
    {":0,share", "unknown vnc share= option"},
    // QemuOpts level.
    {":0,bogus=1", "Invalid parameter 'bogus'"},
    {":0,nonsense", "Invalid parameter 'nsense'"},
    {":0,non-adaptive", "Invalid parameter 'n-adaptive'"},
    {":0,=1", "Invalid parameter ''"},
    {":0,password=maybe", "Parameter 'password' expects 'on' or 'off'"},
    {":0,password=ON", "Parameter 'password' expects 'on' or 'off'"},
    {":0,to=abc", "Parameter 'to' expects a number"},
    {":0,to", "Parameter 'to' expects a number"},
    {":0,connections=x", "Parameter 'connections' expects a number"},
    {":0,head=99999999999999999999", "Value '99999999999999999999' is too large for parameter 'head'"},
    {":0,to=70000", "Parameter 'to' expects a number no larger than 65535"},
    {":0,connections=-1", "Parameter 'connections' expects a number no larger than 2147483647"},
    {":0,key-delay-ms=4294967296", "Parameter 'key-delay-ms' expects a number no larger than 2147483647"},
    {":0,id=1x", "Parameter 'id' expects an identifier"},
    {":0,id=", "Parameter 'id' expects an identifier"},
    {":0,id=taken", "Duplicate ID 'taken' for vnc"},
};

void test_errors(void **)
{
    auto taken = [](std::string_view id) { return id == "taken"; };
    for (const ErrRow &row : kErrors) {
        print_message("# -vnc '%s'\n", row.input);
        auto r = parse_vnc_options(row.input, taken);
        assert_false(r.ok());
        assert_string_equal(r.error().message.c_str(), row.error);
        assert_int_equal(static_cast<int>(r.error().code), static_cast<int>(ErrorCode::Opts));
    }
}

struct AddrRow {
    const char *input;
    ListenAddress::Kind kind;
    const char *host_or_path;
    int port;
    int port_to;
};

// Single primary address forms.
const AddrRow kPrimary[] = {
    {":0", ListenAddress::Kind::Inet, "", 5900, 0},
    {":1", ListenAddress::Kind::Inet, "", 5901, 0},
    {"127.0.0.1:2", ListenAddress::Kind::Inet, "127.0.0.1", 5902, 0},
    {"localhost:99", ListenAddress::Kind::Inet, "localhost", 5999, 0},
    {"[::1]:3", ListenAddress::Kind::Inet, "::1", 5903, 0},
    {"[::]:0", ListenAddress::Kind::Inet, "::", 5900, 0},
    {"::1:3", ListenAddress::Kind::Inet, "::1", 5903, 0},
    {"vnc=host:4", ListenAddress::Kind::Inet, "host", 5904, 0},
    {":59635", ListenAddress::Kind::Inet, "", 65535, 0},
    {": 7", ListenAddress::Kind::Inet, "", 5907, 0},
    {":1,to=999", ListenAddress::Kind::Inet, "", 5901, 6899},
    {":1,to=0", ListenAddress::Kind::Inet, "", 5901, 0},
    {"unix:/tmp/vnc.sock", ListenAddress::Kind::Unix, "/tmp/vnc.sock", 0, 0},
    {"unix:/tmp/a,,b", ListenAddress::Kind::Unix, "/tmp/a,b", 0, 0},
    {"unix:", ListenAddress::Kind::Unix, "", 0, 0},
    {"example.org:5500,reverse=on", ListenAddress::Kind::Inet, "example.org", 5500, 0},
    {"unix:/run/viewer,reverse=on", ListenAddress::Kind::Unix, "/run/viewer", 0, 0},
};

void test_primary_addresses(void **)
{
    for (const AddrRow &row : kPrimary) {
        print_message("# -vnc '%s'\n", row.input);
        auto r = parse(row.input);
        assert_true(r.ok());
        assert_false(r->none);
        assert_int_equal(r->addresses.size(), 1);
        assert_true(r->websockets.empty());
        const ListenAddress &a = r->addresses[0];
        assert_int_equal(static_cast<int>(a.kind), static_cast<int>(row.kind));
        if (row.kind == ListenAddress::Kind::Inet) {
            assert_string_equal(a.host.c_str(), row.host_or_path);
            assert_int_equal(a.port, row.port);
            assert_int_equal(a.port_to, row.port_to);
        } else {
            assert_string_equal(a.path.c_str(), row.host_or_path);
        }
        assert_false(a.ipv4.has_value());
        assert_false(a.ipv6.has_value());
    }
    // Only the last vnc= can switch listening off; an earlier "none" is
    // read as an address.
    auto bad = parse(":0,vnc=none,vnc=:5");
    assert_false(bad.ok());
    assert_string_equal(bad.error().message.c_str(), "no vnc port specified");
}

void test_none_and_multiple(void **)
{
    for (const char *text : {"none", "", ":1,vnc=none", "none,websocket=5700", "to=5,id=x",
                             "none,reverse=on", "none,vnc=bogus,vnc=none"}) {
        print_message("# -vnc '%s'\n", text);
        auto r = parse(text);
        assert_true(r.ok());
        assert_true(r->none);
        assert_true(r->addresses.empty());
        assert_true(r->websockets.empty());
    }

    auto m = parse("127.0.0.1:1,vnc=[::1]:2,vnc=unix:/s,websocket=6000");
    assert_true(m.ok());
    assert_false(m->none);
    assert_int_equal(m->addresses.size(), 3);
    assert_string_equal(m->addresses[0].host.c_str(), "127.0.0.1");
    assert_int_equal(m->addresses[0].port, 5901);
    assert_string_equal(m->addresses[1].host.c_str(), "::1");
    assert_int_equal(m->addresses[1].port, 5902);
    assert_true(m->addresses[2].kind == ListenAddress::Kind::Unix);
    // Several primaries: no host inheritance for the websocket.
    assert_int_equal(m->websockets.size(), 1);
    assert_string_equal(m->websockets[0].host.c_str(), "");
    assert_int_equal(m->websockets[0].port, 6000);
}

struct WsRow {
    const char *input;
    ListenAddress::Kind kind;
    const char *host_or_path;
    int port;
    int port_to;
};

const WsRow kWebsockets[] = {
    {":5,websocket", ListenAddress::Kind::Inet, "", 5705, 0},
    {":5,websocket=on", ListenAddress::Kind::Inet, "", 5705, 0},
    {":5,websocket=", ListenAddress::Kind::Inet, "", 5705, 0},
    {"localhost:5,websocket", ListenAddress::Kind::Inet, "localhost", 5705, 0},
    {":5,websocket=on,to=7", ListenAddress::Kind::Inet, "", 5705, 5707},
    {"unix:/s,websocket", ListenAddress::Kind::Inet, "", 5700, 0},
    {"host:1,websocket=0.0.0.0:6000", ListenAddress::Kind::Inet, "0.0.0.0", 6000, 0},
    {"host:1,websocket=6000", ListenAddress::Kind::Inet, "host", 6000, 0},
    {"host:1,websocket=6000,to=9", ListenAddress::Kind::Inet, "host", 6000, 0},
    {"[::1]:1,websocket=[::]:6001", ListenAddress::Kind::Inet, "::", 6001, 0},
    {"[::1]:1,websocket=:6001", ListenAddress::Kind::Inet, "::1", 6001, 0},
    {"host:1,websocket=unix:/ws", ListenAddress::Kind::Unix, "/ws", 0, 0},
};

void test_websockets(void **)
{
    for (const WsRow &row : kWebsockets) {
        print_message("# -vnc '%s'\n", row.input);
        auto r = parse(row.input);
        assert_true(r.ok());
        assert_int_equal(r->websockets.size(), 1);
        const ListenAddress &w = r->websockets[0];
        assert_int_equal(static_cast<int>(w.kind), static_cast<int>(row.kind));
        if (row.kind == ListenAddress::Kind::Inet) {
            assert_string_equal(w.host.c_str(), row.host_or_path);
            assert_int_equal(w.port, row.port);
            assert_int_equal(w.port_to, row.port_to);
        } else {
            assert_string_equal(w.path.c_str(), row.host_or_path);
        }
    }
    auto two = parse(":1,websocket=5701,websocket=5702");
    assert_true(two.ok());
    assert_int_equal(two->websockets.size(), 2);
    assert_int_equal(two->websockets[0].port, 5701);
    assert_int_equal(two->websockets[1].port, 5702);
    // The primary keeps its own range.
    auto range = parse(":5,websocket,to=7");
    assert_true(range.ok());
    assert_int_equal(range->addresses[0].port_to, 5907);
}

void test_ip_families(void **)
{
    auto r = parse(":0,ipv4=on,ipv6=off,websocket");
    assert_true(r.ok());
    for (const ListenAddress *a : {&r->addresses[0], &r->websockets[0]}) {
        assert_true(a->ipv4.has_value());
        assert_true(*a->ipv4);
        assert_true(a->ipv6.has_value());
        assert_false(*a->ipv6);
    }
    auto only6 = parse(":0,ipv6");
    assert_true(only6.ok());
    assert_false(only6->addresses[0].ipv4.has_value());
    assert_true(only6->addresses[0].ipv6.value_or(false));
    auto unix_addr = parse("unix:/s,ipv4=on");
    assert_true(unix_addr.ok());
    assert_false(unix_addr->addresses[0].ipv4.has_value());
}

void test_defaults(void **)
{
    auto r = parse(":0");
    assert_true(r.ok());
    assert_string_equal(r->id.c_str(), "default");
    assert_false(r->none);
    assert_false(r->reverse);
    assert_false(r->password);
    assert_string_equal(r->password_secret.c_str(), "");
    assert_false(r->sasl);
    assert_string_equal(r->tls_creds.c_str(), "");
    assert_false(r->tls);
    assert_false(r->acl);
    assert_false(r->lossy);
    assert_true(r->non_adaptive);
    assert_true(r->share == SharePolicy::AllowExclusive);
    assert_int_equal(r->connections, 32);
    assert_int_equal(r->key_delay_ms, 10);
    assert_true(r->lock_key_sync);
    assert_string_equal(r->display.c_str(), "");
    assert_int_equal(r->head, 0);
    assert_string_equal(r->audiodev.c_str(), "");
    assert_false(r->power_control);
    assert_true(r->given.empty());
    assert_true(r->warnings.empty());
    assert_false(r->help);
}

void test_values(void **)
{
    auto r = parse("localhost:1,password=on,sasl=yes,lossy=true,non-adaptive=off,share=force-shared,"
                   "connections=5,key-delay-ms=0x10,lock-key-sync=n,display=video0,head=1,"
                   "audiodev=snd0,power-control=y,tls-creds=tls0,tls-authz=authz0,sasl-authz=authz1");
    assert_true(r.ok());
    assert_true(r->password);
    assert_true(r->sasl);
    assert_true(r->lossy);
    assert_false(r->non_adaptive);
    assert_true(r->share == SharePolicy::ForceShared);
    assert_int_equal(r->connections, 5);
    assert_int_equal(r->key_delay_ms, 16);
    assert_false(r->lock_key_sync);
    assert_string_equal(r->display.c_str(), "video0");
    assert_int_equal(r->head, 1);
    assert_string_equal(r->audiodev.c_str(), "snd0");
    assert_true(r->power_control);
    assert_string_equal(r->tls_creds.c_str(), "tls0");
    assert_string_equal(r->tls_authz.c_str(), "authz0");
    assert_string_equal(r->sasl_authz.c_str(), "authz1");

    auto ignore = parse(":0,share=ignore");
    assert_true(ignore.ok());
    assert_true(ignore->share == SharePolicy::Ignore);
    auto excl = parse(":0,share=allow-exclusive");
    assert_true(excl.ok());
    assert_true(excl->share == SharePolicy::AllowExclusive);
    auto lossy_na = parse(":0,lossy=on,non-adaptive=on");
    assert_true(lossy_na.ok());
    assert_true(lossy_na->non_adaptive);
    // non-adaptive=off cannot override lossy=off.
    auto forced = parse(":0,non-adaptive=off");
    assert_true(forced.ok());
    assert_true(forced->non_adaptive);
    // Scalars: the last occurrence wins.
    auto last = parse(":0,password=on,password=off,share=ignore,share=force-shared");
    assert_true(last.ok());
    assert_false(last->password);
    assert_true(last->share == SharePolicy::ForceShared);
}

void test_password_secret(void **)
{
    auto r = parse(":0,password-secret=sec0");
    assert_true(r.ok());
    assert_true(r->password);
    assert_string_equal(r->password_secret.c_str(), "sec0");
}

void test_legacy_and_acl(void **)
{
    auto r = parse(":0,tls,x509=/etc/pki/qemu");
    assert_true(r.ok());
    assert_true(r->tls);
    assert_string_equal(r->x509.c_str(), "/etc/pki/qemu");
    assert_string_equal(r->x509verify.c_str(), "");
    auto verify = parse(":0,tls=on,x509verify=/pki,acl=on,sasl=on");
    assert_true(verify.ok());
    assert_string_equal(verify->x509verify.c_str(), "/pki");
    assert_true(verify->acl);
    // A bare string flag is the directory "on", as in QEMU.
    auto bare = parse(":0,tls,x509");
    assert_true(bare.ok());
    assert_string_equal(bare->x509.c_str(), "on");
    // Legacy tls=on counts as TLS for tls-authz.
    auto authz = parse(":0,tls=on,tls-authz=a");
    assert_true(authz.ok());
    assert_string_equal(authz->tls_authz.c_str(), "a");
    auto acl_ok = parse(":0,acl,tls-creds=t,sasl");
    assert_true(acl_ok.ok());
    assert_true(acl_ok->acl);
}

void test_short_forms(void **)
{
    auto r = parse(":0,sasl,nolossy,password");
    assert_true(r.ok());
    assert_true(r->sasl);
    assert_false(r->lossy);
    assert_true(r->password);
    assert_int_equal(r->warnings.size(), 3);
    assert_string_equal(r->warnings[0].c_str(),
                        "short-form boolean option 'sasl' deprecated\nPlease use sasl=on instead");
    assert_string_equal(r->warnings[1].c_str(),
                        "short-form boolean option 'nolossy' deprecated\nPlease use lossy=off instead");
    auto off = parse(":0,nosasl,nolock-key-sync");
    assert_true(off.ok());
    assert_false(off->sasl);
    assert_false(off->lock_key_sync);
}

void test_given(void **)
{
    auto r = parse(":0,sasl=on,lossy=off,id=foo,websocket,nopassword");
    assert_true(r.ok());
    const std::set<std::string, std::less<>> want = {"sasl", "lossy", "id", "websocket", "password"};
    assert_true(r->given == want);
    assert_true(r->was_given("sasl"));
    assert_true(r->was_given("password"));
    assert_false(r->was_given("vnc"));
    assert_false(r->was_given("tls-creds"));
    assert_string_equal(r->id.c_str(), "foo");
}

void test_ids(void **)
{
    struct {
        std::set<std::string> taken;
        const char *expect;
    } rows[] = {
        {{}, "default"},
        {{"default"}, "vnc2"},
        {{"default", "vnc2"}, "vnc3"},
        {{"default", "vnc3"}, "vnc2"},
        {{"vnc2"}, "default"},
    };
    for (const auto &row : rows) {
        auto taken = [&](std::string_view id) { return row.taken.count(std::string(id)) != 0; };
        auto r = parse_vnc_options(":0", taken);
        assert_true(r.ok());
        assert_string_equal(r->id.c_str(), row.expect);
    }
    // No callback: nothing is taken.
    auto r = parse_vnc_options(":0", IdTaken{});
    assert_true(r.ok());
    assert_string_equal(r->id.c_str(), "default");
    // An explicit id is kept when free.
    auto e = parse_vnc_options(":0,id=primary", [](std::string_view id) { return id == "default"; });
    assert_true(e.ok());
    assert_string_equal(e->id.c_str(), "primary");
}

void test_help(void **)
{
    for (const char *text : {"help", "?", ":0,help", "none,?"}) {
        print_message("# -vnc '%s'\n", text);
        auto r = parse(text);
        assert_true(r.ok());
        assert_true(r->help);
        assert_true(r->addresses.empty());
    }
    auto not_help = parse("helpme:1");
    assert_true(not_help.ok());
    assert_false(not_help->help);
    std::string h = vnc_options_help();
    assert_true(h.rfind("vnc options:\n", 0) == 0);
    for (const char *line : {"  acl=<bool (on/off)>\n", "  to=<num>\n", "  vnc=<str>\n",
                             "  websocket=<str>\n", "  password-secret=<str>\n"}) {
        assert_non_null(std::strstr(h.c_str(), line));
    }
    assert_int_equal(vnc_option_table().size(), 26);
}

} // namespace

int main()
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_primary_addresses),
        cmocka_unit_test(test_none_and_multiple),
        cmocka_unit_test(test_websockets),
        cmocka_unit_test(test_ip_families),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_password_secret),
        cmocka_unit_test(test_legacy_and_acl),
        cmocka_unit_test(test_short_forms),
        cmocka_unit_test(test_given),
        cmocka_unit_test(test_ids),
        cmocka_unit_test(test_help),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
