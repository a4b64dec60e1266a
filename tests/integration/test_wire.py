#!/usr/bin/env python3
"""Byte-exact RFB checks against qvnc-emu over real TCP sockets (stdlib only).

Environment: QVNC_EMU = path of the qvnc-emu binary.
Reference: qemu-vnc-spec.md 2.1, 2.5, 2.6, 2.7, 5.2; rfb-facts.md.
"""

import os
import signal
import socket
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from qvnc_testlib import (Fail, Runner, RfbClient, check, expect_bytes, start_emu, frame_dump,
                          compare_pixels, PixelFormat, PF_R5G6B5_BE, ENC_RAW, ENC_EXT_KEY, ENC_EXT_DESKTOP_SIZE,
                          tmpdir)

W, H = 320, 200            # pattern guest, frozen (-S)
NAME = 'wiretest'
PW_W, PW_H = 64, 48        # password server
PASSWORD = 'pass1234more'  # only the first 8 bytes count
AUTH_FAILED = struct.pack('>II', 1, 22) + b'Authentication failed\0'

run = Runner('test_wire')
tmp = tmpdir('qvnc-wire-')
dump_path = os.path.join(tmp, 'frame.ppm')

try:
    srv, port = start_emu(['--guest', 'pattern', '--size', '%dx%d' % (W, H), '--frame-dump', dump_path],
                          prefix_args=['-name', NAME, '-S'], name='qvnc-emu(none)')
except Fail as e:
    run.fatal('cannot start qvnc-emu with auth none: %s' % e)
run.at_exit(srv.stop)

try:
    pw_srv, pw_port = start_emu(['--guest', 'pattern', '--size', '%dx%d' % (PW_W, PW_H)],
                                vnc_suffix=',password-secret=s0',
                                prefix_args=['-S', '-object', 'secret,id=s0,data=' + PASSWORD],
                                name='qvnc-emu(vnc-auth)')
except Fail as e:
    run.fatal('cannot start qvnc-emu with password-secret: %s' % e)
run.at_exit(pw_srv.stop)

try:
    dw, dh, frame_rgb = frame_dump(srv, dump_path)
except Fail as e:
    run.fatal('no frame dump from qvnc-emu: %s' % e)
if (dw, dh) != (W, H):
    run.fatal('frame dump is %dx%d, expected %dx%d' % (dw, dh, W, H))


def client(p=None, label='client'):
    return RfbClient(port if p is None else p, label=label)


def check_server_init(si, w, h, name, label):
    check((si.width, si.height) == (w, h), '%s: ServerInit size %dx%d, expected %dx%d'
          % (label, si.width, si.height, w, h))
    big = 1 if sys.byteorder == 'big' else 0
    want_pf = bytes([32, 24, big, 1, 0, 255, 0, 255, 0, 255, 16, 8, 0, 0, 0, 0])
    expect_bytes(si.pf_bytes, want_pf, '%s: ServerInit pixel format (bpp, depth, be, tc, maxes, shifts, 3 pad)'
                 % label)
    check(si.name == name, '%s: desktop name %r, expected %r' % (label, si.name, name))


# ---------------------------------------------------------------- versions

def t_version_38_none():
    c = client(label='3.8')
    c.version(8)
    expect_bytes(c.recv_exact(2, 'security types'), b'\x01\x01', '3.8 security types (auth none)')
    c.send(b'\x01')
    expect_bytes(c.recv_exact(4, 'SecurityResult'), b'\0\0\0\0', '3.8 SecurityResult for None')
    si = c.client_init()
    check_server_init(si, W, H, b'QEMU (' + NAME.encode() + b')', '3.8')
    c.close()


def t_version_37_none():
    c = client(label='3.7')
    c.version(7)
    expect_bytes(c.recv_exact(2, 'security types'), b'\x01\x01', '3.7 security types (auth none)')
    c.send(b'\x01')
    # No SecurityResult for None in 3.7: the next bytes must be ServerInit.
    si = c.client_init()
    check_server_init(si, W, H, b'QEMU (' + NAME.encode() + b')', '3.7 (a SecurityResult would shift ServerInit)')
    c.close()


