// What a guest draws on.  The emulator implements it by forwarding to every
// open qvnc display; unit tests implement it by recording the calls.
#pragma once

#include <cstdint>
#include <vector>

#include "canvas.hpp"

namespace qvnc_emu {

struct Cursor {
    int width = 0;
    int height = 0;
    int hot_x = 0;
    int hot_y = 0;
    std::vector<uint32_t> argb; // width * height, row-major
};

class Screen {
public:
    virtual ~Screen() = default;

    // The guest now shows `canvas`.  It must stay alive and unchanged in
    // layout until the next show() (displays borrow its memory), so a guest
    // changing size calls show() with the new canvas before freeing the old.
    virtual void show(const Canvas &canvas) = 0;
    // Pixels inside `damage` changed; the guest reports only what it redrew.
    virtual void update(const Rect &damage) = 0;
    // The frame whose damage update() reported is complete: waiting
    // clients get it now rather than on the main loop's next turn.
    virtual void flush() = 0;
    virtual void set_cursor(const Cursor &cursor) = 0;
    virtual void set_pointer_absolute(bool absolute) = 0;
};

} // namespace qvnc_emu
