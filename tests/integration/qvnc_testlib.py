"""Shared helpers for the qvnc integration tests (standard library only).

* Proc: a child process whose stdout lines are collected by a thread, with
  waiting for a line that matches a pattern (with a timeout, no sleeps).
* start_server(): starts qvnc-emu / qvnc-test-host on a free port >= 5900,
  waits for READY, retries when the port was taken in between.
* PPM reading, frame dumps through SIGUSR1.
* RfbClient: a raw RFB client for byte-exact checks (rfb_client.py,
  re-exported here with testlib_core.py's Fail and check).
* Runner: runs named cases, prints "ok"/"not ok" and the reason, exits 1 on
  any failure.
"""

import atexit
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback

import qvnc_des
# Re-exported: tests import everything from here.
from testlib_core import DEFAULT_TIMEOUT, HOST, Fail, check, expect_bytes, hexs  # noqa: F401
from rfb_client import (PixelFormat, PF_SERVER_LE, PF_R5G6B5_BE, PF_BGR233,  # noqa: F401
                        ENC_RAW, ENC_HEXTILE, ENC_ZLIB, ENC_TIGHT, ENC_ZRLE, ENC_DESKTOP_SIZE, ENC_CURSOR,
                        ENC_POINTER_TYPE, ENC_EXT_KEY, ENC_AUDIO, ENC_LED, ENC_DESKTOP_NAME,
                        ENC_EXT_DESKTOP_SIZE, ENC_FENCE, ENC_ALPHA_CURSOR, ENC_WMVI, FENCE_REQUEST,
                        ServerInit, Rect, RfbClient, compare_pixels)


def env_path(name):
    p = os.environ.get(name)
    if not p:
        raise Fail('environment variable %s (path of a test binary) is not set' % name)
    if not os.access(p, os.X_OK):
        raise Fail('%s=%s is not an executable' % (name, p))
    return p


# ---------------------------------------------------------------------------
# processes

class ProcExited(Fail):
    pass