def t_version_33_like(minor):
    c = client(label='3.%d' % minor)
    c.version(minor)
    expect_bytes(c.recv_exact(4, '3.3 security type'), b'\0\0\0\x01', '3.%d security type (u32 None)' % minor)
    si = c.client_init()
    check_server_init(si, W, H, b'QEMU (' + NAME.encode() + b')', '3.%d (treated as 3.3)' % minor)
    c.close()


def t_version_rejected(raw):
    c = client(label=repr(raw))
    c.version(raw)
    c.expect_eof_exact(b'\0\0\0\0', 'reply to client version %r' % raw)
    c.close()


def t_version_garbage():
    # qemu-vnc-spec 2.1: a version that does not parse as "RFB %03d.%03d\n"
    # closes the connection without sending anything.
    c = client(label='garbage')
    c.version(b'HELLO THERE\n')
    c.expect_eof_exact(b'', 'reply to a garbage client version')
    c.close()


def t_wrong_type_38():
    c = client(label='3.8 wrong type')
    c.version(8)
    expect_bytes(c.recv_exact(2, 'security types'), b'\x01\x01', '3.8 security types')
    c.send(b'\x02')
    c.expect_eof_exact(AUTH_FAILED, '3.8 after choosing type 2 when only 1 is offered')
    c.close()


def t_wrong_type_37():
    c = client(label='3.7 wrong type')
    c.version(7)
    expect_bytes(c.recv_exact(2, 'security types'), b'\x01\x01', '3.7 security types')
    c.send(b'\x10')
    c.expect_eof_exact(b'\0\0\0\x01', '3.7 after choosing type 16 when only 1 is offered')
    c.close()


# ---------------------------------------------------------------- VNC auth

def vnc_auth_33(password, ok):
    from qvnc_des import vnc_response
    c = client(pw_port, label='3.3 vnc-auth')
    c.version(3)
    expect_bytes(c.recv_exact(4, '3.3 security type'), b'\0\0\0\x02', '3.3 security type (u32 VNC)')
    challenge = c.recv_exact(16, 'challenge')
    c.send(vnc_response(password, challenge))
    if ok:
        expect_bytes(c.recv_exact(4, 'SecurityResult'), b'\0\0\0\0', '3.3 SecurityResult, right password')
        si = c.client_init()
        check_server_init(si, PW_W, PW_H, b'QEMU', '3.3 vnc-auth')
    else:
        c.expect_eof_exact(b'\0\0\0\x01', '3.3 wrong password (no reason string before 3.8)')
    c.close()
    return challenge


def vnc_auth_3x(minor, password, ok):
    from qvnc_des import vnc_response
    c = client(pw_port, label='3.%d vnc-auth' % minor)
    c.version(minor)
    expect_bytes(c.recv_exact(2, 'security types'), b'\x01\x02', '3.%d security types (VNC)' % minor)
    c.send(b'\x02')
    challenge = c.recv_exact(16, 'challenge')
    c.send(vnc_response(password, challenge))
    if ok:
        expect_bytes(c.recv_exact(4, 'SecurityResult'), b'\0\0\0\0', '3.%d SecurityResult, right password' % minor)
        si = c.client_init()
        check_server_init(si, PW_W, PW_H, b'QEMU', '3.%d vnc-auth' % minor)
    else:
        want = AUTH_FAILED if minor >= 8 else b'\0\0\0\x01'
        c.expect_eof_exact(want, '3.%d wrong password' % minor)
    c.close()
    return challenge


def t_vnc_auth_33():
    a = vnc_auth_33(PASSWORD, True)
    b = vnc_auth_33(PASSWORD[:8], True)
    check(a != b, 'two connections got the same challenge %s' % a.hex())
    check(len(set(a)) > 1, 'challenge %s does not look random' % a.hex())


