"""Shared pieces of the real-decoder encoding tests (tests/integration/enc).

* The three reference frames of issue 6: qvnc-emu's pattern guest, its
  console guest (a desktop-like frame: text on flat areas) and a noise
  picture played by the replay guest from a one-record VFR file written
  here.  All run stopped (-S), so the frame a --frame-dump gives is the one
  every client must decode.
* The client pixel formats under test and a comparison "at the format's
  precision": both sides are cut to each channel's bit count, so a decoder
  that widens 5 bits to 8 by shifting or by replication passes, but one
  pixel decoded wrong does not.
"""

import os
import random
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))                       # qvnc_testlib, gvnc_ctypes
sys.path.insert(0, os.path.join(os.path.dirname(HERE), 'hardening'))  # hardening_lib

from qvnc_testlib import Fail, check, start_emu, frame_dump  # noqa: E402

# name -> (bpp, depth, big_endian, rmax, gmax, bmax, rshift, gshift, bshift)
FORMATS = {
    '32bpp-le': (32, 24, False, 255, 255, 255, 16, 8, 0),
    '32bpp-be': (32, 24, True, 255, 255, 255, 16, 8, 0),
    '16bpp-565': (16, 16, False, 31, 63, 31, 11, 5, 0),
    '8bpp-bgr233': (8, 8, False, 7, 7, 3, 0, 3, 6),
}


def channel_bits(fmt):
    return tuple(m.bit_length() for m in FORMATS[fmt][3:6])


def quantize(rgb, bits):
    """Each channel cut to its top `bits` bits (QEMU truncates the same way)."""
    tables = [bytes(v >> (8 - b) for v in range(256)) for b in bits]
    out = bytearray(len(rgb))
    for c in range(3):
        out[c::3] = rgb[c::3].translate(tables[c])
    return bytes(out)


def compare_at_precision(w, h, want_rgb, got_rgb, bits, what):
    """Raises Fail naming the first pixels that differ after quantizing."""
    check(len(want_rgb) == len(got_rgb) == w * h * 3,
          '%s: size mismatch (%d / %d bytes for %dx%d)' % (what, len(want_rgb), len(got_rgb), w, h))
    a, b = quantize(want_rgb, bits), quantize(got_rgb, bits)
    if a == b:
        return
    bad = [i for i in range(w * h) if a[3 * i:3 * i + 3] != b[3 * i:3 * i + 3]]
    first = ', '.join('(%d,%d) guest #%s got #%s' % (i % w, i // w, want_rgb[3 * i:3 * i + 3].hex(),
                                                     got_rgb[3 * i:3 * i + 3].hex()) for i in bad[:5])
    raise Fail('%s: %d of %d pixels differ at %s bits; first: %s' % (what, len(bad), w * h, bits, first))


def write_noise_vfr(path, w, h, seed):
    """A VFR file (tools/qvnc-emu/vfr-file.hpp) whose base image is uniform
    noise and whose only record changes nothing.  Returns the image as RGB."""
    rng = random.Random(seed)
    stride = w * 4
    base = bytearray(rng.randbytes(stride * h))
    base[3::4] = b'\0' * (w * h)                        # X byte of B,G,R,X
    base_off = 256
    index_off = base_off + len(base)
    record_off = index_off + 24
    size = record_off                                   # the record has no rects: zero bytes
    head = struct.pack('<8sIIIIII32sQQQQ', b'VFRAMES1', w, h, stride, 1, 0x34325258, seed,
                       b'enc-noise', base_off, index_off, size, 0)
    head = head.ljust(256, b'\0')
    index = struct.pack('<QIIQ', record_off, 0, 0, 0)
    with open(path, 'wb') as f:
        f.write(head + bytes(base) + index)
    rgb = bytearray(w * h * 3)
    rgb[0::3], rgb[1::3], rgb[2::3] = base[2::4], base[1::4], base[0::4]
    return bytes(rgb)


