#!/usr/bin/python3
"""reverse=on: qvnc-emu connects out to a listening viewer while the display opens.

* A raw RFB viewer in this script listens on 127.0.0.1 (and on a unix
  socket); `-vnc 127.0.0.1:PORT,reverse=on` (the port is literal, no 5900
  offset) connects before READY; the viewer runs the whole handshake
  byte-exact, gets a Raw frame equal to the frame dump and types a key that
  arrives as an INPUT line.
* TigerVNC's `xtigervncviewer -listen PORT` under Xvfb as the viewer: a
  key typed into its window with xdotool arrives at qvnc-emu.
* No viewer listening: qvnc-emu exits 1 with QEMU-style
  `qvnc-emu: -vnc OPTS: Failed to connect to '127.0.0.1:PORT': Connection refused`.
* QEMU's option errors: websocket with reverse, two addresses with reverse.
"""

import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from netlib import (Fail, check, emu, emu_env, free_port, Proc, SockRfbClient,  # noqa: E402
                    run_expect_exit, HOST)
from qvnc_testlib import Runner, read_ppm, compare_pixels, tmpdir, ENC_RAW  # noqa: E402

W, H = 320, 200
run = Runner('net-reverse')
work = tmpdir('qvnc-reverse-')


def emu_argv(vnc, dump=None):
    argv = [emu(), '-name', 'reverse-test', '-S', '-vnc', vnc, '--guest', 'pattern', '--size', '%dx%d' % (W, H)]
    if dump:
        argv += ['--frame-dump', dump]
    return argv


def accept(listener, what, timeout=20):
    listener.settimeout(timeout)
    try:
        s, _ = listener.accept()
    except socket.timeout:
        raise Fail('%s: qvnc-emu did not connect within %ds' % (what, timeout))
    return s


def serve_as_viewer(listener, vnc, label):
    """Starts qvnc-emu with a reverse display; this script is the viewer."""
    dump = os.path.join(work, label + '.ppm')
    srv = Proc(emu_argv(vnc, dump), name='qvnc-emu ' + label, env=emu_env())
    try:
        s = accept(listener, label)
        # QEMU connects synchronously at display open: READY comes after.
        srv.wait_line(r'^READY$', 20, what='READY after the reverse connection')
        c = SockRfbClient(s, label=label)
        si = c.handshake(8, expect_type=1)
        check((si.width, si.height) == (W, H), '%s: ServerInit %dx%d' % (label, si.width, si.height))
        check(si.name == b'QEMU (reverse-test)', '%s: desktop name %r' % (label, si.name))
        c.set_encodings([ENC_RAW])
        c.fbur(False)
        got = c.read_frame()
        mark = srv.mark()
        srv.signal(signal.SIGUSR1)
        srv.wait_line(r'^FRAME-DUMPED ', 10, mark, what='frame dump')
        _, _, rgb = read_ppm(dump)
        compare_pixels(c.pf, W, H, rgb, got, label + ': Raw frame over the reverse connection')
        mark = srv.mark()
        c.key_event(0x61, True)
        c.key_event(0x61, False)
        srv.wait_line(r'^INPUT key keysym=0x61 qnum=0x0 down=1$', 10, mark, what='key a from the viewer')
        srv.wait_line(r'^INPUT key keysym=0x61 qnum=0x0 down=0$', 10, mark, what='key a released')
        # Like QEMU: no CONNECTED/INITIALIZED events for a reverse client
        # (no listener); report what qvnc-emu printed.
        client_lines = [l for l in srv.lines if l.startswith('CLIENT')]
        print('# %s: CLIENT lines: %r' % (label, client_lines), flush=True)
        c.close()
        status = srv.stop()
        check(status == 0, '%s: qvnc-emu exit status %s after SIGTERM' % (label, status))
    finally:
        srv.stop()


