// Reader for VFR ("VNC frame recording") files, the benchmark workloads of
// ../shared/bench (beside the repository) (vfr.h there is the reference).  The layout, all
// integers little-endian:
//
//   0    header, 256 bytes: magic "VFRAMES1", u32 width, height, stride,
//        nframes, fourcc ('XR24'), seed, char workload[32], u64
//        base_offset, index_offset, file_size, total_damage_px
//   base image at base_offset: height rows of `stride` bytes (state 0)
//   index at index_offset: nframes entries of 24 bytes
//        {u64 record offset, u32 nrects, u32 reserved, u64 state hash}
//   record i: nrects * {u16 x, y, w, h}, padded to 64 bytes, then each
//        rect's pixels (w*4 bytes a row, rows packed), each block padded
//        to 64 bytes.  Pixels are XRGB8888 (B,G,R,X in memory).
//
// Record i turns state i-1 into state i and record 0 closes the loop, so a
// player loads the base image and applies records 1, 2, ..., n-1, 0, 1, ...
//
// Everything is bounds-checked when the file is opened: a truncated or
// hostile file is refused there instead of crashing the replay later.
#pragma once

#include <glib.h>

#include <memory>
#include <string>
#include <vector>

#include "canvas.hpp"

namespace qvnc_emu {

class VfrFile {
    // Only open() constructs (it validates first); the token keeps the
    // constructor public for make_unique yet unusable elsewhere.
    struct Token {
        explicit Token() = default;
    };

public:
    explicit VfrFile(Token) {}

    // Maps and validates `path`.  On failure returns null and sets `error`.
    static std::unique_ptr<VfrFile> open(const std::string &path, std::string &error);

    int width() const { return width_; }
    int height() const { return height_; }
    uint32_t frames() const { return static_cast<uint32_t>(records_.size()); }
    const std::string &workload() const { return workload_; }

    // Copies the base image (state 0) into `canvas`, which must be
    // x8r8g8b8 and at least width() x height().
    void load_base(Canvas &canvas) const;
    // Applies record `index` (mod frames()) and returns its damage rects in
    // file order.
    std::vector<Rect> apply(uint32_t index, Canvas &canvas) const;

private:
    struct MappedFileUnref {
        void operator()(GMappedFile *f) const { g_mapped_file_unref(f); }
    };
    struct Record {
        size_t offset;
        uint32_t nrects;
    };

    void copy_rows(const uint8_t *src, size_t src_stride, const Rect &r, Canvas &canvas) const;

    std::unique_ptr<GMappedFile, MappedFileUnref> map_;
    const uint8_t *data_ = nullptr;
    size_t size_ = 0;
    int width_ = 0;
    int height_ = 0;
    size_t stride_ = 0;
    size_t base_offset_ = 0;
    std::string workload_;
    std::vector<Record> records_;
};

} // namespace qvnc_emu
