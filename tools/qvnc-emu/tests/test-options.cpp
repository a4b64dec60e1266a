#include <cstring>
#include <string>
#include <vector>

#include "options.hpp"

// cmocka last: its fail() macro would break the C++ headers.
#include "cmocka.hpp"

using namespace qvnc_emu;

namespace {

ParseResult parse(std::vector<const char *> args)
{
    return parse_options(std::span<const char *const>(args.data(), args.size()));
}

void test_qemu_command_line(void **)
{
    const ParseResult r = parse({"-name", "guest=vm1,debug-threads=on", "-S", "-object", "secret,id=s0,data=pw",
                                 "-vnc", "127.0.0.1:0,password-secret=s0", "-vnc", "unix:/tmp/v.sock", "-k",
                                 "en-us", "-display", "none"});
    assert_int_equal(static_cast<int>(r.action), static_cast<int>(ParseResult::Action::Run));
    assert_string_equal(r.options.name.c_str(), "vm1");
    assert_true(r.options.start_stopped);
    assert_int_equal(r.options.objects.size(), 1);
    assert_string_equal(r.options.objects[0].c_str(), "secret,id=s0,data=pw");
    assert_int_equal(r.options.vnc.size(), 2);
    assert_string_equal(r.options.vnc[0].c_str(), "127.0.0.1:0,password-secret=s0");
    assert_string_equal(r.options.vnc[1].c_str(), "unix:/tmp/v.sock");
    assert_string_equal(r.options.keyboard_layout.c_str(), "en-us");
    assert_string_equal(r.options.display.c_str(), "none");
    assert_true(r.options.guest == GuestKind::Console);
}

void test_emulator_options_double_dash(void **)
{
    const ParseResult r = parse({"--vnc", ":1", "--guest", "pattern", "--size", "800x600", "--format", "r5g6b5",
                                 "--resize-every", "0.5", "--replay-fps", "60", "--frame-dump", "/tmp/f.ppm"});
    assert_int_equal(static_cast<int>(r.action), static_cast<int>(ParseResult::Action::Run));
    assert_true(r.options.guest == GuestKind::Pattern);
    assert_true(r.options.size.has_value());
    assert_true((*r.options.size == Size{800, 600}));
    assert_true(r.options.format == PixelFormat::R5G6B5);
    assert_true(r.options.resize_every == 0.5);
    assert_true(r.options.replay_fps == 60);
    assert_string_equal(r.options.frame_dump.c_str(), "/tmp/f.ppm");
    assert_false(r.options.start_stopped);
}

void test_replay_guest(void **)
{
    ParseResult r = parse({"-vnc", ":0", "--guest", "replay:/dev/shm/desktop.vfr"});
    assert_true(r.options.guest == GuestKind::Replay);
    assert_string_equal(r.options.replay_file.c_str(), "/dev/shm/desktop.vfr");
    r = parse({"-vnc", ":0", "--guest", "replay:"});
    assert_int_equal(static_cast<int>(r.action), static_cast<int>(ParseResult::Action::Fail));
    r = parse({"-vnc", ":0", "--guest", "bios"});
    assert_int_equal(static_cast<int>(r.action), static_cast<int>(ParseResult::Action::Fail));
}

void test_errors_in_qemu_wording(void **)
{
    ParseResult r = parse({"-vnc", ":0", "-foo"});
    assert_int_equal(static_cast<int>(r.action), static_cast<int>(ParseResult::Action::Fail));
    assert_string_equal(r.error.c_str(), "-foo: invalid option");
    r = parse({"--bogus", "-vnc", ":0"});
    assert_string_equal(r.error.c_str(), "--bogus: invalid option");
    r = parse({"-vnc"});
    assert_string_equal(r.error.c_str(), "-vnc: requires an argument");
    r = parse({"disk.img", "-vnc", ":0"});
    assert_string_equal(r.error.c_str(), "disk.img: invalid option");
    r = parse({"-vnc=:0"});
    assert_string_equal(r.error.c_str(), "-vnc=:0: invalid option");
    r = parse({"-name", "vm"});
    assert_int_equal(static_cast<int>(r.action), static_cast<int>(ParseResult::Action::Fail)); // no -vnc
    r = parse({"-vnc", ":0", "--format", "y8"});
    assert_int_equal(static_cast<int>(r.action), static_cast<int>(ParseResult::Action::Fail));
    r = parse({"-vnc", ":0", "--replay-fps", "0"});
    assert_int_equal(static_cast<int>(r.action), static_cast<int>(ParseResult::Action::Fail));
    r = parse({"-vnc", ":0", "--resize-every", "-1"});
    assert_int_equal(static_cast<int>(r.action), static_cast<int>(ParseResult::Action::Fail));
}

void test_values_may_start_with_dash(void **)
{
    const ParseResult r = parse({"-name", "-odd", "-vnc", ":0"});
    assert_int_equal(static_cast<int>(r.action), static_cast<int>(ParseResult::Action::Run));
    assert_string_equal(r.options.name.c_str(), "-odd");
}

void test_help(void **)
{
    assert_int_equal(static_cast<int>(parse({"--help"}).action), static_cast<int>(ParseResult::Action::Help));
    assert_int_equal(static_cast<int>(parse({"-h"}).action), static_cast<int>(ParseResult::Action::Help));
    assert_non_null(strstr(usage_text().c_str(), "-vnc OPTS"));
}

void test_parse_size(void **)
{
    assert_true((parse_size("1024x768") == Size{1024, 768}));
    assert_true((parse_size("1x1") == Size{1, 1}));
    assert_false(parse_size("0x5").has_value());
    assert_false(parse_size("12x").has_value());
    assert_false(parse_size("x12").has_value());
    assert_false(parse_size("axb").has_value());
    assert_false(parse_size("100000x1").has_value());
    assert_false(parse_size("-3x4").has_value());
    assert_false(parse_size("1024*768").has_value());
}

void test_parse_name(void **)
{
    assert_string_equal(parse_name_option("vm").value().c_str(), "vm");
    assert_string_equal(parse_name_option("guest=vm2").value().c_str(), "vm2");
    assert_string_equal(parse_name_option("guest=a,,b,debug-threads=on").value().c_str(), "a,b");
    assert_string_equal(parse_name_option("vm3,debug-threads=on").value().c_str(), "vm3");
    assert_string_equal(parse_name_option("debug-threads=on").value().c_str(), "");
    assert_false(parse_name_option("a,b").has_value());
}

} // namespace

int main()
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_qemu_command_line),   cmocka_unit_test(test_emulator_options_double_dash),
        cmocka_unit_test(test_replay_guest),        cmocka_unit_test(test_errors_in_qemu_wording),
        cmocka_unit_test(test_values_may_start_with_dash), cmocka_unit_test(test_help),
        cmocka_unit_test(test_parse_size),          cmocka_unit_test(test_parse_name),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
