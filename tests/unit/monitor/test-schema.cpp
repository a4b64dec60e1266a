// The embedded QAPI schema: it loads, every command has a handler (and
// every handler a schema entry), and argument checks give QEMU's texts.
#include <string>

#include "monitor.hpp"
#include "schema.hpp"

#include "cmocka.hpp" // last: its macros clash with <ios>

using namespace qvnc::monitor;

namespace {

void test_commands_and_handlers(void **)
{
    const Schema &s = Schema::builtin();
    assert_true(s.commands().size() >= 18);
    for (const auto &c : s.commands()) {
        if (!qmp_has_handler(c.name)) {
            fail_msg("schema command %s has no handler", c.name.c_str());
        }
    }
    for (const auto &name : qmp_handler_names()) {
        if (!s.command(name)) {
            fail_msg("handler %s is not in the schema", name.c_str());
        }
    }
    for (const char *ev : {"VNC_CONNECTED", "VNC_INITIALIZED", "VNC_DISCONNECTED", "STOP",
                           "RESUME", "SHUTDOWN"}) {
        assert_non_null(s.event(ev));
    }
    // Inherited members come first.
    const TypeDef *ci = s.type("VncClientInfo");
    assert_non_null(ci);
    assert_string_equal(ci->members[0].name.c_str(), "host");
    assert_string_equal(ci->members[4].name.c_str(), "x509_dname");
    assert_true(ci->members[4].optional);
}

struct Row {
    const char *command;
    const char *args;
    const char *error; // nullptr: valid
};

void test_argument_errors(void **)
{
    static const Row rows[] = {
        {"stop", "{}", nullptr},
        {"stop", "{\"x\": 1}", "Parameter 'x' is unexpected"},
        {"change-vnc-password", "{}", "Parameter 'password' is missing"},
        {"change-vnc-password", "{\"password\": 1}",
         "Invalid parameter type for 'password', expected: string"},
        {"change-vnc-password", "{\"password\": \"x\", \"y\": 2}", "Parameter 'y' is unexpected"},
        {"set_password", "{\"protocol\": \"vnc\", \"password\": \"p\"}", nullptr},
        {"set_password", "{\"protocol\": \"vnc\", \"password\": \"p\", \"display\": \"d\", \"connected\": \"keep\"}",
         nullptr},
        {"set_password", "{\"password\": \"p\"}", "Parameter 'protocol' is missing"},
        {"set_password", "{\"protocol\": \"rdp\", \"password\": \"p\"}",
         "Parameter 'protocol' does not accept value 'rdp'"},
        {"set_password", "{\"protocol\": 5, \"password\": \"p\"}",
         "Invalid parameter type for 'protocol', expected: string"},
        {"set_password", "{\"protocol\": \"spice\", \"password\": \"p\", \"display\": \"d\"}",
         "Parameter 'display' is unexpected"},
        {"set_password", "{\"protocol\": \"vnc\", \"password\": \"p\", \"connected\": \"later\"}",
         "Parameter 'connected' does not accept value 'later'"},
        {"expire_password", "{\"protocol\": \"vnc\", \"time\": 5}",
         "Invalid parameter type for 'time', expected: string"},
        {"add_client", "{\"protocol\": \"vnc\", \"fdname\": \"f\", \"skipauth\": \"yes\"}",
         "Invalid parameter type for 'skipauth', expected: boolean"},
        {"human-monitor-command", "{\"command-line\": \"x\", \"cpu-index\": 1.5}",
         "Invalid parameter type for 'cpu-index', expected: integer"},
        {"qmp_capabilities", "{\"enable\": \"oob\"}",
         "Invalid parameter type for 'enable', expected: array"},
        {"qmp_capabilities", "{\"enable\": [\"oob\", \"x\"]}",
         "Parameter 'null' does not accept value 'x'"},
        {"display-update", "{\"type\": \"vnc\", \"addresses\": [{\"type\": \"inet\", \"host\": \"h\"}]}",
         "Parameter 'addresses[0].port' is missing"},
        {"display-update",
         "{\"type\": \"vnc\", \"addresses\": [{\"type\": \"inet\", \"host\": \"h\", \"port\": \"1\", \"to\": 70000}]}",
         "Parameter 'to' expects uint16"},
        {"display-update",
         "{\"type\": \"vnc\", \"addresses\": [{\"type\": \"unix\", \"path\": \"/x\", \"host\": \"h\"}]}",
         "Parameter 'addresses[0].host' is unexpected"},
        {"display-update", "{\"type\": \"vnc\", \"addresses\": [5]}",
         "Invalid parameter type for 'addresses[0]', expected: object"},
        {"display-update", "{\"type\": \"spice\"}", "Parameter 'type' does not accept value 'spice'"},
        {"display-reload", "{\"type\": \"vnc\", \"tls-certs\": true}", nullptr},
    };
    const Schema &s = Schema::builtin();
    for (const auto &r : rows) {
        const CommandDef *c = s.command(r.command);
        assert_non_null(c);
        std::string err;
        auto args = parse_message(r.args, &err);
        assert_true(args.has_value());
        auto st = s.check_arguments(*c, *args);
        if (!r.error) {
            if (!st.ok()) {
                fail_msg("%s %s: %s", r.command, r.args, st.error().message.c_str());
            }
            continue;
        }
        if (st.ok()) {
            fail_msg("%s %s was accepted", r.command, r.args);
        }
        assert_string_equal(st.error().message.c_str(), r.error);
    }
}

void test_values(void **)
{
    const Schema &s = Schema::builtin();
    std::string err;
    auto v = parse_message("{\"running\": true, \"singlestep\": false, \"status\": \"prelaunch\"}", &err);
    assert_true(s.check_value(TypeRef{"StatusInfo", false}, *v).ok());
    v = parse_message("{\"running\": true, \"status\": \"prelaunch\"}", &err);
    assert_false(s.check_value(TypeRef{"StatusInfo", false}, *v).ok());
    v = parse_message("[{\"name\": \"x\"}]", &err);
    assert_true(s.check_value(TypeRef{"CommandInfo", true}, *v).ok());
}

void test_bad_schema_text(void **)
{
    assert_false(Schema::parse("{").ok());
    auto s = Schema::parse("[{\"enum\": \"E\", \"data\": [\"a\"]},"
                           " {\"command\": \"c\", \"data\": {\"e\": \"E\", \"*n\": \"int\"}}]");
    assert_true(s.ok());
    const CommandDef *c = s->command("c");
    assert_non_null(c);
    assert_string_equal(c->args.c_str(), "q_obj_c-arg");
}

} // namespace

int main()
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_commands_and_handlers),
        cmocka_unit_test(test_argument_errors),
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_bad_schema_text),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
