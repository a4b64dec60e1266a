#!/usr/bin/python3
"""SASL inside VeNCrypt: X509SASL (263) with SCRAM-SHA-256 and PLAIN, and the
SSF rule for anonymous TLS (TLSSASL, 264).

Over x509 TLS the TLS key size is the SASL external SSF, so SCRAM-SHA-256 and
PLAIN are offered and no SASL layer is negotiated; over anonymous TLS the
plain-TCP rule (SSF >= 56, no plaintext mechanisms) still holds.

The certificates come from ../tls/tls_pki.py (certtool, made at run time in
the temp dir).  gtk-vnc 1.3.1 reads its CA and client certificate from
<home>/.pki, so each gtk-vnc login runs in a private mount namespace with a
temporary directory over the home (gvnc_client.run_gvnc(home=...)).

Environment: QVNC_EMU.
"""

import json
import os
import ssl
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), 'tls'))

from sasl_fixtures import (Fail, check, expect_bytes, RawSasl, AUTH_FAILED_38, PASSWORDS, make_sasldb, write_sasl_conf, start_sasl_emu,  # noqa: E402
                           err_mark, wait_err, client_log, find_err, expect_login, expect_refused,
                           read_ppm, compare_rgb, frame_dump, gvnc_client)
from qvnc_testlib import Runner, tmpdir  # noqa: E402
from sasl_fixtures import remove_tmp  # noqa: E402

W, H = 320, 200
ALICE, BOB = ('alice', PASSWORDS['alice']), ('bob', PASSWORDS['bob'])
VENCRYPT, X509_SASL, TLS_SASL = 19, 263, 264

run = Runner('sasl-tls')
tmp = tmpdir('qvnc-sasl-tls-')
run.at_exit(lambda: remove_tmp(run, tmp))   # registered first: runs last
try:
    import tls_pki
except ImportError as e:
    run.fatal('cannot import the certificate generator ../tls/tls_pki.py: %s' % e)

db = os.path.join(tmp, 'sasldb')
try:
    make_sasldb(db)
    pki = tls_pki.make_pki(os.path.join(tmp, 'pki'))
except (Fail, tls_pki.PkiError) as e:
    run.fatal('cannot make the sasldb or the PKI: %s' % e)

home = gvnc_client.pki_home_dir(os.path.join(tmp, 'home'), pki.ca_cert,
                                [(n, pki.client_cert(n), pki.client_key(n)) for n in ('alice', 'bob')])


def conf(name, mechs):
    return write_sasl_conf(os.path.join(tmp, 'conf-' + name), mechs, db)


CONF_SCRAM = conf('scram', 'scram-sha-256')
CONF_PLAIN = conf('plain', 'plain')
CONF_ALL = conf('all', 'digest-md5 scram-sha-256 plain')

X509 = 'tls-creds-x509,id=tls0,dir=%s,endpoint=server,verify-peer=on' % pki.creds_dir('good')
ANON = 'tls-creds-anon,id=anon0,endpoint=server'
AUTHZ_ALICE = json.dumps({'qom-type': 'authz-list', 'id': 'authz0', 'policy': 'deny',
                          'rules': [{'match': 'alice', 'policy': 'allow'}]})

servers = {}


def server(key, vnc_opts, conf_dir, objects=(X509,), frame_dump_path=None):
    if key not in servers:
        proc, port = start_sasl_emu(vnc_opts, conf_dir, objects=objects, dump=frame_dump_path,
                                    size='%dx%d' % (W, H), name='qvnc-emu(%s)' % key)
        run.at_exit(proc.stop)
        servers[key] = (proc, port)
    return servers[key]


def x509_login(e, p, user, password, what, **kw):
    kw.setdefault('auth', VENCRYPT)
    kw.setdefault('subauth', X509_SASL)
    r, line, cport = expect_login(e, p, user, password, what, home=home, clientname=user, **kw)
    check(r.auth_types == [VENCRYPT], '%s: auth types %r, expected [19]' % (what, r.auth_types))
    check(r.subauth_types == [X509_SASL], '%s: VeNCrypt subtypes %r, expected [263] (X509SASL)'
          % (what, r.subauth_types))
    check(' x509-dname=' in line, '%s: no x509-dname on %r' % (what, line))
    return r, line, cport


