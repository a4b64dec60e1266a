// The post-authentication client stream through a whole Connection: a
// socketpair client is added with skipauth, completes the handshake, then
// sends the fuzz bytes as RFB client messages.  Updates are really encoded
// (every encoder, every client pixel format the bytes ask for) and drained.
//
// Input layout:
//   byte 0: bits 0-1 RFB version (3.3, 3.7, 3.8, 3.8), bits 2-4 surface
//           format, bit 5 shared flag, bits 6-7 surface size
//   byte 1: where the message stream is split; between the halves the
//           host acts (see `host_actions`) as an emulator would
//   byte 2: host action bits
//   rest:   client messages
#include <cstddef>
#include <cstdint>

#include "fuzz-host.hpp"

namespace {

fuzzhost::Host *g_host;
qvnc_display *g_disp;

const uint32_t kFormats[8] = {QVNC_FORMAT_X8R8G8B8, QVNC_FORMAT_A8R8G8B8, QVNC_FORMAT_R5G6B5,
                              QVNC_FORMAT_B8G8R8X8, QVNC_FORMAT_X8B8G8R8, QVNC_FORMAT_X1R5G5B5,
                              QVNC_FORMAT_A8B8G8R8, QVNC_FORMAT_B8G8R8A8};
const int kSizes[4][2] = {{64, 48}, {1, 1}, {97, 31}, {300, 20}};

void host_actions(uint8_t bits, uint8_t seed)
{
    qvnc_display *d = g_disp;
    const int w = g_host->w, h = g_host->h;
    if (bits & 1) {
        // Resize (and maybe change format) while the client is connected.
        g_host->set_surface(d, 1 + seed % 130, 1 + (seed * 7) % 90, kFormats[seed % 8], seed);
    }
    if (bits & 2) {
        qvnc_display_copy(d, 0, 0, seed % 8, seed % 5, g_host->w / 2, g_host->h / 2, nullptr);
        // Also a few that must be refused (CVE-2016-9603).
        qvnc_display_copy(d, -1, 0, 0, 0, 4, 4, nullptr);
        qvnc_display_copy(d, 0, 0, w, h, 4, 4, nullptr);
        qvnc_display_copy(d, 0, 0, 0, 0, 1 << 30, 1 << 30, nullptr);
    }
    if (bits & 4) {
        for (auto &p : g_host->pixels) p ^= 0x00ff00ffu;
        qvnc_display_update(d, seed % 16, seed % 9, g_host->w, g_host->h);
        qvnc_display_update(d, -5, -5, 1 << 30, 3);
    }
    if (bits & 8) {
        uint32_t argb[16 * 16];
        for (int i = 0; i < 256; i++) argb[i] = static_cast<uint32_t>(i * seed) | (i & 1 ? 0xff000000u : 0);
        qvnc_display_set_cursor(d, 1 + seed % 16, 1 + seed % 16, seed % 3, seed % 5, argb, nullptr);
        qvnc_display_mouse_set(d, seed, seed / 2, seed & 1);
    }
    if (bits & 16) {
        static const char text[] = "fuzz clip\nline two \xc3\xa9";
        qvnc_display_set_clipboard(d, text, (seed % sizeof text));
    }
    if (bits & 32) {
        qvnc_display_bell(d);
        qvnc_display_set_led_state(d, seed & 7);
    }
    if (bits & 64) {
        qvnc_display_set_pointer_absolute(d, seed & 1);
    }
    if (bits & 128) {
        qvnc_display_switch_surface(d, nullptr, nullptr); // no surface
    }
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int *, char ***)
{
    g_host = new fuzzhost::Host();
    g_disp = g_host->open("none,share=ignore,power-control=on,connections=4");
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3) return 0;
    const uint8_t cfg = data[0], split = data[1], actions = data[2];
    data += 3;
    size -= 3;
    g_host->set_surface(g_disp, kSizes[cfg >> 6][0], kSizes[cfg >> 6][1], kFormats[(cfg >> 2) & 7], cfg);
    std::string prefix;
    const char shared = (cfg & 0x20) ? 1 : 0;
    switch (cfg & 3) {
    case 0: prefix = std::string("RFB 003.003\n") + shared; break;        // type 1 implied
    case 1: prefix = std::string("RFB 003.007\n\x01", 13) + shared; break; // choose None
    default: prefix = std::string("RFB 003.008\n\x01", 13) + shared; break;
    }
    g_host->run_client(g_disp, true, prefix, data, size, split, [&] { host_actions(actions, split); });
    return 0;
}
