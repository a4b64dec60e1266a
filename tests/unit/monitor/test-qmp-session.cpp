// Monitors on real transports: QMP and HMP over socketpairs (attach_fd),
// socket chardevs serving clients one after another, libvirt's inherited
// listening fd, SCM_RIGHTS + add_client, bad input that must leave the
// monitor serving.
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <string>
#include <thread>

#include "context.hpp"
#include "monitor-fixture.hpp"
#include "server.hpp"

#include "cmocka.hpp" // last: its macros clash with <ios>

namespace {

MonitorFixture &fx(void **state) { return *static_cast<MonitorFixture *>(*state); }

// The test's end of a monitor connection.
struct Peer {
    MonitorFixture &f;
    int fd = -1;
    std::string buf;
    bool eof = false;

    Peer(MonitorFixture &fx, int s) : f(fx), fd(s) {}
    ~Peer() { close_now(); }
    void close_now()
    {
        if (fd >= 0) {
            ::close(fd);
            fd = -1;
        }
    }

    void poll_once()
    {
        char tmp[65536];
        ssize_t n = recv(fd, tmp, sizeof tmp, MSG_DONTWAIT);
        if (n > 0) {
            buf.append(tmp, static_cast<size_t>(n));
        } else if (n == 0) {
            eof = true;
        }
    }
    bool wait_for(const std::string &needle, int ms = 3000)
    {
        return f.pump(
            [&] {
                poll_once();
                return buf.find(needle) != std::string::npos || eof;
            },
            ms) &&
               buf.find(needle) != std::string::npos;
    }
    // The next "\r\n"-terminated message, without the terminator.
    std::string line(int ms = 3000)
    {
        if (!wait_for("\r\n", ms)) {
            return "(nothing: " + buf + ")";
        }
        auto pos = buf.find("\r\n");
        std::string l = buf.substr(0, pos);
        buf.erase(0, pos + 2);
        return l;
    }
    // From the test's thread: the loop keeps running while the monitor's
    // receive buffer is full.
    void send_text(const std::string &s)
    {
        size_t off = 0;
        while (off < s.size()) {
            ssize_t n = ::send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL | MSG_DONTWAIT);
            if (n < 0 && errno == EAGAIN) {
                f.pump_for(1);
                continue;
            }
            if (n <= 0) {
                return;
            }
            off += static_cast<size_t>(n);
        }
    }
    // From another thread (which must not run the loop): blocking.
    void send_blocking(const std::string &s)
    {
        size_t off = 0;
        while (off < s.size()) {
            ssize_t n = ::send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
            if (n <= 0) {
                return;
            }
            off += static_cast<size_t>(n);
        }
    }
    void send_with_fd(const std::string &s, int pass)
    {
        iovec iov{const_cast<char *>(s.data()), s.size()};
        alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
        msghdr msg{};
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control;
        msg.msg_controllen = sizeof control;
        cmsghdr *c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        std::memcpy(CMSG_DATA(c), &pass, sizeof(int));
        assert_true(sendmsg(fd, &msg, MSG_NOSIGNAL) == static_cast<ssize_t>(s.size()));
    }
};

const char kGreeting[] = "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 2, \"major\": 7}, "
                         "\"package\": \"qvnc-0.1.0\"}, \"capabilities\": []}}";

int attach(MonitorFixture &f, bool qmp)
{
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    qvnc_error *err = nullptr;
    assert_true(qvnc_monitor_attach_fd(f.mon, sv[0], qmp, &err));
    return sv[1];
}

int connect_unix(const std::string &path)
{
    int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    std::strcpy(sa.sun_path, path.c_str());
    if (connect(s, reinterpret_cast<sockaddr *>(&sa), sizeof sa) != 0) {
        close(s);
        return -1;
    }
    return s;
}

