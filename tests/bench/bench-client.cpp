// The benchmark's RFB client: connects to a VNC server that is replaying a
// VFR workload (qvnc-emu --guest replay:FILE, or a peer replay server), asks
// for one encoding and measures, with one update request outstanding at a
// time (the classic request/response cycle every peer supports), or with
// Continuous Updates and fences where the server offers them, as
// TigerVNC's viewer and noVNC use them (bench-continuous.hpp; turned off by
// --no-continuous):
//
//   updates/s, MB/s (TCP payload received, from TCP_INFO), bytes/update,
//   time to the first full frame (TCP connect to the end of the update
//   that completes the screen), server CPU per update (utime+stime of the
//   given pids from /proc/PID/stat over the measured window, and utime
//   alone), and the spread of updates/s over one-second slices (the noise
//   of the cell).
//
// For lossless encodings it checks the decoded frame against the workload's
// state hashes (vfr.h's vfr_hash of a full state): after the first full
// frame, then about every 250 ms, and at the end.  Each update of a
// single-threaded replay server shows a whole state, so every check must hit
// one of the hashes; a miss is reported (and fails --require-verified).
// Set QVNC_BENCH_DUMP_MISS=FILE to keep a missed frame (0x00RRGGBB words).
//
// Decoding is libvncclient's (Debian's libvncclient, 0.9.14): it is the same
// client for every server, which is all a side-by-side comparison needs.
//
// An update counts when its rectangles cover at least an eighth of what a
// record of the workload damages on average (the VFR header's
// total_damage_px / nframes); smaller ones are counted apart
// (small_updates) and their bytes and CPU charged to the updates that
// count.  Every server answers a record with one update, except that Xvnc
// sends the lossless refresh of its JPEG areas in chunks of ~1,600 pixels
// whenever its feeder leaves it a moment (desktop workload, Tight+JPEG:
// 43% of its updates here, 64% for a client that only parses): counted
// as updates, they made it look 1.76x faster than the pictures it
// delivers.
//
// Output: one line of key=value pairs on stdout (run-bench.sh parses it).
#include <rfb/rfbclient.h>

#include <linux/tcp.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <unordered_set>
#include <vector>

#include "bench-continuous.hpp"
#include "bench-vfr-hashes.hpp"
#include "bench-viewers.hpp"

namespace {

struct Config {
    std::string host = "127.0.0.1";
    int port = 5900;
    std::string encoding = "raw";
    double seconds = 5;
    double warmup = 1;
    std::string vfr;                // state hashes come from here
    std::vector<int> server_pids;   // CPU is summed over these
    // Shell commands run right before and right after the window (e.g. to
    // zero and dump a profiler's counters); the window excludes them.
    std::string window_start_cmd, window_end_cmd;
    bool require_verified = false;  // exit 1 unless >= 1 check and no miss
    double timeout = 30;            // give up when no update arrives this long
    int viewers = 1;                // 1 measuring client + viewers-1 light ones
    bool continuous = true;         // offer CU and fences (bench-continuous.hpp)
};

double now_s()
{
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// CPU time in seconds of one process (all its threads), in user space and
// in the kernel: utime and stime of /proc/PID/stat.  The split tells
// encoding (user) from socket writes (system) when many viewers share one
// encode.  The command name may contain spaces, so fields are counted
// after the last ')'.
struct CpuTimes {
    double user = 0, sys = 0;
    double total() const { return user + sys; }
};

std::optional<CpuTimes> process_cpu_s(int pid)
{
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!std::getline(in, line)) {
        return std::nullopt;
    }
    auto close = line.rfind(')');
    if (close == std::string::npos) {
        return std::nullopt;
    }
    // Fields after ") " start at field 3; utime and stime are 14 and 15.
    std::istringstream fields(line.substr(close + 2));
    std::string skip;
    for (int field = 3; field < 14; field++) {
        fields >> skip;
    }
    unsigned long long utime = 0, stime = 0;
    if (!(fields >> utime >> stime)) {
        return std::nullopt;
    }
    const auto tick = static_cast<double>(sysconf(_SC_CLK_TCK));
    return CpuTimes{static_cast<double>(utime) / tick, static_cast<double>(stime) / tick};
}

// Resident set size in KiB of one process (VmRSS of /proc/PID/status).
std::optional<long> process_rss_kb(int pid)
{
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("VmRSS:", 0) == 0) {
            return std::atol(line.c_str() + 6);
        }
    }
    return std::nullopt;
}

