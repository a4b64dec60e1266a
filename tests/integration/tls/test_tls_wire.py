#!/usr/bin/python3
"""VeNCrypt + TLS byte for byte, with Python's stdlib ssl as the client.

Environment: QVNC_EMU (path of qvnc-emu). Certificates are made with certtool
at run time (tls_pki.py). The server runs with QVNC_DEBUG=1 and its log lines
say why a client was closed; the cases check those reasons too.
Reference: qemu-vnc-spec.md 2.2, 2.3, 2.5, 2.6; qemu-tests.md 5.
"""

import os
import shutil
import re
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from tls_common import (Fail, TlsRefused, VencryptClient, check, expect_bytes, hexs, start_tls_emu,  # noqa: E402
                        run_emu_expect_exit, err_mark, wait_err, wait_client_closed, x509_context,
                        anon_context, client_hello_bytes, AUTH_FAILED_38, LOG_CLIENT,
                        TLS_NONE, TLS_VNC, X509_NONE, X509_VNC)
from qvnc_testlib import Runner, RfbClient, frame_dump, compare_pixels, tmpdir, ENC_RAW  # noqa: E402
import qvnc_des  # noqa: E402
import tls_pki  # noqa: E402

W, H = 320, 200
PASSWORD = 'tls-pw99'

run = Runner('test_tls_wire')
tmp = tmpdir('qvnc-tls-wire-')
run.at_exit(lambda: shutil.rmtree(tmp, ignore_errors=True))   # runs last
try:
    pki = tls_pki.make_pki(os.path.join(tmp, 'pki'))
except tls_pki.PkiError as e:
    run.fatal(str(e))
dump_path = os.path.join(tmp, 'frame.ppm')


def x509_obj(dirname, verify, extra=''):
    return 'tls-creds-x509,id=tls0,dir=%s,endpoint=server,verify-peer=%s%s' % (
        pki.creds_dir(dirname), 'on' if verify else 'off', extra)


def start(vnc_opts, objects, name, **kw):
    try:
        proc, port = start_tls_emu(vnc_opts, objects, name=name, size='%dx%d' % (W, H), **kw)
    except Fail as e:
        run.fatal('cannot start %s: %s' % (name, e))
    run.at_exit(proc.stop)
    return proc, port


# The servers. Each is a separate qvnc-emu on its own port.
x509v, x509v_port = start('tls-creds=tls0', [x509_obj('good', True)], 'qvnc-emu(X509None verify)',
                          frame_dump=dump_path)
x509pw, x509pw_port = start('tls-creds=tls0,password-secret=pw',
                            [x509_obj('good', False), 'secret,id=pw,data=' + PASSWORD],
                            'qvnc-emu(X509Vnc no verify)')
anon, anon_port = start('tls-creds=tls0', ['tls-creds-anon,id=tls0,endpoint=server'], 'qvnc-emu(TLSNone)')
anonpw, anonpw_port = start('tls-creds=tls0,password-secret=pw',
                            ['tls-creds-anon,id=tls0,endpoint=server', 'secret,id=pw,data=' + PASSWORD],
                            'qvnc-emu(TLSVnc)')
authz, authz_port = start('tls-creds=tls0,tls-authz=auth0',
                          [x509_obj('good', True), 'authz-simple,id=auth0,identity=C=GB,,O=Example,,CN=alice'],
                          'qvnc-emu(tls-authz simple)')
authzl, authzl_port = start('tls-creds=tls0,tls-authz=auth1',
                            [x509_obj('good', True),
                             '{"qom-type":"authz-list","id":"auth1","policy":"deny","rules":'
                             '[{"match":"C=GB,O=Example,CN=b*","policy":"allow","format":"glob"}]}'],
                            'qvnc-emu(tls-authz list)')
crl, crl_port = start('tls-creds=tls0', [x509_obj('crl', True)], 'qvnc-emu(X509None with CRL)')

try:
    dw, dh, frame_rgb = frame_dump(x509v, dump_path)
except Fail as e:
    run.fatal('no frame dump: %s' % e)
if (dw, dh) != (W, H):
    run.fatal('frame dump is %dx%d, expected %dx%d' % (dw, dh, W, H))