def t_reverse_tcp():
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind((HOST, 0))
    listener.listen(1)
    port = listener.getsockname()[1]
    try:
        serve_as_viewer(listener, '%s:%d,reverse=on' % (HOST, port), 'reverse-tcp')
    finally:
        listener.close()


def t_reverse_unix():
    path = os.path.join(work, 'viewer.sock')
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(1)
    try:
        serve_as_viewer(listener, 'unix:%s,reverse=on' % path, 'reverse-unix')
    finally:
        listener.close()


def t_reverse_password():
    # A reverse connection still authenticates: VNC password through the
    # connection the server opened.
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind((HOST, 0))
    listener.listen(1)
    port = listener.getsockname()[1]
    argv = [emu(), '-S', '-object', 'secret,id=s0,data=rev-pw', '-vnc',
            '%s:%d,reverse=on,password-secret=s0' % (HOST, port), '--guest', 'pattern', '--size', '64x48']
    srv = Proc(argv, name='qvnc-emu reverse-password', env=emu_env())
    try:
        s = accept(listener, 'reverse with password')
        srv.wait_line(r'^READY$', 20, what='READY')
        c = SockRfbClient(s, label='reverse with password')
        si = c.handshake(8, expect_type=2, password='rev-pw')
        check((si.width, si.height) == (64, 48), 'reverse with password: ServerInit %dx%d' % (si.width, si.height))
        c.close()
    finally:
        srv.stop()
        listener.close()


def t_no_viewer():
    port = free_port(minimum=1024)
    vnc = '%s:%d,reverse=on' % (HOST, port)
    p = run_expect_exit(emu_argv(vnc))
    print('# no viewer: exit %d, stderr: %s' % (p.returncode, p.stderr.strip()[-300:]), flush=True)
    check(p.returncode == 1, 'no viewer on port %d: qvnc-emu exit status %d (expected 1)\n  stderr: %s'
          % (port, p.returncode, p.stderr.strip()))
    want = "qvnc-emu: -vnc %s: Failed to connect to '%s:%d': Connection refused" % (vnc, HOST, port)
    check(want in p.stderr, 'no viewer: stderr lacks %r:\n  %s' % (want, p.stderr.strip()))
    check('READY' not in p.stdout, 'no viewer: qvnc-emu printed READY')
    # unix socket that does not exist
    path = os.path.join(work, 'nobody.sock')
    vnc = 'unix:%s,reverse=on' % path
    p = run_expect_exit(emu_argv(vnc))
    check(p.returncode == 1 and "Failed to connect to '%s'" % path in p.stderr,
          'no unix viewer: exit %d, stderr %r' % (p.returncode, p.stderr.strip()))


def t_reverse_option_errors():
    cases = [
        ('%s:5999,reverse=on,websocket=5700' % HOST, 'Cannot use websockets in reverse mode'),
        ('%s:5999,vnc=%s:5998,reverse=on' % (HOST, HOST), 'Expected a single address in reverse mode'),
    ]
    for vnc, msg in cases:
        p = run_expect_exit(emu_argv(vnc))
        check(p.returncode == 1 and ('qvnc-emu: -vnc %s: %s' % (vnc, msg)) in p.stderr,
              '-vnc %s: exit %d, stderr %r; expected %r' % (vnc, p.returncode, p.stderr.strip(), msg))


# ---------------------------------------------------------------- TigerVNC

