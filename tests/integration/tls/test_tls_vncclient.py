#!/usr/bin/python3
"""libvncclient 0.9.14 (Debian 12, built with GnuTLS) over VeNCrypt as a
third independent client: X509None/X509Vnc with a client certificate given
through its GetCredential(rfbCredentialTypeX509) callback, TLSNone/TLSVnc.

Environment: QVNC_EMU, QVNC_TLS_VNCCLIENT (the tls_vncclient helper).
"""

import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from tls_common import (Fail, check, env_path, start_tls_emu, err_mark, wait_client_closed,  # noqa: E402
                        HOST)
from qvnc_testlib import Runner, frame_dump, read_ppm, compare_rgb, tmpdir  # noqa: E402
import tls_pki  # noqa: E402

W, H = 200, 120
PASSWORD = 'lvc-pw-7'

run = Runner('test_tls_vncclient')
client_bin = env_path('QVNC_TLS_VNCCLIENT')
tmp = tmpdir('qvnc-tls-vncclient-')
run.at_exit(lambda: shutil.rmtree(tmp, ignore_errors=True))   # runs last
try:
    pki = tls_pki.make_pki(os.path.join(tmp, 'pki'))
except tls_pki.PkiError as e:
    run.fatal(str(e))
dump_path = os.path.join(tmp, 'frame.ppm')

X509 = 'tls-creds-x509,id=tls0,dir=%s,endpoint=server,verify-peer=on' % pki.creds_dir('good')
ANON = 'tls-creds-anon,id=tls0,endpoint=server'
PW = 'secret,id=pw,data=' + PASSWORD

servers = {}
for key, opts, objs in (('X509None', 'tls-creds=tls0', [X509]),
                        ('X509Vnc', 'tls-creds=tls0,password-secret=pw', [X509, PW]),
                        ('TLSNone', 'tls-creds=tls0', [ANON]),
                        ('TLSVnc', 'tls-creds=tls0,password-secret=pw', [ANON, PW])):
    try:
        servers[key] = start_tls_emu(opts, objs, name='qvnc-emu(%s)' % key, size='%dx%d' % (W, H),
                                     frame_dump=dump_path if key == 'X509None' else None)
    except Fail as e:
        run.fatal('cannot start qvnc-emu for %s: %s' % (key, e))
    run.at_exit(servers[key][0].stop)

try:
    dw, dh, frame_rgb = frame_dump(servers['X509None'][0], dump_path)
except Fail as e:
    run.fatal('no frame dump: %s' % e)


def run_client(port, out, extra, timeout=60):
    argv = [client_bin, HOST, str(port), out, '-timeout', '30', *extra]
    env = dict(os.environ)
    env['ASAN_OPTIONS'] = ':'.join(filter(None, [env.get('ASAN_OPTIONS', ''), 'detect_leaks=0']))
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        raise Fail('tls_vncclient did not finish within %ds: %s' % (timeout, ' '.join(argv)))


def creds(name):
    return ['-ca', pki.ca_cert] + (['-cert', pki.client_cert(name), '-key', pki.client_key(name)] if name else [])


def t_ok(key, extra, dn, want_x509, want_pw, keysym=None):
    def body():
        proc, port = servers[key]
        start = proc.mark()
        out = os.path.join(tmp, 'client-%s.ppm' % key)
        args = list(extra) + (['-key-sym', '0x%x' % keysym] if keysym else [])
        p = run_client(port, out, args)
        check(p.returncode == 0, '%s: tls_vncclient exited %d\n  stdout: %s\n  stderr: %s'
              % (key, p.returncode, p.stdout.strip(), p.stderr.strip()[-2000:]))
        want = 'CONNECTED %dx%d name=QEMU (tls-test) x509=%d password=%d' % (W, H, want_x509, want_pw)
        check(want in p.stdout, '%s: libvncclient printed %r, expected %r' % (key, p.stdout.strip(), want))
        cw, ch, rgb = read_ppm(out)
        compare_rgb(W, H, frame_rgb, rgb, '%s: libvncclient frame vs frame dump' % key)
        _, m = proc.wait_line(r'^CLIENT initialized host=127\.0\.0\.1 .*$', start=start, what='CLIENT initialized')
        if dn:
            check(m.group(0).endswith(' x509-dname=' + dn), '%s: CLIENT line lacks the DN %s: %s'
                  % (key, dn, m.group(0)))
        else:
            check('x509-dname' not in m.group(0), '%s: unexpected DN: %s' % (key, m.group(0)))
        if keysym:
            proc.wait_line(r'^INPUT key keysym=0x%x qnum=0x[0-9a-f]+ down=0$' % keysym, start=start,
                           what='the key typed through libvncclient')
    return body


def t_refused(name, reason_rx):
    def body():
        proc, port = servers['X509None']
        start = proc.mark()
        estart = err_mark(proc)
        out = os.path.join(tmp, 'refused-%s.ppm' % name)
        p = run_client(port, out, creds(name))
        check(p.returncode != 0, 'client certificate %s accepted: %s' % (name, p.stdout.strip()))
        check(not os.path.exists(out), 'a frame was written for a refused client')
        _, m = proc.wait_line(r'^CLIENT connected host=127\.0\.0\.1 service=(\d+)$', start=start,
                              what='CLIENT connected')
        wait_client_closed(proc, int(m.group(1)), estart, reason_rx, 'libvncclient with %s' % (name or 'no certificate'))
    return body


def t_wrong_password(key, extra):
    def body():
        proc, port = servers[key]
        p = run_client(port, os.path.join(tmp, 'wrongpw.ppm'), list(extra) + ['-password', 'nope'])
        check(p.returncode != 0, '%s: wrong password accepted' % key)
        check('Authentication failed' in p.stderr, '%s: libvncclient did not report "Authentication failed": %s'
              % (key, p.stderr.strip()[-1500:]))
    return body


run.case('X509None: alice via GetCredential, frame equals dump, DN, key',
         t_ok('X509None', creds('alice'), 'C=GB,O=Example,CN=alice', 1, 0, keysym=0x6c))
run.case('X509None: bob', t_ok('X509None', creds('bob'), 'C=GB,O=Example,CN=bob', 1, 0))
run.case('X509None: no client certificate -> refused',
         t_refused(None, r'^TLS (handshake failed: .*([Cc]ertificate is required|No certificate was found)|client certificate rejected)'))
run.case('X509None: expired client certificate -> refused',
         t_refused('expired', r'^TLS client certificate rejected: The certificate has expired'))
run.case('X509None: untrusted client certificate -> refused',
         t_refused('mallory', r'^TLS (client certificate rejected: .*(known issuer|not trusted)'
                              r'|handshake failed: .*([Cc]ertificate is required|No certificate was found))'))
run.case('X509None: alice after the refusals', t_ok('X509None', creds('alice'), 'C=GB,O=Example,CN=alice', 1, 0))
run.case('X509Vnc: alice + password', t_ok('X509Vnc', creds('alice') + ['-password', PASSWORD],
                                           'C=GB,O=Example,CN=alice', 1, 1))
run.case('X509Vnc: wrong password -> Authentication failed', t_wrong_password('X509Vnc', creds('alice')))
run.case('TLSNone: anonymous', t_ok('TLSNone', [], None, 0, 0, keysym=0xff0d))
run.case('TLSVnc: anonymous + password', t_ok('TLSVnc', ['-password', PASSWORD], None, 0, 1))
run.case('TLSVnc: wrong password -> Authentication failed', t_wrong_password('TLSVnc', []))
run.case('servers alive', lambda: check(all(p.alive() for p, _ in servers.values()), 'a server died'))
run.finish()
