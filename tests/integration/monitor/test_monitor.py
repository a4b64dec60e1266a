#!/usr/bin/python3
"""QMP and HMP end to end: qvnc-emu with -qmp on a unix socket, a QMP client
written here (stdlib json + socket) and a raw RFB client doing VNC
authentication (qvnc_des.py).

* greeting, capabilities negotiation, -S (prelaunch) until cont;
* query-vnc, change-vnc-password, set_password + expire_password as libvirt
  sends them, checked by logging in before and after expiry;
* VNC_CONNECTED / VNC_INITIALIZED / VNC_DISCONNECTED in order with QEMU's
  payloads;
* getfd over SCM_RIGHTS + add_client with a socketpair speaking RFB;
* libvirt's monitor set-up: -chardev socket,fd=N,server=on,wait=off + -mon
  on a listening socket the test made, with the rest of a libvirt command line;
* bad input (malformed JSON, unknown commands, wrong types, a 10 MiB line,
  a client leaving mid-command) answered clearly, the monitor still serving;
* HMP on -monitor unix:..., and quit.

Environment: QVNC_EMU.  Reference: qemu-vnc-spec.md 4, libvirt-notes.md.
"""

import os
import socket
import struct
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from qmp_client import Qmp, start_emu_monitor  # noqa: E402
from qvnc_testlib import (Fail, Runner, RfbClient, check, expect_bytes, tmpdir, wait_err, HOST)  # noqa: E402
import qvnc_des  # noqa: E402

AUTH_FAILED = struct.pack('>II', 1, 22) + b'Authentication failed\0'

run = Runner('test_monitor')
tmp = tmpdir('qvnc-monitor-')
hmp_path = os.path.join(tmp, 'hmp.sock')

try:
    emu, port, qmp_path = start_emu_monitor(
        tmp, ',password-secret=vncsec0',
        ['-S', '-object', 'secret,id=vncsec0,data=initial',
         '-monitor', 'unix:%s,server,nowait' % hmp_path])
except Fail as e:
    run.fatal('cannot start qvnc-emu: %s' % e)
run.at_exit(emu.stop)


class State:
    q = None


def login(password, ok, what):
    """VNC authentication with `password`; ok: ServerInit must follow,
    else QEMU's failure. Returns the client's local port."""
    c = RfbClient(port, label='vnc-auth %s' % what)
    try:
        c.version(8)
        expect_bytes(c.recv_exact(2, 'security types'), b'\x01\x02', '%s: security types' % what)
        c.send(b'\x02')
        challenge = c.recv_exact(16, 'challenge')
        c.send(qvnc_des.vnc_response(password, challenge))
        if ok:
            expect_bytes(c.recv_exact(4, 'SecurityResult'), b'\0\0\0\0', '%s: SecurityResult' % what)
            si = c.client_init()
            check(si.name == b'QEMU (vm1)', '%s: desktop name %r' % (what, si.name))
        else:
            c.expect_eof_exact(AUTH_FAILED, '%s: rejection' % what)
        return c.sock.getsockname()[1]
    finally:
        c.close()


def t_negotiation_and_prelaunch():
    q = State.q = Qmp(qmp_path, negotiate=False, label='qmp')
    check(q.greeting == {'QMP': {'version': {'qemu': {'micro': 0, 'minor': 2, 'major': 7},
                                             'package': 'qvnc-0.1.0'}, 'capabilities': []}},
          'greeting %r' % q.greeting)
    d = q.error('query-status', cls='CommandNotFound')
    check(d == "Expecting capabilities negotiation with 'qmp_capabilities'", 'before negotiation: %r' % d)
    check(q.cmd('qmp_capabilities') == {'return': {}}, 'qmp_capabilities')
    d = q.error('qmp_capabilities', cls='CommandNotFound')
    check(d == 'Capabilities negotiation is already complete, command ignored', 'twice: %r' % d)
    st = q.ok('query-status')
    check(st == {'running': False, 'singlestep': False, 'status': 'prelaunch'}, '-S: %r' % st)
    check(q.hmp('info status') == 'VM status: paused (prelaunch)\r\n', 'HMP info status')
    mark = emu.mark()
    q.ok('cont')
    ev = q.wait_event('RESUME')
    check(set(ev) == {'timestamp', 'event'} and set(ev['timestamp']) == {'seconds', 'microseconds'},
          'RESUME %r' % ev)
    emu.wait_line(r'^RUNSTATE running$', start=mark, what='the guest resumed')
    check(q.ok('query-status')['running'] is True, 'running after cont')
    v = q.ok('query-version')
    check(v == {'qemu': {'micro': 0, 'minor': 2, 'major': 7}, 'package': 'qvnc-0.1.0'}, 'query-version %r' % v)
    names = {c['name'] for c in q.ok('query-commands')}
    for c in ('query-vnc', 'set_password', 'expire_password', 'change-vnc-password', 'getfd', 'add_client',
              'human-monitor-command', 'display-reload', 'display-update', 'cont', 'stop', 'quit'):
        check(c in names, 'query-commands lacks %s' % c)