def t_vnc_auth_33_wrong():
    vnc_auth_33('pass1235', False)


def t_vnc_auth_38():
    vnc_auth_3x(8, PASSWORD, True)


def t_vnc_auth_38_truncated():
    # a password of 7 bytes differs from the 8-byte key
    vnc_auth_3x(8, PASSWORD[:7], False)


def t_vnc_auth_38_wrong():
    vnc_auth_3x(8, 'wrong', False)


def t_vnc_auth_37():
    vnc_auth_3x(7, PASSWORD, True)
    vnc_auth_3x(7, 'nope', False)


def t_vnc_auth_choose_none():
    c = client(pw_port, label='3.8 none on vnc server')
    c.version(8)
    expect_bytes(c.recv_exact(2, 'security types'), b'\x01\x02', '3.8 security types (VNC)')
    c.send(b'\x01')
    c.expect_eof_exact(AUTH_FAILED, '3.8 choosing None on a password server')
    c.close()


# ---------------------------------------------------------------- framebuffer

def t_raw_frame_default():
    c = client(label='raw default')
    c.handshake(8)
    check(c.pf.bpp == 32, 'server pixel format is %r' % c.pf)
    c.fbur(False)
    got = c.read_frame()
    compare_pixels(c.pf, W, H, frame_rgb, got, 'Raw frame without SetEncodings (server format)')
    c.close()


def t_raw_frame_client_format(pf, what):
    def body():
        c = client(label=what)
        c.handshake(8)
        c.set_encodings([ENC_RAW])
        c.set_pixel_format(pf)
        if pf.true_colour == 0:
            msg = c.read_message()
            check(msg[0] == 'colourmap', '%s: expected SetColourMapEntries first, got %r' % (what, msg[0]))
            first, entries = msg[1], msg[2]
            check(first == 0 and len(entries) == 256, '%s: SetColourMapEntries first=%d n=%d, expected 0/256'
                  % (what, first, len(entries)))
            for i, (r, g, b) in enumerate(entries):
                want = ((i & 7) << 13, ((i >> 3) & 7) << 13, ((i >> 6) & 3) << 14)
                check((r, g, b) == want, '%s: colour map entry %d is %r, expected %r (BGR233)'
                      % (what, i, (r, g, b), want))
        c.fbur(False)
        got = c.read_frame()
        compare_pixels(c.pf, W, H, frame_rgb, got, what)
        c.close()
    return body


def t_frame_le32_other_shifts():
    pf = PixelFormat(32, 24, 0, 1, 255, 255, 255, 0, 8, 16)   # RGBX in memory
    t_raw_frame_client_format(pf, 'Raw frame, 32bpp LE shifts 0/8/16')()


def t_zero_max_is_255():
    # CVE-2015-8504: red/green/blue-max 0 must not divide by zero; QEMU
    # treats 0 as 255, i.e. this asks for the server's own format.
    c = client(label='max 0')
    c.handshake(8)
    c.set_encodings([ENC_RAW])
    c.set_pixel_format(PixelFormat(32, 24, 0, 1, 0, 0, 0, 16, 8, 0))
    c.pf = PixelFormat(32, 24, 0, 1, 255, 255, 255, 16, 8, 0)
    c.fbur(False)
    compare_pixels(c.pf, W, H, frame_rgb, c.read_frame(), 'Raw frame after SetPixelFormat with max 0/0/0')
    c.close()
    check(srv.alive(), 'qvnc-emu died after a SetPixelFormat with max 0\n' + srv.describe())


