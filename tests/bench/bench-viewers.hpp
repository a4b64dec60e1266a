// Light viewers for bench-client --viewers N: N-1 extra connections to the
// same display that ask for the same encoding and pixel format as the
// measuring client, turn on Continuous Updates (so they need not find
// message boundaries to ask again) and then only read and drop what
// arrives.  They cost the client machine a read() per burst, not a decode,
// so on a 2-core machine the server keeps its cores; the server still
// encodes and sends every update to each of them.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

namespace qvnc_bench {

class LightViewers {
public:
    LightViewers() = default;
    ~LightViewers();
    LightViewers(const LightViewers &) = delete;
    LightViewers &operator=(const LightViewers &) = delete;

    // Connects `n` viewers (security type None, shared) and starts the
    // thread that drains them.  `encoding` is bench-client's name
    // (raw, hextile, zrle, tight, tight-jpeg); the SetEncodings list mirrors
    // what libvncclient sends for it where it matters to an encoder
    // (encoding, quality level; no compress level).
    bool start(const std::string &host, int port, int n, const std::string &encoding,
               std::string &error);
    // Bytes received by all viewers so far, and how many were closed by
    // the server (a viewer the server dropped no longer costs it anything).
    uint64_t bytes() const { return bytes_.load(); }
    int closed() const { return closed_.load(); }

private:
    void drain();

    std::vector<int> fds_;
    std::thread thread_;
    std::atomic<bool> stop_{false};
    std::atomic<uint64_t> bytes_{0};
    std::atomic<int> closed_{0};
};

} // namespace qvnc_bench