long servers_rss_kb(const std::vector<int> &pids)
{
    long sum = 0;
    for (int pid : pids) {
        sum += process_rss_kb(pid).value_or(0);
    }
    return sum;
}

std::optional<CpuTimes> servers_cpu_s(const std::vector<int> &pids)
{
    CpuTimes sum;
    for (int pid : pids) {
        auto cpu = process_cpu_s(pid);
        if (!cpu) {
            return std::nullopt;
        }
        sum.user += cpu->user;
        sum.sys += cpu->sys;
    }
    return sum;
}

uint64_t tcp_bytes_received(int fd)
{
    tcp_info info{};
    socklen_t len = sizeof(info);
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) != 0) {
        return 0;
    }
    return info.tcpi_bytes_received;
}

bool lossless(const std::string &encoding)
{
    return encoding != "tight-jpeg";
}

// What the run has seen so far; libvncclient's callbacks reach it through
// the client's client data.
struct Run {
    const Config *config = nullptr;
    std::unordered_set<uint64_t> hashes;
    double t_connect = 0;
    double t_first_full = -1;
    double t_last_update = 0;
    double t_last_check = -1;
    uint64_t updates = 0;       // updates that count (see the top)
    uint64_t small_updates = 0; // the others
    uint64_t min_px = 0;        // what an update must cover to count
    uint64_t update_px = 0;     // the rectangles of the update so far
    uint64_t checks = 0;
    uint64_t misses = 0;
    bool measuring = false;
    std::vector<uint64_t> per_slice; // counted updates in each whole second measured
    double t_measure_start = 0;
    MallocFrameBufferProc default_alloc = nullptr;
    std::vector<uint8_t> covered; // until the first full frame
    uint64_t covered_px = 0;
};

int kRunTag; // address used as libvncclient client-data key

Run &run_of(rfbClient *client)
{
    return *static_cast<Run *>(rfbClientGetClientData(client, &kRunTag));
}

void check_frame(rfbClient *client, Run &run)
{
    const auto *px = reinterpret_cast<const uint32_t *>(client->frameBuffer);
    uint64_t h = qvnc_bench::vfr_state_hash(px, client->width, client->height,
                                            static_cast<size_t>(client->width));
    run.checks++;
    if (!run.hashes.count(h)) {
        run.misses++;
        if (const char *dump = std::getenv("QVNC_BENCH_DUMP_MISS")) {
            std::fprintf(stderr, "bench-client: check %llu missed (update %llu)\n",
                         static_cast<unsigned long long>(run.checks),
                         static_cast<unsigned long long>(run.updates));
            // A missed frame as raw 0x00RRGGBB words, for looking into.
            std::ofstream(dump, std::ios::binary)
                .write(reinterpret_cast<const char *>(client->frameBuffer),
                       static_cast<std::streamsize>(client->width) * client->height * 4);
        }
    }
}

// Until the first full frame: which pixels some rectangle has covered (a
// server may answer the first request in several updates, or start with
// an update of pseudo-rectangles only).
// CopyRect as a real viewer does it, a memmove a row (TigerVNC, gtk-vnc):
// libvncclient's own copies pixel by pixel, ~1 ms for a scrolled 1080p
// editor, which made the client the bottleneck wherever a server sends
// CopyRects.  The rectangles were checked inside the framebuffer by
// libvncclient before it calls this.
void on_copy_rect(rfbClient *client, int sx, int sy, int w, int h, int dx, int dy)
{
    const size_t bpp = static_cast<size_t>(client->format.bitsPerPixel / 8);
    const size_t stride = static_cast<size_t>(client->width) * bpp;
    uint8_t *fb = client->frameBuffer;
    for (int i = 0; i < h; i++) {
        const int r = dy < sy ? i : h - 1 - i; // never overwrite unread source rows
        std::memmove(fb + static_cast<size_t>(dy + r) * stride + static_cast<size_t>(dx) * bpp,
                     fb + static_cast<size_t>(sy + r) * stride + static_cast<size_t>(sx) * bpp,
                     static_cast<size_t>(w) * bpp);
    }
}

void on_rect(rfbClient *client, int x, int y, int w, int h)
{
    Run &run = run_of(client);
    run.update_px += static_cast<uint64_t>(std::max(w, 0)) * static_cast<uint64_t>(std::max(h, 0));
    if (run.t_first_full >= 0) {
        return;
    }
    run.covered.resize(static_cast<size_t>(client->width) * client->height, 0);
    x = std::max(x, 0);
    y = std::max(y, 0);
    const int x1 = std::min(x + w, client->width), y1 = std::min(y + h, client->height);
    for (int row = y; row < y1; row++) {
        for (int col = x; col < x1; col++) {
            uint8_t &c = run.covered[static_cast<size_t>(row) * client->width + col];
            run.covered_px += !c;
            c = 1;
        }
    }
}

