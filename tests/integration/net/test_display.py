#!/usr/bin/python3
"""display= and head= (spec 1.5): a display shows the console of one device.

qvnc-console-host (a C program on the public header qvnc.h) registers
consoles vga0/0 (64x48, #cc2200), vga1/0 (80x60, #0033cc) and vga1/1
(96x72, #11aa44) with qvnc_console_new, then opens the -vnc displays. A raw
RFB client checks the ServerInit size and every pixel of a Raw frame.
Errors are QEMU's: `Device 'nope' not found`, and for an existing device
with a missing head `Device vga1 (head 5) is not bound to a QemuConsole`.
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from netlib import check, launch, env_path, run_expect_exit, free_port, HOST  # noqa: E402
from qvnc_testlib import Runner, RfbClient, compare_pixels, ENC_RAW  # noqa: E402

run = Runner('net-display')
CONSOLES = {('vga0', 0): (64, 48, 0xcc2200), ('vga1', 0): (80, 60, 0x0033cc), ('vga1', 1): (96, 72, 0x11aa44)}


def host():
    return env_path('QVNC_CONSOLE_HOST')


def solid(w, h, colour):
    return bytes([(colour >> 16) & 0xff, (colour >> 8) & 0xff, colour & 0xff]) * (w * h)


def expect_console(port, device, head, label):
    w, h, colour = CONSOLES[(device, head)]
    c = RfbClient(port, label=label)
    si = c.handshake(8, expect_type=1)
    check((si.width, si.height) == (w, h), '%s: ServerInit %dx%d, expected %dx%d (console %s head %d)'
          % (label, si.width, si.height, w, h, device, head))
    c.set_encodings([ENC_RAW])
    c.fbur(False)
    compare_pixels(c.pf, w, h, solid(w, h, colour), c.read_frame(), '%s (console %s/%d)' % (label, device, head))
    return c


def t_display_vga1():
    srv, (port,) = launch(lambda p: [host(), '-vnc', '%s:%d,display=vga1' % (HOST, p - 5900)],
                          name='qvnc-console-host')
    try:
        c = expect_console(port, 'vga1', 0, 'display=vga1')
        # Damage on the shown console reaches the client; on another one not.
        check(srv.command('fill vga0 0 ff00ff') == 'OK', 'fill vga0 failed')
        check(srv.command('fill vga1 0 00ff00') == 'OK', 'fill vga1 failed')
        # The server copies guest damage on its refresh timer (as QEMU does),
        # so incremental requests until the new colour has arrived.
        want = c.pf.expected_pixels(solid(80, 60, 0x00ff00))
        canvas = bytearray(c.pf.expected_pixels(solid(80, 60, 0x0033cc)))
        deadline = time.monotonic() + 10
        while bytes(canvas) != want:
            check(time.monotonic() < deadline, 'display=vga1: the refilled colour #00ff00 did not arrive within '
                  '10s (%d of 4800 pixels updated)' % sum(canvas[i:i + 4] == want[i:i + 4]
                                                           for i in range(0, len(want), 4)))
            c.fbur(True)
            msg = c.read_message()
            for r in (msg[1] if msg[0] == 'update' else []):
                if r.enc != ENC_RAW:
                    continue
                for row in range(r.h):
                    off = ((r.y + row) * 80 + r.x) * 4
                    canvas[off:off + r.w * 4] = r.data[row * r.w * 4:(row + 1) * r.w * 4]
        compare_pixels(c.pf, 80, 60, solid(80, 60, 0x00ff00), bytes(canvas), 'display=vga1 after refilling vga1')
        c.close()
        # Input still arrives through the display's ops.
        k = RfbClient(port, label='keys')
        k.handshake(8, expect_type=1)
        mark = srv.mark()
        k.key_event(0x61, True)
        srv.wait_line(r'^INPUT key keysym=0x61 qnum=0x0 down=1$', 10, mark, what='key on display=vga1')
        k.close()
    finally:
        srv.stop()


def t_display_heads():
    def argv(p1, p2, p3):
        return [host(), '-vnc', '%s:%d,display=vga0' % (HOST, p1 - 5900),
                '-vnc', '%s:%d,display=vga1,head=1' % (HOST, p2 - 5900),
                '-vnc', '%s:%d,display=vga1,head=0' % (HOST, p3 - 5900)]
    srv, (p1, p2, p3) = launch(argv, nports=3, name='qvnc-console-host')
    try:
        expect_console(p1, 'vga0', 0, 'display=vga0').close()
        expect_console(p2, 'vga1', 1, 'display=vga1,head=1').close()
        expect_console(p3, 'vga1', 0, 'display=vga1,head=0').close()
    finally:
        srv.stop()


def t_errors():
    cases = [
        ('display=nope', "Device 'nope' not found"),
        ('display=vga1,head=5', 'Device vga1 (head 5) is not bound to a QemuConsole'),
    ]
    for opts, msg in cases:
        vnc = '%s:%d,%s' % (HOST, free_port() - 5900, opts)
        p = run_expect_exit([host(), '-vnc', vnc])
        check(p.returncode == 1 and ('ERROR ' + msg) in p.stderr and 'READY' not in p.stdout,
              '-vnc %s: exit %d, stderr %r; expected "%s"' % (vnc, p.returncode, p.stderr.strip(), msg))


run.case('display=vga1 shows vga1 head 0 (size, pixels, damage, input)', t_display_vga1)
run.case('display=vga0 / vga1,head=1 / vga1,head=0 on three displays', t_display_heads)
run.case("display=nope and a missing head fail with QEMU's messages", t_errors)
run.finish()