def t_ext_desktop_size_on_full_request():
    c = client(label='extdesktop')
    c.handshake(8)
    c.set_encodings([ENC_RAW, ENC_EXT_DESKTOP_SIZE])
    for round_ in (1, 2):
        seen = []
        c.fbur(False)
        got = c.read_frame(on_rect=seen.append)
        compare_pixels(c.pf, W, H, frame_rgb, got, 'Raw frame with ExtendedDesktopSize, request %d' % round_)
        eds = [r for r in seen if r.enc == ENC_EXT_DESKTOP_SIZE]
        check(len(eds) == 1, 'request %d: expected one ExtendedDesktopSize rect per non-incremental request, got %r'
              % (round_, seen))
        r = eds[0]
        check((r.x, r.y, r.w, r.h) == (0, 0, W, H),
              'ExtendedDesktopSize rect %r: expected reason 0, status 0, %dx%d' % (r, W, H))
        expect_bytes(r.data, struct.pack('>B3xIHHHHI', 1, 0, 0, 0, W, H, 0),
                     'ExtendedDesktopSize screen list (1 screen, id 0, 0,0 WxH, flags 0)')
    c.close()


def t_client_events():
    start = srv.mark()
    c = client(label='events')
    local_port = c.sock.getsockname()[1]
    c.handshake(8)
    srv.wait_line(r'^CLIENT connected host=127\.0\.0\.1 service=%d$' % local_port, start=start,
                  what='client_event CONNECTED')
    srv.wait_line(r'^CLIENT initialized host=127\.0\.0\.1 service=%d family=ipv4 websocket=0\b' % local_port,
                  start=start, what='client_event INITIALIZED')
    c.close()
    srv.wait_line(r'^CLIENT disconnected host=127\.0\.0\.1 service=%d\b' % local_port, start=start,
                  what='client_event DISCONNECTED')


# ---------------------------------------------------------------- misbehaving clients

def second_client_still_works(b, what):
    b.fbur(False)
    got = b.read_frame()
    compare_pixels(b.pf, W, H, frame_rgb, got, 'other client after %s' % what)


def t_bad_bpp_closes_only_that_client():
    b = client(label='bystander')
    b.handshake(8)
    b.set_encodings([ENC_RAW])
    a = client(label='bpp12')
    a.handshake(8)
    a.send(b'\x00\x00\x00\x00' + struct.pack('>BBBBHHHBBB3x', 12, 12, 0, 1, 15, 15, 15, 8, 4, 0))
    a.read_until_eof(what='the server to close a client that asked for 12 bpp')
    a.close()
    second_client_still_works(b, 'a 12-bpp SetPixelFormat')
    b.close()
    check(srv.alive(), 'qvnc-emu died after a 12-bpp SetPixelFormat\n' + srv.describe())


def t_huge_cut_text_closes_only_that_client():
    b = client(label='bystander')
    b.handshake(8)
    b.set_encodings([ENC_RAW])
    a = client(label='cut>1MiB')
    a.handshake(8)
    a.send(struct.pack('>BxxxI', 6, (1 << 20) + 1) + b'x' * 1024)
    a.read_until_eof(what='the server to close a client that sent 1 MiB + 1 of cut text')
    a.close()
    second_client_still_works(b, 'a >1 MiB ClientCutText')
    b.close()
    check(srv.alive(), 'qvnc-emu died after a huge ClientCutText\n' + srv.describe())


def t_unknown_message_closes_only_that_client():
    b = client(label='bystander')
    b.handshake(8)
    b.set_encodings([ENC_RAW])
    a = client(label='msg77')
    a.handshake(8)
    a.send(bytes([77]) + b'\0' * 15)
    a.read_until_eof(what='the server to close a client that sent message type 77')
    a.close()
    second_client_still_works(b, 'an unknown message type 77')
    b.close()
    check(srv.alive(), 'qvnc-emu died after message type 77\n' + srv.describe())


# ---------------------------------------------------------------- input

def t_key_and_pointer():
    c = client(label='input')
    c.handshake(8)
    start = srv.mark()
    c.key_event(0x61, True)
    c.key_event(0x61, False)
    c.pointer_event(17, 29, 0x1)
    c.pointer_event(17, 29, 0x0)
    i, _ = srv.wait_line(r'^INPUT key keysym=0x61 qnum=0x0 down=1$', start=start, what='KeyEvent a down')
    i, _ = srv.wait_line(r'^INPUT key keysym=0x61 qnum=0x0 down=0$', start=i + 1, what='KeyEvent a up')
    i, _ = srv.wait_line(r'^INPUT pointer x=17 y=29 buttons=0x1$', start=start, what='PointerEvent press')
    srv.wait_line(r'^INPUT pointer x=17 y=29 buttons=0x0$', start=i + 1, what='PointerEvent release')
    c.close()


