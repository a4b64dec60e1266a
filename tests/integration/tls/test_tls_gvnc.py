#!/usr/bin/python3
"""gtk-vnc (GVnc 1.0 through python3-gi) over VeNCrypt: X509None and X509Vnc
with client certificates, TLSNone and TLSVnc with anonymous credentials.

Must run with /usr/bin/python3 (the interpreter that has gi).
Environment: QVNC_EMU. Set QVNC_GVNC_DEBUG=1 for gtk-vnc's debug output.

gtk-vnc 1.3.1 has no API for certificate paths: for x509 sub-types it asks
for a CLIENTNAME credential and reads CA/cacert.pem, <name>/clientcert.pem
and <name>/private/clientkey.pem under /etc/pki, then under <home>/.pki,
where <home> comes from getpwuid(), not $HOME (real-clients.md). So this
script re-runs itself under `unshare -m` with a private copy of /etc/passwd
bind-mounted over the real one, whose entry for the user points the home at a
temp dir that holds the test PKI (and an empty dir over /etc/pki if that
exists). Nothing outside /tmp is written or hidden from other processes.
If no mount namespace can be made, the anonymous cases still run and the
script exits 77 (skip) when they pass.
"""

import os
import pwd
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

NS_FLAG = 'QVNC_TLS_GVNC_NS'
HOME_VAR = 'QVNC_TLS_GVNC_HOME'


def _reexec_in_namespace():
    """Outer process: make the fake home and passwd, run ourselves inside a
    private mount namespace. Returns the exit status, or None if no namespace
    could be made (the caller then runs without the x509 cases)."""
    unshare = shutil.which('unshare')
    if not unshare:
        print('# unshare(1) is not installed: x509 cases cannot isolate gtk-vnc\'s certificate paths')
        return None
    work = tempfile.mkdtemp(prefix='qvnc-tls-gvnc-ns-')
    try:
        home = os.path.join(work, 'home')
        empty = os.path.join(work, 'empty')
        os.makedirs(home)
        os.makedirs(empty)
        as_root = os.getuid() == 0
        inner_uid = os.getuid() if as_root else 0       # unshare -r maps us to root
        passwd = os.path.join(work, 'passwd')
        with open('/etc/passwd') as f:
            lines = f.read().splitlines()
        out, found = [], False
        for line in lines:
            fields = line.split(':')
            if len(fields) >= 7 and fields[2] == str(inner_uid) and not found:
                fields[5] = home
                found = True
            out.append(':'.join(fields))
        if not found:
            out.append('qvnc:x:%d:%d:qvnc test:%s:/bin/sh' % (inner_uid, inner_uid, home))
        with open(passwd, 'w') as f:
            f.write('\n'.join(out) + '\n')
        script = ('mount --bind "$1" /etc/passwd || exit 97; '
                  'if [ -d /etc/pki ]; then mount --bind "$2" /etc/pki || exit 97; fi; '
                  'shift 2; exec "$@"')
        ns = [unshare, '-m', '--propagation', 'private'] + ([] if as_root else ['-r'])
        probe = subprocess.run(ns + ['/bin/sh', '-c', script, 'sh', passwd, empty, '/bin/true'],
                               capture_output=True, text=True)
        if probe.returncode != 0:
            print('# cannot make a private mount namespace (%s exit %d: %s): x509 cases are skipped'
                  % (' '.join(ns), probe.returncode, probe.stderr.strip()))
            return None
        env = dict(os.environ)
        env[NS_FLAG] = '1'
        env[HOME_VAR] = home
        p = subprocess.run(ns + ['/bin/sh', '-c', script, 'sh', passwd, empty, sys.executable,
                                 os.path.abspath(__file__)], env=env)
        return p.returncode
    finally:
        shutil.rmtree(work, ignore_errors=True)


if os.environ.get(NS_FLAG) != '1':
    rc = _reexec_in_namespace()
    if rc is not None:
        sys.exit(rc)
    os.environ[NS_FLAG] = 'none'       # run here, anonymous cases only

from tls_common import (Fail, check, start_tls_emu, err_mark, wait_client_closed, wait_err,  # noqa: E402
                        TLS_NONE, TLS_VNC, X509_NONE, X509_VNC)
