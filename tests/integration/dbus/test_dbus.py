#!/usr/bin/python3
"""qvnc-dbus in front of a real, unmodified QEMU (Debian's qemu-system-x86,
`-display dbus`), on a private dbus-daemon started here.

The guest is guest.S, a boot sector assembled here: it paints a known text
screen (720x400), prints "GUEST TEXT" on its debug console (QEMU's stdout),
and toggles to VGA mode 13h and back on each key ("GUEST GFX"), so a key
both shows that input arrived and resizes the display.  QEMU runs with
-trace input_event_* (stderr) so each key and pointer event it received can
be checked too.

Cases: the frame gtk-vnc sees equals QMP screendump; keys (keysym and QEMU
extended key event) and pointer motion/buttons reach QEMU; the guest's mode
change reaches the client as a DesktopSize; the guest's PC-speaker tone
(QEMU's D-Bus audio) reaches an audio client; SASL in front works (right
password in, wrong one out); QEMU going away closes the clients and a new
QEMU is re-attached; a restarted qvnc-dbus attaches to the running QEMU;
the same without a bus (-display dbus,p2p=yes, QMP add_client).
Skipped (exit 77) only when qemu-system-x86_64, its ui-dbus module or
dbus-daemon are not installed.
"""

import os
import shutil
import struct
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
IT_DIR = os.path.dirname(HERE)
sys.path.insert(0, IT_DIR)
sys.path.insert(0, os.path.join(IT_DIR, 'sasl'))

from qvnc_testlib import (Fail, Proc, RfbClient, Runner, check, compare_pixels, compare_rgb, env_path,  # noqa: E402
                          read_ppm, start_server, tmpdir, HOST)
import gvnc_client  # noqa: E402
from sasl_fixtures import (PASSWORDS, Qmp, err_mark, make_sasldb, wait_err,  # noqa: E402
                           write_sasl_conf)

ENC_RAW, ENC_DESKTOP_SIZE, ENC_EXT_KEY, ENC_AUDIO = 0, -223, -258, -259
TEXT_SIZE = (720, 400)          # 80x25 cells of 9x16

QEMU = shutil.which('qemu-system-x86_64')
DBUS_DAEMON = shutil.which('dbus-daemon')


def skip_reason():
    if not QEMU:
        return 'qemu-system-x86_64 is not installed (Debian: qemu-system-x86)'
    if not DBUS_DAEMON:
        return 'dbus-daemon is not installed (Debian: dbus-daemon)'
    modules = subprocess.run([QEMU, '-display', 'help'], capture_output=True, text=True).stdout
    if 'dbus' not in modules:
        return 'this QEMU has no D-Bus display (ui-dbus module, Debian: qemu-system-common)'
    return None


def build_guest(tmp):
    obj = os.path.join(tmp, 'guest.o')
    img = os.path.join(tmp, 'guest.img')
    for argv in (['as', '--32', '-o', obj, os.path.join(HERE, 'guest.S')],
                 ['ld', '-m', 'elf_i386', '-Ttext', '0x7c00', '--oformat', 'binary', '-o', img, obj]):
        p = subprocess.run(argv, capture_output=True, text=True)
        check(p.returncode == 0, '%s failed: %s' % (' '.join(argv), p.stderr))
    check(os.path.getsize(img) == 512, 'guest.img is %d bytes, expected one sector' % os.path.getsize(img))
    # A whole number of KiB keeps QEMU's IDE geometry guess quiet.
    with open(img, 'r+b') as f:
        f.truncate(64 * 1024)
    return img


class Env:
    """The private bus, the guest image and the temporary directory."""

    def __init__(self):
        self.tmp = tmpdir('qvnc-dbus-')
        self.img = build_guest(self.tmp)
        self.bus = Proc([DBUS_DAEMON, '--session', '--nofork', '--nopidfile', '--print-address=1',
                         '--address=unix:dir=%s' % self.tmp], name='dbus-daemon', stdin=False)
        _, m = self.bus.wait_line(r'^(unix:\S+)$', what='the bus address')
        self.address = m.group(1)
        self.qemu_count = 0


