#!/usr/bin/python3
"""WebSocket listeners against bad input, over raw sockets (spec 2.8, CVE-2015-1779).

One qvnc-emu (pattern guest, -S) with `websocket=WSPORT`; each case opens its
own connection, sends exactly the bytes it describes and checks the answer
byte for byte where the spec gives one (HTTP status, `Connection: close`),
then EOF, and the server's `closing:` log line (QVNC_DEBUG=1). After every
bad case a good websocket client still gets ServerInit and a frame equal to
the frame dump. A second qvnc-emu with x509 tls-creds checks wss: TLS first,
then the upgrade, no VeNCrypt on the websocket port.
"""

import os
import re
import socket
import ssl
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from netlib import (Fail, check, expect_bytes, hexs, launch, emu, connect_tcp, read_until_eof,  # noqa: E402
                    read_http_response, ws_request, ws_key, mask_frame, recv_exact, WsSocket,
                    WsRfbClient, err_mark, wait_err, closing_reason, send_ignoring_reset, HOST)
from qvnc_testlib import Runner, RfbClient, frame_dump, compare_pixels, tmpdir, ENC_RAW  # noqa: E402

W, H = 320, 200
run = Runner('net-ws-bad')
work = tmpdir('qvnc-ws-bad-')
dump = os.path.join(work, 'frame.ppm')

try:
    srv, (port, wsport) = launch(lambda p, wp: [emu(), '-S', '-vnc', '%s:%d,websocket=%d' % (HOST, p - 5900, wp),
                                                '--guest', 'pattern', '--size', '%dx%d' % (W, H),
                                                '--frame-dump', dump], nports=2)
except Fail as e:
    run.fatal('cannot start qvnc-emu with a websocket listener: %s' % e)
run.at_exit(srv.stop)
try:
    _, _, FRAME = frame_dump(srv, dump)
except Fail as e:
    run.fatal('no frame dump: %s' % e)


def good_client(label='good ws client', path='/'):
    """A websocket client that must still be served: ServerInit, one Raw frame."""
    c = WsRfbClient(wsport, label=label, path=path)
    si = c.handshake(8, expect_type=1)
    check((si.width, si.height) == (W, H), '%s: ServerInit %dx%d' % (label, si.width, si.height))
    c.set_encodings([ENC_RAW])
    c.fbur(False)
    got = c.read_frame()
    compare_pixels(c.pf, W, H, FRAME, got, label)
    c.close()


def after(label):
    check(srv.alive(), 'qvnc-emu died after %s (exit %s)\n%s' % (label, srv.p.poll(), srv.describe()))
    good_client('good ws client after ' + label)


def raw_ws():
    s = connect_tcp(wsport)
    return s, s.getsockname()[1]


def expect_http_refusal(request, status, label, version_hint=True, reason_rx=None):
    """Sends request bytes; expects `status` with Connection: close, then EOF."""
    s, lport = raw_ws()
    mark = err_mark(srv)
    s.sendall(request)
    got = read_until_eof(s, what='the refusal of ' + label, label=label)
    s.close()
    head = got.split(b'\r\n\r\n', 1)[0].decode('latin-1')
    lines = head.split('\r\n')
    check(lines[0] == 'HTTP/1.1 ' + status, '%s: sent %r..., expected status %r, got [%s]'
          % (label, request[:60], 'HTTP/1.1 ' + status, hexs(got, 200)))
    hdrs = {l.partition(':')[0].lower(): l.partition(':')[2].strip() for l in lines[1:]}
    check(hdrs.get('connection', '').lower() == 'close', '%s: no "Connection: close" in %r' % (label, head))
    check(hdrs.get('server') == 'QEMU VNC', '%s: Server header %r' % (label, hdrs.get('server')))
    if version_hint:
        check(hdrs.get('sec-websocket-version') == '13', '%s: no "Sec-WebSocket-Version: 13" in %r' % (label, head))
    check(got.endswith(b'\r\n\r\n'), '%s: bytes after the HTTP response: [%s]' % (label, hexs(got, 300)))
    m = wait_err(srv, r'client [^ ]*:%d: .*(refused|closing).*' % lport, mark, what=label + ' log line')
    print('# %s: server log: %s' % (label, m.group(0)), flush=True)
    if reason_rx:
        wait_err(srv, r'client [^ ]*:%d: .*%s' % (lport, reason_rx), mark, what=label + ' reason')
    after(label)


def upgraded(label):
    """A raw upgraded connection; returns (WsSocket, local port) after the server's version frame."""
    s, lport = raw_ws()
    key = ws_key()
    s.sendall(ws_request(key))
    status, hdrs, rest = read_http_response(s, label)
    check(status == 'HTTP/1.1 101 Switching Protocols', '%s: upgrade answered %r' % (label, status))
    w = WsSocket(s, label, rest)
    expect_bytes(recv_exact(w, 12, 'server version', label), b'RFB 003.008\n', label + ': version in the first frame')
    return w, lport


