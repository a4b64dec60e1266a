"""Wire-level regression tests for the QEMU VNC CVEs (spec §6) whose attack
is what a client sends: odd pixel formats, websocket headers and frames,
huge or truncated cut text, colour maxima of zero, clients leaving during
the TLS handshake, and the October 2024 SASL hardening.  Each case sends
the hostile input a real attacker would, checks the required behaviour
(close, clamp, refusal, no growth) and then checks that the server still
serves a second client.  test_cves_guest.py has the cases where the guest,
the monitor or a client's resources are the attack.

Run by meson (suite hardening) with QVNC_EMU, QVNC_HARDENING_HOST set.
"""

import os
import socket
import struct
import sys
import time
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), 'tls'))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), 'sasl'))

from hardening_lib import (Fail, RfbClient, check, hexs, start_emu_env, debug_env, rss_kb,  # noqa: E402
                           err_mark, wait_err, serving, stop_checked, free_port, HOST, connect_raw)
from qvnc_testlib import (Runner, PixelFormat, PF_SERVER_LE, frame_dump, compare_pixels, tmpdir,  # noqa: E402
                          start_server, env_path, expect_bytes)

LOG_CLIENT = r'client 127\.0\.0\.1:%d: '
EXT_CLIP = 0xC0A1E5CE - (1 << 32)
CLIP_PROVIDE, CLIP_TEXT, CLIP_CAPS = 1 << 28, 1, 1 << 24

runner = Runner('hardening CVE regressions: client input')
WORK = tmpdir('qvnc-hard-cve-client-')


def closing_reason(proc, port, start, what):
    m = wait_err(proc, (LOG_CLIENT % port) + r'closing: (.*)$', start, what=what)
    print('# %s: server log: closing: %s' % (what, m.group(1)), flush=True)
    return m.group(1)



# ---------------------------------------------------------------------------
# CVE-2014-7815: SetPixelFormat with an odd bits-per-pixel

def cve_2014_7815():
    emu, port = start_emu_env(['-S', '--guest', 'pattern', '--size', '64x48'], env=debug_env())
    try:
        for bpp in (0, 1, 7, 15, 17, 24, 31, 33, 64, 255):
            c = RfbClient(port, label='bpp %d' % bpp)
            try:
                c.handshake()
                mark = err_mark(emu)
                c.send(b'\x00\x00\x00\x00' + PixelFormat(bpp, 24, 0, 1, 255, 255, 255, 16, 8, 0).pack())
                c.fbur(False)
                c.read_until_eof(what='the server to close a client asking for %d bits per pixel' % bpp)
                reason = closing_reason(emu, c.sock.getsockname()[1], mark, 'bpp %d' % bpp)
                check('bits-per-pixel' in reason, 'bpp %d: closed for %r' % (bpp, reason))
            finally:
                c.close()
        serving(port)
    finally:
        stop_checked(emu, 'qvnc-emu')

# ---------------------------------------------------------------------------
# CVE-2015-1779: websocket headers without end, frames of absurd length

def ws_upgrade(sock, extra=b''):
    key = b'dGhlIHNhbXBsZSBub25jZQ=='
    sock.sendall(b'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n'
                 b'Sec-WebSocket-Key: ' + key + b'\r\nSec-WebSocket-Version: 13\r\n'
                 b'Sec-WebSocket-Protocol: binary\r\n' + extra + b'\r\n')
    buf = b''
    while b'\r\n\r\n' not in buf:
        chunk = sock.recv(4096)
        if not chunk:
            raise Fail('websocket: closed during the upgrade: [%s]' % hexs(buf))
        buf += chunk
    head, rest = buf.split(b'\r\n\r\n', 1)
    check(head.startswith(b'HTTP/1.1 101'), 'websocket upgrade refused: %r' % head[:200])
    return rest


