#include "bench-vfr-hashes.hpp"

#include <fstream>
#include <iterator>

namespace qvnc_bench {

namespace {

uint64_t le(const std::vector<uint8_t> &b, size_t at, int bytes)
{
    uint64_t v = 0;
    for (int i = bytes - 1; i >= 0; i--) {
        v = (v << 8) | b[at + static_cast<size_t>(i)];
    }
    return v;
}

} // namespace

uint64_t vfr_state_hash(const uint32_t *px, int width, int height, size_t stride_px)
{
    uint64_t a = 0x243F6A8885A308D3ull, b = 0x13198A2E03707344ull;
    for (int y = 0; y < height; y++) {
        const uint32_t *row = px + static_cast<size_t>(y) * stride_px;
        int x = 0;
        for (; x + 1 < width; x += 2) {
            uint64_t v = (static_cast<uint64_t>(row[x] & 0xFFFFFF) << 32) | (row[x + 1] & 0xFFFFFF);
            a = (a ^ v) * 0x9E3779B97F4A7C15ull;
            b = (b + v) ^ (a >> 29);
        }
        for (; x < width; x++) {
            a = (a ^ (row[x] & 0xFFFFFF)) * 0x9E3779B97F4A7C15ull;
            b = (b + a) ^ (a >> 31);
        }
    }
    return a ^ (b * 0xC2B2AE3D27D4EB4Full) ^ (a >> 33);
}

std::optional<VfrSummary> read_vfr_summary(const std::string &path, std::string &error)
{
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        error = path + ": cannot open";
        return std::nullopt;
    }
    // Header: magic[8], u32 width, height, stride, nframes, fourcc, seed,
    // char workload[32], u64 base_offset, index_offset, file_size,
    // total_damage_px, ...
    std::vector<uint8_t> head(256);
    if (!in.read(reinterpret_cast<char *>(head.data()), 256) ||
        std::string(head.begin(), head.begin() + 8) != "VFRAMES1") {
        error = path + ": not a VFR file";
        return std::nullopt;
    }
    const uint64_t nframes = le(head, 20, 4);
    const uint64_t index_offset = le(head, 72, 8);
    const uint64_t file_size = le(head, 80, 8);
    const uint64_t total_damage_px = le(head, 88, 8);
    if (nframes == 0 || nframes > (1u << 20) || index_offset > file_size ||
        nframes * 24 > file_size - index_offset) {
        error = path + ": bad VFR header";
        return std::nullopt;
    }
    // Index entries: u64 record offset, u32 nrects, u32 reserved, u64 hash.
    std::vector<uint8_t> index(nframes * 24);
    in.seekg(static_cast<std::streamoff>(index_offset));
    if (!in.read(reinterpret_cast<char *>(index.data()), static_cast<std::streamsize>(index.size()))) {
        error = path + ": truncated VFR index";
        return std::nullopt;
    }
    VfrSummary summary;
    for (uint64_t i = 0; i < nframes; i++) {
        summary.hashes.push_back(le(index, i * 24 + 16, 8));
    }
    summary.mean_damage_px = total_damage_px / nframes;
    return summary;
}

} // namespace qvnc_bench
