"""Shared pieces of the hardening tests (standard library only).

Builds on ../qvnc_testlib.py (processes, ports, RfbClient, PPM, Runner):

* start_host(): tests/integration/hardening/hardening-host.c, a C embedder
  driven by stdin commands (surface, copy, password, hmp, animate, dump);
* start_emu_env(): qvnc-emu with its own environment (QVNC_DEBUG=1 so the
  INFO log lines with the reason a client was closed reach stderr);
* process figures from /proc: VmRSS, open descriptors, whether the binary
  runs under AddressSanitizer (its quarantine holds freed memory, so RSS
  checks then switch the quarantine off for the child);
* waiting for stderr lines, and for a client to be closed by the server.
"""

import os
import signal
import socket
import struct
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
IT_DIR = os.path.dirname(HERE)
sys.path.insert(0, IT_DIR)

from qvnc_testlib import (Fail, Proc, RfbClient, check, env_path, start_server, hexs,  # noqa: E402,F401
                          err_mark, wait_err, HOST, DEFAULT_TIMEOUT, free_port)


def asan_env(base=None):
    """The environment for a child whose memory we measure: no ASan
    quarantine (freed blocks would count as resident), leaks still fatal."""
    env = dict(os.environ if base is None else base)
    opts = env.get('ASAN_OPTIONS', '')
    extra = 'quarantine_size_mb=0:thread_local_quarantine_size_kb=0:max_redzone=16'
    env['ASAN_OPTIONS'] = (opts + ':' + extra) if opts else extra
    return env


def debug_env(extra=None, measure=False):
    env = asan_env() if measure else dict(os.environ)
    env['QVNC_DEBUG'] = '1'
    env.update(extra or {})
    return env


def start_emu_env(extra_args, vnc_suffix='', env=None, name='qvnc-emu', prefix_args=()):
    emu = env_path('QVNC_EMU')
    return start_server(lambda d: [emu, *prefix_args, '-vnc', '%s:%d%s' % (HOST, d, vnc_suffix), *extra_args],
                        name, env=env)


def start_host(vnc_suffix='', objects=(), size=None, env=None, name='hardening-host'):
    """hardening-host -vnc 127.0.0.1:D<suffix> [-object ...] [-size WxH]."""
    exe = env_path('QVNC_HARDENING_HOST')

    def argv(d):
        a = [exe]
        for o in objects:
            a += ['-object', o]
        if size:
            a += ['-size', size]
        return a + ['-vnc', '%s:%d%s' % (HOST, d, vnc_suffix)]
    return start_server(argv, name, env=env)


def host_command(proc, text, timeout=DEFAULT_TIMEOUT):
    start = proc.mark()
    proc.send_line(text)
    _, m = proc.wait_line(r'^(OK|ERROR\b.*)$', timeout, start, what='answer to %r' % text)
    return m.group(1)


def hmp(proc, line):
    """Runs an HMP line in hardening-host; returns (answer, printed text)."""
    start = proc.mark()
    ans = host_command(proc, 'hmp ' + line)
    found = proc.find(r'^HMP (.*)$', start)
    text = found[1].group(1).replace('\\r', '\r').replace('\\n', '\n') if found else None
    return ans, text


# ---------------------------------------------------------------------------
# /proc figures

def rss_kb(pid):
    with open('/proc/%d/status' % pid) as f:
        for line in f:
            if line.startswith('VmRSS:'):
                return int(line.split()[1])
    raise Fail('no VmRSS for pid %d' % pid)


def fd_count(pid):
    return len(os.listdir('/proc/%d/fd' % pid))


def fd_kinds(pid):
    """What the server's descriptors are (socket, pipe, anon_inode:[eventfd],
    a path), counted: says what a leak is made of."""
    kinds = {}
    for fd in os.listdir('/proc/%d/fd' % pid):
        try:
            target = os.readlink('/proc/%d/fd/%s' % (pid, fd))
        except OSError:
            continue            # closed meanwhile
        kind = target.split(':[')[0] if target.startswith(('socket:', 'pipe:')) else target
        kinds[kind] = kinds.get(kind, 0) + 1
    return kinds


