#include "cursor.hpp"

#include <array>
#include <string_view>

namespace qvnc_emu {
namespace {

// '#' black outline, 'o' white body, ' ' transparent.  The outline keeps the
// arrow visible on both light and dark guest pixels.
constexpr std::array<std::string_view, 17> kArrow = {
    "#          ",
    "##         ",
    "#o#        ",
    "#oo#       ",
    "#ooo#      ",
    "#oooo#     ",
    "#ooooo#    ",
    "#oooooo#   ",
    "#ooooooo#  ",
    "#oooooooo# ",
    "#ooooo#####",
    "#oo#oo#    ",
    "#o# #oo#   ",
    "##  #oo#   ",
    "#    #oo#  ",
    "     #oo#  ",
    "      ##   ",
};

consteval bool arrow_is_rectangular()
{
    for (std::string_view row : kArrow) {
        if (row.size() != kArrow[0].size()) {
            return false;
        }
    }
    return true;
}
static_assert(arrow_is_rectangular(), "every arrow row has the same width");

} // namespace

Cursor make_arrow_cursor()
{
    Cursor c;
    c.width = static_cast<int>(kArrow[0].size());
    c.height = static_cast<int>(kArrow.size());
    c.hot_x = 0;
    c.hot_y = 0;
    c.argb.reserve(static_cast<size_t>(c.width) * static_cast<size_t>(c.height));
    for (std::string_view row : kArrow) {
        for (char px : row) {
            c.argb.push_back(px == '#' ? 0xff000000u : px == 'o' ? 0xffffffffu : 0x00000000u);
        }
    }
    return c;
}

} // namespace qvnc_emu
