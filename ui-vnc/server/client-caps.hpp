// What a client asked for with SetEncodings and SetPixelFormat.
#pragma once

#include <cstdint>
#include <vector>

#include "pixel-format.hpp"

namespace qvnc::vnc {

struct ClientCaps {
    PixelFormat pf = PixelFormat::server_default();
    bool colour_map = false;          // client asked for a colour map (BGR233 fallback)
    int32_t encoding = 0;             // the framebuffer encoding chosen (Raw for now)
    bool copy_rect = false;           // 1 listed (an extra to the chosen encoding)
    bool desktop_size = false;        // -223
    bool ext_desktop_size = false;    // -308
    bool rich_cursor = false;         // -239
    bool alpha_cursor = false;        // -314
    bool pointer_type_change = false; // -257
    bool ext_key_event = false;       // -258
    bool audio = false;               // -259
    bool led_state = false;           // -261
    bool desktop_name = false;        // -307
    bool wmvi = false;
    bool xvp = false;                 // -309
    bool ext_clipboard = false;
    bool continuous_updates = false;  // -313
    bool fence = false;               // -312
    bool last_rect = false;
    int compress_level = -1;
    int quality_level = -1;

    // QEMU processes the list last to first so that the first-listed
    // supported encoding wins; features are reset by every SetEncodings.
    void set_encodings(const std::vector<int32_t> &list);
};

} // namespace qvnc::vnc
