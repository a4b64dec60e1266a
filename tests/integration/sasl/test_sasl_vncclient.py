#!/usr/bin/python3
"""libvncclient (sasl_vncclient.c) as a second, independent SASL client.

Debian's libvncclient is linked with cyrus-sasl (checked here with ldd);
its GetUser/GetPassword callbacks feed the SASL AUTHNAME and PASS.  Cases:
DIGEST-MD5 over plain TCP with a security layer (frame through the layer
equals the server's frame dump), a wrong password, and SCRAM-SHA-256 inside
VeNCrypt X509SASL (GetCredential answers the x509 question).

Environment: QVNC_EMU, QVNC_SASL_VNCCLIENT.
"""

import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), 'tls'))

from sasl_fixtures import (Fail, check, PASSWORDS, make_sasldb, write_sasl_conf, start_sasl_emu, err_mark,  # noqa
                           wait_err, find_err, client_log, read_ppm, compare_rgb, frame_dump, HOST)
from qvnc_testlib import Runner, tmpdir  # noqa: E402
from sasl_fixtures import remove_tmp  # noqa: E402

W, H = 288, 176

run = Runner('sasl-vncclient')
tmp = tmpdir('qvnc-sasl-vncclient-')
run.at_exit(lambda: remove_tmp(run, tmp))   # registered first: runs last
client = os.environ.get('QVNC_SASL_VNCCLIENT')
if not client or not os.access(client, os.X_OK):
    run.fatal('QVNC_SASL_VNCCLIENT (the sasl_vncclient binary) is not set or not executable: %r' % client)

db = os.path.join(tmp, 'sasldb')
try:
    make_sasldb(db)
except Fail as e:
    run.fatal('cannot make the sasldb: %s' % e)
CONF_DIGEST = write_sasl_conf(os.path.join(tmp, 'conf-digest'), 'digest-md5', db)
CONF_SCRAM = write_sasl_conf(os.path.join(tmp, 'conf-scram'), 'scram-sha-256', db)

dump_path = os.path.join(tmp, 'frame.ppm')
try:
    emu, port = start_sasl_emu('sasl', CONF_DIGEST, dump=dump_path, size='%dx%d' % (W, H),
                               name='qvnc-emu(digest)')
except Fail as e:
    run.fatal('cannot start qvnc-emu: %s' % e)
run.at_exit(emu.stop)
try:
    _, _, frame_rgb = frame_dump(emu, dump_path)
except Fail as e:
    run.fatal('no frame dump: %s' % e)


def run_client(p, out, extra, expect_ok=True):
    argv = [client, HOST, str(p), out, '-timeout', '20', *extra]
    env = dict(os.environ)
    env['ASAN_OPTIONS'] = 'detect_leaks=0'   # libvncclient is a third-party harness here
    try:
        r = subprocess.run(argv, capture_output=True, text=True, errors='replace', timeout=60, env=env)
    except subprocess.TimeoutExpired:
        raise Fail('sasl_vncclient did not finish within 60s: %s' % ' '.join(argv))
    if expect_ok:
        check(r.returncode == 0, 'sasl_vncclient exited %d\n  stdout: %s\n  stderr: %s'
              % (r.returncode, r.stdout.strip(), r.stderr.strip()[-3000:]))
    return r


def value(stdout, key):
    for line in stdout.splitlines():
        if line.startswith(key + ' '):
            return line[len(key) + 1:]
    return None


def t_linked_with_sasl():
    p = subprocess.run(['ldd', client], capture_output=True, text=True)
    check('libvncclient' in p.stdout, 'sasl_vncclient is not linked with libvncclient:\n%s' % p.stdout)
    lib = [l.split('=>')[1].split()[0] for l in p.stdout.splitlines() if 'libvncclient' in l and '=>' in l][0]
    q = subprocess.run(['ldd', lib], capture_output=True, text=True)
    check('libsasl2' in q.stdout, '%s is not linked with libsasl2 (no SASL support):\n%s' % (lib, q.stdout))
    n = subprocess.run(['nm', '-D', lib], capture_output=True, text=True)
    check('HandleSASLAuth' in n.stdout and 'sasl_client_start' in n.stdout,
          '%s lacks HandleSASLAuth / sasl_client_start' % lib)


