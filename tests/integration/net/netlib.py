"""Helpers of the network feature tests (tests/integration/net).

Builds on ../qvnc_testlib.py (processes, READY, ports, raw RFB, PPM, Runner)
and adds:
* launch(): qvnc-emu (or another READY-printing program) with any number of
  ports chosen at run time, retried when a port was taken in between;
* server log waits (QVNC_DEBUG=1 puts the server log on stderr);
* a client-side WebSocket (RFC 6455) layer over a plain or TLS socket, with
  RfbClient on top of it (WsRfbClient), and RfbClient over any connected
  socket (SockRfbClient: unix sockets, IPv6);
* XVP (power control) messages.
Standard library only.
"""

import base64
import hashlib
import os
import re
import socket
import struct
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))   # tests/integration: qvnc_testlib
sys.path.insert(0, HERE)

from qvnc_testlib import (Fail, ProcExited, Proc, RfbClient, check, expect_bytes, hexs,  # noqa: E402,F401
                          env_path, err_mark, wait_err, HOST, DEFAULT_TIMEOUT)

WS_GUID = b'258EAFA5-E914-47DA-95CA-C5AB0DC85B11'
ENC_XVP = -309


# ---------------------------------------------------------------------------
# ports and processes

def free_port(host=HOST, family=socket.AF_INET, minimum=5900, avoid=()):
    """A TCP port >= minimum that was free a moment ago on host."""
    for _ in range(100):
        s = socket.socket(family, socket.SOCK_STREAM)
        try:
            s.bind((host, 0))
            port = s.getsockname()[1]
        finally:
            s.close()
        if minimum <= port <= 65535 and port not in avoid:
            return port
    raise Fail('could not find a free port >= %d on %s' % (minimum, host))


def free_ports(n, host=HOST, family=socket.AF_INET):
    ports = []
    for _ in range(n):
        ports.append(free_port(host, family, avoid=ports))
    return ports


def emu_env(extra=None):
    env = dict(os.environ)
    env['QVNC_DEBUG'] = '1'
    if extra:
        env.update(extra)
    return env


def emu():
    return env_path('QVNC_EMU')


def launch(make_argv, nports=1, name='qvnc-emu', env=None, ready_timeout=20, attempts=5,
           host=HOST, family=socket.AF_INET):
    """make_argv(*ports) -> argv. Starts it and waits for READY.
    Returns (Proc, ports). Retried with new ports when one was taken."""
    last = None
    for _ in range(attempts):
        ports = free_ports(nports, host, family)
        proc = Proc(make_argv(*ports), name=name, env=emu_env() if env is None else env)
        try:
            proc.wait_line(r'^READY$', ready_timeout, what='READY')
            return proc, ports
        except Fail as e:
            last = e
            proc.stop()
            text = '\n'.join(proc.err + proc.lines).lower()
            if 'in use' in text or 'eaddrinuse' in text:
                continue
            raise
    raise Fail('%s never became ready (port races?): %s' % (name, last))


def run_expect_exit(argv, timeout=20, env=None):
    """Runs a program that must exit by itself. Returns CompletedProcess."""
    import subprocess
    try:
        return subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout,
                              env=emu_env() if env is None else env)
    except subprocess.TimeoutExpired as e:
        raise Fail('%s did not exit within %ds: %s\n  stdout: %s\n  stderr: %s'
                   % (os.path.basename(argv[0]), timeout, ' '.join(argv), (e.stdout or b'')[-400:],
                      (e.stderr or b'')[-400:]))


def closing_reason(proc, port, start, what, timeout=DEFAULT_TIMEOUT):
    """The reason in the server's `client 127.0.0.1:PORT: closing: REASON` line
    (without the update counts that follow it for a client that had updates)."""
    m = wait_err(proc, r'client [^ ]*:%d: closing: (.*?)(?: \(\d+ updates, \d+ from shared encodes\))?$' % port,
                 start, timeout, what)
    return m.group(1)


def lines_matching(proc, pattern, start=0):
    rx = re.compile(pattern)
    with proc.cond:
        return [l for l in proc.lines[start:] if rx.search(l)]


# ---------------------------------------------------------------------------
# RFB clients over other sockets

class SockRfbClient(RfbClient):
    """RfbClient over an already connected socket (unix, IPv6, TLS...)."""

    def __init__(self, sock, label='client', timeout=DEFAULT_TIMEOUT):
        self.label = label
        self.timeout = timeout
        sock.settimeout(timeout)
        self.sock = sock
        self.pf = None
        self.width = self.height = None


def connect_unix(path, timeout=DEFAULT_TIMEOUT):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(path)
    return s