def expect_closed(w, lport, mark, label, reason_rx):
    """EOF on the raw socket (a close frame first is fine) and the server's reason."""
    rest = read_until_eof(w.sock, what='the server to close after ' + label, label=label)
    # Whatever came must be at most a close frame.
    check(rest in (b'', b'\x88\x00') or rest.startswith(b'\x88'), '%s: before EOF the server sent [%s]'
          % (label, hexs(rest)))
    w.close()
    reason = closing_reason(srv, lport, mark, label)
    print('# %s: server log: closing: %s' % (label, reason), flush=True)
    check(re.search(reason_rx, reason), '%s: closed for %r, expected /%s/' % (label, reason, reason_rx))


# ------------------------------------------------------------------ cases

def t_baseline():
    good_client('ws client')
    # A plain RFB client on the TCP port of the same display.
    c = RfbClient(port, label='tcp client')
    c.handshake(8, expect_type=1)
    c.close()


def t_protocol_header():
    c = WsRfbClient(wsport, label='ws binary', extra=('Sec-WebSocket-Protocol: binary, base64',),
                    expect_protocol='binary')
    c.handshake(8, expect_type=1)
    c.close()
    expect_http_refusal(ws_request(ws_key(), extra=('Sec-WebSocket-Protocol: base64',)), '400 Bad Request',
                        'Sec-WebSocket-Protocol without binary')


def t_websockify_path():
    good_client('ws client on /websockify', path='/websockify')
    expect_http_refusal(ws_request(ws_key(), path='/other'), '404 Not Found', 'path /other',
                        version_hint=False)


def t_endless_headers():
    # Exactly 4096 bytes and no blank line: all are read, so the close is a FIN.
    req = b'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Endless: '
    req += b'a' * (4096 - len(req))
    expect_http_refusal(req, '403 Request Entity Too Large', 'endless headers (4096 bytes)', version_hint=False)


def t_endless_headers_stream():
    # Header lines that keep coming in small pieces, past 4096 bytes: the
    # server must refuse and close (a reset may eat the 403 here, because
    # the bytes past the limit stay unread).
    s, lport = raw_ws()
    mark = err_mark(srv)
    sent = 0
    s.sendall(b'GET / HTTP/1.1\r\n')
    while sent < 4400:
        if not send_ignoring_reset(s, b'X-Header-%05d: %s\r\n' % (sent, b'v' * 80)):
            break
        sent += 96
    got = read_until_eof(s, what='the server to refuse endless headers', label='endless stream')
    s.close()
    check(got == b'' or got.startswith(b'HTTP/1.1 403 Request Entity Too Large\r\n'),
          'endless header stream: answer [%s]' % hexs(got, 120))
    m = wait_err(srv, r'client [^ ]*:%d: .*(refused|closing).*' % lport, mark, what='endless stream log')
    print('# endless header stream: %d bytes sent; answer [%s]; log: %s' % (sent, hexs(got, 40), m.group(0)),
          flush=True)
    after('an endless header stream')


def t_key_length():
    for k in ('dGhlIHNhbXBsZSBub25jZQ=', 'dGhlIHNhbXBsZSBub25jZQ===', ''):
        expect_http_refusal(ws_request(k), '400 Bad Request', 'Sec-WebSocket-Key of %d characters' % len(k))


def t_non_get():
    for method in (b'POST', b'PUT', b'HEAD'):
        req = ws_request(ws_key()).replace(b'GET', method, 1)
        expect_http_refusal(req, '400 Bad Request', '%s request' % method.decode())
    expect_http_refusal(b'\x16\x03\x01\x00\x05hello\r\n\r\n', '400 Bad Request', 'TLS-looking garbage')


def t_missing_headers():
    req = ws_request(ws_key()).replace(b'Sec-WebSocket-Version: 13', b'Sec-WebSocket-Version: 8')
    expect_http_refusal(req, '400 Bad Request', 'Sec-WebSocket-Version 8')
    req = ws_request(ws_key()).replace(b'Upgrade: websocket\r\n', b'')
    expect_http_refusal(req, '400 Bad Request', 'no Upgrade header')


def t_unmasked():
    w, lport = upgraded('unmasked')
    mark = err_mark(srv)
    w.sock.sendall(mask_frame(0x82, b'RFB 003.008\n', masked=False))
    expect_closed(w, lport, mark, 'an unmasked client frame', r'mask')
    after('an unmasked frame')


def t_text_frame():
    w, lport = upgraded('text frame')
    mark = err_mark(srv)
    w.sock.sendall(mask_frame(0x81, b'RFB 003.008\n'))
    expect_closed(w, lport, mark, 'a text frame', r'binary|text|opcode')
    after('a text frame')


