#!/usr/bin/python3
"""TigerVNC's xtigervncviewer under Xvfb decoding Raw, Hextile, ZRLE and
Tight (-NoJPEG, -AutoSelect=0) in full colour and in its 8 bpp low-colour
format (-FullColor=0 -LowColorLevel=2, 3/3/2 bits), for the pattern, the
desktop-like and the noise frame: a screenshot of each viewer window equals
the guest frame at the format's precision.  Also Hextile on noise that
changes every frame, where runs of raw tiles go as Raw rectangles from the
second update on: the window equals the frame the guest stopped at.  Also the clipboard from the
viewer to the guest (guest -> viewer is not possible with qvnc-emu: its
guests never set a clipboard).

The eight viewers of one frame run at once, each placed with -geometry on a
grid of the Xvfb screen (no window manager, so they stay where they are put),
and screenshots are polled until every window shows its frame (FLTK gives no
event for "drawn").

Environment: QVNC_EMU, QVNC_ENC_HOST.  Needs Xvfb, xtigervncviewer, ImageMagick's
`import`, xdotool; exits 77 (skip) when one is missing; the clipboard case
also needs xclip.
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from enc_common import compare_at_precision, quantize, start_frames, write_noise_frames_vfr  # noqa: E402
from hardening_lib import host_command  # noqa: E402
from qvnc_testlib import (Fail, Runner, check, env_path, frame_dump, read_ppm, start_emu, start_server,  # noqa: E402
                          tmpdir)
from sniff import EncodingSniffer  # noqa: E402
from xvfb import Xvfb, die_with_parent  # noqa: E402

TOOLS = {'Xvfb': 'xvfb', 'xtigervncviewer': 'tigervnc-viewer', 'import': 'imagemagick', 'xdotool': 'xdotool'}
missing = ['%s (package %s)' % (t, p) for t, p in TOOLS.items() if not shutil.which(t)]
if missing:
    print('SKIP: not installed: %s; run .ci/deps.sh' % ', '.join(missing))
    sys.exit(77)

W, H = 192, 128
CELL_W, CELL_H = 280, 200     # room for the window's own size and placement slack
SCREEN_W, SCREEN_H = 4 * CELL_W, 2 * CELL_H
ENCODINGS = ['Raw', 'Hextile', 'ZRLE', 'Tight']
EXT_CLIPBOARD = 0xC0A1E5CE - (1 << 32)
ENC_NUMBERS = {'Raw': 0, 'Hextile': 5, 'ZRLE': 16, 'Tight': 7}
MODES = {'full colour': (['-FullColor=1'], (8, 8, 8)),
         '8 bpp low colour': (['-FullColor=0', '-LowColorLevel=2'], (3, 3, 2))}
DRAW_TIMEOUT = 40

run = Runner('test_enc_tigervnc')
tmp = tmpdir('qvnc-enc-tiger-')
try:
    xvfb = Xvfb(SCREEN_W, SCREEN_H)
except Fail as e:
    run.fatal(str(e))
run.at_exit(xvfb.stop)
try:
    servers = start_frames(W, H, tmp)
except Fail as e:
    run.fatal('cannot start the frame servers: %s' % e)
for s in servers:
    run.at_exit(s.stop)


class Viewer:
    def __init__(self, port, encoding, mode_args, x, y, label, extra=(), sniff=False):
        self.label, self.x, self.y = label, x, y
        self.sniffer = None
        if sniff:
            self.sniffer = EncodingSniffer(port)
            self.sniffer.start()
            port = self.sniffer.port
        self.home = os.path.join(tmp, 'home-%d-%d-%d' % (port, x, y))
        os.makedirs(self.home, exist_ok=True)
        env = dict(xvfb.env)
        env['HOME'] = self.home
        self.log_path = os.path.join(self.home, 'viewer.log')
        self.log = open(self.log_path, 'wb')
        self.p = subprocess.Popen(['xtigervncviewer', '-SecurityTypes', 'None', '-ReconnectOnError=0',
                                   '-AlertOnFatalError=0', '-AutoSelect=0', '-PreferredEncoding=%s' % encoding,
                                   '-NoJPEG=1', '-Shared=1', '-geometry', '+%d+%d' % (x, y), *mode_args, *extra,
                                   '127.0.0.1::%d' % port],
                                  env=env, stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT,
                                  preexec_fn=die_with_parent)

    def tail(self):
        self.log.flush()
        with open(self.log_path, 'rb') as f:
            lines = f.read().decode(errors='replace').splitlines()
        return '\n'.join('    [%s] %s' % (self.label, l) for l in lines[-8:])

    def listed(self):
        """The encodings the viewer sent (needs sniff=True)."""
        self.sniffer.done.wait(20)
        check(self.sniffer.encodings is not None, '%s: no SetEncodings seen (%s)' % (self.label, self.sniffer.error))
        return self.sniffer.encodings

    def stop(self):
        # The viewer first, the relay after: a viewer that loses its
        # connection logs the error, and a SIGTERM arriving while it logs
        # deadlocks it (its handler logs too), so stopping the relay first
        # cost a 10 s wait now and then.
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(10)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        if self.sniffer:
            self.sniffer.stop()
        self.log.close()


def crop(sw, rgb, x, y, w, h):
    out = bytearray()
    for r in range(h):
        off = ((y + r) * sw + x) * 3
        out += rgb[off:off + w * 3]
    return bytes(out)


def find_in(cw, ch, cell, w, h, frame):
    """Top-left (x, y) where `frame` (w x h) appears exactly in `cell`."""
    row0 = frame[:w * 3]
    stride = cw * 3
    for y in range(ch - h + 1):
        line = cell[y * stride:(y + 1) * stride]
        i = line.find(row0)
        while i != -1:
            if i % 3 == 0:
                x = i // 3
                if all(cell[(y + r) * stride + x * 3:(y + r) * stride + (x + w) * 3] == frame[r * w * 3:(r + 1) * w * 3]
                       for r in range(1, h)):
                    return x, y
            i = line.find(row0, i + 1)
    return None


def shows(sw, rgb, v, bits, want):
    """Whether the viewer's cell of the screen shows the frame (quantized)."""
    cell = quantize(crop(sw, rgb, v.x, v.y, CELL_W, CELL_H), bits)
    return find_in(CELL_W, CELL_H, cell, W, H, want) is not None


