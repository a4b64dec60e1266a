#!/usr/bin/python3
"""gtk-vnc (GVnc 1.0 through python3-gi) as a real client, one process per login.

Two halves:

* run_gvnc(...) (no gi needed) starts this file as a child process under
  /usr/bin/python3 with gtk-vnc's debug log on, waits for it and returns a
  GvncResult: what the client saw (auth types offered, credentials asked,
  initialized or the failure reason, desktop name and size), the frame it
  received (as a PPM file) and what gtk-vnc's debug log says about SASL
  (mechanism list, chosen mechanism, SSF).  A child per login keeps each
  login's environment (KRB5CCNAME, KRB5_CONFIG, ...) its own, and lets the
  x509 cases run the client in a private mount namespace where a temporary
  directory hides the home (gtk-vnc 1.3.1 reads its certificates from
  <home>/.pki with no API to point it elsewhere; real-clients.md).

* HeldSession(...) is the same login kept connected until finish(), for
  checks made while the client is there (the monitor's info vnc).

* Run as a program, it is that child:
    gvnc_client.py --port P [--host H] [--auth T] [--subauth S] [--user U]
                   [--password PW] [--clientname N] [--frame OUT.ppm]
                   [--timeout S] [--hold]
  and prints one line `RESULT {json}` on stdout before it exits (with
  --hold, `HELD` once initialized; it then stays until stdin closes).

pygobject cannot marshal the GValueArray arguments of gtk-vnc's auth signals
nor hand over a framebuffer it keeps a pointer to, so those go through ctypes
on the libgvnc that the typelib loaded (real-clients.md).
"""

import json
import os
import pwd
import re
import shutil
import subprocess
import sys
import threading
import time

PYTHON = '/usr/bin/python3'   # the interpreter that has gi (real-clients.md)
HERE = os.path.abspath(__file__)

CRED_PASSWORD, CRED_USERNAME, CRED_CLIENTNAME = 0, 1, 2
AUTH_NONE, AUTH_VNC, AUTH_VENCRYPT, AUTH_SASL = 1, 2, 19, 20
X509_SASL, TLS_SASL = 263, 264


class GvncError(Exception):
    """The child could not be run or gave no result."""


class GvncResult:
    def __init__(self, data, stdout, stderr, returncode, argv):
        self.data = data
        self.stdout = stdout
        self.stderr = stderr
        self.returncode = returncode
        self.argv = argv
        self.initialized = bool(data.get('initialized'))
        self.auth_types = data.get('auth_types')
        self.subauth_types = data.get('subauth_types')
        self.cred_types = data.get('cred_types')
        self.auth_failure = data.get('auth_failure')
        self.errors = data.get('errors') or []
        self.disconnected = data.get('disconnected')
        self.name = data.get('name')
        self.width = data.get('width')
        self.height = data.get('height')
        self.frame = data.get('frame')
        self.frame_error = data.get('frame_error')
        # GLib writes debug messages to stdout, warnings to stderr.
        dbg = [l for l in (stdout + '\n' + stderr).splitlines() if 'gtk-vnc-DEBUG' in l]
        self.debug = dbg
        self.ssf = None
        self.mechlist = None
        self.mech = None
        self.sasl_complete = False
        for l in dbg:
            m = re.search(r'SASL SSF value (\d+)', l)
            if m:
                self.ssf = int(m.group(1))
            m = re.search(r"Client start negotiation mechlist '([^']*)'", l)
            if m:
                self.mechlist = m.group(1)
            m = re.search(r'Server start negotiation with mech (\S+)\.', l)
            if m:
                self.mech = m.group(1)
            if 'SASL authentication complete' in l:
                self.sasl_complete = True

    def summary(self):
        return ('initialized=%s auth_types=%s subauth=%s creds=%s auth_failure=%r errors=%r '
                'mechlist=%r mech=%r ssf=%r' % (self.initialized, self.auth_types, self.subauth_types,
                                                self.cred_types, self.auth_failure, self.errors,
                                                self.mechlist, self.mech, self.ssf))

    def debug_tail(self, n=30, pattern=None):
        lines = self.debug
        if pattern:
            lines = [l for l in lines if re.search(pattern, l)]
        # Strip the "(process:N): gtk-vnc-DEBUG: time: file" prefix.
        out = [re.sub(r'^\(process:\d+\): gtk-vnc-DEBUG: [0-9:.]+: \S+ ', '', l) for l in lines[-n:]]
        other = [l for l in self.stderr.splitlines() if 'gtk-vnc-DEBUG' not in l][-10:]
        return '\n'.join(['    [gtk-vnc] ' + l[:300] for l in out] + ['    [gvnc stderr] ' + l for l in other])

    def describe(self):
        return '%s\n%s' % (self.summary(), self.debug_tail())