def write_noise_frames_vfr(path, w, h, seed, nframes):
    """A VFR file whose base image and every record are new uniform noise
    over the whole frame (record 0 brings the base back, closing the loop):
    what makes Hextile send runs of raw tiles as Raw rectangles from the
    second update on (ui-vnc/enc/hextile-raw.hpp)."""
    rng = random.Random(seed)
    stride = w * 4

    def noise():
        px = bytearray(rng.randbytes(stride * h))
        px[3::4] = b'\0' * (w * h)                      # X byte of B,G,R,X
        return bytes(px)

    base = noise()
    frames = [base] + [noise() for _ in range(nframes - 1)]
    base_off = 256
    index_off = base_off + len(base)
    rec_head = struct.pack('<HHHH', 0, 0, w, h).ljust(64, b'\0')
    rec_len = len(rec_head) + ((len(base) + 63) & ~63)
    first_rec = (index_off + 24 * nframes + 63) & ~63
    size = first_rec + rec_len * nframes
    head = struct.pack('<8sIIIIII32sQQQQ', b'VFRAMES1', w, h, stride, nframes, 0x34325258, seed,
                       b'enc-noise-frames', base_off, index_off, size, w * h * nframes).ljust(256, b'\0')
    index = b''.join(struct.pack('<QIIQ', first_rec + i * rec_len, 1, 0, 0) for i in range(nframes))
    with open(path, 'wb') as f:
        f.write(head + base + index)
        f.write(b'\0' * (first_rec - f.tell()))
        for i in range(nframes):
            # Record i turns state i-1 into state i (record 0: back to the base).
            f.write(rec_head + frames[i].ljust(rec_len - len(rec_head), b'\0'))


class FrameServer:
    """A stopped qvnc-emu showing one reference frame."""

    def __init__(self, kind, w, h, tmp, extra_vnc=''):
        self.kind = kind
        self.dump = os.path.join(tmp, 'frame-%s.ppm' % kind)
        noise = None
        if kind == 'noise':
            vfr = os.path.join(tmp, 'noise.vfr')
            noise = write_noise_vfr(vfr, w, h, 0x5eed)
            guest = ['--guest', 'replay:' + vfr]
        elif kind == 'desktop':
            guest = ['--guest', 'console', '--size', '%dx%d' % (w, h)]
        else:
            guest = ['--guest', 'pattern', '--size', '%dx%d' % (w, h)]
        self.proc, self.port = start_emu(guest + ['--frame-dump', self.dump], vnc_suffix=extra_vnc,
                                         prefix_args=['-name', 'enc-%s' % kind, '-S'],
                                         name='qvnc-emu(%s)' % kind)
        self.w, self.h, self.rgb = frame_dump(self.proc, self.dump)
        check((self.w, self.h) == (w, h), '%s frame is %dx%d, expected %dx%d' % (kind, self.w, self.h, w, h))
        # The frames must be what they claim, or the comparisons prove little.
        colours = {}
        for i in range(0, len(self.rgb), 3):
            px = self.rgb[i:i + 3]
            colours[px] = colours.get(px, 0) + 1
        flat = max(colours.values()) / (w * h)
        if kind == 'noise':
            check(self.rgb == noise, 'the noise frame dump differs from the VFR base image')
        elif kind == 'desktop':
            check(len(colours) >= 4 and flat >= 0.3, 'desktop frame: %d colours, largest flat area %.0f%%'
                  % (len(colours), 100 * flat))
        else:
            check(len(colours) >= 256, 'pattern frame: only %d colours' % len(colours))

    def stop(self):
        self.proc.stop()


def start_frames(w, h, tmp, kinds=('pattern', 'desktop', 'noise')):
    servers = []
    try:
        for k in kinds:
            servers.append(FrameServer(k, w, h, tmp))
    except Fail:
        for s in servers:
            s.stop()
        raise
    return servers