def t_frame(server):
    def body():
        viewers = []
        try:
            i = 0
            for enc in ENCODINGS:
                for mode, (args, bits) in MODES.items():
                    x, y = (i % 4) * CELL_W, (i // 4) * CELL_H
                    viewers.append((Viewer(server.port, enc, args, x, y, '%s %s' % (enc, mode), sniff=True), bits))
                    i += 1
            path = os.path.join(tmp, 'screen-%s.ppm' % server.kind)
            want = {bits: quantize(server.rgb, bits) for _, bits in viewers}
            pending = list(viewers)
            deadline = time.monotonic() + DRAW_TIMEOUT
            while True:
                xvfb.run(['import', '-window', 'root', '-depth', '8', 'ppm:' + path], what='screenshot')
                sw, sh, rgb = read_ppm(path)
                pending = [(v, bits) for v, bits in pending if not shows(sw, rgb, v, bits, want[bits])]
                if not pending or time.monotonic() > deadline:
                    break
                for v, _ in pending:
                    check(v.p.poll() is None, '%s: the viewer exited (%s)\n%s' % (v.label, v.p.returncode, v.tail()))
                time.sleep(0.3)
            errors = []
            for v, bits in pending:
                try:
                    compare_at_precision(W, H, server.rgb, crop(sw, rgb, v.x, v.y, W, H), bits,
                                         'xtigervncviewer %s, %s frame (window at %d,%d)'
                                         % (v.label, server.kind, v.x, v.y))
                except Fail as e:
                    errors.append('%s\n%s' % (e, v.tail()))
            check(not errors, '\n'.join(errors))
            for v, bits in viewers:
                v.log.flush()
                with open(v.log_path, 'rb') as f:
                    log = f.read().decode(errors='replace')
                # The preferred encoding is the first pixel encoding listed
                # (the server takes the first it knows, as QEMU does), and no
                # JPEG quality level (-32..-23) is listed (lossless only).
                encs = v.listed()
                enc_name = v.label.split()[0]
                first = [e for e in encs if e in (0, 5, 6, 7, 16, 17)][:1]
                check(first == [ENC_NUMBERS[enc_name]],
                      '%s: the viewer listed %r, expected %s (%d) first' % (v.label, encs, enc_name,
                                                                         ENC_NUMBERS[enc_name]))
                check(not any(-32 <= e <= -23 for e in encs), '%s: a JPEG quality level in %r' % (v.label, encs))
                want_fmt = 'depth 8 (8bpp)' if bits == (3, 3, 2) else 'depth 24 (32bpp)'
                check('Using pixel format ' + want_fmt in log,
                      '%s: the viewer did not report using %s\n%s' % (v.label, want_fmt, v.tail()))
            print('# %s frame: all %d viewers show it' % (server.kind, len(viewers)), flush=True)
        finally:
            for v, _ in viewers:
                v.stop()
    return body


def t_hextile_raw_runs():
    """Hextile on full-frame noise at 20 frames a second: after the first
    update every tile is predicted raw, so each update is Raw rectangles
    (the tile rows not probed that update) and Hextile ones (the probed
    row).  Once the viewer has received five frames' worth of bytes the
    guest is stopped (HMP stop on a -monitor unix socket); the window must
    then show the last frame exactly."""
    vfr = os.path.join(tmp, 'noise-frames.vfr')
    write_noise_frames_vfr(vfr, W, H, 0xf00d, 8)
    dump = os.path.join(tmp, 'frame-noise-frames.ppm')
    hmp_path = os.path.join(tmp, 'noise-frames.hmp')
    proc, port = start_emu(['--guest', 'replay:' + vfr, '--replay-fps', '20', '--frame-dump', dump,
                            '-monitor', 'unix:%s,server=on,wait=off' % hmp_path], name='qvnc-emu(noise frames)')
    v = None
    try:
        start = proc.mark()
        v = Viewer(port, 'Hextile', MODES['full colour'][0], 0, 0, 'Hextile on changing noise', sniff=True)
        proc.wait_line(r'^CLIENT initialized ', 30, start, what='the viewer connected')
        frame_bytes = W * H * 4
        check(v.sniffer.wait_server_bytes(5 * frame_bytes, 30),
              'the viewer got %d bytes in 30 s, not five noise frames (%d bytes each)\n%s'
              % (v.sniffer.server_bytes, frame_bytes, v.tail()))
        start = proc.mark()
        with socket.socket(socket.AF_UNIX) as hmp:
            hmp.settimeout(10)
            hmp.connect(hmp_path)
            hmp.sendall(b'stop\n')
            proc.wait_line(r'^RUNSTATE paused$', 10, start, what='the guest to stop')
        w, h, rgb = frame_dump(proc, dump)
        check((w, h) == (W, H), 'frame is %dx%d' % (w, h))
        path = os.path.join(tmp, 'screen-noise-frames.ppm')
        deadline = time.monotonic() + DRAW_TIMEOUT
        while True:
            xvfb.run(['import', '-window', 'root', '-depth', '8', 'ppm:' + path], what='screenshot')
            sw, sh, screen = read_ppm(path)
            if shows(sw, screen, v, (8, 8, 8), quantize(rgb, (8, 8, 8))):
                break
            if time.monotonic() > deadline:
                # The differences, taking the window's corner as the frame's.
                try:
                    compare_at_precision(W, H, rgb, crop(sw, screen, v.x, v.y, W, H), (8, 8, 8),
                                         'xtigervncviewer Hextile, the last of the changing noise frames')
                except Fail as e:
                    raise Fail('%s\n%s' % (e, v.tail())) from None
                raise Fail('the viewer window did not show the last frame within %d s\n%s' % (DRAW_TIMEOUT, v.tail()))
            check(v.p.poll() is None, '%s: the viewer exited (%s)\n%s' % (v.label, v.p.returncode, v.tail()))
            time.sleep(0.3)
        print('# the viewer got %d bytes, then showed the frame the guest stopped at'
              % v.sniffer.server_bytes, flush=True)
    finally:
        if v is not None:
            v.stop()
        proc.stop()


def t_clipboard_to_guest():
    """Viewer -> guest: text owned on the X CLIPBOARD (xclip) reaches the
    guest once the viewer has the focus (TigerVNC announces a clipboard
    change only then).  TigerVNC 1.12 takes the extended clipboard when the
    server announces it (Notify, Request, zlib Provide): checked is that it
    listed 0xC0A1E5CE, which qvnc serves (test_pseudo.py covers the wire
    form), and that the text arrives.  Guest -> viewer is not tested: no qvnc-emu guest
    ever sets a clipboard."""
    xclip = shutil.which('xclip')
    if not xclip:
        print('# SKIP clipboard: xclip is not installed (needed to own an X selection); run .ci/deps.sh')
        return
    desktop = servers[1]
    text = 'qvnc clipboard \u00e9 from tigervnc'
    owner = None
    start = desktop.proc.mark()
    v = Viewer(desktop.port, 'Raw', ['-FullColor=1'], 0, 0, 'clipboard',
               extra=['-SendClipboard=1', '-AcceptClipboard=1'], sniff=True)
    try:
        desktop.proc.wait_line(r'^CLIENT initialized ', 30, start, what='the viewer connected')
        check(EXT_CLIPBOARD in v.listed(), 'the viewer did not list the extended clipboard: %r' % v.listed())
        win = xvfb.run(['xdotool', 'search', '--sync', '--onlyvisible', '--pid', str(v.p.pid)],
                       what='the viewer window').split()
        check(win, 'no viewer window')
        xvfb.run(['xdotool', 'windowfocus', '--sync', win[0].decode()], what='focusing the viewer')
        # The viewer reacts to a change of the selection owner (XFixes), so
        # the text is put there now, while it runs and has the focus.
        owner = subprocess.Popen([xclip, '-quiet', '-selection', 'clipboard'], env=xvfb.env, stdin=subprocess.PIPE,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=die_with_parent)
        owner.stdin.write(text.encode())
        owner.stdin.close()
        want = text.encode().replace(b'\xc3\xa9', b'\\xc3\\xa9').decode()
        desktop.proc.wait_line(r'^INPUT cut-text len=%d text=%s$' % (len(text.encode()), re.escape(want)), 20,
                               start, what='the viewer clipboard text at the guest')
    finally:
        v.stop()
        if owner is not None:
            if owner.poll() is None:
                owner.terminate()
            owner.wait()


def t_clipboard_to_viewer():
    """Guest -> viewer: enc-host sets the guest clipboard
    (qvnc_display_set_clipboard); TigerVNC, told of it (extended clipboard:
    Notify, then Request) takes it while it has the focus and owns the X
    CLIPBOARD; `xclip -o` reads the text from it."""
    xclip = shutil.which('xclip')
    if not xclip:
        print('# SKIP clipboard: xclip is not installed (needed to read an X selection); run .ci/deps.sh')
        return
    exe = env_path('QVNC_ENC_HOST')
    host, port = start_server(lambda d: [exe, '-vnc', '127.0.0.1:%d' % d], 'enc-host')
    v = None
    try:
        start = host.mark()
        v = Viewer(port, 'Raw', ['-FullColor=1'], 0, 0, 'clipboard in', extra=['-AcceptClipboard=1'], sniff=True)
        host.wait_line(r'^CLIENT initialized ', 30, start, what='the viewer connected')
        check(EXT_CLIPBOARD in v.listed(), 'the viewer did not list the extended clipboard: %r' % v.listed())
        win = xvfb.run(['xdotool', 'search', '--sync', '--onlyvisible', '--pid', str(v.p.pid)],
                       what='the viewer window').split()
        check(win, 'no viewer window')
        # TigerVNC takes a server clipboard only while it has the focus.
        xvfb.run(['xdotool', 'windowfocus', '--sync', win[0].decode()], what='focusing the viewer')
        text = 'guest clipboard \u00e9 for tigervnc %d' % port
        check(host_command(host, 'clipboard ' + text) == 'OK', 'enc-host refused the clipboard')
        deadline = time.monotonic() + 20
        got = None
        while time.monotonic() < deadline:
            try:
                got = xvfb.run([xclip, '-o', '-selection', 'clipboard'], timeout=5, what='reading the clipboard')
            except Fail:
                got = None
            if got == text.encode():
                break
            time.sleep(0.2)
        check(got == text.encode(), 'the X clipboard holds %r, expected %r\n%s' % (got, text, v.tail()))
    finally:
        if v is not None:
            v.stop()
        host.stop()


for server in servers:
    run.case('xtigervncviewer Raw/Hextile/ZRLE/Tight x full/8 bpp: %s frame' % server.kind, t_frame(server))
run.case('xtigervncviewer Hextile: noise changing every frame (Raw runs)', t_hextile_raw_runs)
run.case('xtigervncviewer clipboard -> guest', t_clipboard_to_guest)
run.case('guest clipboard -> xtigervncviewer', t_clipboard_to_viewer)
run.finish()
