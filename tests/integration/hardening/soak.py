#!/usr/bin/python3
"""A soak of mixed load against one server, for the ASan build; not part of
`meson test` (it runs for minutes).  One qvnc-emu with an animating guest
serves, for SECONDS (default 600):

  * a well-behaved Raw client streaming the whole time (it must never wait
    more than 3 s for an update),
  * rounds of the hostile load of test_load.py (stalled handshakes at every
    step plus a connect/close flood),
  * viewers of every lossless encoding that decode each update with
    rfbview.py while switching pixel formats, started and stopped in turn
    (new zlib streams each time: CVE-2019-20382's leak would show).

At the end the server is stopped with SIGTERM; under ASan, LeakSanitizer
then reports any leak and the exit status fails the run.  The RSS after each
round is printed so that growth shows.

  QVNC_EMU=build-asan/tools/qvnc-emu/qvnc-emu LSAN_OPTIONS=suppressions=.ci/lsan.supp \\
      /usr/bin/python3 tests/integration/hardening/soak.py [SECONDS]
"""

import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from hardening_lib import (check, start_emu_env, debug_env, rss_kb, fd_count, under_asan,  # noqa: E402
                           stop_checked, Streamer)
from qvnc_testlib import Runner  # noqa: E402
import rfbview  # noqa: E402
import test_load  # noqa: E402

ENCODINGS = [rfbview.ENC_RAW, rfbview.ENC_HEXTILE, rfbview.ENC_ZLIB, rfbview.ENC_ZRLE, rfbview.ENC_TIGHT]


def viewer_round(port, round_no):
    """Every lossless encoding decodes a few updates across format switches."""
    viewers = []
    try:
        for i, enc in enumerate(ENCODINGS):
            k = (i + round_no) % len(rfbview.FORMATS)
            formats = rfbview.FORMATS[k:] + rfbview.FORMATS[:k]
            viewers.append(rfbview.Viewer(port, enc, formats, switch_every=2,
                                          label='%s viewer' % rfbview.ENC_NAMES[enc]).start())
        for v in viewers:
            deadline = time.monotonic() + 30
            with v.cond:
                while v.answers < 8 and v.error is None:
                    left = deadline - time.monotonic()
                    check(left > 0, '%s: only %d answers in 30 s' % (v.label, v.answers))
                    v.cond.wait(left)
            check(v.error is None, '%s failed: %s' % (v.label, v.error))
        return sum(v.answers for v in viewers)
    finally:
        for v in viewers:
            v.stop()


def soak(seconds):
    emu, port = start_emu_env(['--guest', 'pattern', '--size', '320x240'], vnc_suffix=',connections=1000',
                              env=debug_env(measure=True))
    real = None
    try:
        asan = under_asan(emu.p.pid)
        print('# server pid %d, %s' % (emu.p.pid, 'ASan build' if asan else 'not an ASan build'), flush=True)
        real = Streamer(port, label='real client')
        real.start()
        real.wait_more(3, 10, 'before the soak')
        fds0 = fd_count(emu.p.pid)
        rss = [rss_kb(emu.p.pid)]
        t_end = time.monotonic() + seconds
        rounds = answers = 0
        while time.monotonic() < t_end:
            rounds += 1
            rss.append(test_load.one_round(emu, port, real, 100, 150, 100 + 8, fds0, 'round %d' % rounds))
            answers += viewer_round(port, rounds)
            print('# round %d: %d viewer answers so far, RSS %d kB, %d s left'
                  % (rounds, answers, rss_kb(emu.p.pid), max(0, t_end - time.monotonic())), flush=True)
        real.wait_more(3, 10, 'after the soak')
        print('# soak: %d s, %d rounds (%d hostile connections, %d viewer sessions, %d decoded answers), '
              'streaming client %d updates; RSS %d kB at start, %d after round 1, %d at the end'
              % (seconds, rounds, rounds * 250, rounds * len(ENCODINGS), answers, real.updates, rss[0],
                 rss[1] if len(rss) > 1 else rss[0], rss[-1]), flush=True)
    finally:
        if real:
            real.stop()
        stop_checked(emu, 'qvnc-emu')   # LeakSanitizer's report fails the exit status


def main():
    seconds = int(sys.argv[1]) if len(sys.argv) > 1 else 600
    runner = Runner('hardening soak')
    runner.case('%d s of mixed load; no crash, no leak' % seconds, soak, seconds)
    runner.finish()


if __name__ == '__main__':
    main()