def t_query_vnc():
    info = State.q.ok('query-vnc')
    check(info == {'enabled': True, 'host': HOST, 'family': 'ipv4', 'service': str(port), 'auth': 'vnc',
                   'clients': []}, 'query-vnc %r' % info)
    servers = State.q.ok('query-vnc-servers')
    check(servers == [{'id': 'default', 'server': [{'host': HOST, 'service': str(port), 'family': 'ipv4',
                                                    'websocket': False, 'auth': 'vnc'}],
                       'clients': [], 'auth': 'vnc'}], 'query-vnc-servers %r' % servers)


def t_change_vnc_password():
    login('initial', True, 'the -object secret password')
    State.q.ok('change-vnc-password', {'password': 'changed1'})
    login('changed1', True, 'after change-vnc-password')
    login('initial', False, 'the old password')


def t_libvirt_passwords():
    q = State.q
    # libvirt: set_password with connected=keep, then expire_password with
    # an absolute time, "now" or "never".
    q.ok('set_password', {'protocol': 'vnc', 'password': 'pw-libvirt', 'connected': 'keep'})
    login('pw-libvirt', True, 'after set_password')
    q.ok('expire_password', {'protocol': 'vnc', 'time': str(int(time.time()) + 3600)})
    login('pw-libvirt', True, 'before expiry (absolute time in an hour)')
    q.ok('expire_password', {'protocol': 'vnc', 'time': '+3600'})
    login('pw-libvirt', True, 'before expiry (+3600)')
    q.ok('expire_password', {'protocol': 'vnc', 'time': 'now'})
    login('pw-libvirt', False, 'after expire_password now')
    q.ok('expire_password', {'protocol': 'vnc', 'time': str(int(time.time()) - 10)})
    login('pw-libvirt', False, 'expiry in the past')
    q.ok('expire_password', {'protocol': 'vnc', 'time': 'never'})
    login('pw-libvirt', True, 'after expire_password never')
    d = q.error('expire_password', {'protocol': 'vnc', 'time': 'soon'})
    check(d == "Parameter 'time' doesn't take value 'soon'", 'bad time: %r' % d)
    d = q.error('set_password', {'protocol': 'vnc', 'password': 'x', 'connected': 'disconnect'})
    check(d == "Invalid parameter 'connected'", 'connected=disconnect: %r' % d)
    d = q.error('set_password', {'protocol': 'spice', 'password': 'x'}, cls='DeviceNotActive')
    check(d == 'SPICE is not in use', 'spice: %r' % d)


def t_events():
    q = State.q
    q.events.clear()
    server = {'host': HOST, 'service': str(port), 'family': 'ipv4', 'websocket': False, 'auth': 'vnc'}
    cport = login('pw-libvirt', True, 'events')
    got = []
    while len(got) < 3:
        msg = q.read()
        check('event' in msg, 'unexpected message %r' % msg)
        got.append(msg)
    check([e['event'] for e in got] == ['VNC_CONNECTED', 'VNC_INITIALIZED', 'VNC_DISCONNECTED'],
          'event order %r' % [e['event'] for e in got])
    client = {'host': HOST, 'service': str(cport), 'family': 'ipv4', 'websocket': False}
    for e in got:
        check(e['data'] == {'server': server, 'client': client}, '%s payload %r' % (e['event'], e['data']))
        ts = e['timestamp']
        check(isinstance(ts['seconds'], int) and isinstance(ts['microseconds'], int)
              and abs(ts['seconds'] - time.time()) < 60 and 0 <= ts['microseconds'] < 1000000,
              'timestamp %r' % ts)
    t = [e['timestamp']['seconds'] * 1000000 + e['timestamp']['microseconds'] for e in got]
    check(t == sorted(t), 'timestamps not in order: %r' % t)


