#!/usr/bin/env python3
"""Writes the committed seed corpora under tests/fuzz/corpus/<target>/.

Each seed is a small, meaningful input in the target's own layout (see the
header comment of each fuzz-*.cpp).  Run it again after changing a layout:
    python3 tests/fuzz/make-seeds.py
"""

import hashlib
import os
import shutil
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, 'corpus')


def u8(v): return struct.pack('>B', v)
def u16(v): return struct.pack('>H', v)
def u32(v): return struct.pack('>I', v & 0xffffffff)
def s32(v): return struct.pack('>i', v)


def pf(bpp, depth, be, tc, rmax, gmax, bmax, rs, gs, bs):
    return struct.pack('>BBBBHHHBBB3x', bpp, depth, be, tc, rmax, gmax, bmax, rs, gs, bs)


# ---- RFB client messages ---------------------------------------------------
def set_pixel_format(p): return b'\x00\x00\x00\x00' + p
def set_encodings(encs): return struct.pack('>BxH', 2, len(encs)) + b''.join(s32(e) for e in encs)
def fbur(inc, x, y, w, h): return struct.pack('>BBHHHH', 3, inc, x, y, w, h)
def key(down, sym): return struct.pack('>BBxxI', 4, down, sym)
def pointer(mask, x, y): return struct.pack('>BBHH', 5, mask, x, y)
def cut(text): return struct.pack('>BxxxI', 6, len(text)) + text
def ext_cut(flags, payload): return struct.pack('>Bxxxi', 6, -(4 + len(payload))) + u32(flags) + payload
def qemu_key(down, sym, code): return struct.pack('>BBHII', 255, 0, down, sym, code)
def qemu_audio(op, extra=b''): return struct.pack('>BBH', 255, 1, op) + extra
def set_desktop_size(w, h, screens): return (struct.pack('>BxHHBx', 251, w, h, len(screens)) +
                                             b''.join(struct.pack('>IHHHHI', *s) for s in screens))
def enable_cu(on, x, y, w, h): return struct.pack('>BBHHHH', 150, on, x, y, w, h)
def fence(flags, payload): return struct.pack('>BxxxIB', 248, flags, len(payload)) + payload
def xvp(ver, code): return struct.pack('>BxBB', 250, ver, code)


PF_32 = pf(32, 24, 0, 1, 255, 255, 255, 16, 8, 0)
PF_32BE = pf(32, 24, 1, 1, 255, 255, 255, 0, 8, 16)
PF_565 = pf(16, 16, 0, 1, 31, 63, 31, 11, 5, 0)
PF_565BE = pf(16, 16, 1, 1, 31, 63, 31, 11, 5, 0)
PF_233 = pf(8, 8, 0, 1, 7, 7, 3, 0, 3, 6)
PF_MAP = pf(8, 8, 0, 0, 0, 0, 0, 0, 0, 0)
PF_BAD_BPP = pf(17, 24, 0, 1, 255, 255, 255, 16, 8, 0)      # CVE-2014-7815
PF_ZERO_MAX = pf(32, 24, 0, 1, 0, 0, 0, 16, 8, 0)            # CVE-2015-8504
PF_HIGH = pf(32, 24, 0, 1, 255, 255, 255, 24, 16, 8)

ENC = {'raw': 0, 'copyrect': 1, 'hextile': 5, 'zlib': 6, 'tight': 7, 'zrle': 16, 'zywrle': 17,
       'tightpng': -260}
PSEUDO = [-223, -308, -239, -314, -257, -258, -259, -261, -307, -313, -312, -309, 0x574D5669,
          -256 + 9 - 9, -247, -32 + 5, 0xC0A1E5CE - (1 << 32)]


def clip_provide(text):
    raw = u32(len(text) + 1) + text + b'\0'
    return zlib.compress(raw)


