// A libqvnc embedder for fuzz targets: one qvnc_context on a private
// GMainContext, displays without listeners ("none"), and clients that are
// socketpairs handed to qvnc_display_add_client_fd().  A client's bytes are
// written while the context is iterated and the server's output is drained;
// then the client half-closes and the harness waits until the server
// reports the client disconnected, so every input is consumed completely
// and every connection is torn down before the next input.
#pragma once

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <fcntl.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib.h>

#include "qvnc.h"

namespace fuzzhost {

// A failed setup step is a harness bug, never a finding: say so and stop.
[[noreturn]] inline void die(const char *what, qvnc_error *err = nullptr)
{
    fprintf(stderr, "fuzz harness: %s%s%s\n", what, err ? ": " : "", err ? qvnc_error_get_message(err) : "");
    abort();
}

// A deliberate crash for a server that stopped making progress (a hang
// libFuzzer would only see as a timeout).
[[noreturn]] inline void hang(const char *what)
{
    fprintf(stderr, "==fuzz== server made no progress: %s\n", what);
    __builtin_trap();
}

inline void quiet_log(void *, qvnc_log_level level, const char *domain, const char *message)
{
    if (getenv("QVNC_FUZZ_LOG")) {
        fprintf(stderr, "[%d %s] %s\n", static_cast<int>(level), domain ? domain : "-", message);
    }
}

// A progress deadline that ignores time the process did not run: the long
// runs are paused with SIGSTOP while the machine is needed, and a pause in
// the middle of an input must not read as a server that stopped making
// progress.  A gap of over a second between two turns of a wait loop
// (each turn takes microseconds) is such a pause; it extends the deadline.
class Deadline {
public:
    explicit Deadline(int seconds) : last_(g_get_monotonic_time()), end_(last_ + seconds * G_USEC_PER_SEC) {}
    bool passed()
    {
        const gint64 now = g_get_monotonic_time();
        if (now - last_ > G_USEC_PER_SEC) end_ += now - last_;
        last_ = now;
        return now > end_;
    }

private:
    gint64 last_, end_;
};

struct Host {
    GMainContext *mc = nullptr;
    qvnc_context *ctx = nullptr;
    int connected = 0, disconnected = 0;
    std::vector<uint32_t> pixels;
    int w = 0, h = 0;
    // Where the server's output is read to and dropped.  Not a 64 KiB
    // array on the stack: drain() runs in every turn of the wait loops, and
    // for such an array ASan writes its 8 KiB of shadow four times per call
    // (scope poisoning on entry, scope start, scope end and return).
    std::vector<uint8_t> sink = std::vector<uint8_t>(65536);

    static void on_client(void *opaque, qvnc_client_event ev, const qvnc_client_info *)
    {
        Host *hst = static_cast<Host *>(opaque);
        if (ev == QVNC_CLIENT_CONNECTED) hst->connected++;
        if (ev == QVNC_CLIENT_DISCONNECTED) hst->disconnected++;
    }
    static bool on_resize(void *, int, int) { return true; }
    static bool on_power(void *, qvnc_power_action) { return false; }

    Host()
    {
        mc = g_main_context_new();
        qvnc_error *err = nullptr;
        ctx = qvnc_context_new(mc, &err);
        if (!ctx) die("qvnc_context_new", err);
        qvnc_context_set_log_handler(ctx, quiet_log, nullptr);
        qvnc_context_set_name(ctx, "fuzz");
    }
    ~Host()
    {
        qvnc_context_free(ctx);
        while (g_main_context_iteration(mc, FALSE)) {
        }
        g_main_context_unref(mc);
    }
    Host(const Host &) = delete;
    Host &operator=(const Host &) = delete;

    void add_object(const char *spec)
    {
        qvnc_error *err = nullptr;
        if (!qvnc_context_add_object(ctx, spec, &err)) die(spec, err);
    }