ALL = [x509v, x509pw, anon, anonpw, crl, authz, authzl]

# A client that stops in the middle of the handshake and stays connected: the
# server's handshake timeout must end it. Started now, checked at the end,
# so the wait overlaps the other cases.
stalled = None
stalled_start = err_mark(x509v)
stalled_t0 = time.monotonic()


def ctx_for(name=None, ca=True):
    if name is None:
        return x509_context(pki.ca_cert if ca else None)
    return x509_context(pki.ca_cert if ca else None, pki.client_cert(name), pki.client_key(name))


# ---------------------------------------------------------------------------
# helpers

def connect(port, subtype, ctx, label, hostname='127.0.0.1'):
    """Up to an established TLS session. Returns the client."""
    c = VencryptClient(port, label=label)
    c.vencrypt_until_ack(subtype)
    c.start_tls(ctx, hostname)
    return c


def finish_none(c, proc, dn=None, check_frame=False):
    """After TLS on a *None sub-type: SecurityResult 0, ServerInit, a frame."""
    start = proc.mark()
    expect_bytes(c.recv_exact(4, 'SecurityResult'), b'\0\0\0\0', '%s: SecurityResult inside TLS' % c.label)
    si = c.client_init()
    check((si.width, si.height) == (W, H), '%s: ServerInit %dx%d, expected %dx%d'
          % (c.label, si.width, si.height, W, H))
    check(si.name == b'QEMU (tls-test)', '%s: desktop name %r' % (c.label, si.name))
    _, m = proc.wait_line(r'^CLIENT initialized host=127\.0\.0\.1 service=%d .*$' % c.local_port, start=start,
                          what='CLIENT initialized for %s' % c.label)
    line = m.group(0)
    if dn is None:
        check('x509-dname=' not in line, '%s: CLIENT line has an x509 DN without a client certificate: %s'
              % (c.label, line))
    else:
        check(line.endswith(' x509-dname=' + dn) or (' x509-dname=%s ' % dn) in line,
              '%s: CLIENT initialized line does not carry x509-dname=%s: %s' % (c.label, dn, line))
    if check_frame:
        c.set_encodings([ENC_RAW])
        c.fbur()
        got = c.read_frame()
        compare_pixels(c.pf, W, H, frame_rgb, got, '%s: frame over TLS' % c.label)
    return si


def finish_vnc(c, password, right=True):
    """After TLS on a *Vnc sub-type: the 16-byte challenge, the DES answer."""
    challenge = c.recv_exact(16, 'VNC challenge inside TLS')
    c.send(qvnc_des.vnc_response(password, challenge))
    if right:
        expect_bytes(c.recv_exact(4, 'SecurityResult'), b'\0\0\0\0', '%s: SecurityResult (right password)'
                     % c.label)
        return c.client_init()
    got = c.read_until_eof(what='the reject and close after a wrong password')
    expect_bytes(got, AUTH_FAILED_38, '%s: reject after a wrong password (all bytes until close)' % c.label)
    return None


def expect_refused_in_tls(proc, port, subtype, ctx, label, reason_rx, hostname='127.0.0.1'):
    """The server must end the connection during/after the TLS handshake
    without a single RFB byte, and log why."""
    start = err_mark(proc)
    c = VencryptClient(port, label=label)
    try:
        c.vencrypt_until_ack(subtype)
        got = b''
        try:
            c.start_tls(ctx, hostname)
            # TLS 1.3: the client finishes before the server has judged its
            # certificate; the refusal shows up on the first read.
            got = c.read_until_eof(what='the server to drop a refused TLS client')
        except TlsRefused:
            pass
        check(got == b'', '%s: the server sent RFB data to a client it should refuse: [%s]' % (label, hexs(got)))
        return wait_client_closed(proc, c.local_port, start, reason_rx, label)
    finally:
        c.close()


def still_serves(proc, port, subtype, ctx, label, dn=None):
    c = connect(port, subtype, ctx, label)
    try:
        if subtype in (X509_NONE, TLS_NONE):
            finish_none(c, proc, dn)
        else:
            finish_vnc(c, PASSWORD)
    finally:
        c.close()
    check(proc.alive(), '%s died\n%s' % (proc.name, proc.describe()))


