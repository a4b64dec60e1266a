// Encoder micro-benchmark over the shared VFR workloads.
//
//   [QVNC_BENCH_ENCODERS=zrle,zrle-2t] bench-encoders FRAMES_GENERATOR [WORKLOAD...]
//
// Runs the generator (shared/bench/frames.c) to make each workload's .vfr
// file in a temporary directory, replays one loop of it into a server
// framebuffer and encodes exactly the damage rectangles of every frame with
// each encoder, one encoder instance per run (persistent zlib state as on a
// connection).  Only encode() is timed.  Reports input MB/s (4 bytes per
// damaged pixel) and compression ratio, each also relative to Raw.  The
// "-2t" rows pass each frame's rects to one encode_rects() with a
// two-thread WorkerPool (big updates split into chunks, enc/chunks.hpp).
#include <chrono>
#include <ctime>
#include <memory>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <pixman.h>

#include "byte-buffer.hpp"
#include "dirty-map.hpp"
#include "encoder.hpp"
#include "pixel-convert.hpp"
#include "server-framebuffer.hpp"
#include "worker-pool.hpp"

// vfr.h is C11; its one C-only construct:
#define _Static_assert static_assert
extern "C" {
#include "vfr.h"
}
#undef _Static_assert

using namespace qvnc;
using namespace qvnc::vnc;

namespace {

struct Mapped {
    const uint8_t *map = nullptr;
    size_t size = 0;
    ~Mapped()
    {
        if (map) munmap(const_cast<uint8_t *>(map), size);
    }
};

bool map_file(const std::string &path, Mapped &m)
{
    const int fd = open(path.c_str(), O_RDONLY);
    if (fd < 0) return false;
    struct stat st {};
    if (fstat(fd, &st) != 0) {
        close(fd);
        return false;
    }
    void *p = mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
    close(fd);
    if (p == MAP_FAILED) return false;
    m.map = static_cast<const uint8_t *>(p);
    m.size = static_cast<size_t>(st.st_size);
    return std::memcmp(m.map, VFR_MAGIC, 8) == 0;
}

struct Config {
    const char *name;
    int32_t encoding;
    bool lossy;
    int quality;
    int compress;
    int threads = 0; // > 0: a frame's rects in one encode_rects() on a pool of that many
};

struct RunResult {
    double seconds = 0;
    double cpu_seconds = 0; // the process's CPU time over the same spans (all threads)
    uint64_t in_bytes = 0, out_bytes = 0;
};

double cpu_now()
{
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

RunResult run(const Mapped &m, const Config &cfg, int max_frames)
{
    const auto *hdr = reinterpret_cast<const vfr_header *>(m.map);
    vfr v{};
    v.map = m.map;
    v.size = m.size;
    v.hdr = hdr;
    v.index = reinterpret_cast<const vfr_index *>(m.map + hdr->index_offset);
    const int w = static_cast<int>(hdr->width), h = static_cast<int>(hdr->height);
    std::vector<uint8_t> surface(static_cast<size_t>(w) * h * 4);
    vfr_load_base(&v, surface.data(), static_cast<size_t>(w) * 4);
    const SurfaceView view{w, h, w * 4, PIXMAN_x8r8g8b8, surface.data()};

    const PixelFormat pf = PixelFormat::server_default();
    ServerFramebuffer fb;
    fb.reset(view);
    auto conv = PixelConverter::make(fb.format(), pf);
    std::unique_ptr<Encoder> enc = make_encoder(cfg.encoding);
    EncodeContext ctx{fb, pf, conv.value()};
    ctx.lossy = cfg.lossy;
    ctx.quality_level = cfg.quality;
    ctx.compress_level = cfg.compress;
    // A pool as a display's: big frames are split into chunks (enc/chunks.hpp).
    GMainContext *gctx = g_main_context_new();
    std::unique_ptr<work::WorkerPool> pool;
    if (cfg.threads > 0) {
        pool = std::make_unique<work::WorkerPool>(gctx, cfg.threads);
        pool->submit([] {}, [] {}); // starts its threads
        ctx.pool = pool.get();
    }
    std::vector<Rect> frame_rects;

    RunResult res;
    io::ByteBuffer out;
    const int n = std::min<int>(static_cast<int>(hdr->nframes), max_frames);
    for (int f = 1; f <= n; f++) {
        const vfr_rect *rects = nullptr;
        const uint32_t nr = vfr_apply(&v, static_cast<uint32_t>(f % hdr->nframes), surface.data(),
                                      static_cast<size_t>(w) * 4, &rects);
        // Untimed: bring the server copy up to date as the server does
        // (only the damaged blocks).
        DirtyMap damage(w, h), changed(w, h);
        for (uint32_t i = 0; i < nr; i++) damage.mark(rects[i].x, rects[i].y, rects[i].w, rects[i].h);
        fb.refresh_from(view, damage, changed);
        const double c0 = cpu_now();
        const auto t0 = std::chrono::steady_clock::now();
        if (pool) {
            frame_rects.clear();
            for (uint32_t i = 0; i < nr; i++) {
                frame_rects.push_back(Rect{rects[i].x, rects[i].y, rects[i].w, rects[i].h});
                res.in_bytes += static_cast<uint64_t>(rects[i].w) * rects[i].h * 4;
            }
            (void)enc->encode_rects(frame_rects, ctx, out);
        }
        for (uint32_t i = 0; !pool && i < nr; i++) {
            const Rect r{rects[i].x, rects[i].y, rects[i].w, rects[i].h};
            (void)enc->encode(r, ctx, out);
            res.in_bytes += static_cast<uint64_t>(r.w) * r.h * 4;
        }
        res.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        res.cpu_seconds += cpu_now() - c0;
        res.out_bytes += out.size();
        out.clear();
    }
    pool.reset();
    g_main_context_unref(gctx);
    return res;
}

} // namespace

// Whether `name` is one of the comma-separated names in `list`.  (Built
// piecewise: GCC 12 warns falsely (-Wrestrict) on "," + string + "," at -O2.)
static bool listed(const char *list, const char *name)
{
    std::string l = ",";
    l += list;
    l += ',';
    std::string n = ",";
    n += name;
    n += ',';
    return l.find(n) != std::string::npos;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s FRAMES_GENERATOR [WORKLOAD...]\n", argv[0]);
        return 2;
    }
    std::vector<std::string> workloads;
    for (int i = 2; i < argc; i++) workloads.emplace_back(argv[i]);
    if (workloads.empty()) workloads = {"desktop", "scroll", "video", "noise", "cursor"};

