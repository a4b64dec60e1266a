// Bounds-checked big-endian reading over a byte view.  A short read never
// touches memory past the view: it sets a sticky "short" flag and yields 0,
// so a parser can read a whole message and ask once at the end whether the
// bytes were all there (NeedMore) instead of checking every field.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace qvnc::io {

using Bytes = std::span<const uint8_t>;

class ByteReader {
public:
    explicit ByteReader(Bytes data) : data_(data) {}

    size_t remaining() const { return short_ ? 0 : data_.size() - pos_; }
    size_t consumed() const { return pos_; }
    bool has(size_t n) const { return !short_ && data_.size() - pos_ >= n; }
    // True once any read asked for more bytes than were left.
    bool short_read() const { return short_; }

    uint8_t u8()
    {
        if (!take(1)) return 0;
        return data_[pos_ - 1];
    }
    uint16_t u16()
    {
        if (!take(2)) return 0;
        return static_cast<uint16_t>(data_[pos_ - 2] << 8 | data_[pos_ - 1]);
    }
    uint32_t u32()
    {
        if (!take(4)) return 0;
        const uint8_t *p = &data_[pos_ - 4];
        return static_cast<uint32_t>(p[0]) << 24 | static_cast<uint32_t>(p[1]) << 16 |
               static_cast<uint32_t>(p[2]) << 8 | p[3];
    }
    int32_t s32() { return static_cast<int32_t>(u32()); }
    void skip(size_t n) { take(n); }
    // A view of the next n bytes (empty on a short read).
    Bytes bytes(size_t n)
    {
        if (!take(n)) return {};
        return data_.subspan(pos_ - n, n);
    }
    std::string_view text(size_t n)
    {
        Bytes b = bytes(n);
        return {reinterpret_cast<const char *>(b.data()), b.size()};
    }

private:
    bool take(size_t n)
    {
        if (short_ || data_.size() - pos_ < n) {
            short_ = true;
            return false;
        }
        pos_ += n;
        return true;
    }

    Bytes data_;
    size_t pos_ = 0;
    bool short_ = false;
};

} // namespace qvnc::io
