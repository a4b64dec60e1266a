"""Adaptive lossy encoding (-vnc ...,lossy=on as QEMU, update-stats.hpp):
with a Tight viewer that sent a quality level,
  - a picture that stands still is sent losslessly, even photo-like: the
    first frame of the host's gradient surface has no JPEG and matches the
    guest bit for bit, where non-adaptive=on sends it as JPEG;
  - areas that keep changing go as JPEG, and once the guest stops, the
    tiles sent lossy are sent again losslessly: the viewer, which skips
    JPEG rectangles (rfbview counts them), then matches the guest bit for
    bit.  With non-adaptive=on nothing is refreshed, so that is the
    adaptive mode at work;
  - a CopyRect of tiles sent as JPEG carries the JPEG along: the copy's
    destination, never sent lossy itself, must be refreshed too;
  - a small moving sprite's old and new places (a staircase of 16-pixel
    columns) reach a viewer that takes JPEG as one rectangle, their
    bounding box; a lossless Tight viewer gets the exact rectangles.
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from hardening_lib import Fail, check, start_host, host_command, stop_checked  # noqa: E402
from qvnc_testlib import Runner, read_ppm, tmpdir  # noqa: E402
import rfbview  # noqa: E402

runner = Runner('enc adaptive')
WORK = tmpdir('qvnc-adaptive-')
QUALITY = 6
PF = rfbview.FORMATS[0]


def viewer(port, label, copyrect=False, quality=QUALITY):
    return rfbview.Viewer(port, rfbview.ENC_TIGHT, [PF], label=label, copyrect=copyrect, quality=quality).start()


def wait_answers(v, n):
    with v.cond:
        while v.answers < n:   # woken by each decoded update
            if v.error:
                raise v.error
            v.cond.wait(10)


def first_frame(suffix, want_jpeg):
    host, port = start_host(suffix, size='320x240')
    try:
        dump = os.path.join(WORK, 'still%s.ppm' % suffix.replace(',', '_').replace('=', '-'))
        check(host_command(host, 'dump ' + dump) == 'OK', 'dump failed')
        w, h, rgb = read_ppm(dump)
        v = viewer(port, 'viewer (%s)' % suffix)
        try:
            with v.cond:
                while v.answers < 1:   # woken by each decoded update
                    if v.error:
                        raise v.error
                    v.cond.wait(10)
            print('# %s: first frame: %d JPEG rectangles' % (suffix, v.jpeg_rects), flush=True)
            if want_jpeg:
                check(v.jpeg_rects > 0, '%s: the photo-like first frame was not sent as JPEG' % suffix)
            else:
                check(v.jpeg_rects == 0, '%s: a picture that stands still was sent as JPEG (%d rectangles)'
                      % (suffix, v.jpeg_rects))
                diff = v.wait_match(w, h, rgb, 10)
                check(diff is None, '%s: first frame differs from the guest: %s' % (suffix, diff))
        finally:
            v.stop()
    finally:
        stop_checked(host, 'hardening-host')


def moving_then_still():
    host, port = start_host(',lossy=on', size='320x240')
    try:
        v = viewer(port, 'viewer')
        try:
            start = host.mark()
            # 10 ms frames: the tiles they touch change far more often than
            # quality 6's minimum of 0.2 per second, so their many-colour
            # (noise) rectangles go as JPEG.
            check(host_command(host, 'animate 300 11 10 0 0') == 'OK', 'animate refused')
            host.wait_line(r'^STOPPED frames=300$', 60, start, what='the animation to end')
            dump = os.path.join(WORK, 'moved.ppm')
            check(host_command(host, 'dump ' + dump) == 'OK', 'dump failed')
            w, h, rgb = read_ppm(dump)
            jpeg_while_moving = v.jpeg_rects
            print('# %d JPEG rectangles while the guest moved' % jpeg_while_moving, flush=True)
            check(jpeg_while_moving > 0, 'fast-changing tiles were never sent as JPEG')
            # The refresh comes 2 s after a tile's last change, from a 0.5 s
            # timer: well within 10 s.
            diff = v.wait_match(w, h, rgb, 10)
            check(diff is None, 'the tiles sent as JPEG were not sent again losslessly: %s' % diff)
            print('# after the lossless refresh: %d answers, %d JPEG rectangles in all'
                  % (v.answers, v.jpeg_rects), flush=True)
        finally:
            v.stop()
    finally:
        stop_checked(host, 'hardening-host')


def copy_of_lossy_tiles():
    host, port = start_host(',lossy=on', size='320x240')
    try:
        v = viewer(port, 'viewer', copyrect=True)
        try:
            wait_answers(v, 1)
            # The top 96 rows change fast (tile rows 0-1: their noise goes
            # as JPEG), the rest never.
            start = host.mark()
            check(host_command(host, 'animate 200 5 10 0 0 96') == 'OK', 'animate refused')
            host.wait_line(r'^STOPPED frames=200$', 60, start, what='the animation to end')
            check(v.jpeg_rects > 0, 'the fast tiles were not sent as JPEG')
            # The guest copies the fast rows onto rows that never changed:
            # a CopyRect (once the viewer has the last frame) that brings
            # the JPEG along.
            check(host_command(host, 'copy 0 0 0 128 320 96') == 'OK', 'copy refused')
            dump = os.path.join(WORK, 'copied.ppm')
            check(host_command(host, 'dump ' + dump) == 'OK', 'dump failed')
            w, h, rgb = read_ppm(dump)
            diff = v.wait_match(w, h, rgb, 10)
            check(diff is None, 'the JPEG the copy carried was not refreshed losslessly: %s' % diff)
            print('# %d JPEG rectangles, %d CopyRects (the animation blits and the copy), then a lossless '
                  'refresh of both places' % (v.jpeg_rects, v.copy_rects), flush=True)
        finally:
            v.stop()
    finally:
        stop_checked(host, 'hardening-host')


def sprite_steps(quality):
    """Moves the host's 24x32 noise sprite 12 times, diagonally, each step
    answered before the next; returns the pixel rectangles of each answer."""
    host, port = start_host(',lossy=on', size='320x240')
    try:
        v = viewer(port, 'viewer (quality %s)' % quality, quality=quality)
        try:
            wait_answers(v, 1)
            counts = []
            for i in range(12):
                with v.cond:
                    before = v.answers
                check(host_command(host, 'sprite %d %d' % (40 + 8 * i, 30 + 6 * i)) == 'OK', 'sprite refused')
                wait_answers(v, before + 1)
                with v.cond:
                    counts += v.rect_counts[before:]
            dump = os.path.join(WORK, 'sprite-%s.ppm' % quality)
            check(host_command(host, 'dump ' + dump) == 'OK', 'dump failed')
            w, h, rgb = read_ppm(dump)
            diff = v.wait_match(w, h, rgb, 10)
            check(diff is None, 'the viewer does not match the guest after the sprite stopped: %s' % diff)
            print('# quality %s: rectangles per update while the sprite moved: %s; %d JPEG rectangles'
                  % (quality, counts, v.jpeg_rects), flush=True)
            return counts
        finally:
            v.stop()
    finally:
        stop_checked(host, 'hardening-host')


def sprite_as_one_rect():
    counts = sprite_steps(QUALITY)
    check(counts and all(n == 1 for n in counts), 'a moving sprite took more than one rectangle: %s' % counts)
    exact = sprite_steps(None)
    check(any(n > 1 for n in exact), 'lossless Tight got the sprite as one rectangle too: %s' % exact)


runner.case('adaptive: a still photo-like frame is lossless', first_frame, ',lossy=on', False)
runner.case('non-adaptive: the same frame goes as JPEG', first_frame, ',lossy=on,non-adaptive=on', True)
runner.case('adaptive: moving tiles as JPEG, then a lossless refresh', moving_then_still)
runner.case('adaptive: a CopyRect of JPEG tiles is refreshed where it landed', copy_of_lossy_tiles)
runner.case('adaptive: a moving sprite goes as one box to a JPEG viewer only', sprite_as_one_rect)
runner.finish()
