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

// A libvirt-generated command line: monitors kept in order, the rest of
// the machine accepted and listed once as ignored.
void test_libvirt_command_line(void **)
{
    const ParseResult r = parse(
        {"-name", "guest=vm1,debug-threads=on", "-S", "-object",
         "{\"qom-type\":\"secret\",\"id\":\"masterKey0\",\"format\":\"raw\",\"file\":\"/k\"}",
         "-machine", "pc-q35-7.2,usb=off,dump-guest-core=off", "-accel", "kvm", "-cpu", "host", "-m", "1024",
         "-overcommit", "mem-lock=off", "-smp", "1,sockets=1,cores=1,threads=1", "-uuid",
         "c7a5fdbd-edaf-9455-926a-d65c16db1809", "-no-user-config", "-nodefaults", "-chardev",
         "socket,id=charmonitor,fd=23,server=on,wait=off", "-mon", "chardev=charmonitor,id=monitor,mode=control",
         "-rtc", "base=utc", "-no-shutdown", "-boot", "strict=on", "-blockdev",
         "{\"driver\":\"file\",\"filename\":\"/d.img\",\"node-name\":\"libvirt-1-storage\"}", "-device",
         "virtio-blk-pci,drive=libvirt-1-format,id=virtio-disk0", "-netdev", "user,id=hostnet0", "-device",
         "virtio-net-pci,netdev=hostnet0,id=net0", "-global", "ICH9-LPC.disable_s3=1", "-audiodev",
         "{\"id\":\"audio1\",\"driver\":\"none\"}", "-vnc", "127.0.0.1:0,audiodev=audio1", "-display",
         "egl-headless,rendernode=/dev/dri/renderD128", "-sandbox",
         "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny", "-msg", "timestamp=on",
         "-daemonize", "-pidfile", "/run/vm1.pid", "-monitor", "unix:/tmp/hmp.sock,server=on,wait=off", "-qmp",
         "tcp:127.0.0.1:4444,server,nowait"});
    assert_int_equal(static_cast<int>(r.action), static_cast<int>(ParseResult::Action::Run));
    assert_true(r.options.start_stopped);
    assert_int_equal(r.options.chardevs.size(), 1);
    assert_string_equal(r.options.chardevs[0].c_str(), "socket,id=charmonitor,fd=23,server=on,wait=off");
    assert_int_equal(r.options.mons.size(), 1);
    assert_int_equal(r.options.monitors.size(), 2);
    assert_false(r.options.monitors[0].qmp);
    assert_true(r.options.monitors[1].qmp);
    assert_string_equal(r.options.monitors[1].spec.c_str(), "tcp:127.0.0.1:4444,server,nowait");
    const char *ignored[] = {"-machine", "-accel", "-cpu", "-m", "-overcommit", "-smp", "-uuid",
                             "-no-user-config", "-nodefaults", "-rtc", "-no-shutdown", "-boot",
                             "-blockdev", "-device", "-netdev", "-device", "-global", "-audiodev",
                             "-display", "-sandbox", "-msg", "-daemonize", "-pidfile"};
    assert_int_equal(r.options.ignored.size(), sizeof ignored / sizeof ignored[0]);
    for (size_t i = 0; i < r.options.ignored.size(); ++i) {
        assert_string_equal(r.options.ignored[i].c_str(), ignored[i]);
    }
    // Options taking an argument still need one.
    assert_string_equal(parse({"-vnc", ":0", "-device"}).error.c_str(), "-device: requires an argument");
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
    r = parse({"-vnc", ":0", "--replay-fps", "-1"});
    assert_int_equal(static_cast<int>(r.action), static_cast<int>(ParseResult::Action::Fail));
    r = parse({"-vnc", ":0", "--replay-fps", "0"}); // demand-driven
    assert_int_equal(static_cast<int>(r.action), static_cast<int>(ParseResult::Action::Run));
    assert_true(r.options.replay_fps == 0);
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
        cmocka_unit_test(test_qemu_command_line),   cmocka_unit_test(test_libvirt_command_line),
        cmocka_unit_test(test_emulator_options_double_dash),
        cmocka_unit_test(test_replay_guest),        cmocka_unit_test(test_errors_in_qemu_wording),
        cmocka_unit_test(test_values_may_start_with_dash), cmocka_unit_test(test_help),
        cmocka_unit_test(test_parse_size),          cmocka_unit_test(test_parse_name),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
