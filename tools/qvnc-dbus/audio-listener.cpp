#include "audio-listener.hpp"

#include <string_view>

namespace qvnc_dbus {
namespace {

constexpr const char *kAudioPath = "/org/qemu/Display1/AudioOutListener";
constexpr const char *kAudioInterface = "org.qemu.Display1.AudioOutListener";

constexpr const char *kAudioXml = R"(<node>
  <interface name="org.qemu.Display1.AudioOutListener">
    <method name="Init">
      <arg name="id" type="t" direction="in"/>
      <arg name="bits" type="y" direction="in"/>
      <arg name="is_signed" type="b" direction="in"/>
      <arg name="is_float" type="b" direction="in"/>
      <arg name="freq" type="u" direction="in"/>
      <arg name="nchannels" type="y" direction="in"/>
      <arg name="bytes_per_frame" type="u" direction="in"/>
      <arg name="bytes_per_second" type="u" direction="in"/>
      <arg name="be" type="b" direction="in"/>
    </method>
    <method name="Fini">
      <arg name="id" type="t" direction="in"/>
    </method>
    <method name="SetEnabled">
      <arg name="id" type="t" direction="in"/>
      <arg name="enabled" type="b" direction="in"/>
    </method>
    <method name="SetVolume">
      <arg name="id" type="t" direction="in"/>
      <arg name="mute" type="b" direction="in"/>
      <arg name="volume" type="ay" direction="in"/>
    </method>
    <method name="Write">
      <arg name="id" type="t" direction="in"/>
      <arg name="data" type="ay" direction="in"/>
    </method>
    <property name="Interfaces" type="as" access="read"/>
  </interface>
</node>)";

} // namespace

std::unique_ptr<AudioListener> AudioListener::create(AudioSink &sink, std::string &error)
{
    auto listener = std::make_unique<AudioListener>(Token{}, sink);
    AudioListener *self = listener.get();
    // A closed audio connection only means silence: nothing to tear down
    // until the console detaches.
    listener->object_ = PeerObject::create(
        kAudioXml, kAudioInterface, kAudioPath,
        [self](const char *method, GVariant *parameters) { self->dispatch(method, parameters); },
        [](const std::string &) {}, error);
    if (!listener->object_) {
        return nullptr;
    }
    return listener;
}

void AudioListener::dispatch(const char *method, GVariant *p)
{
    const std::string_view name(method);
    guint64 id = 0;
    if (name == "Init") {
        guint8 bits = 0, channels = 0;
        gboolean is_signed = FALSE, is_float = FALSE, be = FALSE;
        guint32 freq = 0, bytes_per_frame = 0, bytes_per_second = 0;
        g_variant_get(p, "(tybbuyuub)", &id, &bits, &is_signed, &is_float, &freq, &channels, &bytes_per_frame,
                      &bytes_per_second, &be);
        PcmFormat f;
        f.bits = bits;
        f.is_signed = is_signed != FALSE;
        f.is_float = is_float != FALSE;
        f.frequency = static_cast<int>(freq);
        f.channels = channels;
        f.bytes_per_frame = static_cast<int>(bytes_per_frame);
        f.big_endian = be != FALSE;
        sink_.audio_init(id, f);
    } else if (name == "Fini") {
        g_variant_get(p, "(t)", &id);
        sink_.audio_fini(id);
    } else if (name == "SetEnabled") {
        gboolean enabled = FALSE;
        g_variant_get(p, "(tb)", &id, &enabled);
        sink_.audio_enabled(id, enabled != FALSE);
    } else if (name == "Write") {
        GVariant *data = nullptr;
        g_variant_get(p, "(t@ay)", &id, &data);
        GVariantPtr owned(data);
        sink_.audio_write(id, variant_bytes(data));
    }
    // SetVolume: the VNC audio encoding has no volume; clients have their own.
}

} // namespace qvnc_dbus
