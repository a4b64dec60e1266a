#!/usr/bin/python3
"""share= policies and connections= (spec 2.9), with raw RFB clients.

* allow-exclusive (the default): an exclusive ClientInit disconnects every
  other client; a shared ClientInit while an exclusive client is there is
  dropped (no ServerInit).
* force-shared: an exclusive ClientInit is dropped; the others stay.
* ignore: the flag is ignored; nobody is disconnected.
* connections=N: when more than N clients are still connecting, the oldest
  of them is dropped; at ClientInit a client beyond N active ones is dropped.
"Alive" is checked by a FramebufferUpdateRequest that gets an update; "dropped"
by EOF, plus the server's `closing:` log line (QVNC_DEBUG=1).
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from netlib import Fail, check, emu, launch, closing_reason, err_mark, HOST  # noqa: E402
from qvnc_testlib import Runner, RfbClient, hexs, ENC_RAW  # noqa: E402

W, H = 64, 48
run = Runner('net-share')


def server(opts):
    srv, (port,) = launch(lambda p: [emu(), '-S', '--guest', 'pattern', '--size', '%dx%d' % (W, H),
                                     '-vnc', '%s:%d%s' % (HOST, p - 5900, opts)], name='qvnc-emu' + opts)
    return srv, port


def client(port, label, shared=True):
    c = RfbClient(port, label=label)
    c.handshake(8, expect_type=1, shared=shared)
    c.set_encodings([ENC_RAW])
    c.local = c.sock.getsockname()[1]
    return c


def alive(c):
    c.fbur(False, 0, 0, 8, 8)
    for _ in range(10):
        msg = c.read_message()
        if msg[0] == 'update' and any(r.enc == ENC_RAW for r in msg[1]):
            return
    raise Fail('%s: no update after a FramebufferUpdateRequest' % c.label)


def dropped(c, srv, mark, reason_rx=None):
    got = c.read_until_eof(what='%s to be disconnected' % c.label)
    c.close()
    reason = closing_reason(srv, c.local, mark, c.label + ' dropped')
    print('# %s: closed (after [%s]); server log: closing: %s' % (c.label, hexs(got, 16), reason), flush=True)
    if reason_rx:
        import re
        check(re.search(reason_rx, reason), '%s: closed for %r, expected /%s/' % (c.label, reason, reason_rx))


def refused_at_init(port, srv, label, shared):
    """Handshake up to the shared flag; the server must close without ServerInit."""
    c = RfbClient(port, label=label)
    c.version(8)
    c.security(8, 1)
    c.local = c.sock.getsockname()[1]
    mark = err_mark(srv)
    c.send(bytes([1 if shared else 0]))
    got = c.read_until_eof(what='%s to be refused at ClientInit' % label)
    c.close()
    check(got == b'', '%s: the server sent [%s] (a ServerInit?) before closing' % (label, hexs(got)))
    reason = closing_reason(srv, c.local, mark, label)
    print('# %s: refused at ClientInit; server log: closing: %s' % (label, reason), flush=True)


def t_allow_exclusive():
    srv, port = server('')   # the default policy
    try:
        a = client(port, 'shared A')
        b = client(port, 'shared B')
        alive(a)
        alive(b)
        mark = err_mark(srv)
        x = client(port, 'exclusive X', shared=False)
        dropped(a, srv, mark, 'exclusive')
        dropped(b, srv, mark, 'exclusive')
        alive(x)
        # A shared client while X is exclusive: dropped.
        refused_at_init(port, srv, 'shared D while X is exclusive', True)
        alive(x)
        # Another exclusive client kicks X.
        mark = err_mark(srv)
        y = client(port, 'exclusive Y', shared=False)
        dropped(x, srv, mark)
        alive(y)
        y.close()
    finally:
        srv.stop()
    srv, port = server(',share=allow-exclusive')
    try:
        a = client(port, 'A')
        mark = err_mark(srv)
        x = client(port, 'X', shared=False)
        dropped(a, srv, mark)
        alive(x)
        x.close()
    finally:
        srv.stop()


def t_force_shared():
    srv, port = server(',share=force-shared')
    try:
        a = client(port, 'shared A')
        b = client(port, 'shared B')
        refused_at_init(port, srv, 'exclusive X on force-shared', False)
        alive(a)
        alive(b)
        a.close()
        b.close()
    finally:
        srv.stop()


def t_ignore():
    srv, port = server(',share=ignore')
    try:
        a = client(port, 'shared A')
        x = client(port, 'exclusive X (ignored)', shared=False)
        y = client(port, 'exclusive Y (ignored)', shared=False)
        b = client(port, 'shared B')
        for c in (a, x, y, b):
            alive(c)
            c.close()
    finally:
        srv.stop()


def connecting(port, label):
    """A client that only reads the server's version: still connecting."""
    c = RfbClient(port, label=label)
    got = c.recv_exact(12, 'ProtocolVersion')
    check(got == b'RFB 003.008\n', '%s: greeting %r' % (label, got))
    c.local = c.sock.getsockname()[1]
    return c