def t_hmp_info_vnc_with_client():
    c = RfbClient(port, label='info vnc client')
    try:
        c.version(8)
        c.recv_exact(2, 'security types')
        cport = c.sock.getsockname()[1]
        text = State.q.hmp('info vnc')
        want = ('default:\r\n  Server: %s:%d (ipv4)\r\n    Auth: vnc (Sub: none)\r\n'
                '  Client: %s:%d (ipv4)\r\n    x509_dname: none\r\n    sasl_username: none\r\n'
                % (HOST, port, HOST, cport))
        check(text == want, 'info vnc:\n%r\nexpected\n%r' % (text, want))
        clients = State.q.ok('query-vnc')['clients']
        check(clients == [{'host': HOST, 'service': str(cport), 'family': 'ipv4', 'websocket': False}],
              'query-vnc clients %r' % clients)
    finally:
        c.close()
    State.q.wait_event('VNC_DISCONNECTED')
    State.q.events.clear()


def t_getfd_add_client():
    q = State.q
    a, b = socket.socketpair()
    try:
        q.ok('getfd', {'fdname': 'graphicsfd'}, fds=[a.fileno()])
        a.close()
        q.ok('add_client', {'protocol': 'vnc', 'fdname': 'graphicsfd', 'skipauth': True})
        d = q.error('closefd', {'fdname': 'graphicsfd'})
        check(d == "File descriptor named 'graphicsfd' not found", 'the fd was not consumed: %r' % d)
        b.settimeout(10)

        def recv(n):
            data = b''
            while len(data) < n:
                chunk = b.recv(n - len(data))
                check(chunk, 'socketpair client: closed after %r' % data)
                data += chunk
            return data
        expect_bytes(recv(12), b'RFB 003.008\n', 'ProtocolVersion on the passed socket')
        b.sendall(b'RFB 003.008\n')
        # skipauth: security type None whatever the display's auth.
        expect_bytes(recv(2), b'\x01\x01', 'security types with skipauth')
        b.sendall(b'\x01')
        expect_bytes(recv(4), b'\0\0\0\0', 'SecurityResult')
        b.sendall(b'\x01')
        hdr = recv(24)
        name = recv(struct.unpack('>I', hdr[20:24])[0])
        check(name == b'QEMU (vm1)', 'desktop name %r' % name)
        ev = q.wait_event('VNC_INITIALIZED')
        check(ev['data']['client'] == {'host': '', 'service': '', 'family': 'unix', 'websocket': False},
              'add_client VNC_INITIALIZED client %r' % ev['data']['client'])
    finally:
        b.close()
    q.wait_event('VNC_DISCONNECTED')
    q.events.clear()
    d = q.error('getfd', {'fdname': 'nothing'})
    check(d == 'No file descriptor supplied via SCM_RIGHTS', 'getfd without fd: %r' % d)
    d = q.error('add_client', {'protocol': 'vnc', 'fdname': 'nothing'})
    check(d == "File descriptor named 'nothing' has not been found", 'add_client without fd: %r' % d)