def start_xvfb():
    """Xvfb on a display it chooses (-displayfd). Returns (Popen, ':N')."""
    r, w = os.pipe()
    p = subprocess.Popen(['Xvfb', '-displayfd', str(w), '-screen', '0', '800x600x24', '-nolisten', 'tcp',
                          '-noreset'], pass_fds=(w,), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    os.close(w)
    buf = b''
    deadline = time.monotonic() + 20
    while not buf.endswith(b'\n'):
        ready, _, _ = select.select([r], [], [], max(deadline - time.monotonic(), 0))
        if not ready:
            p.kill()
            p.wait()
            os.close(r)
            raise Fail('Xvfb did not report a display within 20s')
        chunk = os.read(r, 64)
        if not chunk:
            os.close(r)
            raise Fail('Xvfb exited (%s) before reporting a display' % p.wait())
        buf += chunk
    os.close(r)
    return p, ':' + buf.decode().strip()


def t_tigervnc_listen():
    missing = [t for t in ('Xvfb', 'xtigervncviewer', 'xdotool') if not shutil.which(t)]
    if missing:
        raise Fail('not installed: %s (packages xvfb, tigervnc-viewer, xdotool; run .ci/deps.sh)'
                   % ', '.join(missing))
    xvfb, display = start_xvfb()
    env = {k: v for k, v in os.environ.items() if k not in ('XAUTHORITY', 'DISPLAY', 'VNC_PASSWORD')}
    env['DISPLAY'] = display
    env['HOME'] = os.path.join(work, 'tiger-home')
    os.makedirs(env['HOME'], exist_ok=True)
    viewer = srv = None
    try:
        for _ in range(5):
            port = free_port(minimum=1024)
            viewer = Proc(['xtigervncviewer', '-ReconnectOnError=0', '-AlertOnFatalError=0', '-Shared=1',
                           '-listen', str(port)], name='xtigervncviewer', env=env, stdin=False)
            # It says so on stderr once the socket listens.
            deadline = time.monotonic() + 20
            listening = False
            with viewer.cond:
                while time.monotonic() < deadline and not listening:
                    if any('Listening on port %d' % port in l for l in viewer.err):
                        listening = True
                        break
                    if viewer.p.poll() is not None:
                        break
                    viewer.cond.wait(0.5)
            if listening:
                break
            viewer.stop()
            viewer = None
        check(viewer is not None, 'xtigervncviewer -listen never said "Listening on port"')
        srv = Proc(emu_argv('%s:%d,reverse=on' % (HOST, port)), name='qvnc-emu tigervnc', env=emu_env())
        srv.wait_line(r'^READY$', 20, what='READY after connecting to the listening viewer')
        p = subprocess.run(['xdotool', 'search', '--sync', '--onlyvisible', '--name', r'QEMU \(reverse-test\)'],
                           env=env, capture_output=True, timeout=30)
        check(p.returncode == 0 and p.stdout.split(), 'no viewer window titled "QEMU (reverse-test)" (%s)\n%s'
              % (p.stderr.decode(errors='replace'), viewer.describe()))
        win = p.stdout.split()[0].decode()
        mark = srv.mark()
        p = subprocess.run(['xdotool', 'windowfocus', '--sync', win, 'key', 'q'], env=env, capture_output=True,
                           timeout=30)
        check(p.returncode == 0, 'xdotool key failed: %s' % p.stderr.decode(errors='replace'))
        srv.wait_line(r'^INPUT key keysym=0x71 qnum=0x10 down=1$', 15, mark,
                      what='q typed into the TigerVNC window')
        srv.wait_line(r'^INPUT key keysym=0x71 qnum=0x10 down=0$', 15, mark, what='q released')
    finally:
        if srv:
            srv.stop()
        if viewer:
            viewer.stop()
        xvfb.terminate()
        try:
            xvfb.wait(10)
        except subprocess.TimeoutExpired:
            xvfb.kill()
            xvfb.wait()


run.case('reverse=on to a raw viewer listening on 127.0.0.1 (handshake, frame, key)', t_reverse_tcp)
run.case('reverse=on to a viewer on unix:PATH', t_reverse_unix)
run.case('reverse=on with password-secret', t_reverse_password)
run.case('no viewer listening: exit 1 with "Failed to connect"', t_no_viewer)
run.case('reverse option errors (websocket, two addresses)', t_reverse_option_errors)
run.case('xtigervncviewer -listen under Xvfb', t_tigervnc_listen)
run.finish()