def pki_home_dir(root, ca_cert, clients):
    """Lays out <root>/.pki as gtk-vnc reads it: CA/cacert.pem and, for each
    (name, cert, key), name/clientcert.pem and name/private/clientkey.pem.
    Returns root (to be mounted over the home)."""
    pki = os.path.join(root, '.pki')
    os.makedirs(os.path.join(pki, 'CA'), exist_ok=True)
    shutil.copyfile(ca_cert, os.path.join(pki, 'CA', 'cacert.pem'))
    for name, cert, key in clients:
        os.makedirs(os.path.join(pki, name, 'private'), exist_ok=True)
        shutil.copyfile(cert, os.path.join(pki, name, 'clientcert.pem'))
        shutil.copyfile(key, os.path.join(pki, name, 'private', 'clientkey.pem'))
    return root


def _command(port, host, auth, subauth, user, password, clientname, frame, timeout, env, home, hold):
    argv = [PYTHON, HERE, '--port', str(port), '--host', host, '--timeout', str(timeout)]
    for opt, val in (('--auth', auth), ('--subauth', subauth), ('--user', user), ('--password', password),
                     ('--clientname', clientname), ('--frame', frame)):
        if val is not None:
            argv += [opt, str(val)]
    if hold:
        argv.append('--hold')
    cenv = dict(os.environ)
    cenv['G_MESSAGES_DEBUG'] = 'gtk-vnc'
    cenv['PYTHONDONTWRITEBYTECODE'] = '1'
    cenv.update(env or {})
    if home is not None:
        unshare = shutil.which('unshare')
        if not unshare:
            raise GvncError('unshare(1) is not installed: cannot give gtk-vnc a private ~/.pki')
        user_home = pwd.getpwuid(os.getuid()).pw_dir
        empty = os.path.join(home, '.empty-etc-pki')
        os.makedirs(empty, exist_ok=True)
        script = ('mount --bind "$1" "$2" || exit 97; '
                  'if [ -d /etc/pki ]; then mount --bind "$3" /etc/pki || exit 97; fi; '
                  'shift 3; exec "$@"')
        argv = [unshare, '-m', '--propagation', 'private', 'sh', '-c', script, 'sh', home, user_home,
                empty] + argv
    return argv, cenv


def _result(stdout, stderr, returncode, argv):
    if returncode == 97:
        raise GvncError('cannot make a private mount namespace for gtk-vnc\'s ~/.pki (unshare -m, mount '
                        '--bind): %s' % stderr.strip()[-2000:])
    data = None
    for line in stdout.splitlines():
        if line.startswith('RESULT '):
            data = json.loads(line[7:])
    if data is None:
        raise GvncError('gtk-vnc client gave no RESULT (exit %s)\n  stdout: %s\n  stderr tail:\n%s'
                        % (returncode, stdout.strip()[-2000:], '\n'.join(stderr.splitlines()[-40:])))
    return GvncResult(data, stdout, stderr, returncode, argv)


def run_gvnc(port, host='127.0.0.1', auth=None, subauth=None, user=None, password=None, clientname=None,
             frame=None, timeout=20.0, env=None, home=None):
    """Runs one gtk-vnc login in a child process. Returns a GvncResult.

    env: extra environment for the client (e.g. KRB5CCNAME).  home: a
    directory to mount over the user's home (getpwuid) in a private mount
    namespace, for the x509 certificate paths; if /etc/pki exists an empty
    directory is mounted over it too, so only the test PKI is seen."""
    argv, cenv = _command(port, host, auth, subauth, user, password, clientname, frame, timeout, env, home,
                          False)
    try:
        p = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True, env=cenv,
                           timeout=timeout + 20, errors='replace')
    except subprocess.TimeoutExpired as e:
        raise GvncError('gtk-vnc client did not exit within %.0fs: %s\n%s'
                        % (timeout + 20, ' '.join(argv), (e.stderr or '')[-3000:] if isinstance(e.stderr, str)
                           else ''))
    return _result(p.stdout, p.stderr, p.returncode, argv)