    char tmpl[] = "/tmp/qvnc-bench-XXXXXX";
    const char *dir = mkdtemp(tmpl);
    if (!dir) {
        perror("mkdtemp");
        return 1;
    }
    const Config configs[] = {
        {"raw", 0, false, -1, -1},         {"hextile", 5, false, -1, -1},      {"zlib", 6, false, -1, -1},
        {"zrle", 16, false, -1, -1},       {"zrle-c1", 16, false, -1, 1},      {"zrle-c3", 16, false, -1, 3},      {"tight", 7, false, -1, -1},
        {"tight-c1", 7, false, -1, 1},     {"tight-jpeg-q6", 7, true, 6, 1},   {"tightpng", -260, false, -1, -1},
        // The same on two threads (a 2-core display's pool).
        {"raw-2t", 0, false, -1, -1, 2},   {"hextile-2t", 5, false, -1, -1, 2}, {"zrle-2t", 16, false, -1, -1, 2},
        {"tight-2t", 7, false, -1, -1, 2}, {"tight-jpeg-q6-2t", 7, true, 6, 1, 2},
    };
    // cpu/wall: CPU time over wall time while encoding; with threads, how
    // many cores the encoder really had (the machine may be busy).
    printf("%-8s %-16s %9s %8s %9s %9s %8s %9s\n", "workload", "encoder", "MB/s", "ratio", "speed/raw", "size/raw",
           "cpu/wall", "cpu MB/s");
    for (const std::string &wl : workloads) {
        const std::string path = std::string(dir) + "/" + wl + ".vfr";
        const std::string cmd = std::string(argv[1]) + " gen -w " + wl + " -o " + path + " > /dev/null";
        if (std::system(cmd.c_str()) != 0) {
            fprintf(stderr, "generator failed for %s\n", wl.c_str());
            return 1;
        }
        Mapped m;
        if (!map_file(path, m)) {
            fprintf(stderr, "cannot read %s\n", path.c_str());
            return 1;
        }
        RunResult raw;
        for (const Config &c : configs) {
            // QVNC_BENCH_ENCODERS=raw,zrle,zrle-2t: only those rows (raw
            // first, for the relative columns).
            const char *only = getenv("QVNC_BENCH_ENCODERS");
            if (only && c.encoding != 0 && !listed(only, c.name)) {
                continue;
            }
            // A short untimed run first: a row's first encoder otherwise
            // pays the page faults of its fresh buffers (zlib's state) in
            // the timed loop, which on the cursor workload's small frames
            // made the first zlib row 1.6x slower than the same level next.
            (void)run(m, c, 2);
            const RunResult r = run(m, c, 30);
            if (c.encoding == 0) raw = r;
            const double mbs = r.in_bytes / 1e6 / r.seconds;
            const double raw_mbs = raw.in_bytes / 1e6 / raw.seconds;
            printf("%-8s %-16s %9.1f %8.2f %9.3f %9.4f %8.2f %9.1f\n", wl.c_str(), c.name, mbs,
                   static_cast<double>(r.in_bytes) / static_cast<double>(r.out_bytes), mbs / raw_mbs,
                   static_cast<double>(r.out_bytes) / static_cast<double>(raw.out_bytes), r.cpu_seconds / r.seconds,
                   r.in_bytes / 1e6 / r.cpu_seconds);
            fflush(stdout);
        }
        unlink(path.c_str());
    }
    rmdir(dir);
    return 0;
}
