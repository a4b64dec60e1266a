#include <cstring>
#include <set>

#include "font.hpp"

// cmocka last: its fail() macro would break the C++ headers.
#include "cmocka.hpp"

using namespace qvnc_emu;

namespace {

bool has_ink(const Glyph &g)
{
    for (uint8_t row : g) {
        if (row != 0) {
            return true;
        }
    }
    return false;
}

void test_printable_ascii_has_distinct_glyphs(void **)
{
    std::set<Glyph> seen;
    for (int c = 0x21; c <= 0x7e; ++c) {
        const auto ch = static_cast<unsigned char>(c);
        assert_true(has_glyph(ch));
        const Glyph &g = glyph_for(ch);
        if (!has_ink(g)) {
            fail_msg("glyph 0x%02x is blank", c);
        }
        if (!seen.insert(g).second) {
            fail_msg("glyph 0x%02x duplicates another", c);
        }
    }
    assert_false(has_ink(glyph_for(' ')));
    // The fallback box must not be mistaken for a character either.
    assert_true(seen.find(glyph_for(0x01)) == seen.end());
}

void test_cells_keep_their_margins(void **)
{
    // Column 7 and the top and bottom two rows stay empty so neighbouring
    // cells never touch.
    for (int c = 0; c < 256; ++c) {
        const Glyph &g = glyph_for(static_cast<unsigned char>(c));
        assert_int_equal(g[0] | g[1] | g[14] | g[15], 0);
        for (uint8_t row : g) {
            assert_int_equal(row & 0x01, 0);
        }
    }
}

void test_unprintable_bytes_use_the_box(void **)
{
    const Glyph &box = glyph_for(0x7f);
    for (int c : {0x00, 0x0a, 0x1f, 0x7f, 0x80, 0xe9, 0xff}) {
        assert_false(has_glyph(static_cast<unsigned char>(c)));
        assert_memory_equal(glyph_for(static_cast<unsigned char>(c)).data(), box.data(), box.size());
    }
    assert_true(has_ink(box));
}

void test_some_shapes(void **)
{
    // 'I' has its stem in the middle column, '_' sits below the baseline,
    // 'g' has a descender and 'x' does not.
    const Glyph &i = glyph_for('I');
    assert_true(glyph_bit(i, 3, 6));
    assert_false(glyph_bit(i, 1, 6));
    assert_int_equal(glyph_for('_')[12], 0xfe);
    assert_int_not_equal(glyph_for('g')[12], 0);
    assert_int_equal(glyph_for('x')[12], 0);
}

} // namespace

int main()
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_printable_ascii_has_distinct_glyphs),
        cmocka_unit_test(test_cells_keep_their_margins),
        cmocka_unit_test(test_unprintable_bytes_use_the_box),
        cmocka_unit_test(test_some_shapes),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