def stream_seeds():
    """Message streams after the handshake."""
    seeds = {}
    full = fbur(0, 0, 0, 64, 48)
    for name, e in ENC.items():
        seeds['enc-' + name] = set_encodings([e] + PSEUDO) + full + fbur(1, 0, 0, 64, 48)
        for pname, p in (('565be', PF_565BE), ('233', PF_233), ('map', PF_MAP), ('32be', PF_32BE),
                         ('high', PF_HIGH)):
            seeds['enc-%s-%s' % (name, pname)] = set_pixel_format(p) + set_encodings([e, -250]) + full
    seeds['lossy-tight'] = set_encodings([7, -30, -250]) + full
    seeds['bad-bpp'] = set_pixel_format(PF_BAD_BPP) + full
    seeds['zero-max'] = set_pixel_format(PF_ZERO_MAX) + set_encodings([-260, 7]) + full
    seeds['input'] = key(1, 0x61) + key(0, 0x61) + pointer(1, 10, 10) + pointer(0, 65535, 65535) + \
        qemu_key(1, 0x61, 0x1e) + qemu_key(0, 0, 0x1e)
    seeds['cut-text'] = cut(b'hello \xe9 world\n') + cut(b'')
    seeds['cut-huge'] = struct.pack('>BxxxI', 6, 0x7fffffff)               # CVE-2015-5239
    seeds['cut-1mib'] = struct.pack('>BxxxI', 6, 1024 * 1024 + 1)
    seeds['ext-clip'] = (set_encodings([0xC0A1E5CE - (1 << 32)]) +
                         ext_cut(0x1000001, u32(1 << 20)) +                # caps
                         ext_cut(0x10000001, clip_provide(b'line one\r\nline two')) +
                         ext_cut(0x2000001, b'') + ext_cut(0x4000000, b'') + ext_cut(0x8000001, b''))
    seeds['ext-clip-truncated'] = (set_encodings([0xC0A1E5CE - (1 << 32)]) +     # CVE-2023-3255
                                   ext_cut(0x10000001, clip_provide(b'x' * 300)[:9]))
    seeds['ext-clip-short'] = set_encodings([0xC0A1E5CE - (1 << 32)]) + struct.pack('>Bxxxi', 6, -2) + b'\0\0'
    seeds['audio'] = set_encodings([-259]) + qemu_audio(2, b'\x03\x02' + u32(44100)) + qemu_audio(0) + qemu_audio(1)
    seeds['desktop-size'] = set_encodings([-308]) + set_desktop_size(800, 600, [(0, 0, 0, 800, 600, 0)]) + \
        set_desktop_size(0, 0, [])
    seeds['cu-fence'] = set_encodings([-313, -312]) + enable_cu(1, 0, 0, 64, 48) + fence(0x80000007, b'abc') + \
        full + enable_cu(0, 0, 0, 0, 0)
    seeds['xvp'] = set_encodings([-309]) + xvp(1, 2) + xvp(1, 3) + xvp(1, 4) + xvp(2, 4)
    seeds['fbur-outside'] = fbur(0, 60, 40, 65535, 65535) + fbur(0, 65535, 65535, 1, 1) + fbur(1, 0, 0, 0, 0)
    seeds['encodings-many'] = set_encodings(list(range(-400, 20)))
    return seeds


def anon_client_hello():
    """A real TLS 1.2 ClientHello offering anonymous DH (what the server's
    tls-creds-anon accepts), made with Python's ssl; None if unavailable."""
    try:
        import ssl
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        ctx.set_ciphers('aNULL:!eNULL:@SECLEVEL=0')
        inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
        obj = ctx.wrap_bio(inc, out, server_side=False)
        try:
            obj.do_handshake()
        except ssl.SSLWantReadError:
            pass
        return out.read()
    except Exception:  # noqa: BLE001 -- a seed less
        return None


def write(target, seeds):
    d = os.path.join(CORPUS, target)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    for name, data in sorted(seeds.items()):
        with open(os.path.join(d, name), 'wb') as f:
            f.write(data)