def t_huge_length():
    # 2^62 announced: the payload is decoded as it arrives. It carries a
    # valid RFB session, so the server must answer without waiting for
    # the frame's end, and its memory must not grow with the announcement.
    w, lport = upgraded('huge frame')
    pid = srv.p.pid

    def rss_kib():
        with open('/proc/%d/status' % pid) as f:
            for l in f:
                if l.startswith('VmRSS:'):
                    return int(l.split()[1])
        return 0

    before = rss_kib()
    mask = b'\x11\x22\x33\x44'
    hdr = bytes([0x82, 0xFF]) + struct.pack('>Q', 1 << 62) + mask
    pos = [0]

    def payload(data):
        out = bytes(b ^ mask[(pos[0] + i) & 3] for i, b in enumerate(data))
        pos[0] += len(data)
        return out

    w.sock.sendall(hdr + payload(b'RFB 003.008\n'))
    expect_bytes(recv_exact(w, 2, 'security types', 'huge frame'), b'\x01\x01', 'huge frame: security types')
    w.sock.sendall(payload(b'\x01'))
    expect_bytes(recv_exact(w, 4, 'SecurityResult', 'huge frame'), b'\0\0\0\0', 'huge frame: SecurityResult')
    w.sock.sendall(payload(b'\x01'))
    init = recv_exact(w, 24, 'ServerInit', 'huge frame')
    check(struct.unpack('>HH', init[:4]) == (W, H), 'huge frame: ServerInit [%s]' % hexs(init))
    recv_exact(w, struct.unpack('>I', init[20:24])[0], 'name', 'huge frame')
    # 4 MiB more of the same frame: SetEncodings(Raw) repeated, no output.
    msg = struct.pack('>BxH', 2, 1) + struct.pack('>i', 0)
    block = msg * 8192  # 64 KiB
    for _ in range(64):
        w.sock.sendall(payload(block))
    # Still served: a frame request inside the same 2^62 frame.
    w.sock.sendall(payload(struct.pack('>BBHHHH', 3, 0, 0, 0, 8, 8)))
    hdr_u = recv_exact(w, 4, 'FramebufferUpdate', 'huge frame')
    check(hdr_u[0] == 0, 'huge frame: expected a FramebufferUpdate, got [%s]' % hexs(hdr_u))
    grown = rss_kib() - before
    print('# huge frame: qvnc-emu RSS %d KiB before, grew by %d KiB after 4 MiB of a 2^62-byte frame'
          % (before, grown), flush=True)
    check(grown < 32 * 1024, 'huge frame: qvnc-emu grew by %d KiB' % grown)
    w.close()
    # The top bit set in a 64-bit length is refused.
    w, lport = upgraded('length 2^63')
    mark = err_mark(srv)
    w.sock.sendall(bytes([0x82, 0xFF]) + struct.pack('>Q', 1 << 63) + mask)
    expect_closed(w, lport, mark, 'a frame length with the top bit set', r'length|websocket')
    after('huge frame lengths')


def t_close_mid_frame():
    # (a) the TCP connection ends inside a frame's payload.
    w, lport = upgraded('tcp close mid-frame')
    mark = err_mark(srv)
    f = mask_frame(0x82, b'RFB 003.008\n' + b'\x01' * 100)
    w.sock.sendall(f[:20])
    w.sock.shutdown(socket.SHUT_WR)
    rest = read_until_eof(w.sock, what='the server to close after a half frame', label='close mid-frame')
    w.close()
    reason = closing_reason(srv, lport, mark, 'tcp close mid-frame')
    print('# tcp close mid-frame: server log: closing: %s (server sent [%s] before EOF)' % (reason, hexs(rest)),
          flush=True)
    # (b) a close frame between the fragments of a message.
    w, lport = upgraded('close frame mid-message')
    mark = err_mark(srv)
    w.sock.sendall(mask_frame(0x02, b'RFB 00') + mask_frame(0x88, b'\x03\xe8'))
    expect_closed(w, lport, mark, 'a close frame inside a fragmented message', r'.')
    # (c) a close frame's header inside a frame's payload is payload, and
    # then the connection ends: nothing must hang.
    w, lport = upgraded('close header inside payload')
    mark = err_mark(srv)
    f = mask_frame(0x82, b'X' * 50)
    w.sock.sendall(f[:10] + mask_frame(0x88, b''))
    w.sock.shutdown(socket.SHUT_WR)
    read_until_eof(w.sock, what='the server to close', label='close header inside payload')
    w.close()
    closing_reason(srv, lport, mark, 'close header inside payload')
    after('closes in mid-frame')