# ---------------------------------------------------------------------------
# X509None with verify-peer=on

def t_x509none_alice():
    start = err_mark(x509v)
    c = connect(x509v_port, X509_NONE, ctx_for('alice'), 'alice')
    try:
        check(c.sock.version() in ('TLSv1.2', 'TLSv1.3'), 'TLS version %s' % c.sock.version())
        finish_none(c, x509v, dn='C=GB,O=Example,CN=alice', check_frame=True)
        m = wait_err(x509v, (LOG_CLIENT % c.local_port) + r'TLS established, client (.*)$', start,
                     what='TLS established log line for alice')
        check(m.group(1) == 'C=GB,O=Example,CN=alice', 'x509 DN as the server logs it: %r, expected QEMU\'s order '
              '"C=GB,O=Example,CN=alice"' % m.group(1))
    finally:
        c.close()


def t_x509none_bob_distinct_dn():
    c = connect(x509v_port, X509_NONE, ctx_for('bob'), 'bob', hostname='localhost')
    try:
        finish_none(c, x509v, dn='C=GB,O=Example,CN=bob')
    finally:
        c.close()


def t_server_cert_matches():
    """The server presents server-cert.pem: issued by our CA, SAN 127.0.0.1
    and localhost (ssl checks the host name), DN of the server."""
    c = connect(x509v_port, X509_NONE, ctx_for('alice'), 'alice (server cert)')
    try:
        peer = c.sock.getpeercert()
        sans = sorted(peer.get('subjectAltName', ()))
        check(('DNS', 'localhost') in sans and ('IP Address', '127.0.0.1') in sans,
              'server certificate SANs %r' % (sans,))
        issuer = dict(x[0] for x in peer['issuer'])
        check(issuer.get('commonName') == 'qvnc test CA', 'server certificate issuer %r' % (issuer,))
        finish_none(c, x509v, dn='C=GB,O=Example,CN=alice')
    finally:
        c.close()


def t_no_client_cert():
    reason = expect_refused_in_tls(x509v, x509v_port, X509_NONE, ctx_for(None), 'no client certificate',
                                   r'^TLS (handshake failed: .*([Cc]ertificate is required|No certificate was found)|client certificate rejected: No certificate)')
    still_serves(x509v, x509v_port, X509_NONE, ctx_for('alice'), 'alice after a cert-less client',
                 'C=GB,O=Example,CN=alice')
    return reason


def t_untrusted_ca_client():
    expect_refused_in_tls(x509v, x509v_port, X509_NONE, ctx_for('mallory'), 'client from an untrusted CA',
                          r'^TLS client certificate rejected: .*(known issuer|not trusted)')
    still_serves(x509v, x509v_port, X509_NONE, ctx_for('alice'), 'alice after an untrusted client',
                 'C=GB,O=Example,CN=alice')


def t_expired_client():
    expect_refused_in_tls(x509v, x509v_port, X509_NONE, ctx_for('expired'), 'expired client certificate',
                          r'^TLS client certificate rejected: The certificate has expired')
    still_serves(x509v, x509v_port, X509_NONE, ctx_for('bob'), 'bob after an expired client',
                 'C=GB,O=Example,CN=bob')


def t_future_client():
    expect_refused_in_tls(x509v, x509v_port, X509_NONE, ctx_for('future'), 'not yet valid client certificate',
                          r'^TLS client certificate rejected: The certificate is not yet activated')
    still_serves(x509v, x509v_port, X509_NONE, ctx_for('alice'), 'alice after a not-yet-valid client',
                 'C=GB,O=Example,CN=alice')


def t_revoked_client():
    expect_refused_in_tls(crl, crl_port, X509_NONE, ctx_for('carol'), 'client revoked by ca-crl.pem',
                          r'^TLS client certificate rejected: The certificate has been revoked')
    # The same CA, not revoked: fine.
    still_serves(crl, crl_port, X509_NONE, ctx_for('alice'), 'alice on the CRL server', 'C=GB,O=Example,CN=alice')


