"""Password guessing (issue 9): after repeated authentication failures from
one address that address is refused for a while -- before any credential is
looked at, even with the right password -- while other addresses still get
in; the block is logged once and lifts after its timeout (10 s for the
first block, as ui-vnc/server/auth-blacklist.hpp says).

Run by meson (suite hardening) with QVNC_HARDENING_HOST set.
"""

import os
import socket
import struct
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from hardening_lib import (RfbClient, check, start_host, host_command, err_mark, stop_checked,  # noqa: E402
                           HOST, DEFAULT_TIMEOUT)
from qvnc_testlib import Runner, expect_bytes  # noqa: E402
import qvnc_des  # noqa: E402

runner = Runner('hardening auth block')

AUTH_FAILED_38 = b'\x00\x00\x00\x01' + struct.pack('>I', 22) + b'Authentication failed\x00'
BLOCKED_REASON = b'Too many security failures'
BLOCK_LOG = 'too many authentication failures: address blocked'
THRESHOLD = 5          # AuthBlacklist::kThreshold
FIRST_BLOCK_S = 10.0   # AuthBlacklist::kInitialBlockUs


class SourcedClient(RfbClient):
    """An RfbClient whose connection comes from a chosen loopback address
    (127.0.0.0/8 is all local: 127.0.0.2 is another peer address)."""

    def __init__(self, port, source, label, timeout=DEFAULT_TIMEOUT):
        self.label = label
        self.timeout = timeout
        self.sock = socket.create_connection((HOST, port), timeout=timeout, source_address=(source, 0))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.pf = None
        self.width = self.height = None


def attempt(port, password, source='127.0.0.1', minor=8, label='client'):
    """One VNC-auth login.  Returns ('ok', b''), ('failed', bytes after the
    SecurityResult) or ('refused', the refusal bytes after the version)."""
    c = SourcedClient(port, source, label)
    try:
        c.version(minor)
        if minor == 3:
            t = c.u32('security type (3.3)')
            if t == 0:
                return 'refused', struct.pack('>I', t) + c.read_until_eof(what='the refusal reason and close')
            check(t == 2, '%s: 3.3 security type %d, expected 2 (VNC auth)' % (label, t))
        else:
            n = c.u8('number of security types')
            if n == 0:
                return 'refused', b'\0' + c.read_until_eof(what='the refusal reason and close')
            types = c.recv_exact(n, 'security types')
            check(2 in types, '%s: security types %r lack VNC auth' % (label, types))
            c.send(b'\x02')
        challenge = c.recv_exact(16, 'challenge')
        c.send(qvnc_des.vnc_response(password, challenge))
        res = c.recv_exact(4, 'SecurityResult')
        if res == b'\0\0\0\0':
            return 'ok', b''
        return 'failed', res + c.read_until_eof(what='the failure reason and close')
    finally:
        c.close()


def block_count(proc, start):
    with proc.cond:
        return sum(1 for line in proc.err[start:] if BLOCK_LOG in line)


def blocked_then_lifted():
    host, port = start_host(',password=on')
    try:
        check(host_command(host, 'password right') == 'OK', 'setting the password failed')
        mark = err_mark(host)
        # A success clears the address's record: failures before it do not
        # count towards a block.
        for i in range(THRESHOLD - 1):
            expect_bytes(attempt(port, 'wrong', label='early failure %d' % i)[1], AUTH_FAILED_38,
                         'early wrong password %d' % i)
        check(attempt(port, 'right', label='success')[0] == 'ok', 'the right password was refused')
        for i in range(THRESHOLD - 1):
            how, got = attempt(port, 'wrong', label='failure %d' % i)
            check(how == 'failed', 'failure %d after a success: %s [%r]; the success did not reset the count'
                  % (i, how, got))
        check(block_count(host, mark) == 0, 'blocked before %d failures in a row' % THRESHOLD)

        # The THRESHOLD-th failure in a row starts the block.
        how, got = attempt(port, 'wrong', label='failure %d' % THRESHOLD)
        expect_bytes(got, AUTH_FAILED_38, 'the failure that starts the block')
        t_block = time.monotonic()

        # Refused before the security types, even with the right password,
        # in each version's failure format.
        reason = struct.pack('>I', len(BLOCKED_REASON)) + BLOCKED_REASON
        how, got = attempt(port, 'right', label='blocked 3.8 client')
        check(how == 'refused', 'a blocked address got %s with the right password [%r]' % (how, got))
        expect_bytes(got, b'\0' + reason, 'RFB 3.8 refusal of a blocked address')
        how, got = attempt(port, 'right', minor=3, label='blocked 3.3 client')
        check(how == 'refused', 'a blocked address got %s over RFB 3.3 [%r]' % (how, got))
        expect_bytes(got, b'\0\0\0\0' + reason, 'RFB 3.3 refusal of a blocked address')

        # Another address is not affected.
        how, got = attempt(port, 'right', source='127.0.0.2', label='client from 127.0.0.2')
        check(how == 'ok', 'another address was not let in during the block: %s [%r]' % (how, got))

        # The lift: poll with the right password until let in (each refused
        # attempt is answered at once).  The block lasts its timeout.
        refused = 0
        deadline = t_block + FIRST_BLOCK_S + 10
        while True:
            how, got = attempt(port, 'right', label='client waiting for the lift')
            if how == 'ok':
                break
            check(how == 'refused', 'during the block: %s [%r]' % (how, got))
            refused += 1
            check(time.monotonic() < deadline, 'the block was not lifted within %.0f s' % (deadline - t_block))
            time.sleep(0.25)   # a timeout expiring is not an event the test can await
        waited = time.monotonic() - t_block
        print('# blocked after %d failures in a row: %d refused attempts, lifted after %.1f s' %
              (THRESHOLD, refused + 2, waited), flush=True)
        check(waited >= FIRST_BLOCK_S - 1, 'the block was lifted after %.1f s, expected %.0f s' %
              (waited, FIRST_BLOCK_S))
        n = block_count(host, mark)
        check(n == 1, 'the block was logged %d times, expected once' % n)
        # The success cleared the record: one failure does not block again.
        check(attempt(port, 'wrong', label='failure after the lift')[0] == 'failed', 'wrong password after the lift')
        check(attempt(port, 'right', label='success after the lift')[0] == 'ok', 'right password after the lift')
    finally:
        stop_checked(host, 'hardening-host')


def main():
    runner.case('repeated failures block the address, others get in, lifted after the timeout', blocked_then_lifted)
    runner.finish()


if __name__ == '__main__':
    main()
