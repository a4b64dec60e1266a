#!/usr/bin/env python3
"""The password / expiry paths through the public C API, driven by qvnc-test-host
(a C11 program embedding libqvnc), checked with a raw RFB client (stdlib only).

Environment: QVNC_TEST_HOST = path of qvnc-test-host.
Reference: qemu-vnc-spec.md 2.5, 2.6, 4.2.
"""

import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from qvnc_testlib import (Fail, Runner, RfbClient, check, expect_bytes, start_server, env_path,
                          compare_pixels, PF_SERVER_LE, ENC_RAW, ENC_FENCE, tmpdir)
import qvnc_des

AUTH_FAILED = struct.pack('>II', 1, 22) + b'Authentication failed\0'
HOST_W, HOST_H = 64, 48
HOST_RGB = bytes([0x33, 0x66, 0x99]) * (HOST_W * HOST_H)

run = Runner('test_host')
host_bin = env_path('QVNC_TEST_HOST')
tmp = tmpdir('qvnc-host-')

try:
    pw_host, pw_port = start_server(lambda d: [host_bin, '-name', 'host', '-vnc', '127.0.0.1:%d,password=on' % d],
                                    'qvnc-test-host(password=on)')
except Fail as e:
    run.fatal('cannot start qvnc-test-host with password=on: %s' % e)
run.at_exit(pw_host.stop)

try:
    # key-delay-ms=0: every key reaches the host from inside the client's
    # own input processing, which the nested-loop case relies on.
    none_host, none_port = start_server(lambda d: [host_bin, '-vnc', '127.0.0.1:%d,key-delay-ms=0' % d],
                                        'qvnc-test-host(auth none)')
except Fail as e:
    run.fatal('cannot start qvnc-test-host with auth none: %s' % e)
run.at_exit(none_host.stop)


def login(password, ok, minor=8, what=''):
    c = RfbClient(pw_port, label='vnc-auth %s' % what)
    c.version(minor)
    expect_bytes(c.recv_exact(2, 'security types'), b'\x01\x02', 'security types of a password=on display')
    c.send(b'\x02')
    challenge = c.recv_exact(16, 'challenge')
    c.send(qvnc_des.vnc_response(password, challenge))
    if ok:
        expect_bytes(c.recv_exact(4, 'SecurityResult'), b'\0\0\0\0', 'SecurityResult (%s)' % what)
        si = c.client_init()
        check((si.width, si.height) == (HOST_W, HOST_H), 'ServerInit %dx%d, expected %dx%d'
              % (si.width, si.height, HOST_W, HOST_H))
        check(si.name == b'QEMU (host)', 'desktop name %r, expected QEMU (host)' % si.name)
    else:
        c.expect_eof_exact(AUTH_FAILED, 'rejection (%s)' % what)
    c.close()


def cmd(text, want='OK'):
    ans = pw_host.command(text)
    check(ans == want, 'command %r answered %r, expected %r\n%s' % (text, ans, want, pw_host.describe()))


def t_no_password_rejects():
    login('', False, what='no password set yet, empty answer')
    login('anything', False, what='no password set yet')


def t_set_password():
    cmd('password secret1')
    login('secret1', True, what='right password')
    login('secret2', False, what='wrong password')


def t_change_password():
    cmd('password other')
    login('secret1', False, what='old password after a change')
    login('other', True, what='new password')


def t_expire_now():
    cmd('password secret1')
    cmd('expire now')
    login('secret1', False, what='right password, expired now')
    cmd('expire never')
    login('secret1', True, what='right password, never expires')


def t_expire_past_and_future():
    cmd('expire 1')
    login('secret1', False, what='expired in 1970')
    cmd('expire +3600')
    login('secret1', True, what='expires in an hour')
    cmd('expire never')


def t_empty_password():
    # Latest QEMU stores "" as a real empty password: the empty answer logs in,
    # anything else does not (and auth is not switched off: CVE-2011-0011).
    cmd('password')
    login('', True, what='empty password')
    login('x', False, what='non-empty answer to the empty password')
    cmd('password secret1')


def t_password_on_auth_none_fails():
    ans = none_host.command('password secret1')
    check(ans == 'ERROR Could not set password',
          'set_password on an auth-none display answered %r, expected QEMU\'s "ERROR Could not set password"' % ans)
    c = RfbClient(none_port, label='auth none')
    si = c.handshake(8)
    check(si.name == b'QEMU', 'desktop name %r, expected QEMU' % si.name)
    c.fbur(False)
    compare_pixels(PF_SERVER_LE, HOST_W, HOST_H, HOST_RGB, c.read_frame(), 'solid 0x336699 surface')
    c.close()


def t_expire_on_auth_none():
    # QEMU's vnc_display_pw_expire() only fails when the display does not
    # exist: on an auth-none display it stores the time and succeeds (the
    # time is never consulted, so clients still get in).
    ans = none_host.command('expire now')
    check(ans == 'OK', 'expire_password(now) on an auth-none display answered %r; QEMU succeeds '
          '(vnc_display_pw_expire fails only without a display)' % ans)
    c = RfbClient(none_port, label='auth none after expire')
    c.handshake(8)
    c.close()
    none_host.command('expire never')


def t_input_reaches_host():
    c = RfbClient(none_port, label='input')
    c.handshake(8)
    start = none_host.mark()
    c.key_event(0xff0d, True)
    c.pointer_event(3, 4, 0x4)
    none_host.wait_line(r'^INPUT key keysym=0xff0d qnum=0x0 down=1$', start=start, what='Return key')
    none_host.wait_line(r'^INPUT pointer x=3 y=4 buttons=0x4$', start=start, what='right button')
    c.close()
    none_host.wait_line(r'^CLIENT disconnected ', start=start, what='client_event DISCONNECTED')
    # The key still held goes up when its client leaves (QEMU's reset_keys);
    # it also empties the key delay queue before the next case.
    none_host.wait_line(r'^INPUT key keysym=0xff0d qnum=0x0 down=0$', start=start, what='Return released on disconnect')


