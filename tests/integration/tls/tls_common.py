"""Shared pieces of the TLS integration tests.

Builds on ../qvnc_testlib.py (processes, ports, raw RFB, PPM, Runner) and
adds: starting qvnc-emu with TLS options and QVNC_DEBUG=1, waiting for the
server's stderr log lines (why a client was refused), the VeNCrypt exchange
byte for byte, and stdlib `ssl` client contexts (x509 and anonymous DH).
"""

import os
import re
import ssl
import struct
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))   # tests/integration: qvnc_testlib
sys.path.insert(0, HERE)

from qvnc_testlib import (Fail, ProcExited, RfbClient, check, expect_bytes, hexs, env_path,  # noqa: E402,F401
                          start_server, free_port, err_mark, wait_err, HOST, DEFAULT_TIMEOUT)

# VeNCrypt sub-types with QEMU's numbering (spec 2.2).
TLS_NONE, TLS_VNC, X509_NONE, X509_VNC, X509_SASL, TLS_SASL = 257, 258, 260, 261, 263, 264
SUBTYPE_NAMES = {TLS_NONE: 'TLSNone', TLS_VNC: 'TLSVnc', X509_NONE: 'X509None', X509_VNC: 'X509Vnc',
                 X509_SASL: 'X509SASL', TLS_SASL: 'TLSSASL'}

AUTH_FAILED_38 = b'\x00\x00\x00\x01' + struct.pack('>I', 22) + b'Authentication failed\x00'

# Log lines of the server (stderr with QVNC_DEBUG=1), e.g.
#   qvnc: info: vnc: default: client 127.0.0.1:PORT: closing: TLS handshake failed: ...
LOG_CLIENT = r'client 127\.0\.0\.1:%d: '


def emu_env():
    env = dict(os.environ)
    env['QVNC_DEBUG'] = '1'
    return env


def emu_argv(display, vnc_opts, objects=(), frame_dump=None, size=None, extra=()):
    """argv for qvnc-emu: pattern guest, frozen (-S)."""
    argv = [env_path('QVNC_EMU'), '-name', 'tls-test', '-S']
    for o in objects:
        argv += ['-object', o]
    argv += ['-vnc', '%s:%d%s' % (HOST, display, (',' + vnc_opts) if vnc_opts else ''),
             '--guest', 'pattern']
    if size:
        argv += ['--size', size]
    if frame_dump:
        argv += ['--frame-dump', frame_dump]
    return argv + list(extra)


def start_tls_emu(vnc_opts, objects=(), name='qvnc-emu', frame_dump=None, size='320x200', extra=()):
    """Starts qvnc-emu with `-vnc 127.0.0.1:D,<vnc_opts>`; returns (Proc, port)."""
    return start_server(lambda d: emu_argv(d, vnc_opts, objects, frame_dump, size, extra), name,
                        env=emu_env())


def run_emu_expect_exit(vnc_opts, objects=(), timeout=20):
    """Runs qvnc-emu that must refuse to start. Returns (exit status, stdout, stderr)."""
    # A display that was free: should the options be accepted by mistake,
    # the server listens there and the timeout below reports it.
    argv = emu_argv(free_port() - 5900, vnc_opts, objects)
    try:
        p = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout,
                           env=emu_env())
    except subprocess.TimeoutExpired as e:
        raise Fail('qvnc-emu did not exit within %ds (it should refuse the options): %s\n  stdout: %s'
                   % (timeout, ' '.join(argv), (e.stdout or b'')[-400:]))
    return p.returncode, p.stdout, p.stderr


# ---------------------------------------------------------------------------
# server log

def wait_client_closed(proc, port, start, reason_rx, what):
    """Waits for `client 127.0.0.1:<port>: closing: <reason>` and checks the reason."""
    m = wait_err(proc, (LOG_CLIENT % port) + r'closing: (.*)$', start, what=what)
    reason = m.group(1)
    print('# %s: server log: closing: %s' % (what, reason), flush=True)
    check(re.search(reason_rx, reason), '%s: the server closed the client, but for the reason %r, '
          'expected /%s/' % (what, reason, reason_rx))
    return reason


# ---------------------------------------------------------------------------
# VeNCrypt

class VencryptClient(RfbClient):
    """A raw RFB client that speaks VeNCrypt and then TLS (stdlib ssl)."""

    def __init__(self, port, label='client', timeout=DEFAULT_TIMEOUT):
        super().__init__(port, label=label, timeout=timeout)
        self.local_port = self.sock.getsockname()[1]
        self.raw_sock = self.sock

    def vencrypt_until_ack(self, subtype, minor=8):
        """Version, type 19, VeNCrypt 0.2, the one offered sub-type, ack.
        Byte-exact. After it the next bytes are the TLS handshake."""
        self.version(minor)
        types = self.recv_exact(2, 'security types')
        expect_bytes(types, b'\x01\x13', '%s: security type list on a TLS display' % self.label)
        self.send(b'\x13')
        expect_bytes(self.recv_exact(2, 'VeNCrypt version'), b'\x00\x02', '%s: VeNCrypt server version'
                     % self.label)
        self.send(b'\x00\x02')
        offer = self.recv_exact(6, 'VeNCrypt ack + sub-type list')
        expect_bytes(offer, b'\x00\x01' + struct.pack('>I', subtype),
                     '%s: VeNCrypt version ack, count 1 and sub-type %s (%d)'
                     % (self.label, SUBTYPE_NAMES.get(subtype, '?'), subtype))
        self.send(struct.pack('>I', subtype))
        expect_bytes(self.recv_exact(1, 'VeNCrypt sub-type ack'), b'\x01',
                     '%s: VeNCrypt sub-type ack (u8 1)' % self.label)

    def start_tls(self, ctx, server_hostname=None):
        """TLS handshake over the same socket. Raises Fail with the ssl error."""
        try:
            self.sock = ctx.wrap_socket(self.raw_sock, server_hostname=server_hostname)
        except (ssl.SSLError, OSError) as e:
            raise TlsRefused('%s: TLS handshake failed on the client side: %s' % (self.label, e))
        return self.sock

    def recv_exact(self, n, what='data'):
        try:
            return super().recv_exact(n, what)
        except ssl.SSLError as e:
            raise TlsRefused('%s: TLS error while reading %s: %s' % (self.label, what, e))

    def read_until_eof(self, timeout=DEFAULT_TIMEOUT, what='the server to close the connection', limit=1 << 24):
        try:
            return super().read_until_eof(timeout, what, limit)
        except (ssl.SSLError, BrokenPipeError):
            return b''


class TlsRefused(Fail):
    """The TLS layer (not an RFB message) ended the connection."""


def x509_context(ca=None, cert=None, key=None, hostname_check=True):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if ca:
        ctx.load_verify_locations(ca)
        ctx.check_hostname = hostname_check
        ctx.verify_mode = ssl.CERT_REQUIRED
    else:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    if cert:
        ctx.load_cert_chain(cert, key)
    return ctx


def anon_context():
    """Anonymous Diffie-Hellman: only up to TLS 1.2, security level 0."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    try:
        ctx.set_ciphers('aNULL:!eNULL:@SECLEVEL=0')
    except ssl.SSLError as e:
        raise Fail('this Python/OpenSSL offers no anonymous DH cipher suites: %s' % e)
    return ctx


def client_hello_bytes(ctx, server_hostname=None):
    """The first flight (a real ClientHello) of ctx, without any socket."""
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, out, server_side=False, server_hostname=server_hostname)
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    data = out.read()
    check(data[:1] == b'\x16', 'the generated ClientHello does not start with a handshake record: [%s]'
          % hexs(data))
    return data
