#include <glib.h>
#include <glib/gstdio.h>

#include <cstring>
#include <string>

#include "frame-dump.hpp"

// cmocka last: its fail() macro would break the C++ headers.
#include "cmocka.hpp"

using namespace qvnc_emu;

namespace {

constexpr PixelFormat kAll[] = {PixelFormat::X8R8G8B8, PixelFormat::A8R8G8B8, PixelFormat::X8B8G8R8,
                                PixelFormat::A8B8G8R8, PixelFormat::B8G8R8X8, PixelFormat::B8G8R8A8,
                                PixelFormat::R5G6B5,   PixelFormat::X1R5G5B5};

void test_ppm_of_every_format(void **)
{
    // Colours every format represents exactly.
    const Rgb colours[] = {{0xff, 0x00, 0x00}, {0x00, 0xff, 0x00}, {0x00, 0x00, 0xff},
                           {0xff, 0xff, 0xff}, {0x00, 0x00, 0x00}, {0xff, 0xff, 0x00}};
    for (PixelFormat format : kAll) {
        Canvas c(3, 2, format);
        for (int i = 0; i < 6; ++i) {
            c.set(i % 3, i / 3, colours[i]);
        }
        const std::vector<uint8_t> ppm = encode_ppm(c);
        const std::string header = "P6\n3 2\n255\n";
        assert_int_equal(ppm.size(), header.size() + 18);
        assert_memory_equal(ppm.data(), header.data(), header.size());
        for (int i = 0; i < 6; ++i) {
            const uint8_t *px = ppm.data() + header.size() + i * 3;
            if (px[0] != colours[i].r || px[1] != colours[i].g || px[2] != colours[i].b) {
                fail_msg("%s pixel %d: %02x%02x%02x", pixel_format_name(format), i, px[0], px[1], px[2]);
            }
        }
    }
}

void test_pixel_layouts(void **)
{
    const Rgb c{0x12, 0x34, 0x56};
    assert_int_equal(pack_pixel(PixelFormat::X8R8G8B8, c), 0x00123456u);
    assert_int_equal(pack_pixel(PixelFormat::A8R8G8B8, c), 0xff123456u);
    assert_int_equal(pack_pixel(PixelFormat::X8B8G8R8, c), 0x00563412u);
    assert_int_equal(pack_pixel(PixelFormat::B8G8R8X8, c), 0x56341200u);
    assert_int_equal(pack_pixel(PixelFormat::B8G8R8A8, c), 0x563412ffu);
    assert_int_equal(pack_pixel(PixelFormat::R5G6B5, Rgb{0xff, 0x00, 0x00}), 0xf800u);
    assert_int_equal(pack_pixel(PixelFormat::R5G6B5, Rgb{0x00, 0xff, 0x00}), 0x07e0u);
    // 5/6-bit channels widen by replication: full scale stays full scale.
    assert_true((unpack_pixel(PixelFormat::R5G6B5, 0xffffu) == Rgb{0xff, 0xff, 0xff}));
    assert_true((unpack_pixel(PixelFormat::R5G6B5, 0x8410u) == Rgb{0x84, 0x82, 0x84}));
    assert_true(pixel_format_from_name("r5g6b5") == PixelFormat::R5G6B5);
    assert_false(pixel_format_from_name("rgb565").has_value());
    assert_true(pixel_format_from_code(QVNC_FORMAT_B8G8R8X8) == PixelFormat::B8G8R8X8);
    Canvas c16(5, 1, PixelFormat::R5G6B5);
    assert_int_equal(c16.stride(), 12); // rows padded to 4 bytes
}

void test_atomic_write(void **)
{
    char *dir = g_dir_make_tmp("qvnc-emu-test-XXXXXX", nullptr);
    assert_non_null(dir);
    const std::string path = std::string(dir) + "/frame.ppm";
    const std::vector<uint8_t> data = {'P', '6', '\n', 1, 2, 3};
    std::string error;
    assert_true(write_file_atomically(path, data, error));
    gchar *contents = nullptr;
    gsize len = 0;
    assert_true(g_file_get_contents(path.c_str(), &contents, &len, nullptr));
    assert_int_equal(len, data.size());
    assert_memory_equal(contents, data.data(), len);
    g_free(contents);
    assert_false(g_file_test((path + ".tmp").c_str(), G_FILE_TEST_EXISTS));
    // A second dump replaces the first.
    assert_true(write_file_atomically(path, {'x'}, error));
    assert_true(g_file_get_contents(path.c_str(), &contents, &len, nullptr));
    assert_int_equal(len, 1);
    g_free(contents);
    assert_false(write_file_atomically(std::string(dir) + "/missing/frame.ppm", data, error));
    assert_non_null(strstr(error.c_str(), "missing"));
    g_unlink(path.c_str());
    g_rmdir(dir);
    g_free(dir);
}

} // namespace

int main()
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ppm_of_every_format),
        cmocka_unit_test(test_pixel_layouts),
        cmocka_unit_test(test_atomic_write),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