def t_client_distrusts_server():
    """A client that does not trust our CA aborts; the server survives."""
    start = err_mark(x509v)
    c = VencryptClient(x509v_port, label='client trusting another CA')
    try:
        c.vencrypt_until_ack(X509_NONE)
        ctx = x509_context(pki.ca2_cert, pki.client_cert('alice'), pki.client_key('alice'))
        try:
            c.start_tls(ctx, '127.0.0.1')
            raise Fail('the client accepted a server certificate from a CA it does not trust')
        except TlsRefused as e:
            check('CERTIFICATE_VERIFY_FAILED' in str(e), 'unexpected client-side error: %s' % e)
    finally:
        c.close()
    wait_client_closed(x509v, c.local_port, start, r'TLS handshake failed|client closed',
                       'server side of an aborted handshake')
    still_serves(x509v, x509v_port, X509_NONE, ctx_for('alice'), 'alice afterwards', 'C=GB,O=Example,CN=alice')


def t_authz(proc, port, allowed, denied):
    def body():
        c = connect(port, X509_NONE, ctx_for(allowed), '%s (allowed by tls-authz)' % allowed)
        try:
            finish_none(c, proc, dn='C=GB,O=Example,CN=' + allowed)
        finally:
            c.close()
        dn = 'C=GB,O=Example,CN=' + denied
        expect_refused_in_tls(proc, port, X509_NONE, ctx_for(denied), '%s (denied by tls-authz)' % denied,
                              r'^TLS x509 authz check for %s is denied' % re.escape(dn))
        still_serves(proc, port, X509_NONE, ctx_for(allowed), '%s afterwards' % allowed,
                     'C=GB,O=Example,CN=' + allowed)
    return body


# ---------------------------------------------------------------------------
# the VeNCrypt phase itself

def t_vencrypt_wrong_version():
    c = VencryptClient(x509v_port, label='VeNCrypt 0.1')
    try:
        c.version(8)
        expect_bytes(c.recv_exact(2, 'types'), b'\x01\x13', 'security types')
        c.send(b'\x13')
        expect_bytes(c.recv_exact(2, 'VeNCrypt version'), b'\x00\x02', 'VeNCrypt version')
        c.send(b'\x00\x01')
        c.expect_eof_exact(b'\x01', 'VeNCrypt 0.1 refused with u8 1, then close')
    finally:
        c.close()


def t_vencrypt_wrong_subtype():
    c = VencryptClient(x509v_port, label='VeNCrypt sub-type 257 on an x509 display')
    try:
        c.version(8)
        c.recv_exact(2, 'types')
        c.send(b'\x13')
        c.recv_exact(2, 'VeNCrypt version')
        c.send(b'\x00\x02')
        expect_bytes(c.recv_exact(6, 'offer'), b'\x00\x01\x00\x00\x01\x04', 'VeNCrypt offer (X509None)')
        c.send(struct.pack('>I', TLS_NONE))
        c.expect_eof_exact(b'\x00', 'a sub-type that was not offered: u8 0, then close')
    finally:
        c.close()


def t_pipelined_plaintext():
    """Bytes behind the sub-type, before the TLS handshake: refused."""
    start = err_mark(x509v)
    c = VencryptClient(x509v_port, label='pipelined plaintext')
    try:
        c.version(8)
        c.recv_exact(2, 'types')
        c.send(b'\x13')
        c.recv_exact(2, 'VeNCrypt version')
        c.send(b'\x00\x02')
        c.recv_exact(6, 'offer')
        c.send(struct.pack('>I', X509_NONE) + b'\x01')   # sub-type + a ClientInit byte
        got = c.read_until_eof(what='close after pipelined plaintext')
        check(got in (b'', b'\x01'), 'after pipelined plaintext the server sent [%s]; expected nothing but '
              'the sub-type ack, and certainly no TLS' % hexs(got))
        wait_client_closed(x509v, c.local_port, start, r'data before the TLS handshake',
                           'pipelined plaintext')
    finally:
        c.close()
    still_serves(x509v, x509v_port, X509_NONE, ctx_for('alice'), 'alice afterwards', 'C=GB,O=Example,CN=alice')


