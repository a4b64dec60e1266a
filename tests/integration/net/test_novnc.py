#!/usr/bin/python3
"""noVNC in a real browser: Debian's Chromium (headless) driven by playwright-core.

* setup-node.sh installs the npm packages @novnc/novnc and playwright-core
  (package-lock.json beside it) into the build directory; no browser is
  downloaded, /usr/bin/chromium is used.
* A static HTTP server in this script (http.server, 127.0.0.1, port chosen by
  the kernel) serves novnc-page.html, which uses noVNC's RFB class
  (core/rfb.js as an ES module) to connect to qvnc-emu's websocket port
  (`-object secret,id=s0,data=PW -vnc 127.0.0.1:D,websocket=WSPORT,password-secret=s0`)
  and answers credentialsrequired with the password.
* Console guest: noVNC connects (`CLIENT initialized ... websocket=1`), text
  typed on the page arrives as INPUT key lines (keysym and the scancode of
  noVNC's extended key event), a click as INPUT pointer lines, the canvas shows what the guest
  drew (compared with the frame dump below the clock row), and a screenshot
  of the page is saved (QVNC_NET_OUT_DIR/novnc-console.png).
* A wrong password ends in noVNC's securityfailure event.
* Pattern guest (-S): for noVNC's own encoding list (Tight) and for Tight,
  Tight PNG, ZRLE, Hextile, Zlib and Raw offered alone, noVNC's canvas equals
  the frame dump pixel for pixel (lossless).
Exits 77 (SKIP) when node/npm or /usr/bin/chromium are missing.
"""

import functools
import http.server
import json
import os
import shutil
import subprocess
import sys
import threading
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from netlib import Fail, check, emu, launch, Proc, HOST  # noqa: E402
from qvnc_testlib import Runner, frame_dump, tmpdir  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
CHROMIUM = os.environ.get('QVNC_CHROMIUM', '/usr/bin/chromium')
PASSWORD = 'nv-Pass1'

missing = [t for t in ('node', 'npm') if not shutil.which(t)]
if not os.access(CHROMIUM, os.X_OK):
    missing.append(CHROMIUM + ' (Debian package chromium)')
if missing:
    print('SKIP: not installed: %s; run .ci/deps.sh' % ', '.join(missing))
    sys.exit(77)

node_dir = os.environ.get('QVNC_NET_NODE_DIR') or os.path.join(tmpdir('qvnc-node-'), 'node')
out_dir = os.environ.get('QVNC_NET_OUT_DIR') or os.path.dirname(node_dir)
run = Runner('net-novnc')
work = tmpdir('qvnc-novnc-')

# ------------------------------------------------------------------ npm packages
try:
    p = subprocess.run(['bash', os.path.join(HERE, 'setup-node.sh'), node_dir], stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, timeout=600)
except subprocess.TimeoutExpired:
    run.fatal('setup-node.sh (npm ci) did not finish within 600s')
if p.returncode == 77:
    print('SKIP: %s' % p.stderr.strip())
    sys.exit(77)
if p.returncode != 0:
    run.fatal('setup-node.sh failed (exit %d):\n%s\n%s' % (p.returncode, p.stdout[-2000:], p.stderr[-2000:]))

# ------------------------------------------------------------------ web server
www = os.path.join(work, 'www')
os.makedirs(www)
shutil.copyfile(os.path.join(HERE, 'novnc-page.html'), os.path.join(www, 'index.html'))
os.symlink(os.path.join(node_dir, 'node_modules', '@novnc', 'novnc'), os.path.join(www, 'novnc'))


class Handler(http.server.SimpleHTTPRequestHandler):
    extensions_map = dict(http.server.SimpleHTTPRequestHandler.extensions_map, **{'.js': 'text/javascript',
                                                                                   '.mjs': 'text/javascript'})

    def log_message(self, fmt, *args):
        pass