def x509_refused(e, p, user, password, what, log_pattern, **kw):
    # The certificate is alice's unless the SASL user is bob: the x509 DN and
    # the SASL username are checked separately.
    return expect_refused(e, p, user, password, what, log_pattern, home=home,
                          clientname='bob' if user == 'bob' else 'alice', auth=VENCRYPT, subauth=X509_SASL, **kw)


dump_path = os.path.join(tmp, 'frame.ppm')


def mech_case(key, conf_dir, mech):
    def body():
        e, p = server(key, 'tls-creds=tls0,sasl', conf_dir, frame_dump_path=dump_path + key)
        _, _, frame_rgb = frame_dump(e, dump_path + key)
        fpath = os.path.join(tmp, 'gvnc-%s.ppm' % key)
        r, line, cport = x509_login(e, p, *ALICE, what='%s over X509SASL' % mech, mech=mech, frame=fpath)
        check(r.mechlist == mech, 'mech list %r, expected %s' % (r.mechlist, mech))
        _, _, rgb = read_ppm(fpath)
        compare_rgb(W, H, frame_rgb, rgb, '%s over X509SASL: gtk-vnc frame vs the frame dump' % mech)
        # The TLS session is the security layer: SASL adds none.
        layer = find_err(e, client_log(cport) + r'SASL security layer active')
        check(layer is None, '%s over x509 TLS: the server started a SASL layer too: %s' % (mech, layer))
        x509_login(e, p, *BOB, what='%s over X509SASL as bob' % mech, mech=mech)
    return body


def t_mechlist_x509():
    e, p = server('all', 'tls-creds=tls0,sasl', CONF_ALL)
    r, _, _ = x509_login(e, p, *ALICE, what='three mechanisms over X509SASL')
    got = set((r.mechlist or '').split(','))
    check(got == {'DIGEST-MD5', 'SCRAM-SHA-256', 'PLAIN'},
          'mech list over x509 TLS %r, expected DIGEST-MD5, SCRAM-SHA-256 and PLAIN (external SSF lifts the '
          'SSF >= 56 and NOPLAINTEXT rules)' % r.mechlist)


def t_wrong_password():
    e, p = server('plain', 'tls-creds=tls0,sasl', CONF_PLAIN, frame_dump_path=dump_path + 'plain')
    x509_refused(e, p, 'alice', 'wrong-password', 'PLAIN wrong password over X509SASL',
                 r'closing: .*SASL authentication failed')
    x509_refused(e, p, 'carol', 'carol-Secret3', 'PLAIN unknown user over X509SASL',
                 r'closing: .*SASL authentication failed')
    x509_login(e, p, *ALICE, what='PLAIN good login after the refusals', mech='PLAIN')


def t_authz_x509():
    e, p = server('authz', 'tls-creds=tls0,sasl,sasl-authz=authz0', CONF_SCRAM, objects=(X509, AUTHZ_ALICE))
    r = x509_refused(e, p, *BOB, what='bob denied by sasl-authz over X509SASL',
                     log_pattern=r'SASL username bob is not authorized')
    check(r.auth_failure is not None and 'Authentication failed' in r.auth_failure,
          'bob denied over X509SASL: gtk-vnc auth failure %r, expected the SecurityResult reason '
          '"Authentication failed"\n%s' % (r.auth_failure, r.debug_tail(12)))
    x509_login(e, p, *ALICE, what='alice after bob was denied', mech='SCRAM-SHA-256')


def t_anon_tls_plain():
    """TLSSASL (anonymous TLS): the SSF >= 56 rule stands, so PLAIN alone
    leaves no mechanism and the server closes after the TLS handshake."""
    e, p = server('anon-plain', 'tls-creds=anon0,sasl', CONF_PLAIN, objects=(ANON,))
    r = expect_refused(e, p, *ALICE, what='PLAIN over anonymous TLS (TLSSASL)',
                       log_pattern=r'closing: .*no SASL mechanisms', auth=VENCRYPT, subauth=TLS_SASL)
    check(r.subauth_types == [TLS_SASL], 'anonymous TLS: VeNCrypt subtypes %r, expected [264] (TLSSASL)'
          % r.subauth_types)
    check(e.alive(), 'qvnc-emu died\n' + e.describe())