class HeldSession:
    """A gtk-vnc login that stays connected: wait_held() returns once the
    client is initialized (True) or has failed (False); finish() closes its
    stdin, which makes it disconnect, and returns the GvncResult."""

    def __init__(self, port, timeout=20.0, **kw):
        self.timeout = timeout
        argv, cenv = _command(port, kw.pop('host', '127.0.0.1'), kw.pop('auth', None), kw.pop('subauth', None),
                              kw.pop('user', None), kw.pop('password', None), kw.pop('clientname', None),
                              kw.pop('frame', None), timeout, kw.pop('env', None), kw.pop('home', None), True)
        if kw:
            raise TypeError('unknown arguments %r' % list(kw))
        self.argv = argv
        self.p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  env=cenv, text=True, errors='replace')
        self.out = []
        self.err = []
        self.cond = threading.Condition()
        self.eof = False
        self.t_out = threading.Thread(target=self._read, args=(self.p.stdout, self.out, True), daemon=True)
        self.t_err = threading.Thread(target=self._read, args=(self.p.stderr, self.err, False), daemon=True)
        self.t_out.start()
        self.t_err.start()

    def _read(self, stream, sink, is_out):
        for line in iter(stream.readline, ''):
            with self.cond:
                sink.append(line)
                self.cond.notify_all()
        with self.cond:
            if is_out:
                self.eof = True
            self.cond.notify_all()

    def wait_held(self):
        deadline = time.monotonic() + self.timeout + 10
        with self.cond:
            while True:
                if any(l.startswith('HELD') for l in self.out):
                    return True
                if self.eof or any(l.startswith('RESULT ') for l in self.out):
                    return False
                left = deadline - time.monotonic()
                if left <= 0:
                    raise GvncError('held gtk-vnc client: neither HELD nor RESULT within %.0fs' % self.timeout)
                self.cond.wait(left)

    def finish(self):
        try:
            self.p.stdin.close()
        except OSError:
            pass
        try:
            self.p.wait(self.timeout + 10)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
        self.t_out.join(5)
        self.t_err.join(5)
        return _result(''.join(self.out), ''.join(self.err), self.p.returncode, self.argv)


# ---------------------------------------------------------------------------
# the child


