#!/usr/bin/python3
"""TigerVNC's xtigervncviewer (1.12) under Xvfb over VeNCrypt: X509None,
X509Vnc, TLSNone, TLSVnc with `-X509CA`.

Environment: QVNC_EMU. Needs Xvfb, xtigervncviewer, xdotool and ImageMagick's
`import` (.ci/deps.sh installs them); exits 77 (skip) when one is missing.

For each sub-type: a fresh qvnc-emu offering it, a viewer with a temporary
HOME (it writes ~/.vnc/x509_known_hosts) and VNC_PASSWORD. Checked: qvnc-emu's
`CLIENT initialized` line and the server's `TLS established` log line, the
sub-type the viewer chose, the viewer window showing the guest frame pixel
for pixel (a screenshot of the Xvfb screen searched for the frame dump), and
a key typed into the window with xdotool (XTEST) arriving as INPUT lines.
TigerVNC cannot present a client certificate, so the x509 displays use
verify-peer=off; a verify-peer=on display must refuse it (real-clients.md).
"""

import os
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from tls_common import (Fail, check, start_tls_emu, err_mark, wait_err, wait_client_closed,  # noqa: E402
                        LOG_CLIENT)
from qvnc_testlib import Runner, frame_dump, read_ppm, compare_rgb, tmpdir  # noqa: E402
import tls_pki  # noqa: E402

TOOLS = {'Xvfb': 'xvfb', 'xtigervncviewer': 'tigervnc-viewer', 'xdotool': 'xdotool', 'import': 'imagemagick'}
missing = ['%s (package %s)' % (t, p) for t, p in TOOLS.items() if not shutil.which(t)]
if missing:
    print('SKIP: not installed: %s; run .ci/deps.sh' % ', '.join(missing))
    sys.exit(77)

W, H = 320, 200
PASSWORD = 'tiger-pw'
SCREEN_W, SCREEN_H = 800, 600

run = Runner('test_tls_tigervnc')
tmp = tmpdir('qvnc-tls-tigervnc-')
run.at_exit(lambda: shutil.rmtree(tmp, ignore_errors=True))   # runs last
try:
    pki = tls_pki.make_pki(os.path.join(tmp, 'pki'))
except tls_pki.PkiError as e:
    run.fatal(str(e))

# --------------------------------------------------------------------------- Xvfb


