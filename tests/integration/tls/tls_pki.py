"""Test PKI for the TLS integration tests, made with certtool (gnutls-bin).

make_pki(root) builds, in a directory the caller owns (a temp dir):

  ca/               the trusted CA (C=GB,O=Example CA,CN=qvnc test CA)
  good/             creds dir: ca-cert.pem, server-cert.pem (SAN 127.0.0.1,
                    localhost), server-key.pem            -> loads
  crl/              as good/ plus ca-crl.pem revoking carol's certificate
  encrypted/        as good/ but server-key.pem is PKCS#8, AES-256, with
                    SERVER_KEY_PASSWORD
  badca/            ca-cert.pem = a CA whose KeyUsage lacks keyCertSign
  badserver/        server-cert.pem with a critical KeyUsage lacking
                    digitalSignature
  expiredserver/    server-cert.pem expired in 2021
  missing/          server files only, no ca-cert.pem
  clients/NAME-cert.pem, NAME-key.pem for NAME in CLIENTS

Nothing is shared with the host's trust store; every certificate is made at
test time, so no expiry date can rot in the tree.
"""

import datetime
import os
import shutil
import subprocess

CERTTOOL = shutil.which('certtool') or '/usr/bin/certtool'
SERVER_KEY_PASSWORD = 'k3y-pass!'

# name -> (subject DN in QEMU's order (gnutls_x509_crt_get_dn), issuer, validity)
CLIENTS = {
    'alice': ('C=GB,O=Example,CN=alice', 'ca', 'valid'),
    'bob': ('C=GB,O=Example,CN=bob', 'ca', 'valid'),
    'carol': ('C=GB,O=Example,CN=carol', 'ca', 'valid'),       # revoked in crl/
    'mallory': ('C=GB,O=Example,CN=mallory', 'ca2', 'valid'),  # untrusted CA
    'expired': ('C=GB,O=Example,CN=expired', 'ca', 'expired'),
    'future': ('C=GB,O=Example,CN=future', 'ca', 'future'),
}


class PkiError(Exception):
    pass


def _fmt(t):
    return t.strftime('%Y-%m-%d %H:%M:%S')


def _dates(kind):
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0, tzinfo=None)
    if kind == 'expired':
        return datetime.datetime(2020, 1, 1), datetime.datetime(2021, 1, 1)
    if kind == 'future':
        return now + datetime.timedelta(days=365), now + datetime.timedelta(days=730)
    return now - datetime.timedelta(days=1), now + datetime.timedelta(days=365)


def _run(argv, what):
    p = subprocess.run([CERTTOOL, *argv], stdin=subprocess.DEVNULL, capture_output=True, text=True)
    if p.returncode != 0:
        raise PkiError('certtool failed making %s (exit %d): %s\n%s'
                       % (what, p.returncode, ' '.join(argv), p.stderr.strip()))
    return p.stdout


def _template(path, lines):
    with open(path, 'w') as f:
        f.write('\n'.join(lines) + '\n')
    return path


class Pki:
    def __init__(self, root):
        self.root = root
        self.work = os.path.join(root, 'work')
        self.clients = os.path.join(root, 'clients')
        for d in (self.work, self.clients):
            os.makedirs(d, exist_ok=True)
        self.serial = 0x1000

    def path(self, *parts):
        return os.path.join(self.root, *parts)

    def client_cert(self, name):
        return os.path.join(self.clients, name + '-cert.pem')

    def client_key(self, name):
        return os.path.join(self.clients, name + '-key.pem')

    def creds_dir(self, name):
        return os.path.join(self.root, name)

    # -- primitives
    def key(self, name):
        out = os.path.join(self.work, name + '-key.pem')
        _run(['--generate-privkey', '--key-type', 'rsa', '--bits', '2048', '--outfile', out], 'key ' + name)
        return out

    def _dn_lines(self, dn):
        lines = []
        for part in dn.split(','):
            k, v = part.split('=', 1)
            lines.append({'C': 'country = %s', 'O': 'organization = "%s"', 'CN': 'cn = "%s"'}[k] % v)
        return lines

    def _validity(self, kind):
        start, end = _dates(kind)
        self.serial += 1
        return ['activation_date = "%s"' % _fmt(start), 'expiration_date = "%s"' % _fmt(end),
                'serial = %d' % self.serial]

    def self_signed(self, name, dn, key, extra):
        tmpl = _template(os.path.join(self.work, name + '.tmpl'),
                         self._dn_lines(dn) + self._validity('valid') + extra)
        out = os.path.join(self.work, name + '-cert.pem')
        _run(['--generate-self-signed', '--load-privkey', key, '--template', tmpl, '--outfile', out], name)
        return out

    def signed(self, name, dn, key, ca_cert, ca_key, extra, validity='valid'):
        tmpl = _template(os.path.join(self.work, name + '.tmpl'),
                         self._dn_lines(dn) + self._validity(validity) + extra)
        out = os.path.join(self.work, name + '-cert.pem')
        _run(['--generate-certificate', '--load-privkey', key, '--load-ca-certificate', ca_cert,
              '--load-ca-privkey', ca_key, '--template', tmpl, '--outfile', out], name)
        return out

    def creds(self, name, ca, cert, key, crl=None):
        d = os.path.join(self.root, name)
        os.makedirs(d, exist_ok=True)
        for src, dst in ((ca, 'ca-cert.pem'), (cert, 'server-cert.pem'), (key, 'server-key.pem'),
                         (crl, 'ca-crl.pem')):
            if src:
                shutil.copyfile(src, os.path.join(d, dst))
        return d


