"""RfbClient, a raw RFB client over a blocking socket for byte-exact
checks, with the pixel formats and encoding numbers the tests speak.
Tests import it through qvnc_testlib.
"""

import socket
import struct
import time

import qvnc_des
from testlib_core import DEFAULT_TIMEOUT, HOST, Fail, check, expect_bytes, hexs


class PixelFormat:
    def __init__(self, bpp, depth, big_endian, true_colour, rmax, gmax, bmax, rshift, gshift, bshift):
        self.bpp, self.depth, self.big_endian, self.true_colour = bpp, depth, big_endian, true_colour
        self.rmax, self.gmax, self.bmax = rmax, gmax, bmax
        self.rshift, self.gshift, self.bshift = rshift, gshift, bshift

    @classmethod
    def unpack(cls, b):
        v = struct.unpack('>BBBBHHHBBB3x', b)
        return cls(*v)

    def pack(self):
        return struct.pack('>BBBBHHHBBB3x', self.bpp, self.depth, self.big_endian, self.true_colour,
                           self.rmax, self.gmax, self.bmax, self.rshift, self.gshift, self.bshift)

    @property
    def bytes_pp(self):
        return self.bpp // 8

    def __repr__(self):
        return ('PixelFormat(bpp=%d depth=%d be=%d tc=%d max=%d/%d/%d shift=%d/%d/%d)'
                % (self.bpp, self.depth, self.big_endian, self.true_colour, self.rmax, self.gmax,
                   self.bmax, self.rshift, self.gshift, self.bshift))

    def encode_rgb(self, r, g, b):
        """Pixel bytes QEMU sends for an 8-bit RGB value: each channel is
        truncated to its bit count (QEMU's vnc_convert_pixel)."""
        rb, gb, bb = self.rmax.bit_length(), self.gmax.bit_length(), self.bmax.bit_length()
        v = ((((r << rb) >> 8) << self.rshift) | (((g << gb) >> 8) << self.gshift)
             | (((b << bb) >> 8) << self.bshift))
        return v.to_bytes(self.bytes_pp, 'big' if self.big_endian else 'little')

    def expected_pixels(self, rgb):
        """The raw pixel bytes for a whole RGB image."""
        cache = {}
        out = bytearray()
        for i in range(0, len(rgb), 3):
            key = rgb[i:i + 3]
            px = cache.get(key)
            if px is None:
                px = cache[key] = self.encode_rgb(key[0], key[1], key[2])
            out += px
        return bytes(out)


# QEMU's server pixel format on a little-endian host.
PF_SERVER_LE = PixelFormat(32, 24, 0, 1, 255, 255, 255, 16, 8, 0)
PF_R5G6B5_BE = PixelFormat(16, 16, 1, 1, 31, 63, 31, 11, 5, 0)
PF_BGR233 = PixelFormat(8, 8, 0, 1, 7, 7, 3, 0, 3, 6)

ENC_RAW = 0
ENC_HEXTILE = 5
ENC_ZLIB = 6
ENC_TIGHT = 7
ENC_ZRLE = 16
ENC_DESKTOP_SIZE = -223
ENC_CURSOR = -239
ENC_POINTER_TYPE = -257
ENC_EXT_KEY = -258
ENC_AUDIO = -259
ENC_LED = -261
ENC_DESKTOP_NAME = -307
ENC_EXT_DESKTOP_SIZE = -308
ENC_FENCE = -312
ENC_ALPHA_CURSOR = -314
ENC_WMVI = 0x574D5669
FENCE_REQUEST = 1 << 31


class ServerInit:
    def __init__(self, width, height, pf_bytes, name):
        self.width, self.height, self.pf_bytes, self.name = width, height, pf_bytes, name
        self.pf = PixelFormat.unpack(pf_bytes)


class Rect:
    def __init__(self, x, y, w, h, enc, data):
        self.x, self.y, self.w, self.h, self.enc, self.data = x, y, w, h, enc, data

    def __repr__(self):
        return 'Rect(%d,%d %dx%d enc=%d, %d bytes)' % (self.x, self.y, self.w, self.h, self.enc, len(self.data))


