"""A small RFB viewer with its own decoders, for the convergence tests.

Decodes Raw, CopyRect, Hextile, Zlib, ZRLE and Tight (lossless: fill, copy,
palette and gradient filters) into a framebuffer kept in the client's pixel
format, follows DesktopSize, and switches its pixel format at safe points:
pixel rectangles only arrive in answer to an update request (the server
sends pseudo-rectangles unsolicited, but they carry no pixels), so a new
SetPixelFormat sent after an answer and before the next request applies to
every pixel that follows.

Written for these tests from the RFB specification (rfbproto); standard
library only.
"""

import socket
import struct
import threading
import time
import zlib

from qvnc_testlib import Fail, RfbClient, PixelFormat, hexs

ENC_RAW, ENC_COPYRECT, ENC_HEXTILE, ENC_ZLIB, ENC_TIGHT, ENC_ZRLE = 0, 1, 5, 6, 7, 16
ENC_DESKTOP_SIZE = -223
ENC_LAST_RECT = -224
ENC_FENCE = -312
FENCE_REQUEST = 1 << 31
ENC_NAMES = {ENC_RAW: 'Raw', ENC_HEXTILE: 'Hextile', ENC_ZLIB: 'Zlib', ENC_TIGHT: 'Tight', ENC_ZRLE: 'ZRLE'}
PIXEL_ENCODINGS = (ENC_RAW, ENC_COPYRECT, ENC_HEXTILE, ENC_ZLIB, ENC_TIGHT, ENC_ZRLE)


def channel_bits(m):
    return m.bit_length()


def cpixel_layout(pf):
    """ZRLE CPIXEL: (size, offset of the CPIXEL bytes inside the wire pixel)."""
    if not (pf.true_colour and pf.bpp == 32 and pf.depth <= 24):
        return pf.bytes_pp, 0
    mask = 0
    for m, s in ((pf.rmax, pf.rshift), (pf.gmax, pf.gshift), (pf.bmax, pf.bshift)):
        mask |= ((1 << channel_bits(m)) - 1) << s
    ls3, ms3 = mask & 0xff000000 == 0, mask & 0x000000ff == 0
    # When both fit (colour bits in the middle two bytes only), the first
    # three bytes on the wire, as the encoder and libvncclient do.
    first, second = (ms3, ls3) if pf.big_endian else (ls3, ms3)
    if first:
        return 3, 0
    if second:
        return 3, 1
    return 4, 0


def tpixel_rgb24(pf):
    return pf.true_colour and pf.bpp == 32 and pf.depth == 24 and pf.rmax == pf.gmax == pf.bmax == 255


class Framebuffer:
    def __init__(self, w, h, pf):
        self.w, self.h, self.pf = w, h, pf
        self.bpp = pf.bytes_pp
        self.data = bytearray(w * h * self.bpp)

    def check(self, x, y, w, h, what):
        if x < 0 or y < 0 or w < 0 or h < 0 or x + w > self.w or y + h > self.h:
            raise Fail('%s rect %dx%d+%d+%d outside the %dx%d framebuffer' % (what, w, h, x, y, self.w, self.h))

    def put_rows(self, x, y, w, h, pixels):
        """pixels: w*h*bpp bytes, row-major."""
        b = self.bpp
        row = w * b
        for r in range(h):
            o = ((y + r) * self.w + x) * b
            self.data[o:o + row] = pixels[r * row:(r + 1) * row]

    def fill(self, x, y, w, h, px):
        b = self.bpp
        line = px * w
        for r in range(h):
            o = ((y + r) * self.w + x) * b
            self.data[o:o + w * b] = line

    def copy(self, sx, sy, dx, dy, w, h):
        b = self.bpp
        rows = [bytes(self.data[((sy + r) * self.w + sx) * b:((sy + r) * self.w + sx + w) * b]) for r in range(h)]
        for r in range(h):
            o = ((dy + r) * self.w + dx) * b
            self.data[o:o + w * b] = rows[r]