def t_frame_behind_request():
    # RFC 6455 4.1: the client must wait for the 101 before sending frames.
    # qvnc refuses a client that does not (QEMU would keep the bytes).
    s, lport = raw_ws()
    mark = err_mark(srv)
    key = ws_key()
    s.sendall(ws_request(key) + mask_frame(0x82, b'RFB 003.008\n'))
    got = read_until_eof(s, what='the server to refuse a frame sent with the request', label='early frame')
    s.close()
    reason = closing_reason(srv, lport, mark, 'first frame right behind the request')
    print('# early frame: server answered [%s]; log: closing: %s' % (hexs(got, 40), reason), flush=True)
    check(not got.startswith(b'HTTP/1.1 101'), 'early frame: the server upgraded ([%s]) although the client '
          'sent a frame before the 101' % hexs(got, 80))
    after('a frame right behind the request')


def t_ping():
    w, lport = upgraded('ping')
    w.sock.sendall(mask_frame(0x89, b'are you there'))
    # The pong comes as its own frame; read raw.
    raw = bytearray(w.raw)
    while len(raw) < 2 + 13:
        chunk = w.sock.recv(4096)
        check(chunk, 'ping: connection closed before the pong')
        raw += chunk
    expect_bytes(bytes(raw[:15]), b'\x8a\x0d' + b'are you there', 'ping: pong frame (unmasked, same payload)')
    w.close()


def make_wss_server():
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'tls'))
    import tls_pki
    pki = tls_pki.make_pki(os.path.join(work, 'pki'))
    creds = 'tls-creds-x509,id=tls0,dir=%s,endpoint=server,verify-peer=off' % pki.path('good')
    proc, (p, wp) = launch(lambda p, wp: [emu(), '-S', '-object', creds,
                                          '-vnc', '%s:%d,tls-creds=tls0,websocket=%d' % (HOST, p - 5900, wp),
                                          '--guest', 'pattern', '--size', '%dx%d' % (W, H)], nports=2,
                           name='qvnc-emu wss')
    ctx = ssl.create_default_context(cafile=pki.ca_cert)
    ctx.check_hostname = False
    return proc, p, wp, ctx


def t_wss():
    try:
        proc, p, wp, ctx = make_wss_server()
    except Exception as e:  # certtool missing etc.
        raise Fail('cannot set up the wss server: %s' % e)
    try:
        c = WsRfbClient(wp, label='wss client', tls_context=ctx)
        # No VeNCrypt inside wss: None directly.
        si = c.handshake(8, expect_type=1)
        check((si.width, si.height) == (W, H), 'wss: ServerInit %dx%d' % (si.width, si.height))
        c.close()
        # The TCP port of the same display does VeNCrypt (19).
        t = RfbClient(p, label='tcp on tls display')
        t.version(8)
        expect_bytes(t.recv_exact(2, 'security types'), b'\x01\x13', 'TCP port of a tls-creds display')
        t.close()
        # A plain HTTP upgrade on the wss port is not answered with 101.
        s = connect_tcp(wp)
        mark = err_mark(proc)
        s.sendall(ws_request(ws_key()))
        got = read_until_eof(s, what='the wss port to refuse plain HTTP', label='plain on wss')
        s.close()
        check(not got.startswith(b'HTTP/1.1 101'), 'plain HTTP on the wss port was upgraded: [%s]' % hexs(got, 80))
        wait_err(proc, r'closing', mark, what='plain HTTP on wss refused')
        # And wss still works.
        c2 = WsRfbClient(wp, label='wss client 2', tls_context=ctx)
        c2.handshake(8, expect_type=1)
        c2.close()
    finally:
        proc.stop()


run.case('baseline: websocket and TCP clients on one display', t_baseline)
run.case('Sec-WebSocket-Protocol: binary echoed, base64-only refused (400)', t_protocol_header)
run.case('path /websockify accepted, /other refused (404)', t_websockify_path)
run.case('endless headers: 4096 bytes without an end -> 403', t_endless_headers)
run.case('endless headers streamed in small pieces -> refused by 4096 bytes', t_endless_headers_stream)
run.case('Sec-WebSocket-Key of 23, 25 and 0 characters -> 400', t_key_length)
run.case('non-GET requests -> 400', t_non_get)
run.case('wrong version, missing Upgrade -> 400', t_missing_headers)
run.case('unmasked client frame -> closed', t_unmasked)
run.case('text frame -> closed', t_text_frame)
run.case('frame length 2^62 streamed without memory growth; 2^63 closed', t_huge_length)
run.case('close in mid-frame (TCP EOF, close between fragments, close header in payload)', t_close_mid_frame)
run.case('first frame right behind the HTTP request -> refused', t_frame_behind_request)
run.case('ping answered with pong', t_ping)
run.case('wss: TLS then upgrade, no VeNCrypt on the websocket port', t_wss)
run.finish()
