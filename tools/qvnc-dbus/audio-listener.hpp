// Our end of an audio playback listener: the org.qemu.Display1.
// AudioOutListener object on /org/qemu/Display1/AudioOutListener, over the
// private connection Audio.RegisterOutListener sets up (see PeerObject).
// QEMU offers /org/qemu/Display1/Audio with -audiodev dbus,id=ID and
// -display dbus,audiodev=ID.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "audio-format.hpp"
#include "peer-object.hpp"

namespace qvnc_dbus {

class AudioSink {
public:
    virtual ~AudioSink() = default;
    virtual void audio_init(uint64_t stream, const PcmFormat &format) = 0;
    virtual void audio_fini(uint64_t stream) = 0;
    virtual void audio_enabled(uint64_t stream, bool enabled) = 0;
    virtual void audio_write(uint64_t stream, std::span<const uint8_t> pcm) = 0;
};

class AudioListener {
    struct Token {
        explicit Token() = default;
    };

public:
    static std::unique_ptr<AudioListener> create(AudioSink &sink, std::string &error);
    AudioListener(Token, AudioSink &sink) : sink_(sink) {}

    AudioListener(const AudioListener &) = delete;
    AudioListener &operator=(const AudioListener &) = delete;

    int take_qemu_fd() { return object_->take_qemu_fd(); }

private:
    void dispatch(const char *method, GVariant *parameters);

    AudioSink &sink_;
    std::unique_ptr<PeerObject> object_;
};

} // namespace qvnc_dbus