class Viewer(RfbClient):
    """A viewer thread: requests updates continuously, decodes them, and
    switches pixel formats every `switch_every` answers (cycling `formats`).
    `state` and `cond` let the test wait for the framebuffer to match."""

    def __init__(self, port, encoding, formats, switch_every=0, label=None, copyrect=True, timeout=20,
                 quality=None, fence=False):
        super().__init__(port, label=label or 'viewer-%s' % ENC_NAMES.get(encoding, encoding), timeout=timeout)
        self.encoding = encoding
        # A Tight quality level (0..9) invites JPEG: its rectangles are
        # counted, not decoded (the framebuffer keeps what it had there), so
        # a viewer only matches the guest once they were sent again
        # losslessly.
        self.quality = quality
        self.jpeg_rects = 0
        self.copy_rects = 0
        self.rect_counts = []    # pixel rectangles (CopyRect included) of each update with any
        self.formats = list(formats)
        self.switch_every = switch_every
        self.copyrect = copyrect
        self.cond = threading.Condition()
        self.fb = None
        self.answers = 0
        self.switches = 0
        self.resizes = 0
        self.error = None
        self.stopped = False
        self.freeze = False      # no more format switches
        self.thread = None
        self.zlib_stream = None
        self.zrle_stream = None
        self.tight_streams = [None] * 4
        self.bytes_in = 0
        # Fence (-312): sync() learns that the server has processed what
        # this viewer sent before it.
        self.fence = fence
        self.fences = 0          # answers to our fences
        self.requests = 0        # update requests sent
        # The viewer thread and sync() both send.
        self.send_lock = threading.Lock()

    # -- session
    def start(self):
        self.handshake()
        self.fb = Framebuffer(self.width, self.height, self.pf)
        encs = [self.encoding] + ([ENC_COPYRECT] if self.copyrect else []) + [ENC_DESKTOP_SIZE, ENC_LAST_RECT]
        if self.quality is not None:
            encs.append(-32 + self.quality)
        if self.fence:
            encs.append(ENC_FENCE)
        self.set_encodings(encs)
        self._set_format(0)
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        return self

    def send(self, data):
        with self.send_lock:
            super().send(data)

    def sync(self, timeout=20):
        """Returns once the server has processed this viewer's update
        request that follows its last answer: the viewer has sent it, and
        the server answered a fence sent after it (the server handles a
        client's messages in order)."""
        if not self.fence:
            raise Fail('%s: sync() needs fence=True' % self.label)
        deadline = time.monotonic() + timeout
        with self.cond:
            while self.requests <= self.answers:
                if self.error:
                    raise self.error
                left = deadline - time.monotonic()
                if left <= 0:
                    raise Fail('%s: no update request after answer %d' % (self.label, self.answers))
                self.cond.wait(left)
            want = self.fences + 1
        self.send(struct.pack('>BxxxIB', 248, FENCE_REQUEST, 0))
        with self.cond:
            while self.fences < want:
                if self.error:
                    raise self.error
                left = deadline - time.monotonic()
                if left <= 0:
                    raise Fail('%s: the server did not answer a fence' % self.label)
                self.cond.wait(left)

    def _set_format(self, i):
        pf = self.formats[i % len(self.formats)]
        self.set_pixel_format(pf)
        self.fb = Framebuffer(self.fb.w, self.fb.h, pf)

    def stop(self):
        self.stopped = True
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        if self.thread:
            self.thread.join(10)
        self.close()

    def _run(self):
        incremental = False
        try:
            self.sock.settimeout(None)   # waits for updates as long as it takes
            while not self.stopped:
                self.fbur(incremental, 0, 0, self.fb.w, self.fb.h)
                incremental = True
                with self.cond:
                    self.requests += 1
                    self.cond.notify_all()
                while True:
                    got_pixels = self._read_message()
                    if got_pixels:
                        break
                with self.cond:
                    self.answers += 1
                    if (self.switch_every and not self.freeze and self.answers % self.switch_every == 0
                            and len(self.formats) > 1):
                        self.switches += 1
                        self._set_format(self.switches)
                        incremental = False
                    self.cond.notify_all()
        except Exception as e:  # noqa: BLE001 -- reported to the test
            if not self.stopped:
                with self.cond:
                    self.error = e if isinstance(e, Fail) else Fail('%s: %s: %s' % (self.label, type(e).__name__, e))
                    self.cond.notify_all()

    def recv_exact(self, n, what='data'):
        data = super().recv_exact(n, what)
        self.bytes_in += n
        return data

    def _read_message(self):
        t = self.u8('server message type')
        if t == 0:
            n = struct.unpack('>xH', self.recv_exact(3, 'update header'))[0]
            pixels = 0
            with self.cond:
                for _ in range(n):
                    x, y, w, h, enc = struct.unpack('>HHHHi', self.recv_exact(12, 'rect header'))
                    if enc == ENC_LAST_RECT:
                        break
                    if enc == ENC_DESKTOP_SIZE:
                        self.fb = Framebuffer(w, h, self.pf)
                        self.width, self.height = w, h
                        self.resizes += 1
                        continue
                    if enc not in PIXEL_ENCODINGS:
                        raise Fail('%s: unexpected encoding %d in an update' % (self.label, enc))
                    self.fb.check(x, y, w, h, 'encoding %d' % enc)
                    self._decode(x, y, w, h, enc)
                    pixels += 1
                if pixels:
                    self.rect_counts.append(pixels)
            return pixels > 0
        if t == 1:
            first, n = struct.unpack('>xHH', self.recv_exact(5, 'colour map header'))
            self.recv_exact(6 * n, 'colour map')
            return False
        if t == 2:
            return False
        if t == 3:
            n = struct.unpack('>xxxi', self.recv_exact(7, 'cut text header'))[0]
            self.recv_exact(abs(n), 'cut text')
            return False
        if t == 150:     # EndOfContinuousUpdates
            return False
        if t == 248:     # Fence
            flags, n = struct.unpack('>xxxIB', self.recv_exact(8, 'fence header'))
            payload = self.recv_exact(n, 'fence payload')
            if flags & FENCE_REQUEST:
                # The server's own fence: answered with the flags we know
                # (none of BlockBefore/BlockAfter/SyncNext matter here).
                self.send(struct.pack('>BxxxIB', 248, flags & 0x7, n) + payload)
            else:
                with self.cond:
                    self.fences += 1
                    self.cond.notify_all()
            return False
        raise Fail('%s: unexpected server message %d' % (self.label, t))

    # -- decoders
    def _decode(self, x, y, w, h, enc):
        fb = self.fb
        bpp = fb.bpp
        if enc == ENC_RAW:
            fb.put_rows(x, y, w, h, self.recv_exact(w * h * bpp, 'Raw pixels'))
        elif enc == ENC_COPYRECT:
            sx, sy = struct.unpack('>HH', self.recv_exact(4, 'CopyRect source'))
            fb.check(sx, sy, w, h, 'CopyRect source')
            fb.copy(sx, sy, x, y, w, h)
            self.copy_rects += 1
        elif enc == ENC_ZLIB:
            n = self.u32('Zlib length')
            if self.zlib_stream is None:
                self.zlib_stream = zlib.decompressobj()
            raw = self.zlib_stream.decompress(self.recv_exact(n, 'Zlib data'))
            if len(raw) != w * h * bpp:
                raise Fail('%s: Zlib rect %dx%d inflated to %d bytes, want %d' % (self.label, w, h, len(raw),
                                                                                 w * h * bpp))
            fb.put_rows(x, y, w, h, raw)
        elif enc == ENC_HEXTILE:
            self._hextile(x, y, w, h)
        elif enc == ENC_ZRLE:
            self._zrle(x, y, w, h)
        elif enc == ENC_TIGHT:
            self._tight(x, y, w, h)

    def _hextile(self, x, y, w, h):
        fb = self.fb
        bpp = fb.bpp
        bg = fg = None
        for ty in range(y, y + h, 16):
            th = min(16, y + h - ty)
            for tx in range(x, x + w, 16):
                tw = min(16, x + w - tx)
                sub = self.u8('hextile subencoding')
                if sub & 1:
                    fb.put_rows(tx, ty, tw, th, self.recv_exact(tw * th * bpp, 'hextile raw tile'))
                    continue
                if sub & 2:
                    bg = self.recv_exact(bpp, 'hextile background')
                if bg is None:
                    raise Fail('%s: hextile tile without a background' % self.label)
                fb.fill(tx, ty, tw, th, bg)
                if sub & 4:
                    fg = self.recv_exact(bpp, 'hextile foreground')
                if sub & 8:
                    n = self.u8('hextile subrect count')
                    coloured = sub & 16
                    rec = bpp + 2 if coloured else 2
                    data = self.recv_exact(n * rec, 'hextile subrects')
                    for i in range(n):
                        o = i * rec
                        if coloured:
                            px = data[o:o + bpp]
                            o += bpp
                        else:
                            px = fg
                            if px is None:
                                raise Fail('%s: hextile subrect without a foreground' % self.label)
                        sx, sy = data[o] >> 4, data[o] & 15
                        sw, sh = (data[o + 1] >> 4) + 1, (data[o + 1] & 15) + 1
                        if sx + sw > tw or sy + sh > th:
                            raise Fail('%s: hextile subrect %dx%d+%d+%d outside its %dx%d tile'
                                       % (self.label, sw, sh, sx, sy, tw, th))
                        fb.fill(tx + sx, ty + sy, sw, sh, px)

    def _zrle(self, x, y, w, h):
        fb = self.fb
        bpp = fb.bpp
        n = self.u32('ZRLE length')
        if self.zrle_stream is None:
            self.zrle_stream = zlib.decompressobj()
        data = self.zrle_stream.decompress(self.recv_exact(n, 'ZRLE data'))
        csize, coff = cpixel_layout(fb.pf)
        pad_before = b'\0' * coff
        pad_after = b'\0' * (bpp - csize - coff)
        pos = 0

        def take(k):
            nonlocal pos
            if pos + k > len(data):
                raise Fail('%s: ZRLE data ends early (%d of %d bytes)' % (self.label, len(data), pos + k))
            b = data[pos:pos + k]
            pos += k
            return b

        def cpix():
            return pad_before + take(csize) + pad_after

        for ty in range(y, y + h, 64):
            th = min(64, y + h - ty)
            for tx in range(x, x + w, 64):
                tw = min(64, x + w - tx)
                sub = take(1)[0]
                if sub == 0:
                    raw = b''.join(cpix() for _ in range(tw * th)) if csize != bpp else take(tw * th * bpp)
                    fb.put_rows(tx, ty, tw, th, raw)
                elif sub == 1:
                    fb.fill(tx, ty, tw, th, cpix())
                elif 2 <= sub <= 16:
                    pal = [cpix() for _ in range(sub)]
                    bits = 1 if sub == 2 else (2 if sub <= 4 else 4)
                    stride = (tw * bits + 7) // 8
                    packed = take(stride * th)
                    out = bytearray()
                    for r in range(th):
                        row = packed[r * stride:(r + 1) * stride]
                        for c in range(tw):
                            bit = c * bits
                            idx = (row[bit >> 3] >> (8 - bits - (bit & 7))) & ((1 << bits) - 1)
                            if idx >= sub:
                                raise Fail('%s: ZRLE palette index %d of %d' % (self.label, idx, sub))
                            out += pal[idx]
                    fb.put_rows(tx, ty, tw, th, out)
                elif sub == 128 or sub >= 130:
                    pal = [cpix() for _ in range(sub - 128)] if sub >= 130 else None
                    out = bytearray()
                    total = tw * th
                    while len(out) < total * bpp:
                        if pal is None:
                            px = cpix()
                            run = 1
                            while True:
                                b = take(1)[0]
                                run += b
                                if b != 255:
                                    break
                        else:
                            idx = take(1)[0]
                            run = 1
                            if idx & 128:
                                while True:
                                    b = take(1)[0]
                                    run += b
                                    if b != 255:
                                        break
                            idx &= 127
                            if idx >= len(pal):
                                raise Fail('%s: ZRLE RLE palette index %d of %d' % (self.label, idx, len(pal)))
                            px = pal[idx]
                        out += px * run
                    if len(out) != total * bpp:
                        raise Fail('%s: ZRLE run overflows its %dx%d tile' % (self.label, tw, th))
                    fb.put_rows(tx, ty, tw, th, out)
                else:
                    raise Fail('%s: ZRLE tile subencoding %d is not defined' % (self.label, sub))
        if pos != len(data):
            raise Fail('%s: %d bytes left over after a ZRLE rect' % (self.label, len(data) - pos))

    def _tpixel(self, b):
        pf = self.fb.pf
        if tpixel_rgb24(pf):
            v = (b[0] << pf.rshift) | (b[1] << pf.gshift) | (b[2] << pf.bshift)
            return v.to_bytes(4, 'big' if pf.big_endian else 'little')
        return bytes(b)

    def _compact_length(self):
        """Tight's length: 7 bits a byte, low first; the third byte has 8."""
        n = 0
        for shift in (0, 7):
            b = self.u8('tight compact length')
            n |= (b & 0x7f) << shift
            if not b & 0x80:
                return n
        return n | self.u8('tight compact length') << 14

    def _tight(self, x, y, w, h):
        fb = self.fb
        pf = fb.pf
        bpp = fb.bpp
        tps = 3 if tpixel_rgb24(pf) else bpp
        ctl = self.u8('tight control')
        for i in range(4):
            if ctl & (1 << i):
                self.tight_streams[i] = None
        kind = ctl >> 4
        if kind == 8:
            fb.fill(x, y, w, h, self._tpixel(self.recv_exact(tps, 'tight fill')))
            return
        if kind == 9 and self.quality is not None:
            self.recv_exact(self._compact_length(), 'tight JPEG data')
            self.jpeg_rects += 1
            return
        if kind > 8:
            raise Fail('%s: tight compression %d (JPEG/PNG) in a lossless session' % (self.label, kind))
        stream = kind & 3
        filt = self.u8('tight filter') if kind & 4 else 0
        palette = None
        if filt == 1:
            n = self.u8('tight palette size') + 1
            raw = self.recv_exact(n * tps, 'tight palette')
            palette = [self._tpixel(raw[i * tps:(i + 1) * tps]) for i in range(n)]
            size = ((w + 7) // 8) * h if n == 2 else w * h
        elif filt in (0, 2):
            size = w * h * tps
        else:
            raise Fail('%s: tight filter %d' % (self.label, filt))
        if size < 12:
            data = self.recv_exact(size, 'tight raw data')
        else:
            n = self._compact_length()
            if self.tight_streams[stream] is None:
                self.tight_streams[stream] = zlib.decompressobj()
            data = self.tight_streams[stream].decompress(self.recv_exact(n, 'tight zlib data'))
            if len(data) != size:
                raise Fail('%s: tight rect %dx%d inflated to %d bytes, want %d' % (self.label, w, h, len(data), size))
        if filt == 1:
            out = bytearray()
            if len(palette) == 2:
                stride = (w + 7) // 8
                for r in range(h):
                    for c in range(w):
                        out += palette[(data[r * stride + (c >> 3)] >> (7 - (c & 7))) & 1]
            else:
                for i in range(w * h):
                    if data[i] >= len(palette):
                        raise Fail('%s: tight palette index %d of %d' % (self.label, data[i], len(palette)))
                    out += palette[data[i]]
            fb.put_rows(x, y, w, h, out)
        elif filt == 0:
            if tps == bpp:
                fb.put_rows(x, y, w, h, data)
            else:
                fb.put_rows(x, y, w, h, b''.join(self._tpixel(data[i:i + 3]) for i in range(0, len(data), 3)))
        else:
            fb.put_rows(x, y, w, h, self._gradient(data, w, h, tps))

    def _gradient(self, data, w, h, tps):
        pf = self.fb.pf
        if tps == 3:
            maxes, shifts = (255, 255, 255), None
        else:
            maxes, shifts = (pf.rmax, pf.gmax, pf.bmax), (pf.rshift, pf.gshift, pf.bshift)
        order = 'big' if pf.big_endian else 'little'
        prev = [[0, 0, 0] for _ in range(w)]
        out = bytearray()
        for r in range(h):
            cur = []
            left = [0, 0, 0]
            for c in range(w):
                d = data[(r * w + c) * tps:(r * w + c + 1) * tps]
                if tps == 3:
                    delta = d
                else:
                    v = int.from_bytes(d, order)
                    delta = [(v >> shifts[k]) & maxes[k] for k in range(3)]
                px = []
                for k in range(3):
                    upleft = prev[c - 1][k] if c > 0 else 0
                    pred = left[k] + prev[c][k] - upleft
                    pred = 0 if pred < 0 else (maxes[k] if pred > maxes[k] else pred)
                    px.append((pred + delta[k]) & maxes[k])
                cur.append(px)
                left = px
                if tps == 3:
                    out += self._tpixel(bytes(px))
                else:
                    v = (px[0] << shifts[0]) | (px[1] << shifts[1]) | (px[2] << shifts[2])
                    out += v.to_bytes(tps, order)
            prev = cur
        return bytes(out)

    # -- checks
    @staticmethod
    def colour_mask(pf):
        """The wire bytes of one pixel with every colour bit set: bits
        outside the channels (the pad byte of depth 24) carry nothing."""
        v = 0
        for m, sh in ((pf.rmax, pf.rshift), (pf.gmax, pf.gshift), (pf.bmax, pf.bshift)):
            v |= ((1 << m.bit_length()) - 1) << sh
        return v.to_bytes(pf.bytes_pp, 'big' if pf.big_endian else 'little')

    def masked(self, data, n):
        mask = self.colour_mask(self.fb.pf)
        if mask == b'\xff' * len(mask):
            return bytes(data)
        return (int.from_bytes(data, 'little') & int.from_bytes(mask * n, 'little')).to_bytes(len(data), 'little')

    def matches(self, w, h, rgb):
        """True when the framebuffer shows the w x h RGB image (every colour
        bit; see padding_differs() for the rest)."""
        fb = self.fb
        if fb.w != w or fb.h != h:
            return False
        want = fb.pf.expected_pixels(rgb)
        return bytes(fb.data) == want or self.masked(fb.data, w * h) == self.masked(want, w * h)

    def padding_differs(self, w, h, rgb):
        """Number of pixels whose bits outside the colour channels are not
        zero (colour bits being equal)."""
        fb = self.fb
        want = fb.pf.expected_pixels(rgb)
        b = fb.bpp
        return sum(1 for i in range(w * h) if fb.data[i * b:(i + 1) * b] != want[i * b:(i + 1) * b])

    def describe_diff(self, w, h, rgb):
        fb = self.fb
        if fb.w != w or fb.h != h:
            return 'framebuffer is %dx%d, the guest %dx%d' % (fb.w, fb.h, w, h)
        want = self.masked(fb.pf.expected_pixels(rgb), w * h)
        got = self.masked(fb.data, w * h)
        b = fb.bpp
        bad = [i for i in range(w * h) if want[i * b:(i + 1) * b] != got[i * b:(i + 1) * b]]
        first = ', '.join('(%d,%d) want [%s] got [%s]' % (i % w, i // w, want[i * b:(i + 1) * b].hex(),
                                                          bytes(fb.data[i * b:(i + 1) * b]).hex()) for i in bad[:4])
        return '%d of %d pixels differ (%r): %s' % (len(bad), w * h, fb.pf, first)

    def wait_match(self, w, h, rgb, timeout):
        """Waits (on decoded updates, no polling) until the framebuffer equals
        the image. Returns None or a description of the last difference."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                if self.error:
                    raise self.error
                if self.matches(w, h, rgb):
                    return None
                left = deadline - time.monotonic()
                if left <= 0:
                    return self.describe_diff(w, h, rgb)
                self.cond.wait(left)


# Client pixel formats the viewers cycle through: true colour, every size and
# byte order, channels in unusual places.
FORMATS = [
    PixelFormat(32, 24, 0, 1, 255, 255, 255, 16, 8, 0),
    PixelFormat(16, 16, 1, 1, 31, 63, 31, 11, 5, 0),
    PixelFormat(32, 24, 1, 1, 255, 255, 255, 0, 8, 16),
    PixelFormat(8, 8, 0, 1, 7, 7, 3, 0, 3, 6),
    PixelFormat(16, 16, 0, 1, 31, 31, 31, 10, 5, 0),
    PixelFormat(32, 24, 0, 1, 255, 255, 255, 24, 16, 8),
]
__all__ = ['Viewer', 'FORMATS', 'ENC_NAMES', 'ENC_RAW', 'ENC_HEXTILE', 'ENC_ZLIB', 'ENC_TIGHT', 'ENC_ZRLE',
           'cpixel_layout', 'hexs']
