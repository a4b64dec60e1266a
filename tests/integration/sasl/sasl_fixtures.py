"""Shared pieces of the SASL integration tests.

Builds on ../qvnc_testlib.py (processes, ports, raw RFB, PPM, Runner) and
../gvnc_client.py (gtk-vnc logins in child processes) and adds, all inside
the test's own temporary directory:

* a cyrus-sasl sasldb made with saslpasswd2 and a qemu.conf per case
  (the server finds it through SASL_CONF_PATH);
* qvnc-emu started with QVNC_DEBUG=1 and its own environment, and waiting
  for its stderr log lines (why a client was refused);
* RawSasl: the RFB type-20 exchange byte for byte, for the malformed cases;
* Relay: a TCP relay on 127.0.0.1 that records both directions, to check
  what travels on the wire after authentication.

kdc.py beside it has the throwaway MIT Kerberos realm of the GSSAPI tests.
"""

import json
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
IT_DIR = os.path.dirname(HERE)
sys.path.insert(0, IT_DIR)   # qvnc_testlib, gvnc_client

from qvnc_testlib import (Fail, ProcExited, RfbClient, check, expect_bytes, hexs, env_path,  # noqa: E402
                          start_server, err_mark, HOST, DEFAULT_TIMEOUT)
# The SASL tests also want the index of the line found.
from qvnc_testlib import wait_err_at as wait_err  # noqa: E402
# Re-exported for the test scripts.
from qvnc_testlib import read_ppm, compare_rgb, frame_dump  # noqa: E402,F401
import gvnc_client  # noqa: E402

AUTH_FAILED_38 = b'\x00\x00\x00\x01' + struct.pack('>I', 22) + b'Authentication failed\x00'
SASL_DATA_MAX = 1024 * 1024

PASSWORDS = {'alice': 'alice-Secret1', 'bob': 'bob-Secret2'}


def remove_tmp(runner, path):
    """Removes the test's temp dir unless a case failed (kept for a look)."""
    if runner.failures:
        print('# kept %s for inspection' % path, flush=True)
    else:
        shutil.rmtree(path, ignore_errors=True)


def hostname():
    return socket.gethostname()


# ---------------------------------------------------------------------------
# sasldb and qemu.conf

def run_tool(argv, what, env=None, input_text=None, timeout=60):
    try:
        p = subprocess.run(argv, input=input_text, capture_output=True, text=True, env=env, timeout=timeout,
                           stdin=None if input_text is not None else subprocess.DEVNULL)
    except FileNotFoundError:
        raise Fail('%s: %s is not installed (see .ci/deps.sh)' % (what, argv[0]))
    except subprocess.TimeoutExpired:
        raise Fail('%s: %s did not finish within %ds' % (what, ' '.join(argv), timeout))
    if p.returncode != 0:
        raise Fail('%s failed (exit %d): %s\n  stdout: %s\n  stderr: %s'
                   % (what, p.returncode, ' '.join(argv), p.stdout.strip(), p.stderr.strip()))
    return p


def make_sasldb(path, users=PASSWORDS):
    """saslpasswd2 -f PATH -a qemu for each user (realm: this host's name, as
    saslpasswd2 and the server both take it from the host). Returns the
    list of entries sasldblistusers2 shows."""
    for user, pw in users.items():
        run_tool(['saslpasswd2', '-p', '-c', '-f', path, '-a', 'qemu', user], 'saslpasswd2 %s' % user,
                 input_text=pw)
    p = run_tool(['sasldblistusers2', '-f', path], 'sasldblistusers2')
    entries = [l.split(':')[0].strip() for l in p.stdout.splitlines() if ':' in l]
    for user in users:
        check(any(e.startswith(user + '@') for e in entries),
              'sasldb %s has no entry for %s: %r' % (path, user, entries))
    return entries