SERVER_EXT = ['dns_name = "localhost"', 'ip_address = "127.0.0.1"', 'tls_www_server', 'signing_key',
              'encryption_key']
CLIENT_EXT = ['tls_www_client', 'signing_key', 'encryption_key']
CA_EXT = ['ca', 'cert_signing_key', 'crl_signing_key']


def make_pki(root):
    """Builds the whole PKI under root (see the module doc). Returns a Pki."""
    pki = Pki(root)
    ca_key = pki.key('ca')
    ca2_key = pki.key('ca2')
    server_key = pki.key('server')
    client_key = pki.key('client')
    bob_key = pki.key('bob')

    ca = pki.self_signed('ca', 'C=GB,O=Example CA,CN=qvnc test CA', ca_key, CA_EXT)
    ca2 = pki.self_signed('ca2', 'C=GB,O=Untrusted CA,CN=qvnc other CA', ca2_key, CA_EXT)
    os.makedirs(pki.path('ca'), exist_ok=True)
    shutil.copyfile(ca, pki.path('ca', 'ca-cert.pem'))
    pki.ca_cert = pki.path('ca', 'ca-cert.pem')
    shutil.copyfile(ca2, pki.path('ca', 'ca2-cert.pem'))
    pki.ca2_cert = pki.path('ca', 'ca2-cert.pem')

    server = pki.signed('server', 'C=GB,O=Example,CN=localhost', server_key, ca, ca_key, SERVER_EXT)
    pki.creds('good', ca, server, server_key)

    for name, (dn, issuer, validity) in CLIENTS.items():
        key = bob_key if name == 'bob' else client_key
        issuer_cert, issuer_key = (ca, ca_key) if issuer == 'ca' else (ca2, ca2_key)
        cert = pki.signed('client-' + name, dn, key, issuer_cert, issuer_key, CLIENT_EXT, validity)
        shutil.copyfile(cert, pki.client_cert(name))
        shutil.copyfile(key, pki.client_key(name))

    # A CRL revoking carol.
    crl_tmpl = _template(os.path.join(pki.work, 'crl.tmpl'),
                         ['crl_next_update = 365', 'crl_number = 1'])
    crl = os.path.join(pki.work, 'ca-crl.pem')
    _run(['--generate-crl', '--load-ca-privkey', ca_key, '--load-ca-certificate', ca,
          '--load-certificate', pki.client_cert('carol'), '--template', crl_tmpl, '--outfile', crl], 'CRL')
    pki.creds('crl', ca, server, server_key, crl)

    # The server key as encrypted PKCS#8.
    enc_key = os.path.join(pki.work, 'server-key-enc.pem')
    _run(['--to-p8', '--load-privkey', server_key, '--password', SERVER_KEY_PASSWORD,
          '--pkcs-cipher', 'aes-256', '--outfile', enc_key], 'encrypted PKCS#8 key')
    with open(enc_key) as f:
        if 'ENCRYPTED PRIVATE KEY' not in f.read():
            raise PkiError('certtool --to-p8 did not write an encrypted key: %s' % enc_key)
    pki.creds('encrypted', ca, server, enc_key)

    # A CA that may not sign certificates (KeyUsage digitalSignature only).
    badca = pki.self_signed('badca', 'C=GB,O=Example CA,CN=qvnc bad CA', ca_key,
                            ['ca', 'signing_key'])
    badca_server = pki.signed('badca-server', 'C=GB,O=Example,CN=localhost', server_key, badca, ca_key,
                              SERVER_EXT)
    pki.creds('badca', badca, badca_server, server_key)

    # A server certificate whose critical KeyUsage lacks digitalSignature.
    badserver = pki.signed('badserver', 'C=GB,O=Example,CN=localhost', server_key, ca, ca_key,
                           ['dns_name = "localhost"', 'ip_address = "127.0.0.1"', 'tls_www_server',
                            'encryption_key'])
    pki.creds('badserver', ca, badserver, server_key)

    expiredserver = pki.signed('expiredserver', 'C=GB,O=Example,CN=localhost', server_key, ca, ca_key,
                               SERVER_EXT, 'expired')
    pki.creds('expiredserver', ca, expiredserver, server_key)

    pki.creds('missing', None, server, server_key)
    return pki


if __name__ == '__main__':
    import sys
    p = make_pki(sys.argv[1])
    print(p.root)