def t_input_before_reset():
    """Keys a client sends just before it resets the connection, while the server still has output for it
    (a script that types and exits, a viewer killed mid-frame), reach the emulator: the server reads what
    arrived before it writes, as QEMU's vnc_client_io does.  The server is stopped while the keys and the
    reset arrive, so it sees input, writability and the error in one wakeup."""
    # 1920x1080 Raw is 8 MiB in one update, queued whole (Raw is encoded on the loop): more than the
    # socket buffers of both ends hold, so once its first bytes arrive the server has output waiting.
    big, big_port = start_emu(['--guest', 'pattern', '--size', '1920x1080'], prefix_args=['-S'],
                              name='qvnc-emu(1080p)')
    try:
        c = client(big_port, label='reset')
        c.handshake(8)
        c.set_encodings([ENC_RAW])
        c.fbur(incremental=False)
        c.recv_exact(4, 'the start of the update')
        start = big.mark()
        big.signal(signal.SIGSTOP)
        try:
            c.key_event(0x62, True)
            c.key_event(0x62, False)
            c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))   # close sends RST
            c.close()
        finally:
            big.signal(signal.SIGCONT)
        i, _ = big.wait_line(r'^INPUT key keysym=0x62 qnum=0x0 down=1$', start=start, what='KeyEvent b down')
        big.wait_line(r'^INPUT key keysym=0x62 qnum=0x0 down=0$', start=i + 1, what='KeyEvent b up')
        big.wait_line(r'^CLIENT disconnected ', start=start, what='the reset client leaving')
    finally:
        big.stop()


def t_cut_text():
    c = client(label='cut')
    c.handshake(8)
    start = srv.mark()
    c.cut_text(b'hello qvnc')
    srv.wait_line(r'^INPUT cut-text len=10 text=hello qvnc$', start=start, what='ClientCutText')
    c.close()


def t_ext_key_event():
    c = client(label='extkey')
    c.handshake(8)
    c.set_encodings([ENC_RAW, ENC_EXT_KEY])
    # QEMU acknowledges -258 right away with an empty rect 0,0,W,H.
    msg = c.read_message()
    check(msg[0] == 'update', 'expected a FramebufferUpdate carrying the ExtendedKeyEvent ack, got %r' % (msg,))
    rects = msg[1]
    check(any(r.enc == ENC_EXT_KEY for r in rects),
          'the FramebufferUpdate after SetEncodings has no -258 rect: %r' % rects)
    ack = [r for r in rects if r.enc == ENC_EXT_KEY][0]
    check((ack.x, ack.y, ack.w, ack.h) == (0, 0, W, H) and ack.data == b'',
          'ExtendedKeyEvent ack rect is %r, expected 0,0 %dx%d without data' % (ack, W, H))
    start = srv.mark()
    c.ext_key_event(0x61, 0x1e, True)
    c.ext_key_event(0x61, 0x1e, False)
    c.ext_key_event(0xff53, 0xcd, True)   # Right arrow: E0 4D -> 0xcd
    c.ext_key_event(0xff53, 0xcd, False)
    i, _ = srv.wait_line(r'^INPUT key keysym=0x61 qnum=0x1e down=1$', start=start, what='ext key a down')
    i, _ = srv.wait_line(r'^INPUT key keysym=0x61 qnum=0x1e down=0$', start=i + 1, what='ext key a up')
    i, _ = srv.wait_line(r'^INPUT key keysym=0xff53 qnum=0xcd down=1$', start=i + 1, what='ext key Right down')
    srv.wait_line(r'^INPUT key keysym=0xff53 qnum=0xcd down=0$', start=i + 1, what='ext key Right up')
    c.close()