class Qemu:
    """QEMU on the private bus, or with p2p=True on no bus at all: then a
    second QMP socket (p2p_qmp_path) is qvnc-dbus's way in (a QMP socket
    takes one client at a time; the first one is the test's)."""

    def __init__(self, env, p2p=False):
        env.qemu_count += 1
        self.qmp_path = os.path.join(env.tmp, 'qmp-%d.sock' % env.qemu_count)
        self.p2p_qmp_path = os.path.join(env.tmp, 'qmp-%d-p2p.sock' % env.qemu_count)
        self.dump_path = os.path.join(env.tmp, 'screendump-%d.ppm' % env.qemu_count)
        # A copy each: QEMU locks its disk image against a second QEMU.
        img = os.path.join(env.tmp, 'guest-%d.img' % env.qemu_count)
        shutil.copyfile(env.img, img)
        # On the bus, with sound: the guest's PC-speaker tone over D-Bus audio.
        audio = not p2p
        argv = [QEMU, '-machine', 'pc,accel=tcg' + (',pcspk-audiodev=snd0' if audio else ''), '-m', '16',
                '-nodefaults', '-vga', 'std',
                '-display', 'dbus,gl=off' + (',p2p=yes' if p2p else ',audiodev=snd0'),
                '-drive', 'file=%s,format=raw,if=ide' % img,
                '-chardev', 'stdio,id=dbg', '-device', 'isa-debugcon,iobase=0xe9,chardev=dbg',
                '-qmp', 'unix:%s,server=on,wait=off' % self.qmp_path, '-trace', 'input_event_*']
        if p2p:
            argv += ['-qmp', 'unix:%s,server=on,wait=off' % self.p2p_qmp_path]
        if audio:
            argv += ['-audiodev', 'dbus,id=snd0']
        penv = dict(os.environ, DBUS_SESSION_BUS_ADDRESS=env.address)
        self.proc = Proc(argv, name='qemu', env=penv, stdin=False)
        # TCG boots SeaBIOS in a second or two; a loaded CI machine is slower.
        self.proc.wait_line(r'^GUEST TEXT$', 60, what='the guest painting its text screen')
        self.qmp = Qmp(self.qmp_path)

    def screendump(self):
        if os.path.exists(self.dump_path):
            os.unlink(self.dump_path)
        self.qmp.cmd('screendump', filename=self.dump_path)
        return read_ppm(self.dump_path)

    def stop(self):
        self.qmp.close()
        self.proc.stop()


def start_qvnc_dbus(env, vnc_suffix='', penv=None, qemu_qmp=None):
    qvnc = env_path('QVNC_DBUS')
    e = dict(os.environ, QVNC_DEBUG='1')
    e.update(penv or {})
    way_in = ['--qemu-qmp', qemu_qmp] if qemu_qmp else ['--dbus-address', env.address]
    proc, port = start_server(lambda d: [qvnc, *way_in, '-name', 'dbus-test',
                                         '-vnc', '%s:%d%s' % (HOST, d, vnc_suffix)], 'qvnc-dbus', env=e)
    proc.wait_line(r'^ATTACHED VGA \d+x\d+$', 20, what='attaching to QEMU')
    proc.wait_line(r'^SCANOUT \d+x\d+$', 20, what='the first scanout')
    return proc, port


def distinct_colours(rgb):
    return len({rgb[i:i + 3] for i in range(0, len(rgb), 3)})


