#!/usr/bin/python3
"""The legacy ACL commands end to end: qvnc-emu with -vnc ...,tls,
x509verify=DIR,acl (QEMU 2.3-5.2 creates the vnc.x509dname list, denying
everyone), edited over QMP's human-monitor-command; real TLS clients with
certificates (certtool PKI from ../tls/tls_pki.py) get in or are refused at
their next login.

Environment: QVNC_EMU; certtool (gnutls-bin), else SKIP (77).
Reference: qemu-vnc-spec.md 3.1-3.2, qemu-tests.md 4.
"""

import os
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), 'tls'))

from qmp_client import Qmp, start_emu_monitor  # noqa: E402
from qvnc_testlib import Fail, Runner, check, expect_bytes, tmpdir, hexs  # noqa: E402
from tls_common import TlsRefused, VencryptClient, x509_context, X509_NONE  # noqa: E402
import tls_pki  # noqa: E402

if not shutil.which('certtool'):
    print('1..0 # SKIP certtool (gnutls-bin) is not installed')
    sys.exit(77)

run = Runner('test_monitor_acl')
tmp = tmpdir('qvnc-monitor-acl-')
try:
    pki = tls_pki.make_pki(os.path.join(tmp, 'pki'))
except tls_pki.PkiError as e:
    run.fatal(str(e))
GOOD = pki.creds_dir('good')
ALICE_DN = 'C=GB,O=Example,CN=alice'

try:
    emu, port, qmp_path = start_emu_monitor(tmp, ',tls,x509verify=%s,acl' % GOOD)
except Fail as e:
    run.fatal('cannot start qvnc-emu: %s' % e)
run.at_exit(emu.stop)
q = Qmp(qmp_path)
run.at_exit(q.close)


def session(who, allowed):
    """An X509None login with who's certificate: ServerInit, or the
    connection closed after the TLS handshake without any RFB byte."""
    ctx = x509_context(pki.ca_cert, pki.client_cert(who), pki.client_key(who))
    c = VencryptClient(port, label='%s (%s)' % (who, 'allowed' if allowed else 'refused'))
    try:
        c.vencrypt_until_ack(X509_NONE)
        if allowed:
            c.start_tls(ctx, '127.0.0.1')
            expect_bytes(c.recv_exact(4, 'SecurityResult'), b'\0\0\0\0', '%s: SecurityResult' % who)
            c.client_init()
            return
        got = b''
        try:
            c.start_tls(ctx, '127.0.0.1')
            got = c.read_until_eof(what='the server to drop %s' % who)
        except TlsRefused:
            pass
        check(got == b'', '%s: the ACL should refuse, but the server sent [%s]' % (who, hexs(got)))
    finally:
        c.close()


def hmp(line, want):
    out = q.hmp(line)
    check(out == want, '%s: %r, expected %r' % (line, out, want))


def t_default_deny():
    hmp('acl_show vnc.x509dname', 'policy: deny\r\n')
    hmp('acl_show vnc.username', "acl: unknown list 'vnc.username'\r\n")
    session('alice', False)
    session('bob', False)


def t_allow_alice():
    hmp('acl_add vnc.x509dname %s allow' % ALICE_DN, 'acl: added rule at position 1\r\n')
    session('alice', True)
    session('bob', False)
    # The DN the server saw is the one the rule named.
    ev = q.wait_event('VNC_INITIALIZED')
    check(ev['data']['client'].get('x509_dname') == ALICE_DN, 'x509_dname %r' % ev['data']['client'])


def t_glob_and_positions():
    hmp('acl_add vnc.x509dname "C=GB,O=Example,CN=b*" allow', 'acl: added rule at position 2\r\n')
    session('bob', True)
    hmp('acl_add vnc.x509dname "*CN=bob" deny 1', 'acl: added rule at position 1\r\n')
    hmp('acl_show vnc.x509dname',
        'policy: deny\r\n1: deny *CN=bob\r\n2: allow %s\r\n3: allow C=GB,O=Example,CN=b*\r\n' % ALICE_DN)
    session('bob', False)   # first match wins


def t_remove_alice():
    hmp('acl_remove vnc.x509dname %s' % ALICE_DN, 'acl: removed rule at position 2\r\n')
    session('alice', False)
    hmp('acl_remove vnc.x509dname %s' % ALICE_DN, 'acl: no matching acl entry\r\n')


def t_policy_and_reset():
    hmp('acl_policy vnc.x509dname allow', "acl: policy set to 'allow'\r\n")
    session('alice', True)
    session('bob', False)   # still denied by rule 1
    hmp('acl_reset vnc.x509dname', 'acl: removed all rules\r\n')
    hmp('acl_show vnc.x509dname', 'policy: deny\r\n')
    session('alice', False)
    check(emu.alive(), 'qvnc-emu died')


run.case('-vnc ...,acl: vnc.x509dname exists and denies everyone', t_default_deny)
run.case('acl_add alice allow: alice logs in, bob is refused', t_allow_alice)
run.case('fnmatch globs, insertion before a position, first match wins', t_glob_and_positions)
run.case('acl_remove: alice is refused at her next login', t_remove_alice)
run.case('acl_policy allow, then acl_reset back to deny', t_policy_and_reset)
run.finish()
