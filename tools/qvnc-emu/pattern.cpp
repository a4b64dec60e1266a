#include "pattern.hpp"

#include <algorithm>
#include <array>
#include <cstdio>

#include "font.hpp"

namespace qvnc_emu {
namespace {

constexpr std::array<Rgb, 8> kBars = {{
    {0xff, 0xff, 0xff}, {0xff, 0xff, 0x00}, {0x00, 0xff, 0xff}, {0x00, 0xff, 0x00},
    {0xff, 0x00, 0xff}, {0xff, 0x00, 0x00}, {0x00, 0x00, 0xff}, {0x00, 0x00, 0x00},
}};
constexpr Rgb kTextFg{0xff, 0xff, 0xff};
constexpr Rgb kTextBg{0x30, 0x30, 0x30};
constexpr int kTextX = 8;
constexpr int kTextPadding = 2;
constexpr int kMaxBox = 64;
constexpr uint64_t kBoxSpeedX = 7;
constexpr uint64_t kBoxSpeedY = 5;

// Position on a back-and-forth sweep over [0, range].
int bounce(uint64_t t, int range)
{
    if (range <= 0) {
        return 0;
    }
    const uint64_t period = 2 * static_cast<uint64_t>(range);
    const auto p = static_cast<int>(t % period);
    return p <= range ? p : static_cast<int>(period) - p;
}

Rect box_at(const PatternLayout &l, uint64_t frame)
{
    if (l.box_size == 0) {
        return Rect{};
    }
    const int detail_h = l.height - l.text_end;
    return Rect{bounce(frame * kBoxSpeedX, l.width - l.box_size),
                l.text_end + bounce(frame * kBoxSpeedY, detail_h - l.box_size), l.box_size, l.box_size};
}

// The box's own picture moves with it: a white frame around an orange and
// blue 4-px checker crossed by a diagonal, so encoders see edges and detail.
Rgb box_pixel(int bx, int by, int size)
{
    if (bx < 2 || by < 2 || bx >= size - 2 || by >= size - 2) {
        return Rgb{0xff, 0xff, 0xff};
    }
    if (bx == by) {
        return Rgb{0x00, 0x00, 0x00};
    }
    return ((bx / 4 + by / 4) & 1) ? Rgb{0xff, 0x80, 0x00} : Rgb{0x20, 0x40, 0xc0};
}

} // namespace

PatternLayout pattern_layout(int width, int height)
{
    PatternLayout l;
    l.width = std::max(width, 1);
    l.height = std::max(height, 1);
    l.bars_end = l.height / 6;
    l.ramps_end = l.height / 3;
    l.text_y = l.ramps_end + kTextPadding;
    l.text_end = std::min(l.height, l.ramps_end + kGlyphHeight + 2 * kTextPadding);
    const int detail_h = l.height - l.text_end;
    l.box_size = std::min({kMaxBox, l.width / 4, detail_h});
    if (l.box_size < 8) {
        l.box_size = 0;
    }
    return l;
}

std::string pattern_text(const PatternLayout &layout, uint64_t frame)
{
    char buf[96];
    std::snprintf(buf, sizeof buf, "qvnc-emu pattern %dx%d frame %08llu", layout.width, layout.height,
                  static_cast<unsigned long long>(frame % 100000000u));
    return buf;
}

PatternFrame::PatternFrame(const PatternLayout &layout, uint64_t frame)
    : layout_(layout), text_(pattern_text(layout, frame)), box_(box_at(layout, frame))
{
}

Rgb PatternFrame::pixel(int x, int y) const
{
    const PatternLayout &l = layout_;
    if (x >= box_.x && x < box_.x + box_.w && y >= box_.y && y < box_.y + box_.h) {
        return box_pixel(x - box_.x, y - box_.y, box_.w);
    }
    if (y < l.bars_end) {
        return kBars[static_cast<size_t>(x * 8 / l.width)];
    }
    if (y < l.ramps_end) {
        const int band = (y - l.bars_end) * 4 / (l.ramps_end - l.bars_end);
        const auto v = static_cast<uint8_t>(l.width > 1 ? x * 255 / (l.width - 1) : 0);
        switch (band) {
        case 0:
            return Rgb{v, 0, 0};
        case 1:
            return Rgb{0, v, 0};
        case 2:
            return Rgb{0, 0, v};
        default:
            return Rgb{v, v, v};
        }
    }
    if (y < l.text_end) {
        return text_pixel(x, y);
    }
    return detail_pixel(x, y);
}

Rgb PatternFrame::text_pixel(int x, int y) const
{
    const int gx = x - kTextX;
    const int gy = y - layout_.text_y;
    if (gx < 0 || gy < 0 || gy >= kGlyphHeight) {
        return kTextBg;
    }
    const auto index = static_cast<size_t>(gx / kGlyphWidth);
    if (index >= text_.size()) {
        return kTextBg;
    }
    const Glyph &g = glyph_for(static_cast<unsigned char>(text_[index]));
    return glyph_bit(g, gx % kGlyphWidth, gy) ? kTextFg : kTextBg;
}

Rgb PatternFrame::detail_pixel(int x, int y) const
{
    const int w = layout_.width;
    if (x < w / 4) {
        // 1-px checkerboard: the hardest case for lossy or subsampling paths.
        return ((x + y) & 1) ? Rgb{0xff, 0xff, 0xff} : Rgb{0x00, 0x00, 0x00};
    }
    if (x < w / 2) {
        // A grid of 1-px lines every 4 px, coloured by column band.
        const bool line = (x % 4 == 0) || (y % 4 == 0);
        return line ? Rgb{static_cast<uint8_t>(x * 5), 0xc0, static_cast<uint8_t>(y * 3)} : Rgb{0x10, 0x10, 0x18};
    }
    // A smooth texture (gradients that wrap), compressible but never flat.
    return Rgb{static_cast<uint8_t>(x + y), static_cast<uint8_t>((x ^ y) >> 1),
               static_cast<uint8_t>((x * y) >> 7)};
}

std::vector<Rect> pattern_damage(const PatternLayout &layout, uint64_t frame)
{
    std::vector<Rect> damage;
    const Rect bounds{0, 0, layout.width, layout.height};
    if (frame == 0) {
        damage.push_back(bounds);
        return damage;
    }
    // The counter's digits that changed, as one run of cells.
    const std::string before = pattern_text(layout, frame - 1);
    const std::string after = pattern_text(layout, frame);
    size_t first = 0;
    while (first < after.size() && first < before.size() && before[first] == after[first]) {
        ++first;
    }
    if (first < after.size()) {
        const Rect cells{kTextX + static_cast<int>(first) * kGlyphWidth, layout.text_y,
                         static_cast<int>(after.size() - first) * kGlyphWidth, kGlyphHeight};
        const Rect strip{0, layout.ramps_end, layout.width, layout.text_end - layout.ramps_end};
        if (Rect r = intersect(cells, strip); !r.empty()) {
            damage.push_back(r);
        }
    }
    const Rect old_box = intersect(box_at(layout, frame - 1), bounds);
    const Rect new_box = intersect(box_at(layout, frame), bounds);
    if (!old_box.empty()) {
        damage.push_back(old_box);
    }
    if (!new_box.empty() && !(new_box == old_box)) {
        damage.push_back(new_box);
    }
    return damage;
}

void render_pattern(Canvas &canvas, const PatternLayout &layout, uint64_t frame, const Rect &area)
{
    const Rect r = intersect(area, canvas.bounds());
    const PatternFrame f(layout, frame);
    for (int y = r.y; y < r.y + r.h; ++y) {
        for (int x = r.x; x < r.x + r.w; ++x) {
            canvas.set(x, y, f.pixel(x, y));
        }
    }
}

} // namespace qvnc_emu
