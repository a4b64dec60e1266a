#!/usr/bin/python3
"""CopyRect (1) with a scrolling guest, two ways, 8 scrolls of 8 rows each:
hardening-host's `copy` command blits the surface up and calls
qvnc_display_copy(); its `scroll` command moves the picture up, draws new
rows at the bottom and reports the whole surface as plain damage, so the
server must find the scroll itself (ui-vnc/display/scroll-detect.hpp).

For Raw, ZRLE and Tight, two decoding viewers (tests/integration/hardening/
rfbview.py) follow every scroll, one listing CopyRect and one not: both must
show the guest frame exactly after each scroll, and the bytes the CopyRect
viewer received for the scrolls must be a small fraction of the other's.
gtk-vnc (GVnc, CopyRect + ZRLE listed) follows the same scrolls and must
end pixel-exact too.

Must run with /usr/bin/python3 (gi).  Environment: QVNC_HARDENING_HOST.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from enc_common import compare_at_precision  # noqa: E402  (sets sys.path)
from hardening_lib import Fail, check, start_host, host_command, stop_checked  # noqa: E402
from qvnc_testlib import Runner, read_ppm, tmpdir  # noqa: E402
import rfbview  # noqa: E402
from gvnc_session import Session  # noqa: E402
import gvnc_ctypes as gc  # noqa: E402

W, H = 160, 120
LINE = 8
SCROLLS = 8
# Without CopyRect each scroll resends W x (H - LINE) pixels; with it, one
# 16-byte rectangle.  Allow a generous fraction for the compressed encodings.
MAX_RATIO = 0.10

run = Runner('test_enc_copyrect')
tmp = tmpdir('qvnc-enc-copyrect-')


def gvnc_rgb(s):
    return gc.rgbx_to_rgb(s.buf)


def t_scroll(command, limit):
    host, port = start_host('', size='%dx%d' % (W, H))
    viewers = {}
    g = None
    try:
        for enc in (rfbview.ENC_RAW, rfbview.ENC_ZRLE, rfbview.ENC_TIGHT):
            for cr in (True, False):
                viewers[(enc, cr)] = rfbview.Viewer(port, enc, [rfbview.FORMATS[0]], copyrect=cr,
                                                    label='%s %s CopyRect' % (rfbview.ENC_NAMES[enc],
                                                                             'with' if cr else 'without')).start()
        g = Session(port, '32bpp-le', [1, 16], 'gvnc CopyRect+ZRLE')
        dump = os.path.join(tmp, 'guest.ppm')

        def guest():
            check(host_command(host, 'dump ' + dump) == 'OK', 'dump failed')
            return read_ppm(dump)[2]

        def all_match(rgb, what):
            for v in viewers.values():
                diff = v.wait_match(W, H, rgb, 15)
                check(diff is None, '%s, %s: %s' % (v.label, what, diff))

        rgb = guest()
        all_match(rgb, 'first frame')
        g.frame()
        base = {k: v.bytes_in for k, v in viewers.items()}
        for i in range(SCROLLS):
            check(host_command(host, command) == 'OK', '%s refused' % command)
            rgb = guest()
            all_match(rgb, 'after scroll %d' % (i + 1))
            g.conn.framebuffer_update_request(True, 0, 0, W, H)
            try:
                gc.pump_until(lambda: gvnc_rgb(g) == rgb or g.disconnected or g.errors, 15,
                              'gtk-vnc to show scroll %d' % (i + 1))
            except Fail:
                pass
            compare_at_precision(W, H, rgb, gvnc_rgb(g), (8, 8, 8), '%s after scroll %d' % (g.label, i + 1))
        for enc in (rfbview.ENC_RAW, rfbview.ENC_ZRLE, rfbview.ENC_TIGHT):
            with_cr = viewers[(enc, True)].bytes_in - base[(enc, True)]
            without = viewers[(enc, False)].bytes_in - base[(enc, False)]
            print('# %s: %d scrolls: %d bytes with CopyRect, %d without (%.1f%%)'
                  % (rfbview.ENC_NAMES[enc], SCROLLS, with_cr, without, 100.0 * with_cr / max(without, 1)),
                  flush=True)
            check(without > 0 and with_cr <= limit(enc, without),
                  '%s: %d bytes with CopyRect vs %d without: more than the limit, %d'
                  % (rfbview.ENC_NAMES[enc], with_cr, without, limit(enc, without)))
    finally:
        for v in viewers.values():
            v.stop()
        if g is not None:
            g.close()
        stop_checked(host, 'hardening-host')


def reported_limit(enc, without):
    return MAX_RATIO * without


def redrawn_limit(enc, without):
    # The new rows are real content: Raw sends exactly them (plus the
    # message, CopyRect and rectangle headers), the compressed encodings
    # at most half of what resending the moved picture costs.
    if enc == rfbview.ENC_RAW:
        return SCROLLS * (W * LINE * 4 + 64)
    return without // 2


run.case('a guest reporting its scrolls: CopyRect saves the bytes, every viewer stays pixel-exact',
         lambda: t_scroll('copy 0 %d 0 0 %d %d' % (LINE, W, H - LINE), reported_limit))
run.case('a guest scrolling by redrawing: the server finds the scroll, CopyRect saves the bytes, '
         'every viewer stays pixel-exact', lambda: t_scroll('scroll %d' % LINE, redrawn_limit))
run.finish()