def t_bad_input():
    q = State.q

    def raw(text):
        q.send_raw(text)
        return q.reply()
    r = raw('{"execute": }\r\n')
    check(r == {'error': {'class': 'GenericError', 'desc': 'JSON parse error, expecting value'}}, 'bad JSON %r' % r)
    r = raw("{'execute': 'query-status', 'id': 'single'}")
    check(r.get('id') == 'single' and r['return']['status'] == 'running', 'single quotes %r' % r)
    r = raw('[1, 2]')
    check(r['error']['desc'] == 'QMP input must be a JSON object', 'array %r' % r)
    d = q.error('no-such-command', cls='CommandNotFound')
    check(d == 'The command no-such-command has not been found', 'unknown command %r' % d)
    d = q.error('set_password', {'protocol': 'vnc', 'password': 12})
    check(d == "Invalid parameter type for 'password', expected: string", 'wrong type %r' % d)
    d = q.error('set_password', {'protocol': 'vnc'})
    check(d == "Parameter 'password' is missing", 'missing %r' % d)
    d = q.error('query-vnc', {'verbose': True})
    check(d == "Parameter 'verbose' is unexpected", 'extra %r' % d)
    r = raw('{"execute": "stop", "arguments": [1]}')
    check(r['error']['desc'] == "QMP input member 'arguments' must be an object", 'arguments %r' % r)
    # 10 MiB in one line: one error, and the monitor goes on.
    big = '{"execute": "human-monitor-command", "arguments": {"command-line": "' + 'A' * (10 << 20) + '"}}\r\n'
    r = raw(big)
    check(r == {'error': {'class': 'GenericError', 'desc': 'JSON token size limit exceeded'}}, '10 MiB line %r' % r)
    check(q.ok('query-status')['status'] == 'running', 'monitor after the 10 MiB line')
    check(emu.alive(), 'qvnc-emu died')

    # A client that leaves in the middle of a command; the next one is served.
    q.send_raw('{"execute": "query-')
    q.close()
    q2 = Qmp(qmp_path, label='qmp#2')
    State.q = q2
    check(q2.ok('query-status')['status'] == 'running', 'second client')
    # One that sends a command and leaves without reading the reply.
    q2.send_raw('{"execute": "query-vnc-servers"}{"execute": "query-commands"}')
    q2.close()
    State.q = Qmp(qmp_path, label='qmp#3')
    check(State.q.ok('query-status')['status'] == 'running', 'third client')
    check(emu.alive(), 'qvnc-emu died')


def t_hmp_socket():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(hmp_path)
    buf = b''

    def until_prompt():
        nonlocal buf
        while not buf.endswith(b'(qemu) '):
            chunk = s.recv(4096)
            check(chunk, 'HMP socket closed; have %r' % buf)
            buf += chunk
        out, buf = buf, b''
        return out
    try:
        banner = until_prompt()
        check(banner == b"QEMU 7.2.0 monitor - type 'help' for more information\r\n(qemu) ", 'banner %r' % banner)
        s.sendall(b'info status\r\n')
        out = until_prompt()
        check(out == b'info status\r\nVM status: running\r\n(qemu) ', 'info status %r' % out)
        s.sendall(b'set_password vnc fromhmp\r\n')
        out = until_prompt()
        check(out == b'set_password vnc fromhmp\r\n(qemu) ', 'set_password %r' % out)
        login('fromhmp', True, 'password set over HMP')
        s.sendall(b'expire_password vnc now\r\n')
        until_prompt()
        login('fromhmp', False, 'expired over HMP')
        s.sendall(b'bogus\r\n')
        out = until_prompt()
        check(out == b"bogus\r\nunknown command: 'bogus'\r\n(qemu) ", 'unknown %r' % out)
    finally:
        s.close()
    State.q.events.clear()


def t_quit():
    q = State.q
    q.ok('quit')
    ev = q.wait_event('SHUTDOWN')
    check(ev['data'] == {'guest': False, 'reason': 'host-qmp-quit'}, 'SHUTDOWN %r' % ev)
    try:
        emu.p.wait(10)
    except Exception:
        raise Fail('qvnc-emu did not exit after quit')
    check(emu.p.returncode == 0, 'exit status %s after quit' % emu.p.returncode)


