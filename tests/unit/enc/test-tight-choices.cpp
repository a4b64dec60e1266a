// Tight's cost choices (issue 8), each decoded by libvncclient:
//  - pieces are cut on whole 16-row MCU rows, so a JPEG piece has no
//    padding rows (TightEncoder::piece_height);
//  - small gradient pieces are deflated with matching, so the same pixels
//    sent again (a cursor back over the same background) cost a fraction
//    of the first time; Z_RLE, used for big ones, cannot reach them;
//  - JPEG at a quality level is QEMU's: its quality table and 4:2:0.
#include <csignal>
#include <csetjmp>
#include <memory>

#include <jpeglib.h>

#include "byte-buffer.hpp"
#include "enc-test-common.hpp"
#include "encoder.hpp"
#include "tight.hpp"
#include "vncclient-harness.hpp"

#include "cmocka.hpp"

using namespace qvnc;
using namespace qvnc::vnc;
using namespace enctest;

namespace {

// One libvncclient and one Tight encoder over a w x h photo.
struct Session {
    int w, h;
    PixelFormat pf = PixelFormat::server_default();
    Conn conn;
    TightEncoder enc;
    Image im;
    bool connected = false;
    std::vector<uint8_t> last; // the last update's rectangles

    Session(int width, int height)
        : w(width), h(height), im{width, height, std::vector<uint32_t>(static_cast<size_t>(width) * height, 0)}
    {
        paint(im, Content::Photo, 7);
    }

    // Encodes r (quality level -1: lossless) and has libvncclient decode it;
    // returns the bytes, 0 on a failure.
    size_t update(const Rect &r, int quality, size_t *pieces = nullptr)
    {
        if (!connected && !(connected = connect_client(conn, w, h, pf))) {
            fail_msg("libvncclient did not take the ServerInit");
        }
        const Surface surf = make_surface(im, PIXMAN_x8r8g8b8);
        ServerFramebuffer fb;
        fb.reset(surf.view(im));
        auto conv = PixelConverter::make(fb.format(), pf);
        assert_true(conv.ok());
        EncodeContext ctx{fb, pf, conv.value()};
        ctx.lossy = quality >= 0;
        ctx.quality_level = quality;
        io::ByteBuffer out;
        const size_t n = enc.encode(r, ctx, out);
        if (pieces) *pieces = n;
        last.assign(out.data().begin(), out.data().end());
        if (!deliver(conn, update_message(out, n))) {
            fail_msg("libvncclient rejected the update");
        }
        if (quality < 0) {
            const std::vector<uint8_t> want = expected_pixels(fb, conv.value());
            const std::string diff = compare(conn.cl->frameBuffer, want.data(), w, h, pf);
            if (!diff.empty()) fail_msg("decoded pixels differ: %s", diff.c_str());
        }
        return out.size();
    }
};

void test_piece_rows(void **)
{
    for (const int w : {1920, 2048, 2100, 1000, 333, 100}) {
        const int pw = std::min(w, TightEncoder::kMaxWidth);
        const int ph = TightEncoder::piece_height(pw);
        if (ph % 16 != 0 || ph * pw > TightEncoder::kMaxArea || (ph + 16) * pw <= TightEncoder::kMaxArea) {
            fail_msg("width %d: pieces of %d rows", w, ph);
        }
        Session s(w, 200);
        const Rect r{0, 0, w, 200};
        size_t n = 0;
        s.update(r, 6, &n);
        const size_t want = static_cast<size_t>((w + pw - 1) / pw) * static_cast<size_t>((200 + ph - 1) / ph);
        if (n != want || s.enc.max_rects(r) != want) {
            fail_msg("width %d: %zu pieces, want %zu (max_rects %zu)", w, n, want, s.enc.max_rects(r));
        }
    }
}

void test_small_gradient_matches_history(void **)
{
    Session s(320, 200);
    // The whole photo first (the viewer's frame is compared whole); its
    // rows 30..55 are far out of the 32 KB window by its end.
    s.update(Rect{0, 0, 320, 200}, -1);
    // 16x26, a cursor's column: photo-like, so the gradient filter.
    const Rect small{40, 30, 16, 26};
    const size_t first = s.update(small, -1);
    const size_t again = s.update(small, -1);
    print_message("# 16x26 gradient piece: %zu bytes, the same again %zu\n", first, again);
    if (again * 2 > first) {
        fail_msg("the same small gradient piece again took %zu bytes, the first %zu", again, first);
    }
}

struct JpegErr {
    jpeg_error_mgr mgr;
    std::jmp_buf jump;
};

extern "C" void choices_jpeg_exit(j_common_ptr c)
{
    std::longjmp(reinterpret_cast<JpegErr *>(c->err)->jump, 1);
}

// The sampling factors of the first component and the luma DC quantiser of
// the JPEG that starts at d; false if libjpeg cannot read its header.
bool jpeg_header(const uint8_t *d, size_t n, int &hf, int &vf, int &dc_quant)
{
    jpeg_decompress_struct ci;
    JpegErr err;
    ci.err = jpeg_std_error(&err.mgr);
    err.mgr.error_exit = choices_jpeg_exit;
    if (setjmp(err.jump)) {
        jpeg_destroy_decompress(&ci);
        return false;
    }
    jpeg_create_decompress(&ci);
    jpeg_mem_src(&ci, d, static_cast<unsigned long>(n));
    jpeg_read_header(&ci, TRUE);
    hf = ci.comp_info[0].h_samp_factor;
    vf = ci.comp_info[0].v_samp_factor;
    dc_quant = ci.quant_tbl_ptrs[0] ? ci.quant_tbl_ptrs[0]->quantval[0] : -1;
    jpeg_destroy_decompress(&ci);
    return true;
}

void test_jpeg_matches_qemu(void **)
{
    // QEMU's tight_conf jpeg_quality column, quality level 0..9; libjpeg's
    // defaults (4:2:0).
    static constexpr int kQemu[10] = {5, 10, 15, 25, 37, 50, 60, 70, 75, 80};
    Session s(256, 64);
    for (int level = 0; level < 10; level++) {
        s.update(Rect{0, 0, 256, 64}, level);
        const auto &b = s.last;
        size_t at = 0;
        while (at + 3 <= b.size() && !(b[at] == 0xff && b[at + 1] == 0xd8 && b[at + 2] == 0xff)) at++;
        int hf = 0, vf = 0, dc = 0;
        if (at + 3 > b.size() || !jpeg_header(b.data() + at, b.size() - at, hf, vf, dc)) {
            fail_msg("quality level %d: no JPEG in the update", level);
        }
        // jpeg_set_quality's luma DC entry: the standard table's 16 scaled.
        const int want = std::clamp((16 * jpeg_quality_scaling(kQemu[level]) + 50) / 100, 1, 255);
        if (hf != 2 || vf != 2 || dc != want) {
            fail_msg("quality level %d: sampling %dx%d, DC quantiser %d; QEMU's: 2x2, %d (quality %d)", level, hf,
                     vf, dc, want, kQemu[level]);
        }
    }
}

} // namespace

int main()
{
    signal(SIGPIPE, SIG_IGN);
    rfbEnableClientLogging = FALSE;
    const CMUnitTest tests[] = {
        cmocka_unit_test(test_piece_rows),
        cmocka_unit_test(test_small_gradient_matches_history),
        cmocka_unit_test(test_jpeg_matches_qemu),
    };
    return cmocka_run_group_tests_name("tight-choices", tests, nullptr, nullptr);
}
