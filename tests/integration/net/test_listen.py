#!/usr/bin/python3
"""Listen addresses (spec 1.3): unix:PATH, [::1]:D, ipv4/ipv6, to= ranges, several vnc=.

Every display is on 127.0.0.1, ::1 or a unix socket in a temporary folder,
with ports chosen at run time. For each listener a raw RFB client runs the
handshake and checks qvnc-emu's `CLIENT initialized ... family=F` line.
The IPv6 cases print `# SKIP` and pass when ::1 cannot be bound here.
"""

import os
import re
import socket
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from netlib import (Fail, check, emu, launch, free_port, connect_unix, SockRfbClient, run_expect_exit,  # noqa: E402
                    HOST)
from qvnc_testlib import Runner, RfbClient, tmpdir, frame_dump, compare_pixels, ENC_RAW  # noqa: E402

W, H = 160, 100
run = Runner('net-listen')
work = tmpdir('qvnc-listen-')


def ipv6_loopback():
    """None if ::1 works here, else the reason."""
    if not socket.has_ipv6:
        return 'Python was built without IPv6'
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    try:
        s.bind(('::1', 0))
    except OSError as e:
        return 'cannot bind [::1]: %s' % e
    finally:
        s.close()
    return None


NO_V6 = ipv6_loopback()


def base_argv(dump=None):
    a = [emu(), '-S', '--guest', 'pattern', '--size', '%dx%d' % (W, H)]
    if dump:
        a += ['--frame-dump', dump]
    return a


def check_client(srv, sock, label, family, host=None):
    """Handshake over sock, one Raw frame, and the CLIENT initialized line."""
    mark = srv.mark()
    c = SockRfbClient(sock, label=label)
    si = c.handshake(8, expect_type=1)
    check((si.width, si.height) == (W, H), '%s: ServerInit %dx%d' % (label, si.width, si.height))
    _, m = srv.wait_line(r'^CLIENT initialized host=(\S*) service=(\S*) family=(\S+) websocket=(\d) display=(\S+)',
                         10, mark, what=label + ' CLIENT initialized')
    check(m.group(3) == family, '%s: family=%s, expected %s (line: %s)' % (label, m.group(3), family, m.group(0)))
    if host is not None:
        check(m.group(1) == host, '%s: host=%s, expected %s' % (label, m.group(1), host))
    c.set_encodings([ENC_RAW])
    c.fbur(False, 0, 0, 16, 16)
    msg = c.read_message()
    check(msg[0] == 'update', '%s: expected a FramebufferUpdate, got %r' % (label, msg[:1]))
    c.close()
    return m


def t_unix():
    path = os.path.join(work, 'vnc.sock')
    dump = os.path.join(work, 'unix.ppm')
    srv, _ = launch(lambda _p: base_argv(dump) + ['-vnc', 'unix:%s' % path], name='qvnc-emu unix')
    try:
        check(os.path.exists(path), 'unix: %s was not created' % path)
        m = check_client(srv, connect_unix(path), 'unix client', 'unix', host='')
        print('# unix: %s' % m.group(0), flush=True)
        # Whole frame over the unix socket equals the dump.
        _, _, rgb = frame_dump(srv, dump)
        c = SockRfbClient(connect_unix(path), label='unix frame')
        c.handshake(8, expect_type=1)
        c.set_encodings([ENC_RAW])
        c.fbur(False)
        compare_pixels(c.pf, W, H, rgb, c.read_frame(), 'unix: Raw frame')
        c.close()
        # A second client at the same time.
        a = SockRfbClient(connect_unix(path), label='unix a')
        b = SockRfbClient(connect_unix(path), label='unix b')
        a.handshake(8, expect_type=1)
        b.handshake(8, expect_type=1)
        a.close()
        b.close()
    finally:
        srv.stop()


def t_unix_errors():
    path = os.path.join(work, 'range.sock')
    vnc = 'unix:%s,to=3' % path
    p = run_expect_exit(base_argv() + ['-vnc', vnc])
    want = 'qvnc-emu: -vnc %s: Port range not support with UNIX socket' % vnc
    check(p.returncode == 1 and want in p.stderr, 'unix with to=: exit %d, stderr %r, expected %r'
          % (p.returncode, p.stderr.strip(), want))


def t_ipv6():
    if NO_V6:
        print('# SKIP [::1]:D: %s' % NO_V6, flush=True)
        return
    srv, (port,) = launch(lambda p: base_argv() + ['-vnc', '[::1]:%d' % (p - 5900)], name='qvnc-emu ipv6',
                          host='::1', family=socket.AF_INET6)
    try:
        s = socket.create_connection(('::1', port), timeout=10)
        m = check_client(srv, s, 'ipv6 client', 'ipv6', host='::1')
        print('# ipv6: %s' % m.group(0), flush=True)
        # Nothing on 127.0.0.1 at that port.
        s4 = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s4.settimeout(5)
        try:
            rc = s4.connect_ex((HOST, port))
        finally:
            s4.close()
        check(rc != 0, '[::1]:%d also accepts on 127.0.0.1' % (port - 5900))
    finally:
        srv.stop()