// The buffer starts all zero whatever malloc gave (MALLOC_PERTURB_ in
// tests): still_blank() relies on it.
rfbBool alloc_frame_buffer(rfbClient *client)
{
    Run &run = run_of(client);
    if (!run.default_alloc(client)) {
        return FALSE;
    }
    std::memset(client->frameBuffer, 0,
                static_cast<size_t>(client->width) * client->height * client->format.bitsPerPixel / 8);
    return TRUE;
}

// libvncclient reports pseudo-rectangles that carry no pixels (the QEMU
// extended key event ack, sent over the whole screen) like pixel data, so a
// covered screen may still be the blank buffer the client started with.  No
// workload state is all black, so "still all zero" means "no pixels yet".
bool still_blank(rfbClient *client)
{
    const size_t n = static_cast<size_t>(client->width) * client->height * 4;
    const uint8_t *p = client->frameBuffer;
    return p[0] == 0 && std::memcmp(p, p + 1, n - 1) == 0;
}

void on_update_done(rfbClient *client)
{
    Run &run = run_of(client);
    double t = now_s();
    run.t_last_update = t;
    const bool counts = run.update_px >= run.min_px;
    run.update_px = 0;
    (counts ? run.updates : run.small_updates)++;
    if (run.t_first_full < 0) {
        if (run.covered_px < static_cast<uint64_t>(client->width) * client->height ||
            still_blank(client)) {
            return; // the screen is not complete yet: nothing to check
        }
        run.t_first_full = t;
        run.covered = {};
    }
    if (run.measuring && counts) {
        auto slice = static_cast<size_t>(t - run.t_measure_start);
        if (slice >= run.per_slice.size()) {
            run.per_slice.resize(slice + 1, 0);
        }
        run.per_slice[slice]++;
    }
    if (!run.hashes.empty() && lossless(run.config->encoding) &&
        (run.t_last_check < 0 || t - run.t_last_check >= 0.25)) {
        run.t_last_check = t;
        check_frame(client, run);
    }
}

void quiet_log(const char *, ...) {}

struct ClientDeleter {
    void operator()(rfbClient *c) const { rfbClientCleanup(c); }
};

bool parse_args(int argc, char **argv, Config &c)
{
    for (int i = 1; i < argc; i++) {
        std::string a = argv[i];
        auto value = [&]() -> const char * { return i + 1 < argc ? argv[++i] : nullptr; };
        const char *v = nullptr;
        if (a == "--require-verified") {
            c.require_verified = true;
            continue;
        }
        if (a == "--no-continuous") {
            c.continuous = false;
            continue;
        }
        if (!(v = value())) {
            std::fprintf(stderr, "bench-client: %s needs a value\n", a.c_str());
            return false;
        }
        if (a == "--host") {
            c.host = v;
        } else if (a == "--port") {
            c.port = std::atoi(v);
        } else if (a == "--encoding") {
            c.encoding = v;
        } else if (a == "--seconds") {
            c.seconds = std::atof(v);
        } else if (a == "--warmup") {
            c.warmup = std::atof(v);
        } else if (a == "--vfr") {
            c.vfr = v;
        } else if (a == "--server-pid") {
            c.server_pids.push_back(std::atoi(v));
        } else if (a == "--window-start-cmd") {
            c.window_start_cmd = v;
        } else if (a == "--window-end-cmd") {
            c.window_end_cmd = v;
        } else if (a == "--viewers") {
            c.viewers = std::atoi(v);
        } else if (a == "--timeout") {
            c.timeout = std::atof(v);
        } else {
            std::fprintf(stderr, "bench-client: unknown option %s\n", a.c_str());
            return false;
        }
    }
    static const char *const kEncodings[] = {"raw", "hextile", "zrle", "tight", "tight-jpeg"};
    if (std::none_of(std::begin(kEncodings), std::end(kEncodings),
                     [&](const char *e) { return c.encoding == e; })) {
        std::fprintf(stderr, "bench-client: encoding is raw, hextile, zrle, tight or tight-jpeg\n");
        return false;
    }
    return c.port > 0 && c.seconds > 0 && c.viewers >= 1;
}

