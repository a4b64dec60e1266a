#include "session.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include "context.hpp"

namespace qvnc::monitor {

// ---- Session -----------------------------------------------------------------

Session::Session(Monitor &mon, std::unique_ptr<Stream> stream)
    : mon_(mon), stream_(std::move(stream))
{
}

Session::~Session() = default;

void Session::start(std::function<void()> on_end)
{
    on_end_ = std::move(on_end);
    greet();
    if (stream_->closed()) {
        end();
        return;
    }
    stream_->start([this](std::string_view data, std::vector<io::UniqueFd> &fds) {
                       if (!ended_) {
                           on_input_with_fds(data, fds);
                       }
                   },
                   [this] { end(); });
}

void Session::take_fds(std::vector<io::UniqueFd> &fds, FdState &st)
{
    if (fds.empty()) {
        return;
    }
    st.received.clear();
    for (auto &fd : fds) {
        st.received.push_back(std::move(fd));
    }
    fds.clear();
}

void Session::end()
{
    if (ended_) {
        return;
    }
    ended_ = true;
    stream_->close();
    if (on_end_) {
        auto cb = std::move(on_end_);
        on_end_ = nullptr;
        cb();
    }
}

// ---- HMP -----------------------------------------------------------------------

HmpSession::HmpSession(Monitor &mon, std::unique_ptr<Stream> stream)
    : Session(mon, std::move(stream))
{
}

void HmpSession::print(const std::string &text) { stream_->write(hmp_crlf(text)); }

void HmpSession::prompt() { stream_->write(password_cb_ ? "Password: " : "(qemu) "); }

void HmpSession::greet()
{
    print(hmp_banner());
    prompt();
}

void HmpSession::on_input_with_fds(std::string_view data, std::vector<io::UniqueFd> &fds)
{
    take_fds(fds, fds_);
    for (char c : data) {
        if (ended_ || suspended_) {
            return;
        }
        if (escape_ == 1) { // ESC [ or ESC O start a sequence; anything else ends it
            escape_ = (c == '[' || c == 'O') ? 2 : 0;
            continue;
        }
        if (escape_ == 2) {
            if (c >= 0x40 && c <= 0x7e) {
                escape_ = 0;
            }
            continue;
        }
        if (c == '\x1b') {
            escape_ = 1;
            continue;
        }
        bool after_cr = last_cr_;
        last_cr_ = c == '\r';
        if (c == '\n' && after_cr) {
            continue; // CR LF is one line end
        }
        if (c == '\r' || c == '\n') {
            enter();
            continue;
        }
        if (c == 0x7f || c == 0x08) {
            if (!line_.empty() && !overlong_) {
                line_.pop_back();
                stream_->write("\b \b");
            }
            continue;
        }
        if (static_cast<unsigned char>(c) < 0x20) {
            continue;
        }
        if (line_.size() >= kMaxLine) {
            overlong_ = true;
            continue;
        }
        line_ += c;
        stream_->write(password_cb_ ? std::string_view("*") : std::string_view(&c, 1));
    }
}

void HmpSession::enter()
{
    stream_->write("\r\n");
    std::string line = std::move(line_);
    line_.clear();
    bool overlong = overlong_;
    overlong_ = false;
    HmpEnv env{mon_};
    env.interactive = true;
    env.fds = &fds_;
    if (password_cb_) {
        auto cb = std::move(password_cb_);
        password_cb_ = nullptr;
        cb(env, line);
    } else if (overlong) {
        env.out = "Error: command line longer than 4095 bytes\n";
    } else {
        hmp_execute(env, line);
    }
    print(env.out);
    if (env.password_cb) {
        password_cb_ = std::move(env.password_cb);
    }
    if (env.suspend) {
        suspended_ = true;
        return;
    }
    if (!ended_) {
        prompt();
    }
}

// ---- QMP -----------------------------------------------------------------------

QmpSession::QmpSession(Monitor &mon, std::unique_ptr<Stream> stream, bool pretty)
    : Session(mon, std::move(stream)),
      streamer_(JsonStreamer::Sink{
          [this](std::string &&text) { on_message(std::move(text)); },
          [this](const std::string &error) { send(Monitor::error_reply(generic_error(error))); }})
{
    state_.pretty = pretty;
    mon_.register_qmp(this);
}

QmpSession::~QmpSession() { mon_.unregister_qmp(this); }

void QmpSession::send(const Json &message)
{
    if (!ended_) {
        stream_->write(format_json(message, state_.pretty) + "\r\n");
    }
}

void QmpSession::greet()
{
    Json qemu;
    qemu["micro"] = kQemuMicro;
    qemu["minor"] = kQemuMinor;
    qemu["major"] = kQemuMajor;
    Json greeting;
    greeting["QMP"]["version"]["qemu"] = qemu;
    greeting["QMP"]["version"]["package"] = kPackage;
    // No "oob": qvnc runs every command in the main loop.
    greeting["QMP"]["capabilities"] = Json::array();
    send(greeting);
}

void QmpSession::on_input_with_fds(std::string_view data, std::vector<io::UniqueFd> &fds)
{
    take_fds(fds, state_.fds);
    streamer_.feed(data);
}

void QmpSession::on_message(std::string &&text)
{
    if (ended_) {
        return;
    }
    std::string error;
    auto request = parse_message(text, &error);
    if (!request) {
        send(Monitor::error_reply(generic_error(error)));
        return;
    }
    send(mon_.dispatch_qmp(*request, state_));
}

// ---- Chardev -------------------------------------------------------------------

Result<std::unique_ptr<Chardev>> Chardev::open(Monitor &mon, ChardevSpec spec)
{
    std::unique_ptr<Chardev> chr(new Chardev(mon, std::move(spec)));
    const ChardevSpec &s = chr->spec_;
    GMainContext *ctx = mon.context().main_context();
    if (s.backend == ChardevSpec::Backend::Stdio) {
        chr->connected_ = Stream::stdio(ctx);
    } else if (s.backend == ChardevSpec::Backend::Socket) {
        Result<io::UniqueFd> fd = Error{};
        if (s.fd >= 0) {
            fd = adopt_socket_fd(s.fd, s.server);
        } else if (!s.path.empty()) {
            fd = s.server ? listen_unix(s.path) : connect_unix(s.path);
        } else {
            fd = s.server ? listen_tcp(s.host, s.port, s.ipv4, s.ipv6) : connect_tcp(s.host, s.port);
        }
        if (!fd) {
            return fd.take_error();
        }
        if (s.server) {
            chr->listen_fd_ = std::move(fd.value());
        } else {
            chr->connected_ = Stream::socket(ctx, std::move(fd.value()));
        }
    }
    return chr;
}

Chardev::~Chardev()
{
    reap_.reset();
    start_.reset();
    accept_watch_.reset();
    session_.reset();
    dead_.clear();
    if (listen_fd_.valid() && spec_.fd < 0 && !spec_.path.empty()) {
        ::unlink(spec_.path.c_str());
    }
}

Status Chardev::bind(bool qmp, bool pretty)
{
    if (bound_) {
        return make_error(ErrorCode::State, "Device '%s' is in use", spec_.id.c_str());
    }
    if (spec_.backend == ChardevSpec::Backend::Unsupported) {
        return make_error(ErrorCode::Unsupported, "chardev '%s': back end '%s' is not supported by qvnc",
                          spec_.id.c_str(), spec_.backend_name.c_str());
    }
    bound_ = true;
    qmp_ = qmp;
    pretty_ = pretty;
    if (listen_fd_.valid()) {
        arm_accept();
    } else if (connected_) {
        // From the main loop: the greeting then follows whatever the host
        // prints while it finishes starting up (on a shared stdout, say).
        start_ = io::add_idle(mon_.context().main_context(), [this] {
            serve(std::move(connected_));
            return false;
        });
    }
    return ok_status();
}

void Chardev::flush(int timeout_ms)
{
    if (session_) {
        session_->flush(timeout_ms);
    }
}

void Chardev::arm_accept()
{
    accept_watch_ = io::add_fd_watch(
        mon_.context().main_context(), listen_fd_.get(), G_IO_IN, [this](GIOCondition) {
            io::UniqueFd fd = accept_client(listen_fd_.get());
            if (!fd.valid()) {
                return true;
            }
            if (spec_.nodelay) {
                int one = 1;
                setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
            }
            accept_watch_.reset(); // one client at a time
            serve(Stream::socket(mon_.context().main_context(), std::move(fd)));
            return false;
        });
}

void Chardev::serve(std::unique_ptr<Stream> stream)
{
    if (qmp_) {
        session_ = std::make_unique<QmpSession>(mon_, std::move(stream), pretty_);
    } else {
        session_ = std::make_unique<HmpSession>(mon_, std::move(stream));
    }
    session_->start([this] { session_ended(); });
}

void Chardev::session_ended()
{
    if (session_) {
        dead_.push_back(std::move(session_));
    }
    // Destroyed from an idle callback: this runs inside the session's own
    // I/O callback.
    reap_ = io::add_idle(mon_.context().main_context(), [this] {
        dead_.clear();
        if (listen_fd_.valid() && !session_ && !accept_watch_) {
            arm_accept();
        }
        return false;
    });
}

} // namespace qvnc::monitor
