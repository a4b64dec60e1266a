// The guest cursor image (ARGB) and where the guest pointer is.
#pragma once

#include <cstdint>
#include <vector>

namespace qvnc::vnc {

// Cursor pixels are native-endian 32-bit ARGB words: pixman's a8r8g8b8.
constexpr uint32_t kArgbFormat = 0x20028888u;

struct Cursor {
    int width = 0, height = 0, hot_x = 0, hot_y = 0;
    std::vector<uint32_t> argb; // width*height
    bool defined() const { return width > 0 && height > 0; }
};

} // namespace qvnc::vnc