void configure(rfbClient *client, const Config &c)
{
    client->serverHost = strdup(c.host.c_str());
    client->serverPort = c.port;
    client->appData.useRemoteCursor = FALSE;
    client->appData.shareDesktop = TRUE;
    // Pixels land as 0x00RRGGBB words, the layout vfr_hash reads.
    client->format.redShift = 16;
    client->format.greenShift = 8;
    client->format.blueShift = 0;
    // CopyRect listed after the encoding, as every real viewer lists it
    // (TigerVNC, gtk-vnc, noVNC; libvncclient's default): a server that
    // finds moved pixels may use it, and the frame hashes check the result.
    if (c.encoding == "raw") {
        client->appData.encodingsString = "raw copyrect";
    } else if (c.encoding == "hextile") {
        client->appData.encodingsString = "hextile copyrect raw";
    } else if (c.encoding == "zrle") {
        client->appData.encodingsString = "zrle copyrect raw";
    } else {
        client->appData.encodingsString = "tight copyrect raw";
    }
    // Tight lossless: no quality level is sent, so no server may use JPEG.
    client->appData.enableJPEG = c.encoding == "tight-jpeg" ? TRUE : FALSE;
    client->appData.qualityLevel = 6;
    client->appData.compressLevel = -1; // each server's default
    client->GotFrameBufferUpdate = on_rect;
    client->GotCopyRect = on_copy_rect;
    run_of(client).default_alloc = client->MallocFrameBuffer;
    client->MallocFrameBuffer = alloc_frame_buffer;
    client->FinishedFrameBufferUpdate = on_update_done;
}

} // namespace

