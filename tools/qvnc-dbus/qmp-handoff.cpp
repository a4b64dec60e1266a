#include "qmp-handoff.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace qvnc_dbus {
namespace {

constexpr int kAnswerTimeoutMs = 5000;
constexpr const char *kFdName = "qvnc-dbus";

class Fd {
public:
    explicit Fd(int fd = -1) : fd_(fd) {}
    ~Fd()
    {
        if (fd_ >= 0) {
            close(fd_);
        }
    }
    Fd(const Fd &) = delete;
    Fd &operator=(const Fd &) = delete;
    int get() const { return fd_; }
    int release()
    {
        const int fd = fd_;
        fd_ = -1;
        return fd;
    }

private:
    int fd_;
};

class QmpChannel {
public:
    explicit QmpChannel(int fd) : fd_(fd) {}

    // One JSON line: the greeting, an answer or an event.
    bool read_line(std::string &line, std::string &error)
    {
        while (true) {
            const size_t nl = buffer_.find('\n');
            if (nl != std::string::npos) {
                line = buffer_.substr(0, nl);
                buffer_.erase(0, nl + 1);
                return true;
            }
            pollfd p{fd_, POLLIN, 0};
            const int ready = poll(&p, 1, kAnswerTimeoutMs);
            if (ready <= 0) {
                error = ready == 0 ? "QMP did not answer" : std::string("poll: ") + std::strerror(errno);
                return false;
            }
            char chunk[4096];
            const ssize_t n = read(fd_, chunk, sizeof chunk);
            if (n <= 0) {
                error = n == 0 ? "QMP closed the connection" : std::string("read: ") + std::strerror(errno);
                return false;
            }
            buffer_.append(chunk, static_cast<size_t>(n));
        }
    }

    // Sends a command (with `pass_fd` attached when >= 0) and waits for its
    // answer, skipping events.  Only success matters here, so the answer is
    // told apart by its key, not parsed.
    bool execute(const std::string &json, int pass_fd, std::string &error)
    {
        iovec iov{const_cast<char *>(json.data()), json.size()};
        msghdr msg{};
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
        if (pass_fd >= 0) {
            msg.msg_control = control;
            msg.msg_controllen = sizeof control;
            cmsghdr *c = CMSG_FIRSTHDR(&msg);
            c->cmsg_level = SOL_SOCKET;
            c->cmsg_type = SCM_RIGHTS;
            c->cmsg_len = CMSG_LEN(sizeof(int));
            std::memcpy(CMSG_DATA(c), &pass_fd, sizeof(int));
        }
        if (sendmsg(fd_, &msg, MSG_NOSIGNAL) != static_cast<ssize_t>(json.size())) {
            error = std::string("QMP write: ") + std::strerror(errno);
            return false;
        }
        std::string line;
        while (read_line(line, error)) {
            if (line.find("\"return\"") != std::string::npos) {
                return true;
            }
            if (line.find("\"error\"") != std::string::npos) {
                error = "QMP: " + line;
                return false;
            }
        }
        return false;
    }

private:
    int fd_;
    std::string buffer_;
};

} // namespace

int qmp_dbus_handoff(const std::string &qmp_socket_path, std::string &error)
{
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (qmp_socket_path.size() >= sizeof addr.sun_path) {
        error = "QMP socket path too long";
        return -1;
    }
    std::memcpy(addr.sun_path, qmp_socket_path.c_str(), qmp_socket_path.size() + 1);
    Fd qmp(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (qmp.get() < 0 || connect(qmp.get(), reinterpret_cast<sockaddr *>(&addr), sizeof addr) != 0) {
        error = "cannot connect to " + qmp_socket_path + ": " + std::strerror(errno);
        return -1;
    }
    QmpChannel channel(qmp.get());
    std::string greeting;
    if (!channel.read_line(greeting, error) || !channel.execute("{\"execute\":\"qmp_capabilities\"}\n", -1, error)) {
        return -1;
    }
    int pair[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) {
        error = std::string("socketpair: ") + std::strerror(errno);
        return -1;
    }
    Fd ours(pair[0]);
    Fd theirs(pair[1]);
    const std::string name(kFdName);
    if (!channel.execute("{\"execute\":\"getfd\",\"arguments\":{\"fdname\":\"" + name + "\"}}\n", theirs.get(),
                         error) ||
        !channel.execute("{\"execute\":\"add_client\",\"arguments\":{\"protocol\":\"@dbus-display\","
                         "\"fdname\":\"" + name + "\"}}\n",
                         -1, error)) {
        return -1;
    }
    return ours.release();
}

} // namespace qvnc_dbus
