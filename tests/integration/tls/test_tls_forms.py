#!/usr/bin/python3
"""The option spellings that make a TLS display: libvirt's JSON -object with
tls-creds=, the legacy tls / x509= / x509verify= keys, and their errors.

Environment: QVNC_EMU. Each form starts its own qvnc-emu and is checked on
the wire: the VeNCrypt sub-type offered, and a TLS client (stdlib ssl) that
gets through or is refused as the form implies.
Reference: qemu-tests.md 7 (back-compat keys, error strings), libvirt-notes.md.
"""

import json
import os
import shutil
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from tls_common import (Fail, TlsRefused, VencryptClient, check, expect_bytes, hexs, start_tls_emu,  # noqa: E402
                        run_emu_expect_exit, err_mark, wait_client_closed, x509_context,
                        anon_context, TLS_NONE, X509_NONE, X509_SASL, SUBTYPE_NAMES)
from qvnc_testlib import Runner, tmpdir  # noqa: E402
import tls_pki  # noqa: E402

run = Runner('test_tls_forms')
tmp = tmpdir('qvnc-tls-forms-')
run.at_exit(lambda: shutil.rmtree(tmp, ignore_errors=True))   # runs last
try:
    pki = tls_pki.make_pki(os.path.join(tmp, 'pki'))
except tls_pki.PkiError as e:
    run.fatal(str(e))
GOOD = pki.creds_dir('good')

LIBVIRT_OBJ = json.dumps({'qom-type': 'tls-creds-x509', 'id': 'vnc-tls-creds0', 'dir': GOOD,
                          'endpoint': 'server', 'verify-peer': True}, separators=(',', ':'))


def alice():
    return x509_context(pki.ca_cert, pki.client_cert('alice'), pki.client_key('alice'))


def offered_subtype(port):
    """Reads the single VeNCrypt sub-type the server offers, then leaves."""
    c = VencryptClient(port, label='sub-type probe')
    try:
        c.version(8)
        expect_bytes(c.recv_exact(2, 'security types'), b'\x01\x13', 'security types of a TLS display')
        c.send(b'\x13')
        expect_bytes(c.recv_exact(2, 'VeNCrypt version'), b'\x00\x02', 'VeNCrypt version')
        c.send(b'\x00\x02')
        offer = c.recv_exact(6, 'VeNCrypt offer')
        check(offer[:2] == b'\x00\x01', 'VeNCrypt ack/count [%s]' % hexs(offer))
        return struct.unpack('>I', offer[2:])[0]
    finally:
        c.close()


def x509_session(proc, port, ctx, label, dn):
    """A full X509None session; dn=None means the server must not report one."""
    start = proc.mark()
    c = VencryptClient(port, label=label)
    try:
        c.vencrypt_until_ack(X509_NONE)
        c.start_tls(ctx, '127.0.0.1')
        expect_bytes(c.recv_exact(4, 'SecurityResult'), b'\0\0\0\0', '%s: SecurityResult' % label)
        c.client_init()
        _, m = proc.wait_line(r'^CLIENT initialized host=127\.0\.0\.1 service=%d .*$' % c.local_port, start=start,
                              what='CLIENT initialized (%s)' % label)
        if dn:
            check(('x509-dname=' + dn) in m.group(0), '%s: CLIENT line lacks x509-dname=%s: %s'
                  % (label, dn, m.group(0)))
        else:
            check('x509-dname=' not in m.group(0), '%s: unexpected DN: %s' % (label, m.group(0)))
    finally:
        c.close()


def refused_without_cert(proc, port, label):
    start = err_mark(proc)
    c = VencryptClient(port, label=label)
    try:
        c.vencrypt_until_ack(X509_NONE)
        got = b''
        try:
            c.start_tls(x509_context(pki.ca_cert), '127.0.0.1')
            got = c.read_until_eof(what='the server to drop a client without a certificate')
        except TlsRefused:
            pass
        check(got == b'', '%s: RFB data for a client without a certificate: [%s]' % (label, hexs(got)))
    finally:
        c.close()
    wait_client_closed(proc, c.local_port, start, r'^TLS (handshake failed|client certificate rejected)', label)


def form(vnc_opts, objects, want_subtype, verify, label):
    def body():
        proc, port = start_tls_emu(vnc_opts, objects, name='qvnc-emu(%s)' % label)
        try:
            st = offered_subtype(port)
            check(st == want_subtype, '%s: VeNCrypt offers sub-type %d (%s), expected %d (%s)'
                  % (label, st, SUBTYPE_NAMES.get(st, '?'), want_subtype, SUBTYPE_NAMES[want_subtype]))
            if want_subtype == X509_NONE:
                x509_session(proc, port, alice(), label + ': alice', 'C=GB,O=Example,CN=alice' if verify else None)
                if verify:
                    refused_without_cert(proc, port, label + ': no client certificate')
                else:
                    x509_session(proc, port, x509_context(pki.ca_cert), label + ': no client certificate', None)
            elif want_subtype == TLS_NONE:
                c = VencryptClient(port, label=label + ': anonymous')
                try:
                    c.vencrypt_until_ack(TLS_NONE)
                    c.start_tls(anon_context())
                    expect_bytes(c.recv_exact(4, 'SecurityResult'), b'\0\0\0\0', 'SecurityResult')
                    c.client_init()
                finally:
                    c.close()
            check(proc.alive(), '%s: server died\n%s' % (label, proc.describe()))
        finally:
            proc.stop()
    return body


