"""Shared encoding (encode once, send many; ui-vnc/server/share-pass.hpp):
several viewers with identical settings watch one animating guest
(hardening-host: random damage, blits, resizes) and join at different
moments: two from the start, one in the middle of the animation, and one
slow reader that falls behind (the server throttles it and it misses the
moments the others share) and catches up.  A second pixel format makes a
second group next to the first.  Once the guest stops, every viewer must
show the guest's frame bit for bit, decoded by rfbview.py, whose zlib
inflaters continue one stream per viewer, so shared bytes that referred to
history a viewer lacks, or a stream header sent twice, fail here.  How
often the animation's updates are shared depends on timing (a slow machine
staggers the viewers' requests), so a last frame is drawn while every
viewer is known to wait for it; each viewer's update counts, logged by the
server when it closes, must show a shared encode for every one of them.
"""

import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from hardening_lib import Fail, check, debug_env, start_host, host_command, stop_checked  # noqa: E402
from qvnc_testlib import Runner, err_mark, read_ppm, tmpdir, wait_err  # noqa: E402
import rfbview  # noqa: E402

runner = Runner('hardening share')
WORK = tmpdir('qvnc-hard-share-')


class SlowViewer(rfbview.Viewer):
    """Reads slowly: each message costs it `delay` seconds, so the server's
    output to it backs up and it falls behind the others; it still decodes
    everything, so once the guest stops it must catch up."""

    def __init__(self, *args, delay=0.02, **kwargs):
        super().__init__(*args, **kwargs)
        self.delay = delay

    def _read_message(self):
        time.sleep(self.delay)   # the slowness under test, not a wait for an event
        return super()._read_message()


def wait_answers(v, n, host, start, timeout=30):
    """Until viewer v has n answers, or the animation is half over (a loaded
    machine may coalesce the frames into fewer answers than that)."""
    deadline = time.monotonic() + timeout
    with v.cond:
        while v.answers < n:
            if v.error:
                raise v.error
            if host.find(r'^HALFWAY frames=', start):
                return
            left = deadline - time.monotonic()
            if left <= 0:
                raise Fail('%s: only %d answers, wanted %d' % (v.label, v.answers, n))
            # Woken by each answer; the host's HALFWAY line is seen at the
            # next answer or after 0.2 s at most.
            v.cond.wait(min(left, 0.2))


def share(encoding, seed, frames, interval_ms, resize_every, size='320x240'):
    name = rfbview.ENC_NAMES[encoding]
    dump = os.path.join(WORK, 'guest-%s-%d.ppm' % (name, seed))
    # QVNC_DEBUG: the info lines, among them each viewer's closing counts.
    host, port = start_host('', size=size, env=debug_env())
    pf_a, pf_b = rfbview.FORMATS[0], rfbview.FORMATS[1]
    viewers = []
    try:
        def viewer(label, pf, cls=rfbview.Viewer, **kw):
            v = cls(port, encoding, [pf], label='%s %s' % (name, label), copyrect=False, fence=True,
                    **kw).start()
            viewers.append(v)
            return v

        first = viewer('viewer 1', pf_a)
        viewer('viewer 2', pf_a)
        viewer('viewer 3 (other format)', pf_b)
        viewer('viewer 4 (other format)', pf_b)
        viewer('slow viewer', pf_a, cls=SlowViewer)
        start = host.mark()
        check(host_command(host, 'animate %d %d %d %d 0' % (frames, seed, interval_ms, resize_every)) == 'OK',
              'animate refused')
        # One joins once the others have been sharing for a while.
        wait_answers(first, 10, host, start)
        viewer('late viewer', pf_a)
        host.wait_line(r'^HALFWAY frames=%d$' % (frames // 2), 60, start, what='the middle of the animation')
        viewer('late viewer (other format)', pf_b)
        host.wait_line(r'^STOPPED frames=%d$' % frames, 60, start, what='the animation to end')
        check(host_command(host, 'dump ' + dump) == 'OK', 'dump failed')
        w, h, rgb = read_ppm(dump)
        failures = []
        for v in viewers:
            diff = v.wait_match(w, h, rgb, 30)
            print('# %s: %d answers, %d resizes, %d bytes; %s'
                  % (v.label, v.answers, v.resizes, v.bytes_in, 'converged' if diff is None else 'DIFFERS: ' + diff),
                  flush=True)
            if diff is not None:
                failures.append('%s (%r): %s' % (v.label, v.fb.pf, diff))
        if failures:
            raise Fail('after the guest stopped (%dx%d), not every viewer shows its frame:\n  %s'
                       % (w, h, '\n  '.join(failures)))
        # One more frame while every viewer is known to wait for it: each
        # has an update request pending at the server (a fence after it was
        # answered), so the damage finds them all ready at once, in step,
        # and each format group must get one encode between them, however
        # the animation's timing fell on a loaded machine.
        for v in viewers:
            v.sync()
        check(host_command(host, 'fill %06x' % (seed * 0x2f1d3b & 0xffffff)) == 'OK', 'fill refused')
        check(host_command(host, 'dump ' + dump) == 'OK', 'dump failed')
        w, h, rgb = read_ppm(dump)
        for v in viewers:
            diff = v.wait_match(w, h, rgb, 30)
            check(diff is None, '%s: after the last frame: %s' % (v.label, diff))
        # The server logs each viewer's updates and how many were shared
        # when it closes: every viewer took part in that last shared encode,
        # and the animation's sharing is shown for the record.
        ports = [(v.label, v.sock.getsockname()[1]) for v in viewers]
        mark = err_mark(host)
        for v in viewers:
            v.stop()
        unshared = []
        for label, lport in ports:
            m = wait_err(host, r'client [^ ]*:%d: closing: .* \((\d+) updates, (\d+) from shared encodes\)$' % lport,
                         mark, what='%s closing with its update counts' % label)
            print('# %s: %s updates, %s from shared encodes' % (label, m.group(1), m.group(2)), flush=True)
            if int(m.group(2)) == 0:
                unshared.append(label)
        check(not unshared, '%s: never sent a shared encode: %s' % (name, ', '.join(unshared)))
    finally:
        for v in viewers:
            v.stop()
        stop_checked(host, 'hardening-host')


def main():
    # The stateful encodings first: one zlib stream per viewer.
    runner.case('ZRLE viewers joining at different moments converge', share, rfbview.ENC_ZRLE, 5, 160, 10, 60)
    runner.case('Zlib viewers joining at different moments converge', share, rfbview.ENC_ZLIB, 6, 160, 10, 60)
    runner.case('Hextile viewers joining at different moments converge', share, rfbview.ENC_HEXTILE, 7, 160, 10, 0)
    runner.case('Raw viewers joining at different moments converge', share, rfbview.ENC_RAW, 8, 120, 10, 0)
    # Tight resets the viewers' streams with its control byte's reset bits.
    runner.case('Tight viewers joining at different moments converge', share, rfbview.ENC_TIGHT, 9, 120, 10, 0)
    runner.finish()


if __name__ == '__main__':
    main()
