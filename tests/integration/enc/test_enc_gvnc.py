#!/usr/bin/python3
"""gtk-vnc (GVnc 1.0 through python3-gi) decoding every lossless encoding it
has (Raw, Hextile, ZRLE, Tight; it has no Zlib decoder) in four client pixel
formats, for three frames (pattern, desktop-like, noise), plus the cursor
callback (rich and alpha cursor) and the LED state signal (enc-host sets
the LEDs).

Each connection is given the client ("remote") format through
vnc_connection_set_pixel_format and a local 32 bpp framebuffer: gtk-vnc
converts what it decodes into it, and the result is compared with the guest
frame at the client format's precision.

Must run with /usr/bin/python3 (gi).  Environment: QVNC_EMU, QVNC_ENC_HOST.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from enc_common import FORMATS, channel_bits, compare_at_precision, start_frames  # noqa: E402
from hardening_lib import host_command  # noqa: E402
from qvnc_testlib import Fail, Runner, check, env_path, start_server, tmpdir  # noqa: E402

try:
    import gi
    gi.require_version('GVnc', '1.0')
    from gi.repository import GVnc  # noqa: F401
except (ImportError, ValueError) as e:
    print('Bail out! GVnc 1.0 through python3-gi is not available to %s: %s' % (sys.executable, e))
    sys.exit(1)

from gvnc_session import Session  # noqa: E402

W, H = 192, 128
ENCODINGS = {'Raw': 0, 'Hextile': 5, 'ZRLE': 16, 'Tight': 7}
ENC_CURSOR, ENC_LED, ENC_ALPHA_CURSOR = -239, -261, -314

if os.environ.get('QVNC_GVNC_DEBUG'):
    GVnc.util_set_debug(True)

run = Runner('test_enc_gvnc')
tmp = tmpdir('qvnc-enc-gvnc-')
try:
    servers = start_frames(W, H, tmp)
except Fail as e:
    run.fatal('cannot start the frame servers: %s' % e)
for s in servers:
    run.at_exit(s.stop)


def t_decode(server, enc_name, fmt):
    def body():
        s = Session(server.port, fmt, [ENCODINGS[enc_name]], 'gvnc %s %s %s' % (enc_name, fmt, server.kind))
        try:
            s.pump(lambda: s.initialized or s.disconnected, 'vnc-initialized')
            check(s.initialized, '%s: not initialized (errors %r)' % (s.label, s.errors))
            got = s.frame()
            compare_at_precision(W, H, server.rgb, got, channel_bits(fmt), s.label)
            # gtk-vnc widens a narrow channel by shifting it left, so pixels
            # that really crossed the wire at the client format's precision
            # have their low bits clear: proof the server did not ignore
            # SetPixelFormat (a 32 bpp answer would pass the check above).
            for c, bits in enumerate(channel_bits(fmt)):
                low = bytes(v & ((1 << (8 - bits)) - 1) for v in range(256))
                stray = got[c::3].translate(low).count(0)
                check(stray == W * H, '%s: %d pixels have channel %d bits below the %d-bit precision set'
                      % (s.label, W * H - stray, c, bits))
        finally:
            s.close()
    return body


for server in servers:
    for enc_name in ENCODINGS:
        for fmt in FORMATS:
            run.case('GVnc %s, %s, %s frame' % (enc_name, fmt, server.kind), t_decode(server, enc_name, fmt))


ARROW = ["#          ", "##         ", "#o#        ", "#oo#       ", "#ooo#      ", "#oooo#     ",
         "#ooooo#    ", "#oooooo#   ", "#ooooooo#  ", "#oooooooo# ", "#ooooo#####", "#oo#oo#    ",
         "#o# #oo#   ", "##  #oo#   ", "#    #oo#  ", "     #oo#  ", "      ##   "]


def t_cursor(fmt, enc=-239):
    """The console guest's arrow (tools/qvnc-emu/cursor.cpp) in gtk-vnc's
    cursor callback (vnc-cursor-changed), sent as a rich cursor (-239, in
    the client format) or an alpha cursor (-314, RGBA): size, hotspot, and
    per pixel transparent / black / white."""
    def body():
        desktop = servers[1]
        s = Session(desktop.port, fmt, [0, enc], 'gvnc cursor %d %s' % (enc, fmt))
        try:
            s.pump(lambda: s.cursors or s.disconnected, 'vnc-cursor-changed')
            check(s.cursors and s.cursors[-1] is not None, '%s: no cursor (errors %r)' % (s.label, s.errors))
            w, h, hx, hy, data = s.cursors[-1]
            check((w, h, hx, hy) == (len(ARROW[0]), len(ARROW), 0, 0),
                  '%s: cursor %dx%d hot %d,%d, expected %dx%d hot 0,0' % (s.label, w, h, hx, hy, len(ARROW[0]),
                                                                          len(ARROW)))
            # The bytes are in the local format (x8r8g8b8 LE: B, G, R, A in
            # memory), converted from the client format: white is the
            # format's maximum in each channel.
            # The alpha cursor (-314) is RGBA at 8 bits whatever the format.
            bits = channel_bits(fmt) if enc == ENC_CURSOR else (8, 8, 8)
            white = tuple((1 << n) - 1 for n in bits)
            bad = []
            for y, row in enumerate(ARROW):
                for x, ch in enumerate(row):
                    b, g, r, a = data[4 * (y * w + x):4 * (y * w + x) + 4]
                    q = tuple(v >> (8 - n) for v, n in zip((r, g, b), bits))
                    want = {'#': (0, 0, 0), 'o': white}.get(ch)
                    ok = a == 0 if want is None else (a == 255 and q == want)
                    if not ok:
                        bad.append('(%d,%d) %r got %02x%02x%02x/%02x' % (x, y, ch, r, g, b, a))
            check(not bad, '%s: %d cursor pixels wrong: %s' % (s.label, len(bad), ', '.join(bad[:6])))
        finally:
            s.close()
    return body


def t_led():
    """A client listing -261 gets the LED state in gtk-vnc's vnc-led-state
    signal: the state at connection time (0), then each change the embedder
    makes with qvnc_display_set_led_state() (enc-host); a client that did
    not list it never does."""
    exe = env_path('QVNC_ENC_HOST')
    host, port = start_server(lambda d: [exe, '-vnc', '127.0.0.1:%d' % d], 'enc-host')
    s = s2 = None
    try:
        s = Session(port, '32bpp-le', [0, ENC_LED], 'gvnc LED')
        s2 = Session(port, '32bpp-le', [0], 'gvnc no LED')
        s.pump(lambda: s.leds or s.disconnected, 'vnc-led-state')
        check(s.leds == [0], '%s: LED states %r, expected [0] (no lock key on)' % (s.label, s.leds))
        s.frame()
        s2.frame()
        for leds in (4, 2 | 4, 1):
            check(host_command(host, 'led %d' % leds) == 'OK', 'enc-host refused led %d' % leds)
            for x in (s, s2):
                x.conn.framebuffer_update_request(True, 0, 0, x.width, x.height)
            s.pump(lambda: s.leds[-1] == leds or s.disconnected, 'vnc-led-state %d' % leds)
        check(s.leds == [0, 4, 6, 1], '%s: LED states %r, expected [0, 4, 6, 1]' % (s.label, s.leds))
        # s2 asked for updates as often as s did; had the server sent it an
        # LED rect, gtk-vnc would have emitted the signal before s's last.
        check(not s2.leds, '%s: LED state %r though -261 was not listed' % (s2.label, s2.leds))
    finally:
        for x in (s, s2):
            if x is not None:
                x.close()
        host.stop()


for fmt in ('32bpp-le', '16bpp-565', '8bpp-bgr233'):
    run.case('GVnc cursor callback: the arrow shape (rich cursor -239, %s)' % fmt, t_cursor(fmt))
for fmt in ('32bpp-le', '8bpp-bgr233'):
    run.case('GVnc cursor callback: the arrow shape (alpha cursor -314, %s)' % fmt,
             t_cursor(fmt, ENC_ALPHA_CURSOR))
run.case('GVnc vnc-led-state for a client that listed -261 (initial, then set by the embedder)', t_led)
run.finish()