def _child(args):
    import argparse

    ap = argparse.ArgumentParser()
    ap.add_argument('--port', type=int, required=True)
    ap.add_argument('--host', default='127.0.0.1')
    ap.add_argument('--auth', type=int)
    ap.add_argument('--subauth', type=int)
    ap.add_argument('--user')
    ap.add_argument('--password')
    ap.add_argument('--clientname')
    ap.add_argument('--frame')
    ap.add_argument('--timeout', type=float, default=20.0)
    ap.add_argument('--hold', action='store_true',
                    help='once initialized, print HELD and stay connected until stdin closes')
    opt = ap.parse_args(args)

    result = {'initialized': False, 'auth_types': None, 'subauth_types': None, 'cred_types': [],
              'auth_failure': None, 'errors': [], 'disconnected': False, 'name': None,
              'width': None, 'height': None, 'frame': None, 'frame_error': None}

    def emit():
        print('RESULT ' + json.dumps(result), flush=True)

    try:
        import gi
        gi.require_version('GVnc', '1.0')
        from gi.repository import GLib, GVnc
    except (ImportError, ValueError) as e:
        result['errors'].append('GVnc 1.0 through python3-gi is not available to %s: %s' % (sys.executable, e))
        emit()
        return 2

    GVnc.util_set_debug(True)
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import gvnc_ctypes as gc
    gvnc = gc.gvnc
    enums = gc.gvalue_array_enums

    conn = GVnc.Connection.new()
    ptr = gc.connection_pointer(conn)
    state = {'covered': None, 'missing': None, 'buf': None, 'fb': None, 'fmt': None}

    def on_choose_type(c, array, data):
        try:
            types = enums(array)
        except Exception as e:
            result['errors'].append('cannot read the auth type list: %s' % e)
            types = []
        result['auth_types'] = types
        want = opt.auth if opt.auth is not None else (types[0] if types else AUTH_NONE)
        gvnc.vnc_connection_set_auth_type(ptr, want)

    def on_choose_subtype(c, auth_type, array, data):
        try:
            subs = enums(array)
        except Exception as e:
            result['errors'].append('cannot read the auth subtype list: %s' % e)
            subs = []
        result['subauth_types'] = subs
        want = opt.subauth if opt.subauth is not None else (subs[0] if subs else 0)
        gvnc.vnc_connection_set_auth_subtype(ptr, want)

    def on_credential(c, array, data):
        try:
            creds = enums(array)
        except Exception as e:
            result['errors'].append('cannot read the credential list: %s' % e)
            creds = []
        result['cred_types'].extend(creds)
        for t in creds:
            val = {CRED_PASSWORD: opt.password, CRED_USERNAME: opt.user, CRED_CLIENTNAME: opt.clientname}.get(t)
            if val is None:
                result['errors'].append('credential %d requested but not given' % t)
                val = ''
            gvnc.vnc_connection_set_credential(ptr, t, val.encode())

    cb_type = gc.ARRAY_HANDLER(on_choose_type)
    cb_cred = gc.ARRAY_HANDLER(on_credential)
    cb_sub = gc.SUBTYPE_HANDLER(on_choose_subtype)
    for sig, cb in ((b'vnc-auth-choose-type', cb_type), (b'vnc-auth-choose-subtype', cb_sub),
                    (b'vnc-auth-credential', cb_cred)):
        gc.connect_signal(ptr, sig, cb)

    def on_initialized(c):
        result['initialized'] = True
        w, h = c.get_width(), c.get_height()
        result['width'], result['height'], result['name'] = w, h, c.get_name()
        if not opt.frame:
            return
        state['buf'], state['fb'], state['fmt'] = gc.rgbx_framebuffer(ptr, w, h)
        gc.set_encodings(ptr, [0])   # Raw only: the pixel bytes travel as they are
        state['covered'] = bytearray(w * h)
        state['missing'] = w * h
        c.framebuffer_update_request(False, 0, 0, w, h)

    def on_update(c, x, y, w, h):
        cov = state['covered']
        if cov is None:
            return
        W, H = result['width'], result['height']
        for row in range(y, min(y + h, H)):
            off = row * W + x
            seg = cov[off:off + w]
            state['missing'] -= len(seg) - seg.count(1)
            cov[off:off + len(seg)] = b'\x01' * len(seg)

    def on_auth_failure(c, reason):
        result['auth_failure'] = reason if reason is not None else ''

    def on_error(c, message):
        result['errors'].append(message)

    def on_disconnected(c):
        result['disconnected'] = True

    conn.connect('vnc-initialized', on_initialized)
    conn.connect('vnc-framebuffer-update', on_update)
    conn.connect('vnc-auth-failure', on_auth_failure)
    conn.connect('vnc-error', on_error)
    conn.connect('vnc-disconnected', on_disconnected)
    conn.connect('vnc-auth-unsupported', lambda c, t: result['errors'].append('auth unsupported %d' % t))

    GLib.timeout_add(50, lambda: True)   # wakes iteration() up to check the clock
    ctx = GLib.MainContext.default()
    deadline = time.monotonic() + opt.timeout

    def pump(pred):
        while not pred() and time.monotonic() < deadline:
            ctx.iteration(True)
        return pred()

    # Shared: a second login (e.g. two held sessions) must not disconnect
    # the first (QEMU's default share policy is allow-exclusive).
    conn.set_shared(True)
    if not conn.open_host(opt.host, str(opt.port)):
        result['errors'].append('vnc_connection_open_host failed')
        emit()
        return 1
    pump(lambda: result['initialized'] or result['disconnected'] or result['auth_failure'] is not None)
    if result['initialized'] and opt.frame:
        if pump(lambda: state['missing'] == 0 or result['disconnected']) and state['missing'] == 0:
            raw = state['buf'].raw
            rgb = bytearray(len(raw) // 4 * 3)
            rgb[0::3] = raw[2::4]
            rgb[1::3] = raw[1::4]
            rgb[2::3] = raw[0::4]
            with open(opt.frame + '.tmp', 'wb') as f:
                f.write(b'P6\n%d %d\n255\n' % (result['width'], result['height']))
                f.write(rgb)
            os.rename(opt.frame + '.tmp', opt.frame)
            result['frame'] = opt.frame
        else:
            result['frame_error'] = ('%s of %s pixels missing (disconnected=%s)'
                                     % (state['missing'], result['width'] * result['height'],
                                        result['disconnected']))
    if result['initialized'] and opt.hold and not result['disconnected']:
        released = threading.Event()

        def wait_stdin():
            sys.stdin.read()
            released.set()
        threading.Thread(target=wait_stdin, daemon=True).start()
        print('HELD', flush=True)
        while not released.is_set() and not result['disconnected']:
            ctx.iteration(True)
    elif result['auth_failure'] is not None:
        # gtk-vnc disconnects right after an auth failure; let it finish.
        pump(lambda: result['disconnected'])
    if not result['disconnected']:
        conn.shutdown()
        end = time.monotonic() + 5
        while not result['disconnected'] and time.monotonic() < end:
            ctx.iteration(True)
    emit()
    return 0


if __name__ == '__main__':
    sys.exit(_child(sys.argv[1:]))
