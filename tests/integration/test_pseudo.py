#!/usr/bin/env python3
"""Pseudo-encodings and the messages they enable, at the wire level: the
extended clipboard (both directions, a truncated zlib stream), continuous
updates, fences, the alpha cursor and QEMU audio.

Environment: QVNC_EMU = path of qvnc-emu.
"""
import struct
import zlib

from qvnc_testlib import (Fail, RfbClient, Runner, check, start_emu)

EXT_CLIP = 0xC0A1E5CE - (1 << 32)
CONT_UPDATES = -313
FENCE = -312
ALPHA_CURSOR = -314
AUDIO = -259
RAW = 0

CAPS, REQUEST, PEEK, NOTIFY, PROVIDE, TEXT = 1 << 24, 1 << 25, 1 << 26, 1 << 27, 1 << 28, 1

run = Runner('test_pseudo')
emu, port = start_emu(['--guest', 'console', '-name', 'pseudo'])
run.at_exit(emu.stop)


def connect(encodings, label):
    c = RfbClient(port, label=label)
    c.handshake()
    c.set_encodings(encodings)
    return c


def read_server_message(c):
    """A message, with cut text read as signed (extended clipboard)."""
    t = c.u8('message type')
    if t == 3:
        c.recv_exact(3, 'pad')
        n = struct.unpack('>i', c.recv_exact(4, 'length'))[0]
        if n < 0:
            body = c.recv_exact(-n, 'extended clipboard')
            return ('extclip', struct.unpack('>I', body[:4])[0], body[4:])
        return ('cut', c.recv_exact(n, 'text'))
    if t == 150:
        return ('eocu',)
    if t == 248:
        flags = struct.unpack('>xxxI', c.recv_exact(7, 'fence'))[0]
        n = c.u8('fence length')
        return ('fence', flags, c.recv_exact(n, 'fence payload'))
    if t == 0:
        hdr = c.recv_exact(3, 'update header')
        n = struct.unpack('>xH', hdr)[0]
        rects = []
        for _ in range(n):
            x, y, w, h, enc = struct.unpack('>HHHHi', c.recv_exact(12, 'rect'))
            rects.append((x, y, w, h, enc, c._rect_data(x, y, w, h, enc)))
        return ('update', rects)
    if t == 255:
        sub, op = struct.unpack('>BH', c.recv_exact(3, 'qemu message'))
        data = c.recv_exact(c.u32('audio length'), 'audio') if op == 2 else b''
        return ('qemu', sub, op, data)
    raise Fail('unexpected server message type %d' % t)


def next_of(c, kind, limit=50):
    for _ in range(limit):
        m = read_server_message(c)
        if m[0] == kind:
            return m
    raise Fail('no %s message among %d messages' % (kind, limit))


def ext_clip(c, flags, payload=b''):
    c.send(struct.pack('>BxxxiI', 6, -(4 + len(payload)), flags) + payload)


def t_clipboard_caps_and_provide():
    c = connect([RAW, EXT_CLIP], 'extclip')
    m = next_of(c, 'extclip')
    check(m[1] & CAPS and m[1] & TEXT and m[1] & PROVIDE and m[1] & REQUEST,
          'caps message flags 0x%08x lack caps/text/provide/request' % m[1])
    check(len(m[2]) == 4, 'caps carry one size (text), got %d bytes' % len(m[2]))
    text = 'h\u00e9llo\nworld'.encode()
    data = zlib.compress(struct.pack('>I', len(text) + 2) + text.replace(b'\n', b'\r\n') + b'\0')
    ext_clip(c, PROVIDE | TEXT, data)
    # The console guest logs the UTF-8 text with \n turned into \x0a.
    emu.wait_line(r'^INPUT cut-text len=12 text=h\\xc3\\xa9llo\\x0aworld$', what='provided clipboard text')
    # A notify makes the server ask for the text.
    ext_clip(c, NOTIFY | TEXT)
    m = next_of(c, 'extclip')
    check(m[1] == REQUEST | TEXT, 'answer to notify: 0x%08x, expected request|text' % m[1])
    c.close()


