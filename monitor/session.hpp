// Monitor front ends on a stream, and the chardevs they run on.
//
// A Chardev is one -chardev (or the anonymous one of -monitor/-qmp, or an
// attached fd): a listening socket serves one client at a time, as QEMU's
// socket chardev does (the next connection waits in the backlog until the
// current client leaves); stdio and connected sockets serve exactly one.
// Sessions end from inside their own I/O callbacks; the chardev destroys
// them from an idle callback and only then accepts the next client.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "chardev-spec.hpp"
#include "hmp.hpp"
#include "json-stream.hpp"
#include "monitor.hpp"
#include "source-handle.hpp"
#include "monitor-stream.hpp"

namespace qvnc::monitor {

class Session {
public:
    Session(Monitor &mon, std::unique_ptr<Stream> stream);
    virtual ~Session();
    Session(const Session &) = delete;
    Session &operator=(const Session &) = delete;

    // Greeting, then reading.  `on_end` runs once when the peer leaves.
    void start(std::function<void()> on_end);
    bool ended() const { return ended_; }
    void flush(int timeout_ms) { stream_->flush(timeout_ms); }

protected:
    virtual void greet() = 0;
    virtual void on_input_with_fds(std::string_view data, std::vector<io::UniqueFd> &fds) = 0;
    // Descriptors that came with new input replace unclaimed earlier ones,
    // as in QEMU's socket chardev.
    void take_fds(std::vector<io::UniqueFd> &fds, FdState &st);
    void end();

    Monitor &mon_;
    std::unique_ptr<Stream> stream_;
    bool ended_ = false;
    std::function<void()> on_end_;
};

// HMP with QEMU's readline behaviour reduced to what matters on a stream:
// echo (or '*' for passwords), backspace, one command per CR, LF or CR LF,
// escape sequences (cursor keys) ignored, the "(qemu) " prompt.  A line
// longer than kMaxLine is refused with an error instead of being cut at
// QEMU's 4095 bytes and run truncated.
class HmpSession final : public Session {
public:
    static constexpr std::size_t kMaxLine = 4095;
    HmpSession(Monitor &mon, std::unique_ptr<Stream> stream);

private:
    void greet() override;
    void on_input_with_fds(std::string_view data, std::vector<io::UniqueFd> &fds) override;
    void enter();
    void prompt();
    void print(const std::string &text); // '\n' -> "\r\n"

    FdState fds_;
    std::string line_;
    bool overlong_ = false;
    bool last_cr_ = false;
    int escape_ = 0; // 1: after ESC, 2: inside ESC [ ... sequence
    bool suspended_ = false;
    std::function<void(HmpEnv &, const std::string &)> password_cb_;
};

class QmpSession final : public Session {
public:
    QmpSession(Monitor &mon, std::unique_ptr<Stream> stream, bool pretty);
    ~QmpSession() override;

    bool negotiated() const { return state_.negotiated; }
    void send(const Json &message);

private:
    void greet() override;
    void on_input_with_fds(std::string_view data, std::vector<io::UniqueFd> &fds) override;
    void on_message(std::string &&text);

    QmpState state_;
    JsonStreamer streamer_;
};

class Chardev {
public:
    // Opens what the spec describes (listens, connects, adopts the fd).
    static Result<std::unique_ptr<Chardev>> open(Monitor &mon, ChardevSpec spec);
    ~Chardev();

    const std::string &id() const { return spec_.id; }
    const ChardevSpec &spec() const { return spec_; }
    bool bound() const { return bound_; }
    // Turns the chardev into a monitor: serves its first (or only) client.
    Status bind(bool qmp, bool pretty);
    void flush(int timeout_ms);

private:
    Chardev(Monitor &mon, ChardevSpec spec) : mon_(mon), spec_(std::move(spec)) {}
    void arm_accept();
    void serve(std::unique_ptr<Stream> stream);
    void session_ended();

    Monitor &mon_;
    ChardevSpec spec_;
    io::UniqueFd listen_fd_;
    std::unique_ptr<Stream> connected_; // stdio / client / fd=N without server
    io::SourceHandle accept_watch_;
    io::SourceHandle start_;
    bool bound_ = false;
    bool qmp_ = false;
    bool pretty_ = false;
    std::unique_ptr<Session> session_;
    std::vector<std::unique_ptr<Session>> dead_;
    io::SourceHandle reap_;
};

} // namespace qvnc::monitor
