#!/usr/bin/python3
"""SASL (RFB type 20) over plain TCP against a cyrus-sasl sasldb.

Everything lives in a temporary directory: a sasldb made with saslpasswd2
(users alice and bob, realm = this host's name), one qemu.conf per case
(found by the server through SASL_CONF_PATH), qvnc-emu processes with
QVNC_DEBUG=1 on ports chosen at run time.  Clients: gtk-vnc (GVnc through
python3-gi, one child process per login) and a raw RFB client for the
malformed exchanges.  After every refusal a good client must still log in.

Environment: QVNC_EMU.
"""

import json
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from sasl_fixtures import (Fail, check, expect_bytes, RawSasl, Relay, PASSWORDS, SASL_DATA_MAX,  # noqa: E402
                           make_sasldb, write_sasl_conf, start_sasl_emu, err_mark, wait_err, client_log,
                           gvnc_login, expect_login, expect_refused, read_ppm, compare_rgb, frame_dump,
                           pixel_needles, needles_found, full_fbur, hostname, monitor_available, Qmp,
                           gvnc_client)
from qvnc_testlib import Runner, tmpdir  # noqa: E402
from sasl_fixtures import remove_tmp  # noqa: E402

W, H = 320, 200
ALICE, BOB = ('alice', PASSWORDS['alice']), ('bob', PASSWORDS['bob'])

run = Runner('sasl-sasldb')
tmp = tmpdir('qvnc-sasl-db-')
run.at_exit(lambda: remove_tmp(run, tmp))   # registered first: runs last
db = os.path.join(tmp, 'sasldb')
try:
    entries = make_sasldb(db)
except Fail as e:
    run.fatal('cannot make the sasldb: %s' % e)
print('# sasldb %s: %s (gethostname: %s)' % (db, ', '.join(entries), hostname()), flush=True)
# saslpasswd2 and the server both take the realm from the host (cyrus-sasl's
# get_fqhostname), so the db matches the server wherever the test runs.
if not all(e.split('@', 1)[1] == hostname() or e.split('@', 1)[1].startswith(hostname() + '.') for e in entries):
    print('# note: the sasldb realm differs from gethostname() (%s): DIGEST-MD5 offers the realm of the db'
          % hostname(), flush=True)


def conf(name, mechs):
    return write_sasl_conf(os.path.join(tmp, 'conf-' + name), mechs, db)


CONF_DIGEST = conf('digest', 'digest-md5')
CONF_ALL = conf('all', 'digest-md5 scram-sha-256 plain')
CONF_PLAIN = conf('plain', 'plain')
CONF_SCRAM = conf('scram', 'scram-sha-256')

servers = {}


def server(key, vnc_opts, conf_dir, objects=(), frame_dump_path=None, name=None, qmp=False):
    """Starts (once) and returns (Proc, port) for a named configuration."""
    if key not in servers:
        proc, port = start_sasl_emu(vnc_opts, conf_dir, objects=objects, dump=frame_dump_path,
                                    size='%dx%d' % (W, H), name=name or 'qvnc-emu(%s)' % key,
                                    qmp_dir=tmp if qmp else None)
        run.at_exit(proc.stop)
        servers[key] = (proc, port)
    return servers[key]


dump_path = os.path.join(tmp, 'frame.ppm')
try:
    emu, port = server('digest', 'sasl', CONF_DIGEST, frame_dump_path=dump_path)
    _, _, frame_rgb = frame_dump(emu, dump_path)
except Fail as e:
    run.fatal('cannot start qvnc-emu with SASL: %s' % e)


def good_login(what='good client after the refusal', emu_port=None):
    e, p = emu_port or (emu, port)
    return expect_login(e, p, *ALICE, what=what, mech='DIGEST-MD5', min_ssf=56)