def write_sasl_conf(directory, mechs, sasldb=None):
    """Writes DIRECTORY/qemu.conf (cyrus-sasl app name "qemu")."""
    os.makedirs(directory, exist_ok=True)
    lines = ['mech_list: %s' % mechs]
    if sasldb:
        lines.append('sasldb_path: %s' % sasldb)
    with open(os.path.join(directory, 'qemu.conf'), 'w') as f:
        f.write('\n'.join(lines) + '\n')
    return directory


# ---------------------------------------------------------------------------
# the server

def emu_env(conf_dir, extra=None):
    env = dict(os.environ)
    env['QVNC_DEBUG'] = '1'
    env['SASL_CONF_PATH'] = conf_dir
    env.update(extra or {})
    return env


def monitor_available():
    """True when qvnc-emu takes -qmp (the monitor)."""
    p = subprocess.run([env_path('QVNC_EMU'), '--help'], capture_output=True, text=True)
    return '-qmp' in p.stdout + p.stderr


def start_sasl_emu(vnc_opts, conf_dir, objects=(), name='qvnc-emu', size='320x200', dump=None,
                   env=None, guest_name='sasl-test', qmp_dir=None):
    """qvnc-emu -name GUEST -S [-object ...] -vnc 127.0.0.1:D,<vnc_opts>
    --guest pattern, with SASL_CONF_PATH=conf_dir. Returns (Proc, port).
    With qmp_dir, also -qmp unix:QMP_DIR/qmp-D.sock,server=on,wait=off;
    the path is then proc.qmp_path."""
    paths = {}

    def argv(d):
        a = [env_path('QVNC_EMU'), '-name', guest_name, '-S']
        if qmp_dir:
            paths['qmp'] = os.path.join(qmp_dir, 'qmp-%d.sock' % d)
            a += ['-qmp', 'unix:%s,server=on,wait=off' % paths['qmp']]
        for o in objects:
            a += ['-object', o]
        a += ['-vnc', '%s:%d%s' % (HOST, d, ',' + vnc_opts if vnc_opts else ''), '--guest', 'pattern',
              '--size', size]
        if dump:
            a += ['--frame-dump', dump]
        return a
    proc, port = start_server(argv, name, env=emu_env(conf_dir, env))
    proc.qmp_path = paths.get('qmp')
    return proc, port


class Qmp:
    """A QMP client on a unix socket: greeting, qmp_capabilities, then
    cmd() returns the "return" value (events are skipped) and hmp() runs a
    human-monitor-command."""

    def __init__(self, path, timeout=DEFAULT_TIMEOUT):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        try:
            self.sock.connect(path)
        except OSError as e:
            raise Fail('cannot connect to the QMP socket %s: %s' % (path, e))
        self.f = self.sock.makefile('rwb')
        greeting = self._read()
        check('QMP' in greeting, 'QMP greeting %r' % greeting)
        self.cmd('qmp_capabilities')

    def _read(self):
        try:
            line = self.f.readline()
        except socket.timeout:
            raise Fail('QMP: no answer within the timeout')
        check(line, 'QMP: the monitor closed the connection')
        return json.loads(line)

    def cmd(self, name, **args):
        msg = {'execute': name}
        if args:
            msg['arguments'] = args
        self.f.write((json.dumps(msg) + '\n').encode())
        self.f.flush()
        while True:
            r = self._read()
            if 'event' in r:
                continue
            if 'error' in r:
                raise Fail('QMP %s failed: %s' % (name, r['error']))
            check('return' in r, 'QMP %s: unexpected answer %r' % (name, r))
            return r['return']

    def hmp(self, line):
        return self.cmd('human-monitor-command', **{'command-line': line}).replace('\r\n', '\n')

    def close(self):
        try:
            self.f.close()
            self.sock.close()
        except OSError:
            pass


def find_err(proc, pattern, start=0):
    rx = re.compile(pattern)
    with proc.cond:
        for i in range(start, len(proc.err)):
            if rx.search(proc.err[i]):
                return proc.err[i]
    return None