def proc_cpu_seconds(pid):
    """utime + stime of a process, in seconds."""
    with open('/proc/%d/stat' % pid) as f:
        fields = f.read().rsplit(')', 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')


def painted_client(label):
    """A client that has the current frame and an incremental request that
    the server has read (pending there, not in a socket buffer: a host that
    blocks its loop after a flush would never let it be read)."""
    c = RfbClient(none_port, label=label)
    c.handshake(8)
    c.set_encodings([ENC_RAW, ENC_FENCE])
    c.fbur(incremental=False)
    c.read_frame()
    c.fbur(incremental=True)
    others = c.barrier()
    check(all(m[0] == 'fence' for m in others), '%s: unexpected messages before the barrier: %r' % (label, others))
    return c


def armed_client(label, command):
    """A painted client, with the host armed by `command` for the next key event."""
    c = painted_client(label)
    ans = none_host.command(command)
    check(ans == 'OK', '%s answered %r' % (command, ans))
    return c, none_host.mark()


def t_flush_sends_without_the_loop():
    # qvnc_display_flush: the update goes out from inside the call; the host
    # then keeps its main loop blocked until the frame has arrived.
    c = painted_client('flush')
    fifo = os.path.join(tmp, 'hold')
    os.mkfifo(fifo)
    start = none_host.mark()
    none_host.send_line('paint 00cc33 flush hold ' + fifo)
    none_host.wait_line(r'^HOLDING$', start=start, what='the host holding its loop')
    try:
        frame = c.read_frame(timeout=10)
    finally:
        with open(fifo, 'wb') as f:   # releases the host (whatever happened)
            f.write(b'x')
    none_host.wait_line(r'^OK$', start=start, what='paint answered after the hold')
    compare_pixels(PF_SERVER_LE, HOST_W, HOST_H, bytes([0x00, 0xcc, 0x33]) * (HOST_W * HOST_H), frame,
                   'the frame sent by qvnc_display_flush')
    c.close()


def t_flush_inside_callback():
    # From inside the key callback the flush must not re-enter the input
    # path that called it; the update still goes out (on the next turn).
    c, start = armed_client('flush-in-callback', 'paint-on-key aa5500')
    c.key_event(0x61, True)
    compare_pixels(PF_SERVER_LE, HOST_W, HOST_H, bytes([0xaa, 0x55, 0x00]) * (HOST_W * HOST_H), c.read_frame(timeout=10),
                   'the frame painted from the key callback')
    c.key_event(0x61, False)
    none_host.wait_line(r'^INPUT key keysym=0x61 qnum=0x0 down=0$', start=start, what='the key release')
    c.close()


def t_nested_main_loop_in_callback():
    # The host iterates the main loop inside the key callback while more
    # input arrives on the same connection: that input waits (no re-entry,
    # no busy loop: the nested loop blocks in poll), then goes in order.
    c, start = armed_client('nested loop', 'nest-on-key 400')
    c.key_event(0x71, True)
    i, _ = none_host.wait_line(r'^INPUT key keysym=0x71 qnum=0x0 down=1$', start=start, what='the key that nests')
    c.key_event(0x71, False)
    c.pointer_event(5, 6, 0x1)
    cpu0 = proc_cpu_seconds(none_host.p.pid)
    j, _ = none_host.wait_line(r'^NESTED-DONE$', start=i + 1, what='the nested loop ending')
    cpu = proc_cpu_seconds(none_host.p.pid) - cpu0
    check(none_host.find(r'^INPUT ', i + 1) is None or none_host.find(r'^INPUT ', i + 1)[0] > j,
          'input was processed inside the nested main loop:\n%s' % none_host.describe())
    k, _ = none_host.wait_line(r'^INPUT key keysym=0x71 qnum=0x0 down=0$', start=j + 1, what='the key release after')
    none_host.wait_line(r'^INPUT pointer x=5 y=6 buttons=0x1$', start=k + 1, what='the pointer event after')
    check(cpu < 0.3, 'the host used %.2f s of CPU in a 0.4 s nested loop: the fd was polled busily' % cpu)
    c.pointer_event(5, 6, 0x0)
    c.close()


def t_quit():
    for h in (pw_host, none_host):
        check(h.alive(), '%s died\n%s' % (h.name, h.describe()))
    ans = pw_host.command('quit')
    check(ans == 'OK', 'quit answered %r' % ans)
    rc = pw_host.p.wait(10)
    check(rc == 0, 'qvnc-test-host exit status %s after quit\n%s' % (rc, pw_host.describe()))


run.case('password=on without a password rejects everyone', t_no_password_rejects)
run.case('set_password: right password in, wrong out', t_set_password)
run.case('set_password again replaces the password', t_change_password)
run.case('expire now / never', t_expire_now)
run.case('expire in the past / in an hour', t_expire_past_and_future)
run.case('empty password is a real password', t_empty_password)
run.case('set_password on an auth-none display fails', t_password_on_auth_none_fails)
run.case('expire_password on an auth-none display succeeds', t_expire_on_auth_none)
run.case('key and pointer reach the C host', t_input_reaches_host)
run.case('qvnc_display_flush sends before the host loop turns', t_flush_sends_without_the_loop)
run.case('qvnc_display_flush from inside a callback', t_flush_inside_callback)
run.case('a main loop nested in a callback holds that connection\'s input', t_nested_main_loop_in_callback)
run.case('quit exits 0', t_quit)
run.finish()