httpd = http.server.ThreadingHTTPServer((HOST, 0), functools.partial(Handler, directory=www))
threading.Thread(target=httpd.serve_forever, daemon=True).start()
run.at_exit(httpd.shutdown)
WEB = 'http://%s:%d/index.html' % (HOST, httpd.server_address[1])

# ------------------------------------------------------------------ browser
driver = Proc(['node', os.path.join(HERE, 'novnc-driver.mjs'), node_dir, os.path.join(work, 'chromium-profile')],
              name='novnc-driver')
run.at_exit(driver.stop)
try:
    driver.wait_line(r'^READY$', 90, what='Chromium started by playwright-core')
except Fail as e:
    run.fatal('the browser did not start: %s' % e)


def drive(cmd, timeout=60):
    """Sends a driver command; returns (ok, message, DATA dicts)."""
    start = driver.mark()
    driver.send_line(cmd)
    _, m = driver.wait_line(r'^(OK|ERROR\b.*)$', timeout, start, what='answer to %r' % cmd[:60])
    data = [json.loads(l[5:]) for l in driver.lines[start:] if l.startswith('DATA ')]
    notes = [l for l in driver.lines[start:] if l.startswith('# ')]
    if notes:
        print('\n'.join('#   browser: ' + n[2:] for n in notes[-10:]), flush=True)
    return m.group(1) == 'OK', m.group(1), data


def must(cmd, timeout=60):
    ok, msg, data = drive(cmd, timeout)
    check(ok, 'browser: %r failed: %s' % (cmd[:80], msg))
    return data


def page_url(wsport, password=PASSWORD, encodings=None):
    q = {'url': 'ws://%s:%d/' % (HOST, wsport), 'password': password}
    if encodings is not None:
        q['encodings'] = encodings
    return WEB + '?' + urllib.parse.urlencode(q)


def start_emu(guest_args, name):
    return launch(lambda p, wp: [emu(), '-name', 'qvnc-novnc', '-object', 'secret,id=s0,data=' + PASSWORD,
                                 '-vnc', '%s:%d,websocket=%d,password-secret=s0' % (HOST, p - 5900, wp),
                                 *guest_args], nports=2, name=name)


# ------------------------------------------------------------------ cases

TYPED = 'hello from novnc 42'
# XT scancodes (qnum) of the US keys noVNC reports in its QEMU extended key events.
XT = {'h': 0x23, 'e': 0x12, 'l': 0x26, 'o': 0x18, ' ': 0x39, 'f': 0x21, 'r': 0x13, 'm': 0x32, 'n': 0x31,
      'v': 0x2f, 'c': 0x2e, '4': 0x05, '2': 0x03}