def t_connection_limit_connecting():
    srv, port = server(',connections=3')
    try:
        done = client(port, 'initialized I')   # active, not connecting: does not count
        mark = err_mark(srv)
        a = connecting(port, 'connecting A')
        b = connecting(port, 'connecting B')
        c = connecting(port, 'connecting C')
        d = connecting(port, 'connecting D')
        # Four connecting > 3: the oldest of them (A) is dropped, not I, B, C or D.
        dropped(a, srv, mark, 'too many|connections|oldest')
        # B and C finish: with I that makes three active clients (<= 3).
        for k in (b, c):
            k.send(b'RFB 003.008\n')
            k.security(8, 1)
            si = k.client_init(True)
            check((si.width, si.height) == (W, H), '%s: ServerInit %dx%d' % (k.label, si.width, si.height))
            k.set_encodings([ENC_RAW])
            alive(k)
        # D would be the fourth active client: dropped at its ClientInit.
        d.send(b'RFB 003.008\n')
        d.security(8, 1)
        mark = err_mark(srv)
        d.send(b'\x01')
        got = d.read_until_eof(what='connecting D to be refused at ClientInit (4 active > 3)')
        check(got == b'', 'D: the server sent [%s] before closing' % hexs(got))
        reason = closing_reason(srv, d.local, mark, 'D at ClientInit')
        print('# connecting D refused at ClientInit: %s' % reason, flush=True)
        alive(done)
        for k in (b, c, done):
            alive(k)
            k.close()
    finally:
        srv.stop()


def t_connection_limit_init():
    srv, port = server(',connections=1')
    try:
        a = client(port, 'active A')
        # B's ClientInit (shared) would make two active clients: B is dropped.
        refused_at_init(port, srv, 'shared B beyond connections=1', True)
        alive(a)
        # An exclusive request disconnects A first, so it fits (QEMU order).
        mark = err_mark(srv)
        x = client(port, 'exclusive X with connections=1', shared=False)
        dropped(a, srv, mark)
        alive(x)
        x.close()
    finally:
        srv.stop()


def t_bad_share_value():
    from netlib import run_expect_exit, free_port
    vnc = '%s:%d,share=sometimes' % (HOST, free_port() - 5900)
    p = run_expect_exit([emu(), '-S', '-vnc', vnc])
    want = 'qvnc-emu: -vnc %s: unknown vnc share= option' % vnc
    check(p.returncode == 1 and want in p.stderr, 'share=sometimes: exit %d, stderr %r, expected %r'
          % (p.returncode, p.stderr.strip(), want))


run.case('share=allow-exclusive: exclusive kicks the others, shared refused while exclusive', t_allow_exclusive)
run.case('share=force-shared: exclusive request refused, others stay', t_force_shared)
run.case('share=ignore: the flag is ignored', t_ignore)
run.case('connections=3: the oldest connecting client is dropped; the 4th active one at ClientInit', t_connection_limit_connecting)
run.case('connections=1: a client beyond the limit is dropped at ClientInit', t_connection_limit_init)
run.case('share=sometimes is refused', t_bad_share_value)
run.finish()
