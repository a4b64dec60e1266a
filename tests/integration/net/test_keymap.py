#!/usr/bin/python3
"""-k LAYOUT end to end: keysyms from a raw RFB client become the scancodes
(qnum) of that layout in qvnc-emu's INPUT lines.

* -k de (QWERTZ): y -> 0x2c, z -> 0x15, odiaeresis -> 0x27;
  -k fr (AZERTY): a -> 0x10, q -> 0x1e, z -> 0x11, w -> 0x2c;
  no -k: qnum 0 (the C ABI passes the keysym alone; QEMU would apply en-us).
* With the QEMU extended key event (-258) and -k de the keymap still
  decides (QEMU ignores the client's keycode when a layout was given);
  without -k the client's keycode is used as it is.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from netlib import check, emu, launch, HOST  # noqa: E402
from qvnc_testlib import Runner, RfbClient, ENC_RAW, ENC_EXT_KEY  # noqa: E402

run = Runner('net-keymap')


def server(layout):
    extra = ['-k', layout] if layout else []
    srv, (port,) = launch(lambda p: [emu(), '-S', '--guest', 'pattern', '--size', '64x48', *extra,
                                     '-vnc', '%s:%d' % (HOST, p - 5900)], name='qvnc-emu -k %s' % layout)
    return srv, port


def press(srv, c, keysym, qnum, label, keycode=None):
    mark = srv.mark()
    if keycode is None:
        c.key_event(keysym, True)
        c.key_event(keysym, False)
    else:
        c.ext_key_event(keysym, keycode, True)
        c.ext_key_event(keysym, keycode, False)
    _, down = srv.wait_line(r'^INPUT key keysym=0x%x qnum=0x([0-9a-f]+) down=1$' % keysym, 10, mark,
                            what='%s: keysym 0x%x pressed' % (label, keysym))
    _, up = srv.wait_line(r'^INPUT key keysym=0x%x qnum=0x([0-9a-f]+) down=0$' % keysym, 10, mark,
                          what='%s: keysym 0x%x released' % (label, keysym))
    got = (int(down.group(1), 16), int(up.group(1), 16))
    check(got == (qnum, qnum), '%s: keysym 0x%x%s arrived as qnum 0x%x/0x%x, expected 0x%x'
          % (label, keysym, '' if keycode is None else ' (extended event, keycode 0x%x)' % keycode,
             got[0], got[1], qnum))
    # Nothing else (no injected modifiers) between press and release.
    keys = [l for l in srv.lines[mark:] if l.startswith('INPUT key')]
    check(len(keys) == 2, '%s: keysym 0x%x produced %d key lines: %r' % (label, keysym, len(keys), keys))


def plain_client(port, label):
    c = RfbClient(port, label=label)
    c.handshake(8, expect_type=1)
    c.set_encodings([ENC_RAW])   # no extended key event
    return c


def ext_client(port, label):
    c = RfbClient(port, label=label)
    c.handshake(8, expect_type=1)
    c.set_encodings([ENC_RAW, ENC_EXT_KEY])
    # The server acknowledges -258 with a rect at once.
    msg = c.read_message()
    check(msg[0] == 'update' and any(r.enc == ENC_EXT_KEY for r in msg[1]),
          '%s: no ExtendedKeyEvent acknowledgement after SetEncodings (got %r)' % (label, msg))
    return c


CASES = {
    'de': [(0x79, 0x2c, 'y'), (0x7a, 0x15, 'z'), (0xf6, 0x27, 'odiaeresis'), (0x61, 0x1e, 'a')],
    'fr': [(0x61, 0x10, 'a'), (0x71, 0x1e, 'q'), (0x7a, 0x11, 'z'), (0x77, 0x2c, 'w')],
    # Without -k the emulator gets the keysym and qnum 0 (qvnc's C ABI:
    # "qnum ... when the client sent one, else 0"); QEMU would use en-us.
    None: [(0x79, 0x0, 'y'), (0x7a, 0x0, 'z'), (0x61, 0x0, 'a'), (0x71, 0x0, 'q')],
}


def t_layout(layout):
    srv, port = server(layout)
    try:
        c = plain_client(port, '-k %s client' % (layout or '(none)'))
        for keysym, qnum, name in CASES[layout]:
            press(srv, c, keysym, qnum, '-k %s %s' % (layout or '(none)', name))
        c.close()
    finally:
        srv.stop()


def t_extended_de():
    srv, port = server('de')
    try:
        c = ext_client(port, '-k de extended')
        # The client claims the US positions (y at 0x15, z at 0x2c); the
        # German keymap decides.
        press(srv, c, 0x79, 0x2c, '-k de extended y', keycode=0x15)
        press(srv, c, 0x7a, 0x15, '-k de extended z', keycode=0x2c)
        c.close()
    finally:
        srv.stop()
    srv, port = server(None)
    try:
        c = ext_client(port, 'no -k extended')
        # Without -k the keycode is taken as sent, whatever the keysym.
        press(srv, c, 0x79, 0x2c, 'no -k extended y at 0x2c', keycode=0x2c)
        press(srv, c, 0x7a, 0x15, 'no -k extended z at 0x15', keycode=0x15)
        c.close()
    finally:
        srv.stop()


run.case('-k de: y/z/odiaeresis/a from a client without extended key events', t_layout, 'de')
run.case('-k fr: a/q/z/w from a client without extended key events', t_layout, 'fr')
run.case('no -k: keysyms only, qnum 0 (C ABI)', t_layout, None)
run.case('extended key event: -k de still decides; without -k the keycode is used', t_extended_de)
run.finish()
