#!/usr/bin/python3
"""power-control=on: XVP (RFB message 250, pseudo-encoding -309), spec 5.1/5.2.

* SetEncodings with -309 on a power-control display: the server answers
  XVP_INIT `fa 00 01 01` at once.
* XVP shutdown (2), reboot (3) and reset (4) reach the emulator through the
  C ABI: qvnc-emu prints `POWER shutdown|reboot|reset`. An unknown action
  gets XVP_FAIL `fa 00 01 00` and reaches nobody.
* A bad XVP version closes only that client; XVP from a client that did not
  list -309, or on a display without power-control, closes that client.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from netlib import (Fail, check, emu, launch, closing_reason, err_mark, xvp_message, read_xvp, ENC_XVP,  # noqa: E402
                    HOST, lines_matching)
from qvnc_testlib import Runner, RfbClient, hexs, ENC_RAW  # noqa: E402

W, H = 64, 48
run = Runner('net-power')


def server(opts):
    srv, (port,) = launch(lambda p: [emu(), '-S', '--guest', 'pattern', '--size', '%dx%d' % (W, H),
                                     '-vnc', '%s:%d%s' % (HOST, p - 5900, opts)], name='qvnc-emu' + opts)
    return srv, port


def client(port, label):
    c = RfbClient(port, label=label)
    c.handshake(8, expect_type=1)
    c.local = c.sock.getsockname()[1]
    return c


def xvp_client(port, label):
    c = client(port, label)
    c.set_encodings([ENC_RAW, ENC_XVP])
    ver, code = read_xvp(c, 'XVP_INIT after SetEncodings with -309')
    check((ver, code) == (1, 1), '%s: XVP message version %d code %d, expected XVP_INIT (1, 1)' % (label, ver, code))
    return c


def alive(c):
    c.fbur(False, 0, 0, 8, 8)
    for _ in range(10):
        msg = c.read_message()
        if msg[0] == 'update' and any(r.enc == ENC_RAW for r in msg[1]):
            return
    raise Fail('%s: no update after a FramebufferUpdateRequest' % c.label)


def closed_for(c, srv, mark, reason_rx, what, sent=None):
    try:
        got = c.read_until_eof(what=what)
    except Fail as e:
        raise Fail('%s\n  sent [%s]; server stdout/stderr since:\n%s\n%s'
                   % (e, hexs(sent or b''), srv.stdout_tail(4), '\n'.join('    [stderr] ' + l for l in srv.err[mark:])))
    c.close()
    reason = closing_reason(srv, c.local, mark, what)
    print('# %s: server log: closing: %s (bytes before EOF: [%s])' % (what, reason, hexs(got, 16)), flush=True)
    import re
    check(re.search(reason_rx, reason), '%s: closed for %r, expected /%s/' % (what, reason, reason_rx))


def no_xvp_before_update(c, what):
    """Reads up to the next Raw update; fails on any XVP message."""
    c.fbur(False, 0, 0, 8, 8)
    for _ in range(10):
        t = c.recv_exact(1, what)[0]
        if t == 250:
            raise Fail('%s: the server sent an XVP message [fa %s]' % (what, hexs(c.recv_exact(3, 'xvp'))))
        c.u8 = lambda w='u8', t=t: t
        try:
            msg = c.read_message()
        finally:
            del c.u8
        if msg[0] == 'update' and any(r.enc == ENC_RAW for r in msg[1]):
            return
    raise Fail('%s: no update' % what)


def t_power_actions():
    srv, port = server(',power-control=on')
    try:
        c = xvp_client(port, 'xvp client')
        for code, name in ((2, 'shutdown'), (4, 'reset'), (3, 'reboot')):
            mark = srv.mark()
            c.send(xvp_message(code))
            srv.wait_line(r'^POWER %s$' % name, 10, mark, what='XVP action %d' % code)
        # Unknown action: XVP_FAIL, nothing reaches the emulator.
        mark = srv.mark()
        c.send(xvp_message(7))
        ver, code = read_xvp(c, 'XVP_FAIL for action 7')
        check((ver, code) == (1, 0), 'action 7: XVP message (%d, %d), expected XVP_FAIL (1, 0)' % (ver, code))
        alive(c)
        check(not lines_matching(srv, r'^POWER', mark), 'action 7 reached the emulator: %r'
              % lines_matching(srv, r'^POWER', mark))
        c.close()
    finally:
        srv.stop()


def t_bad_version():
    srv, port = server(',power-control=on')
    try:
        good = xvp_client(port, 'good xvp client')
        bad = xvp_client(port, 'bad-version client')
        mark = err_mark(srv)
        pmark = srv.mark()
        bad.send(xvp_message(2, version=2))
        closed_for(bad, srv, mark, r'xvp client message version 2 != 1', 'XVP version 2', xvp_message(2, version=2))
        check(not lines_matching(srv, r'^POWER', pmark), 'an XVP message of version 2 reached the emulator')
        alive(good)
        good.send(xvp_message(2))
        srv.wait_line(r'^POWER shutdown$', 10, pmark, what='shutdown from the other client afterwards')
        good.close()
    finally:
        srv.stop()


def t_without_encoding():
    # power-control=on, but the client never listed -309 (QEMU: the XVP
    # feature is set only by SetEncodings).
    srv, port = server(',power-control=on')
    try:
        other = xvp_client(port, 'other client')
        c = client(port, 'no -309 client')
        c.set_encodings([ENC_RAW])
        no_xvp_before_update(c, 'SetEncodings without -309')
        mark = err_mark(srv)
        pmark = srv.mark()
        c.send(xvp_message(2))
        closed_for(c, srv, mark, r'xvp client message while disabled', 'XVP without -309 in SetEncodings',
                   xvp_message(2))
        check(not lines_matching(srv, r'^POWER', pmark), 'XVP without the -309 encoding reached the emulator')
        # -309 dropped by a later SetEncodings: disabled again.
        d = xvp_client(port, 'client that drops -309')
        d.set_encodings([ENC_RAW])
        no_xvp_before_update(d, 'second SetEncodings without -309')
        mark = err_mark(srv)
        d.send(xvp_message(4))
        closed_for(d, srv, mark, r'xvp client message while disabled', 'XVP after -309 was dropped',
                   xvp_message(4))
        check(not lines_matching(srv, r'^POWER', pmark), 'XVP after -309 was dropped reached the emulator')
        alive(other)
        other.close()
    finally:
        srv.stop()


def t_no_power_control():
    srv, port = server('')
    try:
        other = client(port, 'other client')
        c = client(port, 'xvp client on a display without power-control')
        c.set_encodings([ENC_RAW, ENC_XVP])
        no_xvp_before_update(c, 'SetEncodings with -309 without power-control')
        mark = err_mark(srv)
        pmark = srv.mark()
        c.send(xvp_message(2))
        closed_for(c, srv, mark, r'xvp client message while disabled', 'XVP without power-control',
                   xvp_message(2))
        check(not lines_matching(srv, r'^POWER', pmark), 'XVP without power-control reached the emulator')
        alive(other)
        other.close()
    finally:
        srv.stop()


run.case('XVP_INIT, shutdown/reset/reboot reach qvnc-emu, unknown action fails', t_power_actions)
run.case('a bad XVP version closes only that client', t_bad_version)
run.case('XVP from a client without the -309 encoding closes it', t_without_encoding)
run.case('XVP on a display without power-control closes that client', t_no_power_control)
run.finish()
