// ZYWRLE's lossy pre-filter: the tile-level wavelet transform that turns
// ZRLE (16) into ZYWRLE (17).  zywrle.md next to this file describes the
// algorithm and its wire layout (no other description exists); ZrleEncoder
// calls Analyzer for the tiles it would otherwise send raw.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "pixel-format.hpp"

namespace qvnc::vnc::zywrle {

// Where the decoder finds the three values it transforms in a client pixel
// (see zywrle.md, "Pixels and coefficients").
enum class Layout {
    None,      // the decoders cannot invert the transform: send ZRLE
    Bytes012,  // 32 bpp, 8-bit channels in wire bytes 0, 1 and 2
    Rgb565Le,  // 16 bpp little-endian 5-6-5
};

Layout layout_of(const PixelFormat &pf);

// The wavelet level (1..3) for a rectangle, or 0 for plain lossless ZRLE
// (numbered 16 on the wire).  QEMU's rule: level 0 unless `lossy` is on and
// the client sent a quality level 0..8; then 3 - q/3, which is also what
// libvncclient derives from the quality level it sent.  Also 0 for formats
// whose coefficients libvncclient would misread (Layout::None).
int level_for(const PixelFormat &pf, bool lossy, int quality_level);

// The largest mean squared error per channel (8-bit units) a wavelet tile
// may have at `level` before Analyzer refines its quantisation: about
// 32, 27 and 22 dB PSNR for levels 1, 2 and 3.
double max_tile_mse(int level);

class Analyzer {
public:
    static constexpr int kMaxTile = 64;

    // Transforms one tile: `tile` holds tw x th pixels (tw, th <= 64) in the
    // client format `layout`, as wire bytes, row after row with no padding.
    // `out` receives the nested tile the decoder inverts (same size and
    // format).  When the tile is narrower or shorter than 2^level the
    // decoder leaves the nested tile alone, so `out` is a copy of `tile`.
    //
    // The decoder only inverts; how coefficients are quantised is the
    // encoder's choice.  The first attempt uses the reference quantiser
    // (that of libvncserver and QEMU, coefficient for coefficient); when the
    // decoded tile would be further than `max_mse` from the source, finer
    // quantisers follow, then none.  Returns false when even that misses
    // (the caller then sends the tile losslessly).  Pass INFINITY for the
    // reference behaviour.
    bool analyze(const uint8_t *tile, int tw, int th, int level, Layout layout, double max_mse,
                 std::vector<uint8_t> &out);

private:
    // One coefficient: [0] U, [1] Y, [2] V (the decoder's pixel bytes 0..2).
    struct Coef {
        int8_t k[3];
    };
    using Plan = uint8_t[3][3]; // quantiser curve per level l and channel k
    void wavelet(int w, int h, int level, const Plan &plan);
    void pack(int w, int h, int level, Layout layout, uint8_t *slots) const;
    double decoded_mse(const uint8_t *tile, int tw, int w, int h, int level, Layout layout, const uint8_t *slots);

    std::array<Coef, kMaxTile * kMaxTile> yuv_{};   // colour-transformed aligned part
    std::array<Coef, kMaxTile * kMaxTile> plane_{}; // wavelet coefficients
};

} // namespace qvnc::vnc::zywrle