class WsReader:
    def __init__(self, sock, pending=b''):
        self.sock, self.buf = sock, pending
        self.payload = b''

    def need(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise Fail('websocket: server closed while %d bytes were expected' % n)
            self.buf += chunk

    def frame(self):
        self.need(2)
        b0, b1 = self.buf[0], self.buf[1]
        n, off = b1 & 0x7f, 2
        if n == 126:
            self.need(4)
            n, off = struct.unpack('>H', self.buf[2:4])[0], 4
        elif n == 127:
            self.need(10)
            n, off = struct.unpack('>Q', self.buf[2:10])[0], 10
        self.need(off + n)
        payload, self.buf = self.buf[off:off + n], self.buf[off + n:]
        check(b0 & 0x0f == 2, 'websocket: server frame opcode %d, expected binary' % (b0 & 0x0f))
        return payload

    def read(self, n):
        """n bytes of the RFB stream, whatever the frame boundaries."""
        while len(self.payload) < n:
            self.payload += self.frame()
        data, self.payload = self.payload[:n], self.payload[n:]
        return data


def masked(payload, mask, offset=0):
    return bytes(c ^ mask[(offset + i) & 3] for i, c in enumerate(payload))


def cve_2015_1779():
    ws = {}

    def argv(d):
        ws['port'] = free_port()
        return [env_path('QVNC_EMU'), '-S', '--guest', 'pattern', '--size', '64x48',
                '-vnc', '%s:%d,websocket=%s:%d' % (HOST, d, HOST, ws['port'])]
    emu, port = start_server(argv, 'qvnc-emu', env=debug_env(measure=True))
    wport = ws['port']
    try:
        # Endless headers: answered 403 and closed once 4096 bytes arrived.
        s = connect_raw(wport)
        try:
            s.sendall(b'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Pad: ')
            sent = 0
            reply = b''
            s.settimeout(0.5)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                try:
                    s.sendall(b'a' * 1024)
                    sent += 1024
                except (BrokenPipeError, ConnectionResetError):
                    break
                try:
                    chunk = s.recv(4096)
                except socket.timeout:
                    continue
                if not chunk:
                    break
                reply += chunk
                if b'\r\n\r\n' in reply:
                    break
                check(sent < 1 << 20, 'websocket: 1 MiB of header bytes accepted without an answer')
            check(reply.startswith(b'HTTP/1.1 403'), 'endless headers: expected a 403 answer, got [%s]' % hexs(reply))
            print('# endless headers: %r after %d bytes' % (reply.split(b'\r\n')[0], sent), flush=True)
        finally:
            s.close()
        # 33 headers: too many.
        s = connect_raw(wport)
        try:
            s.sendall(b'GET / HTTP/1.1\r\n' + b''.join(b'X-H%d: v\r\n' % i for i in range(40)) + b'\r\n')
            reply = s.recv(4096)
            check(reply.startswith(b'HTTP/1.1 400'), 'too many headers: got [%s]' % hexs(reply))
        finally:
            s.close()

        # A frame announcing 2^62 bytes: its payload is taken as it arrives,
        # so the whole handshake runs inside that one frame.
        rss0 = rss_kb(emu.p.pid)
        s = connect_raw(wport)
        try:
            rd = WsReader(s, ws_upgrade(s))
            expect_bytes(rd.read(12), b'RFB 003.008\n', 'websocket: server version')
            mask = b'\x11\x22\x33\x44'
            s.sendall(b'\x82\xff' + struct.pack('>Q', 1 << 62) + mask)
            off = 0
            for chunk in (b'RFB 003.008\n', b'\x01', b'\x01'):
                s.sendall(masked(chunk, mask, off))
                off += len(chunk)
                if chunk.startswith(b'RFB'):
                    expect_bytes(rd.read(2), b'\x01\x01', 'websocket: security types inside a 2^62-byte frame')
                elif len(chunk) == 1 and off == 13:
                    expect_bytes(rd.read(4), b'\0\0\0\0', 'websocket: SecurityResult')
            si = rd.read(24)
            w, h = struct.unpack('>HH', si[:4])
            check((w, h) == (64, 48), 'websocket: ServerInit says %dx%d' % (w, h))
            rd.read(struct.unpack('>I', si[20:24])[0])
            grown = rss_kb(emu.p.pid) - rss0
            print('# 2^62-byte frame: handshake done inside it, server RSS +%d kB' % grown, flush=True)
            check(grown < 32 * 1024, 'the server grew by %d kB for a frame that announced 2^62 bytes' % grown)
        finally:
            s.close()
        # A length with the top bit set is refused.
        s = connect_raw(wport)
        try:
            rd = WsReader(s, ws_upgrade(s))
            rd.read(12)
            s.sendall(b'\x82\xff' + struct.pack('>Q', 1 << 63) + b'abcd' + b'x' * 16)
            s.settimeout(10)
            rest = b''
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    break
                rest += chunk
            print('# 2^63 frame length: closed after [%s]' % hexs(rest), flush=True)
            # RFC 6455 5.2: the 64-bit length's top bit must be 0; the
            # server fails the connection: at most a Close frame (opcode 8,
            # unmasked, a status code or nothing), no RFB data.
            if rest:
                n = rest[1] & 0x7f if len(rest) > 1 else -1
                check(rest[0] == 0x88 and len(rest) > 1 and not rest[1] & 0x80 and n < 126 and n != 1
                      and len(rest) == 2 + n,
                      'a frame length with the top bit set was answered with [%s], expected a Close frame or '
                      'nothing' % hexs(rest))
        finally:
            s.close()
        serving(port)
    finally:
        stop_checked(emu, 'qvnc-emu')

# ---------------------------------------------------------------------------
# CVE-2015-5239: huge ClientCutText

def cve_2015_5239():
    emu, port = start_emu_env(['-S', '--guest', 'pattern', '--size', '64x48'], env=debug_env(measure=True))
    try:
        rss0 = rss_kb(emu.p.pid)
        for n in (0x7fffffff, 0x80000000, 0xffffffff, 1024 * 1024 + 1):
            c = RfbClient(port, label='cut text %d' % n)
            try:
                c.handshake()
                mark = err_mark(emu)
                c.send(struct.pack('>BxxxI', 6, n) + b'x' * 4096)
                c.read_until_eof(what='the server to refuse %d bytes of cut text' % n)
                reason = closing_reason(emu, c.sock.getsockname()[1], mark, 'cut text %d' % n)
                # Negative lengths are extended clipboard messages, which
                # this client did not negotiate.
                want = 'exceeds our limit of 1MB' if n < 0x80000000 else 'extended clipboard message while disabled'
                check(want in reason, 'cut text %d: closed for %r, expected %r' % (n, reason, want))
            finally:
                c.close()
        grown = rss_kb(emu.p.pid) - rss0
        check(grown < 16 * 1024, 'the server grew by %d kB after refusing huge cut texts' % grown)
        # Exactly 1 MiB is allowed.
        c = RfbClient(port, label='cut text 1 MiB')
        try:
            c.handshake()
            start = emu.mark()
            c.cut_text(b'a' * (1024 * 1024))
            emu.wait_line(r'^INPUT cut-text len=1048576 ', 20, start, what='the 1 MiB cut text')
        finally:
            c.close()
        serving(port)
    finally:
        stop_checked(emu, 'qvnc-emu')

# ---------------------------------------------------------------------------
# CVE-2015-8504: colour maxima of zero

def cve_2015_8504():
    dump = os.path.join(WORK, 'f8504.ppm')
    emu, port = start_emu_env(['-S', '--guest', 'pattern', '--size', '64x48', '--frame-dump', dump])
    try:
        w, h, rgb = frame_dump(emu, dump)
        for encs in ([0], [-260, 7, 0], [7, 0], [5], [16], [6]):
            c = RfbClient(port, label='max 0, encodings %r' % encs)
            try:
                c.handshake()
                c.send(b'\x00\x00\x00\x00' + PixelFormat(32, 24, 0, 1, 0, 0, 0, 16, 8, 0).pack())
                c.pf = PF_SERVER_LE   # QEMU: a max of 0 is taken as 255
                c.set_encodings(encs)
                c.fbur(False)
                if encs == [0]:
                    got = c.read_frame()
                    compare_pixels(PF_SERVER_LE, w, h, rgb, got, 'Raw with maxima 0 (as 255)')
                else:
                    # Whatever the encoder sends, the connection goes on:
                    # a key event after the update is still processed.
                    start = emu.mark()
                    c.key_event(0x61, True)
                    emu.wait_line(r'^INPUT key keysym=0x61 ', 10, start, what='a key after the update (%r)' % encs)
            finally:
                c.close()
        serving(port)
    finally:
        stop_checked(emu, 'qvnc-emu')

# ---------------------------------------------------------------------------
# CVE-2023-3255: extended clipboard zlib data that ends early

def ext_clip_msg(flags, payload):
    return struct.pack('>Bxxxi', 6, -(4 + len(payload))) + struct.pack('>I', flags) + payload


def ext_clip_client(port, label):
    c = RfbClient(port, label=label)
    c.handshake()
    c.set_encodings([0, EXT_CLIP])
    # The server's caps: ServerCutText with a negative length.
    t = c.u8('message type')
    n = struct.unpack('>xxxi', c.recv_exact(7, 'ServerCutText header'))[0]
    check(t == 3 and n < 0, 'expected the extended clipboard caps, got type %d length %d' % (t, n))
    flags = c.u32('caps flags')
    c.recv_exact(-n - 4, 'caps sizes')
    check(flags & CLIP_CAPS, 'caps message flags 0x%08x' % flags)
    return c


def processed_or_closed(emu, c, keysym, start, what):
    """After a hostile message and a key event: the server either handled
    the key (it went on) or closed this client -- promptly, in both cases
    (an inflate loop would do neither).  Returns 'went on' or 'closed'."""
    port = c.sock.getsockname()[1]
    m = emu.wait_line(r'^(INPUT key keysym=0x%x |CLIENT disconnected host=\S+ service=%d\b)' % (keysym, port),
                      5, start, what=what)
    return 'went on' if m[1].group(1).startswith('INPUT') else 'closed'


def cve_2023_3255():
    emu, port = start_emu_env(['-S', '--guest', 'pattern', '--size', '64x48'], env=debug_env())
    try:
        text = ('line %d of the clipboard\n' % 1) * 200
        z = zlib.compress(struct.pack('>I', len(text) + 1) + text.encode() + b'\0')
        big = b'b' * (2 << 20)
        zb = zlib.compress(struct.pack('>I', len(big) + 1) + big + b'\0', 9)
        cases = [('%d of %d bytes of a zlib stream' % (k, len(z)), z[:k])
                 for k in (2, 5, 11, len(z) // 2, len(z) - 4)]
        cases.append(('a zlib bomb of 2 MiB in %d bytes' % len(zb), zb))
        cases.append(('a zlib stream without its end, then garbage', z[:len(z) // 2] + b'\xff' * 64))
        for what, payload in cases:
            c = ext_clip_client(port, what)
            try:
                start = emu.mark()
                c.send(ext_clip_msg(CLIP_PROVIDE | CLIP_TEXT, payload))
                c.key_event(0x62, True)
                outcome = processed_or_closed(emu, c, 0x62, start, 'the server to handle %s' % what)
                print('# %s: %s' % (what, outcome), flush=True)
                check(emu.find(r'^INPUT cut-text len=(\d{7,})', start) is None, 'more than 1 MiB delivered (%s)'
                      % what)
            finally:
                c.close()
        # A good one still works, on a connection that sent a bad one first
        # if the server keeps such connections.
        c = ext_clip_client(port, 'valid provide')
        try:
            good = zlib.compress(struct.pack('>I', 6) + b'hello\0')
            start = emu.mark()
            c.send(ext_clip_msg(CLIP_PROVIDE | CLIP_TEXT, good))
            emu.wait_line(r'^INPUT cut-text len=5 text=hello$', 10, start, what='a valid provide')
        finally:
            c.close()
        serving(port)
    finally:
        stop_checked(emu, 'qvnc-emu')

# ---------------------------------------------------------------------------
# CVE-2023-3354: clients leaving during the TLS handshake

def cve_2023_3354():
    import tls_pki
    from tls_common import VencryptClient, x509_context, client_hello_bytes, X509_NONE
    pki = tls_pki.make_pki(os.path.join(WORK, 'pki'))
    creds = 'tls-creds-x509,id=tls0,dir=%s,endpoint=server,verify-peer=off' % pki.creds_dir('good')
    emu, port = start_emu_env(['-S', '--guest', 'pattern', '--size', '64x48', '-object', creds],
                              vnc_suffix=',tls-creds=tls0,connections=3', env=debug_env())
    try:
        ctx = x509_context(ca=pki.ca_cert, hostname_check=False)
        hello = client_hello_bytes(ctx)
        # 1. Leave right after the sub-type ack, after half a ClientHello,
        # after a whole one (the server is answering), with RST.
        for i, how in enumerate(['ack', 'half', 'hello', 'rst', 'hello-rst'] * 4):
            c = VencryptClient(port, label='leaving client %d (%s)' % (i, how))
            try:
                c.vencrypt_until_ack(X509_NONE)
                if how in ('half',):
                    c.send(hello[:len(hello) // 2])
                elif how in ('hello', 'hello-rst'):
                    c.send(hello)
                if how.endswith('rst'):
                    c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
            finally:
                c.close()
        # 2. More clients stuck in the handshake than connections=3 allows:
        # the oldest are dropped by the limit while handshaking.
        stuck = []
        try:
            for i in range(8):
                c = VencryptClient(port, label='stuck client %d' % i)
                c.vencrypt_until_ack(X509_NONE)
                c.send(hello)
                stuck.append(c)
            # A full TLS client still gets through (and drops the oldest).
            ok = VencryptClient(port, label='complete TLS client')
            try:
                ok.vencrypt_until_ack(X509_NONE)
                ok.start_tls(ctx)
                expect_bytes(ok.recv_exact(4, 'SecurityResult'), b'\0\0\0\0', 'X509None SecurityResult')
                si = ok.client_init()
                check((si.width, si.height) == (64, 48), 'ServerInit over TLS says %dx%d' % (si.width, si.height))
            finally:
                ok.close()
        finally:
            for c in stuck:
                c.close()
        check(emu.alive(), 'qvnc-emu died')
        # And again after all of that.
        ok = VencryptClient(port, label='TLS client afterwards')
        try:
            ok.vencrypt_until_ack(X509_NONE)
            ok.start_tls(ctx)
            expect_bytes(ok.recv_exact(4, 'SecurityResult'), b'\0\0\0\0', 'X509None SecurityResult')
            ok.client_init()
        finally:
            ok.close()
    finally:
        stop_checked(emu, 'qvnc-emu')

# ---------------------------------------------------------------------------
# October 2024 SASL hardening

def sasl_2024():
    import sasl_fixtures as sf
    conf_empty = sf.write_sasl_conf(os.path.join(WORK, 'sasl-empty'), 'plain')
    conf = sf.write_sasl_conf(os.path.join(WORK, 'sasl-ok'), 'digest-md5',
                              sasldb=os.path.join(WORK, 'sasl-ok', 'none.db'))
    # Empty mechanism list (PLAIN is plaintext, refused on plain TCP):
    # the server closes without sending a list.
    emu, port = sf.start_sasl_emu('sasl=on', conf_empty)
    try:
        c = sf.RawSasl(port, label='empty mechlist client')
        try:
            c.to_sasl()
            got = c.read_until_eof(what='the server to close instead of sending an empty mechlist')
            check(got == b'', 'with no usable mechanism the server sent [%s]' % hexs(got))
        finally:
            c.close()
        check(emu.alive(), 'qvnc-emu died on an empty mechlist')
    finally:
        stop_checked(emu, 'qvnc-emu')

    emu, port = sf.start_sasl_emu('sasl=on', conf)
    try:
        cases = [
            ('mechname of length 0', lambda c: c.send_mech(b'')),
            ('mechname of length 101', lambda c: c.send_mech(b'D' * 101)),
            ('mechname of length 2^32-1', lambda c: c.send(struct.pack('>I', 0xffffffff) + b'DIGEST-MD5')),
            ('mechname not in the list', lambda c: c.send_mech(b'PLAIN')),
            ('mechname prefix of an entry', lambda c: c.send_mech(b'DIGEST')),
            ('mechname with a NUL', lambda c: c.send_mech(b'DIGEST-MD5\0')),
            ('client data without the NUL pad',
             lambda c: (c.send_mech(b'DIGEST-MD5'), c.send(struct.pack('>I', 5) + b'alice'))),
            ('client data over 1 MiB',
             lambda c: (c.send_mech(b'DIGEST-MD5'), c.send(struct.pack('>I', (1 << 20) + 1) + b'x' * 4096))),
        ]
        for what, act in cases:
            c = sf.RawSasl(port, label=what)
            try:
                c.to_sasl()
                mechs = c.mechlist()
                check(b'DIGEST-MD5' in mechs, 'mechlist %r' % mechs)
                act(c)
                got = c.read_until_eof(what='the server to close on a %s' % what)
                check(got == b'', '%s: the server answered [%s] before closing' % (what, hexs(got)))
            finally:
                c.close()
        # Still serving: a new client gets the mechanism list and a
        # well-formed start gets a challenge.
        c = sf.RawSasl(port, label='well-formed SASL client')
        try:
            c.to_sasl()
            c.mechlist()
            c.send_mech(b'DIGEST-MD5')
            c.send_data(None)
            data, complete = c.read_server_data('DIGEST-MD5 challenge')
            check(complete == 0 and data and b'nonce=' in data, 'expected a DIGEST-MD5 challenge, got %r' % data)
        finally:
            c.close()
    finally:
        stop_checked(emu, 'qvnc-emu')


CASES = [
    ('CVE-2014-7815 odd bits-per-pixel closes the client', cve_2014_7815),
    ('CVE-2015-1779 websocket headers capped, frames incremental', cve_2015_1779),
    ('CVE-2015-5239 cut text over 1 MiB closes the client', cve_2015_5239),
    ('CVE-2015-8504 colour maxima of zero', cve_2015_8504),
    ('CVE-2023-3255 truncated extended clipboard zlib', cve_2023_3255),
    ('CVE-2023-3354 clients leaving mid-TLS-handshake', cve_2023_3354),
    ('SASL hardening (Oct 2024): mechlist, mechname, NUL pad', sasl_2024),
]


if __name__ == '__main__':
    runner.run_cases(CASES, sys.argv[1:])
