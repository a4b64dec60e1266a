#!/usr/bin/env python3
"""libvncclient (test_vncclient) as a second independent real client.

Environment: QVNC_EMU, QVNC_VNCCLIENT = paths of the binaries.
For each case: start test_vncclient against qvnc-emu (pattern guest, frozen),
compare the PPM it wrote with qvnc-emu's frame dump pixel for pixel, and
check that the key and pointer events it sent arrived as INPUT lines.
"""

import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from qvnc_testlib import (Fail, Runner, check, start_emu, env_path, frame_dump, read_ppm, compare_rgb, tmpdir,
                          HOST)

W, H = 300, 180
PASSWORD = 'vncc1ient'   # 9 bytes: only "vncc1ien" counts

run = Runner('test_vncclient')
client_bin = env_path('QVNC_VNCCLIENT')
tmp = tmpdir('qvnc-vncclient-')
dump_path = os.path.join(tmp, 'frame.ppm')

try:
    emu, port = start_emu(['--guest', 'pattern', '--size', '%dx%d' % (W, H), '--frame-dump', dump_path],
                          prefix_args=['-name', 'vncclient', '-S'], name='qvnc-emu(none)')
except Fail as e:
    run.fatal('cannot start qvnc-emu: %s' % e)
run.at_exit(emu.stop)

try:
    pw_emu, pw_port = start_emu(['--guest', 'pattern', '--size', '%dx%d' % (W, H)],
                                vnc_suffix=',password-secret=pw',
                                prefix_args=['-S', '-object', 'secret,id=pw,data=' + PASSWORD],
                                name='qvnc-emu(vnc-auth)')
except Fail as e:
    run.fatal('cannot start qvnc-emu with a password: %s' % e)
run.at_exit(pw_emu.stop)

try:
    dw, dh, frame_rgb = frame_dump(emu, dump_path)
except Fail as e:
    run.fatal('no frame dump: %s' % e)
if (dw, dh) != (W, H):
    run.fatal('frame dump is %dx%d, expected %dx%d' % (dw, dh, W, H))


def run_client(port, out, extra, expect_ok=True, timeout=60):
    argv = [client_bin, HOST, str(port), out, '-timeout', '30', *extra]
    # The client is a third-party harness, not the code under test: leaks
    # inside libvncclient must not fail a sanitizer run.
    env = dict(os.environ)
    env['ASAN_OPTIONS'] = ':'.join(filter(None, [env.get('ASAN_OPTIONS', ''), 'detect_leaks=0']))
    try:
        p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        raise Fail('test_vncclient did not finish within %ds: %s' % (timeout, ' '.join(argv)))
    if expect_ok:
        check(p.returncode == 0, 'test_vncclient exited %d\n  stdout: %s\n  stderr: %s'
              % (p.returncode, p.stdout.strip(), p.stderr.strip()))
    return p


def frame_case(encodings, keys=None, pointer=None):
    def body():
        out = os.path.join(tmp, 'client-%s.ppm' % (encodings or 'default').replace(' ', '_'))
        extra = []
        if encodings:
            extra += ['-encodings', encodings]
        if keys:
            extra += ['-keys', ','.join('0x%x' % k for k in keys)]
        if pointer:
            extra += ['-pointer', '%d,%d,%d' % pointer]
        start = emu.mark()
        p = run_client(port, out, extra)
        check('CONNECTED %dx%d name=QEMU (vncclient)' % (W, H) in p.stdout,
              'libvncclient saw %r, expected "CONNECTED %dx%d name=QEMU (vncclient)"' % (p.stdout.strip(), W, H))
        cw, ch, rgb = read_ppm(out)
        check((cw, ch) == (W, H), 'client frame %dx%d, expected %dx%d' % (cw, ch, W, H))
        compare_rgb(W, H, frame_rgb, rgb, 'libvncclient frame (encodings %r) vs frame dump' % (encodings or 'default'))
        i = start
        for k in keys or ():
            i, _ = emu.wait_line(r'^INPUT key keysym=0x%x qnum=0x0 down=1$' % k, start=i, what='key 0x%x down' % k)
            i, _ = emu.wait_line(r'^INPUT key keysym=0x%x qnum=0x0 down=0$' % k, start=i + 1,
                                 what='key 0x%x up' % k)
            i += 1
        if pointer:
            emu.wait_line(r'^INPUT pointer x=%d y=%d buttons=0x%x$' % pointer, start=start,
                          what='pointer event %r' % (pointer,))
    return body


def t_password(right):
    def body():
        out = os.path.join(tmp, 'pw-%s.ppm' % right)
        p = run_client(pw_port, out, ['-encodings', 'raw', '-password', PASSWORD if right else 'vncc1ie'],
                       expect_ok=right)
        if right:
            cw, ch, rgb = read_ppm(out)
            compare_rgb(W, H, frame_rgb, rgb, 'libvncclient frame with VNC auth')
        else:
            check(p.returncode != 0, 'wrong password accepted: %s' % p.stdout)
            check('Authentication failed' in p.stderr,
                  'libvncclient did not report the server reason "Authentication failed": %s' % p.stderr.strip())
            check(not os.path.exists(out), 'a frame was written despite a wrong password')
    return body


run.case('default libvncclient encodings (tight first): frame equals dump, keys, pointer',
         frame_case(None, keys=[0x71, 0xff0d], pointer=(12, 34, 1)))
run.case('raw: frame equals dump', frame_case('raw'))
run.case('hextile: frame equals dump', frame_case('hextile raw'))
run.case('zlib: frame equals dump', frame_case('zlib raw'))
run.case('zrle: frame equals dump', frame_case('zrle raw'))
run.case('VNC password right', t_password(True))
run.case('VNC password wrong', t_password(False))
run.case('qvnc-emu still alive', lambda: check(emu.alive() and pw_emu.alive(),
                                               'qvnc-emu died\n' + emu.describe() + pw_emu.describe()))
run.finish()