class RfbClient:
    """A raw RFB client over a blocking socket with timeouts."""

    def __init__(self, port, host=HOST, timeout=DEFAULT_TIMEOUT, label='client'):
        self.label = label
        self.timeout = timeout
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.pf = None
        self.width = self.height = None

    # -- bytes
    def recv_exact(self, n, what='data'):
        buf = bytearray()
        while len(buf) < n:
            try:
                chunk = self.sock.recv(n - len(buf))
            except socket.timeout:
                raise Fail('%s: timed out after %.0fs reading %s (%d of %d bytes: [%s])'
                           % (self.label, self.timeout, what, len(buf), n, hexs(bytes(buf))))
            except ConnectionResetError:
                chunk = b''
            if not chunk:
                raise Fail('%s: connection closed by the server while reading %s (got %d of %d bytes: [%s])'
                           % (self.label, what, len(buf), n, hexs(bytes(buf))))
            buf += chunk
        return bytes(buf)

    def u8(self, what='u8'):
        return self.recv_exact(1, what)[0]

    def u16(self, what='u16'):
        return struct.unpack('>H', self.recv_exact(2, what))[0]

    def u32(self, what='u32'):
        return struct.unpack('>I', self.recv_exact(4, what))[0]

    def s32(self, what='s32'):
        return struct.unpack('>i', self.recv_exact(4, what))[0]

    def send(self, data):
        self.sock.sendall(data)

    def read_until_eof(self, timeout=DEFAULT_TIMEOUT, what='the server to close the connection', limit=1 << 24):
        """Reads everything until EOF. Returns the bytes seen. Fails on timeout."""
        deadline = time.monotonic() + timeout
        buf = bytearray()
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise Fail('%s: waited %.0fs for %s, but the connection stayed open (read [%s])'
                           % (self.label, timeout, what, hexs(bytes(buf))))
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                continue
            except ConnectionResetError:
                chunk = b''
            finally:
                self.sock.settimeout(self.timeout)
            if not chunk:
                return bytes(buf)
            buf += chunk
            if len(buf) > limit:
                raise Fail('%s: more than %d bytes while waiting for %s' % (self.label, limit, what))

    def expect_eof_exact(self, want, what, timeout=DEFAULT_TIMEOUT):
        """The server sends exactly `want`, then closes."""
        got = self.read_until_eof(timeout, what)
        expect_bytes(got, want, what + ' (all bytes until close)')

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    # -- handshake
    def version(self, minor_or_raw):
        greeting = self.recv_exact(12, 'ProtocolVersion')
        expect_bytes(greeting, b'RFB 003.008\n', 'server ProtocolVersion')
        raw = minor_or_raw if isinstance(minor_or_raw, bytes) else b'RFB 003.%03d\n' % minor_or_raw
        self.send(raw)

    def security(self, minor, expect_type, choose=None, password=None):
        """Does the security phase. minor 3/4/5 -> 3.3 path. Returns after a
        successful SecurityResult (or none, for None auth before 3.8)."""
        if minor in (3, 4, 5):
            t = self.u32('3.3 security type')
            check(t == expect_type, '%s: 3.%d security type: expected u32 %d, saw u32 %d'
                  % (self.label, minor, expect_type, t))
            chosen = t
        else:
            n = self.u8('number of security types')
            types = self.recv_exact(n, 'security types') if n else b''
            expect_bytes(bytes([n]) + types, bytes([1, expect_type]), '%s: 3.%d security type list'
                         % (self.label, minor))
            chosen = expect_type if choose is None else choose
            self.send(bytes([chosen]))
        if chosen == 2:
            challenge = self.recv_exact(16, 'VNC auth challenge')
            self.send(qvnc_des.vnc_response(password or '', challenge))
            res = self.recv_exact(4, 'SecurityResult')
            expect_bytes(res, b'\0\0\0\0', '%s: SecurityResult after a correct VNC password' % self.label)
        elif chosen == 1 and minor >= 8:
            res = self.recv_exact(4, 'SecurityResult')
            expect_bytes(res, b'\0\0\0\0', '%s: SecurityResult for auth None (3.8)' % self.label)

    def client_init(self, shared=True):
        self.send(bytes([1 if shared else 0]))
        hdr = self.recv_exact(24, 'ServerInit header')
        w, h = struct.unpack('>HH', hdr[:4])
        pf_bytes = hdr[4:20]
        name_len = struct.unpack('>I', hdr[20:24])[0]
        check(name_len <= 4096, '%s: ServerInit name length %d is absurd (header [%s])'
              % (self.label, name_len, hexs(hdr)))
        name = self.recv_exact(name_len, 'ServerInit name')
        si = ServerInit(w, h, pf_bytes, name)
        self.pf = si.pf
        self.width, self.height = w, h
        return si

    def handshake(self, minor=8, expect_type=1, password=None, shared=True):
        self.version(minor)
        self.security(minor, expect_type, password=password)
        return self.client_init(shared)

    # -- client messages
    def set_pixel_format(self, pf):
        self.send(b'\x00\x00\x00\x00' + pf.pack())
        if pf.true_colour == 0:
            self.pf = PF_BGR233  # what QEMU forces
        else:
            self.pf = pf

    def set_encodings(self, encs):
        self.send(struct.pack('>BxH', 2, len(encs)) + b''.join(struct.pack('>i', e) for e in encs))

    def fbur(self, incremental=False, x=0, y=0, w=None, h=None):
        w = self.width if w is None else w
        h = self.height if h is None else h
        self.send(struct.pack('>BBHHHH', 3, 1 if incremental else 0, x, y, w, h))

    def key_event(self, keysym, down):
        self.send(struct.pack('>BBxxI', 4, 1 if down else 0, keysym))

    def pointer_event(self, x, y, mask):
        self.send(struct.pack('>BBHH', 5, mask, x, y))

    def cut_text(self, text):
        self.send(struct.pack('>BxxxI', 6, len(text)) + text)

    def ext_key_event(self, keysym, keycode, down):
        self.send(struct.pack('>BBHII', 255, 0, 1 if down else 0, keysym, keycode))

    def client_fence(self, flags, payload):
        self.send(struct.pack('>BxxxIB', 248, flags, len(payload)) + payload)

    def barrier(self, payload=b'barrier', limit=50):
        """Waits until the server has processed every message sent before:
        a fence request is answered only once those are (the client must have
        listed ENC_FENCE). Returns the other messages read on the way."""
        self.client_fence(FENCE_REQUEST, payload)
        others = []
        for _ in range(limit):
            m = self.read_message()
            if m[0] == 'fence' and not m[1] & FENCE_REQUEST and m[2] == payload:
                return others
            others.append(m)
        raise Fail('%s: no answer to our fence among %d messages' % (self.label, limit))

    # -- server messages
    def read_message(self):
        """Returns ('update', [Rect]) | ('colourmap', first, [(r,g,b)]) |
        ('bell',) | ('cut', bytes) | ('qemu', sub, op, data) | ('eocu',) |
        ('fence', flags, payload)."""
        t = self.u8('server message type')
        if t == 0:
            hdr = self.recv_exact(3, 'FramebufferUpdate header')
            n = struct.unpack('>xH', hdr)[0]
            rects = []
            for i in range(n):
                x, y, w, h, enc = struct.unpack('>HHHHi', self.recv_exact(12, 'rect header %d/%d' % (i + 1, n)))
                rects.append(Rect(x, y, w, h, enc, self._rect_data(x, y, w, h, enc)))
            return ('update', rects)
        if t == 1:
            first, n = struct.unpack('>xHH', self.recv_exact(5, 'SetColourMapEntries header'))
            data = self.recv_exact(6 * n, 'colour map entries')
            return ('colourmap', first, [struct.unpack('>HHH', data[6 * i:6 * i + 6]) for i in range(n)])
        if t == 2:
            return ('bell',)
        if t == 3:
            n = struct.unpack('>xxxI', self.recv_exact(7, 'ServerCutText header'))[0]
            return ('cut', self.recv_exact(n, 'ServerCutText text'))
        if t == 150:
            return ('eocu',)
        if t == 248:
            flags = struct.unpack('>xxxI', self.recv_exact(7, 'ServerFence header'))[0]
            return ('fence', flags, self.recv_exact(self.u8('ServerFence length'), 'ServerFence payload'))
        if t == 255:
            sub, op = struct.unpack('>BH', self.recv_exact(3, 'QEMU server message'))
            data = b''
            if sub == 1 and op == 2:
                data = self.recv_exact(self.u32('audio data length'), 'audio data')
            return ('qemu', sub, op, data)
        raise Fail('%s: unexpected server message type %d' % (self.label, t))

    def _rect_data(self, x, y, w, h, enc):
        bpp = self.pf.bytes_pp
        if enc == ENC_RAW:
            return self.recv_exact(w * h * bpp, 'Raw rect %dx%d at %d,%d' % (w, h, x, y))
        if enc in (ENC_EXT_KEY, ENC_AUDIO, ENC_DESKTOP_SIZE, ENC_POINTER_TYPE):
            return b''
        if enc == ENC_LED:
            return self.recv_exact(1, 'LED state')
        if enc == ENC_EXT_DESKTOP_SIZE:
            head = self.recv_exact(4, 'ExtendedDesktopSize screens')
            return head + self.recv_exact(16 * head[0], 'ExtendedDesktopSize screen list')
        if enc == ENC_CURSOR:
            return self.recv_exact(w * h * bpp + ((w + 7) // 8) * h, 'cursor')
        if enc == ENC_ALPHA_CURSOR:
            sub = self.s32('alpha cursor encoding')
            check(sub == 0, '%s: alpha cursor in encoding %d, expected Raw' % (self.label, sub))
            return self.recv_exact(w * h * 4, 'alpha cursor')
        if enc == ENC_WMVI:
            return self.recv_exact(16, 'WMVi pixel format')
        if enc == ENC_DESKTOP_NAME:
            return self.recv_exact(self.u32('desktop name length'), 'desktop name')
        raise Fail('%s: rect %dx%d at %d,%d has encoding %d, which this client did not ask for'
                   % (self.label, w, h, x, y, enc))

    def read_frame(self, timeout=30, on_other=None, on_rect=None):
        """Reads FramebufferUpdates until every pixel has been painted by a
        Raw rect. Returns the pixel bytes (client format, row-major).
        on_other(msg) sees other server messages, on_rect(rect) non-Raw rects."""
        w, h, bpp = self.width, self.height, self.pf.bytes_pp
        canvas = bytearray(w * h * bpp)
        covered = bytearray(w * h)
        missing = w * h
        deadline = time.monotonic() + timeout
        while missing:
            if time.monotonic() > deadline:
                raise Fail('%s: %d of %d pixels still not received after %.0fs' % (self.label, missing, w * h, timeout))
            msg = self.read_message()
            if msg[0] != 'update':
                if on_other:
                    on_other(msg)
                continue
            for r in msg[1]:
                if r.enc != ENC_RAW:
                    if on_rect:
                        on_rect(r)
                    continue
                check(r.x + r.w <= w and r.y + r.h <= h,
                      '%s: rect %r exceeds the %dx%d framebuffer' % (self.label, r, w, h))
                for row in range(r.h):
                    y = r.y + row
                    off = y * w + r.x
                    canvas[off * bpp:(off + r.w) * bpp] = r.data[row * r.w * bpp:(row + 1) * r.w * bpp]
                    seg = covered[off:off + r.w]
                    missing -= r.w - seg.count(1)
                    covered[off:off + r.w] = b'\x01' * r.w
        return bytes(canvas)


def compare_pixels(pf, w, h, rgb, got, what):
    """Compares received pixel bytes with the expected conversion of rgb."""
    want = pf.expected_pixels(rgb)
    if want == got:
        return
    bpp = pf.bytes_pp
    bad = [i for i in range(w * h) if want[i * bpp:(i + 1) * bpp] != got[i * bpp:(i + 1) * bpp]]
    first = ', '.join('(%d,%d) rgb #%s want [%s] got [%s]'
                      % (i % w, i // w, rgb[3 * i:3 * i + 3].hex(), want[i * bpp:(i + 1) * bpp].hex(),
                         got[i * bpp:(i + 1) * bpp].hex()) for i in bad[:5])
    raise Fail('%s: %d of %d pixels differ from the frame dump (%r); first: %s'
               % (what, len(bad), w * h, pf, first))