def server_still_serving(e, p, what):
    """A raw client still gets the greeting and the type list."""
    check(e.alive(), '%s: qvnc-emu died\n%s' % (what, e.describe()))
    c = RawSasl(p, label=what + ' (probe)')
    try:
        c.version(8)
        n = c.u8('number of security types')
        check(n == 1, '%s: %d security types after the refusal' % (what, n))
        expect_bytes(c.recv_exact(1, 'security type'), b'\x14', '%s: type after the refusal' % what)
    finally:
        c.close()


# ---------------------------------------------------------------- successes

def t_digest_login():
    fpath = os.path.join(tmp, 'gvnc-digest.ppm')
    r, line, cport = expect_login(emu, port, *ALICE, what='DIGEST-MD5 login', frame=fpath, mech='DIGEST-MD5',
                                  min_ssf=56)
    check(r.mechlist == 'DIGEST-MD5', 'gtk-vnc saw the mechanism list %r, expected DIGEST-MD5' % r.mechlist)
    _, m = wait_err(emu, client_log(cport) + r'SASL security layer active \(SSF (\d+)\)',
                    what='the server log of the SASL layer')
    check(int(m.group(1)) >= 56, 'server SASL SSF %s < 56' % m.group(1))
    check(int(m.group(1)) == r.ssf, 'server SSF %s, gtk-vnc SSF %s' % (m.group(1), r.ssf))
    w, h, rgb = read_ppm(r.frame)
    compare_rgb(W, H, frame_rgb, rgb, 'gtk-vnc frame through the DIGEST-MD5 layer vs the frame dump')
    check(r.name == 'QEMU (sasl-test)', 'desktop name %r through the SASL layer' % r.name)


def t_digest_bob():
    expect_login(emu, port, *BOB, what='DIGEST-MD5 login as bob', mech='DIGEST-MD5', min_ssf=56)


def capture_login(e, p, user, password, what):
    """gtk-vnc through a recording relay; returns (relay, GvncResult)."""
    relay = Relay(p)
    try:
        fpath = os.path.join(tmp, 'relay-%d.ppm' % relay.port)
        r = gvnc_login(relay.port, user, password, frame=fpath, what=what)
        relay.wait()
    finally:
        relay.close()
    check(r.initialized and r.frame, '%s: no frame through the relay\n  %s' % (what, r.describe()))
    _, _, rgb = read_ppm(r.frame)
    compare_rgb(W, H, frame_rgb, rgb, '%s: frame vs the frame dump' % what)
    return relay, r


def t_digest_capture():
    needles = pixel_needles(W, H, frame_rgb)
    check(len(needles) >= 4, 'the pattern frame gave only %d usable pixel runs' % len(needles))
    # Control: the same guest without authentication must show the runs.
    plain, pport = server('none', '', CONF_DIGEST, name='qvnc-emu(no auth)')
    relay, r = capture_login(plain, pport, None, None, 'control run without SASL')
    seen = needles_found(needles, bytes(relay.s2c))
    check(len(seen) == len(needles), 'control run: only %d of %d pixel runs found in %d captured bytes, so '
          'the check could not tell plaintext from ciphertext' % (len(seen), len(needles), len(relay.s2c)))
    check(b'QEMU (sasl-test)' in relay.s2c, 'control run: the desktop name is not in the capture')
    check(full_fbur(W, H) in relay.c2s, 'control run: the client\'s FramebufferUpdateRequest is not in the capture')
    relay, r = capture_login(emu, port, *ALICE, 'DIGEST-MD5 through the relay')
    check(r.ssf and r.ssf >= 56, 'SSF %r' % r.ssf)
    seen = needles_found(needles, bytes(relay.s2c))
    check(not seen, 'DIGEST-MD5 with SSF %s: %d of %d raw pixel runs of the frame appear in clear in the %d '
          'server->client bytes (e.g. the run at %r)' % (r.ssf, len(seen), len(needles), len(relay.s2c), seen[:1]))
    check(b'QEMU (sasl-test)' not in relay.s2c, 'DIGEST-MD5: the desktop name travels in clear')
    check(full_fbur(W, H) not in relay.c2s, 'DIGEST-MD5: the client\'s FramebufferUpdateRequest travels in clear')
    check(len(relay.s2c) > W * H * 4, 'DIGEST-MD5: only %d bytes went to the client' % len(relay.s2c))


