"""Wire-level regression tests for the QEMU VNC CVEs (spec §6) that come from
the guest, the monitor or what a client costs the server: an empty monitor
password, surface changes and copies from the guest, oversized surfaces, a
client that never reads, zlib state left by clients that went.  Each case
checks the required behaviour (refusal, clamp, bound, no growth) and then
that the server still serves a second client.  test_cves_client.py has the
cases where a client's messages are the attack.

Run by meson (suite hardening) with QVNC_EMU, QVNC_HARDENING_HOST set.
"""

import os
import struct
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), 'tls'))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), 'sasl'))

from hardening_lib import (Fail, RfbClient, check, start_host, host_command, hmp, start_emu_env,  # noqa: E402
                           debug_env, rss_kb, under_asan, wait_err, wait_disconnected, serving,
                           stop_checked, connect_raw, Streamer)
from qvnc_testlib import (Runner, tmpdir, expect_bytes)  # noqa: E402
import rfbview  # noqa: E402

AUTH_FAILED_38 = b'\x00\x00\x00\x01' + struct.pack('>I', 22) + b'Authentication failed\x00'
LOG_CLIENT = r'client 127\.0\.0\.1:%d: '

runner = Runner('hardening CVE regressions: guest, monitor, resources')
WORK = tmpdir('qvnc-hard-cve-guest-')


def vnc_login(port, password, label, minor=8):
    """VNC auth with `password`; returns the SecurityResult bytes (and the
    failure reason for 3.8), the server closing after a failure."""
    import qvnc_des
    c = RfbClient(port, label=label)
    try:
        c.version(minor)
        n = c.u8('number of security types')
        types = c.recv_exact(n, 'security types')
        expect_bytes(bytes([n]) + types, b'\x01\x02', '%s: security types (VNC auth must stay on)' % label)
        c.send(b'\x02')
        challenge = c.recv_exact(16, 'challenge')
        c.send(qvnc_des.vnc_response(password, challenge))
        res = c.recv_exact(4, 'SecurityResult')
        if res == b'\0\0\0\0':
            return res
        return res + c.read_until_eof(what='the failure reason and close')
    finally:
        c.close()



# ---------------------------------------------------------------------------
# CVE-2011-0011: an empty password from the monitor must not disable auth

def cve_2011_0011():
    host, port = start_host(',password=on')
    try:
        # No password yet: nobody gets in.
        check(vnc_login(port, '', 'no password set') == AUTH_FAILED_38,
              'a client got in before any password was set')
        for how in ('set_password vnc ""', 'change vnc password ""'):
            ans, text = hmp(host, how)
            check(ans == 'OK', 'hmp %s: %s' % (how, ans))
            print('# hmp %s printed %r' % (how, text), flush=True)
            # Authentication stays on: type 2 is still the only one offered,
            # a wrong password is refused; the empty one is a real password
            # (QEMU >= 2.1: zero DES key).
            res = vnc_login(port, 'wrong', 'wrong password after %s' % how)
            expect_bytes(res, AUTH_FAILED_38, 'wrong password after `%s`' % how)
            res = vnc_login(port, '', 'empty password after %s' % how)
            expect_bytes(res, b'\0\0\0\0', 'the empty password set by `%s`' % how)
        # The C ABI path too.
        check(host_command(host, 'password') == 'OK', 'qvnc_display_set_password("") failed')
        expect_bytes(vnc_login(port, 'x', 'wrong after the C ABI'), AUTH_FAILED_38, 'wrong password after ""')
        serving(port, expect_type=2, password='')
    finally:
        stop_checked(host, 'hardening-host')

    # A display without password auth refuses the password (QEMU >= 2.1)
    # and stays as configured; no switch to "none" of a password display.
    host, port = start_host('')
    try:
        ans, text = hmp(host, 'set_password vnc ""')
        check(text and 'Could not set password' in text,
              'set_password on an auth-none display printed %r, expected "Could not set password"' % text)
        check(host_command(host, 'password').startswith('ERROR'),
              'qvnc_display_set_password on an auth-none display succeeded')
        serving(port, expect_type=1)
    finally:
        stop_checked(host, 'hardening-host')

# ---------------------------------------------------------------------------
# CVE-2015-5225: guest surface size changes while clients change formats