def gvnc_matches_screendump(port, qemu, tmp, what, **login):
    """gtk-vnc's frame equals a screendump taken just before and just after
    it (so the screen was still).  The guest is static once it printed its
    marker, but qvnc-dbus may still be applying the last updates: retried
    until the deadline."""
    frame = os.path.join(tmp, 'gvnc.ppm')
    deadline = time.monotonic() + 20
    while True:
        before = qemu.screendump()
        r = gvnc_client.run_gvnc(port, frame=frame, **login)
        check(r.initialized, '%s: gtk-vnc did not log in: %s' % (what, r.describe()))
        check(r.frame, '%s: gtk-vnc got no whole frame: %s' % (what, r.frame_error))
        after = qemu.screendump()
        got = read_ppm(frame)
        if before == after == got:
            return r, got
        if time.monotonic() > deadline:
            check(before == after, '%s: the guest screen kept changing' % what)
            check(got[:2] == before[:2], '%s: gtk-vnc frame is %dx%d, screendump %dx%d'
                  % (what, got[0], got[1], before[0], before[1]))
            compare_rgb(got[0], got[1], before[2], got[2], what + ': gtk-vnc frame vs QMP screendump')


def raw_matches_screendump(c, qemu, what):
    """A full (non-incremental) update of the raw client equals screendump."""
    deadline = time.monotonic() + 20
    while True:
        w, h, rgb = qemu.screendump()
        check((w, h) == (c.width, c.height), '%s: client has %dx%d, QEMU %dx%d' % (what, c.width, c.height, w, h))
        c.fbur(False)
        got = c.read_frame()
        if c.pf.expected_pixels(rgb) == got and qemu.screendump()[2] == rgb:
            return rgb
        if time.monotonic() > deadline:
            compare_pixels(c.pf, w, h, rgb, got, what)


def wait_resize(c, size, what):
    """Reads updates until a DesktopSize rect of `size`; adopts it."""
    deadline = time.monotonic() + 20
    seen = []
    while time.monotonic() < deadline:
        c.fbur(True)
        msg = c.read_message()
        if msg[0] != 'update':
            continue
        for r in msg[1]:
            if r.enc == ENC_DESKTOP_SIZE:
                c.width, c.height = r.w, r.h
                seen.append((r.w, r.h))
                if (r.w, r.h) == tuple(size):
                    return
    raise Fail('%s: no DesktopSize %dx%d within 20s (saw %r)' % (what, size[0], size[1], seen))


def tap_key(c, keysym, qnum=None):
    for down in (True, False):
        if qnum is None:
            c.key_event(keysym, down)
        else:
            c.ext_key_event(keysym, qnum, down)


# ---------------------------------------------------------------------------
# cases

def case_frame(env, qemu, qvnc, port):
    r, (w, h, rgb) = gvnc_matches_screendump(port, qemu, env.tmp, 'text screen')
    check((w, h) == TEXT_SIZE, 'text screen is %dx%d, expected %dx%d' % (w, h, *TEXT_SIZE))
    check(distinct_colours(rgb) >= 16, 'the frame has %d colours: not the guest pattern' % distinct_colours(rgb))
    check(r.name == 'QEMU (dbus-test)', 'desktop name %r' % r.name)


