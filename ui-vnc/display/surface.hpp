// A borrowed view of pixels: the emulator's surface (valid until the next
// surface switch) or the server's own copy.
#pragma once

#include <cstdint>

namespace qvnc::vnc {

struct SurfaceView {
    int width = 0;
    int height = 0;
    int stride = 0;      // bytes from one row to the next
    uint32_t format = 0; // pixman format code
    const uint8_t *data = nullptr;
};

} // namespace qvnc::vnc