def t_clipboard_truncated_stream():
    # CVE-2023-3255: a zlib stream that ends early must not hang the server.
    c = connect([RAW, EXT_CLIP], 'truncated')
    next_of(c, 'extclip')
    whole = zlib.compress(struct.pack('>I', 5000) + b'x' * 5000)
    ext_clip(c, PROVIDE | TEXT, whole[:len(whole) // 3])
    # Either refused (closed) or ignored; the server must still answer.
    other = connect([RAW], 'after-truncated')
    other.fbur(incremental=False)
    check(next_of(other, 'update')[1], 'no update for the next client')
    other.close()
    c.close()


def t_continuous_updates_and_fence():
    c = connect([RAW, CONT_UPDATES, FENCE], 'cu')
    seen = set()
    for _ in range(2):
        m = read_server_message(c)
        seen.add(m[0])
        if m[0] == 'fence':
            check(m[1] & (1 << 31), 'first server fence is not a request: 0x%08x' % m[1])
    check(seen == {'eocu', 'fence'}, 'expected EndOfContinuousUpdates and a fence, got %r' % seen)
    # Enable continuous updates: a full frame arrives without any request,
    # then the clock keeps changing and updates keep coming unrequested.
    c.send(struct.pack('>BBHHHH', 150, 1, 0, 0, 1024, 768))
    first = next_of(c, 'update')
    check(any(r[4] == RAW for r in first[1]), 'continuous updates: no pixels')
    second = next_of(c, 'update', limit=10)
    check(second[1], 'continuous updates stopped after one frame')
    # Fence request with payload: echoed with the request bit cleared.
    c.send(struct.pack('>BxxxIB', 248, (1 << 31) | 0x3, 3) + b'abc')
    m = next_of(c, 'fence')
    check(m[1] == 0x3 and m[2] == b'abc', 'fence answer flags 0x%x payload %r' % (m[1], m[2]))
    # Disable: an EndOfContinuousUpdates comes back.
    c.send(struct.pack('>BBHHHH', 150, 0, 0, 0, 0, 0))
    next_of(c, 'eocu')
    c.close()


def t_alpha_cursor():
    c = connect([RAW, ALPHA_CURSOR], 'alpha')
    c.fbur(incremental=False)
    for _ in range(20):
        m = read_server_message(c)
        if m[0] != 'update':
            continue
        for (x, y, w, h, enc, data) in m[1]:
            if enc == ALPHA_CURSOR:
                check(w > 0 and h > 0 and len(data) == w * h * 4, 'alpha cursor size %dx%d' % (w, h))
                px = [data[i:i + 4] for i in range(0, len(data), 4)]
                check(any(p[3] == 255 for p in px) and any(p[3] == 0 for p in px),
                      'alpha cursor has no opaque or no transparent pixels')
                # Premultiplied: no colour channel exceeds alpha.
                check(all(max(p[0], p[1], p[2]) <= p[3] for p in px), 'alpha cursor not premultiplied')
                c.close()
                return
    raise Fail('no alpha cursor rectangle')


def t_audio_tone():
    c = connect([RAW, AUDIO], 'audio')
    c.fbur(incremental=False)
    m = next_of(c, 'update')
    check(any(r[4] == AUDIO for r in m[1]), 'no QEMU audio ack rectangle')
    # S16, mono, 22050 Hz; enable; F9 makes the console guest play 0.3 s.
    c.send(struct.pack('>BBHBBI', 255, 1, 2, 3, 1, 22050))
    c.send(struct.pack('>BBH', 255, 1, 0))
    m = next_of(c, 'qemu')
    check(m[2] == 1, 'expected audio begin, got op %d' % m[2])
    c.key_event(0xffc6, True)
    m = next_of(c, 'qemu')
    check(m[2] == 2, 'expected audio data, got op %d' % m[2])
    check(len(m[3]) == 22050 * 3 // 10 * 2, 'audio data %d bytes, expected 0.3 s of mono S16' % len(m[3]))
    samples = struct.unpack('<%dh' % (len(m[3]) // 2), m[3])
    check(max(samples) > 4000 and min(samples) < -4000, 'audio data is not the tone')
    # A bad format closes only this client.
    c.send(struct.pack('>BBHBBI', 255, 1, 2, 9, 1, 22050))
    c.read_until_eof(what='close after an invalid audio format')


def t_alive():
    check(emu.alive(), 'qvnc-emu died\n' + emu.describe())


run.case('extended clipboard: caps, provide reaches the guest, notify gets a request', t_clipboard_caps_and_provide)
run.case('extended clipboard: truncated zlib stream (CVE-2023-3255)', t_clipboard_truncated_stream)
run.case('continuous updates and fences', t_continuous_updates_and_fence)
run.case('alpha cursor: premultiplied RGBA', t_alpha_cursor)
run.case('QEMU audio: ack, begin, tone data, bad format closes', t_audio_tone)
run.case('qvnc-emu still alive', t_alive)
run.finish()