def t_console():
    dump = os.path.join(work, 'console.ppm')
    srv, (port, wsport) = start_emu(['--guest', 'console', '--frame-dump', dump], 'qvnc-emu console')
    try:
        mark = srv.mark()
        data = must('open ' + page_url(wsport))
        print('# noVNC connected: %s' % json.dumps(data[-1] if data else {}), flush=True)
        _, m = srv.wait_line(r'^CLIENT initialized .*websocket=(\d)', 10, mark, what='CLIENT initialized')
        check(m.group(1) == '1', 'noVNC client: %s (expected websocket=1)' % m.group(0))
        check(data and data[-1]['name'] == 'QEMU (qvnc-novnc)', 'desktop name in noVNC: %r'
              % (data[-1]['name'] if data else None))
        must('waitdrawn 20000')
        must('waitextkey 20000')
        # Type through the page (keyboard events on noVNC's canvas), then click.
        mark = srv.mark()
        must('type ' + TYPED)
        must('press Enter')
        srv.wait_line(r'^INPUT key keysym=0xff0d qnum=0x[0-9a-f]+ down=0$', 15, mark, what='Enter released')
        downs = []
        for l in srv.lines[mark:]:
            if l.startswith('INPUT key') and l.endswith('down=1'):
                f = dict(kv.split('=') for kv in l.split()[2:])
                downs.append((int(f['keysym'], 16), int(f['qnum'], 16)))
        want = [(ord(ch), XT[ch]) for ch in TYPED] + [(0xff0d, 0x1c)]
        check(downs == want, 'typed %r + Enter: key presses (keysym/qnum) %s, expected %s'
              % (TYPED, ['%#x/%#x' % k for k in downs], ['%#x/%#x' % k for k in want]))
        mark = srv.mark()
        must('click 400 300')
        srv.wait_line(r'^INPUT pointer x=400 y=300 buttons=0x1$', 15, mark, what='left button down at 400,300')
        srv.wait_line(r'^INPUT pointer x=400 y=300 buttons=0x0$', 15, mark, what='left button up at 400,300')
        # The guest drew the text; noVNC shows it (rows below the clock and
        # the status line, which change by themselves).
        frame_dump(srv, dump)
        ok, msg, data = drive('compare %s 20000 32' % dump)
        if not ok:
            # Which side lost it: a full update request repairs a lost
            # incremental update (server), not a client that stopped drawing.
            print('# canvas state: %s' % json.dumps(data[-1] if data else {}), flush=True)
            must('refresh')
            ok2, msg2, data2 = drive('compare %s 10000 32' % dump)
            flips = [d.get('flips') for d in (data[-1:] + data2[-1:])]
            raise Fail('noVNC canvas != frame dump: %s; after a full update request (flips %s): %s' % (
                msg, ' -> '.join(map(str, flips)),
                'equal (the server lost an incremental update)' if ok2 else msg2))
        os.makedirs(out_dir, exist_ok=True)
        shot = os.path.join(out_dir, 'novnc-console.png')
        must('screenshot ' + shot)
        check(os.path.getsize(shot) > 1000, 'screenshot %s is empty' % shot)
        print('# screenshot: %s' % shot, flush=True)
        must('close')
    finally:
        srv.stop()


def t_wrong_password():
    srv, (port, wsport) = start_emu(['--guest', 'pattern', '-S', '--size', '64x48'], 'qvnc-emu wrong password')
    try:
        ok, msg, data = drive('open ' + page_url(wsport, password='not-it'))
        check(not ok and 'securityfailure' in msg, 'wrong password: noVNC %s' % msg)
        print('# wrong password: %s' % msg, flush=True)
        drive('close')
    finally:
        srv.stop()


ENCODINGS = [
    (None, 7, "noVNC's own list (Tight first)"),
    ('7', 7, 'Tight'),
    ('-260', -260, 'Tight PNG'),
    ('16', 16, 'ZRLE'),
    ('5', 5, 'Hextile'),
    ('6', 6, 'Zlib'),
    ('0', 0, 'Raw'),
]


def t_pixels():
    dump = os.path.join(work, 'pattern.ppm')
    srv, (port, wsport) = start_emu(['--guest', 'pattern', '-S', '--size', '640x400', '--frame-dump', dump],
                                    'qvnc-emu pattern')
    try:
        frame_dump(srv, dump)
        bad = []
        for offer, want_enc, label in ENCODINGS:
            ok, msg, data = drive('open ' + page_url(wsport, encodings=offer))
            if ok:
                ok, msg, data = drive('compare %s 20000' % dump)
            encs = data[-1]['encodings'] if data else {}
            print('# %s: %s; rect encodings decoded by noVNC: %s' % (label, msg, encs), flush=True)
            if not ok:
                bad.append('%s: %s' % (label, msg))
            elif str(want_enc) not in encs:
                bad.append('%s: noVNC decoded %s, not encoding %d' % (label, encs, want_enc))
            drive('close')
        check(not bad, 'noVNC canvas vs frame dump:\n  ' + '\n  '.join(bad))
    finally:
        srv.stop()


run.case('noVNC (Chromium) on the console guest: password, typing, canvas, screenshot', t_console)
run.case('noVNC with a wrong password: securityfailure', t_wrong_password)
run.case('noVNC canvas equals the frame dump (Tight, Tight PNG, ZRLE, Hextile, Zlib, Raw)', t_pixels)
driver.send_line('quit')
run.finish()