def t_server_alive():
    check(srv.alive(), 'qvnc-emu (auth none) is not running any more\n' + srv.describe())
    check(pw_srv.alive(), 'qvnc-emu (vnc auth) is not running any more\n' + pw_srv.describe())
    c = client(label='final')
    si = c.handshake(8)
    check_server_init(si, W, H, b'QEMU (' + NAME.encode() + b')', 'final handshake')
    c.close()
    rc = srv.stop()
    check(rc == 0, 'qvnc-emu exit status after SIGTERM: %s, expected 0\n%s' % (rc, srv.describe()))


run.case('3.8 auth None: 01 01, SecurityResult 0, ServerInit', t_version_38_none)
run.case('3.7 auth None: 01 01, no SecurityResult', t_version_37_none)
run.case('3.3 auth None: u32 1, ClientInit', t_version_33_like, 3)
run.case('3.4 treated as 3.3', t_version_33_like, 4)
run.case('3.5 treated as 3.3', t_version_33_like, 5)
run.case('3.6 rejected with u32 0', t_version_rejected, b'RFB 003.006\n')
run.case('4.0 rejected with u32 0', t_version_rejected, b'RFB 004.000\n')
run.case('3.889 rejected with u32 0', t_version_rejected, b'RFB 003.889\n')
run.case('garbage version: closed without a reply', t_version_garbage)
run.case('3.8 wrong security type: u32 1 + reason', t_wrong_type_38)
run.case('3.7 wrong security type: u32 1, no reason', t_wrong_type_37)
run.case('VNC auth 3.3: u32 2 + challenge, right password', t_vnc_auth_33)
run.case('VNC auth 3.3: wrong password', t_vnc_auth_33_wrong)
run.case('VNC auth 3.8: right password (only 8 bytes count)', t_vnc_auth_38)
run.case('VNC auth 3.8: 7-byte prefix of the password fails', t_vnc_auth_38_truncated)
run.case('VNC auth 3.8: wrong password, u32 1 + reason', t_vnc_auth_38_wrong)
run.case('VNC auth 3.7: right and wrong password', t_vnc_auth_37)
run.case('VNC auth 3.8: choosing None fails', t_vnc_auth_choose_none)
run.case('full Raw frame equals the frame dump (server format)', t_raw_frame_default)
run.case('Raw frame in 32bpp LE RGBX', t_frame_le32_other_shifts)
run.case('Raw frame in 16bpp big-endian r5g6b5',
         t_raw_frame_client_format(PF_R5G6B5_BE, 'Raw frame, 16bpp BE r5g6b5'))
run.case('Raw frame in 8bpp colour-map mode (forced BGR233)',
         t_raw_frame_client_format(PixelFormat(8, 8, 0, 0, 7, 7, 3, 0, 3, 6), 'Raw frame, 8bpp true-colour 0'))
run.case('SetPixelFormat with max 0 is treated as 255', t_zero_max_is_255)
run.case('ExtendedDesktopSize rect on every non-incremental request', t_ext_desktop_size_on_full_request)
run.case('client events: connected, initialized, disconnected', t_client_events)
run.case('SetPixelFormat 12 bpp closes that client only', t_bad_bpp_closes_only_that_client)
run.case('ClientCutText > 1 MiB closes that client only', t_huge_cut_text_closes_only_that_client)
run.case('unknown message type 77 closes that client only', t_unknown_message_closes_only_that_client)
run.case('KeyEvent and PointerEvent reach the emulator', t_key_and_pointer)
run.case('ClientCutText reaches the emulator', t_cut_text)
run.case('keys sent just before a reset reach the emulator', t_input_before_reset)
run.case('QEMU extended key event: ack rect, then 255/0 with keycodes', t_ext_key_event)
run.case('server still alive, clean SIGTERM exit', t_server_alive)
run.finish()