def fds_settled(proc, fds0, what, timeout=10):
    """The server's descriptor count once it reclaimed the closed clients'.
    Every client was reported disconnected already, but a socket may be
    released a little later than its DISCONNECTED line (in the same
    reaping pass, or by a worker still holding the connection), and the
    process gives no event for that: poll /proc with a deadline.  A count
    that never comes back is a leak."""
    t0 = time.monotonic()
    while True:
        n = fd_count(proc.p.pid)
        if n <= fds0:
            return n, time.monotonic() - t0
        if time.monotonic() - t0 > timeout:
            print('# %s: %d descriptors %.0f s after the last disconnect (baseline %d): %r'
                  % (what, n, timeout, fds0, fd_kinds(proc.p.pid)), flush=True)
            return n, timeout
        time.sleep(0.05)


def under_asan(pid):
    try:
        with open('/proc/%d/maps' % pid) as f:
            return 'libasan' in f.read()
    except OSError:
        return False


# ---------------------------------------------------------------------------
# logs and closes

def client_port(client):
    return client.sock.getsockname()[1]


def wait_disconnected(proc, client_or_port, start=0, timeout=DEFAULT_TIMEOUT, what=None):
    """Waits for the server's CLIENT disconnected line of that client."""
    port = client_or_port if isinstance(client_or_port, int) else client_port(client_or_port)
    proc.wait_line(r'^CLIENT disconnected host=\S+ service=%d\b' % port, timeout, start,
                   what=what or 'the server to drop the client on port %d' % port)


def expect_closed(client, timeout=DEFAULT_TIMEOUT, what='the server to close the connection', limit=1 << 24):
    """Reads until EOF; returns what arrived before."""
    return client.read_until_eof(timeout, what, limit)


def connect_raw(port, rcvbuf=None, timeout=DEFAULT_TIMEOUT):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.settimeout(timeout)
    s.connect((HOST, port))
    return s


def serving(port, label='second client', minor=8, expect_type=1, password=None, timeout=DEFAULT_TIMEOUT):
    """The server still serves: a fresh client completes the handshake and
    gets a non-incremental update.  Returns the ServerInit."""
    c = RfbClient(port, label=label, timeout=timeout)
    try:
        si = c.handshake(minor, expect_type, password)
        c.set_encodings([0])
        c.fbur(False, 0, 0, min(si.width, 16), min(si.height, 16))
        while True:
            msg = c.read_message()
            if msg[0] == 'update' and any(r.enc == 0 for r in msg[1]):
                break
        return si
    finally:
        c.close()


def set_encodings_msg(encs):
    return struct.pack('>BxH', 2, len(encs)) + b''.join(struct.pack('>i', e) for e in encs)


def stop_checked(proc, what):
    """Stops a server and fails when it did not exit cleanly (a crash, or
    LeakSanitizer's report under ASan)."""
    rc = proc.stop()
    if rc not in (0, -signal.SIGTERM):
        raise Fail('%s exited with status %s\n%s' % (what, rc, proc.stderr_tail(40)))


class Streamer(threading.Thread):
    """A well-behaved Raw client that keeps requesting and reading updates."""

    def __init__(self, port, label='streaming client'):
        super().__init__(daemon=True)
        self.c = RfbClient(port, label=label, timeout=20)
        self.c.handshake()
        self.c.set_encodings([0])
        self.updates = 0
        self.times = []
        self.cond = threading.Condition()
        self.error = None
        self.stopped = False

    def run(self):
        try:
            inc = False
            while not self.stopped:
                self.c.fbur(inc)
                inc = True
                while True:
                    msg = self.c.read_message()
                    if msg[0] == 'update' and any(r.enc == 0 for r in msg[1]):
                        break
                with self.cond:
                    self.updates += 1
                    self.times.append(time.monotonic())
                    self.cond.notify_all()
        except Exception as e:  # noqa: BLE001
            if not self.stopped:
                with self.cond:
                    self.error = e
                    self.cond.notify_all()

    def wait_more(self, n, timeout, what):
        with self.cond:
            target = self.updates + n
            deadline = time.monotonic() + timeout
            while self.updates < target:
                if self.error:
                    raise Fail('streaming client failed %s: %s' % (what, self.error))
                left = deadline - time.monotonic()
                check(left > 0, 'the streaming client got only %d of %d more updates %s'
                      % (n - (target - self.updates), n, what))
                self.cond.wait(left)

    def stop(self):
        self.stopped = True
        try:
            self.c.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.join(5)
        self.c.close()