class Proc:
    """A child process with line-collected stdout and stderr."""

    def __init__(self, argv, name=None, env=None, stdin=True):
        self.argv = list(argv)
        self.name = name or os.path.basename(argv[0])
        self.lines = []
        self.err = []
        self.cond = threading.Condition()
        self.eof = False
        self.p = subprocess.Popen(self.argv, stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  env=env)
        self._t_out = threading.Thread(target=self._reader, args=(self.p.stdout, False), daemon=True)
        self._t_err = threading.Thread(target=self._reader, args=(self.p.stderr, True), daemon=True)
        self._t_out.start()
        self._t_err.start()

    def _reader(self, stream, is_err):
        for raw in iter(stream.readline, b''):
            line = raw.decode('utf-8', 'replace').rstrip('\r\n')
            with self.cond:
                (self.err if is_err else self.lines).append(line)
                self.cond.notify_all()
        with self.cond:
            if not is_err:
                self.eof = True
            self.cond.notify_all()

    def mark(self):
        with self.cond:
            return len(self.lines)

    def stderr_tail(self, n=25):
        with self.cond:
            tail = self.err[-n:]
        return '\n'.join('    [%s stderr] %s' % (self.name, l) for l in tail)

    def stdout_tail(self, n=25):
        with self.cond:
            tail = self.lines[-n:]
        return '\n'.join('    [%s stdout] %s' % (self.name, l) for l in tail)

    def describe(self):
        return '%s\n%s' % (self.stdout_tail(), self.stderr_tail())

    def find(self, pattern, start=0):
        """Index and match of the first line >= start that matches, or None."""
        rx = re.compile(pattern)
        with self.cond:
            for i in range(start, len(self.lines)):
                m = rx.search(self.lines[i])
                if m:
                    return i, m
        return None

    def wait_line(self, pattern, timeout=DEFAULT_TIMEOUT, start=0, what=None):
        """Waits for a stdout line (index >= start) matching the regex."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        i = start
        with self.cond:
            while True:
                while i < len(self.lines):
                    m = rx.search(self.lines[i])
                    if m:
                        return i, m
                    i += 1
                if self.eof:
                    self.p.poll()
                    raise ProcExited('%s: stdout closed (exit status %s) before a line matching /%s/ (%s)\n%s'
                                     % (self.name, self.p.returncode, pattern, what or 'waited for',
                                        self.describe()))
                left = deadline - time.monotonic()
                if left <= 0:
                    raise Fail('%s: no stdout line matching /%s/ within %.1fs (%s)\n%s'
                               % (self.name, pattern, timeout, what or 'waited for', self.describe()))
                self.cond.wait(left)

    def send_line(self, text):
        self.p.stdin.write((text + '\n').encode())
        self.p.stdin.flush()

    def command(self, text, timeout=DEFAULT_TIMEOUT):
        """Sends a command line and returns the next OK/ERROR answer line."""
        start = self.mark()
        self.send_line(text)
        _, m = self.wait_line(r'^(OK|ERROR\b.*)$', timeout, start, what='answer to %r' % text)
        return m.group(1)

    def alive(self):
        return self.p.poll() is None

    def signal(self, sig):
        self.p.send_signal(sig)

    def stop(self, timeout=10):
        """SIGTERM, wait; SIGKILL if it hangs. Returns the exit status."""
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(timeout)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        for s in (self.p.stdin, ):
            try:
                if s:
                    s.close()
            except OSError:
                pass
        self._t_out.join(2)
        self._t_err.join(2)
        return self.p.returncode


def err_mark(proc):
    """How many stderr lines proc has logged: a start index for wait_err()."""
    with proc.cond:
        return len(proc.err)


def wait_err_at(proc, pattern, start=0, timeout=DEFAULT_TIMEOUT, what=None):
    """Waits for a stderr line (index >= start) of proc matching the regex.
    Returns (line index, match)."""
    rx = re.compile(pattern)
    deadline = time.monotonic() + timeout
    i = start
    with proc.cond:
        while True:
            while i < len(proc.err):
                m = rx.search(proc.err[i])
                if m:
                    return i, m
                i += 1
            if proc.eof and proc.p.poll() is not None:
                raise ProcExited('%s exited (status %s) before a log line matching /%s/ (%s)\n%s'
                                 % (proc.name, proc.p.returncode, pattern, what or 'waited for',
                                    proc.describe()))
            left = deadline - time.monotonic()
            if left <= 0:
                raise Fail('%s: no log line matching /%s/ within %.0fs (%s)\n%s'
                           % (proc.name, pattern, timeout, what or 'waited for', proc.describe()))
            proc.cond.wait(min(left, 0.5))


def wait_err(proc, pattern, start=0, timeout=DEFAULT_TIMEOUT, what=None):
    """As wait_err_at(), returning only the match."""
    return wait_err_at(proc, pattern, start, timeout, what)[1]


def free_port():
    """A TCP port >= 5900 that was free a moment ago on 127.0.0.1."""
    for _ in range(50):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            s.bind((HOST, 0))
            port = s.getsockname()[1]
        finally:
            s.close()
        if 5900 <= port <= 65535:
            return port
    raise Fail('could not find a free port >= 5900')


def start_server(make_argv, name, ready_timeout=20, attempts=5, env=None):
    """make_argv(display_number) -> argv. Returns (Proc, port) after READY."""
    last = None
    for _ in range(attempts):
        port = free_port()
        proc = Proc(make_argv(port - 5900), name=name, env=env)
        try:
            proc.wait_line(r'^READY$', ready_timeout, what='READY')
            return proc, port
        except Fail as e:
            last = e
            proc.stop()
            text = '\n'.join(proc.err + proc.lines).lower()
            if 'in use' in text or 'eaddrinuse' in text:
                continue
            raise
    raise Fail('%s never became ready (port races?): %s' % (name, last))


def start_emu(extra_args, vnc_suffix='', name='qvnc-emu', prefix_args=()):
    """Starts qvnc-emu with -vnc 127.0.0.1:D<vnc_suffix> and extra_args."""
    emu = env_path('QVNC_EMU')
    return start_server(lambda d: [emu, *prefix_args, '-vnc', '%s:%d%s' % (HOST, d, vnc_suffix), *extra_args],
                        name)


# ---------------------------------------------------------------------------
# images

def read_ppm(path):
    """Reads a binary P6 PPM (maxval 255). Returns (width, height, rgb bytes)."""
    with open(path, 'rb') as f:
        data = f.read()
    fields = []
    pos = 0
    while len(fields) < 4:
        while pos < len(data) and data[pos:pos + 1].isspace():
            pos += 1
        if data[pos:pos + 1] == b'#':
            while pos < len(data) and data[pos:pos + 1] not in (b'\n', b'\r'):
                pos += 1
            continue
        start = pos
        while pos < len(data) and not data[pos:pos + 1].isspace():
            pos += 1
        fields.append(data[start:pos])
    pos += 1  # the single whitespace after maxval
    check(fields[0] == b'P6', '%s: not a binary PPM (magic %r)' % (path, fields[0]))
    w, h, maxval = int(fields[1]), int(fields[2]), int(fields[3])
    check(maxval == 255, '%s: maxval %d, expected 255' % (path, maxval))
    rgb = data[pos:pos + w * h * 3]
    check(len(rgb) == w * h * 3, '%s: truncated pixel data (%d of %d bytes)' % (path, len(rgb), w * h * 3))
    return w, h, rgb


def write_ppm(path, w, h, rgb):
    with open(path, 'wb') as f:
        f.write(b'P6\n%d %d\n255\n' % (w, h))
        f.write(rgb)


def frame_dump(proc, path, timeout=DEFAULT_TIMEOUT):
    """Asks qvnc-emu (started with --frame-dump path) for the guest frame."""
    start = proc.mark()
    proc.signal(signal.SIGUSR1)
    proc.wait_line(r'^FRAME-DUMPED ' + re.escape(path) + r'$', timeout, start, what='frame dump')
    return read_ppm(path)


def compare_rgb(w, h, want, got, what, tolerance=0):
    """Compares two RGB byte strings; raises with the first differences."""
    check(len(want) == len(got) == w * h * 3,
          '%s: size mismatch (%d / %d bytes for %dx%d)' % (what, len(want), len(got), w, h))
    if want == got:
        return
    bad = []
    for i in range(w * h):
        a = want[3 * i:3 * i + 3]
        b = got[3 * i:3 * i + 3]
        if a != b and max(abs(x - y) for x, y in zip(a, b)) > tolerance:
            bad.append(i)
    if not bad:
        return
    first = ', '.join('(%d,%d) want #%s got #%s' % (i % w, i // w, want[3 * i:3 * i + 3].hex(),
                                                   got[3 * i:3 * i + 3].hex()) for i in bad[:5])
    raise Fail('%s: %d of %d pixels differ; first: %s' % (what, len(bad), w * h, first))



# ---------------------------------------------------------------------------
# running cases

class Runner:
    def __init__(self, title):
        self.title = title
        self.failures = []
        self.count = 0
        self.cleanups = []
        qvnc_des.self_test()

    def case(self, name, fn, *args):
        self.count += 1
        t0 = time.monotonic()
        try:
            fn(*args)
        except Fail as e:
            self.failures.append(name)
            print('not ok %d - %s\n  reason: %s' % (self.count, name, str(e).replace('\n', '\n  ')), flush=True)
        except Exception:
            self.failures.append(name)
            print('not ok %d - %s\n  unexpected error:\n  %s'
                  % (self.count, name, traceback.format_exc().replace('\n', '\n  ')), flush=True)
        else:
            print('ok %d - %s (%.2fs)' % (self.count, name, time.monotonic() - t0), flush=True)

    def run_cases(self, cases, only=()):
        """Runs the (name, fn) pairs of `cases`, only those whose name
        contains one of `only` when it is given (a script's arguments pick
        cases), then finish()."""
        for name, fn in cases:
            if not only or any(o in name for o in only):
                self.case(name, fn)
        self.finish()

    def at_exit(self, fn):
        self.cleanups.append(fn)

    def finish(self):
        for fn in reversed(self.cleanups):
            try:
                fn()
            except Exception:
                traceback.print_exc()
        print('1..%d' % self.count)
        if self.failures:
            print('%s: %d of %d cases FAILED: %s' % (self.title, len(self.failures), self.count,
                                                     ', '.join(self.failures)), flush=True)
            sys.exit(1)
        print('%s: all %d cases passed' % (self.title, self.count), flush=True)
        sys.exit(0)

    def fatal(self, msg):
        print('Bail out! %s' % msg, flush=True)
        for fn in reversed(self.cleanups):
            try:
                fn()
            except Exception:
                pass
        sys.exit(1)


def tmpdir(prefix):
    """A temporary directory removed when the test script exits."""
    d = tempfile.mkdtemp(prefix=prefix)
    atexit.register(shutil.rmtree, d, True)
    return d
