// Byte streams for monitors, driven by the GMainContext: a connected
// socket (non-blocking; SCM_RIGHTS descriptors are received with the data)
// or the process's stdin/stdout; plus the socket set-up helpers.
//
// Output is queued; a peer that stops reading pauses our reading of its
// input above kPauseInput bytes of backlog and is dropped above kMaxOutput,
// so no client can make the monitor grow without bound.
#pragma once

#include <glib.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "error.hpp"
#include "source-handle.hpp"
#include "unique-fd.hpp"

struct termios;

namespace qvnc::monitor {

class Stream {
public:
    static constexpr std::size_t kPauseInput = 1 << 20;
    static constexpr std::size_t kMaxOutput = 16 << 20;
    static constexpr std::size_t kMaxFdsPerRead = 16;

    using InputFn = std::function<void(std::string_view data, std::vector<io::UniqueFd> &fds)>;
    using ClosedFn = std::function<void()>;

    // A connected socket (taken over: made non-blocking and close-on-exec).
    static std::unique_ptr<Stream> socket(GMainContext *ctx, io::UniqueFd fd);
    // stdin/stdout.  They are never made non-blocking (they may share an
    // open file description with the host's own output): stdin is read only
    // when poll says so, stdout written with plain blocking writes.  A
    // terminal on stdin goes to character mode without echo, as QEMU's
    // stdio chardev does, and is restored on destruction.
    static std::unique_ptr<Stream> stdio(GMainContext *ctx);
    ~Stream();
    Stream(const Stream &) = delete;
    Stream &operator=(const Stream &) = delete;

    // Starts reading.  `on_closed` runs once, when the peer goes away or an
    // I/O error ends the stream (not after close()).
    void start(InputFn on_input, ClosedFn on_closed);
    void write(std::string_view bytes);
    // Writes what is queued, waiting up to `timeout_ms` (quit, teardown).
    void flush(int timeout_ms);
    // Stops all I/O; safe from inside the callbacks.
    void close();
    bool closed() const { return closed_; }
    bool is_stdio() const { return stdio_; }

private:
    Stream(GMainContext *ctx, io::UniqueFd fd, bool stdio);
    bool on_io(GIOCondition cond);
    void read_input();
    void try_flush();
    void update_watch();
    void fail();

    GMainContext *ctx_;
    io::UniqueFd fd_; // the socket, or a dup of stdin
    bool stdio_;
    bool closed_ = false;
    bool started_ = false;
    std::string out_;
    io::SourceHandle watch_;
    GIOCondition watch_cond_ = static_cast<GIOCondition>(0);
    InputFn on_input_;
    ClosedFn on_closed_;
    std::unique_ptr<struct termios> saved_tty_;
};

// A listening socket.  `path`: unix (an old socket file is replaced);
// otherwise tcp `host`:`port` (host "" = any).
Result<io::UniqueFd> listen_unix(const std::string &path);
Result<io::UniqueFd> listen_tcp(const std::string &host, const std::string &port,
                                std::optional<bool> ipv4, std::optional<bool> ipv6);
Result<io::UniqueFd> connect_unix(const std::string &path);
Result<io::UniqueFd> connect_tcp(const std::string &host, const std::string &port);
// An inherited descriptor: must be a socket; `listening` puts it into the
// listen state if it is not already (QEMU does the same for fd=N).
Result<io::UniqueFd> adopt_socket_fd(int fd, bool listening);
// One pending connection, or an invalid fd when there is none.
io::UniqueFd accept_client(int listen_fd);

} // namespace qvnc::monitor