def connect_tcp(port, host=HOST, timeout=DEFAULT_TIMEOUT):
    s = socket.create_connection((host, port), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def recv_exact(sock, n, what, label='client'):
    buf = bytearray()
    while len(buf) < n:
        try:
            chunk = sock.recv(n - len(buf))
        except socket.timeout:
            raise Fail('%s: timed out reading %s (%d of %d bytes: [%s])' % (label, what, len(buf), n, hexs(bytes(buf))))
        except ConnectionResetError:
            chunk = b''
        if not chunk:
            raise Fail('%s: connection closed while reading %s (got %d of %d bytes: [%s])'
                       % (label, what, len(buf), n, hexs(bytes(buf))))
        buf += chunk
    return bytes(buf)


def read_until_eof(sock, timeout=DEFAULT_TIMEOUT, what='the server to close', label='client', limit=1 << 22):
    """All bytes until EOF (a reset counts as EOF). Fails on timeout."""
    deadline = time.monotonic() + timeout
    buf = bytearray()
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise Fail('%s: waited %.0fs for %s, but the connection stayed open (read [%s])'
                       % (label, timeout, what, hexs(bytes(buf))))
        sock.settimeout(left)
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            continue
        except (ConnectionResetError, BrokenPipeError):
            chunk = b''
        if not chunk:
            return bytes(buf)
        buf += chunk
        if len(buf) > limit:
            raise Fail('%s: more than %d bytes while waiting for %s' % (label, limit, what))


def send_ignoring_reset(sock, data):
    """Sends; a peer that already closed is not an error here."""
    try:
        sock.sendall(data)
        return True
    except (BrokenPipeError, ConnectionResetError):
        return False


# ---------------------------------------------------------------------------
# WebSocket client side

def ws_key():
    return base64.b64encode(os.urandom(16)).decode()


def ws_accept(key):
    return base64.b64encode(hashlib.sha1(key.encode() + WS_GUID).digest()).decode()


def ws_request(key, path='/', host='127.0.0.1', extra=()):
    lines = ['GET %s HTTP/1.1' % path, 'Host: %s' % host, 'Upgrade: websocket', 'Connection: Upgrade',
             'Sec-WebSocket-Key: %s' % key, 'Sec-WebSocket-Version: 13', *extra]
    return ('\r\n'.join(lines) + '\r\n\r\n').encode()


def read_http_response(sock, label='ws client', timeout=DEFAULT_TIMEOUT):
    """Reads up to the blank line. Returns (status line, {lower name: value}, rest bytes)."""
    deadline = time.monotonic() + timeout
    buf = b''
    while b'\r\n\r\n' not in buf:
        left = deadline - time.monotonic()
        if left <= 0:
            raise Fail('%s: no complete HTTP response within %.0fs (got [%s])' % (label, timeout, buf[:200]))
        sock.settimeout(left)
        try:
            chunk = sock.recv(4096)
        except socket.timeout:
            continue
        except ConnectionResetError:
            chunk = b''
        if not chunk:
            raise Fail('%s: connection closed before a complete HTTP response (got %r)' % (label, buf[:300]))
        buf += chunk
        check(len(buf) < 65536, '%s: endless HTTP response' % label)
    head, rest = buf.split(b'\r\n\r\n', 1)
    lines = head.decode('latin-1').split('\r\n')
    headers = {}
    for l in lines[1:]:
        k, _, v = l.partition(':')
        headers[k.strip().lower()] = v.strip()
    return lines[0], headers, rest


def mask_frame(first, payload, mask=None, announced=None, masked=True):
    """A client frame: first byte (FIN|opcode), payload masked with mask."""
    n = len(payload) if announced is None else announced
    m = 0x80 if masked else 0
    if n < 126:
        hdr = bytes([first, m | n])
    elif n <= 0xFFFF:
        hdr = bytes([first, m | 126]) + struct.pack('>H', n)
    else:
        hdr = bytes([first, m | 127]) + struct.pack('>Q', n)
    if not masked:
        return hdr + payload
    mask = os.urandom(4) if mask is None else mask
    return hdr + mask + bytes(b ^ mask[i & 3] for i, b in enumerate(payload))


def ws_binary(payload):
    return mask_frame(0x82, payload)


class WsSocket:
    """A socket-like object speaking WebSocket (client side) on `sock`.
    recv() gives the payload of the server's binary frames; sendall() sends
    one masked binary frame. Server ping frames are answered with pongs."""

    def __init__(self, sock, label='ws client', rest=b''):
        self.sock = sock
        self.label = label
        self.raw = bytearray(rest)   # undecoded bytes from the server
        self.data = bytearray()      # decoded payload not yet returned
        self.closed = False          # close frame or EOF seen
        self.frames = []             # (opcode, fin, length) of each server frame, for checks

    # socket-like API used by RfbClient
    def settimeout(self, t):
        self.sock.settimeout(t)

    def setsockopt(self, *a):
        self.sock.setsockopt(*a)

    def getsockname(self):
        return self.sock.getsockname()

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def sendall(self, data):
        self.sock.sendall(ws_binary(data))

    def _parse(self):
        """Decodes whole frames out of self.raw."""
        while True:
            if len(self.raw) < 2:
                return
            b0, b1 = self.raw[0], self.raw[1]
            check(not (b1 & 0x80), '%s: the server sent a masked frame (header [%s])'
                  % (self.label, hexs(bytes(self.raw[:14]))))
            check(not (b0 & 0x70), '%s: server frame with reserved bits (header [%s])'
                  % (self.label, hexs(bytes(self.raw[:14]))))
            n = b1 & 0x7F
            pos = 2
            if n == 126:
                if len(self.raw) < 4:
                    return
                n = struct.unpack('>H', self.raw[2:4])[0]
                pos = 4
            elif n == 127:
                if len(self.raw) < 10:
                    return
                n = struct.unpack('>Q', self.raw[2:10])[0]
                pos = 10
            if len(self.raw) < pos + n:
                return
            op = b0 & 0x0F
            payload = bytes(self.raw[pos:pos + n])
            del self.raw[:pos + n]
            self.frames.append((op, bool(b0 & 0x80), n))
            if op in (0, 2):
                self.data += payload
            elif op == 8:
                self.closed = True
                return
            elif op == 9:
                try:
                    self.sock.sendall(mask_frame(0x8A, payload))
                except OSError:
                    pass
            elif op == 10:
                pass
            else:
                raise Fail('%s: the server sent a frame with opcode %d' % (self.label, op))

    def recv(self, n):
        self._parse()   # bytes that came with the HTTP response
        while not self.data and not self.closed:
            chunk = self.sock.recv(65536)   # timeouts propagate as socket.timeout
            if not chunk:
                self.closed = True
                break
            self.raw += chunk
            self._parse()
        if not self.data:
            return b''
        out = bytes(self.data[:n])
        del self.data[:n]
        return out


def ws_connect(port, host=HOST, path='/', label='ws client', tls_context=None, extra=(), timeout=DEFAULT_TIMEOUT,
               expect_protocol=None):
    """Connects, upgrades, checks the 101 answer. Returns a WsSocket."""
    sock = connect_tcp(port, host, timeout)
    if tls_context is not None:
        sock = tls_context.wrap_socket(sock, server_hostname=None if tls_context.check_hostname is False
                                       else host)
    key = ws_key()
    sock.sendall(ws_request(key, path, '%s:%d' % (host, port), extra))
    status, headers, rest = read_http_response(sock, label, timeout)
    check(status == 'HTTP/1.1 101 Switching Protocols', '%s: upgrade answered %r (headers %r)'
          % (label, status, headers))
    check(headers.get('sec-websocket-accept') == ws_accept(key), '%s: Sec-WebSocket-Accept %r, expected %r'
          % (label, headers.get('sec-websocket-accept'), ws_accept(key)))
    check(headers.get('upgrade', '').lower() == 'websocket', '%s: Upgrade header %r' % (label, headers.get('upgrade')))
    check(headers.get('sec-websocket-protocol') == expect_protocol,
          '%s: Sec-WebSocket-Protocol %r, expected %r' % (label, headers.get('sec-websocket-protocol'),
                                                          expect_protocol))
    return WsSocket(sock, label, rest)


class WsRfbClient(RfbClient):
    """RfbClient over a WebSocket connection."""

    def __init__(self, port, host=HOST, label='ws client', timeout=DEFAULT_TIMEOUT, **kw):
        self.label = label
        self.timeout = timeout
        self.sock = ws_connect(port, host, label=label, timeout=timeout, **kw)
        self.pf = None
        self.width = self.height = None


# ---------------------------------------------------------------------------
# XVP

def xvp_message(code, version=1):
    return struct.pack('>BxBB', 250, version, code)


def read_xvp(c, what, on_other=None, limit=50):
    """Reads server messages until an XVP message; returns its (version, code).
    Other messages (updates etc.) go to on_other. Handles the type-250
    message RfbClient.read_message does not know."""
    for _ in range(limit):
        t = c.recv_exact(1, what)[0]
        if t == 250:
            pad, ver, code = struct.unpack('>BBB', c.recv_exact(3, what + ' (XVP body)'))
            check(pad == 0, '%s: XVP padding byte %d' % (c.label, pad))
            return ver, code
        # put the type byte back in front of the stream: re-read the message
        msg = _read_after_type(c, t)
        if on_other:
            on_other(msg)
    raise Fail('%s: no XVP message among %d server messages' % (c.label, limit))


def _read_after_type(c, t):
    # RfbClient.read_message reads the type byte itself; emulate it.
    c.u8 = lambda what='u8': t
    try:
        return c.read_message()
    finally:
        del c.u8
