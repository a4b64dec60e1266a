"""An Xvfb server on a display it picks itself (-displayfd), for viewers
driven by the encoding tests."""

import ctypes
import os
import select
import signal
import subprocess
import time

from qvnc_testlib import Fail, check


_PR_SET_PDEATHSIG = 1


def die_with_parent():
    """preexec_fn: the child gets SIGTERM when the test process dies (a
    meson timeout kills the script without running its cleanups)."""
    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class Xvfb:
    def __init__(self, width, height, timeout=20):
        r, w = os.pipe()
        self.p = subprocess.Popen(['Xvfb', '-displayfd', str(w), '-screen', '0', '%dx%dx24' % (width, height),
                                   '-nolisten', 'tcp', '-noreset'], pass_fds=(w,), stdin=subprocess.DEVNULL,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, preexec_fn=die_with_parent)
        os.close(w)
        buf = b''
        deadline = time.monotonic() + timeout
        try:
            while not buf.endswith(b'\n'):
                ready, _, _ = select.select([r], [], [], max(deadline - time.monotonic(), 0))
                if not ready:
                    self.p.kill()
                    raise Fail('Xvfb did not report its display within %ds' % timeout)
                chunk = os.read(r, 64)
                if not chunk:
                    self.p.wait()
                    raise Fail('Xvfb exited (%s) before reporting a display: %s'
                               % (self.p.returncode, self.p.stderr.read().decode(errors='replace')[-1000:]))
                buf += chunk
        finally:
            os.close(r)
        self.display = ':' + buf.decode().strip()
        self.env = {k: v for k, v in os.environ.items()
                    if k not in ('XAUTHORITY', 'DISPLAY', 'VNC_PASSWORD', 'VNC_USERNAME')}
        self.env['DISPLAY'] = self.display

    def run(self, argv, timeout=20, what=None):
        try:
            p = subprocess.run(argv, env=self.env, capture_output=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise Fail('%s did not finish within %ds (%s)' % (' '.join(argv), timeout, what or ''))
        check(p.returncode == 0, '%s failed (%d): %s' % (' '.join(argv), p.returncode,
                                                          p.stderr.decode(errors='replace').strip()))
        return p.stdout

    def stop(self):
        self.p.terminate()
        try:
            self.p.wait(10)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