def client_log(port):
    """The prefix of the server's log lines about the client whose local
    port is `port`: 'client 127.0.0.1:PORT: '."""
    return r'client 127\.0\.0\.1:%d: ' % port


# ---------------------------------------------------------------------------
# gtk-vnc logins

def gvnc_login(port, user=None, password=None, frame=None, what='gtk-vnc login', **kw):
    try:
        return gvnc_client.run_gvnc(port, user=user, password=password, frame=frame, **kw)
    except gvnc_client.GvncError as e:
        raise Fail('%s: %s' % (what, e))


def expect_login(emu, port, user, password, what, frame=None, min_ssf=None, mech=None, expect_user=None,
                 **kw):
    """A gtk-vnc login that must succeed; checks the CLIENT initialized line
    (sasl-username=USER) and, if given, the SSF gtk-vnc reports and the
    mechanism it used. Returns (GvncResult, the server's CLIENT initialized
    line, the client's port as the server saw it)."""
    start = emu.mark()
    r = gvnc_login(port, user, password, frame=frame, what=what, **kw)
    check(r.initialized, '%s: gtk-vnc was not initialized\n  %s\n%s' % (what, r.describe(), emu.describe()))
    if frame:
        check(r.frame, '%s: no full frame: %s' % (what, r.frame_error))
    if mech:
        check(r.mech == mech, '%s: gtk-vnc used mechanism %r (server list %r), expected %s'
              % (what, r.mech, r.mechlist, mech))
    if min_ssf is not None:
        check(r.ssf is not None and r.ssf >= min_ssf, '%s: gtk-vnc reports SASL SSF %r, expected >= %d'
              % (what, r.ssf, min_ssf))
    want = expect_user or user
    _, m = emu.wait_line(r'^CLIENT initialized .*', start=start, what='%s: CLIENT initialized' % what)
    line = m.group(0)
    if want is not None:
        check(' sasl-username=%s ' % want in line + ' ',
              '%s: the server line %r lacks sasl-username=%s' % (what, line, want))
    service = re.search(r' service=(\d+)', line)
    return r, line, int(service.group(1)) if service else None


def expect_refused(emu, port, user, password, what, log_pattern, **kw):
    """A gtk-vnc login that must fail, with a server log line matching
    log_pattern. Returns the GvncResult."""
    start_err = err_mark(emu)
    start = emu.mark()
    r = gvnc_login(port, user, password, what=what, **kw)
    check(not r.initialized, '%s: gtk-vnc was initialized, but the login must be refused\n  %s'
          % (what, r.summary()))
    wait_err(emu, log_pattern, start_err, what='%s: server log' % what)
    check(emu.find(r'^CLIENT initialized', start) is None,
          '%s: the server reported CLIENT initialized for a refused login\n%s' % (what, emu.describe()))
    check(emu.alive(), '%s: qvnc-emu died\n%s' % (what, emu.describe()))
    return r


# ---------------------------------------------------------------------------
# the raw RFB type-20 exchange

class RawSasl(RfbClient):
    """RFB 3.8 up to the SASL mechanism list (type 20 on plain TCP)."""

    def __init__(self, port, label='raw sasl client'):
        super().__init__(port, label=label)
        self.local_port = self.sock.getsockname()[1]

    def to_sasl(self):
        self.version(8)
        n = self.u8('number of security types')
        types = self.recv_exact(n, 'security types') if n else b''
        expect_bytes(bytes([n]) + types, b'\x01\x14', '%s: security type list' % self.label)
        self.send(b'\x14')

    def mechlist(self):
        n = self.u32('SASL mechlist length')
        check(0 < n <= 4096, '%s: SASL mechlist length %d' % (self.label, n))
        return self.recv_exact(n, 'SASL mechlist')

    def send_mech(self, mech):
        self.send(struct.pack('>I', len(mech)) + mech)

    def send_data(self, data):
        """None: u32 0 (NULL); bytes: u32 len+1, the bytes, NUL."""
        if data is None:
            self.send(b'\0\0\0\0')
        else:
            self.send(struct.pack('>I', len(data) + 1) + data + b'\0')

    def read_server_data(self, what='SASL server data'):
        """Returns (data or None, complete) after checking the NUL pad."""
        n = self.u32(what + ' length')
        check(n <= SASL_DATA_MAX, '%s: %s length %d' % (self.label, what, n))
        data = None
        if n:
            raw = self.recv_exact(n, what)
            check(raw[-1:] == b'\0', '%s: %s does not end with the NUL pad: [%s]' % (self.label, what, hexs(raw)))
            data = raw[:-1]
        complete = self.u8('SASL complete flag')
        check(complete in (0, 1), '%s: complete flag %d' % (self.label, complete))
        return data, complete


