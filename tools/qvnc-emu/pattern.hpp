// The pattern guest's picture: a pure function of (frame, x, y, size), so a
// test can recompute any pixel a client should have decoded.
//
//   top sixth        eight colour bars
//   next sixth       red, green, blue and grey ramps (0..255 left to right)
//   a text strip     "qvnc-emu pattern WxH frame NNNNNNNN" (8x16 font)
//   the rest         a 1-px checkerboard, 1-px line grid, a smooth texture,
//                    and a box that bounces across it (one step per frame)
//
// Between frame f-1 and f only the box (old and new place) and the changed
// digits of the frame counter differ; pattern_damage() names those rects.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "canvas.hpp"

namespace qvnc_emu {

struct PatternLayout {
    int width = 0;
    int height = 0;
    int bars_end = 0;   // y where the colour bars end
    int ramps_end = 0;  // y where the ramps end
    int text_end = 0;   // y where the text strip ends (the detail area follows)
    int text_y = 0;     // top of the text glyphs
    int box_size = 0;   // 0 = too small for a box
};

PatternLayout pattern_layout(int width, int height);

// One frame's precomputed state (text, box place), so rendering many pixels
// does not redo it per pixel.
class PatternFrame {
public:
    PatternFrame(const PatternLayout &layout, uint64_t frame);

    Rgb pixel(int x, int y) const;
    Rect box() const { return box_; }
    const std::string &text() const { return text_; }

private:
    Rgb text_pixel(int x, int y) const;
    Rgb detail_pixel(int x, int y) const;

    PatternLayout layout_;
    std::string text_;
    Rect box_;
};

// The text strip's cells as drawn at `frame`.
std::string pattern_text(const PatternLayout &layout, uint64_t frame);

// Rectangles whose pixels may differ between frame-1 and frame (frame >= 1).
std::vector<Rect> pattern_damage(const PatternLayout &layout, uint64_t frame);

// Draws `area` of `frame` into the canvas (of the layout's size).
void render_pattern(Canvas &canvas, const PatternLayout &layout, uint64_t frame, const Rect &area);

} // namespace qvnc_emu
