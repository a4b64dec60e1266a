// The QEMU monitor of one qvnc context: HMP (human) and QMP (JSON) front
// ends over any number of transports, the run state the emulator follows
// (running / paused / prelaunch), and the QMP events (VNC_*, STOP, RESUME,
// SHUTDOWN).
//
// Threading: like everything in qvnc, every call and callback happens on
// the thread iterating the context's GMainContext.
//
// Lifetime: the Context must outlive the Monitor.  Host callbacks
// (run_state_changed, quit, the event handler) must not free the monitor,
// except quit, which runs from an idle callback with nothing after it.
#pragma once

#include <deque>
#include <functional>
#include <list>
#include <map>
#include <optional>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "error.hpp"
#include "json-stream.hpp"
#include "schema.hpp"
#include "source-handle.hpp"
#include "unique-fd.hpp"

namespace qvnc {
class Context;
namespace vnc {
class Server;
class Connection;
}
} // namespace qvnc

namespace qvnc::monitor {

// The version qvnc answers as: QEMU 7.2 (Debian 12's), whose QMP it
// implements.  `package` follows QEMU_PKGVERSION (printed right after the
// version by "info version", as QEMU does).
inline constexpr int kQemuMajor = 7, kQemuMinor = 2, kQemuMicro = 0;
inline constexpr const char *kQemuVersion = "7.2.0";
inline constexpr const char *kPackage = "qvnc-0.1.0";

enum class RunState { Running, Paused, Prelaunch };
const char *run_state_name(RunState s); // the RunState enum value

// A QMP error: its class (GenericError, CommandNotFound, DeviceNotActive,
// DeviceNotFound) and QEMU's description.
struct QmpError {
    std::string cls;
    std::string desc;
};
using Reply = std::variant<Json, QmpError>;
inline QmpError generic_error(std::string desc) { return {"GenericError", std::move(desc)}; }

// File descriptors of one monitor: those named by getfd (QEMU's mon->fds)
// and those received by SCM_RIGHTS with the latest input and not yet
// claimed.
struct FdState {
    static constexpr std::size_t kMaxNamed = 64;
    std::map<std::string, io::UniqueFd, std::less<>> named;
    std::deque<io::UniqueFd> received;
};

// Per QMP connection.
struct QmpState {
    bool negotiated = false; // qmp_capabilities done
    bool pretty = false;
    FdState fds;
};

// getfd (the oldest descriptor received and unclaimed gets `name`),
// closefd, and the descriptor a command names (removed from the table, as
// QEMU's monitor_get_fd() does).  `st` may be null: nothing was received.
Reply fd_get(FdState *st, const std::string &name);
Reply fd_close(FdState *st, const std::string &name);
std::optional<io::UniqueFd> fd_take(FdState *st, const std::string &name, QmpError *error);

// The QMP command handlers: one per schema command (checked by a test).
bool qmp_has_handler(std::string_view name);
std::vector<std::string> qmp_handler_names();

class Chardev;
class QmpSession;

class Monitor {
public:
    struct HostOps {
        std::function<void(bool running)> run_state_changed;
        std::function<void()> quit;
    };
    using EventFn = std::function<void(const std::string &event_json)>;

    Monitor(Context &ctx, HostOps ops);
    ~Monitor();
    Monitor(const Monitor &) = delete;
    Monitor &operator=(const Monitor &) = delete;

    Context &context() const { return ctx_; }
    const Schema &schema() const { return schema_; }

    // ---- run state --------------------------------------------------------
    RunState run_state() const { return state_; }
    bool running() const { return state_ == RunState::Running; }
    // From the host (e.g. -S at start-up): no host callback; STOP/RESUME
    // events when running-ness changes.
    void set_run_state(RunState s);
    // From cont / stop: events, then the host callback.
    void cont();
    void stop();
    // quit: answered first; SHUTDOWN and the host's quit follow from an
    // idle callback.
    void request_quit();

    // ---- events -------------------------------------------------------------
    // Sends {"timestamp", "event", "data"} to every negotiated QMP client
    // and the host's event handler.  `data` may be null.
    void emit_event(const std::string &name, const Json *data);
    void set_event_handler(EventFn fn) { event_fn_ = std::move(fn); }

    // ---- front ends ---------------------------------------------------------
    // One HMP command line, run as on a non-interactive monitor (QMP's
    // human-monitor-command): the text it prints, lines ending in "\r\n".
    std::string run_hmp(std::string_view line);
    // One QMP request text: the reply text (compact JSON, no line end), on
    // a session that starts negotiated.
    std::string run_qmp(std::string_view json);
    // One parsed request on `st`: the reply ({"return"} or {"error"}, with
    // the request's "id").
    Json dispatch_qmp(const Json &request, QmpState &st);
    // The reply to input that did not parse (framing or syntax).
    static Json error_reply(const QmpError &e);

    // ---- transports ---------------------------------------------------------
    Status add_chardev(std::string_view opts);      // -chardev
    Status add_mon(std::string_view opts);          // -mon
    Status add_legacy(std::string_view spec, bool qmp); // -monitor / -qmp
    Status attach_fd(io::UniqueFd fd, bool qmp);   // a connected socket

    // Sessions register for events while they are negotiated.
    void register_qmp(QmpSession *s);
    void unregister_qmp(QmpSession *s);

private:
    void on_client_event(vnc::Server &s, int ev, const vnc::Connection &c);
    void set_state(RunState s, bool notify_host);
    void finish_quit();
    Chardev *find_chardev(std::string_view id);
    Status bind(Chardev &chr, bool qmp, bool pretty);

    Context &ctx_;
    HostOps ops_;
    const Schema &schema_;
    RunState state_ = RunState::Running;
    EventFn event_fn_;
    int observer_ = 0;
    QmpState api_state_; // run_qmp's session
    std::list<std::unique_ptr<Chardev>> chardevs_;
    std::vector<QmpSession *> qmp_sessions_;
    int anon_ = 0; // ids of -monitor/-qmp chardevs
    bool quit_pending_ = false;
    io::SourceHandle quit_idle_;
};

} // namespace qvnc::monitor