def t_libvirt_setup():
    """libvirt makes the monitor socket, binds and listens, and passes the fd."""
    path = os.path.join(tmp, 'libvirt-monitor.sock')
    ls = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    ls.bind(path)
    ls.listen(1)
    fd = ls.fileno()
    extra = ['-S', '-machine', 'pc-q35-7.2,usb=off,dump-guest-core=off', '-accel', 'kvm', '-cpu', 'host',
             '-m', '512', '-overcommit', 'mem-lock=off', '-smp', '1,sockets=1,cores=1,threads=1',
             '-uuid', '3b2c4e2a-7a21-4a52-9c1e-4d1f3c0b7a11', '-no-user-config', '-nodefaults',
             '-chardev', 'socket,id=charmonitor,fd=%d,server=on,wait=off' % fd,
             '-mon', 'chardev=charmonitor,id=monitor,mode=control',
             '-rtc', 'base=utc', '-no-shutdown', '-boot', 'strict=on',
             '-blockdev', '{"driver":"file","filename":"/nonexistent.qcow2","node-name":"libvirt-1-storage"}',
             '-device', 'virtio-blk-pci,drive=libvirt-1-format,id=virtio-disk0',
             '-netdev', 'user,id=hostnet0', '-device', 'virtio-net-pci,netdev=hostnet0,id=net0',
             '-chardev', 'pty,id=charserial0', '-device', 'isa-serial,chardev=charserial0,id=serial0',
             '-audiodev', '{"id":"audio1","driver":"none"}',
             '-global', 'ICH9-LPC.disable_s3=1', '-display', 'egl-headless,rendernode=/dev/dri/renderD128',
             '-sandbox', 'on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny',
             '-msg', 'timestamp=on', '-pidfile', os.path.join(tmp, 'vm.pid')]
    proc, lport, _ = start_emu_monitor(tmp, ',password=on,audiodev=audio1', extra, name='qvnc-emu(libvirt)',
                                       pass_fds=[fd], qmp=False)
    ls.close()
    try:
        # READY comes on stdout, the report on stderr: two pipes read by two
        # threads, so READY says nothing about whether the report was read yet.
        report = wait_err(proc, r'ignored', what='the "ignored" report').string
        for opt in ('-machine', '-device (x3)', '-chardev', '-display', '-pidfile', '-audiodev'):
            check(opt in report, '"ignored" report lacks %s: %s' % (opt, report))
        q = Qmp(path, label='libvirt qmp')
        try:
            check(q.ok('query-status')['status'] == 'prelaunch', 'libvirt: -S')
            # libvirt's qemuProcessInitPasswords, then cont.
            c = RfbClient(lport, label='before set_password')
            c.version(8)
            c.recv_exact(2, 'types')
            c.send(b'\x02')
            c.send(qvnc_des.vnc_response('', c.recv_exact(16, 'challenge')))
            c.expect_eof_exact(AUTH_FAILED, 'password=on without a password yet')
            c.close()
            q.ok('set_password', {'protocol': 'vnc', 'password': 'libvirt-pw', 'connected': 'keep'})
            q.ok('expire_password', {'protocol': 'vnc', 'time': 'never'})
            mark = proc.mark()
            q.ok('cont')
            proc.wait_line(r'^RUNSTATE running$', start=mark, what='cont')
            c = RfbClient(lport, label='libvirt login')
            c.version(8)
            c.recv_exact(2, 'types')
            c.send(b'\x02')
            c.send(qvnc_des.vnc_response('libvirt-pw', c.recv_exact(16, 'challenge')))
            expect_bytes(c.recv_exact(4, 'SecurityResult'), b'\0\0\0\0', 'login with the libvirt password')
            c.close()
        finally:
            q.close()
    finally:
        proc.stop()
    # After stop() stderr has been read to its end: exactly one report.
    ignored = [l for l in proc.err if 'ignored' in l]
    check(len(ignored) == 1, 'one "ignored" report expected on stderr: %r' % proc.err)


run.case('greeting, negotiation, -S prelaunch until cont', t_negotiation_and_prelaunch)
run.case('query-vnc / query-vnc-servers', t_query_vnc)
run.case('change-vnc-password', t_change_vnc_password)
run.case('set_password + expire_password as libvirt sends them', t_libvirt_passwords)
run.case('VNC_CONNECTED / VNC_INITIALIZED / VNC_DISCONNECTED in order', t_events)
run.case('HMP info vnc with a client', t_hmp_info_vnc_with_client)
run.case('getfd over SCM_RIGHTS + add_client', t_getfd_add_client)
run.case('bad input: clear errors, the monitor keeps serving', t_bad_input)
run.case('HMP on -monitor unix:...', t_hmp_socket)
run.case('quit', t_quit)
run.case('libvirt: -chardev socket,fd=N + -mon, a whole libvirt command line', t_libvirt_setup)
run.finish()