def t_libvirt_sasl(vnc_opts, objects, label):
    """libvirt's forms with sasl: either SASL is not there yet and the server
    says so, or the display offers X509SASL (263, QEMU's numbering)."""
    def body():
        try:
            proc, port = start_tls_emu(vnc_opts, objects, name='qvnc-emu(%s)' % label)
        except Fail as e:
            msg = str(e)
            check('not implemented yet' in msg or 'SASL' in msg,
                  '%s: the server refused to start, but not with a clear "not implemented yet": %s' % (label, msg))
            print('# %s: refused at start: SASL not available' % label)
            return
        try:
            st = offered_subtype(port)
            check(st == X509_SASL, '%s: VeNCrypt offers %d (%s), expected 263 (X509SASL)'
                  % (label, st, SUBTYPE_NAMES.get(st, '?')))
            print('# %s: starts and offers X509SASL (263)' % label)
        finally:
            proc.stop()
    return body


def t_error(vnc_opts, objects, *wants):
    """qvnc-emu exits 1 with one of QEMU's messages (several when QEMU's
    wording changed between versions)."""
    def body():
        rc, out, err = run_emu_expect_exit(vnc_opts, objects)
        check(rc == 1, '-vnc ...,%s: exit status %s, expected 1\n  stdout: %s\n  stderr: %s'
              % (vnc_opts, rc, out.strip(), err.strip()))
        check(any(w in err for w in wants), '-vnc ...,%s: stderr lacks %s:\n  %s'
              % (vnc_opts, ' or '.join(repr(w) for w in wants), err.strip()))
    return body


run.case('libvirt: JSON tls-creds-x509 object + tls-creds=vnc-tls-creds0 (verify-peer true)',
         form('tls-creds=vnc-tls-creds0', [LIBVIRT_OBJ], X509_NONE, True, 'libvirt JSON'))
run.case('libvirt: JSON object, verify-peer false',
         form('tls-creds=vnc-tls-creds0', [LIBVIRT_OBJ.replace('"verify-peer":true', '"verify-peer":false')],
              X509_NONE, False, 'libvirt JSON no verify'))
run.case('libvirt: JSON object + tls-creds=...,sasl=on',
         t_libvirt_sasl('tls-creds=vnc-tls-creds0,sasl=on', [LIBVIRT_OBJ], 'libvirt JSON + sasl=on'))
run.case('legacy: tls,x509verify=DIR (verify on)',
         form('tls,x509verify=' + GOOD, [], X509_NONE, True, 'tls,x509verify'))
run.case('legacy: tls=on,x509verify=DIR (verify on)',
         form('tls=on,x509verify=' + GOOD, [], X509_NONE, True, 'tls=on,x509verify'))
run.case('legacy: tls,x509=DIR (verify off)',
         form('tls,x509=' + GOOD, [], X509_NONE, False, 'tls,x509'))
run.case('legacy: bare tls -> anonymous TLSNone',
         form('tls', [], TLS_NONE, False, 'tls'))
run.case('legacy: tls,x509verify=DIR,sasl (libvirt\'s old form)',
         t_libvirt_sasl('tls,x509verify=%s,sasl' % GOOD, [], 'tls,x509verify,sasl'))
run.case('error: tls-creds with tls',
         t_error('tls-creds=vnc-tls-creds0,tls', [LIBVIRT_OBJ],
                 "'tls-creds' parameter is mutually exclusive with 'tls', 'x509' and 'x509verify' parameters"))
run.case('error: tls-creds with x509verify',
         t_error('tls-creds=vnc-tls-creds0,x509verify=' + GOOD, [LIBVIRT_OBJ],
                 "'tls-creds' parameter is mutually exclusive with 'tls', 'x509' and 'x509verify' parameters"))
run.case('error: unknown tls-creds id',
         t_error('tls-creds=nope', [], "No TLS credentials with id 'nope'"))
run.case('error: tls-creds names a secret',
         t_error('tls-creds=s0', ['secret,id=s0,data=x'], "Object with id 's0' is not TLS credentials"))
run.case('error: client-endpoint creds',
         t_error('tls-creds=c0', ['tls-creds-x509,id=c0,dir=%s,endpoint=client' % GOOD],
                 'Expecting TLS credentials with a server endpoint',     # QEMU <= 6.0 ui/vnc.c
                 'Expected TLS credentials for a server endpoint'))      # qcrypto_tls_creds_check_endpoint
run.case('error: tls-authz without TLS',
         t_error('tls-authz=a0', ['authz-simple,id=a0,identity=x'], "'tls-authz' provided but TLS is not enabled"))
run.case('error: legacy x509verify with a missing ca-cert.pem',
         t_error('tls,x509verify=' + pki.creds_dir('missing'), [],
                 'Unable to access credentials %s/ca-cert.pem: No such file or directory' % pki.creds_dir('missing')))
run.finish()
