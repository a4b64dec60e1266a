// Big-endian serialisation into a ByteBuffer.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "byte-buffer.hpp"

namespace qvnc::io {

class ByteWriter {
public:
    explicit ByteWriter(ByteBuffer &out) : out_(out) {}

    ByteWriter &u8(uint8_t v)
    {
        out_.push_back(v);
        return *this;
    }
    ByteWriter &u16(uint16_t v)
    {
        const uint8_t b[2] = {static_cast<uint8_t>(v >> 8), static_cast<uint8_t>(v)};
        out_.append(b);
        return *this;
    }
    ByteWriter &u32(uint32_t v)
    {
        const uint8_t b[4] = {static_cast<uint8_t>(v >> 24), static_cast<uint8_t>(v >> 16),
                              static_cast<uint8_t>(v >> 8), static_cast<uint8_t>(v)};
        out_.append(b);
        return *this;
    }
    ByteWriter &s32(int32_t v) { return u32(static_cast<uint32_t>(v)); }
    ByteWriter &pad(size_t n)
    {
        for (size_t i = 0; i < n; i++) out_.push_back(0);
        return *this;
    }
    ByteWriter &bytes(std::span<const uint8_t> b)
    {
        out_.append(b);
        return *this;
    }
    ByteWriter &text(std::string_view s)
    {
        out_.append(s);
        return *this;
    }

    ByteBuffer &buffer() { return out_; }

private:
    ByteBuffer &out_;
};

} // namespace qvnc::io