def t_pipelined_client_hello():
    """Even a genuine ClientHello sent before the u8 1 ack is refused."""
    start = err_mark(x509v)
    hello = client_hello_bytes(ctx_for('alice'), '127.0.0.1')
    c = VencryptClient(x509v_port, label='pipelined ClientHello')
    try:
        c.version(8)
        c.recv_exact(2, 'types')
        c.send(b'\x13')
        c.recv_exact(2, 'VeNCrypt version')
        c.send(b'\x00\x02')
        c.recv_exact(6, 'offer')
        c.send(struct.pack('>I', X509_NONE) + hello)
        got = c.read_until_eof(what='close after a pipelined ClientHello')
        check(got in (b'', b'\x01'), 'after a pipelined ClientHello the server sent [%s] (a ServerHello would '
              'start with 16 03)' % hexs(got))
        wait_client_closed(x509v, c.local_port, start, r'data before the TLS handshake',
                           'pipelined ClientHello')
    finally:
        c.close()
    still_serves(x509v, x509v_port, X509_NONE, ctx_for('alice'), 'alice afterwards', 'C=GB,O=Example,CN=alice')


def t_plaintext_client_type1(minor, want):
    def body():
        c = RfbClient(x509v_port, label='plaintext client (3.%d) choosing None' % minor)
        try:
            c.version(minor)
            if minor == 3:
                c.expect_eof_exact(want, '3.3 client on a VeNCrypt display: u32 0, close')
                return
            expect_bytes(c.recv_exact(2, 'types'), b'\x01\x13', 'security types')
            c.send(b'\x01')
            c.expect_eof_exact(want, 'security type 1 on a TLS display')
        finally:
            c.close()
        still_serves(x509v, x509v_port, X509_NONE, ctx_for('alice'), 'alice afterwards',
                     'C=GB,O=Example,CN=alice')
    return body


def t_disconnect_during_handshake(partial):
    def body():
        start = err_mark(x509v)
        c = VencryptClient(x509v_port, label='disconnect during the handshake')
        try:
            c.vencrypt_until_ack(X509_NONE)
            if partial:
                hello = client_hello_bytes(ctx_for('alice'), '127.0.0.1')
                c.send(hello[:len(hello) // 2])
        finally:
            c.close()
        wait_client_closed(x509v, c.local_port, start, r'TLS handshake failed|client closed|connection',
                           'a client gone in the middle of the handshake')
        still_serves(x509v, x509v_port, X509_NONE, ctx_for('alice'), 'alice afterwards', 'C=GB,O=Example,CN=alice')
    return body


def t_disconnect_after_server_hello():
    """The client reads the server's first flight and then vanishes."""
    start = err_mark(x509v)
    c = VencryptClient(x509v_port, label='disconnect after ServerHello')
    try:
        c.vencrypt_until_ack(X509_NONE)
        c.send(client_hello_bytes(ctx_for('alice'), '127.0.0.1'))
        first = c.recv_exact(5, 'the first TLS record from the server')
        check(first[0] == 0x16 and first[1] == 3, 'first server record is not a TLS handshake: [%s]' % hexs(first))
        c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))  # RST
    finally:
        c.close()
    wait_client_closed(x509v, c.local_port, start, r'TLS handshake failed|client closed|connection',
                       'a client that reset the connection mid-handshake')
    still_serves(x509v, x509v_port, X509_NONE, ctx_for('alice'), 'alice afterwards', 'C=GB,O=Example,CN=alice')


def t_garbage_client_hello(data, what):
    def body():
        start = err_mark(x509v)
        c = VencryptClient(x509v_port, label=what)
        try:
            c.vencrypt_until_ack(X509_NONE)
            c.send(data)
            got = c.read_until_eof(what='close after a garbage ClientHello')
            check(got == b'' or got[0] == 0x15, '%s: the server answered [%s]; expected nothing or a TLS alert'
                  % (what, hexs(got)))
            wait_client_closed(x509v, c.local_port, start, r'^TLS handshake failed', what)
        finally:
            c.close()
        still_serves(x509v, x509v_port, X509_NONE, ctx_for('alice'), 'alice afterwards', 'C=GB,O=Example,CN=alice')
    return body


# ---------------------------------------------------------------------------
# X509Vnc (verify-peer=off), TLSNone, TLSVnc

