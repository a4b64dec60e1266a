#include "listener.hpp"

namespace qvnc_dbus {
namespace {

constexpr const char *kListenerPath = "/org/qemu/Display1/Listener";
constexpr const char *kListenerInterface = "org.qemu.Display1.Listener";

// The part of org.qemu.Display1.Listener a non-GL listener implements
// (QEMU sends the DMABUF methods only with gl=on).  Interfaces is read by
// newer QEMUs to learn about optional listener interfaces: there are none.
constexpr const char *kListenerXml = R"(<node>
  <interface name="org.qemu.Display1.Listener">
    <method name="Scanout">
      <arg type="u" name="width" direction="in"/>
      <arg type="u" name="height" direction="in"/>
      <arg type="u" name="stride" direction="in"/>
      <arg type="u" name="pixman_format" direction="in"/>
      <arg type="ay" name="data" direction="in"/>
    </method>
    <method name="Update">
      <arg type="i" name="x" direction="in"/>
      <arg type="i" name="y" direction="in"/>
      <arg type="i" name="width" direction="in"/>
      <arg type="i" name="height" direction="in"/>
      <arg type="u" name="stride" direction="in"/>
      <arg type="u" name="pixman_format" direction="in"/>
      <arg type="ay" name="data" direction="in"/>
    </method>
    <method name="Disable"/>
    <method name="MouseSet">
      <arg type="i" name="x" direction="in"/>
      <arg type="i" name="y" direction="in"/>
      <arg type="i" name="on" direction="in"/>
    </method>
    <method name="CursorDefine">
      <arg type="i" name="width" direction="in"/>
      <arg type="i" name="height" direction="in"/>
      <arg type="i" name="hot_x" direction="in"/>
      <arg type="i" name="hot_y" direction="in"/>
      <arg type="ay" name="data" direction="in"/>
    </method>
    <property name="Interfaces" type="as" access="read"/>
  </interface>
</node>)";


} // namespace

std::unique_ptr<Listener> Listener::create(ListenerSink &sink, std::string &error)
{
    auto listener = std::make_unique<Listener>(Token{}, sink);
    Listener *self = listener.get();
    listener->object_ = PeerObject::create(
        kListenerXml, kListenerInterface, kListenerPath,
        [self](const char *method, GVariant *parameters) { self->dispatch(method, parameters); },
        [self](const std::string &why) { self->sink_.listener_closed(why); }, error);
    if (!listener->object_) {
        return nullptr;
    }
    return listener;
}

void Listener::dispatch(const char *method, GVariant *p)
{
    const std::string_view name(method);
    if (name == "Scanout") {
        guint32 w = 0, h = 0, stride = 0, format = 0;
        GVariant *data = nullptr;
        g_variant_get(p, "(uuuu@ay)", &w, &h, &stride, &format, &data);
        GVariantPtr owned(data);
        sink_.scanout(w, h, stride, format, variant_bytes(data));
    } else if (name == "Update") {
        gint32 x = 0, y = 0, w = 0, h = 0;
        guint32 stride = 0, format = 0;
        GVariant *data = nullptr;
        g_variant_get(p, "(iiiiuu@ay)", &x, &y, &w, &h, &stride, &format, &data);
        GVariantPtr owned(data);
        sink_.update(x, y, w, h, stride, format, variant_bytes(data));
    } else if (name == "CursorDefine") {
        gint32 w = 0, h = 0, hx = 0, hy = 0;
        GVariant *data = nullptr;
        g_variant_get(p, "(iiii@ay)", &w, &h, &hx, &hy, &data);
        GVariantPtr owned(data);
        sink_.cursor_define(w, h, hx, hy, variant_bytes(data));
    } else if (name == "MouseSet") {
        gint32 x = 0, y = 0, on = 0;
        g_variant_get(p, "(iii)", &x, &y, &on);
        sink_.mouse_set(x, y, on != 0);
    } else if (name == "Disable") {
        sink_.disable();
    }
}

} // namespace qvnc_dbus
