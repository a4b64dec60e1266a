// qvnc-emu: a stand-in for QEMU's emulator core, embedding libqvnc only
// through its public C ABI, so tests can drive the library with QEMU
// command lines and watch what reaches the "guest" on stdout.
#include <glib-unix.h>
#include <glib.h>

#include <csignal>
#include <cstdio>
#include <memory>
#include <span>
#include <string_view>

#include "display-set.hpp"
#include "event-lines.hpp"
#include "frame-dump.hpp"
#include "guest.hpp"
#include "options.hpp"
#include "qvnc-monitor.h"
#include "source-id.hpp"

namespace qvnc_emu {
namespace {

struct MainLoopUnref {
    void operator()(GMainLoop *loop) const { g_main_loop_unref(loop); }
};

struct MonitorFree {
    void operator()(qvnc_monitor *mon) const { qvnc_monitor_free(mon); }
};

struct ErrorFree {
    void operator()(qvnc_error *err) const { qvnc_error_free(err); }
};
using ErrorPtr = std::unique_ptr<qvnc_error, ErrorFree>;

class Emulator {
public:
    explicit Emulator(Options options) : options_(std::move(options)) {}

    // Sets everything up, prints READY, runs until SIGINT/SIGTERM.  Returns
    // the exit status.
    int run();

private:
    bool fail(const std::string &what, const std::string &message)
    {
        std::fprintf(stderr, "qvnc-emu: %s: %s\n", what.c_str(), message.c_str());
        return false;
    }
    bool set_up();
    bool set_up_monitors();
    void report_ignored() const;
    void dump_frame();
    SourceId on_signal(int signum, GSourceFunc handler);