def t_x509vnc(right, with_cert):
    def body():
        name = 'alice' if with_cert else None
        c = connect(x509pw_port, X509_VNC, ctx_for(name), 'X509Vnc %s password%s'
                    % ('right' if right else 'wrong', ', client cert' if with_cert else ''))
        try:
            start = x509pw.mark()
            si = finish_vnc(c, PASSWORD if right else 'tls-pw98', right)
            if right:
                check((si.width, si.height) == (W, H), 'ServerInit size %dx%d' % (si.width, si.height))
                _, m = x509pw.wait_line(r'^CLIENT initialized host=127\.0\.0\.1 service=%d .*$' % c.local_port,
                                        start=start, what='CLIENT initialized')
                # verify-peer=off: QEMU does not look at a certificate, so no DN.
                check('x509-dname' not in m.group(0), 'a DN without verify-peer: %s' % m.group(0))
        finally:
            c.close()
    return body


def t_tlsnone():
    start = err_mark(anon)
    c = connect(anon_port, TLS_NONE, anon_context(), 'TLSNone')
    try:
        check(c.sock.version() == 'TLSv1.2', 'anonymous TLS negotiated %s' % c.sock.version())
        check('ADH' in c.sock.cipher()[0] or 'AECDH' in c.sock.cipher()[0], 'cipher %r is not anonymous'
              % (c.sock.cipher(),))
        check(c.sock.getpeercert(binary_form=True) is None, 'anonymous server sent a certificate')
        finish_none(c, anon, check_frame=False)
        wait_err(anon, (LOG_CLIENT % c.local_port) + r'TLS established$', start, what='TLS established (no DN)')
    finally:
        c.close()


def t_tlsvnc(right):
    def body():
        c = connect(anonpw_port, TLS_VNC, anon_context(), 'TLSVnc %s password' % ('right' if right else 'wrong'))
        try:
            finish_vnc(c, PASSWORD if right else 'nope', right)
        finally:
            c.close()
    return body


def t_x509_client_on_anon():
    """A client that insists on certificates cannot talk to anonymous creds."""
    start = err_mark(anon)
    c = VencryptClient(anon_port, label='x509-only client on TLSNone')
    try:
        c.vencrypt_until_ack(TLS_NONE)
        try:
            c.start_tls(ctx_for('alice'), '127.0.0.1')
            raise Fail('TLS with certificates succeeded against anonymous credentials')
        except TlsRefused:
            pass
    finally:
        c.close()
    wait_client_closed(anon, c.local_port, start, r'TLS handshake failed', 'x509 client on anon creds')
    still_serves(anon, anon_port, TLS_NONE, anon_context(), 'anon client afterwards')


# ---------------------------------------------------------------------------
# creds objects that must not load (QEMU's sanity checks), encrypted key

def t_load_error(dirname, verify, want, extra_objects=(), extra=''):
    def body():
        d = pki.creds_dir(dirname)
        rc, out, err = run_emu_expect_exit('tls-creds=tls0', [*extra_objects, x509_obj(dirname, verify, extra)])
        check(rc == 1, 'qvnc-emu with creds dir %s exited %s, expected 1\n  stdout: %s\n  stderr: %s'
              % (d, rc, out.strip(), err.strip()))
        w = want.replace('DIR', d)
        check(w in err, 'stderr lacks %r:\n  %s' % (w, err.strip()))
        check('READY' not in out, 'READY printed by a server that should not start')
    return body


def t_encrypted_key_ok():
    proc, port = start_tls_emu('tls-creds=tls0',
                               ['secret,id=keypw,data=' + tls_pki.SERVER_KEY_PASSWORD,
                                x509_obj('encrypted', True, ',passwordid=keypw')],
                               name='qvnc-emu(encrypted key)', size='%dx%d' % (W, H))
    try:
        c = connect(port, X509_NONE, ctx_for('alice'), 'alice on the encrypted-key server')
        try:
            finish_none(c, proc, dn='C=GB,O=Example,CN=alice')
        finally:
            c.close()
    finally:
        proc.stop()


def t_encrypted_key_base64_secret():
    import base64
    b64 = base64.b64encode(tls_pki.SERVER_KEY_PASSWORD.encode()).decode()
    proc, port = start_tls_emu('tls-creds=tls0',
                               ['secret,id=keypw,data=%s,format=base64' % b64,
                                x509_obj('encrypted', False, ',passwordid=keypw')],
                               name='qvnc-emu(encrypted key, base64 secret)', size='%dx%d' % (W, H))
    try:
        c = connect(port, X509_NONE, ctx_for(None), 'client on the encrypted-key server (base64 secret)')
        try:
            finish_none(c, proc)
        finally:
            c.close()
    finally:
        proc.stop()


