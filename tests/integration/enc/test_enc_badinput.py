#!/usr/bin/python3
"""Bad input to the encoders.

* Colour maxima of zero with Tight-PNG (-260) listed, at 32, 16 and 8 bpp:
  QEMU takes a zero max as 255, so at 32 bpp the session goes on and is
  served; at 16 and 8 bpp 255 does not fit in the pixel, and the server must
  close that client only, with a log line naming it, while a second client
  connected before keeps being served.
* 1000 connect/disconnect cycles of Zlib, Tight and ZRLE clients (in three
  pixel formats) that each receive one update: after a warm-up, the
  server's resident memory and open descriptors (from /proc) do not grow
  beyond a bounded tolerance.  The ASan CI build adds leak detection.

Environment: QVNC_EMU.
"""

import concurrent.futures
import os
import socket
import struct
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))                       # qvnc_testlib
sys.path.insert(0, os.path.join(os.path.dirname(HERE), 'hardening'))  # hardening_lib
from hardening_lib import (Fail, check, start_emu_env, debug_env, rss_kb, fd_count, fds_settled, under_asan,  # noqa: E402
                           err_mark, wait_err)
from qvnc_testlib import PixelFormat, RfbClient, Runner  # noqa: E402

run = Runner('test_enc_badinput')


def served(port, emu, label):
    """A client that gets a full Raw frame and whose key reaches the guest."""
    c = RfbClient(port, label=label)
    try:
        c.handshake()
        c.set_encodings([0])
        c.fbur(False)
        c.read_frame(timeout=15)
        start = emu.mark()
        c.key_event(0x62, True)
        emu.wait_line(r'^INPUT key keysym=0x62 ', 10, start, what='%s: a key' % label)
    finally:
        c.close()


def t_zero_max():
    emu, port = start_emu_env(['-S', '--guest', 'pattern', '--size', '64x48'], env=debug_env())
    try:
        other = RfbClient(port, label='bystander')
        other.handshake()
        other.set_encodings([0])
        for bpp, depth, shifts in ((32, 24, (16, 8, 0)), (16, 16, (11, 5, 0)), (8, 8, (0, 3, 6))):
            c = RfbClient(port, label='max 0 at %d bpp' % bpp)
            c.handshake()
            cport = c.sock.getsockname()[1]
            start, estart = emu.mark(), err_mark(emu)
            # One write: at 16/8 bpp the server may close this client as soon
            # as it has read the pixel format, and a second write could then
            # fail with EPIPE before the test looks at what the server did.
            msg = (b'\x00\x00\x00\x00' + PixelFormat(bpp, depth, 0, 1, 0, 0, 0, *shifts).pack()
                   + struct.pack('>BxH', 2, 3) + b''.join(struct.pack('>i', e) for e in (-260, 7, 0))
                   + struct.pack('>BBHHHH', 3, 0, 0, 0, 64, 48))
            try:
                c.send(msg)
            except (BrokenPipeError, ConnectionResetError):
                check(bpp != 32, '32 bpp, max 0: the server closed the connection')
            if bpp == 32:
                # Taken as 255: an update comes and the session goes on.
                c.sock.settimeout(10)
                t = c.u8('the update')
                check(t == 0, '%d bpp, max 0: message type %d, expected an update' % (bpp, t))
                c.key_event(0x61, True)
                emu.wait_line(r'^INPUT key keysym=0x61 ', 10, start, what='a key after the update (32 bpp)')
                print('# 32 bpp, maxima 0: served (taken as 255, as QEMU does)', flush=True)
            else:
                emu.wait_line(r'^CLIENT disconnected host=\S+ service=%d ' % cport, 10, start,
                              what='%d bpp, maxima 0: the server closing that client' % bpp)
                m = wait_err(emu, r'.*\b%d\b.*\bclos(e|ed|ing)\b.*' % cport, estart,
                             what='a log line saying the client was closed')
                print('# %d bpp, maxima 0: closed; log: %s' % (bpp, m.group(0).strip()), flush=True)
            c.close()
            # The bystander is still served (one full Raw frame each time).
            other.fbur(False)
            other.read_frame(timeout=15)
        other.close()
        served(port, emu, 'a new client after the zero maxima')
        check(emu.alive(), 'qvnc-emu died\n' + emu.describe())
    finally:
        emu.stop()