void test_qmp_negotiation(void **state)
{
    auto &f = fx(state);
    Peer p(f, attach(f, true));
    assert_string_equal(p.line().c_str(), kGreeting);
    p.send_text("{\"execute\": \"query-status\", \"id\": 1}\n");
    assert_string_equal(p.line().c_str(),
                        "{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"Expecting capabilities "
                        "negotiation with 'qmp_capabilities'\"}, \"id\": 1}");
    p.send_text("{\"execute\": \"qmp_capabilities\", \"arguments\": {\"enable\": [\"oob\"]}}");
    assert_string_equal(p.line().c_str(),
                        "{\"error\": {\"class\": \"GenericError\", \"desc\": \"Capability oob not available\"}}");
    // Events are held back until negotiation.
    qvnc_monitor_set_run_state(f.mon, QVNC_RUN_STATE_PAUSED);
    p.send_text("{\"exec");
    f.pump_for(20);
    p.send_text("ute\": \"qmp_capabilities\"}{\"execute\": \"qmp_capabilities\"}");
    assert_string_equal(p.line().c_str(), "{\"return\": {}}");
    assert_string_equal(p.line().c_str(),
                        "{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"Capabilities "
                        "negotiation is already complete, command ignored\"}}");
    // An event a command causes goes out before the command's reply, as
    // in QEMU.
    p.send_text("{\"execute\": \"cont\", \"id\": \"c\"}\r\n");
    std::string ev = p.line();
    assert_true(ev.starts_with("{\"timestamp\": {\"seconds\": "));
    assert_true(ev.ends_with("}, \"event\": \"RESUME\"}"));
    assert_string_equal(p.line().c_str(), "{\"return\": {}, \"id\": \"c\"}");
}

void test_qmp_bad_input(void **state)
{
    auto &f = fx(state);
    Peer p(f, attach(f, true));
    assert_string_equal(p.line().c_str(), kGreeting);
    p.send_text("{\"execute\": \"qmp_capabilities\"}");
    assert_string_equal(p.line().c_str(), "{\"return\": {}}");

    p.send_text("{\"execute\": }\n");
    assert_string_equal(p.line().c_str(),
                        "{\"error\": {\"class\": \"GenericError\", \"desc\": \"JSON parse error, expecting value\"}}");
    p.send_text("{\"execute\": \"no-such-command\"}");
    assert_string_equal(p.line().c_str(),
                        "{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"The command "
                        "no-such-command has not been found\"}}");
    p.send_text("{\"execute\": \"set_password\", \"arguments\": {\"protocol\": \"vnc\", \"password\": 12}}");
    assert_string_equal(p.line().c_str(),
                        "{\"error\": {\"class\": \"GenericError\", \"desc\": \"Invalid parameter type for "
                        "'password', expected: string\"}}");

    // A 10 MiB request: one error, and the monitor keeps serving.
    std::string big = "{\"execute\": \"human-monitor-command\", \"arguments\": {\"command-line\": \"" +
                      std::string(10 << 20, 'A') + "\"}}\n";
    std::atomic<bool> sent{false};
    std::thread writer([&] {
        p.send_blocking(big);
        sent = true;
    });
    std::string first = p.line(10000);
    f.pump([&] { return sent.load(); }, 20000); // the monitor must keep reading
    writer.join();
    assert_string_equal(first.c_str(),
                        "{\"error\": {\"class\": \"GenericError\", \"desc\": \"JSON token size limit exceeded\"}}");
    p.send_text("{\"execute\": \"query-status\"}");
    assert_string_equal(p.line().c_str(),
                        "{\"return\": {\"running\": true, \"singlestep\": false, \"status\": \"running\"}}");
    assert_true(p.buf.empty());
}

void test_scm_rights_add_client(void **state)
{
    auto &f = fx(state);
    assert_non_null(f.open("none"));
    Peer p(f, attach(f, true));
    assert_string_equal(p.line().c_str(), kGreeting);
    p.send_text("{\"execute\": \"qmp_capabilities\"}");
    assert_string_equal(p.line().c_str(), "{\"return\": {}}");

    int vnc[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, vnc), 0);
    p.send_with_fd("{\"execute\": \"getfd\", \"arguments\": {\"fdname\": \"9bad\"}}", vnc[0]);
    assert_string_equal(p.line().c_str(),
                        "{\"error\": {\"class\": \"GenericError\", \"desc\": \"Parameter 'fdname' expects "
                        "a name not starting with a digit\"}}");
    p.send_with_fd("{\"execute\": \"getfd\", \"arguments\": {\"fdname\": \"graphicsfd\"}}", vnc[0]);
    close(vnc[0]);
    assert_string_equal(p.line().c_str(), "{\"return\": {}}");
    p.send_text("{\"execute\": \"getfd\", \"arguments\": {\"fdname\": \"other\"}}");
    assert_string_equal(p.line().c_str(),
                        "{\"error\": {\"class\": \"GenericError\", \"desc\": \"No file descriptor supplied "
                        "via SCM_RIGHTS\"}}");
    p.send_text("{\"execute\": \"add_client\", \"arguments\": {\"protocol\": \"vnc\", \"fdname\": "
                "\"graphicsfd\", \"skipauth\": true}}");
    assert_string_equal(p.line().c_str(), "{\"return\": {}}");
    // The descriptor was consumed.
    p.send_text("{\"execute\": \"closefd\", \"arguments\": {\"fdname\": \"graphicsfd\"}}");
    assert_string_equal(p.line().c_str(),
                        "{\"error\": {\"class\": \"GenericError\", \"desc\": \"File descriptor named "
                        "'graphicsfd' not found\"}}");

    // The client end speaks RFB.
    Peer rfb(f, vnc[1]);
    assert_true(rfb.wait_for("RFB 003.008\n"));
    // A display without a listener: QEMU sends no VNC_* events.
    assert_true(p.buf.empty());
}