def main():
    streams = stream_seeds()

    # fuzz-rfb-message: byte 0 bit 0 = extended clipboard negotiated.
    write('rfb-message', {k: (b'\x01' if 'clip' in k else b'\x00') + v for k, v in streams.items()})

    # fuzz-connection: cfg, split, actions, then messages.
    conn = {}
    for i, (k, v) in enumerate(sorted(streams.items())):
        cfg = (2 | (i % 8) << 2 | 0x20 | (i % 4) << 6) & 0xff
        conn[k] = bytes([cfg, min(len(v), 255) // 2, (i * 37) & 0xff]) + v
    conn['v33'] = bytes([0, 0, 0]) + set_encodings([5]) + fbur(0, 0, 0, 64, 48)
    conn['v37-host-all'] = bytes([1, 5, 0xff]) + set_encodings([16, -239, -314]) + fbur(0, 0, 0, 64, 48) + \
        fbur(1, 0, 0, 64, 48)
    conn['copyrect'] = bytes([2, 14, 0x06]) + set_encodings([1, 0]) + fbur(0, 0, 0, 64, 48) + fbur(1, 0, 0, 64, 48)
    write('connection', conn)

    # fuzz-handshake: cfg (display, version), split, then bytes after the version.
    hs = {}
    vnc_resp = bytes(range(16))
    hs['vnc-38'] = bytes([0, 3]) + b'\x02' + vnc_resp + b'\x01' + set_encodings([0]) + fbur(0, 0, 0, 32, 16)
    hs['vnc-38-wrong-type'] = bytes([0, 1]) + b'\x01'
    hs['vnc-33'] = bytes([0 | 2 << 3, 0]) + vnc_resp + b'\x01'
    hs['vnc-37-empty-pw-change'] = bytes([0 | 1 << 3 | 0xc0, 1]) + b'\x02' + vnc_resp
    hs['none-38'] = bytes([4, 1]) + b'\x01\x00' + set_encodings([7]) + fbur(0, 0, 0, 32, 16)
    hs['none-37'] = bytes([4 | 1 << 3, 1]) + b'\x01\x01' + fbur(0, 0, 0, 32, 16)
    hs['none-33'] = bytes([4 | 2 << 3, 1]) + b'\x01'
    hs['nopw-38'] = bytes([6, 3]) + b'\x02' + vnc_resp
    hs['pwwins-38'] = bytes([7, 3]) + b'\x02' + vnc_resp
    # SASL: mechname (1..100), then client data with the NUL pad.
    for mech in (b'DIGEST-MD5', b'SCRAM-SHA-256', b'PLAIN', b'X' * 101, b''):
        tag = mech[:12].decode().lower() or 'empty'
        hs['sasl-' + tag] = bytes([1, 5]) + b'\x14' + u32(len(mech)) + mech + u32(0)
        hs['sasl-data-' + tag] = bytes([1, 5]) + b'\x14' + u32(len(mech)) + mech + u32(6) + b'alice\0'
    hs['sasl-nopad'] = bytes([1, 5]) + b'\x14' + u32(10) + b'DIGEST-MD5' + u32(5) + b'alice'
    hs['sasl-huge'] = bytes([1, 5]) + b'\x14' + u32(10) + b'DIGEST-MD5' + u32(1024 * 1024 + 1)
    hs['sasl-step'] = bytes([1, 5]) + b'\x14' + u32(10) + b'DIGEST-MD5' + u32(0) + \
        u32(40) + b'username="alice",realm="x",nonce="abc",\0'
    hs['sasl-33'] = bytes([1 | 2 << 3, 0])
    # VeNCrypt: version 0.2, sub-type, then a TLS ClientHello-ish record.
    hello = bytes.fromhex('160301002f0100002b0303') + bytes(32) + bytes.fromhex('000002002f0100')
    for d, sub in ((2, 258), (3, 264), (5, 257)):
        hs['vencrypt-%d' % sub] = bytes([d, 7]) + b'\x13' + b'\x00\x02' + u32(sub) + hello
        hs['vencrypt-%d-wrongsub' % sub] = bytes([d, 4]) + b'\x13' + b'\x00\x02' + u32(261)
        hs['vencrypt-%d-v01' % sub] = bytes([d, 1]) + b'\x13' + b'\x00\x01'
    real_hello = anon_client_hello()
    if real_hello:
        for d, sub in ((2, 258), (3, 264), (5, 257)):
            hs['vencrypt-%d-real-hello' % sub] = bytes([d, 7]) + b'\x13\x00\x02' + u32(sub) + real_hello
    hs['vencrypt-close-mid-tls'] = bytes([2, 7]) + b'\x13\x00\x02' + u32(258) + hello[:20]   # CVE-2023-3354
    write('handshake', hs)

    # fuzz-websocket: mode 0 handshake, 1 raw frames, 2 built frames.
    key24 = b'dGhlIHNhbXBsZSBub25jZQ=='
    req = (b'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n'
           b'Sec-WebSocket-Key: ' + key24 + b'\r\nSec-WebSocket-Version: 13\r\n')
    ws = {
        'hs-ok': b'\x00' + req + b'\r\n',
        'hs-binary': b'\x00' + req + b'Sec-WebSocket-Protocol: base64, binary\r\n\r\n',
        'hs-bad-protocol': b'\x00' + req + b'Sec-WebSocket-Protocol: chat\r\n\r\n',
        'hs-path': b'\x00' + req.replace(b'GET / ', b'GET /x?y ') + b'\r\n',
        'hs-v8': b'\x00' + req.replace(b'Version: 13', b'Version: 8') + b'\r\n',
        'hs-trailing': b'\x00' + req + b'\r\nRFB 003.008\n',
        'hs-many-headers': b'\x00' + req + b''.join(b'X-%d: y\r\n' % i for i in range(40)) + b'\r\n',
        'hs-endless': b'\x00' + req + b'X-Pad: ' + b'a' * 4100,                      # CVE-2015-1779
    }

    def frame(op, payload, fin=True, mask=b'\x01\x02\x03\x04', lenform=None):
        n = len(payload)
        b = bytes([(0x80 if fin else 0) | op])
        if lenform == 127 or (lenform is None and n > 0xffff):
            b += bytes([0x80 | 127]) + struct.pack('>Q', n)
        elif lenform == 126 or (lenform is None and n >= 126):
            b += bytes([0x80 | 126]) + struct.pack('>H', n)
        else:
            b += bytes([0x80 | n])
        return b + mask + bytes(c ^ mask[i & 3] for i, c in enumerate(payload))
    rfb = b'RFB 003.008\n' + b'\x01\x01'
    ws['frames-binary'] = b'\x01\x00' + frame(2, rfb)
    ws['frames-split'] = b'\x01\x05\x01\x02\x03\x04\x05' + frame(2, rfb)
    ws['frames-fragmented'] = b'\x01\x00' + frame(2, b'RFB ', fin=False) + frame(9, b'png') + \
        frame(0, b'003.008\n') + frame(8, b'\x03\xe8')
    ws['frames-16bit'] = b'\x01\x00' + frame(2, bytes(300), lenform=126)
    ws['frames-64bit'] = b'\x01\x00' + frame(2, bytes(70), lenform=127)
    ws['frames-huge-len'] = b'\x01\x00' + b'\x82\xff' + struct.pack('>Q', 1 << 62) + b'abcd' + bytes(64)
    ws['frames-topbit'] = b'\x01\x00' + b'\x82\xff' + struct.pack('>Q', 1 << 63) + b'abcd'
    ws['frames-unmasked'] = b'\x01\x00' + b'\x82\x03abc'
    ws['frames-text'] = b'\x01\x00' + frame(1, b'hi')
    ws['frames-big-ping'] = b'\x01\x00' + frame(9, bytes(130), lenform=126)
    ws['built-mix'] = b'\x02' + b'\x02\x05\x00abcd' + b'hello' + b'\x02\x03\x00abcd' + b'RFB' + \
        b'\x81\x04\x00wxyz' + b'0038' + b'\x82\x02\x00mask' + b'hi' + b'\x83\x02\x00mmmm' + b'\x03\xe8'
    ws['built-long'] = b'\x02' + b'\x80\x02\x07abcd' + bytes(600)
    write('websocket', ws)

    # fuzz-options: mode 0/1 -vnc, 2 -object, 3 value parsers.
    opts = {
        'vnc-simple': b'\x00127.0.0.1:0',
        'vnc-all': b'\x00:1,id=main,password=on,lossy=on,non-adaptive=on,share=force-shared,connections=3,'
                   b'key-delay-ms=5,lock-key-sync=off,power-control=on,audiodev=a0,head=1,display=video0',
        'vnc-websocket': b'\x00localhost:2,websocket=5700,websocket=[::1]:5701,to=10,ipv4=on',
        'vnc-unix': b'\x00unix:/tmp/x,,y.sock,sasl=on,sasl-authz=auth0,tls-creds=tls0,tls-authz=authz0',
        'vnc-v6': b'\x00[::1]:3,ipv6=on,ipv4=off,vnc=127.0.0.1:4,vnc=unix:/tmp/s',
        'vnc-reverse': b'\x00127.0.0.1:5500,reverse=on',
        'vnc-legacy': b'\x00:0,tls,x509=/etc/pki,x509verify=/etc/pki,acl,sasl',
        'vnc-help': b'\x00help',
        'vnc-none': b'\x01none,id=vnc3',
        'vnc-bad': b'\x00:0,nosuchkey=1,,x',
        'vnc-bigport': b'\x00:99999999999999999999',
        'obj-secret': b'\x02secret,id=s0,data=letmein,format=raw',
        'obj-secret-file': b'\x02secret,id=s1,file=/nonexistent,format=base64,keyid=s0,iv=abc',
        'obj-tls': b'\x02tls-creds-x509,id=t0,dir=/tmp,endpoint=server,verify-peer=on,priority=NORMAL',
        'obj-json': b'\x02{"qom-type":"authz-list","id":"a0","policy":"deny","rules":'
                    b'[{"match":"CN=*","policy":"allow","format":"glob"}]}',
        'obj-json-bad': b'\x02{"qom-type":1,"id":[true,null,1.5e300]}',
        'obj-escaped': b'\x02authz-simple,id=az,identity=a,,b',
        'val-size': b'\x031.5G',
        'val-number': b'\x030x10',
        'val-bool': b'\x03on',
        'val-opts': b'\x03127.0.0.1:0,nopassword,help',
    }
    write('options', opts)

    # fuzz-monitor: byte 0 bit 0 = QMP.
    mon = {
        'hmp-info-vnc': b'\x00info vnc',
        'hmp-info': b'\x00info',
        'hmp-help': b'\x00help set_password',
        'hmp-set-password': b'\x00set_password vnc secret -d second keep',
        'hmp-set-empty': b'\x00set_password vnc ""',
        'hmp-change': b'\x00change vnc password "new pass"',
        'hmp-expire': b'\x00expire_password vnc +30',
        'hmp-acl': b'\x00acl_add vnc.username alice allow 1',
        'hmp-acl-show': b'\x00acl_show vnc.x509dname',
        'hmp-acl-policy': b'\x00acl_policy vnc.username deny',
        'hmp-stop-cont': b'\x00stop',
        'hmp-quoted': b'\x00set_password vnc "a\\"b\\x41" -d default',
        'qmp-query-vnc': b'\x01{"execute":"query-vnc"}',
        'qmp-servers': b'\x01{"execute":"query-vnc-servers","id":[1,{"a":null}]}',
        'qmp-set-password': b'\x01{"execute":"set_password","arguments":{"protocol":"vnc","password":"x",'
                            b'"display":"second","connected":"keep"}}',
        'qmp-change-pw': b'\x01{"execute":"change-vnc-password","arguments":{"password":""}}',
        'qmp-expire': b'\x01{"execute":"expire_password","arguments":{"protocol":"vnc","time":"now"}}',
        'qmp-hmp': b'\x01{"execute":"human-monitor-command","arguments":{"command-line":"info vnc"}}',
        'qmp-commands': b'\x01{"execute":"query-commands"}',
        'qmp-status': b'\x01{"execute":"query-status"}',
        'qmp-add-client': b'\x01{"execute":"add_client","arguments":{"protocol":"vnc","fdname":"f",'
                          b'"skipauth":true}}',
        'qmp-bad': b'\x01{"execute":5,"arguments":[]}',
        'qmp-oob': b'\x01{"exec-oob":"query-status"}',
        'qmp-caps': b'\x01{"execute":"qmp_capabilities","arguments":{"enable":["oob"]}}',
    }
    write('monitor', mon)

    # fuzz-clipboard: mode, flags, data.
    clip = {
        'provide': b'\x00\x01' + clip_provide(b'hello\r\nworld'),
        'truncated': b'\x00\x01' + clip_provide(b'x' * 1000)[:12],                      # CVE-2023-3255
        'empty': b'\x00\x01',
        'garbage': b'\x00\x01' + b'\x78\x9c' + bytes(20),
        'lying-size': b'\x00\x01' + zlib.compress(u32(0xffffff) + b'abc'),
        'bomb': b'\x00\x01' + zlib.compress(u32(2 << 20) + bytes(2 << 20), 9),
        'not-utf8': b'\x00\x01' + clip_provide(b'\xff\xfe'),
        'no-text-flag': b'\x00\x02' + clip_provide(b'rtf'),
        'compress-cut': b'\x01\x01\x10\x00' + b'some text here',
        'roundtrip': b'\x02\x01' + 'line one\nline two \u00e9\u4e2d'.encode(),
    }
    write('clipboard', clip)

    # fuzz-encoders: enc|level, pf bytes (6), surface, w, h, steps.
    encs = {}
    def pfb(bppsel, be, rbits, gbits, bbits, rs, gs, bs):
        return bytes([bppsel | (4 if be else 0), rbits - 1, gbits - 1, bbits - 1,
                      rs | (bs & 7) << 5, gs | (bs >> 3) << 5])
    pfs = {
        '32le': pfb(2, 0, 8, 8, 8, 16, 8, 0),
        '32be': pfb(2, 1, 8, 8, 8, 16, 8, 0),
        '32le-high': pfb(2, 0, 8, 8, 8, 24, 16, 8),
        '16le-565': pfb(1, 0, 5, 6, 5, 11, 5, 0),
        '16be-565': pfb(1, 1, 5, 6, 5, 11, 5, 0),
        '8-bgr233': pfb(0, 0, 3, 3, 2, 0, 3, 6),
        'odd-max': bytes([2, 0x85, 0x9f, 0x83, 3, 40]),
    }
    steps = bytes([0, 0, 200, 200, 2, 1]) + bytes([3, 4, 10, 7, 0, 9]) + bytes([5, 0, 30, 30, 1 | 3 << 2, 77]) + \
        bytes([0, 2, 255, 3, 2, 5]) + bytes(range(60))
    for ename, e in (('raw', 0), ('hextile', 1), ('zlib', 2), ('tight', 3), ('zrle', 4)):
        for pname, p in pfs.items():
            for surf in (0, 2):
                encs['%s-%s-s%d' % (ename, pname, surf)] = bytes([e | 3 << 3]) + p + bytes([surf, 37, 21]) + steps
    encs['tight-wide'] = bytes([3]) + pfs['32le'] + bytes([1, 159, 63]) + steps
    write('encoders', encs)

    total = sum(len(files) for _, _, files in os.walk(CORPUS))
    print('wrote %d seeds under %s' % (total, CORPUS))


if __name__ == '__main__':
    main()