MIXES = [[6], [7], [16], [7, -256 + 9], [16, 6]]
PFS = [None, PixelFormat(16, 16, 1, 1, 31, 63, 31, 11, 5, 0), PixelFormat(8, 8, 0, 1, 7, 7, 3, 0, 3, 6)]


def one_session(port, i):
    """Handshake, formats and encodings, one full update request; the first
    byte of the answer means the encoder ran.  Then disconnect."""
    s = socket.create_connection(('127.0.0.1', port), timeout=10)
    try:
        def need(n):
            buf = b''
            while len(buf) < n:
                chunk = s.recv(n - len(buf))
                if not chunk:
                    raise Fail('session %d: closed by the server' % i)
                buf += chunk
            return buf
        need(12)
        s.sendall(b'RFB 003.008\n')
        n = need(1)[0]
        need(n)
        s.sendall(b'\x01')
        check(need(4) == b'\0\0\0\0', 'session %d: security result' % i)
        s.sendall(b'\x01')
        w, h, _, name_len = struct.unpack('>HH16sI', need(24))
        need(name_len)
        msg = b''
        pf = PFS[i % len(PFS)]
        if pf:
            msg += b'\x00\x00\x00\x00' + pf.pack()
        encs = MIXES[i % len(MIXES)]
        msg += struct.pack('>BxH', 2, len(encs)) + b''.join(struct.pack('>i', e) for e in encs)
        msg += struct.pack('>BBHHHH', 3, 0, 0, 0, w, h)
        s.sendall(msg)
        check(need(1) == b'\0', 'session %d: expected a FramebufferUpdate' % i)
    finally:
        s.close()


def wait_gone(emu, start, n, what):
    deadline = time.monotonic() + 30
    while sum(1 for l in emu.lines[start:] if l.startswith('CLIENT disconnected')) < n:
        check(time.monotonic() < deadline, '%s: not all %d sessions were closed by the server' % (what, n))
        emu.wait_line(r'^CLIENT disconnected', 5, max(emu.mark() - 1, start))


def t_cycles():
    emu, port = start_emu_env(['-S', '--guest', 'pattern', '--size', '320x240'], env=debug_env(measure=True))
    try:
        asan = under_asan(emu.p.pid)
        start = emu.mark()
        warm = 100
        for i in range(warm):                  # allocator arenas, caches, zlib tables
            one_session(port, i)
        wait_gone(emu, start, warm, 'warm-up')
        rss0, fds0 = rss_kb(emu.p.pid), fd_count(emu.p.pid)
        start = emu.mark()
        n = 1000
        t0 = time.monotonic()
        # Four clients at a time keep the run short on a loaded machine.
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            list(pool.map(lambda i: one_session(port, i), range(n // 2)))
            rss_mid = rss_kb(emu.p.pid)
            list(pool.map(lambda i: one_session(port, i), range(n // 2, n)))
        wait_gone(emu, start, n, 'cycles')
        fds1, _ = fds_settled(emu, fds0, 'after the cycles')
        rss1 = rss_kb(emu.p.pid)
        slack = 48 * 1024 if asan else 8 * 1024
        print('# %d Zlib/Tight/ZRLE sessions in %.1fs: RSS %d -> %d (mid %d) kB (%+d, allowed %d%s), fds %d -> %d'
              % (n, time.monotonic() - t0, rss0, rss1, rss_mid, rss1 - rss0, slack, ', ASan' if asan else '',
                 fds0, fds1), flush=True)
        check(fds1 <= fds0, 'open descriptors grew from %d to %d over %d sessions' % (fds0, fds1, n))
        check(rss1 - rss0 < slack, 'RSS grew by %d kB over %d closed sessions (leaked encoder state?)'
              % (rss1 - rss0, n))
        served(port, emu, 'a client after the cycles')
    finally:
        emu.stop()


run.case('colour maxima 0 with Tight-PNG: 32 bpp served, 16/8 bpp only that client closed', t_zero_max)
run.case('1000 Zlib/Tight/ZRLE connect/disconnect cycles: no RSS or fd growth', t_cycles)
run.finish()
