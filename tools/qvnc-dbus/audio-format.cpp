#include "audio-format.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace qvnc_dbus {
namespace {

// One sample of `bytes` bytes in the stream's byte order, as an unsigned
// integer (byte by byte: no alignment or host-order assumptions).
uint32_t read_uint(const uint8_t *p, int bytes, bool big_endian)
{
    uint32_t v = 0;
    for (int i = 0; i < bytes; ++i) {
        const int shift = big_endian ? 8 * (bytes - 1 - i) : 8 * i;
        v |= static_cast<uint32_t>(p[i]) << shift;
    }
    return v;
}

int16_t to_s16(const PcmFormat &f, const uint8_t *p)
{
    const int bytes = f.bits / 8;
    const uint32_t raw = read_uint(p, bytes, f.big_endian);
    if (f.is_float) {
        float value = 0;
        std::memcpy(&value, &raw, sizeof value);
        if (!std::isfinite(value)) {
            return 0;
        }
        return static_cast<int16_t>(std::lround(std::clamp(value, -1.0f, 1.0f) * 32767.0f));
    }
    // Keep the 16 most significant bits; unsigned formats are offset by
    // half their range.
    const uint32_t top = bytes >= 2 ? raw >> (f.bits - 16) : raw << 8;
    const uint32_t s = f.is_signed ? top : top ^ 0x8000u;
    return static_cast<int16_t>(static_cast<uint16_t>(s & 0xffffu));
}

} // namespace

bool pcm_supported(const PcmFormat &f)
{
    const bool integer = !f.is_float && (f.bits == 8 || f.bits == 16 || f.bits == 32);
    const bool floating = f.is_float && f.bits == 32;
    return (integer || floating) && f.channels >= 1 && f.channels <= 2 && f.frequency > 0 &&
           f.bytes_per_frame == f.channels * f.bits / 8;
}

void pcm_to_s16(const PcmFormat &f, std::span<const uint8_t> in, std::vector<int16_t> &out)
{
    const size_t frames = in.size() / static_cast<size_t>(f.bytes_per_frame);
    const size_t sample_bytes = static_cast<size_t>(f.bits / 8);
    out.reserve(out.size() + frames * static_cast<size_t>(f.channels));
    for (size_t i = 0; i < frames * static_cast<size_t>(f.channels); ++i) {
        out.push_back(to_s16(f, in.data() + i * sample_bytes));
    }
}

} // namespace qvnc_dbus
