// The part of a VFR workload file (../shared/bench/vfr.h beside the
// repository defines the format) a benchmark client needs: the hash of
// every state, and the hash function itself, so a decoded frame can be
// checked against the states the server may be showing; and how much a
// record damages on average, so an update can be told from a small one.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace qvnc_bench {

// vfr.h's vfr_hash: a 64-bit hash of an XRGB8888 image (pixels as
// 0x00RRGGBB words), ignoring the X byte.  Must match the writer bit for bit.
uint64_t vfr_state_hash(const uint32_t *px, int width, int height, size_t stride_px);

struct VfrSummary {
    std::vector<uint64_t> hashes;  // the index hashes, one per state
    uint64_t mean_damage_px = 0;   // the header's total_damage_px / nframes
};

// What `path` says of itself; null and `error` on a file that is not a
// complete VFR recording.
std::optional<VfrSummary> read_vfr_summary(const std::string &path, std::string &error);

} // namespace qvnc_bench