def t_stalled_start():
    global stalled
    stalled = VencryptClient(x509v_port, label='stalled handshake')
    stalled.vencrypt_until_ack(X509_NONE)
    hello = client_hello_bytes(ctx_for('alice'), '127.0.0.1')
    stalled.send(hello[:7])
    run.at_exit(stalled.close)


def t_stalled_end():
    check(stalled is not None, 'the stalled client never got going')
    got = stalled.read_until_eof(timeout=60, what='the server to time out a stalled TLS handshake')
    check(got == b'' or got[0] == 0x15, 'stalled client: the server sent [%s], expected nothing or a TLS alert'
          % hexs(got))
    took = time.monotonic() - stalled_t0
    wait_client_closed(x509v, stalled.local_port, stalled_start, r'TLS handshake timed out',
                       'a stalled handshake (after %.0fs)' % took)
    still_serves(x509v, x509v_port, X509_NONE, ctx_for('alice'), 'alice afterwards', 'C=GB,O=Example,CN=alice')


def t_encrypted_key_libvirt_secret():
    """libvirt hands the key password over encrypted with a master key:
    -object secret,id=master,format=raw,file=KEYFILE
    -object secret,id=pw,data=BASE64(AES-256-CBC(pw)),keyid=master,iv=BASE64(iv),format=base64"""
    import base64
    import subprocess
    openssl = shutil.which('openssl')
    if not openssl:
        print('# SKIP: no openssl(1) to encrypt the secret with; case not run')
        return
    key, iv = os.urandom(32), os.urandom(16)
    master = os.path.join(tmp, 'master-key.aes')
    with open(master, 'wb') as f:
        f.write(key)
    p = subprocess.run([openssl, 'enc', '-aes-256-cbc', '-K', key.hex(), '-iv', iv.hex(), '-nosalt'],
                       input=tls_pki.SERVER_KEY_PASSWORD.encode(), capture_output=True)
    check(p.returncode == 0 and len(p.stdout) == 16, 'openssl enc failed: %r' % p.stderr)
    proc, port = start_tls_emu('tls-creds=tls0',
                               ['secret,id=masterKey0,format=raw,file=' + master,
                                'secret,id=keypw,data=%s,keyid=masterKey0,iv=%s,format=base64'
                                % (base64.b64encode(p.stdout).decode(), base64.b64encode(iv).decode()),
                                x509_obj('encrypted', True, ',passwordid=keypw')],
                               name='qvnc-emu(encrypted key, AES secret)', size='%dx%d' % (W, H))
    try:
        c = connect(port, X509_NONE, ctx_for('bob'), 'bob on the AES-secret server')
        try:
            finish_none(c, proc, dn='C=GB,O=Example,CN=bob')
        finally:
            c.close()
    finally:
        proc.stop()


run.case('stalled handshake: started', t_stalled_start)
run.case('X509None verify-peer: alice, byte-exact VeNCrypt, DN in QEMU order, frame equals dump',
         t_x509none_alice)
run.case('X509None: bob has his own DN (host name "localhost")', t_x509none_bob_distinct_dn)
run.case('server certificate: our CA, SAN 127.0.0.1 and localhost', t_server_cert_matches)
run.case('verify-peer: no client certificate -> refused in TLS, server serves on', t_no_client_cert)
run.case('verify-peer: client from an untrusted CA -> refused', t_untrusted_ca_client)
run.case('verify-peer: expired client certificate -> refused', t_expired_client)
run.case('verify-peer: not-yet-valid client certificate -> refused', t_future_client)
run.case('verify-peer + ca-crl.pem: revoked client -> refused, others fine', t_revoked_client)
run.case('tls-authz authz-simple: alice allowed, bob denied (DN in QEMU order)',
         t_authz(authz, authz_port, 'alice', 'bob'))