from qvnc_testlib import Runner, frame_dump, compare_rgb, tmpdir  # noqa: E402
import tls_pki  # noqa: E402

try:
    import gi
    gi.require_version('GVnc', '1.0')
    from gi.repository import GVnc
except (ImportError, ValueError) as e:
    print('Bail out! GVnc 1.0 through python3-gi is not available to %s: %s' % (sys.executable, e))
    sys.exit(1)

W, H = 240, 136
PASSWORD = 'gv-tls-1'
PUMP_TIMEOUT = 20.0
X509_OK = os.environ.get(NS_FLAG) == '1'

AUTH_VNC, AUTH_VENCRYPT = 2, 19
ENC_RAW = 0

import gvnc_ctypes as gc  # noqa: E402  (after gi.require_version)
from gvnc_ctypes import CRED_PASSWORD, CRED_USERNAME, CRED_CLIENTNAME  # noqa: E402

if os.environ.get('QVNC_GVNC_DEBUG'):
    GVnc.util_set_debug(True)


def pump_until(pred, timeout=PUMP_TIMEOUT, what='condition'):
    gc.pump_until(pred, timeout, what)


class Session:
    """A gtk-vnc connection that negotiates VeNCrypt: sub-type `subtype`,
    client name `clientname` for x509, VNC password `password`."""

    def __init__(self, port, subtype, clientname=None, password=None, label='gvnc'):
        self.label, self.subtype, self.clientname, self.password = label, subtype, clientname, password
        self.auth_types = self.subtypes = self.cred_types = None
        self.initialized = self.disconnected = False
        self.auth_failure = None
        self.errors = []
        self.buf = self.fb = self.covered = None
        self.missing = None
        self.conn = GVnc.Connection.new()
        self.ptr = gc.connection_pointer(self.conn)
        self._cbs = [gc.ARRAY_HANDLER(self._on_choose_type), gc.SUBTYPE_HANDLER(self._on_choose_subtype),
                     gc.ARRAY_HANDLER(self._on_credential)]
        for name, cb in zip((b'vnc-auth-choose-type', b'vnc-auth-choose-subtype', b'vnc-auth-credential'),
                            self._cbs):
            gc.connect_signal(self.ptr, name, cb)
        self.conn.connect('vnc-initialized', self._on_initialized)
        self.conn.connect('vnc-auth-failure', self._on_auth_failure)
        self.conn.connect('vnc-error', lambda c, m: self.errors.append(m))
        self.conn.connect('vnc-disconnected', self._on_disconnected)
        self.conn.connect('vnc-framebuffer-update', self._on_update)
        check(self.conn.open_host('127.0.0.1', str(port)), '%s: vnc_connection_open_host failed' % label)
        sessions.append(self)

    def _on_choose_type(self, conn, array, data):
        try:
            self.auth_types = gc.gvalue_array_enums(array)
        except Exception as e:
            self.errors.append('cannot read the auth type list: %s' % e)
        gc.gvnc.vnc_connection_set_auth_type(self.ptr, AUTH_VENCRYPT)

    def _on_choose_subtype(self, conn, auth_type, array, data):
        try:
            self.subtypes = gc.gvalue_array_enums(array)
        except Exception as e:
            self.errors.append('cannot read the sub-type list: %s' % e)
        gc.gvnc.vnc_connection_set_auth_subtype(self.ptr, self.subtype)

    def _on_credential(self, conn, array, data):
        try:
            asked = gc.gvalue_array_enums(array)
        except Exception as e:
            self.errors.append('cannot read the credential list: %s' % e)
            asked = []
        # gtk-vnc asks once per layer (CLIENTNAME for TLS, PASSWORD for VNC).
        self.cred_types = (self.cred_types or []) + asked
        for t in asked:
            if t == CRED_PASSWORD:
                gc.gvnc.vnc_connection_set_credential(self.ptr, CRED_PASSWORD, (self.password or '').encode())
            elif t == CRED_CLIENTNAME:
                gc.gvnc.vnc_connection_set_credential(self.ptr, CRED_CLIENTNAME, (self.clientname or 'none').encode())
            elif t == CRED_USERNAME:
                gc.gvnc.vnc_connection_set_credential(self.ptr, CRED_USERNAME, b'qvnc-test')

    def _on_initialized(self, conn):
        self.initialized = True
        self.width, self.height = conn.get_width(), conn.get_height()
        self.buf, self.fb, self.fmt = gc.rgbx_framebuffer(self.ptr, self.width, self.height)
        gc.set_encodings(self.ptr, [ENC_RAW])
        self.covered = bytearray(self.width * self.height)
        self.missing = self.width * self.height
        conn.framebuffer_update_request(False, 0, 0, self.width, self.height)

    def _on_auth_failure(self, conn, reason):
        self.auth_failure = reason if reason is not None else ''

    def _on_disconnected(self, conn):
        self.disconnected = True

    def _on_update(self, conn, x, y, w, h):
        if self.covered is None:
            return
        for row in range(y, min(y + h, self.height)):
            off = row * self.width + x
            seg = self.covered[off:off + w]
            self.missing -= len(seg) - seg.count(1)
            self.covered[off:off + w] = b'\x01' * len(seg)

    def settle(self):
        pump_until(lambda: self.initialized or self.disconnected or self.auth_failure is not None,
                   what='%s: initialized, auth failure or disconnect' % self.label)

    def wait_initialized(self):
        self.settle()
        check(self.initialized, '%s: not initialized (auth failure %r, errors %r, disconnected %s)'
              % (self.label, self.auth_failure, self.errors, self.disconnected))

    def wait_frame(self):
        pump_until(lambda: self.missing == 0 or self.disconnected,
                   what='%s: a full framebuffer (%s pixels missing)' % (self.label, self.missing))
        check(self.missing == 0, '%s: disconnected before the full frame (errors %r)' % (self.label, self.errors))
        return gc.rgbx_to_rgb(self.buf)

    def close(self):
        if not self.disconnected:
            self.conn.shutdown()
            try:
                pump_until(lambda: self.disconnected, timeout=5, what='%s: vnc-disconnected' % self.label)
            except Fail:
                pass


