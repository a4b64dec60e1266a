"""A throwaway MIT Kerberos realm for the GSSAPI tests: kdb5_util,
kadmin.local and krb5kdc -n on a loopback port chosen at run time, all
inside the test's own temporary directory.
"""

import os
import socket

# sasl_fixtures puts ../ (qvnc_testlib) on the path.
from sasl_fixtures import HOST, Fail, check, run_tool, wait_err
from qvnc_testlib import Proc


class KdcError(Fail):
    pass


class Kdc:
    """A realm in `root`: krb5.conf, kdc.conf, the database, a keytab with
    the VNC service principals, and krb5kdc -n on 127.0.0.1:<port> (UDP and
    TCP).  start() returns after the KDC logs "commencing operation"."""

    REALM = 'QVNC.TEST'
    MASTER = 'qvnc-master-Pw0'

    def __init__(self, root):
        self.root = root
        os.makedirs(root, exist_ok=True)
        self.krb5_conf = os.path.join(root, 'krb5.conf')
        self.kdc_conf = os.path.join(root, 'kdc.conf')
        self.keytab = os.path.join(root, 'vnc.keytab')
        self.db = os.path.join(root, 'principal')
        self.proc = None
        self.port = None
        self.log = os.path.join(root, 'kdc.log')

    def env(self):
        env = dict(os.environ)
        env['KRB5_CONFIG'] = self.krb5_conf
        env['KRB5_KDC_PROFILE'] = self.kdc_conf
        env['KRB5RCACHEDIR'] = self.root
        return env

    def client_env(self, ccache):
        return {'KRB5_CONFIG': self.krb5_conf, 'KRB5CCNAME': 'FILE:' + ccache,
                'KRB5_TRACE': ccache + '.trace'}

    def server_env(self):
        return {'KRB5_CONFIG': self.krb5_conf, 'KRB5_KTNAME': 'FILE:' + self.keytab,
                'KRB5RCACHEDIR': self.root, 'KRB5_TRACE': os.path.join(self.root, 'server.trace')}

    def _write_conf(self, port):
        with open(self.krb5_conf, 'w') as f:
            f.write('[libdefaults]\n'
                    '  default_realm = %(r)s\n'
                    '  dns_lookup_kdc = false\n'
                    '  dns_lookup_realm = false\n'
                    '  dns_canonicalize_hostname = false\n'
                    '  rdns = false\n'
                    '  ignore_acceptor_hostname = true\n'
                    '  default_ccache_name = FILE:%(d)s/default.ccache\n'
                    '  default_keytab_name = FILE:%(d)s/vnc.keytab\n'
                    '[realms]\n'
                    '  %(r)s = {\n'
                    '    kdc = 127.0.0.1:%(p)d\n'
                    '  }\n' % {'r': self.REALM, 'd': self.root, 'p': port})
        with open(self.kdc_conf, 'w') as f:
            f.write('[kdcdefaults]\n'
                    '  kdc_listen = 127.0.0.1:%(p)d\n'
                    '  kdc_tcp_listen = 127.0.0.1:%(p)d\n'
                    '[realms]\n'
                    '  %(r)s = {\n'
                    '    database_name = %(d)s/principal\n'
                    '    key_stash_file = %(d)s/stash\n'
                    '    acl_file = %(d)s/kadm5.acl\n'
                    '    kdc_listen = 127.0.0.1:%(p)d\n'
                    '    kdc_tcp_listen = 127.0.0.1:%(p)d\n'
                    '    max_life = 1h\n'
                    '  }\n'
                    '[logging]\n'
                    '  kdc = STDERR\n'
                    '  default = FILE:%(d)s/kadmin.log\n' % {'r': self.REALM, 'd': self.root, 'p': port})

    def kadmin(self, query):
        return run_tool(['kadmin.local', '-r', self.REALM, '-q', query], 'kadmin.local %r' % query,
                        env=self.env())

    def create(self, users):
        """Database, principals user@REALM (password) for each user, and
        vnc/127.0.0.1 + vnc/localhost in the keytab."""
        self._write_conf(0)   # the port is written again by start()
        run_tool(['kdb5_util', '-r', self.REALM, 'create', '-s', '-P', self.MASTER], 'kdb5_util create',
                 env=self.env())
        for user, pw in users.items():
            self.kadmin('addprinc -pw %s %s@%s' % (pw, user, self.REALM))
        for host in ('127.0.0.1', 'localhost'):
            self.kadmin('addprinc -randkey vnc/%s@%s' % (host, self.REALM))
            self.kadmin('ktadd -k %s vnc/%s@%s' % (self.keytab, host, self.REALM))
        p = run_tool(['klist', '-k', self.keytab], 'klist -k', env=self.env())
        for host in ('127.0.0.1', 'localhost'):
            check('vnc/%s@%s' % (host, self.REALM) in p.stdout,
                  'keytab %s lacks vnc/%s: %s' % (self.keytab, host, p.stdout))

    def start(self, attempts=5):
        last = None
        for _ in range(attempts):
            port = self._free_udp_tcp_port()
            self._write_conf(port)
            try:
                proc = Proc(['krb5kdc', '-n'], name='krb5kdc', env=self.env(), stdin=False)
            except FileNotFoundError:
                raise KdcError('krb5kdc is not installed (Debian krb5-kdc, see .ci/deps.sh)')
            try:
                wait_err(proc, r'commencing operation', timeout=20, what='KDC start')
                self.proc, self.port = proc, port
                return port
            except Fail as e:
                last = e
                proc.stop()
                text = '\n'.join(proc.err).lower()
                if 'in use' in text:
                    continue
                raise KdcError('the KDC did not start on 127.0.0.1:%d: %s' % (port, e))
        raise KdcError('the KDC did not start (ports taken?): %s' % last)

    @staticmethod
    def _free_udp_tcp_port():
        for _ in range(50):
            t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            try:
                t.bind((HOST, 0))
                port = t.getsockname()[1]
                u.bind((HOST, port))
                return port
            except OSError:
                continue
            finally:
                t.close()
                u.close()
        raise KdcError('no port free for both UDP and TCP on 127.0.0.1')

    def kinit(self, user, password, ccache):
        env = self.env()
        env['KRB5CCNAME'] = 'FILE:' + ccache
        run_tool(['kinit', '%s@%s' % (user, self.REALM)], 'kinit %s' % user, env=env, input_text=password + '\n')
        p = run_tool(['klist'], 'klist', env=env)
        check('%s@%s' % (user, self.REALM) in p.stdout, 'klist does not show %s: %s' % (user, p.stdout))

    def stop(self):
        if self.proc:
            self.proc.stop()

    def describe(self, n=15):
        return self.proc.stderr_tail(n) if self.proc else '(KDC not started)'
