// The QEMU audio pseudo-encoding (-259): the client enables a stream and
// picks a format; the guest's samples follow as QEMU audio data messages,
// dropped (never queued without bound) while the client is behind.
#include "byte-writer.hpp"
#include "connection.hpp"
#include "protocol.hpp"
#include "server.hpp"

namespace qvnc::vnc {

namespace {
enum : uint16_t { kAudioEnd = 0, kAudioBegin = 1, kAudioData = 2 };

void audio_header(io::ByteWriter &w, uint16_t op)
{
    w.u8(static_cast<uint8_t>(rfb::ServerMsg::Qemu)).u8(1).u16(op);
}
} // namespace

void Connection::on_qemu_audio(const rfb::QemuAudioMsg &m)
{
    if (!caps_.audio || !server_.audio_available()) {
        close(strprintf("protocol error: Audio message %u with audio disabled", m.op));
        return;
    }
    io::ByteBuffer b;
    io::ByteWriter w(b);
    switch (m.op) {
    case 0:
        audio_enabled_ = true;
        audio_phase_ = 0;
        audio_header(w, kAudioBegin);
        break;
    case 1:
        audio_enabled_ = false;
        audio_header(w, kAudioEnd);
        break;
    case 2:
        if (!audio::valid(m.format, m.channels, m.frequency)) {
            close(strprintf("protocol error: invalid audio format %u/%u/%u", m.format, m.channels,
                            m.frequency));
            return;
        }
        audio_format_.sample = static_cast<audio::SampleFormat>(m.format);
        audio_format_.channels = m.channels;
        audio_format_.frequency = static_cast<int>(m.frequency);
        audio_phase_ = 0;
        return;
    default:
        close(strprintf("protocol error: invalid audio message %u", m.op));
        return;
    }
    queue(b.data());
}

void Connection::audio_samples(std::span<const int16_t> samples, int channels, int frequency)
{
    if (phase_ != Phase::Normal || !audio_enabled_) {
        return;
    }
    if (output_backlog() > throttle_limit()) {
        return; // QEMU drops audio for a client that is behind
    }
    std::string data;
    audio::convert(samples, channels, frequency, audio_format_, audio_phase_, data);
    if (data.empty()) {
        return;
    }
    io::ByteBuffer b;
    io::ByteWriter w(b);
    audio_header(w, kAudioData);
    w.u32(static_cast<uint32_t>(data.size())).text(data);
    queue(b.data());
}

} // namespace qvnc::vnc
