#include "audio-convert.hpp"

#include <algorithm>

namespace qvnc::audio {

int Format::bytes_per_frame() const
{
    int bytes = 1;
    switch (sample) {
    case SampleFormat::U8:
    case SampleFormat::S8:
        bytes = 1;
        break;
    case SampleFormat::U16:
    case SampleFormat::S16:
        bytes = 2;
        break;
    case SampleFormat::U32:
    case SampleFormat::S32:
        bytes = 4;
        break;
    }
    return bytes * channels;
}

bool valid(uint8_t sample, uint8_t channels, uint32_t frequency)
{
    return sample <= 5 && (channels == 1 || channels == 2) && frequency >= 1 && frequency <= 48000;
}

namespace {

void put(std::string &out, SampleFormat f, int16_t v)
{
    switch (f) {
    case SampleFormat::U8:
        out.push_back(static_cast<char>((v >> 8) + 128));
        break;
    case SampleFormat::S8:
        out.push_back(static_cast<char>(v >> 8));
        break;
    case SampleFormat::U16: {
        uint16_t u = static_cast<uint16_t>(v + 32768);
        out.push_back(static_cast<char>(u));
        out.push_back(static_cast<char>(u >> 8));
        break;
    }
    case SampleFormat::S16: {
        uint16_t u = static_cast<uint16_t>(v);
        out.push_back(static_cast<char>(u));
        out.push_back(static_cast<char>(u >> 8));
        break;
    }
    case SampleFormat::U32:
    case SampleFormat::S32: {
        uint32_t u = static_cast<uint32_t>(static_cast<int32_t>(v) << 16);
        if (f == SampleFormat::U32) {
            u += 0x80000000u;
        }
        for (int s = 0; s < 32; s += 8) {
            out.push_back(static_cast<char>(u >> s));
        }
        break;
    }
    }
}

} // namespace

void convert(std::span<const int16_t> in, int src_channels, int src_rate, const Format &dst,
             double &phase, std::string &out)
{
    if (src_channels < 1 || src_rate < 1) {
        return;
    }
    const size_t frames = in.size() / static_cast<size_t>(src_channels);
    const double step = static_cast<double>(src_rate) / dst.frequency;
    while (phase < static_cast<double>(frames)) {
        size_t i = static_cast<size_t>(phase);
        const int16_t *f = &in[i * static_cast<size_t>(src_channels)];
        int16_t l = f[0];
        int16_t r = src_channels > 1 ? f[1] : f[0];
        if (dst.channels == 1) {
            put(out, dst.sample, static_cast<int16_t>((static_cast<int>(l) + r) / 2));
        } else {
            put(out, dst.sample, l);
            put(out, dst.sample, r);
        }
        phase += step;
    }
    phase -= static_cast<double>(frames);
}

} // namespace qvnc::audio