def cve_2015_5225():
    for fmt in ('r5g6b5', 'b8g8r8a8'):
        emu, port = start_emu_env(['--guest', 'pattern', '--size', '160x120', '--resize-every', '0.25',
                                   '--format', fmt])
        viewers = []
        try:
            viewers = [rfbview.Viewer(port, rfbview.ENC_RAW, rfbview.FORMATS, switch_every=1,
                                      label='raw viewer (%s)' % fmt).start(),
                       rfbview.Viewer(port, rfbview.ENC_ZLIB, rfbview.FORMATS[::-1], switch_every=2,
                                      label='zlib viewer (%s)' % fmt).start()]
            # Until each viewer saw a few resizes and format switches.
            deadline = time.monotonic() + 30
            for v in viewers:
                with v.cond:
                    while (v.resizes < 3 or v.switches < 4) and not v.error:
                        left = deadline - time.monotonic()
                        if left <= 0:
                            raise Fail('%s: only %d resizes and %d format switches in 30 s'
                                       % (v.label, v.resizes, v.switches))
                        v.cond.wait(left)
                    if v.error:
                        raise v.error
                print('# %s: %d answers, %d resizes, %d format switches, %d bytes'
                      % (v.label, v.answers, v.resizes, v.switches, v.bytes_in), flush=True)
            check(emu.alive(), 'qvnc-emu died during resizes with format switches')
            serving(port)
        finally:
            for v in viewers:
                v.stop()
            stop_checked(emu, 'qvnc-emu')

# ---------------------------------------------------------------------------
# CVE-2016-9603: CopyRect from the guest with rectangles outside the surface

def cve_2016_9603():
    dump = os.path.join(WORK, 'f9603.ppm')
    host, port = start_host('', size='64x48')
    viewer = None
    try:
        viewer = rfbview.Viewer(port, rfbview.ENC_RAW, rfbview.FORMATS[:1], label='copyrect viewer').start()
        bad = [(-1, 0, 0, 0, 8, 8), (0, -1, 0, 0, 8, 8), (0, 0, -1, 0, 8, 8), (0, 0, 0, 60, 8, 8),
               (57, 0, 0, 0, 8, 8), (0, 41, 0, 0, 8, 8), (0, 0, 57, 0, 8, 8), (0, 0, 0, 0, 65, 1),
               (0, 0, 0, 0, 1, 49), (1, 1, 1, 1, -5, 4), (1, 1, 1, 1, 4, -5),
               (2147483647, 0, 0, 0, 2, 2), (0, 0, 2147483647, 0, 2, 2), (0, 0, 0, 0, 2147483647, 2147483647),
               (-2147483648, -2147483648, 0, 0, 4, 4), (63, 47, 0, 0, 2, 2)]
        for args in bad:
            ans = host_command(host, 'copy %d %d %d %d %d %d' % args)
            check(ans.startswith('ERROR'), 'qvnc_display_copy%r was accepted (%s): it lies outside the 64x48 '
                  'surface' % (args, ans))
        print('# %d out-of-bounds copies refused, e.g. %s' % (len(bad), ans), flush=True)
        check(host_command(host, 'copy 0 0 8 8 16 16') == 'OK', 'an in-bounds copy was refused')
        check(host_command(host, 'copy 40 30 0 0 24 18') == 'OK', 'a copy to the corner was refused')
        check(host_command(host, 'dump ' + dump) == 'OK', 'dump failed')
        from qvnc_testlib import read_ppm
        w, h, rgb = read_ppm(dump)
        diff = viewer.wait_match(w, h, rgb, 10)
        check(diff is None, 'after the copies the viewer differs from the guest: %s' % diff)
        serving(port)
    finally:
        if viewer:
            viewer.stop()
        stop_checked(host, 'hardening-host')

# ---------------------------------------------------------------------------
# CVE-2017-2633: guest surface beyond 5120x2160