sessions = []   # keeps buffers and callbacks alive as long as gtk-vnc may use them

# --------------------------------------------------------------------------- setup

run = Runner('test_tls_gvnc')
tmp = tmpdir('qvnc-tls-gvnc-')
run.at_exit(lambda: shutil.rmtree(tmp, ignore_errors=True))   # runs last
try:
    pki = tls_pki.make_pki(os.path.join(tmp, 'pki'))
except tls_pki.PkiError as e:
    run.fatal(str(e))

if X509_OK:
    home = os.environ[HOME_VAR]
    real_home = pwd.getpwuid(os.getuid()).pw_dir
    if os.path.realpath(real_home) != os.path.realpath(home):
        run.fatal('inside the namespace getpwuid() still says home %s, expected %s' % (real_home, home))
    if os.path.exists('/etc/pki/CA/cacert.pem'):
        run.fatal('/etc/pki/CA/cacert.pem is visible inside the namespace; gtk-vnc would use it')
    pki_home = os.path.join(home, '.pki')
    os.makedirs(os.path.join(pki_home, 'CA'))
    shutil.copyfile(pki.ca_cert, os.path.join(pki_home, 'CA', 'cacert.pem'))
    for name in tls_pki.CLIENTS:
        os.makedirs(os.path.join(pki_home, name, 'private'))
        shutil.copyfile(pki.client_cert(name), os.path.join(pki_home, name, 'clientcert.pem'))
        shutil.copyfile(pki.client_key(name), os.path.join(pki_home, name, 'private', 'clientkey.pem'))
else:
    print('# x509 cases skipped: no private mount namespace for gtk-vnc\'s fixed certificate paths')

servers = {}


def server(key, vnc_opts, objects, dump=None):
    if key not in servers:
        try:
            proc, port = start_tls_emu(vnc_opts, objects, name='qvnc-emu(%s)' % key, size='%dx%d' % (W, H),
                                       frame_dump=dump)
        except Fail as e:
            raise Fail('cannot start qvnc-emu for %s: %s' % (key, e))
        run.at_exit(proc.stop)
        servers[key] = (proc, port)
    return servers[key]


def x509_obj(verify):
    return 'tls-creds-x509,id=tls0,dir=%s,endpoint=server,verify-peer=%s' % (pki.creds_dir('good'),
                                                                             'on' if verify else 'off')


