"""The ctypes half of driving gtk-vnc (GVnc 1.0) from Python.

pygobject cannot marshal the GValueArray arguments of gtk-vnc's auth signals
nor hand over a framebuffer that gtk-vnc keeps a pointer to
(real-clients.md), so those calls go through ctypes on the same libgvnc the
typelib loaded.  One place declares the signatures; test_gvnc.py,
gvnc_client.py and tls/test_tls_gvnc.py use it.  Import only from
/usr/bin/python3 after `gi.require_version('GVnc', '1.0')`.
"""

import ctypes

gvnc = ctypes.CDLL('libgvnc-1.0.so.0')
gobject = ctypes.CDLL('libgobject-2.0.so.0')
ctypes.pythonapi.PyCapsule_GetPointer.restype = ctypes.c_void_p
ctypes.pythonapi.PyCapsule_GetPointer.argtypes = [ctypes.py_object, ctypes.c_char_p]

G_LITTLE_ENDIAN = 1234
CRED_PASSWORD, CRED_USERNAME, CRED_CLIENTNAME = 0, 1, 2


class PixelFormat(ctypes.Structure):
    """gtk-vnc's VncPixelFormat."""
    _fields_ = [('bits_per_pixel', ctypes.c_uint8), ('depth', ctypes.c_uint8),
                ('byte_order', ctypes.c_uint16), ('true_color_flag', ctypes.c_uint8),
                ('red_max', ctypes.c_uint16), ('green_max', ctypes.c_uint16),
                ('blue_max', ctypes.c_uint16), ('red_shift', ctypes.c_uint8),
                ('green_shift', ctypes.c_uint8), ('blue_shift', ctypes.c_uint8)]


gvnc.vnc_base_framebuffer_new.restype = ctypes.c_void_p
gvnc.vnc_base_framebuffer_new.argtypes = [ctypes.c_void_p, ctypes.c_uint16, ctypes.c_uint16, ctypes.c_int,
                                          ctypes.POINTER(PixelFormat), ctypes.POINTER(PixelFormat)]
gvnc.vnc_connection_set_framebuffer.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
gvnc.vnc_connection_set_pixel_format.argtypes = [ctypes.c_void_p, ctypes.POINTER(PixelFormat)]
gvnc.vnc_connection_set_encodings.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.POINTER(ctypes.c_int32)]
gvnc.vnc_connection_set_auth_type.argtypes = [ctypes.c_void_p, ctypes.c_uint]
gvnc.vnc_connection_set_auth_subtype.argtypes = [ctypes.c_void_p, ctypes.c_uint]
gvnc.vnc_connection_set_credential.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_char_p]
gobject.g_signal_connect_data.restype = ctypes.c_ulong
gobject.g_signal_connect_data.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p, ctypes.c_void_p,
                                          ctypes.c_void_p, ctypes.c_int]
gobject.g_object_unref.argtypes = [ctypes.c_void_p]
gobject.g_value_array_get_nth.restype = ctypes.c_void_p
gobject.g_value_array_get_nth.argtypes = [ctypes.c_void_p, ctypes.c_uint]
gobject.g_value_get_enum.restype = ctypes.c_int
gobject.g_value_get_enum.argtypes = [ctypes.c_void_p]

# void handler(VncConnection *conn, GValueArray *array, gpointer user_data)
ARRAY_HANDLER = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p)
# void handler(VncConnection *conn, guint type, GValueArray *array, gpointer user_data)
SUBTYPE_HANDLER = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p)


def gvalue_array_enums(array):
    """The int/enum payloads of a GValueArray (gtk-vnc's auth lists)."""
    n = ctypes.c_uint.from_address(array).value   # GValueArray.n_values
    return [gobject.g_value_get_enum(gobject.g_value_array_get_nth(array, i)) for i in range(n)]


def connection_pointer(conn):
    """The VncConnection * behind a GVnc.Connection."""
    return ctypes.pythonapi.PyCapsule_GetPointer(conn.__gpointer__, None)


def connect_signal(ptr, name, callback):
    """g_signal_connect on the raw object; the caller keeps `callback` alive."""
    return gobject.g_signal_connect_data(ptr, name, ctypes.cast(callback, ctypes.c_void_p), None, None, 0)


def rgbx_framebuffer(conn_ptr, width, height):
    """Gives the connection a 32 bpp little-endian RGBX framebuffer (the
    server's format equals it, so the bytes are what was sent).  Returns
    (buffer, framebuffer object, format); keep all three alive."""
    fmt = PixelFormat(32, 24, G_LITTLE_ENDIAN, 1, 255, 255, 255, 16, 8, 0)
    gvnc.vnc_connection_set_pixel_format(conn_ptr, ctypes.byref(fmt))
    buf = ctypes.create_string_buffer(width * height * 4)
    fb = gvnc.vnc_base_framebuffer_new(ctypes.cast(buf, ctypes.c_void_p), width, height, width * 4,
                                       ctypes.byref(fmt), ctypes.byref(fmt))
    gvnc.vnc_connection_set_framebuffer(conn_ptr, fb)
    return buf, fb, fmt


def set_encodings(conn_ptr, encodings):
    encs = (ctypes.c_int32 * len(encodings))(*encodings)
    gvnc.vnc_connection_set_encodings(conn_ptr, len(encodings), encs)


_ticker = []


def pump_until(pred, timeout, what='condition'):
    """Iterates the default GLib main context until pred() holds; raises
    qvnc_testlib.Fail after `timeout` seconds."""
    import time
    from gi.repository import GLib
    from qvnc_testlib import Fail
    if not _ticker:
        _ticker.append(GLib.timeout_add(50, lambda: True))   # wakes iteration() to re-check the time
    ctx = GLib.MainContext.default()
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            raise Fail('timed out after %.0fs waiting for %s' % (timeout, what))
        ctx.iteration(True)


def rgbx_to_rgb(buf):
    """The RGB bytes of a framebuffer made by rgbx_framebuffer()."""
    raw = buf.raw
    rgb = bytearray(len(raw) // 4 * 3)
    rgb[0::3] = raw[2::4]
    rgb[1::3] = raw[1::4]
    rgb[2::3] = raw[0::4]
    return bytes(rgb)
