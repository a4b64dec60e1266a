#!/usr/bin/python3
"""gtk-vnc (GVnc 1.0 through python3-gi) as an independent real client.

Must run with /usr/bin/python3 (the interpreter that has gi).
Environment: QVNC_EMU, QVNC_TEST_HOST = paths of the binaries.
Set QVNC_GVNC_DEBUG=1 for gtk-vnc's protocol debug output.

pygobject cannot marshal gtk-vnc's GValueArray signal arguments nor pass a
framebuffer it keeps a pointer to (real-clients.md), so the auth signals and
the framebuffer go through ctypes on the same libgvnc the typelib loaded.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from qvnc_testlib import (Fail, Runner, check, start_emu, start_server, env_path, frame_dump,
                          compare_rgb, tmpdir)

try:
    import gi
    gi.require_version('GVnc', '1.0')
    from gi.repository import GVnc
except (ImportError, ValueError) as e:
    print('Bail out! GVnc 1.0 through python3-gi is not available to %s: %s' % (sys.executable, e))
    sys.exit(1)

W, H = 256, 160
NAME = 'gvnc-test'
PUMP_TIMEOUT = 20.0

ENC_RAW, ENC_HEXTILE, ENC_TIGHT, ENC_ZRLE = 0, 5, 7, 16   # gtk-vnc has no Zlib (6) decoder
ENC_EXT_KEY, ENC_DESKTOP_SIZE, ENC_EXT_DESKTOP_SIZE = -258, -223, -308

import gvnc_ctypes as gc  # noqa: E402  (after gi.require_version)
from gvnc_ctypes import CRED_PASSWORD, CRED_USERNAME  # noqa: E402

if os.environ.get('QVNC_GVNC_DEBUG'):
    GVnc.util_set_debug(True)


def pump_until(pred, timeout=PUMP_TIMEOUT, what='condition'):
    gc.pump_until(pred, timeout, what)


class Session:
    """One gtk-vnc connection with a ctypes framebuffer in x8r8g8b8 (LE)."""

    def __init__(self, port, password=None, encodings=(ENC_RAW,), label='gvnc'):
        self.label = label
        self.password = password
        self.encodings = list(encodings)
        self.auth_types = None
        self.cred_types = None
        self.initialized = False
        self.disconnected = False
        self.auth_failure = None
        self.auth_unsupported = False
        self.errors = []
        self.fb = None
        self.buf = None
        self.missing = None
        self.covered = None
        self.updates = 0
        self.conn = GVnc.Connection.new()
        self.ptr = gc.connection_pointer(self.conn)
        self._cb_type = gc.ARRAY_HANDLER(self._on_choose_type)
        self._cb_cred = gc.ARRAY_HANDLER(self._on_credential)
        gc.connect_signal(self.ptr, b'vnc-auth-choose-type', self._cb_type)
        gc.connect_signal(self.ptr, b'vnc-auth-credential', self._cb_cred)
        self.conn.connect('vnc-initialized', self._on_initialized)
        self.conn.connect('vnc-auth-failure', self._on_auth_failure)
        self.conn.connect('vnc-auth-unsupported', self._on_auth_unsupported)
        self.conn.connect('vnc-error', self._on_error)
        self.conn.connect('vnc-disconnected', self._on_disconnected)
        self.conn.connect('vnc-framebuffer-update', self._on_update)
        check(self.conn.open_host('127.0.0.1', str(port)), '%s: vnc_connection_open_host failed' % label)

    # -- signal handlers
    def _on_choose_type(self, conn, array, data):
        try:
            self.auth_types = gc.gvalue_array_enums(array)
        except Exception as e:  # keep the C stack safe
            self.errors.append('cannot read the auth type list: %s' % e)
            self.auth_types = []
        want = 2 if self.password is not None else 1
        gc.gvnc.vnc_connection_set_auth_type(self.ptr, want)

    def _on_credential(self, conn, array, data):
        try:
            self.cred_types = gc.gvalue_array_enums(array)
        except Exception as e:
            self.errors.append('cannot read the credential list: %s' % e)
            self.cred_types = [CRED_PASSWORD]
        for t in self.cred_types:
            if t == CRED_PASSWORD:
                gc.gvnc.vnc_connection_set_credential(self.ptr, CRED_PASSWORD, (self.password or '').encode())
            elif t == CRED_USERNAME:
                gc.gvnc.vnc_connection_set_credential(self.ptr, CRED_USERNAME, b'qvnc-test')
            else:
                self.errors.append('unexpected credential request %d' % t)

    def _on_initialized(self, conn):
        self.initialized = True
        w, h = conn.get_width(), conn.get_height()
        self.width, self.height = w, h
        self.buf, self.fb, self.fmt = gc.rgbx_framebuffer(self.ptr, w, h)
        gc.set_encodings(self.ptr, self.encodings)
        self.request_full()

    def _on_auth_failure(self, conn, reason):
        self.auth_failure = reason if reason is not None else ''

    def _on_auth_unsupported(self, conn, auth_type):
        self.auth_unsupported = True

    def _on_error(self, conn, message):
        self.errors.append(message)

    def _on_disconnected(self, conn):
        self.disconnected = True

    def _on_update(self, conn, x, y, w, h):
        self.updates += 1
        if self.covered is None:
            return
        for row in range(y, min(y + h, self.height)):
            off = row * self.width + x
            seg = self.covered[off:off + w]
            self.missing -= len(seg) - seg.count(1)
            self.covered[off:off + w] = b'\x01' * len(seg)

    # -- actions
    def request_full(self):
        self.covered = bytearray(self.width * self.height)
        self.missing = self.width * self.height
        self.conn.framebuffer_update_request(False, 0, 0, self.width, self.height)

    def wait_initialized(self):
        pump_until(lambda: self.initialized or self.disconnected or self.auth_failure is not None,
                   what='%s: vnc-initialized' % self.label)
        check(self.initialized, '%s: not initialized (auth failure %r, errors %r, disconnected %s)'
              % (self.label, self.auth_failure, self.errors, self.disconnected))

    def wait_frame(self):
        pump_until(lambda: (self.missing == 0) or self.disconnected,
                   what='%s: a full framebuffer (%s pixels missing)' % (self.label, self.missing))
        check(self.missing == 0, '%s: disconnected before the full frame arrived (errors %r)'
              % (self.label, self.errors))
        return gc.rgbx_to_rgb(self.buf)

    def close(self):
        if not self.disconnected:
            self.conn.shutdown()
            try:
                pump_until(lambda: self.disconnected, timeout=5, what='%s: vnc-disconnected' % self.label)
            except Fail:
                pass
        # self.buf and self.fb stay referenced by the module-level `sessions`
        # list, so gtk-vnc never writes into freed memory.


run = Runner('test_gvnc')
tmp = tmpdir('qvnc-gvnc-')
dump_path = os.path.join(tmp, 'frame.ppm')

try:
    emu, port = start_emu(['--guest', 'pattern', '--size', '%dx%d' % (W, H), '--frame-dump', dump_path],
                          prefix_args=['-name', NAME, '-S'], name='qvnc-emu(pattern)')
except Fail as e:
    run.fatal('cannot start qvnc-emu: %s' % e)
run.at_exit(emu.stop)

try:
    dw, dh, frame_rgb = frame_dump(emu, dump_path)
except Fail as e:
    run.fatal('no frame dump: %s' % e)
if (dw, dh) != (W, H):
    run.fatal('frame dump is %dx%d, expected %dx%d' % (dw, dh, W, H))

sessions = []


def session(*a, **kw):
    s = Session(*a, **kw)
    sessions.append(s)
    return s


def t_name_and_frame(encodings, what):
    def body():
        s = session(port, encodings=encodings, label='gvnc ' + what)
        s.wait_initialized()
        check(s.auth_types == [1], '%s: offered auth types %r, expected [1] (None)' % (what, s.auth_types))
        name = s.conn.get_name()
        check(name == 'QEMU (%s)' % NAME, '%s: desktop name %r, expected %r' % (what, name, 'QEMU (%s)' % NAME))
        check((s.width, s.height) == (W, H), '%s: size %dx%d, expected %dx%d' % (what, s.width, s.height, W, H))
        rgb = s.wait_frame()
        compare_rgb(W, H, frame_rgb, rgb, 'gtk-vnc frame (%s) vs frame dump' % what)
        check(not s.errors, '%s: vnc-error: %r' % (what, s.errors))
        s.close()
    return body


def t_keys_and_pointer_ext():
    s = session(port, encodings=[ENC_RAW, ENC_EXT_KEY], label='gvnc input (ext key)')
    s.wait_initialized()
    pump_until(lambda: s.conn.get_ext_key_event() or s.disconnected,
               what='the ExtendedKeyEvent ack (vnc_connection_get_ext_key_event)')
    check(s.conn.get_ext_key_event(), 'gtk-vnc never saw the -258 ack')
    start = emu.mark()
    s.conn.key_event(True, 0x61, 0x1e)
    s.conn.key_event(False, 0x61, 0x1e)
    s.conn.pointer_event(0x1, 40, 30)
    s.conn.pointer_event(0x0, 41, 31)
    found = {}

    def seen():
        for pat in (r'^INPUT key keysym=0x61 qnum=0x1e down=1$', r'^INPUT key keysym=0x61 qnum=0x1e down=0$',
                    r'^INPUT pointer x=40 y=30 buttons=0x1$', r'^INPUT pointer x=41 y=31 buttons=0x0$'):
            if pat not in found:
                r = emu.find(pat, start)
                if r:
                    found[pat] = r[0]
        return len(found) == 4
    try:
        pump_until(seen, what='INPUT lines for key a (qnum 0x1e) and two pointer events')
    except Fail as e:
        raise Fail('%s; seen %r\n%s' % (e, list(found), emu.describe()))
    check(found[r'^INPUT key keysym=0x61 qnum=0x1e down=1$'] < found[r'^INPUT key keysym=0x61 qnum=0x1e down=0$'],
          'key release arrived before key press')
    s.close()


def t_keys_plain():
    s = session(port, encodings=[ENC_RAW], label='gvnc input (plain)')
    s.wait_initialized()
    check(not s.conn.get_ext_key_event(), 'ext key event enabled though the client did not ask for it')
    start = emu.mark()
    s.conn.key_event(True, 0xff0d, 0x1c)
    s.conn.key_event(False, 0xff0d, 0x1c)
    pump_until(lambda: emu.find(r'^INPUT key keysym=0xff0d qnum=0x0 down=0$', start) is not None,
               what='INPUT lines for Return (plain KeyEvent, qnum 0)')
    check(emu.find(r'^INPUT key keysym=0xff0d qnum=0x0 down=1$', start) is not None, 'no key press line for Return')
    s.close()


# -------------------------------------------------------------- passwords via qvnc-test-host

host = host_port = None


def start_host():
    global host, host_port
    if host is None:
        host, host_port = start_server(lambda d: [env_path('QVNC_TEST_HOST'), '-vnc', '127.0.0.1:%d,password=on' % d],
                                       'qvnc-test-host')
        run.at_exit(host.stop)
        ans = host.command('password gvncpw1')
        check(ans == 'OK', 'password command answered %r' % ans)
    return host, host_port


def attempt(password, label):
    h, p = start_host()
    s = session(p, password=password, label=label)
    pump_until(lambda: s.initialized or s.auth_failure is not None or s.disconnected,
               what='%s: initialized or auth failure' % label)
    return s


def t_password_right():
    s = attempt('gvncpw1', 'gvnc right password')
    check(s.initialized, 'right password: not initialized (auth failure %r, errors %r)' % (s.auth_failure, s.errors))
    check(s.auth_types == [2], 'offered auth types %r, expected [2] (VNC)' % s.auth_types)
    check(s.cred_types == [CRED_PASSWORD], 'credentials asked %r, expected [password]' % s.cred_types)
    rgb = s.wait_frame()
    compare_rgb(64, 48, bytes([0x33, 0x66, 0x99]) * (64 * 48), rgb, 'test host solid surface')
    s.close()


def t_password_wrong():
    s = attempt('gvncpw2', 'gvnc wrong password')
    check(not s.initialized, 'wrong password: initialized anyway')
    pump_until(lambda: s.auth_failure is not None or s.disconnected, what='vnc-auth-failure')
    check(s.auth_failure is not None, 'wrong password: no vnc-auth-failure signal (errors %r)' % s.errors)
    check('Authentication failed' in s.auth_failure, 'auth failure reason %r, expected "Authentication failed"'
          % s.auth_failure)
    s.close()


def t_password_expired():
    h, _ = start_host()
    check(h.command('expire now') == 'OK', 'expire now failed')
    try:
        s = attempt('gvncpw1', 'gvnc expired password')
        check(not s.initialized, 'expired password: initialized anyway')
        pump_until(lambda: s.auth_failure is not None or s.disconnected, what='vnc-auth-failure')
        check(s.auth_failure is not None and 'Authentication failed' in s.auth_failure,
              'expired password: auth failure %r (errors %r)' % (s.auth_failure, s.errors))
        s.close()
    finally:
        h.command('expire never')
    s = attempt('gvncpw1', 'gvnc after expire never')
    check(s.initialized, 'after expire never: not initialized (auth failure %r)' % s.auth_failure)
    s.close()


# -------------------------------------------------------------- console guest

def t_console_hello():
    cons, cport = start_emu(['--guest', 'console', '--size', '640x400'], name='qvnc-emu(console)')
    try:
        s = session(cport, encodings=[ENC_ZRLE, ENC_HEXTILE, ENC_RAW, ENC_DESKTOP_SIZE], label='gvnc console')
        s.wait_initialized()
        check(s.conn.get_name() == 'QEMU', 'console desktop name %r, expected QEMU' % s.conn.get_name())
        s.wait_frame()
        before = s.updates
        s.conn.framebuffer_update_request(True, 0, 0, s.width, s.height)
        start = cons.mark()
        for ch in 'hello':
            s.conn.key_event(True, ord(ch), 0)
            s.conn.key_event(False, ord(ch), 0)
        pats = []
        for ch in 'hello':
            pats.append(r'^INPUT key keysym=0x%x qnum=0x0 down=1$' % ord(ch))
            pats.append(r'^INPUT key keysym=0x%x qnum=0x0 down=0$' % ord(ch))

        def all_seen():
            i = start
            for p in pats:
                r = cons.find(p, i)
                if not r:
                    return False
                i = r[0] + 1
            return True
        try:
            pump_until(all_seen, what='10 INPUT key lines for "hello" in order')
        except Fail as e:
            raise Fail('%s\n%s' % (e, cons.describe()))
        # The console guest draws what it receives: the incremental request
        # must be answered with changed pixels.
        pump_until(lambda: s.updates > before or s.disconnected,
                   what='an incremental update after typing on the console')
        check(s.updates > before, 'no incremental update after typing (errors %r)' % s.errors)
        s.close()
        check(cons.alive(), 'console qvnc-emu died\n' + cons.describe())
    finally:
        cons.stop()


run.case('auth None, name, full frame via Raw', t_name_and_frame([ENC_RAW], 'Raw'))
run.case('full frame via Hextile', t_name_and_frame([ENC_HEXTILE, ENC_RAW], 'Hextile'))
run.case('full frame via Tight', t_name_and_frame([ENC_TIGHT, ENC_RAW], 'Tight'))
run.case('full frame via ZRLE', t_name_and_frame([ENC_ZRLE, ENC_RAW], 'ZRLE'))
run.case('key (ext key event) and pointer events reach qvnc-emu', t_keys_and_pointer_ext)
run.case('plain key events reach qvnc-emu', t_keys_plain)
run.case('VNC password right: initialized', t_password_right)
run.case('VNC password wrong: vnc-auth-failure', t_password_wrong)
run.case('VNC password expired: vnc-auth-failure', t_password_expired)
run.case('console guest: typing "hello"', t_console_hello)
run.case('qvnc-emu still alive', lambda: check(emu.alive(), 'qvnc-emu died\n' + emu.describe()))
run.finish()