int main(int argc, char **argv)
{
    Config config;
    if (!parse_args(argc, argv, config)) {
        std::fprintf(stderr,
                     "usage: bench-client --port N [--host H] [--encoding raw|hextile|zrle|tight|"
                     "tight-jpeg]\n       [--seconds S] [--warmup S] [--vfr FILE] "
                     "[--server-pid PID]... [--timeout S] [--require-verified]\n"
                     "       [--viewers N] [--no-continuous]\n"
                     "       [--window-start-cmd CMD] [--window-end-cmd CMD]\n");
        return 2;
    }
    Run run;
    run.config = &config;
    if (!config.vfr.empty()) {
        std::string error;
        auto vfr = qvnc_bench::read_vfr_summary(config.vfr, error);
        if (!vfr) {
            std::fprintf(stderr, "bench-client: %s\n", error.c_str());
            return 2;
        }
        run.hashes.insert(vfr->hashes.begin(), vfr->hashes.end());
        run.min_px = vfr->mean_damage_px / 8;
    }
    rfbClientLog = rfbClientErr = quiet_log; // keep stdout one line
    if (config.continuous) {
        qvnc_bench::enable_continuous_updates();
    }
    std::unique_ptr<rfbClient, ClientDeleter> client(rfbGetClient(8, 3, 4));
    rfbClientSetClientData(client.get(), &kRunTag, &run);
    configure(client.get(), config);

    run.t_connect = now_s();
    int fake_argc = 0;
    if (!rfbInitClient(client.get(), &fake_argc, nullptr)) {
        client.release(); // rfbInitClient already freed it
        std::fprintf(stderr, "bench-client: cannot connect to %s:%d\n", config.host.c_str(),
                     config.port);
        return 1;
    }

    // The other viewers of the display (bench-viewers.hpp): same settings,
    // no decoding.
    qvnc_bench::LightViewers light;
    if (config.viewers > 1) {
        std::string error;
        if (!light.start(config.host, config.port, config.viewers - 1, config.encoding, error)) {
            std::fprintf(stderr, "bench-client: %s\n", error.c_str());
            return 1;
        }
    }

    auto pump_until = [&](double until) -> bool {
        while (now_s() < until) {
            int n = WaitForMessage(client.get(), 100000);
            if (n < 0) {
                return false;
            }
            if (n > 0 && !HandleRFBServerMessage(client.get())) {
                return false;
            }
            // Messages that arrived with the last one wait in libvncclient's
            // buffer, where select() does not see them (a ping fence right
            // behind a continuous update).
            while (n > 0 && client->buffered > 0) {
                if (!HandleRFBServerMessage(client.get())) {
                    return false;
                }
            }
            double idle_since = std::max(run.t_last_update, run.t_connect);
            if (now_s() - idle_since > config.timeout) {
                std::fprintf(stderr, "bench-client: no update for %.0f s\n", config.timeout);
                return false;
            }
        }
        return true;
    };

    // Warm-up: at least --warmup seconds and until the first full frame
    // (a slow encoding of a heavy workload may take longer than that).
    const double warm_until = now_s() + config.warmup;
    while (run.t_first_full < 0 || now_s() < warm_until) {
        if (!pump_until(now_s() + 0.1)) {
            std::fprintf(stderr, "bench-client: no first frame (connection lost or --timeout)\n");
            return 1;
        }
    }
    if (!config.window_start_cmd.empty() && std::system(config.window_start_cmd.c_str()) != 0) {
        std::fprintf(stderr, "bench-client: --window-start-cmd failed\n");
        return 1;
    }
    uint64_t updates0 = run.updates;
    uint64_t small0 = run.small_updates;
    uint64_t bytes0 = tcp_bytes_received(client->sock);
    auto cpu0 = servers_cpu_s(config.server_pids);
    run.measuring = true;
    run.t_measure_start = now_s();
    if (!pump_until(run.t_measure_start + config.seconds)) {
        return 1;
    }
    double elapsed = now_s() - run.t_measure_start;
    uint64_t updates = run.updates - updates0;
    uint64_t small_updates = run.small_updates - small0;
    uint64_t bytes = tcp_bytes_received(client->sock) - bytes0;
    auto cpu1 = servers_cpu_s(config.server_pids);
    const long rss_kb = servers_rss_kb(config.server_pids);
    if (!config.window_end_cmd.empty() && std::system(config.window_end_cmd.c_str()) != 0) {
        std::fprintf(stderr, "bench-client: --window-end-cmd failed\n");
        return 1;
    }
    if (!run.hashes.empty() && lossless(config.encoding) && updates > 0) {
        check_frame(client.get(), run); // the last frame decoded
    }

    // Spread over the whole one-second slices (the last may be partial).
    double mean = 0, var = 0;
    size_t whole = std::min(run.per_slice.size(), static_cast<size_t>(elapsed));
    for (size_t i = 0; i < whole; i++) {
        mean += static_cast<double>(run.per_slice[i]);
    }
    mean = whole ? mean / static_cast<double>(whole) : 0;
    for (size_t i = 0; i < whole; i++) {
        var += std::pow(static_cast<double>(run.per_slice[i]) - mean, 2);
    }
    double cv = whole > 1 && mean > 0 ? std::sqrt(var / static_cast<double>(whole - 1)) / mean : 0;

    double ups = static_cast<double>(updates) / elapsed;
    const double cpu_s = cpu0 && cpu1 ? cpu1->total() - cpu0->total() : -1;
    const double user_s = cpu0 && cpu1 ? cpu1->user - cpu0->user : -1;
    std::printf("encoding=%s updates=%llu seconds=%.2f ups=%.2f mbps=%.2f bytes_per_update=%.0f "
                "first_full_ms=%.1f cpu_pct=%.1f cpu_ms_per_update=%.3f user_ms_per_update=%.3f "
                "noise_pct=%.1f checks=%llu misses=%llu updates_all=%llu small_updates=%llu viewers=%d rss_kb=%ld "
                "light_closed=%d continuous=%d\n",
                config.encoding.c_str(), static_cast<unsigned long long>(updates), elapsed, ups,
                static_cast<double>(bytes) / elapsed / 1e6,
                updates ? static_cast<double>(bytes) / static_cast<double>(updates) : 0.0,
                (run.t_first_full - run.t_connect) * 1e3,
                cpu_s >= 0 ? cpu_s / elapsed * 100 : -1.0,
                cpu_s >= 0 && updates ? cpu_s * 1e3 / static_cast<double>(updates) : -1.0,
                user_s >= 0 && updates ? user_s * 1e3 / static_cast<double>(updates) : -1.0,
                cv * 100, static_cast<unsigned long long>(run.checks),
                static_cast<unsigned long long>(run.misses),
                static_cast<unsigned long long>(run.updates + run.small_updates),
                static_cast<unsigned long long>(small_updates), config.viewers, rss_kb, light.closed(),
                qvnc_bench::continuous_active(client.get()) ? 1 : 0);
    if (config.require_verified && (run.checks == 0 || run.misses != 0 || updates == 0)) {
        std::fprintf(stderr, "bench-client: verification failed (%llu checks, %llu misses)\n",
                     static_cast<unsigned long long>(run.checks),
                     static_cast<unsigned long long>(run.misses));
        return 1;
    }
    return 0;
}
