#include "vfr-file.hpp"

#include <bit>
#include <cstring>

namespace qvnc_emu {
namespace {

constexpr size_t kHeaderSize = 256;
constexpr size_t kIndexEntrySize = 24;
constexpr size_t kRectSize = 8;
constexpr size_t kAlign = 64;
constexpr uint32_t kFourccXr24 = 0x34325258; // 'X' 'R' '2' '4'
constexpr int kMaxDimension = 16384;

uint16_t le16(const uint8_t *p)
{
    return static_cast<uint16_t>(p[0] | (p[1] << 8));
}

uint32_t le32(const uint8_t *p)
{
    return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) | (static_cast<uint32_t>(p[2]) << 16) |
           (static_cast<uint32_t>(p[3]) << 24);
}

uint64_t le64(const uint8_t *p)
{
    return static_cast<uint64_t>(le32(p)) | (static_cast<uint64_t>(le32(p + 4)) << 32);
}

size_t align_up(size_t n)
{
    return (n + kAlign - 1) / kAlign * kAlign;
}

// offset + length <= size, without overflow.
bool fits(uint64_t offset, uint64_t length, size_t size)
{
    return offset <= size && length <= size - offset;
}

Rect rect_at(const uint8_t *p)
{
    return Rect{le16(p), le16(p + 2), le16(p + 4), le16(p + 6)};
}

} // namespace

std::unique_ptr<VfrFile> VfrFile::open(const std::string &path, std::string &error)
{
    GError *gerr = nullptr;
    GMappedFile *raw = g_mapped_file_new(path.c_str(), FALSE, &gerr);
    if (raw == nullptr) {
        error = gerr != nullptr ? gerr->message : "cannot map the file";
        g_clear_error(&gerr);
        return nullptr;
    }
    auto v = std::make_unique<VfrFile>(Token{});
    v->map_.reset(raw);
    v->data_ = reinterpret_cast<const uint8_t *>(g_mapped_file_get_contents(raw));
    v->size_ = g_mapped_file_get_length(raw);
    const uint8_t *d = v->data_;

    if (v->size_ < kHeaderSize || std::memcmp(d, "VFRAMES1", 8) != 0) {
        error = "not a VFR file (bad magic)";
        return nullptr;
    }
    const uint32_t width = le32(d + 8);
    const uint32_t height = le32(d + 12);
    const uint32_t stride = le32(d + 16);
    const uint32_t nframes = le32(d + 20);
    const uint32_t fourcc = le32(d + 24);
    const uint64_t base_offset = le64(d + 64);
    const uint64_t index_offset = le64(d + 72);
    const uint64_t file_size = le64(d + 80);
    if (file_size != v->size_) {
        error = "truncated VFR file (size differs from the header)";
        return nullptr;
    }
    if (fourcc != kFourccXr24) {
        error = "unsupported VFR pixel format (only XR24)";
        return nullptr;
    }
    if (width < 1 || height < 1 || width > kMaxDimension || height > kMaxDimension ||
        stride < static_cast<uint64_t>(width) * 4 || nframes < 1) {
        error = "invalid VFR geometry";
        return nullptr;
    }
    if (!fits(base_offset, static_cast<uint64_t>(stride) * height, v->size_) ||
        !fits(index_offset, static_cast<uint64_t>(nframes) * kIndexEntrySize, v->size_)) {
        error = "VFR base image or index outside the file";
        return nullptr;
    }
    v->width_ = static_cast<int>(width);
    v->height_ = static_cast<int>(height);
    v->stride_ = stride;
    v->base_offset_ = static_cast<size_t>(base_offset);
    v->workload_.assign(reinterpret_cast<const char *>(d + 32), strnlen(reinterpret_cast<const char *>(d + 32), 32));

    v->records_.reserve(nframes);
    for (uint32_t i = 0; i < nframes; ++i) {
        const uint8_t *entry = d + index_offset + static_cast<uint64_t>(i) * kIndexEntrySize;
        const uint64_t offset = le64(entry);
        const uint32_t nrects = le32(entry + 8);
        const uint64_t rects_bytes = align_up(static_cast<uint64_t>(nrects) * kRectSize);
        if (!fits(offset, rects_bytes, v->size_)) {
            error = "VFR record " + std::to_string(i) + " outside the file";
            return nullptr;
        }
        uint64_t pixels = offset + rects_bytes;
        for (uint32_t k = 0; k < nrects; ++k) {
            const Rect r = rect_at(d + offset + static_cast<uint64_t>(k) * kRectSize);
            if (static_cast<int64_t>(r.x) + r.w > v->width_ || static_cast<int64_t>(r.y) + r.h > v->height_) {
                error = "VFR record " + std::to_string(i) + " has a rect outside the frame";
                return nullptr;
            }
            const uint64_t block = align_up(static_cast<uint64_t>(r.w) * 4 * static_cast<uint64_t>(r.h));
            if (!fits(pixels, block, v->size_)) {
                error = "VFR record " + std::to_string(i) + " pixels outside the file";
                return nullptr;
            }
            pixels += block;
        }
        v->records_.push_back(Record{static_cast<size_t>(offset), nrects});
    }
    return v;
}

void VfrFile::copy_rows(const uint8_t *src, size_t src_stride, const Rect &r, Canvas &canvas) const
{
    const size_t row_bytes = static_cast<size_t>(r.w) * 4;
    for (int y = 0; y < r.h; ++y) {
        uint8_t *dst = canvas.row(r.y + y) + static_cast<size_t>(r.x) * 4;
        const uint8_t *s = src + static_cast<size_t>(y) * src_stride;
        if constexpr (std::endian::native == std::endian::little) {
            std::memcpy(dst, s, row_bytes); // XRGB8888 LE is x8r8g8b8 in memory
        } else {
            for (int x = 0; x < r.w; ++x) {
                const uint32_t v = le32(s + static_cast<size_t>(x) * 4);
                std::memcpy(dst + static_cast<size_t>(x) * 4, &v, 4);
            }
        }
    }
}

void VfrFile::load_base(Canvas &canvas) const
{
    copy_rows(data_ + base_offset_, stride_, Rect{0, 0, width_, height_}, canvas);
}

std::vector<Rect> VfrFile::apply(uint32_t index, Canvas &canvas) const
{
    const Record &rec = records_[index % records_.size()];
    std::vector<Rect> rects;
    rects.reserve(rec.nrects);
    const uint8_t *p = data_ + rec.offset + align_up(static_cast<size_t>(rec.nrects) * kRectSize);
    for (uint32_t k = 0; k < rec.nrects; ++k) {
        const Rect r = rect_at(data_ + rec.offset + static_cast<size_t>(k) * kRectSize);
        copy_rows(p, static_cast<size_t>(r.w) * 4, r, canvas);
        p += align_up(static_cast<size_t>(r.w) * 4 * static_cast<size_t>(r.h));
        if (!r.empty()) {
            rects.push_back(r);
        }
    }
    return rects;
}

} // namespace qvnc_emu