ANON_OBJ = 'tls-creds-anon,id=tls0,endpoint=server'
PW_OBJ = 'secret,id=pw,data=' + PASSWORD
dump_path = os.path.join(tmp, 'frame.ppm')
frame = {}


def reference_frame(proc):
    if 'rgb' not in frame:
        dw, dh, rgb = frame_dump(proc, dump_path)
        check((dw, dh) == (W, H), 'frame dump %dx%d, expected %dx%d' % (dw, dh, W, H))
        frame['rgb'] = rgb
    return frame['rgb']


def srv_x509none():
    return server('X509None', 'tls-creds=tls0', [x509_obj(True)], dump_path)


def srv_x509vnc():
    return server('X509Vnc', 'tls-creds=tls0,password-secret=pw', [x509_obj(True), PW_OBJ])


def srv_tlsnone():
    return server('TLSNone', 'tls-creds=tls0', [ANON_OBJ])


def srv_tlsvnc():
    return server('TLSVnc', 'tls-creds=tls0,password-secret=pw', [ANON_OBJ, PW_OBJ])


# --------------------------------------------------------------------------- cases

def session_ok(proc, port, subtype, clientname, password, label, dn):
    start = proc.mark()
    estart = err_mark(proc)
    s = Session(port, subtype, clientname, password, label)
    s.wait_initialized()
    check(s.auth_types == [AUTH_VENCRYPT], '%s: auth types %r, expected [19]' % (label, s.auth_types))
    check(s.subtypes == [subtype], '%s: VeNCrypt sub-types %r, expected [%d]' % (label, s.subtypes, subtype))
    want_creds = set()
    if subtype in (X509_NONE, X509_VNC):
        want_creds.add(CRED_CLIENTNAME)
    if subtype in (X509_VNC, TLS_VNC):
        want_creds.add(CRED_PASSWORD)
    check(sorted(s.cred_types or []) == sorted(want_creds), '%s: credentials asked %r, expected %r'
          % (label, s.cred_types, sorted(want_creds)))
    check(s.conn.get_name() == 'QEMU (tls-test)', '%s: desktop name %r' % (label, s.conn.get_name()))
    rgb = s.wait_frame()
    compare_rgb(W, H, reference_frame(srv_x509none()[0]), rgb, '%s: gtk-vnc frame vs frame dump' % label)
    _, m = proc.wait_line(r'^CLIENT initialized host=127\.0\.0\.1 .*$', start=start, what='CLIENT initialized')
    line = m.group(0)
    if dn:
        check(line.endswith(' x509-dname=' + dn), '%s: CLIENT line lacks x509-dname=%s: %s' % (label, dn, line))
        wait_err(proc, r'TLS established, client %s$' % dn.replace('.', r'\.'), estart,
                 what='TLS established log line with the DN')
    else:
        check('x509-dname' not in line, '%s: unexpected DN: %s' % (label, line))
    check(not s.errors, '%s: vnc-error: %r' % (label, s.errors))
    return s


def need_x509():
    if not X509_OK:
        raise Skip()


class Skip(Exception):
    pass


def t_x509none(clientname, dn):
    def body():
        need_x509()
        proc, port = srv_x509none()
        s = session_ok(proc, port, X509_NONE, clientname, None, 'gvnc X509None ' + clientname, dn)
        start = proc.mark()
        s.conn.key_event(True, 0x71, 0x10)
        s.conn.key_event(False, 0x71, 0x10)
        pump_until(lambda: proc.find(r'^INPUT key keysym=0x71 qnum=0x[0-9a-f]+ down=0$', start) is not None,
                   what='INPUT lines for "q" typed through TLS')
        s.close()
    return body