def start_xvfb():
    """Xvfb on a display it picks itself (-displayfd); returns (Popen, ':N')."""
    r, w = os.pipe()
    p = subprocess.Popen(['Xvfb', '-displayfd', str(w), '-screen', '0', '%dx%dx24' % (SCREEN_W, SCREEN_H),
                          '-nolisten', 'tcp', '-noreset'], pass_fds=(w,), stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    os.close(w)
    buf = b''
    deadline = time.monotonic() + 20
    while not buf.endswith(b'\n'):
        left = deadline - time.monotonic()
        ready, _, _ = select.select([r], [], [], max(left, 0))
        if not ready:
            p.kill()
            raise Fail('Xvfb did not report its display within 20s')
        chunk = os.read(r, 64)
        if not chunk:
            p.wait()
            raise Fail('Xvfb exited (%s) before reporting a display: %s'
                       % (p.returncode, p.stderr.read().decode(errors='replace')[-1000:]))
        buf += chunk
    os.close(r)
    return p, ':' + buf.decode().strip()


try:
    xvfb, display = start_xvfb()
except Fail as e:
    run.fatal(str(e))


def stop_xvfb():
    xvfb.terminate()
    try:
        xvfb.wait(10)
    except subprocess.TimeoutExpired:
        xvfb.kill()
        xvfb.wait()


run.at_exit(stop_xvfb)
X_ENV = {k: v for k, v in os.environ.items() if k not in ('XAUTHORITY', 'DISPLAY', 'VNC_PASSWORD',
                                                              'VNC_USERNAME')}
X_ENV['DISPLAY'] = display


def xtool(argv, timeout=20, what=None):
    try:
        p = subprocess.run(argv, env=X_ENV, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise Fail('%s did not finish within %ds (%s)' % (' '.join(argv), timeout, what or ''))
    check(p.returncode == 0, '%s failed (%d): %s' % (' '.join(argv), p.returncode,
                                                      p.stderr.decode(errors='replace').strip()))
    return p.stdout


# --------------------------------------------------------------------------- viewer


class Viewer:
    def __init__(self, port, types='X509None,X509Vnc,TLSNone,TLSVnc', password=None, label='tigervnc'):
        self.label = label
        self.home = tempfile.mkdtemp(prefix='home-', dir=tmp)
        env = dict(X_ENV)
        env['HOME'] = self.home
        if password is not None:
            env['VNC_PASSWORD'] = password
        self.log_path = os.path.join(self.home, 'viewer.log')
        self.log = open(self.log_path, 'wb')
        self.p = subprocess.Popen(['xtigervncviewer', '-SecurityTypes', types, '-X509CA', pki.ca_cert,
                                   '-ReconnectOnError=0', '-AlertOnFatalError=0', '-AutoSelect=0',
                                   '-PreferredEncoding=ZRLE', '-FullColor=1', '-NoJPEG=1', '-Shared=1',
                                   '127.0.0.1::%d' % port],
                                  env=env, stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT)
        viewers.append(self)

    def text(self):
        self.log.flush()
        with open(self.log_path, 'rb') as f:
            return f.read().decode(errors='replace')

    def tail(self):
        return '\n'.join('    [viewer] ' + l for l in self.text().splitlines()[-15:])

    def window(self):
        out = xtool(['xdotool', 'search', '--sync', '--onlyvisible', '--name', r'QEMU \(tls-test\)'],
                    timeout=20, what='the viewer window')
        ids = out.split()
        check(ids, 'no viewer window')
        return ids[0].decode()

    def wait_exit(self, timeout=20):
        try:
            return self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            raise Fail('%s: the viewer is still running after %ds\n%s' % (self.label, timeout, self.tail()))

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(10)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        self.log.close()


viewers = []
run.at_exit(lambda: [v.stop() for v in viewers])

# --------------------------------------------------------------------------- screen


def find_frame(sw, sh, screen, w, h, frame):
    """Top-left (x, y) where `frame` appears exactly on the screen, or None."""
    row0 = frame[:w * 3]
    stride = sw * 3
    for y in range(sh - h + 1):
        line = screen[y * stride:(y + 1) * stride]
        i = line.find(row0)
        while i != -1:
            if i % 3 == 0:
                x = i // 3
                if all(screen[(y + r) * stride + x * 3:(y + r) * stride + (x + w) * 3] == frame[r * w * 3:(r + 1) * w * 3]
                       for r in range(1, h)):
                    return x, y
            i = line.find(row0, i + 1)
    return None


def screenshot(path):
    xtool(['import', '-window', 'root', '-depth', '8', 'ppm:' + path], what='screenshot')
    return read_ppm(path)


def check_window_shows_frame(viewer, frame_rgb, win):
    """Polls screenshots (no event tells when FLTK has drawn) until the frame
    appears, up to 20s."""
    path = os.path.join(tmp, 'screen.ppm')
    deadline = time.monotonic() + 20
    while True:
        sw, sh, rgb = screenshot(path)
        pos = find_frame(sw, sh, rgb, W, H, frame_rgb)
        if pos:
            return pos
        if time.monotonic() > deadline:
            break
        time.sleep(0.25)
    # Say how it differs where the window is.
    geo = xtool(['xdotool', 'getwindowgeometry', '--shell', win]).decode()
    vals = dict(l.split('=', 1) for l in geo.split() if '=' in l)
    x, y = int(vals.get('X', 0)), int(vals.get('Y', 0))
    crop = bytearray()
    for r in range(H):
        off = ((y + r) * sw + x) * 3
        crop += rgb[off:off + W * 3].ljust(W * 3, b'\0')
    compare_rgb(W, H, frame_rgb, bytes(crop), '%s: viewer window at %d,%d vs frame dump' % (viewer.label, x, y))
    raise Fail('%s: the frame is not on the screen, although the window region matches?' % viewer.label)


# --------------------------------------------------------------------------- cases

X509_OFF = 'tls-creds-x509,id=tls0,dir=%s,endpoint=server,verify-peer=off' % pki.creds_dir('good')
X509_ON = 'tls-creds-x509,id=tls0,dir=%s,endpoint=server,verify-peer=on' % pki.creds_dir('good')
ANON = 'tls-creds-anon,id=tls0,endpoint=server'
PW = 'secret,id=pw,data=' + PASSWORD

SETUPS = {
    'X509None': ('tls-creds=tls0', [X509_OFF], 260),
    'X509Vnc': ('tls-creds=tls0,password-secret=pw', [X509_OFF, PW], 261),
    'TLSNone': ('tls-creds=tls0', [ANON], 257),
    'TLSVnc': ('tls-creds=tls0,password-secret=pw', [ANON, PW], 258),
}


def start_server(subtype_name, objects=None):
    opts, objs, _ = SETUPS[subtype_name]
    dump = os.path.join(tmp, 'frame-%s.ppm' % subtype_name)
    proc, port = start_tls_emu(opts, objs if objects is None else objects, name='qvnc-emu(%s)' % subtype_name,
                               size='%dx%d' % (W, H), frame_dump=dump)
    return proc, port, dump


def t_connect(subtype_name, key='q', keysym=0x71):
    def body():
        proc, port, dump = start_server(subtype_name)
        try:
            dw, dh, frame_rgb = frame_dump(proc, dump)
            start, estart = proc.mark(), err_mark(proc)
            v = Viewer(port, password=PASSWORD if subtype_name.endswith('Vnc') else None,
                       label='tigervnc ' + subtype_name)
            try:
                _, m = proc.wait_line(r'^CLIENT initialized host=127\.0\.0\.1 service=(\d+) .*$', start=start,
                                      timeout=30, what='CLIENT initialized (TigerVNC)')
            except Fail as e:
                raise Fail('%s\n%s' % (e, v.tail()))
            check('x509-dname' not in m.group(0), 'a DN though TigerVNC sent no certificate: %s' % m.group(0))
            cport = int(m.group(1))
            wait_err(proc, (LOG_CLIENT % cport) + r'TLS established$', estart, what='TLS established')
            wait_err(proc, (LOG_CLIENT % cport) + r'authenticated \(vencrypt', estart, what='authenticated')
            sub = SETUPS[subtype_name][2]
            check('Choosing security type %s (%d)' % (subtype_name, sub) in v.text(),
                  'the viewer did not report choosing %s (%d):\n%s' % (subtype_name, sub, v.tail()))
            win = v.window()
            x, y = check_window_shows_frame(v, frame_rgb, win)
            print('# %s: guest frame found on the Xvfb screen at %d,%d' % (subtype_name, x, y))
            kstart = proc.mark()
            xtool(['xdotool', 'windowfocus', '--sync', win, 'key', key], what='typing %r' % key)
            try:
                i, _ = proc.wait_line(r'^INPUT key keysym=0x%x qnum=0x[0-9a-f]+ down=1$' % keysym, start=kstart,
                                      what='key %r pressed in the viewer' % key)
                proc.wait_line(r'^INPUT key keysym=0x%x qnum=0x[0-9a-f]+ down=0$' % keysym, start=i + 1,
                               what='key %r released in the viewer' % key)
            except Fail as e:
                raise Fail('%s\n%s' % (e, v.tail()))
            v.stop()
            proc.wait_line(r'^CLIENT disconnected host=127\.0\.0\.1 service=%d ' % cport, start=start,
                           what='CLIENT disconnected after the viewer quit')
            check(proc.alive(), 'qvnc-emu died\n' + proc.describe())
        finally:
            proc.stop()
    return body


def t_refused(subtype_name, objects, password, server_rx, viewer_rx, label):
    def body():
        proc, port, _ = start_server(subtype_name, objects)
        try:
            start, estart = proc.mark(), err_mark(proc)
            v = Viewer(port, password=password, label='tigervnc ' + label)
            # TigerVNC 1.12 exits 0 even after a fatal error when
            # AlertOnFatalError=0; its log says what happened.
            v.wait_exit(30)
            print('# %s: viewer log: %s' % (label, ' | '.join(v.text().strip().splitlines()[-3:])))
            check(re.search(viewer_rx, v.text()), '%s: the viewer log lacks /%s/:\n%s' % (label, viewer_rx, v.tail()))
            _, m = proc.wait_line(r'^CLIENT connected host=127\.0\.0\.1 service=(\d+)$', start=start,
                                  what='CLIENT connected')
            wait_client_closed(proc, int(m.group(1)), estart, server_rx, label)
            check(proc.find(r'^CLIENT initialized', start) is None, '%s: the viewer got in' % label)
            check(proc.alive(), 'qvnc-emu died\n' + proc.describe())
        finally:
            proc.stop()
    return body


run.case('X509None (verify-peer=off): connected, frame on screen, key typed', t_connect('X509None'))
run.case('X509Vnc: VNC_PASSWORD, frame on screen, key typed', t_connect('X509Vnc', 'Return', 0xff0d))
run.case('TLSNone (anonymous): frame on screen, key typed', t_connect('TLSNone', 'a', 0x61))
run.case('TLSVnc (anonymous): frame on screen, key typed', t_connect('TLSVnc', 'z', 0x7a))
run.case('X509None with verify-peer=on: TigerVNC has no client certificate -> refused',
         t_refused('X509None', [X509_ON], None,
                   r'^TLS handshake failed: .*([Cc]ertificate is required|No certificate was found)',
                   r'dropped by the server|End of stream',
                   'no client certificate'))
run.case('X509Vnc: wrong VNC_PASSWORD -> Authentication failed',
         t_refused('X509Vnc', None, 'wrong-pw', r'.', r'Authentication failed', 'wrong password'))
run.finish()
