"""Convergence under stress: a guest (hardening-host) animates random damage,
blits (CopyRect), surface resizes and surface-format changes for a fixed
number of frames and then stops; one viewer per lossless encoding (Raw,
Hextile, Zlib, ZRLE, Tight) keeps requesting incremental updates and
switches its pixel format every few answers while the guest animates.
Once the guest has stopped, every viewer's framebuffer must equal the
guest's frame bit for bit (in the viewer's own pixel format), reached by
incremental updates alone.

The viewers decode with tests/integration/hardening/rfbview.py.
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from hardening_lib import Fail, check, start_host, host_command, stop_checked  # noqa: E402
from qvnc_testlib import Runner, read_ppm, tmpdir  # noqa: E402
import rfbview  # noqa: E402

runner = Runner('hardening convergence')
WORK = tmpdir('qvnc-hard-conv-')

ENCODINGS = [rfbview.ENC_RAW, rfbview.ENC_HEXTILE, rfbview.ENC_ZLIB, rfbview.ENC_ZRLE, rfbview.ENC_TIGHT]


def converge(seed, frames, interval_ms, resize_every, switch_every, size='160x120'):
    dump = os.path.join(WORK, 'guest-%d.ppm' % seed)
    host, port = start_host('', size=size)
    viewers = []
    try:
        for i, enc in enumerate(ENCODINGS):
            formats = rfbview.FORMATS[i % len(rfbview.FORMATS):] + rfbview.FORMATS[:i % len(rfbview.FORMATS)]
            viewers.append(rfbview.Viewer(port, enc, formats, switch_every=switch_every + i % 2,
                                          label='%s viewer' % rfbview.ENC_NAMES[enc]).start())
        start = host.mark()
        check(host_command(host, 'animate %d %d %d %d 1' % (frames, seed, interval_ms, resize_every)) == 'OK',
              'animate refused')
        # The second half of the animation reaches the viewers by
        # incremental updates only (and the full ones a resize forces).
        host.wait_line(r'^HALFWAY frames=%d$' % (frames // 2), 60, start, what='the middle of the animation')
        at_freeze = {}
        for v in viewers:
            with v.cond:
                v.freeze = True
                at_freeze[v] = v.answers
        host.wait_line(r'^STOPPED frames=%d$' % frames, 60, start, what='the animation to end')
        check(host_command(host, 'dump ' + dump) == 'OK', 'dump failed')
        w, h, rgb = read_ppm(dump)
        failures = []
        for v in viewers:
            diff = v.wait_match(w, h, rgb, 15)
            print('# %s: %d answers (%d after the last format switch), %d format switches, %d resizes, %d bytes; %s'
                  % (v.label, v.answers, v.answers - at_freeze[v], v.switches, v.resizes, v.bytes_in,
                     'converged' if diff is None else 'DIFFERS: ' + diff), flush=True)
            if diff is None:
                pad = v.padding_differs(w, h, rgb)
                if pad:
                    print('#   note: %s: %d pixels carry non-zero bits outside the colour channels (%r)'
                          % (v.label, pad, v.fb.pf), flush=True)
            if diff is not None:
                failures.append('%s (%r): %s' % (v.label, v.fb.pf, diff))
            elif v.switches == 0 or v.resizes == 0:
                failures.append('%s converged but saw %d switches and %d resizes: the stress did not happen'
                                % (v.label, v.switches, v.resizes))
        if failures:
            raise Fail('after the guest stopped (%dx%d), not every viewer shows its frame:\n  %s'
                       % (w, h, '\n  '.join(failures)))
    finally:
        for v in viewers:
            v.stop()
        stop_checked(host, 'hardening-host')


def main():
    runner.case('every lossless encoding converges (seed 1: fast damage, frequent resizes)',
                converge, 1, 240, 8, 30, 3)
    runner.case('every lossless encoding converges (seed 7: slower damage, rare resizes)',
                converge, 7, 120, 20, 50, 2)
    # The encodings issue's burst: 1000 frames of random damage and 3
    # resizes with no pause between them.
    runner.case('every lossless encoding converges (seed 3: a 1000-frame burst with 3 resizes)',
                converge, 3, 1000, 0, 333, 3)
    runner.finish()


if __name__ == '__main__':
    main()
