// A Screen that records what a guest asked of the displays.
#pragma once

#include <cstddef>
#include <vector>

#include "screen.hpp"

namespace qvnc_emu {

struct RecordingScreen final : Screen {
    void show(const Canvas &canvas) override
    {
        shown = &canvas;
        ++shows;
    }
    void update(const Rect &damage) override { updates.push_back(damage); }
    void flush() override { flushed_at.push_back(updates.size()); }
    void set_cursor(const Cursor &c) override { cursor = c; }
    void set_pointer_absolute(bool a) override { absolute = a; }

    const Canvas *shown = nullptr;
    int shows = 0;
    std::vector<Rect> updates;
    std::vector<size_t> flushed_at; // updates.size() at each flush()
    Cursor cursor;
    bool absolute = false;
};

} // namespace qvnc_emu
