// Every QMP command and error, through qvnc_monitor_qmp() (a session that
// starts negotiated), plus the events.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <string>

#include "monitor-fixture.hpp"

#include "cmocka.hpp" // last: its macros clash with <ios>

namespace {

MonitorFixture &fx(void **state) { return *static_cast<MonitorFixture *>(*state); }

#define EXPECT_QMP(f, in, want) assert_string_equal((f).qmp(in).c_str(), want)

std::string gerr(const char *desc)
{
    return std::string("{\"error\": {\"class\": \"GenericError\", \"desc\": \"") + desc + "\"}}";
}

void test_framing_errors(void **state)
{
    auto &f = fx(state);
    EXPECT_QMP(f, "{\"execute\":", gerr("JSON parse error, expecting value").c_str());
    EXPECT_QMP(f, "", gerr("JSON parse error, expecting value").c_str());
    EXPECT_QMP(f, "{\"a\": 1, \"a\": 2}", gerr("JSON parse error, duplicate key").c_str());
    EXPECT_QMP(f, "[1]", gerr("QMP input must be a JSON object").c_str());
    EXPECT_QMP(f, "42", gerr("QMP input must be a JSON object").c_str());
    EXPECT_QMP(f, "{\"arguments\": {}}", gerr("QMP input lacks member 'execute'").c_str());
    EXPECT_QMP(f, "{\"execute\": 1}", gerr("QMP input member 'execute' must be a string").c_str());
    EXPECT_QMP(f, "{\"execute\": \"stop\", \"arguments\": []}",
               gerr("QMP input member 'arguments' must be an object").c_str());
    EXPECT_QMP(f, "{\"execute\": \"stop\", \"foo\": 1}",
               gerr("QMP input member 'foo' is unexpected").c_str());
    EXPECT_QMP(f, "{\"exec-oob\": \"stop\"}", gerr("QMP input member 'exec-oob' is unexpected").c_str());
    EXPECT_QMP(f, "{\"execute\": \"nope\", \"id\": [1, \"x\"]}",
               "{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"The command nope has not "
               "been found\"}, \"id\": [1, \"x\"]}");
    EXPECT_QMP(f, "{\"execute\": \"stop\", \"arguments\": {\"x\": 1}, \"id\": 7}",
               "{\"error\": {\"class\": \"GenericError\", \"desc\": \"Parameter 'x' is "
               "unexpected\"}, \"id\": 7}");
    EXPECT_QMP(f, "{'execute': 'query-status', 'id': 'q'}",
               "{\"return\": {\"running\": true, \"singlestep\": false, \"status\": \"running\"}, "
               "\"id\": \"q\"}");
}

void test_control(void **state)
{
    auto &f = fx(state);
    EXPECT_QMP(f, "{\"execute\": \"qmp_capabilities\"}",
               "{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"Capabilities negotiation "
               "is already complete, command ignored\"}}");
    EXPECT_QMP(f, "{\"execute\": \"query-version\", \"id\": \"libvirt-1\"}",
               "{\"return\": {\"qemu\": {\"micro\": 0, \"minor\": 2, \"major\": 7}, \"package\": "
               "\"qvnc-0.1.0\"}, \"id\": \"libvirt-1\"}");
    std::string cmds = f.qmp("{\"execute\": \"query-commands\"}");
    for (const char *c : {"qmp_capabilities", "query-vnc", "query-vnc-servers", "set_password",
                          "expire_password", "change-vnc-password", "display-reload",
                          "display-update", "add_client", "getfd", "closefd",
                          "human-monitor-command", "query-status", "cont", "stop", "quit"}) {
        std::string want = std::string("{\"name\": \"") + c + "\"}";
        if (cmds.find(want) == std::string::npos) {
            fail_msg("query-commands lacks %s: %s", c, cmds.c_str());
        }
    }
    EXPECT_QMP(f, "{\"execute\": \"human-monitor-command\", \"arguments\": {\"command-line\": \"info status\"}}",
               "{\"return\": \"VM status: running\\r\\n\"}");
    EXPECT_QMP(f, "{\"execute\": \"human-monitor-command\", \"arguments\": {\"command-line\": \"help c\", \"cpu-index\": 0}}",
               "{\"return\": \"cont|c  -- resume emulation\\r\\n\"}");
    EXPECT_QMP(f, "{\"execute\": \"human-monitor-command\", \"arguments\": {\"command-line\": \"stop\", \"cpu-index\": 3}}",
               gerr("Parameter 'cpu-index' expects a CPU number").c_str());
    EXPECT_QMP(f, "{\"execute\": \"human-monitor-command\", \"arguments\": {\"command-line\": \"\"}}",
               "{\"return\": \"\"}");
    EXPECT_QMP(f, "{\"execute\": \"human-monitor-command\"}",
               gerr("Parameter 'command-line' is missing").c_str());
}

void test_run_state(void **state)
{
    auto &f = fx(state);
    EXPECT_QMP(f, "{\"execute\": \"stop\"}", "{\"return\": {}}");
    EXPECT_QMP(f, "{\"execute\": \"query-status\"}",
               "{\"return\": {\"running\": false, \"singlestep\": false, \"status\": \"paused\"}}");
    EXPECT_QMP(f, "{\"execute\": \"cont\"}", "{\"return\": {}}");
    qvnc_monitor_set_run_state(f.mon, QVNC_RUN_STATE_PRELAUNCH);
    EXPECT_QMP(f, "{\"execute\": \"query-status\"}",
               "{\"return\": {\"running\": false, \"singlestep\": false, \"status\": \"prelaunch\"}}");
    EXPECT_QMP(f, "{\"execute\": \"cont\"}", "{\"return\": {}}");
    assert_int_equal(f.run_changes.size(), 3);
    assert_int_equal(f.events.size(), 4); // STOP RESUME STOP RESUME
    assert_non_null(strstr(f.events[2].c_str(), "\"event\": \"STOP\"}"));
    assert_non_null(strstr(f.events[0].c_str(), "{\"timestamp\": {\"seconds\": "));
    EXPECT_QMP(f, "{\"execute\": \"quit\"}", "{\"return\": {}}");
    assert_true(f.pump([&] { return f.quits == 1; }));
}

void test_vnc_queries(void **state)
{
    auto &f = fx(state);
    EXPECT_QMP(f, "{\"execute\": \"query-vnc\"}", "{\"return\": {\"enabled\": false}}");
    EXPECT_QMP(f, "{\"execute\": \"query-vnc-servers\"}", "{\"return\": []}");
    assert_non_null(f.open("none"));
    EXPECT_QMP(f, "{\"execute\": \"query-vnc\"}", "{\"return\": {\"enabled\": false}}");
    EXPECT_QMP(f, "{\"execute\": \"query-vnc-servers\"}",
               "{\"return\": [{\"id\": \"default\", \"server\": [], \"clients\": [], \"auth\": \"none\"}]}");

    std::string sock = f.dir + "/v.sock";
    assert_non_null(f.open("unix:" + sock + ",password=on,id=unix"));
    EXPECT_QMP(f, "{\"execute\": \"query-vnc-servers\"}",
               ("{\"return\": [{\"id\": \"unix\", \"server\": [{\"host\": \"\", \"service\": \"" + sock +
                "\", \"family\": \"unix\", \"websocket\": false, \"auth\": \"vnc\"}], \"clients\": [], "
                "\"auth\": \"vnc\"}, {\"id\": \"default\", \"server\": [], \"clients\": [], \"auth\": "
                "\"none\"}]}").c_str());
}

void test_vnc_query_tcp(void **state)
{
    auto &f = fx(state);
    // A free port >= 5900, chosen now.
    int port = 0;
    for (int i = 0; i < 100 && port < 5900; ++i) {
        int s = socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in sa{};
        sa.sin_family = AF_INET;
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof(sa);
        bind(s, reinterpret_cast<sockaddr *>(&sa), sizeof(sa));
        getsockname(s, reinterpret_cast<sockaddr *>(&sa), &len);
        port = ntohs(sa.sin_port);
        close(s);
    }
    assert_true(port >= 5900);
    assert_non_null(f.open("127.0.0.1:" + std::to_string(port - 5900)));
    EXPECT_QMP(f, "{\"execute\": \"query-vnc\"}",
               ("{\"return\": {\"enabled\": true, \"host\": \"127.0.0.1\", \"family\": \"ipv4\", "
                "\"service\": \"" + std::to_string(port) + "\", \"auth\": \"none\", \"clients\": []}}").c_str());
    EXPECT_QMP(f, "{\"execute\": \"human-monitor-command\", \"arguments\": {\"command-line\": \"info vnc\"}}",
               ("{\"return\": \"default:\\r\\n  Server: 127.0.0.1:" + std::to_string(port) +
                " (ipv4)\\r\\n    Auth: none (Sub: none)\\r\\n\"}").c_str());

}

void test_passwords(void **state)
{
    auto &f = fx(state);
    EXPECT_QMP(f, "{\"execute\": \"change-vnc-password\", \"arguments\": {\"password\": \"x\"}}",
               gerr("Could not set password").c_str());
    assert_non_null(f.open("none"));
    EXPECT_QMP(f, "{\"execute\": \"change-vnc-password\", \"arguments\": {\"password\": \"x\"}}",
               gerr("Could not set password").c_str());
    EXPECT_QMP(f, "{\"execute\": \"set_password\", \"arguments\": {\"protocol\": \"vnc\", \"password\": \"x\"}}",
               gerr("Could not set password").c_str());
    assert_non_null(f.open("unix:" + f.dir + "/p.sock,password=on,id=pw"));
    EXPECT_QMP(f, "{\"execute\": \"set_password\", \"arguments\": {\"protocol\": \"vnc\", \"password\": \"x\", \"display\": \"pw\", \"connected\": \"keep\"}}",
               "{\"return\": {}}");
    EXPECT_QMP(f, "{\"execute\": \"set_password\", \"arguments\": {\"protocol\": \"vnc\", \"password\": \"x\", \"display\": \"pw\", \"connected\": \"fail\"}}",
               gerr("Invalid parameter 'connected'").c_str());
    EXPECT_QMP(f, "{\"execute\": \"set_password\", \"arguments\": {\"protocol\": \"vnc\", \"password\": \"x\", \"display\": \"nope\"}}",
               gerr("Could not set password").c_str());
    EXPECT_QMP(f, "{\"execute\": \"set_password\", \"arguments\": {\"protocol\": \"spice\", \"password\": \"x\"}}",
               "{\"error\": {\"class\": \"DeviceNotActive\", \"desc\": \"SPICE is not in use\"}}");
    EXPECT_QMP(f, "{\"execute\": \"expire_password\", \"arguments\": {\"protocol\": \"vnc\", \"time\": \"+30\", \"display\": \"pw\"}}",
               "{\"return\": {}}");
    EXPECT_QMP(f, "{\"execute\": \"expire_password\", \"arguments\": {\"protocol\": \"vnc\", \"time\": \"-\"}}",
               gerr("Parameter 'time' doesn't take value '-'").c_str());
    EXPECT_QMP(f, "{\"execute\": \"expire_password\", \"arguments\": {\"protocol\": \"vnc\", \"time\": \"now\", \"display\": \"nope\"}}",
               gerr("Could not set password expire time").c_str());
    EXPECT_QMP(f, "{\"execute\": \"expire_password\", \"arguments\": {\"protocol\": \"spice\", \"time\": \"now\"}}",
               "{\"error\": {\"class\": \"DeviceNotActive\", \"desc\": \"SPICE is not in use\"}}");
}

void test_display_reload_update(void **state)
{
    auto &f = fx(state);
    EXPECT_QMP(f, "{\"execute\": \"display-reload\", \"arguments\": {\"type\": \"vnc\", \"tls-certs\": true}}",
               gerr("Can not find vnc display").c_str());
    EXPECT_QMP(f, "{\"execute\": \"display-reload\", \"arguments\": {\"type\": \"vnc\"}}", "{\"return\": {}}");
    EXPECT_QMP(f, "{\"execute\": \"display-update\", \"arguments\": {\"type\": \"vnc\"}}",
               gerr("Can not find vnc display").c_str());
    assert_non_null(f.open("none"));
    EXPECT_QMP(f, "{\"execute\": \"display-reload\", \"arguments\": {\"type\": \"vnc\", \"tls-certs\": true}}",
               gerr("vnc tls is not enabled").c_str());
    std::string sock = f.dir + "/u.sock";
    EXPECT_QMP(f, ("{\"execute\": \"display-update\", \"arguments\": {\"type\": \"vnc\", \"addresses\": [{\"type\": \"unix\", \"path\": \"" + sock + "\"}]}}").c_str(),
               "{\"return\": {}}");
    EXPECT_QMP(f, "{\"execute\": \"query-vnc\"}",
               ("{\"return\": {\"enabled\": true, \"host\": \"\", \"family\": \"unix\", \"service\": \"" +
                sock + "\", \"auth\": \"none\", \"clients\": []}}").c_str());
    EXPECT_QMP(f, "{\"execute\": \"display-update\", \"arguments\": {\"type\": \"vnc\", \"addresses\": [{\"type\": \"vsock\", \"cid\": \"2\", \"port\": \"5\"}]}}",
               gerr("address type 'vsock' is not supported by qvnc").c_str());
    EXPECT_QMP(f, "{\"execute\": \"display-update\", \"arguments\": {\"type\": \"vnc\", \"addresses\": [{\"type\": \"inet\", \"host\": \"127.0.0.1\", \"port\": \"no-such-service\"}]}}",
               gerr("address resolution failed for 127.0.0.1:no-such-service: Servname not supported for ai_socktype").c_str());
}

void test_fds(void **state)
{
    auto &f = fx(state);
    EXPECT_QMP(f, "{\"execute\": \"getfd\", \"arguments\": {\"fdname\": \"a\"}}",
               gerr("No file descriptor supplied via SCM_RIGHTS").c_str());
    EXPECT_QMP(f, "{\"execute\": \"closefd\", \"arguments\": {\"fdname\": \"a\"}}",
               gerr("File descriptor named 'a' not found").c_str());
}

} // namespace

int main()
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_framing_errors, monitor_fixture_setup,
                                        monitor_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_control, monitor_fixture_setup, monitor_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_run_state, monitor_fixture_setup,
                                        monitor_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_vnc_queries, monitor_fixture_setup,
                                        monitor_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_vnc_query_tcp, monitor_fixture_setup,
                                        monitor_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_passwords, monitor_fixture_setup,
                                        monitor_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_display_reload_update, monitor_fixture_setup,
                                        monitor_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_fds, monitor_fixture_setup, monitor_fixture_teardown),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
