"""One gtk-vnc (GVnc 1.0) connection for the encoding tests: any client
("remote") pixel format, decoded into a local x8r8g8b8 LE framebuffer that
gtk-vnc converts into; the cursor and LED signals are recorded.  Import from
/usr/bin/python3 only.
"""

import ctypes

import gi
gi.require_version('GVnc', '1.0')
from gi.repository import GVnc  # noqa: E402

import gvnc_ctypes as gc  # noqa: E402
from enc_common import FORMATS  # noqa: E402
from qvnc_testlib import Fail, check  # noqa: E402

PUMP_TIMEOUT = 20.0
G_BIG_ENDIAN = 4321

gc.gvnc.vnc_cursor_get_data.restype = ctypes.c_void_p
gc.gvnc.vnc_cursor_get_data.argtypes = [ctypes.c_void_p]

keep_alive = []   # framebuffers gtk-vnc may still write to until the process ends


def remote_format(name):
    bpp, depth, be, rmax, gmax, bmax, rs, gs, bs = FORMATS[name]
    return gc.PixelFormat(bpp, depth, G_BIG_ENDIAN if be else gc.G_LITTLE_ENDIAN, 1,
                          rmax, gmax, bmax, rs, gs, bs)


class Session:
    """One gtk-vnc connection: remote format `fmt`, local x8r8g8b8 LE."""

    def __init__(self, port, fmt, encodings, label):
        self.label, self.fmt_name, self.encodings = label, fmt, list(encodings)
        self.initialized = self.disconnected = False
        self.errors, self.cursors, self.leds = [], [], []
        self.missing = None
        self.conn = GVnc.Connection.new()
        self.ptr = gc.connection_pointer(self.conn)
        self._cb_type = gc.ARRAY_HANDLER(lambda c, a, d: gc.gvnc.vnc_connection_set_auth_type(self.ptr, 1))
        gc.connect_signal(self.ptr, b'vnc-auth-choose-type', self._cb_type)
        self.conn.connect('vnc-initialized', self._on_initialized)
        self.conn.connect('vnc-error', lambda c, m: self.errors.append(m))
        self.conn.connect('vnc-disconnected', self._on_disconnected)
        self.conn.connect('vnc-framebuffer-update', self._on_update)
        self.conn.connect('vnc-cursor-changed', self._on_cursor)
        self.conn.connect('vnc-led-state', lambda c: self.leds.append(c.get_ledstate()))
        self.conn.set_shared(True)   # gtk-vnc asks for exclusive access by default
        check(self.conn.open_host('127.0.0.1', str(port)), '%s: open_host failed' % label)
        keep_alive.append(self)

    def _on_disconnected(self, conn):
        self.disconnected = True

    def _on_initialized(self, conn):
        self.initialized = True
        self.width, self.height = conn.get_width(), conn.get_height()
        local = gc.PixelFormat(32, 24, gc.G_LITTLE_ENDIAN, 1, 255, 255, 255, 16, 8, 0)
        remote = remote_format(self.fmt_name)
        gc.gvnc.vnc_connection_set_pixel_format(self.ptr, ctypes.byref(remote))
        self.buf = ctypes.create_string_buffer(self.width * self.height * 4)
        self.fb = gc.gvnc.vnc_base_framebuffer_new(ctypes.cast(self.buf, ctypes.c_void_p), self.width, self.height,
                                                   self.width * 4, ctypes.byref(local), ctypes.byref(remote))
        self.formats = (local, remote)
        gc.gvnc.vnc_connection_set_framebuffer(self.ptr, self.fb)
        gc.set_encodings(self.ptr, self.encodings)
        self.covered = bytearray(self.width * self.height)
        self.missing = self.width * self.height
        self.conn.framebuffer_update_request(False, 0, 0, self.width, self.height)

    def _on_update(self, conn, x, y, w, h):
        for row in range(y, min(y + h, self.height)):
            off = row * self.width + x
            seg = self.covered[off:off + w]
            self.missing -= len(seg) - seg.count(1)
            self.covered[off:off + w] = b'\x01' * len(seg)

    def _on_cursor(self, conn, cursor):
        if cursor is None:
            self.cursors.append(None)
            return
        w, h = cursor.get_width(), cursor.get_height()
        data = b''
        p = gc.gvnc.vnc_cursor_get_data(gc.connection_pointer(cursor))
        if p and w > 0 and h > 0:
            data = ctypes.string_at(p, w * h * 4)
        self.cursors.append((w, h, cursor.get_hotx(), cursor.get_hoty(), data))

    def pump(self, pred, what):
        gc.pump_until(pred, PUMP_TIMEOUT, '%s: %s' % (self.label, what))

    def frame(self):
        self.pump(lambda: self.missing == 0 or self.disconnected or self.errors,
                  'a full framebuffer (%s pixels missing)' % self.missing)
        check(self.missing == 0 and not self.errors,
              '%s: no full frame (errors %r, disconnected %s)' % (self.label, self.errors, self.disconnected))
        return gc.rgbx_to_rgb(self.buf)

    def close(self):
        if not self.disconnected:
            self.conn.shutdown()
            try:
                self.pump(lambda: self.disconnected, 'vnc-disconnected')
            except Fail:
                pass