def t_mechlist_tcp():
    e, p = server('all', 'sasl', CONF_ALL)
    c = RawSasl(p)
    try:
        c.to_sasl()
        ml = c.mechlist()
    finally:
        c.close()
    expect_bytes(ml, b'DIGEST-MD5', 'mech list over plain TCP with mech_list "digest-md5 scram-sha-256 plain" '
                 '(SSF >= 56, NOPLAINTEXT)')
    expect_login(e, p, *ALICE, what='DIGEST-MD5 with the three-mechanism qemu.conf', mech='DIGEST-MD5',
                 min_ssf=56)


# ---------------------------------------------------------------- refusals

def empty_mechlist_case(key, conf_dir, mech):
    def body():
        e, p = server(key, 'sasl', conf_dir)
        start = err_mark(e)
        c = RawSasl(p, label='raw client (%s only)' % mech)
        try:
            c.to_sasl()
            c.expect_eof_exact(b'', 'server with only %s on plain TCP after type 20' % mech)
        finally:
            c.close()
        wait_err(e, client_log(c.local_port) + r'closing: .*no SASL mechanisms', start,
                 what='the empty mechanism list')
        r = gvnc_login(p, *ALICE, what='gtk-vnc against the %s-only server' % mech)
        check(not r.initialized, 'gtk-vnc logged in with %s over plain TCP: %s' % (mech, r.summary()))
        server_still_serving(e, p, '%s without TLS' % mech)
    return body


def t_wrong_password():
    expect_refused(emu, port, 'alice', 'not-the-password', 'wrong password',
                   r'closing: .*SASL authentication failed')
    good_login()


def t_unknown_user():
    expect_refused(emu, port, 'carol', 'carol-Secret3', 'unknown user', r'closing: .*SASL authentication failed')
    good_login()


def raw_refusal(what, actions, log_pattern, want_bytes=b''):
    """Runs actions(client) after the mechanism list, then expects the
    server to send exactly want_bytes and close, and a log line."""
    start = err_mark(emu)
    c = RawSasl(port, label=what)
    try:
        c.to_sasl()
        expect_bytes(c.mechlist(), b'DIGEST-MD5', '%s: mechanism list' % what)
        actions(c)
        c.expect_eof_exact(want_bytes, what)
    finally:
        c.close()
    wait_err(emu, client_log(c.local_port) + log_pattern, start, what=what)


def t_mech_not_offered():
    for mech in (b'PLAIN', b'DIGEST', b'digest-md5', b'DIGEST-MD5,PLAIN', b'DIGEST-MD5 ', b'M' * 100):
        raw_refusal('mechname %r' % mech[:20], lambda c: c.send_mech(mech), r'closing: .*not offered')
    good_login()


def t_mechname_length():
    for n in (0, 101, 0x7fffffff):
        raw_refusal('mechname length %d' % n, lambda c: c.send(struct.pack('>I', n) + b'DIGEST-MD5'[:min(n, 10)]),
                    r'closing: .*mechname length')
    good_login()