def cve_2017_2633():
    host, port = start_host('', size='64x48')
    early = None
    try:
        early = RfbClient(port, label='client connected before the switch', timeout=30)
        early.handshake()
        early.set_encodings([0, -223])
        # A frame answered means SetEncodings was read: a switch before that
        # would find a client without DesktopSize (the host's stdin and the
        # client's socket are two sources of one loop).
        early.fbur(False)
        early.read_frame()
        check(host_command(host, 'surface 6000 3000', timeout=30) == 'OK', 'switching to 6000x3000 failed')
        check(host_command(host, 'fill 336699', timeout=30) == 'OK', 'fill failed')
        early.fbur(True, 0, 0, 64, 48)
        sizes = []
        while not sizes:
            msg = early.read_message()
            if msg[0] == 'update':
                sizes += [(r.w, r.h) for r in msg[1] if r.enc == -223]
        check(sizes == [(5120, 2160)], 'the connected client was told %r, expected the clamped 5120x2160' % sizes)
        early.close()
        early = None
        # A new client sees the clamped size and gets every pixel of it,
        # all inside it.
        v = rfbview.Viewer(port, rfbview.ENC_ZRLE, rfbview.FORMATS[:1], label='zrle viewer 5120x2160', timeout=60)
        v.handshake()
        check((v.width, v.height) == (5120, 2160), 'ServerInit says %dx%d for a 6000x3000 guest, expected 5120x2160'
              % (v.width, v.height))
        v.close()
        v = rfbview.Viewer(port, rfbview.ENC_ZRLE, rfbview.FORMATS[:1], label='zrle viewer', timeout=60).start()
        try:
            px = rfbview.FORMATS[0].encode_rgb(0x33, 0x66, 0x99)
            want = px * (5120 * 2160)
            deadline = time.monotonic() + 60
            with v.cond:
                while not (v.answers >= 1 and v.fb.w == 5120 and bytes(v.fb.data) == want):
                    if v.error:
                        raise v.error
                    left = deadline - time.monotonic()
                    check(left > 0, 'the 5120x2160 frame did not arrive complete (%d answers)' % v.answers)
                    v.cond.wait(left)
            print('# 6000x3000 guest: clients see 5120x2160, %d bytes of ZRLE' % v.bytes_in, flush=True)
        finally:
            v.stop()
        check(host_command(host, 'surface 64 48') == 'OK', 'switching back failed')
        serving(port)
    finally:
        if early:
            early.close()
        stop_checked(host, 'hardening-host')

# ---------------------------------------------------------------------------
# CVE-2017-15124: a client that never reads

def cve_2017_15124():
    emu, port = start_emu_env(['--guest', 'pattern', '--size', '320x240'], env=debug_env(measure=True))
    good = None
    bad = None
    try:
        good = Streamer(port)
        good.start()
        good.wait_more(3, 10, 'before the slow client')
        rss0 = rss_kb(emu.p.pid)
        throttle_kb = max(320 * 240 * 4, 1 << 20) // 1024
        bad = connect_raw(port, rcvbuf=4096)
        bad_port = bad.getsockname()[1]
        # Handshake by hand, then requests forever without reading.
        bad.recv(12)
        bad.sendall(b'RFB 003.008\n')
        while len(bad.recv(2)) < 2:
            pass
        bad.sendall(b'\x01')
        bad.recv(4)
        bad.sendall(b'\x01')
        bad.setblocking(False)
        bad.sendall(struct.pack('>BxH', 2, 2) + struct.pack('>ii', 0, -312))   # Raw, fences
        fbur = struct.pack('>BBHHHH', 3, 0, 0, 0, 320, 240)
        peak = 0
        t_end = time.monotonic() + 3
        # Phase 1: update requests only.  QEMU (and this server) throttles:
        # no more updates are produced while a frame's worth is unsent.
        while time.monotonic() < t_end:
            try:
                bad.send(fbur * 32)
            except BlockingIOError:
                pass
            good.wait_more(1, 10, 'while the slow client only requests updates')
            peak = max(peak, rss_kb(emu.p.pid) - rss0)
        print('# requests only: server RSS peak +%d kB (throttle %d kB)' % (peak, throttle_kb), flush=True)
        check(peak < 5 * throttle_kb + 32 * 1024, 'the server grew by %d kB for a client that does not read '
              '(throttle %d kB)' % (peak, throttle_kb))
        # Phase 2: fences, whose answers are not throttled (as QEMU's
        # pseudo-encodings): the buffered output reaches the hard cap and the
        # client is dropped.
        start = emu.mark()
        fence = struct.pack('>BxxxIB', 248, 0x80000000, 64) + b'f' * 64
        dropped = False
        deadline = time.monotonic() + 30
        while not dropped and time.monotonic() < deadline:
            try:
                bad.send(fence * 256)
            except BlockingIOError:
                good.wait_more(1, 10, 'while the slow client floods')
            except (BrokenPipeError, ConnectionResetError):
                pass
            peak = max(peak, rss_kb(emu.p.pid) - rss0)
            dropped = emu.find(r'^CLIENT disconnected host=\S+ service=%d\b' % bad_port, start) is not None
        wait_disconnected(emu, bad_port, start, timeout=5, what='the non-reading client to be dropped')
        m = wait_err(emu, (LOG_CLIENT % bad_port) + r'closing: (.*)$', 0, what='the reason of the drop')
        print('# non-reading client dropped: %s; server RSS peak +%d kB' % (m.group(1), peak), flush=True)
        check('cap' in m.group(1) or 'backlog' in m.group(1), 'dropped for %r' % m.group(1))
        check(peak < 5 * throttle_kb + 48 * 1024, 'the server grew by %d kB before dropping the client' % peak)
        good.wait_more(5, 10, 'after the slow client was dropped')
        serving(port)
    finally:
        if bad:
            bad.close()
        if good:
            good.stop()
        stop_checked(emu, 'qvnc-emu')