run.case('tls-authz authz-list glob CN=b*: bob allowed, alice denied', t_authz(authzl, authzl_port, 'bob', 'alice'))
run.case('client that distrusts the server certificate aborts cleanly', t_client_distrusts_server)
run.case('VeNCrypt 0.1 -> u8 1, close', t_vencrypt_wrong_version)
run.case('VeNCrypt sub-type not offered -> u8 0, close', t_vencrypt_wrong_subtype)
run.case('plaintext pipelined after the sub-type -> closed', t_pipelined_plaintext)
run.case('ClientHello pipelined after the sub-type -> closed', t_pipelined_client_hello)
run.case('plaintext 3.8 client choosing None -> "Authentication failed"',
         t_plaintext_client_type1(8, AUTH_FAILED_38))
run.case('plaintext 3.7 client choosing None -> u32 1', t_plaintext_client_type1(7, b'\0\0\0\x01'))
run.case('3.3 client on a TLS display -> u32 0', t_plaintext_client_type1(3, b'\0\0\0\0'))
run.case('disconnect right after the ack', t_disconnect_during_handshake(False))
run.case('disconnect after half a ClientHello', t_disconnect_during_handshake(True))
run.case('reset after the ServerHello', t_disconnect_after_server_hello)
run.case('garbage ClientHello (HTTP) -> closed', t_garbage_client_hello(b'GET / HTTP/1.1\r\nHost: x\r\n\r\n',
                                                                        'HTTP instead of TLS'))
run.case('garbage ClientHello (bad record) -> closed',
         t_garbage_client_hello(b'\x16\x03\x01\x00\x30\x01\x00\x00\x2c' + bytes(range(0x2c)),
                                'malformed ClientHello record'))
run.case('X509Vnc (verify-peer=off): right password, no DN', t_x509vnc(True, False))
run.case('X509Vnc: right password with a client certificate', t_x509vnc(True, True))
run.case('X509Vnc: wrong password -> "Authentication failed" inside TLS', t_x509vnc(False, False))
run.case('TLSNone: anonymous DH, TLS 1.2, no certificate', t_tlsnone)
run.case('TLSVnc: right password', t_tlsvnc(True))
run.case('TLSVnc: wrong password -> "Authentication failed"', t_tlsvnc(False))
run.case('certificate-only client on anonymous creds -> handshake fails', t_x509_client_on_anon)
run.case('load: CA without certificate signing -> exit 1',
         t_load_error('badca', True, 'Certificate DIR/ca-cert.pem usage does not permit certificate signing'))
run.case('load: server KeyUsage without digitalSignature -> exit 1',
         t_load_error('badserver', True, 'Certificate DIR/server-cert.pem usage does not permit digital signature'))
run.case('load: expired server certificate -> exit 1',
         t_load_error('expiredserver', True, 'DIR/server-cert.pem has expired'))
run.case('load: missing ca-cert.pem -> exit 1',
         t_load_error('missing', True, 'Unable to access credentials DIR/ca-cert.pem: No such file or directory'))
run.case('load: missing dir -> exit 1',
         t_load_error('no-such-dir', False,
                      'Unable to access credentials DIR/ca-cert.pem: No such file or directory'))
run.case('encrypted server key with passwordid: works', t_encrypted_key_ok)
run.case('encrypted server key, base64 secret: works', t_encrypted_key_base64_secret)
run.case('encrypted server key, wrong password -> exit 1',
         t_load_error('encrypted', False, "& key 'DIR/server-key.pem'", ['secret,id=keypw,data=wrong'],
                      ',passwordid=keypw'))
run.case('encrypted server key without passwordid -> exit 1',
         t_load_error('encrypted', False, "& key 'DIR/server-key.pem'"))
run.case('encrypted server key, unknown secret id -> exit 1',
         t_load_error('encrypted', False, "No secret with id 'nosuch'", (), ',passwordid=nosuch'))
run.case('encrypted server key, libvirt-style AES-256-CBC secret (keyid=, iv=): works',
         t_encrypted_key_libvirt_secret)
run.case('stalled handshake: the server timed it out', t_stalled_end)
run.case('all servers alive', lambda: check(all(p.alive() for p in ALL),
                                            'a server died\n' + '\n'.join(p.describe() for p in ALL if not p.alive())))
run.finish()