void test_listening_chardev_sequential_clients(void **state)
{
    auto &f = fx(state);
    std::string path = f.dir + "/qmp.sock";
    qvnc_error *err = nullptr;
    assert_true(qvnc_monitor_add_chardev(
        f.mon, ("socket,id=mon0,path=" + path + ",server=on,wait=off").c_str(), &err));
    assert_true(qvnc_monitor_add(f.mon, "chardev=mon0,mode=control", &err));
    assert_false(qvnc_monitor_add(f.mon, "chardev=mon0,mode=control", &err));
    assert_string_equal(qvnc_error_get_message(err), "Device 'mon0' is in use");
    qvnc_error_free(err);
    err = nullptr;

    Peer a(f, connect_unix(path));
    assert_string_equal(a.line().c_str(), kGreeting);
    // A second client waits until the first leaves.
    Peer b(f, connect_unix(path));
    assert_true(b.fd >= 0);
    assert_false(b.wait_for("\r\n", 150));
    // The first client disconnects in the middle of a command.
    a.send_text("{\"execute\": \"qmp_capabilities\"}{\"execute\": \"query-");
    f.pump_for(20);
    a.close_now();
    assert_string_equal(b.line().c_str(), kGreeting);
    b.send_text("{\"execute\": \"qmp_capabilities\"}");
    assert_string_equal(b.line().c_str(), "{\"return\": {}}");
    // One that sends a command and leaves without reading the reply.
    b.send_text("{\"execute\": \"query-commands\"}");
    b.close_now();
    f.pump_for(50);
    Peer c(f, connect_unix(path));
    assert_string_equal(c.line().c_str(), kGreeting);
}

void test_libvirt_inherited_fd(void **state)
{
    auto &f = fx(state);
    // libvirt creates and binds the socket, then hands over the descriptor.
    std::string path = f.dir + "/monitor.sock";
    int ls = socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    std::strcpy(sa.sun_path, path.c_str());
    assert_int_equal(bind(ls, reinterpret_cast<sockaddr *>(&sa), sizeof sa), 0);
    assert_int_equal(listen(ls, 1), 0);
    qvnc_error *err = nullptr;
    std::string opts = "socket,id=charmonitor,fd=" + std::to_string(ls) + ",server=on,wait=off";
    assert_true(qvnc_monitor_add_chardev(f.mon, opts.c_str(), &err));
    assert_true(qvnc_monitor_add(f.mon, "chardev=charmonitor,id=monitor,mode=control", &err));
    Peer p(f, connect_unix(path));
    assert_string_equal(p.line().c_str(), kGreeting);

    assert_false(qvnc_monitor_add(f.mon, "chardev=nope,mode=control", &err));
    assert_string_equal(qvnc_error_get_message(err), "chardev \"nope\" not found");
    qvnc_error_free(err);
    err = nullptr;
    assert_false(qvnc_monitor_add_chardev(f.mon, "pty,id=charserial0", &err));
    assert_int_equal(qvnc_error_get_code(err), QVNC_ERR_UNSUPPORTED);
    qvnc_error_free(err);
    err = nullptr;
    assert_false(qvnc_monitor_add(f.mon, "chardev=charserial0", &err));
    assert_string_equal(qvnc_error_get_message(err),
                        "chardev 'charserial0': back end 'pty' is not supported by qvnc");
    qvnc_error_free(err);
    err = nullptr;
    int notsock = open("/dev/null", O_RDONLY | O_CLOEXEC);
    assert_false(qvnc_monitor_add_chardev(
        f.mon, ("socket,id=x,fd=" + std::to_string(notsock) + ",server=on").c_str(), &err));
    assert_string_equal(qvnc_error_get_message(err),
                        ("File descriptor '" + std::to_string(notsock) + "' is not a socket").c_str());
    qvnc_error_free(err);
}