def t_oversized_data():
    def start_too_big(c):
        c.send_mech(b'DIGEST-MD5')
        c.send(struct.pack('>I', SASL_DATA_MAX + 1))
    raw_refusal('start data of 1 MiB + 1', start_too_big, r'closing: .*exceeds 1 MiB')

    def step_too_big(c):
        c.send_mech(b'DIGEST-MD5')
        c.send_data(None)
        data, complete = c.read_server_data('DIGEST-MD5 challenge')
        check(data and complete == 0, 'no challenge')
        c.send(struct.pack('>I', 0xffffffff))
    raw_refusal('step data of 4 GiB - 1', step_too_big, r'closing: .*exceeds 1 MiB')

    # Exactly 1 MiB passes the length check and reaches the SASL library,
    # which refuses it as a DIGEST-MD5 response (closing, no SecurityResult).
    def step_max(c):
        c.send_mech(b'DIGEST-MD5')
        c.send_data(None)
        c.read_server_data('DIGEST-MD5 challenge')
        c.send(struct.pack('>I', SASL_DATA_MAX) + b'a' * (SASL_DATA_MAX - 1) + b'\0')
    raw_refusal('step data of exactly 1 MiB', step_max, r'closing: .*SASL authentication failed')
    good_login()


def t_bad_nul_pad():
    def start_bad(c):
        c.send_mech(b'DIGEST-MD5')
        c.send(struct.pack('>I', 4) + b'abcd')
    raw_refusal('start data without the NUL pad', start_bad, r'closing: .*Missing SASL NUL padding byte')

    def step_bad(c):
        c.send_mech(b'DIGEST-MD5')
        c.send_data(None)
        c.read_server_data('DIGEST-MD5 challenge')
        c.send(struct.pack('>I', 5) + b'x=y,z')
    raw_refusal('step data without the NUL pad', step_bad, r'closing: .*Missing SASL NUL padding byte')
    good_login()


def t_raw_challenge_and_garbage():
    """The positive half of the raw exchange (NULL start data -> a DIGEST-MD5
    challenge with its NUL pad, complete=0), then a garbage response with
    a correct pad: the server closes without any SecurityResult."""
    def body(c):
        c.send_mech(b'DIGEST-MD5')
        c.send_data(None)
        data, complete = c.read_server_data('DIGEST-MD5 challenge')
        check(complete == 0, 'complete=%d after the start' % complete)
        check(data is not None and b'nonce="' in data and b'qop="auth-conf"' in data,
              'DIGEST-MD5 challenge lacks nonce/qop auth-conf: %r' % data)
        check(b'\0' not in data, 'NUL inside the challenge: %r' % data)
        c.send_data(b'username="alice",garbage')
    raw_refusal('garbage DIGEST-MD5 response', body, r'closing: .*SASL authentication failed')
    good_login()


def t_disconnect_mid_step():
    cases = []

    def after_challenge(c):
        c.send_mech(b'DIGEST-MD5')
        c.send_data(None)
        c.read_server_data('DIGEST-MD5 challenge')

    def half_length(c):
        c.send_mech(b'DIGEST-MD5')
        c.send_data(None)
        c.read_server_data('DIGEST-MD5 challenge')
        c.send(b'\0\0')

    def half_data(c):
        c.send_mech(b'DIGEST-MD5')
        c.send(struct.pack('>I', 50) + b'x' * 20)

    def half_mech(c):
        c.send(struct.pack('>I', 10) + b'DIGE')

    for what, fn in (('after the challenge', after_challenge), ('inside a step length', half_length),
                     ('inside start data', half_data), ('inside the mechname', half_mech)):
        start_err = err_mark(emu)
        start = emu.mark()
        c = RawSasl(port, label='disconnect ' + what)
        c.to_sasl()
        c.mechlist()
        fn(c)
        c.close()
        emu.wait_line(r'^CLIENT disconnected host=127\.0\.0\.1 service=%d ' % c.local_port, start=start,
                      what='CLIENT disconnected after a client left %s' % what)
        wait_err(emu, client_log(c.local_port) + r'closing', start_err, what='disconnect ' + what)
        cases.append(what)
    check(emu.alive(), 'qvnc-emu died\n' + emu.describe())
    good_login()


# ---------------------------------------------------------------- username authorization

AUTHZ_ALICE = json.dumps({'qom-type': 'authz-list', 'id': 'authz0', 'policy': 'deny',
                          'rules': [{'match': 'alice', 'policy': 'allow'}]})