# ---------------------------------------------------------------------------
# a recording TCP relay

class Relay:
    """Accepts one connection on 127.0.0.1:<ephemeral>, connects it to
    127.0.0.1:target and copies both ways, recording the bytes.  A `tap`
    object, if given, sees each chunk before it is forwarded:
    tap.c2s(chunk) returns the bytes to forward to the server and
    tap.s2c(chunk) observes what goes to the client."""

    def __init__(self, target_port, tap=None):
        self.target = target_port
        self.tap = tap
        self.lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.lsock.bind((HOST, 0))
        self.lsock.listen(1)
        self.lsock.settimeout(60)
        self.port = self.lsock.getsockname()[1]
        self.s2c = bytearray()
        self.c2s = bytearray()
        self.error = None
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _pump(self, src, dst, rec, to_server):
        try:
            while True:
                d = src.recv(65536)
                if not d:
                    break
                rec.extend(d)
                if self.tap:
                    if to_server:
                        d = self.tap.c2s(d)
                    else:
                        self.tap.s2c(d)
                if d:
                    dst.sendall(d)
        except OSError:
            pass
        try:
            dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def _run(self):
        try:
            c, _ = self.lsock.accept()
        except OSError as e:
            self.error = 'relay: no client connected: %s' % e
            self.done.set()
            return
        finally:
            self.lsock.close()
        try:
            s = socket.create_connection((HOST, self.target), timeout=10)
            s.settimeout(None)
        except OSError as e:
            self.error = 'relay: cannot reach the server: %s' % e
            c.close()
            self.done.set()
            return
        t = threading.Thread(target=self._pump, args=(s, c, self.s2c, False), daemon=True)
        t.start()
        self._pump(c, s, self.c2s, True)
        t.join(30)
        c.close()
        s.close()
        self.done.set()

    def wait(self, timeout=30):
        check(self.done.wait(timeout), 'relay: the connection did not end within %ds' % timeout)
        check(self.error is None, self.error or '')

    def close(self):
        try:
            self.lsock.close()
        except OSError:
            pass