def case_input_and_resize(env, qemu, qvnc, port):
    c = RfbClient(port, label='raw client')
    try:
        c.handshake()
        c.set_encodings([ENC_RAW, ENC_DESKTOP_SIZE, ENC_EXT_KEY])
        check((c.width, c.height) == TEXT_SIZE, 'client starts at %dx%d' % (c.width, c.height))
        raw_matches_screendump(c, qemu, 'text screen (raw client)')

        # A plain keysym: qvnc-dbus's default en-us keymap makes it a key number.
        out, err = qemu.proc.mark(), err_mark(qemu.proc)
        tap_key(c, ord('a'))
        qemu.proc.wait_line(r'^GUEST GFX$', start=out, what='the guest reacting to "a"')
        wait_err(qemu.proc, r'input_event_key_qcode con 0, key qcode a, down 1', err, what='QEMU got "a" down')
        wait_err(qemu.proc, r'input_event_key_qcode con 0, key qcode a, down 0', err, what='QEMU got "a" up')
        gfx = qemu.screendump()[:2]
        check(gfx != TEXT_SIZE, 'QEMU still shows %dx%d in mode 13h' % gfx)
        wait_resize(c, gfx, 'mode 13h')
        raw_matches_screendump(c, qemu, 'mode 13h screen after the resize')

        # Pointer: -vga std has a PS/2 mouse (relative), so motion arrives as deltas.
        err = err_mark(qemu.proc)
        c.pointer_event(100, 100, 0)
        c.pointer_event(110, 105, 0)
        c.pointer_event(110, 105, 1)
        c.pointer_event(110, 105, 4)
        c.pointer_event(110, 105, 0)
        for rx in (r'input_event_rel con 0, axis x, value 10', r'input_event_rel con 0, axis y, value 5',
                   r'input_event_btn con 0, button left, down 1', r'input_event_btn con 0, button left, down 0',
                   r'input_event_btn con 0, button right, down 1', r'input_event_btn con 0, button right, down 0'):
            wait_err(qemu.proc, rx, err, what='pointer event in QEMU')

        # The QEMU extended key event (what gtk-vnc sends): keycode 0x30 is "b".
        out, err = qemu.proc.mark(), err_mark(qemu.proc)
        tap_key(c, ord('b'), 0x30)
        qemu.proc.wait_line(r'^GUEST TEXT$', start=out, what='the guest reacting to "b"')
        wait_err(qemu.proc, r'input_event_key_qcode con 0, key qcode b, down 1', err, what='QEMU got "b"')
        wait_resize(c, TEXT_SIZE, 'back to text')
        raw_matches_screendump(c, qemu, 'text screen after the second resize')
    finally:
        c.close()