    Options options_;
    std::unique_ptr<GMainLoop, MainLoopUnref> loop_{g_main_loop_new(nullptr, FALSE)};
    // The guest is declared before the displays so it is destroyed after
    // them: the displays borrow its pixel memory until they are closed.
    std::unique_ptr<Guest> guest_;
    std::unique_ptr<DisplaySet> displays_;
    // After the displays: freed first, before their context.
    std::unique_ptr<qvnc_monitor, MonitorFree> monitor_;
    std::vector<SourceId> signal_sources_;
};

SourceId Emulator::on_signal(int signum, GSourceFunc handler)
{
    return SourceId(g_unix_signal_add(signum, handler, this));
}

bool Emulator::set_up()
{
    std::string error;
    displays_ = DisplaySet::create(error);
    if (!displays_) {
        return fail("cannot create the VNC context", error);
    }
    displays_->set_name(options_.name);
    if (options_.handshake_timeout_ms) {
        displays_->set_handshake_timeout(options_.handshake_timeout_ms);
    }
    if (!options_.keyboard_layout.empty() && !displays_->set_keymap(options_.keyboard_layout, error)) {
        return fail("-k " + options_.keyboard_layout, error);
    }
    // Objects first: -vnc options refer to them (tls-creds=, password-secret=).
    // libvirt also creates objects for devices not emulated here
    // (memory-backend-*, iothread, ...): those are ignored.
    for (const std::string &spec : options_.objects) {
        if (!displays_->add_object(spec, error)) {
            if (error.rfind("invalid object type", 0) == 0) {
                options_.ignored.push_back("-object");
                continue;
            }
            return fail("-object " + spec, error);
        }
    }
    guest_ = make_guest(options_, *displays_, error);
    if (!guest_) {
        return fail("--guest replay:" + options_.replay_file, error); // only replay can fail
    }
    displays_->set_guest(guest_.get());
    guest_->start();
    for (const std::string &vnc : options_.vnc) {
        if (!displays_->open(vnc, error)) {
            return fail("-vnc " + vnc, error);
        }
    }
    if (!set_up_monitors()) {
        return false;
    }
    report_ignored();
    return true;
}

bool Emulator::set_up_monitors()
{
    static const qvnc_monitor_ops kOps = {
        sizeof(qvnc_monitor_ops),
        // cont / stop: the guest animates or keeps its frame still.
        +[](void *self, bool running) {
            auto *emu = static_cast<Emulator *>(self);
            if (emu->guest_) {
                emu->guest_->set_running(running);
            }
            emit_line(running ? "RUNSTATE running" : "RUNSTATE paused");
        },
        // quit: leave the main loop; main() returns 0.
        +[](void *self) { g_main_loop_quit(static_cast<Emulator *>(self)->loop_.get()); },
    };
    qvnc_error *raw = nullptr;
    monitor_.reset(qvnc_monitor_new(displays_->context(), &kOps, this, &raw));
    ErrorPtr err(raw);
    if (!monitor_) {
        return fail("cannot create the monitor", qvnc_error_get_message(err.get()));
    }
    if (options_.start_stopped) {
        qvnc_monitor_set_run_state(monitor_.get(), QVNC_RUN_STATE_PRELAUNCH);
    }
    std::string error;
    if (!qvnc_tools::add_monitors(monitor_.get(), options_, error)) {
        std::fprintf(stderr, "qvnc-emu: %s\n", error.c_str());
        return false;
    }
    return true;
}

// One line for everything of a full QEMU command line that means nothing here.
void Emulator::report_ignored() const
{
    const std::string line = qvnc_tools::ignored_summary(options_.ignored);
    if (!line.empty()) {
        std::fprintf(stderr, "qvnc-emu: ignored (no such device here): %s\n", line.c_str());
    }
}

void Emulator::dump_frame()
{
    if (options_.frame_dump.empty()) {
        std::fprintf(stderr, "qvnc-emu: SIGUSR1 ignored: no --frame-dump PATH given\n");
        return;
    }
    std::string error;
    if (!write_file_atomically(options_.frame_dump, encode_ppm(guest_->frame()), error)) {
        std::fprintf(stderr, "qvnc-emu: --frame-dump: %s\n", error.c_str());
        return;
    }
    emit_line(frame_dumped_line(options_.frame_dump));
}

int Emulator::run()
{
    if (!set_up()) {
        return 1;
    }
    // g_unix_signal_add turns the signals into main-loop events: the
    // handlers run as ordinary callbacks, so no global state is needed.
    const GSourceFunc quit = +[](gpointer self) -> gboolean {
        g_main_loop_quit(static_cast<Emulator *>(self)->loop_.get());
        return G_SOURCE_CONTINUE;
    };
    signal_sources_.push_back(on_signal(SIGINT, quit));
    signal_sources_.push_back(on_signal(SIGTERM, quit));
    signal_sources_.push_back(on_signal(SIGUSR1, +[](gpointer self) -> gboolean {
        static_cast<Emulator *>(self)->dump_frame();
        return G_SOURCE_CONTINUE;
    }));

    emit_line("READY");
    g_main_loop_run(loop_.get());
    return 0;
}

} // namespace
} // namespace qvnc_emu

int main(int argc, char **argv)
{
    using qvnc_emu::ParseResult;
    const ParseResult parsed =
        qvnc_emu::parse_options(std::span<const char *const>(argv + 1, static_cast<size_t>(argc > 0 ? argc - 1 : 0)));
    switch (parsed.action) {
    case ParseResult::Action::Help:
        std::fputs(qvnc_emu::usage_text().c_str(), stdout);
        return 0;
    case ParseResult::Action::Fail:
        std::fprintf(stderr, "qvnc-emu: %s\n", parsed.error.c_str());
        return 1;
    case ParseResult::Action::Run:
        break;
    }
    // A client vanishing mid-write, or a test closing our stdout, must be
    // an error return, not a silent death (QEMU ignores SIGPIPE too).
    std::signal(SIGPIPE, SIG_IGN);
    qvnc_emu::Emulator emulator(parsed.options);
    return emulator.run();
}
