// -chardev / -mon / -monitor / -qmp argument parsing.
#include <string>

#include "chardev-spec.hpp"

#include "cmocka.hpp" // last: its macros clash with <ios>

using namespace qvnc::monitor;

namespace {

bool no_ids(std::string_view) { return false; }

void test_chardev_socket(void **)
{
    auto s = parse_chardev("socket,id=charmonitor,fd=23,server=on,wait=off", no_ids);
    assert_true(s.ok());
    assert_string_equal(s->id.c_str(), "charmonitor");
    assert_int_equal(static_cast<int>(s->backend), static_cast<int>(ChardevSpec::Backend::Socket));
    assert_int_equal(s->fd, 23);
    assert_true(s->server);
    assert_false(s->wait);

    s = parse_chardev("socket,id=m,path=/tmp/a,,b.sock,server,nowait", no_ids);
    assert_true(s.ok());
    assert_string_equal(s->path.c_str(), "/tmp/a,b.sock");
    assert_true(s->server);
    assert_false(s->wait);

    s = parse_chardev("socket,id=t,host=127.0.0.1,port=4444,server=on,wait=off,nodelay=on", no_ids);
    assert_true(s.ok());
    assert_string_equal(s->host.c_str(), "127.0.0.1");
    assert_string_equal(s->port.c_str(), "4444");
    assert_true(s->nodelay);

    s = parse_chardev("stdio,id=s", no_ids);
    assert_int_equal(static_cast<int>(s->backend), static_cast<int>(ChardevSpec::Backend::Stdio));
    s = parse_chardev("pty,id=charserial0", no_ids);
    assert_int_equal(static_cast<int>(s->backend),
                     static_cast<int>(ChardevSpec::Backend::Unsupported));
}

struct ErrRow {
    const char *text;
    const char *error;
};

void test_chardev_errors(void **)
{
    static const ErrRow rows[] = {
        {"socket,path=/tmp/x", "chardev: no id specified"},
        {"socket,id=a", "chardev: socket: no host given"},
        {"socket,id=a,host=x", "chardev: socket: no port given"},
        {"socket,id=a,fd=abc", "Parameter 'fd' expects a file descriptor number"},
        {"bogus,id=a", "'bogus' is not a valid char driver name"},
        {"socket,id=a,path=/x,frobnicate=1", "Invalid parameter 'frobnicate'"},
        {"socket,id=a,path=/x,server=maybe", "Parameter 'server' expects 'on' or 'off'"},
        {"socket,id=a,path=/x,tls-creds=t", "chardev: socket: 'tls-creds' is not supported by qvnc"},
        {"socket,id=9a,path=/x", "Parameter 'id' expects an identifier"},
    };
    for (const auto &r : rows) {
        auto s = parse_chardev(r.text, no_ids);
        if (s.ok()) {
            fail_msg("'%s' parsed", r.text);
        }
        assert_string_equal(s.error().message.c_str(), r.error);
    }
    auto dup = parse_chardev("socket,id=a,path=/x", [](std::string_view id) { return id == "a"; });
    assert_false(dup.ok());
    assert_string_equal(dup.error().message.c_str(), "Duplicate ID 'a' for chardev");
}

void test_legacy(void **)
{
    auto l = parse_legacy_monitor("unix:/tmp/qmp.sock,server=on,wait=off");
    assert_true(l.ok());
    assert_int_equal(static_cast<int>(l->kind), static_cast<int>(LegacyMonitorSpec::Kind::New));
    assert_string_equal(l->chardev.path.c_str(), "/tmp/qmp.sock");
    assert_true(l->chardev.server);
    assert_false(l->chardev.wait);

    l = parse_legacy_monitor("tcp:127.0.0.1:4444,server,nowait");
    assert_true(l.ok());
    assert_string_equal(l->chardev.host.c_str(), "127.0.0.1");
    assert_string_equal(l->chardev.port.c_str(), "4444");
    assert_true(l->chardev.server);

    l = parse_legacy_monitor("tcp::4445,server=on,wait=off");
    assert_string_equal(l->chardev.host.c_str(), "");
    assert_string_equal(l->chardev.port.c_str(), "4445");

    l = parse_legacy_monitor("tcp:[::1]:4446,server=on");
    assert_string_equal(l->chardev.host.c_str(), "::1");
    assert_string_equal(l->chardev.port.c_str(), "4446");

    l = parse_legacy_monitor("stdio");
    assert_int_equal(static_cast<int>(l->chardev.backend),
                     static_cast<int>(ChardevSpec::Backend::Stdio));
    l = parse_legacy_monitor("none");
    assert_int_equal(static_cast<int>(l->kind), static_cast<int>(LegacyMonitorSpec::Kind::None));
    l = parse_legacy_monitor("chardev:mon0");
    assert_int_equal(static_cast<int>(l->kind), static_cast<int>(LegacyMonitorSpec::Kind::Existing));
    assert_string_equal(l->existing_id.c_str(), "mon0");

    l = parse_legacy_monitor("vc");
    assert_false(l.ok());
    assert_string_equal(l.error().message.c_str(), "monitor back end 'vc' is not supported by qvnc");
    l = parse_legacy_monitor("tcp:nohostport");
    assert_false(l.ok());
}

void test_mon(void **)
{
    auto m = parse_mon("chardev=charmonitor,id=monitor,mode=control");
    assert_true(m.ok());
    assert_string_equal(m->chardev.c_str(), "charmonitor");
    assert_true(m->control);
    assert_string_equal(m->id.c_str(), "monitor");

    m = parse_mon("mon0");
    assert_true(m.ok());
    assert_string_equal(m->chardev.c_str(), "mon0");
    assert_false(m->control);

    m = parse_mon("chardev=c,mode=control,pretty=on");
    assert_true(m->pretty);

    static const ErrRow rows[] = {
        {"mode=control", "Parameter 'chardev' is missing"},
        {"chardev=c,mode=json", "Parameter 'mode' does not accept value 'json'"},
        {"chardev=c,pretty=on", "'pretty' is not compatible with HMP monitors"},
        {"chardev=c,colour=red", "Invalid parameter 'colour'"},
    };
    for (const auto &r : rows) {
        auto e = parse_mon(r.text);
        assert_false(e.ok());
        assert_string_equal(e.error().message.c_str(), r.error);
    }
}

} // namespace

int main()
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chardev_socket),
        cmocka_unit_test(test_chardev_errors),
        cmocka_unit_test(test_legacy),
        cmocka_unit_test(test_mon),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