def t_x509_refused(clientname, reason_rx):
    def body():
        need_x509()
        proc, port = srv_x509none()
        estart = err_mark(proc)
        start = proc.mark()
        s = Session(port, X509_NONE, clientname, None, 'gvnc X509None ' + clientname)
        s.settle()
        check(not s.initialized, '%s: gtk-vnc with client certificate %s got in' % (s.label, clientname))
        pump_until(lambda: s.disconnected, what='%s: disconnect' % s.label)
        _, m = proc.wait_line(r'^CLIENT connected host=127\.0\.0\.1 service=(\d+)$', start=start,
                              what='CLIENT connected for %s' % s.label)
        print('# gtk-vnc errors for %s: %r' % (clientname, s.errors))
        wait_client_closed(proc, int(m.group(1)), estart, reason_rx, 'gvnc ' + clientname)
        # The server serves on.
        session_ok(proc, port, X509_NONE, 'alice', None, 'gvnc alice afterwards', 'C=GB,O=Example,CN=alice').close()
    return body


def t_x509vnc(right):
    def body():
        need_x509()
        proc, port = srv_x509vnc()
        if right:
            session_ok(proc, port, X509_VNC, 'bob', PASSWORD, 'gvnc X509Vnc bob', 'C=GB,O=Example,CN=bob').close()
            return
        s = Session(port, X509_VNC, 'bob', 'wrong-pw', 'gvnc X509Vnc wrong password')
        s.settle()
        check(not s.initialized, 'wrong password: initialized anyway')
        pump_until(lambda: s.auth_failure is not None or s.disconnected, what='vnc-auth-failure')
        check(s.auth_failure is not None and 'Authentication failed' in s.auth_failure,
              'wrong password: auth failure %r (errors %r)' % (s.auth_failure, s.errors))
        s.close()
    return body


def t_tlsnone():
    proc, port = srv_tlsnone()
    s = session_ok(proc, port, TLS_NONE, None, None, 'gvnc TLSNone', None)
    s.close()


def t_tlsvnc(right):
    def body():
        proc, port = srv_tlsvnc()
        if right:
            session_ok(proc, port, TLS_VNC, None, PASSWORD, 'gvnc TLSVnc', None).close()
            return
        s = Session(port, TLS_VNC, None, 'nope', 'gvnc TLSVnc wrong password')
        s.settle()
        check(not s.initialized, 'wrong password: initialized anyway')
        pump_until(lambda: s.auth_failure is not None or s.disconnected, what='vnc-auth-failure')
        check(s.auth_failure is not None and 'Authentication failed' in s.auth_failure,
              'wrong password: auth failure %r (errors %r)' % (s.auth_failure, s.errors))
        s.close()
    return body


skipped = []


def case(name, fn):
    def body():
        try:
            fn()
        except Skip:
            skipped.append(name)
            print('# SKIP %s: no mount namespace for gtk-vnc\'s certificate paths' % name)
    run.case(name, body)


case('X509None verify-peer: alice, frame equals dump, DN, key through TLS',
     t_x509none('alice', 'C=GB,O=Example,CN=alice'))
case('X509None verify-peer: bob, his own DN', t_x509none('bob', 'C=GB,O=Example,CN=bob'))
case('X509None: client cert from an untrusted CA -> refused, server serves on',
     # gnutls on the client only presents a certificate whose issuer is in the
     # server's CertificateRequest list, so the server usually sees none.
     t_x509_refused('mallory', r'^TLS (client certificate rejected: .*(known issuer|not trusted)'
                               r'|handshake failed: .*([Cc]ertificate is required|No certificate was found))'))
case('X509None: expired client cert -> refused',
     t_x509_refused('expired', r'^TLS client certificate rejected: The certificate has expired'))
case('X509None: not-yet-valid client cert -> refused',
     t_x509_refused('future', r'^TLS client certificate rejected: The certificate is not yet activated'))
case('X509Vnc: bob + right password, frame', t_x509vnc(True))
case('X509Vnc: wrong password -> vnc-auth-failure', t_x509vnc(False))
case('TLSNone (anonymous): frame equals dump', t_tlsnone)
case('TLSVnc (anonymous): right password, frame', t_tlsvnc(True))
case('TLSVnc: wrong password -> vnc-auth-failure', t_tlsvnc(False))
case('servers still alive', lambda: check(all(p.alive() for p, _ in servers.values()),
                                          'a server died\n' + '\n'.join(p.describe() for p, _ in servers.values())))

if skipped and not run.failures:
    for fn in reversed(run.cleanups):
        fn()
    print('%d x509 cases skipped (no mount namespace); the others passed' % len(skipped))
    sys.exit(77)
run.finish()