def t_authz_list():
    e, p = server('authz', 'sasl,sasl-authz=authz0', CONF_DIGEST, objects=[AUTHZ_ALICE])
    expect_login(e, p, *ALICE, what='alice allowed by authz-list', mech='DIGEST-MD5', min_ssf=56)
    expect_refused(e, p, *BOB, what='bob denied by authz-list', log_pattern=r'SASL username bob is not authorized')
    expect_login(e, p, *ALICE, what='alice after bob was denied', mech='DIGEST-MD5', min_ssf=56)


def t_authz_list_file():
    path = os.path.join(tmp, 'users.json')

    def write_rules(users):
        with open(path + '.new', 'w') as f:
            json.dump({'policy': 'deny', 'rules': [{'match': u, 'policy': 'allow'} for u in users]}, f)
        os.rename(path + '.new', path)

    write_rules(['alice'])
    e, p = server('authzfile', 'sasl,sasl-authz=authzf', CONF_DIGEST,
                  objects=['authz-list-file,id=authzf,filename=%s' % path])
    expect_refused(e, p, *BOB, what='bob denied by the list file', log_pattern=r'SASL username bob is not authorized')
    expect_login(e, p, *ALICE, what='alice allowed by the list file')
    start = err_mark(e)
    write_rules(['bob'])
    wait_err(e, r"authz-list-file 'authzf': reloaded", start, what='the list file reload after the edit')
    expect_login(e, p, *BOB, what='bob allowed after the file changed', mech='DIGEST-MD5', min_ssf=56)
    expect_refused(e, p, *ALICE, what='alice denied after the file changed',
                   log_pattern=r'SASL username alice is not authorized')


HAVE_MONITOR = monitor_available()


def t_legacy_acl():
    """-vnc ...,sasl,acl: the vnc.username list starts empty with policy
    deny; the monitor's acl_add / acl_policy change it at run time."""
    e, p = server('acl', 'sasl,acl', CONF_DIGEST, qmp=HAVE_MONITOR)
    expect_refused(e, p, *ALICE, what='alice with the empty legacy vnc.username ACL',
                   log_pattern=r'SASL username alice is not authorized')
    server_still_serving(e, p, 'legacy acl')
    if not HAVE_MONITOR:
        return
    q = Qmp(e.qmp_path)
    try:
        show = q.hmp('acl_show vnc.username')
        check(show == 'policy: deny\n', 'acl_show vnc.username before acl_add: %r' % show)
        ans = q.hmp('acl_add vnc.username alice allow')
        check('added rule at position 1' in ans, 'acl_add answered %r' % ans)
        expect_login(e, p, *ALICE, what='alice after acl_add vnc.username alice allow', mech='DIGEST-MD5',
                     min_ssf=56)
        expect_refused(e, p, *BOB, what='bob after acl_add for alice only',
                       log_pattern=r'SASL username bob is not authorized')
        q.hmp('acl_policy vnc.username allow')
        expect_login(e, p, *BOB, what='bob after acl_policy vnc.username allow')
        q.hmp('acl_policy vnc.username deny')
        q.hmp('acl_remove vnc.username alice')
        show = q.hmp('acl_show vnc.username')
        check(show == 'policy: deny\n', 'acl_show after acl_remove: %r' % show)
        expect_refused(e, p, *ALICE, what='alice after acl_remove', log_pattern=r'SASL username alice is not authorized')
    finally:
        q.close()