class SaslPadFixer:
    """A Relay tap that follows the RFB 3.8 type-20 exchange in both
    directions and sets the last byte (the NUL pad) of each SASL data
    message of the client to 0, recording what the client really sent
    there, as QEMU <= 9.1 did on the server side.  Once the server has sent
    complete=1, everything passes unchanged (the SASL layer starts there)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.pads = []          # (data length incl. the pad, the pad byte the client sent)
        self.c_state, self.c_need = 'version', 12
        self.s_state, self.s_need = 'version', 12
        self.c_buf = bytearray()
        self.s_buf = bytearray()
        self.complete = False

    def s2c(self, chunk):
        if self.complete:
            return
        self.s_buf += chunk
        while not self.complete and self.s_need is not None and len(self.s_buf) >= self.s_need:
            part = bytes(self.s_buf[:self.s_need])
            del self.s_buf[:self.s_need]
            st = self.s_state
            if st == 'version':
                self.s_state, self.s_need = 'ntypes', 1
            elif st == 'ntypes':
                self.s_state, self.s_need = 'types', part[0]
            elif st == 'types':
                self.s_state, self.s_need = 'mechlen', 4
            elif st == 'mechlen':
                self.s_state, self.s_need = 'mechlist', struct.unpack('>I', part)[0]
            elif st in ('mechlist', 'sdata'):
                self.s_state, self.s_need = ('sdatalen', 4) if st == 'mechlist' else ('complete', 1)
            elif st == 'sdatalen':
                n = struct.unpack('>I', part)[0]
                self.s_state, self.s_need = ('sdata', n) if n else ('complete', 1)
            elif st == 'complete':
                if part[0] == 1:
                    with self.lock:
                        self.complete = True
                else:
                    self.s_state, self.s_need = 'sdatalen', 4

    def c2s(self, chunk):
        with self.lock:
            if self.complete and not self.c_buf:
                return chunk
        self.c_buf += chunk
        out = bytearray()
        while len(self.c_buf) >= self.c_need:
            part = bytes(self.c_buf[:self.c_need])
            del self.c_buf[:self.c_need]
            st = self.c_state
            if st == 'version':
                self.c_state, self.c_need = 'type', 1
            elif st == 'type':
                self.c_state, self.c_need = 'mechlen', 4
            elif st == 'mechlen':
                self.c_state, self.c_need = 'mech', struct.unpack('>I', part)[0]
            elif st == 'mech':
                self.c_state, self.c_need = 'datalen', 4
            elif st == 'datalen':
                n = struct.unpack('>I', part)[0]
                if n:
                    self.c_state, self.c_need = 'data', n
                else:
                    self.pads.append((0, None))
            elif st == 'data':
                self.pads.append((len(part), part[-1]))
                part = part[:-1] + b'\0'
                self.c_state, self.c_need = 'datalen', 4
            out += part
            with self.lock:
                if self.complete and self.c_state == 'datalen':
                    out += self.c_buf
                    self.c_buf.clear()
                    break
        return bytes(out)


def sasl_messages(c2s):
    """Parses a recorded client->server RFB 3.8 type-20 exchange: returns
    (mechname, [data messages as bytes or None])."""
    p = 13
    if len(c2s) < p + 4:
        return None, []
    n = struct.unpack('>I', c2s[p:p + 4])[0]
    mech = bytes(c2s[p + 4:p + 4 + n])
    p += 4 + n
    msgs = []
    while p + 4 <= len(c2s):
        n = struct.unpack('>I', c2s[p:p + 4])[0]
        if n > SASL_DATA_MAX or p + 4 + n > len(c2s):
            break
        msgs.append(bytes(c2s[p + 4:p + 4 + n]) if n else None)
        p += 4 + n
    return mech, msgs


# ---------------------------------------------------------------------------
# pixel runs for the capture check

def pixel_needles(w, h, rgb, count=8, run=64):
    """Byte patterns (regexes) of `run` consecutive pixels as gtk-vnc's
    x8r8g8b8 little-endian Raw rects carry them (B, G, R, padding byte), taken
    from `count` rows of the frame where the run is not a single colour."""
    needles = []
    rows = [h * (i + 1) // (count + 1) for i in range(count)]
    for y in rows:
        for x0 in (0, w // 2 - run // 2, w - run):
            px = [rgb[3 * (y * w + x):3 * (y * w + x) + 3] for x in range(x0, x0 + run)]
            if len(set(px)) < 8:
                continue
            pat = b''.join(re.escape(bytes((p[2], p[1], p[0]))) + b'.' for p in px)
            needles.append(((x0, y), re.compile(pat, re.DOTALL)))
            break
    return needles


def full_fbur(w, h):
    """The FramebufferUpdateRequest gtk-vnc sends for the whole frame."""
    return struct.pack('>BBHHHH', 3, 0, 0, 0, w, h)


def needles_found(needles, data):
    return [pos for pos, rx in needles if rx.search(data)]
