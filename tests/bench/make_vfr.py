#!/usr/bin/python3
"""Writes a small VFR workload (the format of ../shared/bench/vfr.h) without
the shared generator, so that the bench-smoke test runs on a clean clone
where ../shared is absent: a static desktop-like picture (panel, window,
text-like bars) and a 24x32 box moving along a circle, two damage rects per
record (where the box was and where it is), like the 'cursor' workload.

  make_vfr.py OUT.vfr [WIDTH HEIGHT FRAMES]   (default 256 160 8)
"""

import math
import struct
import sys

ALIGN = 64
MASK = (1 << 64) - 1


def align(n):
    return (n + ALIGN - 1) & ~(ALIGN - 1)


def vfr_hash(px, w, h):
    """vfr.h's vfr_hash over XRGB pixels (a list of ints, X ignored)."""
    a, b = 0x243F6A8885A308D3, 0x13198A2E03707344
    k1, k2 = 0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F
    for y in range(h):
        row = px[y * w:(y + 1) * w]
        x = 0
        while x + 1 < w:
            v = ((row[x] & 0xFFFFFF) << 32) | (row[x + 1] & 0xFFFFFF)
            a = ((a ^ v) * k1) & MASK
            b = ((b + v) & MASK) ^ (a >> 29)
            x += 2
        if x < w:
            a = ((a ^ (row[x] & 0xFFFFFF)) * k1) & MASK
            b = ((b + a) & MASK) ^ (a >> 31)
    return a ^ ((b * k2) & MASK) ^ (a >> 33)


def desktop(w, h):
    px = [0x00305878] * (w * h)                       # wallpaper
    def fill(x0, y0, x1, y1, c):
        for y in range(max(0, y0), min(h, y1)):
            px[y * w + max(0, x0):y * w + min(w, x1)] = [c] * (min(w, x1) - max(0, x0))
    fill(0, 0, w, 14, 0x00202020)                     # panel
    fill(w // 8, h // 6, w - w // 8, h - h // 8, 0x00f0f0f0)   # window
    fill(w // 8, h // 6, w - w // 8, h // 6 + 12, 0x004060a0)  # title bar
    for i, y in enumerate(range(h // 6 + 20, h - h // 8 - 8, 9)):   # text-like bars
        fill(w // 8 + 8, y, w // 8 + 8 + (37 * (i + 3)) % (w * 3 // 4 - 16), y + 5, 0x00101010)
    return px


def box_at(i, frames, w, h, bw, bh):
    t = 2 * math.pi * i / frames
    return (int((w - bw) / 2 + (w - bw) / 3 * math.cos(t)), int((h - bh) / 2 + (h - bh) / 3 * math.sin(t)))


def main():
    out = sys.argv[1]
    w, h, frames = (int(v) for v in sys.argv[2:5]) if len(sys.argv) > 4 else (256, 160, 8)
    bw, bh = 24, 32
    base = desktop(w, h)

    def state(i):
        px = list(base)
        x0, y0 = box_at(i, frames, w, h, bw, bh)
        for y in range(y0, y0 + bh):
            for x in range(x0, x0 + bw):
                px[y * w + x] = 0x00ffffff if (x - x0) in (0, bw - 1) or (y - y0) in (0, bh - 1) else 0x00000000
        return px

    states = [state(i) for i in range(frames)]
    records = []
    for i in range(frames):
        prev = states[(i - 1) % frames]
        cur = states[i]
        rects = [box_at((i - 1) % frames, frames, w, h, bw, bh) + (bw, bh), box_at(i, frames, w, h, bw, bh) + (bw, bh)]
        body = bytearray(struct.pack('<%dH' % (4 * len(rects)), *[v for r in rects for v in r]))
        body += bytes(align(len(body)) - len(body))
        for (x, y, rw, rh) in rects:
            block = bytearray()
            for yy in range(y, y + rh):
                block += struct.pack('<%dI' % rw, *cur[yy * w + x:yy * w + x + rw])
            block += bytes(align(len(block)) - len(block))
            body += block
        records.append((len(rects), bytes(body), vfr_hash(cur, w, h)))
        del prev

    stride = w * 4
    base_offset = 256
    index_offset = align(base_offset + stride * h)
    offset = align(index_offset + 24 * frames)
    index, blobs = [], []
    for nrects, body, hsh in records:
        index.append(struct.pack('<QIIQ', offset, nrects, 0, hsh))
        blobs.append((offset, body))
        offset = align(offset + len(body))
    size = offset
    damage = sum(2 * bw * bh for _ in range(frames))
    header = struct.pack('<8sIIIIII32sQQQQ', b'VFRAMES1', w, h, stride, frames, 0x34325258, 1,
                         b'smoke-cursor', base_offset, index_offset, size, damage)
    header += bytes(256 - len(header))
    data = bytearray(size)
    data[0:256] = header
    data[base_offset:base_offset + stride * h] = struct.pack('<%dI' % (w * h), *states[0])
    data[index_offset:index_offset + 24 * frames] = b''.join(index)
    for off, body in blobs:
        data[off:off + len(body)] = body
    with open(out, 'wb') as f:
        f.write(data)


if __name__ == '__main__':
    main()
