// The built-in 8x16 bitmap font of the emulator's guests.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace qvnc_emu {

inline constexpr int kGlyphWidth = 8;
inline constexpr int kGlyphHeight = 16;

// One row per byte, top row first; bit 7 is the leftmost column.
using Glyph = std::array<uint8_t, kGlyphHeight>;

// Printable ASCII has its own glyph; every other byte (controls, Latin-1
// beyond ASCII) draws the hollow "unknown" box, so nothing a client types is
// ever invisible.
const Glyph &glyph_for(unsigned char ch);

// Whether `ch` has a glyph of its own rather than the fallback box.
bool has_glyph(unsigned char ch);

inline bool glyph_bit(const Glyph &g, int x, int y)
{
    return (g[static_cast<size_t>(y)] >> (7 - x)) & 1u;
}

} // namespace qvnc_emu
