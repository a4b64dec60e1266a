// Image codecs for Tight's JPEG and Tight PNG's PNG sub-encodings, writing
// to memory.  JPEG reads the server copy directly where libjpeg-turbo knows
// its layout (all the 32-bit surface formats), so no conversion pass runs.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "encoder.hpp"

namespace qvnc::vnc::enc {

class JpegCompressor {
public:
    JpegCompressor();
    ~JpegCompressor();
    JpegCompressor(const JpegCompressor &) = delete;
    JpegCompressor &operator=(const JpegCompressor &) = delete;

    // Compresses the pixels of `r` from fb (r inside fb) into `out`
    // (replacing its contents).  quality 1..100; chroma subsampling
    // h_factor x v_factor (1 or 2 each).  False when libjpeg failed.
    bool compress(const Rect &r, const ServerFramebuffer &fb, const PixelConverter &conv, int quality, int h_factor,
                  int v_factor, std::vector<uint8_t> &out);

    struct Impl;

private:
    std::unique_ptr<Impl> impl_;
};

// PNG of w x h pixels.  With a palette (2..256 RGB triplets, palette_size
// entries) `pixels` holds one index byte per pixel; without, 3 bytes R,G,B
// per pixel.  zlib_level 0..9.  False when libpng failed.
bool png_compress(const uint8_t *pixels, int w, int h, const uint8_t *palette_rgb, int palette_size, int zlib_level,
                  std::vector<uint8_t> &out);

} // namespace qvnc::vnc::enc