def raw_x509_plain(p, user, password, cert_name='alice'):
    """VeNCrypt X509SASL by hand (stdlib ssl with alice's certificate), then
    PLAIN with authzid "" and the given user; returns the client just after
    the server's complete flag, checked to be 1 with no server data."""
    c = RawSasl(p, label='raw X509SASL PLAIN %s' % user)
    c.version(8)
    expect_bytes(c.recv_exact(2, 'security types'), b'\x01\x13', 'security type list (VeNCrypt)')
    c.send(b'\x13')
    expect_bytes(c.recv_exact(2, 'VeNCrypt version'), b'\x00\x02', 'VeNCrypt version')
    c.send(b'\x00\x02')
    expect_bytes(c.recv_exact(6, 'VeNCrypt subtypes'), b'\x00\x01' + struct.pack('>I', X509_SASL),
                 'VeNCrypt ack + subtype list [263]')
    c.send(struct.pack('>I', X509_SASL))
    expect_bytes(c.recv_exact(1, 'VeNCrypt subtype ack'), b'\x01', 'VeNCrypt subtype ack')
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(pki.ca_cert)
    ctx.load_cert_chain(pki.client_cert(cert_name), pki.client_key(cert_name))
    c.sock = ctx.wrap_socket(c.sock, server_hostname='127.0.0.1')
    expect_bytes(c.mechlist(), b'PLAIN', 'mech list inside X509SASL')
    c.send_mech(b'PLAIN')
    c.send_data(b'\0' + user.encode() + b'\0' + password.encode())
    expect_bytes(c.recv_exact(5, 'PLAIN start answer'), b'\x00\x00\x00\x00\x01',
                 'PLAIN start answer (NULL server data = u32 0, complete = 1)')
    return c


def t_raw_security_result():
    e, p = server('authz-plain', 'tls-creds=tls0,sasl,sasl-authz=authz0', CONF_PLAIN, objects=(X509, AUTHZ_ALICE))
    start = err_mark(e)
    c = raw_x509_plain(p, *BOB)
    try:
        c.expect_eof_exact(AUTH_FAILED_38, 'SecurityResult for bob denied by sasl-authz (then close)')
    finally:
        c.close()
    wait_err(e, r'SASL username bob is not authorized', start, what='the denial in the server log')
    c = raw_x509_plain(p, *ALICE)
    try:
        expect_bytes(c.recv_exact(4, 'SecurityResult'), b'\0\0\0\0', 'SecurityResult for alice')
        si = c.client_init()
        check(si.name == b'QEMU (sasl-test)', 'ServerInit name %r' % si.name)
    finally:
        c.close()


run.case('SCRAM-SHA-256 over X509SASL: alice and bob log in, no SASL layer, frame equals dump',
         mech_case('scram', CONF_SCRAM, 'SCRAM-SHA-256'))
run.case('PLAIN over X509SASL: alice and bob log in, no SASL layer, frame equals dump',
         mech_case('plain', CONF_PLAIN, 'PLAIN'))
run.case('X509SASL mech list holds DIGEST-MD5, SCRAM-SHA-256 and PLAIN', t_mechlist_x509)
run.case('X509SASL PLAIN: wrong password and unknown user refused, server keeps serving', t_wrong_password)
run.case('X509SASL: sasl-authz denies bob with "Authentication failed", alice allowed', t_authz_x509)
run.case('raw X509SASL PLAIN: byte-exact "Authentication failed" for a denied user, u32 0 + ServerInit for alice',
         t_raw_security_result)
run.case('TLSSASL (anonymous TLS) with PLAIN only: no mechanism, server closes', t_anon_tls_plain)
run.case('servers still alive', lambda: check(all(e.alive() for e, _ in servers.values()),
                                              'a qvnc-emu died'))
run.finish()