# ---------------------------------------------------------------------------
# CVE-2019-20382: zlib state of disconnected clients

def one_session(port, encs, pf=None):
    c = RfbClient(port, label='session %r' % encs)
    try:
        c.handshake()
        if pf:
            c.set_pixel_format(pf)
        c.set_encodings(encs)
        c.fbur(False)
        # Read the answer (whatever its encoding) by its length: the
        # encoders have run once the first bytes arrive.
        check(c.u8('update') == 0, 'expected a FramebufferUpdate')
    finally:
        c.close()


def cve_2019_20382():
    emu, port = start_emu_env(['-S', '--guest', 'pattern', '--size', '320x240'], env=debug_env(measure=True))
    try:
        asan = under_asan(emu.p.pid)
        mixes = [[7, -256 + 9], [16], [6], [7, -256 + 1], [16, 6], [-260, 7]]
        pfs = [None, rfbview.FORMATS[1], rfbview.FORMATS[3]]
        for i in range(30):                       # warm-up: allocator arenas, caches
            one_session(port, mixes[i % len(mixes)], pfs[i % 3])
        start = emu.mark()
        rss0 = rss_kb(emu.p.pid)
        n = 240
        for i in range(n):
            one_session(port, mixes[i % len(mixes)], pfs[i % 3])
        # Every session is gone before measuring.
        deadline = time.monotonic() + 20
        while sum(1 for l in emu.lines[start:] if l.startswith('CLIENT disconnected')) < n:
            check(time.monotonic() < deadline, 'not all %d sessions were closed by the server' % n)
            emu.wait_line(r'^CLIENT disconnected', 5, emu.mark() - 1)
        grown = rss_kb(emu.p.pid) - rss0
        slack = 48 * 1024 if asan else 12 * 1024
        print('# %d Tight/ZRLE/Zlib sessions: server RSS %+d kB (allowed %d kB%s)'
              % (n, grown, slack, ', ASan' if asan else ''), flush=True)
        check(grown < slack, 'the server kept %d kB after %d compressed sessions closed (leaked zlib state?)'
              % (grown, n))
        serving(port)
    finally:
        stop_checked(emu, 'qvnc-emu')


CASES = [
    ('CVE-2011-0011 empty password keeps authentication', cve_2011_0011),
    ('CVE-2015-5225 surface changes during format switches', cve_2015_5225),
    ('CVE-2016-9603 out-of-bounds copies refused', cve_2016_9603),
    ('CVE-2017-2633 surfaces clamped to 5120x2160', cve_2017_2633),
    ('CVE-2017-15124 non-reading client bounded and dropped', cve_2017_15124),
    ('CVE-2019-20382 no zlib state kept after disconnects', cve_2019_20382),
]


if __name__ == '__main__':
    runner.run_cases(CASES, sys.argv[1:])