def t_monitor_sasl_username():
    """Two clients held connected (alice and bob): query-vnc lists each with
    its sasl_username, and HMP info vnc prints it under the client."""
    e, p = server('mon', 'sasl', CONF_DIGEST, qmp=True)
    q = Qmp(e.qmp_path)
    held = []
    try:
        ports = {}
        for user, pw in (ALICE, BOB):
            start = e.mark()
            h = gvnc_client.HeldSession(p, user=user, password=pw)
            held.append(h)
            check(h.wait_held(), '%s: the held gtk-vnc login failed: %s' % (user, ''.join(h.out)[-2000:]))
            _, m = e.wait_line(r'^CLIENT initialized .* service=(\d+) .*sasl-username=%s\b' % user, start=start,
                               what='CLIENT initialized for %s' % user)
            ports[user] = m.group(1)
        v = q.cmd('query-vnc')
        got = {c.get('service'): c.get('sasl_username') for c in v.get('clients', [])}
        for user, service in ports.items():
            check(got.get(service) == user, 'query-vnc: the client 127.0.0.1:%s has sasl_username %r, expected %r '
                  '(clients %r)' % (service, got.get(service), user, v.get('clients')))
        info = q.hmp('info vnc')
        lines = info.splitlines()
        for user, service in ports.items():
            idx = [i for i, l in enumerate(lines) if l.strip().startswith('Client: 127.0.0.1:%s ' % service)]
            check(idx, 'info vnc does not list the client 127.0.0.1:%s:\n%s' % (service, info))
            block = lines[idx[0] + 1:idx[0] + 3]
            check('sasl_username: %s' % user in [l.strip() for l in block],
                  'info vnc: no "sasl_username: %s" under 127.0.0.1:%s:\n%s' % (user, service, info))
        check('Auth: sasl' in info, 'info vnc does not show "Auth: sasl":\n%s' % info)
    finally:
        for h in held:
            h.finish()
        q.close()


run.case('DIGEST-MD5 without TLS: gtk-vnc logs in, SSF >= 56 on both ends, frame through the layer',
         t_digest_login)
run.case('DIGEST-MD5 as bob', t_digest_bob)
run.case('DIGEST-MD5: pixels and desktop name are not plaintext on the wire (relay capture, control run)',
         t_digest_capture)
run.case('plain TCP mech list: only DIGEST-MD5 of digest-md5/scram-sha-256/plain', t_mechlist_tcp)
run.case('PLAIN without TLS: empty mech list, server closes', empty_mechlist_case('plain', CONF_PLAIN, 'PLAIN'))
run.case('SCRAM-SHA-256 without TLS: empty mech list, server closes',
         empty_mechlist_case('scram', CONF_SCRAM, 'SCRAM-SHA-256'))
run.case('wrong password refused, server keeps serving', t_wrong_password)
run.case('unknown user refused, server keeps serving', t_unknown_user)
run.case('raw: NULL start data gets the challenge; garbage response closes without SecurityResult',
         t_raw_challenge_and_garbage)
run.case('raw: mechanism not in the list (or not a whole element) closes', t_mech_not_offered)
run.case('raw: mechname length 0, 101, 2^31-1 closes', t_mechname_length)
run.case('raw: data over 1 MiB closes (start and step); exactly 1 MiB reaches SASL', t_oversized_data)
run.case('raw: a bad NUL pad closes (start and step)', t_bad_nul_pad)
run.case('raw: client disconnects mid-exchange (4 places), server keeps serving', t_disconnect_mid_step)
run.case('sasl-authz=authz-list: alice allowed, bob denied', t_authz_list)
run.case('sasl-authz=authz-list-file: bob denied, allowed after the file changes (alice then denied)',
         t_authz_list_file)
if HAVE_MONITOR:
    run.case('legacy acl: empty vnc.username denies alice; acl_add allows her, bob still denied; acl_policy, '
             'acl_remove (QMP human-monitor-command)', t_legacy_acl)
    run.case('query-vnc and info vnc show sasl_username for two connected clients', t_monitor_sasl_username)
else:
    run.case('legacy acl: the empty vnc.username list denies alice', t_legacy_acl)
    print('# pending: acl_add and info vnc/query-vnc: qvnc-emu --help lists no -qmp', flush=True)
run.case('qvnc-emu still alive', lambda: check(emu.alive(), 'qvnc-emu died\n' + emu.describe()))
run.finish()
