#!/usr/bin/env python3
"""Flow control for continuous updates (ui-vnc/server/flow-control.hpp), at
the wire level against the animated pattern guest (10 frames/s):

- updates are followed by ping fences (request flag, a 4-byte payload);
- a client that does not answer them gets nothing more once a window is
  unanswered, while a request/response client of the same display keeps
  getting the animation;
- answering the ping lets the damage that accumulated meanwhile go out, and
  a client that answers its pings keeps getting updates;
- a client that takes everything, pings included, and never answers gets
  updates again after FlowControl::kStallMs (5 s), with a warning logged.

Environment: QVNC_EMU = path of qvnc-emu.
"""
import select
import struct
import time

from qvnc_testlib import (Fail, RfbClient, Runner, check, start_emu, wait_err, ENC_FENCE as FENCE,
                          ENC_RAW as RAW, FENCE_REQUEST as REQUEST)

CONT_UPDATES = -313
W, H = 640, 480  # a raw full frame (1.2 MB) is more than the first window (256 KiB)

run = Runner('test_flow_control')
emu, port = start_emu(['--guest', 'pattern', '--size', '%dx%d' % (W, H), '-name', 'flow'])
run.at_exit(emu.stop)


def full_frame(c):
    """Reads up to the update that covers the whole screen (an animation
    step may come before it)."""
    for _ in range(20):
        m = c.read_message()
        if m[0] == 'update' and sum(r.w * r.h for r in m[1]) >= W * H:
            return
    raise Fail('%s: no full-screen update among 20 messages' % c.label)


def next_ping(c, limit=20):
    """The next ping fence; the updates read on the way are counted."""
    updates = 0
    for _ in range(limit):
        m = c.read_message()
        if m[0] == 'update':
            updates += 1
        elif m[0] == 'fence' and m[1] & REQUEST and len(m[2]) == 4:
            return m, updates
    raise Fail('no ping fence among %d messages' % limit)


def answer(c, fence):
    # As a viewer answers: request bit cleared, payload echoed.
    c.client_fence(fence[1] & ~REQUEST & 0x7, fence[2])


def cu_client(label):
    c = RfbClient(port, label=label)
    c.handshake()
    c.set_encodings([RAW, CONT_UPDATES, FENCE])
    seen = {c.read_message()[0] for _ in range(2)}
    check(seen == {'eocu', 'fence'}, 'expected EndOfContinuousUpdates and a fence, got %r' % seen)
    c.send(struct.pack('>BBHHHH', 150, 1, 0, 0, W, H))
    # The whole screen once (CU keeps honouring non-incremental requests).
    c.fbur(incremental=False)
    return c


def readable(c, seconds):
    return bool(select.select([c.sock], [], [], seconds)[0])


def t_unanswered_pings_hold_updates():
    held = cu_client('held')
    full_frame(held)
    ping, _ = next_ping(held)
    # Not answered.  The animation goes on: a request/response client sees
    # the box move three times...
    other = RfbClient(port, label='classic')
    other.handshake()
    other.set_encodings([RAW])
    other.fbur(incremental=False)
    other.read_frame()
    for _ in range(3):
        other.fbur(incremental=True)
        m = other.read_message()
        check(m[0] == 'update' and m[1], 'classic client: %r instead of an update' % (m[0],))
    # ... while the held client got no update (a further ping at most).
    while readable(held, 0.2):
        m = held.read_message()
        check(m[0] != 'update', 'an update came while %d bytes and more were unanswered' % (W * H * 4))
        if m[0] == 'fence' and m[1] & REQUEST and len(m[2]) == 4:
            ping = m
    # Answering the last ping releases what accumulated meanwhile.
    answer(held, ping)
    m = held.read_message()
    check(m[0] == 'update' and m[1], 'after the answer: %r instead of an update' % (m[0],))
    other.close()
    held.close()


def t_answered_pings_keep_updates_flowing():
    c = cu_client('answering')
    total = 0
    for _ in range(6):
        ping, updates = next_ping(c)
        total += updates
        answer(c, ping)
    check(total >= 3, 'only %d updates over 6 answered pings' % total)
    c.close()


def t_never_answering_client_is_let_go():
    c = cu_client('mute')
    full_frame(c)
    held_at = time.monotonic()
    # Read everything, answer nothing: after the stall timeout the server
    # stops waiting for answers and the animation comes through.
    c.sock.settimeout(20)
    m = c.read_message()
    while m[0] != 'update':
        m = c.read_message()
    waited = time.monotonic() - held_at
    check(waited >= 4.0, 'an update came %.1f s after the hold, before the 5 s stall timeout' % waited)
    wait_err(emu, r'no answer to fence requests it has received: flow control off', what='the stall warning')
    updates = sum(1 for _ in range(6) if c.read_message()[0] == 'update')
    check(updates >= 2, 'after the stall timeout: %d updates in 6 messages' % updates)
    c.close()


def t_alive():
    check(emu.alive(), 'qvnc-emu died\n' + emu.describe())


run.case('unanswered ping fences hold a continuous-updates client only', t_unanswered_pings_hold_updates)
run.case('answered ping fences keep continuous updates flowing', t_answered_pings_keep_updates_flowing)
run.case('a client that never answers pings gets updates after the stall timeout',
         t_never_answering_client_is_let_go)
run.case('qvnc-emu still alive', t_alive)
run.finish()
