// Every HMP command's exact output (QEMU's texts, "\r\n" line ends),
// through qvnc_monitor_hmp() -- what human-monitor-command returns.
#include <string>

#include "acl-store.hpp"
#include "context.hpp"
#include "monitor-fixture.hpp"

#include "cmocka.hpp" // last: its macros clash with <ios>

namespace {

MonitorFixture &fx(void **state) { return *static_cast<MonitorFixture *>(*state); }

#define EXPECT_HMP(f, line, want) assert_string_equal((f).hmp(line).c_str(), want)

const char kHelp[] =
    "acl_add aclname match allow|deny [index] -- add a match rule to the access control list\r\n"
    "acl_policy aclname allow|deny -- set default access control list policy\r\n"
    "acl_remove aclname match -- remove a match rule from the access control list\r\n"
    "acl_reset aclname -- reset the access control list\r\n"
    "acl_show aclname -- list rules in the access control list\r\n"
    "change device [-f] filename [format [read-only-mode]] -- change a removable medium, "
    "optional format, use -f to force the operation\r\n"
    "closefd closefd name -- close a file descriptor previously passed via SCM rights\r\n"
    "cont|c  -- resume emulation\r\n"
    "expire_password protocol time [-d display] -- set vnc password expire-time\r\n"
    "getfd getfd name -- receive a file descriptor via SCM rights and assign it a name\r\n"
    "help|? [cmd] -- show the help\r\n"
    "info [subcommand] -- show various information about the system state\r\n"
    "quit|q  -- quit the emulator\r\n"
    "set_password protocol password [-d display] [action-if-connected] -- set vnc password\r\n"
    "stop|s  -- stop emulation\r\n";

const char kInfoHelp[] = "info name  -- show the current VM name\r\n"
                         "info status  -- show the current VM status (running|paused)\r\n"
                         "info version  -- show the version of QEMU\r\n"
                         "info vnc  -- show the vnc server status\r\n";

void test_help(void **state)
{
    auto &f = fx(state);
    EXPECT_HMP(f, "help", kHelp);
    EXPECT_HMP(f, "?", kHelp);
    EXPECT_HMP(f, "help info", kInfoHelp);
    EXPECT_HMP(f, "info", kInfoHelp);
    EXPECT_HMP(f, "help acl_add",
               "acl_add aclname match allow|deny [index] -- add a match rule to the access control "
               "list\r\n");
    EXPECT_HMP(f, "help c", "cont|c  -- resume emulation\r\n");
    EXPECT_HMP(f, "help info vnc", "info vnc  -- show the vnc server status\r\n");
    EXPECT_HMP(f, "help foo", "unknown command: 'foo'\r\n");
    EXPECT_HMP(f, "help info foo", "unknown command: 'info foo'\r\n");
    EXPECT_HMP(f, "help \"unterminated", "");
}

void test_parse_errors(void **state)
{
    auto &f = fx(state);
    EXPECT_HMP(f, "", "");
    EXPECT_HMP(f, "   ", "");
    EXPECT_HMP(f, "foo", "unknown command: 'foo'\r\n");
    EXPECT_HMP(f, "foo bar", "unknown command: 'foo'\r\n");
    EXPECT_HMP(f, "info foo", "unknown command: 'info foo'\r\n");
    EXPECT_HMP(f, "acl_show",
               "acl_show: string expected\r\nTry \"help acl_show\" for more information\r\n");
    EXPECT_HMP(f, "info vnc x",
               "vnc: extraneous characters at the end of line\r\n"
               "Try \"help info vnc\" for more information\r\n");
    EXPECT_HMP(f, "stop now",
               "stop: extraneous characters at the end of line\r\n"
               "Try \"help stop\" for more information\r\n");
    EXPECT_HMP(f, "change",
               "change: block device name expected\r\nTry \"help change\" for more information\r\n");
}

void test_acl(void **state)
{
    auto &f = fx(state);
    EXPECT_HMP(f, "acl_show vnc.x509dname", "acl: unknown list 'vnc.x509dname'\r\n");
    EXPECT_HMP(f, "acl_reset vnc.username", "acl: unknown list 'vnc.username'\r\n");
    EXPECT_HMP(f, "acl_policy vnc.username allow", "acl: unknown list 'vnc.username'\r\n");
    EXPECT_HMP(f, "acl_add vnc.username fred allow", "acl: unknown list 'vnc.username'\r\n");
    EXPECT_HMP(f, "acl_remove vnc.username fred", "acl: unknown list 'vnc.username'\r\n");

    // -vnc ...,acl creates vnc.x509dname, denying everyone.
    assert_non_null(f.open("none,acl"));
    EXPECT_HMP(f, "acl_show vnc.x509dname", "policy: deny\r\n");
    EXPECT_HMP(f, "acl_add vnc.x509dname fred allow", "acl: added rule at position 1\r\n");
    EXPECT_HMP(f, "acl_add vnc.x509dname bob deny", "acl: added rule at position 2\r\n");
    EXPECT_HMP(f, "acl_add vnc.x509dname \"C=GB,O=ACME,CN=*\" allow 1",
               "acl: added rule at position 1\r\n");
    EXPECT_HMP(f, "acl_add vnc.x509dname dan allow 3", "acl: added rule at position 3\r\n");
    EXPECT_HMP(f, "acl_add vnc.x509dname last deny 99", "acl: added rule at position 5\r\n");
    EXPECT_HMP(f, "acl_show vnc.x509dname",
               "policy: deny\r\n"
               "1: allow C=GB,O=ACME,CN=*\r\n"
               "2: allow fred\r\n"
               "3: allow dan\r\n"
               "4: deny bob\r\n"
               "5: deny last\r\n");
    EXPECT_HMP(f, "acl_add vnc.x509dname x maybe",
               "acl: unknown policy 'maybe', expected 'deny' or 'allow'\r\n");
    EXPECT_HMP(f, "acl_add vnc.x509dname x allow 0", "acl: unable to add acl entry\r\n");
    EXPECT_HMP(f, "acl_add vnc.x509dname x allow 4294967295", "acl: unable to add acl entry\r\n");
    EXPECT_HMP(f, "acl_add vnc.x509dname x allow -1",
               "'acl_add' has failed: integer is for 32-bit values\r\n"
               "Try \"help acl_add\" for more information\r\n");

    // fnmatch semantics reach the store: the legacy rules decide logins.
    qvnc::acl::AclStore &acls = f.context().acls();
    assert_true(acls.is_allowed("vnc.x509dname", "C=GB,O=ACME,CN=bob"));
    assert_true(acls.is_allowed("vnc.x509dname", "fred"));
    assert_false(acls.is_allowed("vnc.x509dname", "bob"));
    assert_false(acls.is_allowed("vnc.x509dname", "eve"));

    EXPECT_HMP(f, "acl_remove vnc.x509dname fred", "acl: removed rule at position 2\r\n");
    EXPECT_HMP(f, "acl_remove vnc.x509dname fred", "acl: no matching acl entry\r\n");
    EXPECT_HMP(f, "acl_remove vnc.x509dname \"C=GB,O=ACME,CN=bob\"", "acl: no matching acl entry\r\n");
    EXPECT_HMP(f, "acl_policy vnc.x509dname allow", "acl: policy set to 'allow'\r\n");
    assert_true(acls.is_allowed("vnc.x509dname", "eve"));
    EXPECT_HMP(f, "acl_policy vnc.x509dname Allow",
               "acl: unknown policy 'Allow', expected 'deny' or 'allow'\r\n");
    EXPECT_HMP(f, "acl_policy vnc.x509dname deny", "acl: policy set to 'deny'\r\n");
    EXPECT_HMP(f, "acl_reset vnc.x509dname", "acl: removed all rules\r\n");
    EXPECT_HMP(f, "acl_show vnc.x509dname", "policy: deny\r\n");
    assert_false(acls.is_allowed("vnc.x509dname", "C=GB,O=ACME,CN=bob"));
}

void test_info(void **state)
{
    auto &f = fx(state);
    EXPECT_HMP(f, "info vnc", "None\r\n");
    EXPECT_HMP(f, "info version", "7.2.0qvnc-0.1.0\r\n");
    EXPECT_HMP(f, "info name", "");
    qvnc_context_set_name(f.ctx, "guest1");
    EXPECT_HMP(f, "info name", "guest1\r\n");
    EXPECT_HMP(f, "info status", "VM status: running\r\n");

    std::string sock = f.dir + "/vnc.sock";
    assert_non_null(f.open("unix:" + sock + ",password=on"));
    assert_non_null(f.open("none,id=second"));
    EXPECT_HMP(f, "info vnc",
               ("second:\r\n"
                "  Auth: none (Sub: none)\r\n"
                "default:\r\n"
                "  Server: :" + sock + " (unix)\r\n"
                "    Auth: vnc (Sub: none)\r\n").c_str());
}

void test_run_state(void **state)
{
    auto &f = fx(state);
    EXPECT_HMP(f, "stop", "");
    EXPECT_HMP(f, "info status", "VM status: paused\r\n");
    EXPECT_HMP(f, "s", "");
    EXPECT_HMP(f, "c", "");
    EXPECT_HMP(f, "info status", "VM status: running\r\n");
    EXPECT_HMP(f, "cont", "");
    assert_int_equal(f.run_changes.size(), 2);
    assert_false(f.run_changes[0]);
    assert_true(f.run_changes[1]);
    assert_int_equal(f.events.size(), 2);
    assert_non_null(strstr(f.events[0].c_str(), "\"event\": \"STOP\""));
    assert_non_null(strstr(f.events[1].c_str(), "\"event\": \"RESUME\""));

    qvnc_monitor_set_run_state(f.mon, QVNC_RUN_STATE_PRELAUNCH);
    EXPECT_HMP(f, "info status", "VM status: paused (prelaunch)\r\n");
    EXPECT_HMP(f, "stop", "");
    EXPECT_HMP(f, "info status", "VM status: paused (prelaunch)\r\n");
    assert_int_equal(f.run_changes.size(), 2); // set_run_state does not call back
    assert_false(qvnc_monitor_is_running(f.mon));
    EXPECT_HMP(f, "cont", "");
    assert_true(qvnc_monitor_is_running(f.mon));
    assert_int_equal(f.run_changes.size(), 3);

    EXPECT_HMP(f, "quit", "");
    EXPECT_HMP(f, "q", "");
    assert_int_equal(f.quits, 0); // from an idle callback, once
    assert_true(f.pump([&] { return f.quits > 0; }));
    f.pump_for(20);
    assert_int_equal(f.quits, 1);
    assert_non_null(strstr(f.events.back().c_str(),
                           "\"event\": \"SHUTDOWN\", \"data\": {\"guest\": false, \"reason\": \"host-qmp-quit\"}"));
}

void test_passwords(void **state)
{
    auto &f = fx(state);
    const char *could_not = "Error: Could not set password\r\n";
    EXPECT_HMP(f, "set_password vnc secret", could_not); // no display at all
    EXPECT_HMP(f, "change vnc password secret", could_not);
    EXPECT_HMP(f, "expire_password vnc now", "Error: Could not set password expire time\r\n");

    assert_non_null(f.open("none"));
    const std::string hint =
        "If you want use passwords please enable password auth using '-vnc ${dpy},password'.\r\n";
    EXPECT_HMP(f, "set_password vnc secret", (hint + could_not).c_str());
    EXPECT_HMP(f, "change vnc password secret", (hint + could_not).c_str());

    assert_non_null(f.open("unix:" + f.dir + "/p.sock,password=on,id=pw"));
    EXPECT_HMP(f, "set_password vnc secret -d pw", "");
    EXPECT_HMP(f, "set_password vnc secret -d pw keep", "");
    EXPECT_HMP(f, "set_password vnc secret -d nope", could_not);
    EXPECT_HMP(f, "set_password vnc secret -d pw fail", "Error: Invalid parameter 'connected'\r\n");
    EXPECT_HMP(f, "set_password vnc secret -d pw later", "Error: invalid parameter value: later\r\n");
    EXPECT_HMP(f, "set_password rdp secret", "Error: invalid parameter value: rdp\r\n");
    EXPECT_HMP(f, "set_password spice secret", "Error: SPICE is not in use\r\n");
    EXPECT_HMP(f, "set_password vnc",
               "set_password: string expected\r\nTry \"help set_password\" for more information\r\n");

    for (const char *t : {"now", "never", "+60", "1700000000", "0"}) {
        EXPECT_HMP(f, std::string("expire_password vnc ") + t + " -d pw", "");
    }
    EXPECT_HMP(f, "expire_password vnc soon -d pw",
               "Error: Parameter 'time' doesn't take value 'soon'\r\n");
    EXPECT_HMP(f, "expire_password vnc +x -d pw", "Error: Parameter 'time' doesn't take value '+x'\r\n");
    EXPECT_HMP(f, "expire_password vnc now -d nope", "Error: Could not set password expire time\r\n");
    EXPECT_HMP(f, "expire_password spice now", "Error: SPICE is not in use\r\n");
    EXPECT_HMP(f, "expire_password spice soon", "Error: Parameter 'time' doesn't take value 'soon'\r\n");

    EXPECT_HMP(f, "change vnc password", "terminal does not support password prompting\r\n");
    EXPECT_HMP(f, "change vnc passwd", "terminal does not support password prompting\r\n");
    EXPECT_HMP(f, "change vnc foo", "Error: Expected 'password' after 'vnc'\r\n");
    EXPECT_HMP(f, "change vnc password x y", "Error: Parameter 'read-only-mode' is invalid for VNC\r\n");
    EXPECT_HMP(f, "change ide1-cd0 /tmp/a.iso", "Error: Device 'ide1-cd0' not found\r\n");
}

void test_fds(void **state)
{
    auto &f = fx(state);
    EXPECT_HMP(f, "getfd x", "Error: No file descriptor supplied via SCM_RIGHTS\r\n");
    EXPECT_HMP(f, "closefd x", "Error: File descriptor named 'x' not found\r\n");
}

} // namespace

int main()
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_help, monitor_fixture_setup, monitor_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_parse_errors, monitor_fixture_setup,
                                        monitor_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_acl, monitor_fixture_setup, monitor_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_info, monitor_fixture_setup, monitor_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_run_state, monitor_fixture_setup,
                                        monitor_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_passwords, monitor_fixture_setup,
                                        monitor_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_fds, monitor_fixture_setup, monitor_fixture_teardown),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