void test_legacy_pretty_and_hmp_socket(void **state)
{
    auto &f = fx(state);
    std::string qpath = f.dir + "/q.sock", hpath = f.dir + "/h.sock";
    qvnc_error *err = nullptr;
    assert_true(qvnc_monitor_add_legacy(f.mon, ("unix:" + hpath + ",server,nowait").c_str(), false, &err));
    assert_true(qvnc_monitor_add_chardev(f.mon, ("socket,id=p,path=" + qpath + ",server=on,wait=off").c_str(), &err));
    assert_true(qvnc_monitor_add(f.mon, "chardev=p,mode=control,pretty=on", &err));
    assert_true(qvnc_monitor_add_legacy(f.mon, "none", true, &err));

    Peer q(f, connect_unix(qpath));
    assert_true(q.wait_for("}\r\n"));
    q.buf.clear();
    q.send_text("{\"execute\": \"qmp_capabilities\"}");
    assert_true(q.wait_for("}\r\n"));
    assert_string_equal(q.buf.c_str(), "{\n    \"return\": {}\n}\r\n");
    q.buf.clear();

    Peer h(f, connect_unix(hpath));
    assert_true(h.wait_for("(qemu) "));
    assert_string_equal(h.buf.c_str(), "QEMU 7.2.0 monitor - type 'help' for more information\r\n(qemu) ");
    h.buf.clear();
    h.send_text("info statu\x7fus\r\n");
    assert_true(h.wait_for("(qemu) "));
    assert_string_equal(h.buf.c_str(), "info statu\b \bus\r\nVM status: running\r\n(qemu) ");
    h.buf.clear();
    // An escape sequence (cursor up) is ignored; LF alone ends a line too.
    h.send_text("\x1b[Astop\n");
    assert_true(h.wait_for("(qemu) "));
    assert_string_equal(h.buf.c_str(), "stop\r\n(qemu) ");
    // The STOP event reached the negotiated QMP client.
    assert_true(q.wait_for("\"event\": \"STOP\""));
    h.buf.clear();
    h.send_text(std::string(5000, 'x') + "\r\n");
    assert_true(h.wait_for("(qemu) "));
    assert_true(h.buf.ends_with("\r\nError: command line longer than 4095 bytes\r\n(qemu) "));
    h.buf.clear();

    // The interactive password prompt.
    assert_non_null(f.open("unix:" + f.dir + "/v.sock,password=on"));
    h.send_text("change vnc password\r\n");
    assert_true(h.wait_for("Password: "));
    assert_string_equal(h.buf.c_str(), "change vnc password\r\nPassword: ");
    h.buf.clear();
    h.send_text("s3cret\r");
    assert_true(h.wait_for("(qemu) "));
    assert_string_equal(h.buf.c_str(), "******\r\n(qemu) ");
    auto pw = f.context().find_display("default")->password_state().password;
    assert_true(pw.has_value());
    assert_string_equal(pw->c_str(), "s3cret");
    h.buf.clear();

    h.send_text("quit\r\n");
    assert_true(h.wait_for("quit\r\n"));
    assert_true(f.pump([&] { return f.quits == 1; }));
    assert_true(q.wait_for("\"event\": \"SHUTDOWN\""));
}

} // namespace

int main()
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_qmp_negotiation, monitor_fixture_setup,
                                        monitor_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_qmp_bad_input, monitor_fixture_setup,
                                        monitor_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_scm_rights_add_client, monitor_fixture_setup,
                                        monitor_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_listening_chardev_sequential_clients,
                                        monitor_fixture_setup, monitor_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_libvirt_inherited_fd, monitor_fixture_setup,
                                        monitor_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_legacy_pretty_and_hmp_socket, monitor_fixture_setup,
                                        monitor_fixture_teardown),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
