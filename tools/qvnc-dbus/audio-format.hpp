// QEMU's D-Bus audio streams (AudioOutListener.Init) describe their PCM
// format freely; the library takes interleaved native-endian S16.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace qvnc_dbus {

struct PcmFormat {
    int bits = 16;
    bool is_signed = true;
    bool is_float = false;
    int frequency = 44100;
    int channels = 2;
    int bytes_per_frame = 4;
    bool big_endian = false;
};

// Whether pcm_to_s16 converts this format: 8/16/32-bit integers or 32-bit
// float, mono or stereo (what the library takes), frames of exactly
// channels * bits / 8 bytes.
bool pcm_supported(const PcmFormat &format);

// Appends the whole frames of `in` to `out` as S16; a partial frame at the
// end is dropped (QEMU writes whole frames).
void pcm_to_s16(const PcmFormat &format, std::span<const uint8_t> in, std::vector<int16_t> &out);

} // namespace qvnc_dbus
