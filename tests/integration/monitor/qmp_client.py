"""A QMP client for the tests (python stdlib json + socket), and helpers to
start qvnc-emu with monitors.

QMP messages are JSON objects ending in CRLF; events can arrive between a
command and its reply (QEMU sends an event a command causes before the
reply), so replies are matched by "id" and events are kept in order.
"""

import functools
import json
import os
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))   # tests/integration: qvnc_testlib

from qvnc_testlib import Fail, Proc, check, env_path, free_port, HOST, DEFAULT_TIMEOUT  # noqa: E402


class Qmp:
    def __init__(self, path=None, sock=None, timeout=DEFAULT_TIMEOUT, negotiate=True, label='qmp'):
        self.label = label
        self.timeout = timeout
        if sock is None:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            deadline = time.monotonic() + timeout
            while True:
                try:
                    sock.connect(path)
                    break
                except (FileNotFoundError, ConnectionRefusedError):
                    if time.monotonic() > deadline:
                        raise Fail('%s: cannot connect to %s' % (label, path))
                    time.sleep(0.05)
        self.sock = sock
        self.sock.settimeout(timeout)
        self.buf = b''
        self.events = []
        self.next_id = 1
        self.greeting = self.read()
        check('QMP' in self.greeting, '%s: greeting %r' % (label, self.greeting))
        if negotiate:
            r = self.cmd('qmp_capabilities')
            check(r == {'return': {}}, '%s: qmp_capabilities answered %r' % (label, r))

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def read_raw_line(self, timeout=None):
        deadline = time.monotonic() + (timeout or self.timeout)
        while b'\r\n' not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise Fail('%s: no message within %.1fs (have %r)' % (self.label, timeout or self.timeout,
                                                                        self.buf[:200]))
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                continue
            if not chunk:
                raise Fail('%s: the monitor closed the connection (have %r)' % (self.label, self.buf[:200]))
            self.buf += chunk
        line, _, self.buf = self.buf.partition(b'\r\n')
        return line

    def read(self, timeout=None):
        line = self.read_raw_line(timeout)
        try:
            return json.loads(line)
        except ValueError:
            raise Fail('%s: not JSON: %r' % (self.label, line[:200]))

    def send_raw(self, data):
        self.sock.sendall(data if isinstance(data, bytes) else data.encode())

    def reply(self, want_id=None, timeout=None):
        """The next reply (return or error), keeping events aside."""
        while True:
            msg = self.read(timeout)
            if 'event' in msg:
                self.events.append(msg)
                continue
            if want_id is not None:
                check(msg.get('id') == want_id, '%s: reply %r, expected id %r' % (self.label, msg, want_id))
            return msg

    def cmd(self, name, args=None, use_id=True, fds=None):
        req = {'execute': name}
        if args is not None:
            req['arguments'] = args
        rid = None
        if use_id:
            rid = 'test-%d' % self.next_id
            self.next_id += 1
            req['id'] = rid
        data = (json.dumps(req) + '\r\n').encode()
        if fds:
            socket.send_fds(self.sock, [data], fds)
        else:
            self.send_raw(data)
        r = self.reply(rid)
        if use_id:
            r = dict(r)
            r.pop('id', None)
        return r

    def ok(self, name, args=None, **kw):
        r = self.cmd(name, args, **kw)
        check('return' in r, '%s: %s %s failed: %r' % (self.label, name, args, r))
        return r['return']

    def error(self, name, args=None, cls='GenericError'):
        r = self.cmd(name, args)
        check('error' in r, '%s: %s %s succeeded: %r' % (self.label, name, args, r))
        check(r['error']['class'] == cls, '%s: %s: class %r, expected %r' % (self.label, name, r['error'], cls))
        return r['error']['desc']

    def hmp(self, line):
        return self.ok('human-monitor-command', {'command-line': line})

    def wait_event(self, name, timeout=None):
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            for i, ev in enumerate(self.events):
                if ev['event'] == name:
                    return self.events.pop(i)
            left = deadline - time.monotonic()
            if left <= 0:
                raise Fail('%s: no %s event (have %r)' % (self.label, name, [e['event'] for e in self.events]))
            msg = self.read(left)
            check('event' in msg, '%s: unexpected message %r while waiting for %s' % (self.label, msg, name))
            self.events.append(msg)


def start_emu_monitor(tmp, vnc_suffix='', extra=(), name='qvnc-emu', attempts=5, pass_fds=(),
                      qmp=True, env=None):
    """qvnc-emu on 127.0.0.1:N with a QMP unix socket.
    Returns (proc, port, qmp_path)."""
    emu = env_path('QVNC_EMU')
    last = None
    for n in range(attempts):
        port = free_port()
        qpath = os.path.join(tmp, 'qmp-%d-%d.sock' % (port, n))
        argv = [emu, '-name', 'vm1', '-vnc', '%s:%d%s' % (HOST, port - 5900, vnc_suffix)]
        if qmp:
            argv += ['-qmp', 'unix:%s,server=on,wait=off' % qpath]
        argv += list(extra)
        orig = subprocess.Popen
        if pass_fds:
            subprocess.Popen = functools.partial(orig, pass_fds=tuple(pass_fds))
        try:
            proc = Proc(argv, name=name, env=env)
        finally:
            subprocess.Popen = orig
        try:
            proc.wait_line(r'^READY$', 20, what='READY')
            return proc, port, qpath
        except Fail as e:
            last = e
            proc.stop()
            text = '\n'.join(proc.err + proc.lines).lower()
            if 'in use' in text:
                continue
            raise
    raise Fail('%s never became ready: %s' % (name, last))
