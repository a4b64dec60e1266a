// The args_type parser against QEMU's monitor_parse_arguments() texts.
#include <string>

#include "hmp-args.hpp"

#include "cmocka.hpp" // last: its macros clash with <ios>

using namespace qvnc::monitor;

namespace {

struct Row {
    const char *args_type;
    const char *input;
    const char *error; // nullptr: parses
};

void test_errors(void **)
{
    static const Row rows[] = {
        {"aclname:s", "", "cmd: string expected\n"},
        {"aclname:s", "   ", "cmd: string expected\n"},
        {"aclname:s", "a b", "cmd: extraneous characters at the end of line\n"},
        {"aclname:s", "\"unterminated", "cmd: string expected\n"},
        {"aclname:s", "\"bad\\x\"", "cmd: string expected\n"},
        {"a:s,i:i?", "x -1", "'cmd' has failed: integer is for 32-bit values\n"},
        {"a:s,i:i?", "x 0x100000000", "'cmd' has failed: integer is for 32-bit values\n"},
        {"a:s,i:i?", "x abc", "invalid char 'a' in expression\n"},
        {"a:s,i:i?", "x (1", "')' expected\n"},
        {"a:s,i:i?", "x 1/0", "division by zero\n"},
        {"a:s,i:i?", "x 1+", "unexpected end of expression\n"},
        {"a:s,i:i?", "x $eax", "unknown register\n"},
        {"a:s,i:i?", "x 99999999999999999999", "number too large\n"},
        {"a:s,i:i?", "x 1 2", "cmd: extraneous characters at the end of line\n"},
        {"d:B,t:F", "dev", "cmd: filename expected\n"},
        {"d:B", "", "cmd: block device name expected\n"},
        {"o:b", "maybe", "Expected 'on' or 'off'\n"},
        {"p:s,w:s,display:-ds,c:s?", "vnc pw -d", "cmd: value expected for -d\n"},
        {"p:s,w:s,display:-ds,c:s?", "vnc pw -x keep", "cmd: unsupported option -x\n"},
        {"p:s,w:s,display:-ds,c:s?", "vnc pw keep -d x",
         "cmd: extraneous characters at the end of line\n"},
        {"n:S", "", "cmd: string expected\n"},
        {"n:q", "x", "cmd: unknown type 'q'\n"},
    };
    for (const auto &r : rows) {
        std::string out;
        auto args = parse_hmp_args("cmd", r.args_type, r.input, out);
        if (args) {
            fail_msg("'%s' with '%s' parsed; expected %s", r.input, r.args_type, r.error);
        }
        assert_string_equal(out.c_str(), r.error);
    }
}

void test_values(void **)
{
    std::string out;
    auto a = parse_hmp_args("acl_add", "aclname:s,match:s,policy:s,index:i?",
                            "  vnc.x509dname \"C=GB,CN=a b\\\"c\" allow  (1+2)*3 ", out);
    assert_true(a.has_value());
    assert_string_equal(a->str("aclname")->c_str(), "vnc.x509dname");
    assert_string_equal(a->str("match")->c_str(), "C=GB,CN=a b\"c");
    assert_int_equal(*a->integer("index"), 9);

    a = parse_hmp_args("acl_add", "aclname:s,match:s,policy:s,index:i?", "l m allow", out);
    assert_true(a.has_value());
    assert_false(a->has("index"));

    a = parse_hmp_args("x", "i:i", "0xffffffff", out);
    assert_int_equal(*a->integer("i"), 0xffffffff);
    a = parse_hmp_args("x", "i:i", "'A' | 0x100 ^ ~0 & 7 % 4 - -1", out);
    assert_true(a.has_value());
    // One level for & | ^, left to right, below * / % and above + -.
    assert_int_equal(*a->integer("i"), 3);

    a = parse_hmp_args("set_password", "protocol:s,password:s,display:-ds,connected:s?",
                       "vnc -secret -d vnc2 keep", out);
    assert_true(a.has_value());
    assert_string_equal(a->str("password")->c_str(), "-secret");
    assert_string_equal(a->str("display")->c_str(), "vnc2");
    assert_string_equal(a->str("connected")->c_str(), "keep");

    a = parse_hmp_args("set_password", "protocol:s,password:s,display:-ds,connected:s?",
                       "vnc pw -dvnc3", out);
    assert_string_equal(a->str("display")->c_str(), "vnc3");
    assert_false(a->has("connected"));

    a = parse_hmp_args("change", "device:B,force:-f,target:F,arg:s?", "vnc -f password pw", out);
    assert_true(a->flag("force"));
    assert_string_equal(a->str("target")->c_str(), "password");

    a = parse_hmp_args("help", "name:S?", "  info  vnc  ", out);
    assert_string_equal(a->str("name")->c_str(), "info  vnc  ");

    // QEMU keeps 1023 bytes of a word.
    a = parse_hmp_args("x", "w:s", std::string(5000, 'w'), out);
    assert_int_equal(a->str("w")->size(), 1023);
    assert_string_equal(out.c_str(), "");
}

} // namespace

int main()
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_values),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