def digest_case(user, mech):
    def body():
        out = os.path.join(tmp, 'digest-%s.ppm' % user)
        start = emu.mark()
        extra = ['-user', user, '-password', PASSWORDS[user]] + (['-mech', mech] if mech else [])
        r = run_client(port, out, extra)
        check(value(r.stdout, 'SERVER-MECHLIST') == 'DIGEST-MD5',
              'libvncclient saw the mech list %r' % value(r.stdout, 'SERVER-MECHLIST'))
        ssf = int(value(r.stdout, 'SASL-SSF') or 0)
        check(ssf >= 56, 'libvncclient SASL SSF %d, expected >= 56' % ssf)
        _, m = emu.wait_line(r'^CLIENT initialized .* service=(\d+) .*', start=start, what='CLIENT initialized')
        check(' sasl-username=%s' % user in m.group(0) + ' ', 'server line %r lacks sasl-username=%s'
              % (m.group(0), user))
        _, lm = wait_err(emu, client_log(int(m.group(1))) + r'SASL security layer active \(SSF (\d+)\)',
                         what='the server log of the SASL layer')
        check(int(lm.group(1)) == ssf, 'server SSF %s, libvncclient SSF %d' % (lm.group(1), ssf))
        _, _, rgb = read_ppm(out)
        compare_rgb(W, H, frame_rgb, rgb, 'libvncclient frame through the DIGEST-MD5 layer vs the frame dump')
    return body


def t_wrong_password():
    start_err = err_mark(emu)
    out = os.path.join(tmp, 'wrong.ppm')
    r = run_client(port, out, ['-user', 'alice', '-password', 'nope'], expect_ok=False)
    check(r.returncode != 0, 'wrong password accepted: %s' % r.stdout)
    check(not os.path.exists(out), 'a frame was written despite the wrong password')
    wait_err(emu, r'closing: .*SASL authentication failed', start_err, what='the refusal in the server log')
    digest_case('alice', None)()


def t_scram_x509():
    try:
        import tls_pki
        pki = tls_pki.make_pki(os.path.join(tmp, 'pki'))
    except ImportError as e:
        raise Fail('cannot import ../tls/tls_pki.py: %s' % e)
    x509 = 'tls-creds-x509,id=tls0,dir=%s,endpoint=server,verify-peer=on' % pki.creds_dir('good')
    e, p = start_sasl_emu('tls-creds=tls0,sasl', CONF_SCRAM, objects=[x509], size='%dx%d' % (W, H),
                          name='qvnc-emu(x509 scram)', dump=dump_path + '.x509')
    try:
        _, _, rgb_dump = frame_dump(e, dump_path + '.x509')
        out = os.path.join(tmp, 'scram.ppm')
        start = e.mark()
        r = run_client(p, out, ['-user', 'alice', '-password', PASSWORDS['alice'], '-ca', pki.ca_cert,
                                '-cert', pki.client_cert('alice'), '-key', pki.client_key('alice')])
        check(value(r.stdout, 'SERVER-MECHLIST') == 'SCRAM-SHA-256',
              'mech list %r, expected SCRAM-SHA-256' % value(r.stdout, 'SERVER-MECHLIST'))
        check('CREDENTIAL-REQUEST x509' in r.stdout, 'libvncclient never asked for x509 credentials: %s' % r.stdout)
        _, m = e.wait_line(r'^CLIENT initialized .* service=(\d+) .*', start=start, what='CLIENT initialized')
        check(' sasl-username=alice' in m.group(0) and ' x509-dname=' in m.group(0),
              'server line %r lacks sasl-username=alice / x509-dname' % m.group(0))
        layer = find_err(e, client_log(int(m.group(1))) + r'SASL security layer active')
        check(layer is None, 'SCRAM over x509 TLS started a SASL layer: %s' % layer)
        _, _, rgb = read_ppm(out)
        compare_rgb(W, H, rgb_dump, rgb, 'libvncclient frame over X509SASL vs the frame dump')
    finally:
        e.stop()


run.case('libvncclient is built with cyrus-sasl (ldd, HandleSASLAuth)', t_linked_with_sasl)
run.case('libvncclient DIGEST-MD5 (alice): SSF >= 56 both ends, frame through the layer equals dump',
         digest_case('alice', None))
run.case('libvncclient DIGEST-MD5 (bob, -mech DIGEST-MD5)', digest_case('bob', 'DIGEST-MD5'))
run.case('libvncclient wrong password refused; then alice logs in', t_wrong_password)
run.case('libvncclient SCRAM-SHA-256 over X509SASL: no SASL layer, frame equals dump', t_scram_x509)
run.case('qvnc-emu still alive', lambda: check(emu.alive(), 'qvnc-emu died\n' + emu.describe()))
run.finish()
