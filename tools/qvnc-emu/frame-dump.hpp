// --frame-dump: the guest frame as a binary PPM, for tests that compare a
// client's decoded pixels with what the guest drew.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "canvas.hpp"

namespace qvnc_emu {

// "P6\n<w> <h>\n255\n" followed by w*h RGB triples, top row first.  Pixels
// are converted from the canvas format (5/6-bit channels widened by bit
// replication, see unpack_pixel).
std::vector<uint8_t> encode_ppm(const Canvas &canvas);

// Writes `data` to PATH.tmp and renames it over PATH, so a reader never sees
// a half-written file.  On failure returns false and sets `error`.
bool write_file_atomically(const std::string &path, const std::vector<uint8_t> &data, std::string &error);

} // namespace qvnc_emu
