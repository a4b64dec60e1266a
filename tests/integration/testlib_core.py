"""The smallest shared part of the integration tests: how a failed
expectation is raised and shown.  qvnc_testlib and rfb_client both build on
it (and qvnc_testlib re-exports it, so tests import from there).
"""

HOST = '127.0.0.1'
DEFAULT_TIMEOUT = 10.0


class Fail(Exception):
    """A test expectation that did not hold."""


def check(cond, msg):
    if not cond:
        raise Fail(msg)


def hexs(data, limit=64):
    h = data[:limit].hex(' ')
    if len(data) > limit:
        h += ' ... (%d bytes)' % len(data)
    return h or '(nothing)'


def expect_bytes(got, want, what):
    if got != want:
        raise Fail('%s: expected [%s] but saw [%s]' % (what, hexs(want), hexs(got)))

