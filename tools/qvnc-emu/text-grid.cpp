#include "text-grid.hpp"

#include "font.hpp"

namespace qvnc_emu {

TextGrid::TextGrid(Canvas &canvas, Rgb background)
    : canvas_(canvas), cols_(canvas.width() / kGlyphWidth), rows_(canvas.height() / kGlyphHeight),
      cells_(static_cast<size_t>(cols_) * static_cast<size_t>(rows_), Cell{' ', background, background}),
      dirty_(static_cast<size_t>(rows_))
{
    canvas_.fill(canvas_.bounds(), background);
}

const Cell &TextGrid::cell(int row, int col) const
{
    return cells_[static_cast<size_t>(row) * static_cast<size_t>(cols_) + static_cast<size_t>(col)];
}

void TextGrid::put(int row, int col, std::string_view text, Rgb fg, Rgb bg)
{
    for (char ch : text) {
        if (col >= cols_) {
            break;
        }
        put_cell(row, col++, Cell{static_cast<unsigned char>(ch), fg, bg});
    }
}

void TextGrid::put_cell(int row, int col, const Cell &c)
{
    if (row < 0 || col < 0 || row >= rows_ || col >= cols_) {
        return;
    }
    Cell &slot = cells_[static_cast<size_t>(row) * static_cast<size_t>(cols_) + static_cast<size_t>(col)];
    if (slot == c) {
        return;
    }
    slot = c;
    draw(row, col, c);
    Span &span = dirty_[static_cast<size_t>(row)];
    if (span.lo < 0 || col < span.lo) {
        span.lo = col;
    }
    if (col > span.hi) {
        span.hi = col;
    }
}

void TextGrid::draw(int row, int col, const Cell &c)
{
    const Glyph &g = glyph_for(c.ch);
    const int x0 = col * kGlyphWidth;
    const int y0 = row * kGlyphHeight;
    for (int y = 0; y < kGlyphHeight; ++y) {
        for (int x = 0; x < kGlyphWidth; ++x) {
            canvas_.set(x0 + x, y0 + y, glyph_bit(g, x, y) ? c.fg : c.bg);
        }
    }
}

void TextGrid::discard_damage()
{
    for (Span &span : dirty_) {
        span = Span{};
    }
}

void TextGrid::flush(Screen &screen)
{
    int row = 0;
    while (row < rows_) {
        const Span span = dirty_[static_cast<size_t>(row)];
        if (span.lo < 0) {
            ++row;
            continue;
        }
        int end = row + 1;
        while (end < rows_ && dirty_[static_cast<size_t>(end)].lo == span.lo &&
               dirty_[static_cast<size_t>(end)].hi == span.hi) {
            ++end;
        }
        screen.update(Rect{span.lo * kGlyphWidth, row * kGlyphHeight, (span.hi - span.lo + 1) * kGlyphWidth,
                           (end - row) * kGlyphHeight});
        for (int r = row; r < end; ++r) {
            dirty_[static_cast<size_t>(r)] = Span{};
        }
        row = end;
    }
}

} // namespace qvnc_emu