    qvnc_display *open(const char *opts)
    {
        qvnc_display_ops ops{};
        ops.struct_size = sizeof ops;
        ops.client_event = on_client;
        ops.desktop_resize = on_resize;
        ops.power_control = on_power;
        qvnc_error *err = nullptr;
        qvnc_display *d = qvnc_display_open(ctx, opts, &ops, this, &err);
        if (!d) die(opts, err);
        return d;
    }

    // A deterministic surface of w x h in `format` (4- or 2-byte pixels).
    void set_surface(qvnc_display *d, int width, int height, uint32_t format, uint32_t seed)
    {
        w = width;
        h = height;
        const int bpp = (format == QVNC_FORMAT_R5G6B5 || format == QVNC_FORMAT_X1R5G5B5) ? 2 : 4;
        const int stride = ((w * bpp + 7) / 8) * 8 + 8; // padded: stride is honoured
        // The library may still read the old surface while switching: the
        // old pixels are freed only afterwards.
        std::vector<uint32_t> next(static_cast<size_t>(stride / 4) * h + 1, 0);
        uint32_t s = seed * 2654435761u + 1;
        for (auto &p : next) {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            // Runs of equal pixels as well as noise, for every encoder path.
            p = (s & 0x300) ? (seed * 0x10101u) : s;
        }
        qvnc_surface surf{};
        surf.struct_size = sizeof surf;
        surf.width = w;
        surf.height = h;
        surf.stride = stride;
        surf.format = format;
        surf.data = next.data();
        qvnc_error *err = nullptr;
        if (!qvnc_display_switch_surface(d, &surf, &err)) die("switch_surface", err);
        pixels = std::move(next);
    }

    // Runs sources until nothing is ready.
    void settle()
    {
        for (int i = 0; i < 100000 && g_main_context_iteration(mc, FALSE); i++) {
        }
    }

    // One client: `prefix` then `data`, with optional host actions
    // between the two halves of data (split at `split`).
    template <class Between>
    void run_client(qvnc_display *d, bool skipauth, const std::string &prefix, const uint8_t *data, size_t size,
                    size_t split, Between &&between)
    {
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0) die("socketpair");
        const int cfd = sv[1];
        const int before = disconnected;
        qvnc_error *err = nullptr;
        if (!qvnc_display_add_client_fd(d, sv[0], skipauth, &err)) die("add_client_fd", err);
        bool peer_open = true;
        auto drain = [&] {
            for (;;) {
                ssize_t n = recv(cfd, sink.data(), sink.size(), MSG_DONTWAIT);
                if (n > 0) continue;
                if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) peer_open = false;
                return;
            }
        };
        auto unread = [&] {
            int q = 0;
            if (ioctl(cfd, SIOCOUTQ, &q) != 0) return 0;
            return q;
        };
        // Writes bytes, then waits until the server has read all of them
        // (or has closed the connection).
        auto feed = [&](const uint8_t *p, size_t n) {
            Deadline deadline(20);
            while ((n > 0 || unread() > 0) && peer_open && disconnected == before) {
                if (n > 0) {
                    ssize_t k = send(cfd, p, n, MSG_DONTWAIT | MSG_NOSIGNAL);
                    if (k > 0) {
                        p += k;
                        n -= static_cast<size_t>(k);
                    } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
                        peer_open = false;
                        break;
                    }
                }
                drain();
                g_main_context_iteration(mc, FALSE);
                if (deadline.passed()) hang("the server stopped reading its input");
            }
        };
        feed(reinterpret_cast<const uint8_t *>(prefix.data()), prefix.size());
        if (split > size) split = size;
        feed(data, split);
        settle();
        drain();
        if (disconnected == before) between();
        feed(data + split, size - split);
        settle();
        shutdown(cfd, SHUT_WR);
        Deadline deadline(20);
        while (disconnected == before) {
            drain();
            g_main_context_iteration(mc, FALSE);
            if (deadline.passed()) hang("the client closed, but the server kept the connection");
        }
        close(cfd);
        settle();
    }
};

} // namespace fuzzhost
