// qvnc-dbus: serves a running, unmodified QEMU (-display dbus) to VNC
// clients through libqvnc, with the same -vnc/-object/-monitor options as
// qvnc-emu.  See README.md ("QEMU over D-Bus").
#include <glib-unix.h>
#include <glib.h>

#include <csignal>
#include <cstdio>
#include <memory>
#include <span>

#include "options.hpp"
#include "server.hpp"

namespace {

struct MainLoopUnref {
    void operator()(GMainLoop *loop) const { g_main_loop_unref(loop); }
};

int run(qvnc_dbus::Options options)
{
    std::unique_ptr<GMainLoop, MainLoopUnref> loop(g_main_loop_new(nullptr, FALSE));
    const GSourceFunc quit = +[](gpointer l) -> gboolean {
        g_main_loop_quit(static_cast<GMainLoop *>(l));
        return G_SOURCE_CONTINUE;
    };
    // Signals as main-loop events: no global state.
    const unsigned sigint = g_unix_signal_add(SIGINT, quit, loop.get());
    const unsigned sigterm = g_unix_signal_add(SIGTERM, quit, loop.get());
    int status = 1;
    {
        qvnc_dbus::Server server(std::move(options), loop.get());
        if (server.start()) {
            std::fprintf(stdout, "READY\n");
            std::fflush(stdout);
            g_main_loop_run(loop.get());
            status = 0;
        }
    }
    g_source_remove(sigint);
    g_source_remove(sigterm);
    return status;
}

} // namespace

int main(int argc, char **argv)
{
    const qvnc_dbus::ParseResult parsed = qvnc_dbus::parse_options(
        std::span<const char *const>(argv + 1, static_cast<size_t>(argc > 0 ? argc - 1 : 0)));
    switch (parsed.action) {
    case qvnc_tools::ParseAction::Help:
        std::fputs(qvnc_dbus::usage_text().c_str(), stdout);
        return 0;
    case qvnc_tools::ParseAction::Fail:
        std::fprintf(stderr, "qvnc-dbus: %s\n", parsed.error.c_str());
        return 1;
    case qvnc_tools::ParseAction::Run:
        break;
    }
    // A client vanishing mid-write must be an error return, not a death.
    std::signal(SIGPIPE, SIG_IGN);
    return run(parsed.options);
}
