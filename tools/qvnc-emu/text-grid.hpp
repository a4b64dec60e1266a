// A character-cell view of a Canvas for the console guest.  It remembers
// what every cell shows, redraws only cells whose content changes and
// collects exactly those cells as damage, so a ticking clock or one typed
// key reports a few cells, not the screen.
#pragma once

#include <string_view>
#include <vector>

#include "canvas.hpp"
#include "screen.hpp"

namespace qvnc_emu {

struct Cell {
    unsigned char ch = ' ';
    Rgb fg;
    Rgb bg;
    bool operator==(const Cell &) const = default;
};

class TextGrid {
public:
    // Covers the whole cells of `canvas` (the canvas must outlive the grid)
    // and paints everything `background`, without reporting damage: the
    // caller shows the canvas as a new surface anyway.
    TextGrid(Canvas &canvas, Rgb background);

    int cols() const { return cols_; }
    int rows() const { return rows_; }

    // Writes `text` at (row, col) clipped to the row.  Cells already showing
    // the same character and colours are left alone.
    void put(int row, int col, std::string_view text, Rgb fg, Rgb bg);
    void put_cell(int row, int col, const Cell &cell);
    const Cell &cell(int row, int col) const;

    // Reports the changed cells since the last flush: one rectangle per run
    // of rows that changed the same column span.
    void flush(Screen &screen);
    // Forgets the changed cells: for a frame that is about to be shown as
    // a whole new surface, where damage would only repeat it.
    void discard_damage();

private:
    struct Span {
        int lo = -1; // first dirty column, -1 = clean
        int hi = -1; // last dirty column
    };

    void draw(int row, int col, const Cell &cell);

    Canvas &canvas_;
    int cols_;
    int rows_;
    std::vector<Cell> cells_;
    std::vector<Span> dirty_;
};

} // namespace qvnc_emu
