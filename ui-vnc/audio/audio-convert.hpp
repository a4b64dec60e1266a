// QEMU audio pseudo-encoding (-259): sample conversion from what the
// emulator plays (interleaved signed 16-bit, native endianness) to what a
// client asked for with the QEMU audio set-format message.
#pragma once

#include <cstdint>
#include <span>
#include <string>

namespace qvnc::audio {

// The client's sample formats (QEMU audio message op 2).
enum class SampleFormat : uint8_t { U8 = 0, S8 = 1, U16 = 2, S16 = 3, U32 = 4, S32 = 5 };

struct Format {
    SampleFormat sample = SampleFormat::S16;
    int channels = 2;
    int frequency = 44100;
    int bytes_per_frame() const;
};

// Validates a client's set-format request (QEMU's limits: format 0..5,
// 1 or 2 channels, 1..48000 Hz).
bool valid(uint8_t sample, uint8_t channels, uint32_t frequency);

// Converts `frames` frames of `in` (src_channels interleaved S16 at
// src_rate) into `out` in `dst` format (little-endian samples, as QEMU's
// clients expect).  Rate conversion is nearest-sample with a fractional
// position carried in `phase` between calls, so a stream stays continuous.
void convert(std::span<const int16_t> in, int src_channels, int src_rate, const Format &dst,
             double &phase, std::string &out);

} // namespace qvnc::audio
