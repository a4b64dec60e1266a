// The pointer image the console guest sets: a plain arrow.
#pragma once

#include "screen.hpp"

namespace qvnc_emu {

Cursor make_arrow_cursor();

} // namespace qvnc_emu