def case_audio(env, qemu, port):
    """The guest's 1 kHz PC-speaker tone (QEMU: U8 mono) reaches a client
    of the QEMU audio encoding as S16."""
    c = RfbClient(port, label='audio client')
    try:
        c.handshake()
        c.set_encodings([ENC_RAW, ENC_AUDIO])
        c.send(struct.pack('>BBHBBI', 255, 1, 2, 3, 1, 22050))   # S16, mono, 22050 Hz
        c.send(struct.pack('>BBH', 255, 1, 0))                   # enable
        samples = []
        deadline = time.monotonic() + 20
        while len(samples) < 2205 and time.monotonic() < deadline:
            msg = c.read_message()
            if msg[0] == 'qemu' and msg[1] == 1 and msg[2] == 2:
                samples += struct.unpack('<%dh' % (len(msg[3]) // 2), msg[3])
        check(len(samples) >= 2205, 'only %d audio samples within 20s' % len(samples))
        check(max(samples) - min(samples) > 16000, 'audio is not the tone: %d..%d' % (min(samples), max(samples)))
        # A square wave at 1 kHz sampled at 22.05 kHz: about 20 level
        # changes per 10 ms, i.e. ~2000 per second.
        changes = sum(1 for a, b in zip(samples, samples[1:]) if (a > 0) != (b > 0))
        rate = changes * 22050.0 / len(samples)
        check(1500 < rate < 2500, 'tone has %.0f zero crossings per second, expected ~2000' % rate)
    finally:
        c.close()


def case_sasl(env, qemu):
    db = os.path.join(env.tmp, 'sasldb')
    make_sasldb(db)
    # DIGEST-MD5: without TLS, QEMU's rules want a SASL layer with SSF >= 56.
    conf = write_sasl_conf(os.path.join(env.tmp, 'conf'), 'digest-md5', db)
    # A second listener on the same QEMU: D-Bus consoles take several.
    proc, port = start_qvnc_dbus(env, ',sasl=on', {'SASL_CONF_PATH': conf})
    try:
        try:
            r, _ = gvnc_matches_screendump(port, qemu, env.tmp, 'SASL login', user='alice',
                                           password=PASSWORDS['alice'])
        except Fail as e:
            raise Fail('%s\n%s' % (e, proc.describe()))
        check(r.auth_types and 20 in r.auth_types, 'SASL (20) not offered: %s' % r.summary())
        bad = gvnc_client.run_gvnc(port, user='alice', password='wrong')
        check(not bad.initialized, 'a wrong SASL password got in: %s' % bad.summary())
    finally:
        proc.stop()


def case_qemu_restart(env, state):
    qemu, qvnc, port = state['qemu'], state['qvnc'], state['port']
    c = RfbClient(port, label='client of the first QEMU')
    try:
        c.handshake()
        out = qvnc.mark()
        err = err_mark(qvnc)
        qemu.stop()
        qvnc.wait_line(r'^DETACHED$', start=out, what='qvnc-dbus noticing QEMU left')
        wait_err(qvnc, r'qvnc-dbus: .*closing the VNC clients', err, what='the log line')
        c.read_until_eof(what='qvnc-dbus to close the client of the QEMU that left')
    finally:
        c.close()
    out = qvnc.mark()
    qemu = state['qemu'] = Qemu(env)
    qvnc.wait_line(r'^ATTACHED VGA', 20, start=out, what='re-attaching to the new QEMU')
    try:
        gvnc_matches_screendump(port, qemu, env.tmp, 'after QEMU restarted')
    except Fail as e:
        raise Fail('%s\n%s' % (e, qvnc.describe()))


def case_qvnc_restart(env, state):
    state['qvnc'].stop()
    state['qvnc'], state['port'] = start_qvnc_dbus(env)
    gvnc_matches_screendump(state['port'], state['qemu'], env.tmp, 'after qvnc-dbus restarted')


def case_p2p(env):
    qemu = Qemu(env, p2p=True)
    qvnc = None
    try:
        qvnc, port = start_qvnc_dbus(env, qemu_qmp=qemu.p2p_qmp_path)
        gvnc_matches_screendump(port, qemu, env.tmp, 'peer-to-peer (QMP add_client)')
        c = RfbClient(port, label='p2p client')
        try:
            c.handshake()
            c.set_encodings([ENC_RAW, ENC_DESKTOP_SIZE])
            out = qemu.proc.mark()
            tap_key(c, ord('a'))
            qemu.proc.wait_line(r'^GUEST GFX$', start=out, what='the guest reacting to "a" (p2p)')
            wait_resize(c, qemu.screendump()[:2], 'mode 13h (p2p)')
            out = qvnc.mark()
            qemu.stop()
            qvnc.wait_line(r'^DETACHED$', start=out, what='qvnc-dbus noticing the p2p QEMU left')
            c.read_until_eof(what='qvnc-dbus to close the client of the p2p QEMU')
        finally:
            c.close()
    finally:
        qemu.stop()
        if qvnc:
            qvnc.stop()


def main():
    reason = skip_reason()
    if reason:
        print('1..0 # SKIP %s' % reason, flush=True)
        sys.exit(77)
    runner = Runner('qvnc-dbus')
    state = {}
    try:
        env = Env()
        runner.at_exit(env.bus.stop)
        state['qemu'] = Qemu(env)
        state['qvnc'], state['port'] = start_qvnc_dbus(env)
    except (Fail, OSError) as e:
        runner.fatal(str(e))
    runner.at_exit(lambda: state['qemu'].stop())
    runner.at_exit(lambda: state['qvnc'].stop())
    runner.case('gtk-vnc frame equals QMP screendump', case_frame, env, state['qemu'], state['qvnc'],
                state['port'])
    runner.case('keys and pointer reach QEMU; mode changes resize the client', case_input_and_resize, env,
                state['qemu'], state['qvnc'], state['port'])
    runner.case('QEMU D-Bus audio reaches the client', case_audio, env, state['qemu'], state['port'])
    runner.case('SASL in front of the D-Bus console', case_sasl, env, state['qemu'])
    runner.case('QEMU leaving closes the clients; a new QEMU is attached', case_qemu_restart, env, state)
    runner.case('a restarted qvnc-dbus attaches to the running QEMU', case_qvnc_restart, env, state)
    runner.case('peer-to-peer: -display dbus,p2p=yes through QMP add_client', case_p2p, env)
    runner.finish()


if __name__ == '__main__':
    main()