def t_families():
    # ipv4=on on 127.0.0.1 listens; ipv6=on on 127.0.0.1 has no address.
    srv, (port,) = launch(lambda p: base_argv() + ['-vnc', '%s:%d,ipv4=on' % (HOST, p - 5900)],
                          name='qvnc-emu ipv4=on')
    try:
        check_client(srv, socket.create_connection((HOST, port), timeout=10), 'ipv4=on client', 'ipv4', HOST)
    finally:
        srv.stop()
    d = free_port() - 5900
    vnc = '%s:%d,ipv6=on' % (HOST, d)
    p = run_expect_exit(base_argv() + ['-vnc', vnc])
    print('# %s: exit %d, stderr: %s' % (vnc, p.returncode, p.stderr.strip()[-200:]), flush=True)
    check(p.returncode == 1 and 'READY' not in p.stdout and ('qvnc-emu: -vnc %s: ' % vnc) in p.stderr,
          '-vnc %s: expected exit 1 with a -vnc error, got %d, stderr %r' % (vnc, p.returncode, p.stderr.strip()))
    if NO_V6:
        print('# SKIP [::1] with ipv6=on / ipv4=on: %s' % NO_V6, flush=True)
        return
    srv, (port,) = launch(lambda p: base_argv() + ['-vnc', '[::1]:%d,ipv6=on' % (p - 5900)],
                          name='qvnc-emu ipv6=on', host='::1', family=socket.AF_INET6)
    try:
        check_client(srv, socket.create_connection(('::1', port), timeout=10), 'ipv6=on client', 'ipv6', '::1')
    finally:
        srv.stop()


def occupy(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((HOST, port))
    s.listen(1)
    return s


def three_free_ports():
    """P, P+1, P+2 all free on 127.0.0.1, P >= 5900; P is returned bound and listening."""
    for _ in range(50):
        p = free_port()
        if p + 2 > 65535:
            continue
        held = []
        try:
            for q in (p, p + 1, p + 2):
                held.append(occupy(q))
        except OSError:
            for s in held:
                s.close()
            continue
        held[1].close()
        held[2].close()
        return p, held[0]
    raise Fail('no three consecutive free ports')


def t_to_range():
    p, blocker = three_free_ports()
    try:
        d = p - 5900
        vnc = '%s:%d,to=%d' % (HOST, d, d + 2)
        srv, _ = launch(lambda _x: base_argv() + ['-vnc', vnc], name='qvnc-emu to=')
        try:
            # The first port is ours: the server must be on P+1.
            check_client(srv, socket.create_connection((HOST, p + 1), timeout=10), 'to= client on P+1', 'ipv4', HOST)
            m = re.search(r'VNC server running on (\S+)', '\n'.join(srv.err))
            print('# to=: %s' % (m.group(0) if m else 'no "VNC server running on" line (QEMU prints it only '
                                  'in the HMP context)'), flush=True)
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.settimeout(5)
            rc = s.connect_ex((HOST, p + 2))
            s.close()
            check(rc != 0, 'to=: the server also listens on P+2 (%d)' % (p + 2))
        finally:
            srv.stop()
        # All ports of the range taken.
        held = [occupy(p + 1)]
        try:
            vnc = '%s:%d,to=%d' % (HOST, d, d + 1)
            r = run_expect_exit(base_argv() + ['-vnc', vnc])
            print('# to= all taken: exit %d, stderr: %s' % (r.returncode, r.stderr.strip()[-200:]), flush=True)
            check(r.returncode == 1 and 'READY' not in r.stdout and ('qvnc-emu: -vnc %s: ' % vnc) in r.stderr,
                  'to= with every port taken: exit %d, stderr %r' % (r.returncode, r.stderr.strip()))
        finally:
            for s in held:
                s.close()
    finally:
        blocker.close()


def t_several_addresses():
    path = os.path.join(work, 'multi.sock')
    v6 = NO_V6 is None

    def argv(p1, p2, p3):
        vnc = '%s:%d,vnc=%s:%d,vnc=unix:%s' % (HOST, p1 - 5900, HOST, p2 - 5900, path)
        if v6:
            vnc += ',vnc=[::1]:%d' % (p3 - 5900)
        return base_argv() + ['-vnc', vnc]

    srv, (p1, p2, p3) = launch(argv, nports=3, name='qvnc-emu vnc=*')
    try:
        check_client(srv, socket.create_connection((HOST, p1), timeout=10), 'first address', 'ipv4', HOST)
        check_client(srv, socket.create_connection((HOST, p2), timeout=10), 'second vnc= address', 'ipv4', HOST)
        m = check_client(srv, connect_unix(path), 'unix vnc= address', 'unix')
        if v6:
            try:
                s = socket.create_connection(('::1', p3), timeout=10)
            except OSError as e:
                raise Fail('[::1]:%d (vnc=[::1]:%d) refused: %s (port %d was free on 127.0.0.1 only?)'
                           % (p3, p3 - 5900, e, p3))
            check_client(srv, s, 'ipv6 vnc= address', 'ipv6', '::1')
        else:
            print('# SKIP the [::1] address of the vnc= list: %s' % NO_V6, flush=True)
        # One display: all clients report the same display id.
        ids = set(re.findall(r'display=(\S+)', '\n'.join(l for l in srv.lines if l.startswith('CLIENT initialized'))))
        check(len(ids) == 1, 'several vnc= addresses: clients on different displays %r' % ids)
        print('# several addresses, one display: %s' % m.group(5), flush=True)
        # Both TCP clients at once, on the same display.
        a = RfbClient(p1, label='a')
        b = RfbClient(p2, label='b')
        a.handshake()
        b.handshake()
        a.close()
        b.close()
    finally:
        srv.stop()


run.case('unix:PATH listener (handshake, frame, two clients)', t_unix)
run.case('unix:PATH with to= is refused', t_unix_errors)
run.case('[::1]:D IPv6 loopback', t_ipv6)
run.case('ipv4=on / ipv6=on restrict the family', t_families)
run.case('to= range: first free port when the first is taken; all taken fails', t_to_range)
run.case('several vnc= addresses on one display (TCP, TCP, unix, [::1])', t_several_addresses)
run.finish()
