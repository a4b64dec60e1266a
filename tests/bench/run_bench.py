"""Side-by-side server benchmark: qvnc (qvnc-emu --guest replay:FILE) and the
peers that are built and installed (libvncserver and neatvnc replay servers,
TigerVNC's Xvnc fed by an X client, QEMU's own VNC server on a ramfb guest
whose framebuffer replay-qemu writes), all replaying the same VFR workloads
(../shared/bench beside the repository), all measured by the same client
(bench-client).  Prints one line per workload x encoding x server and the
ratios qvnc/peer; --json keeps the raw results.

Run it through run-bench.sh (which finds the build directory).  Not a test:
CI runs only bench_smoke.py.
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'integration'))
import qvnc_testlib as t  # noqa: E402

WORKLOADS = ['desktop', 'scroll', 'video', 'noise', 'cursor']
ENCODINGS = ['raw', 'hextile', 'zrle', 'tight', 'tight-jpeg']
PEERS = ['libvncserver', 'neatvnc', 'xvnc', 'qemu']


class Tools:
    def __init__(self, build, base=None):
        b = os.path.abspath(build)
        self.emu = os.path.join(b, 'tools', 'qvnc-emu', 'qvnc-emu')
        # --base: another build's qvnc-emu as one more column (A/B in one run).
        self.base_emu = os.path.join(os.path.abspath(base), 'tools', 'qvnc-emu', 'qvnc-emu') if base else None
        self.client = os.path.join(b, 'tests', 'bench', 'bench-client')
        self.frames = os.path.join(b, 'tests', 'bench', 'vfr-frames')
        peers = os.path.join(b, 'tests', 'bench', 'peers')
        self.vncserver = os.path.join(peers, 'bench-replay-vncserver')
        self.neatvnc = os.path.join(peers, 'bench-replay-neatvnc')
        self.x11 = os.path.join(peers, 'bench-replay-x11')
        self.xvnc = shutil.which('Xvnc')
        self.qemu_feeder = os.path.join(peers, 'bench-replay-qemu')
        self.qemu_guest = os.path.join(peers, 'bench-qemu-guest.elf')
        self.qemu = shutil.which('qemu-system-x86_64')

    def available(self, server):
        exe = os.path.isfile
        return {'qvnc': exe(self.emu),
                'qvnc-base': self.base_emu is not None and exe(self.base_emu),
                'libvncserver': exe(self.vncserver),
                'neatvnc': exe(self.neatvnc),
                'xvnc': exe(self.x11) and self.xvnc is not None,
                'qemu': exe(self.qemu_feeder) and exe(self.qemu_guest) and self.qemu is not None}[server]


def workload_file(tools, args, name):
    path = os.path.join(args.vfr_dir, 'qvnc-bench-%s-%dx%d.vfr' % (name, args.width, args.height))
    if not os.path.exists(path):
        print('# generating %s' % path, flush=True)
        subprocess.run([tools.frames, 'gen', '-w', name, '-W', str(args.width), '-H', str(args.height),
                        '-o', path + '.tmp'], check=True, stdout=subprocess.DEVNULL)
        os.rename(path + '.tmp', path)
    return path


class Server:
    """A running server under test: its port and the pids whose CPU counts."""

    def __init__(self, procs, port, cpu_pids):
        self.procs = procs
        self.port = port
        self.cpu_pids = cpu_pids

    def stop(self):
        for p in reversed(self.procs):
            p.stop()


def start_peer(argv_for_port, name):
    """Returns (Proc, port, the match of its 'ready' line)."""
    last = None
    for _ in range(5):
        port = t.free_port()
        proc = t.Proc(argv_for_port(port), name=name, stdin=False)
        try:
            _, m = proc.wait_line(r'^ready(?: qemu-pid=(\d+))?', 30, what='ready')
            return proc, port, m
        except t.Fail as e:
            last = e
            proc.stop()
    raise t.Fail('%s never became ready: %s' % (name, last))


def start_xvnc(tools, args, vfr):
    r, w = os.pipe()
    port = t.free_port()
    xvnc = subprocess.Popen([tools.xvnc, '-displayfd', str(w), '-rfbport', str(port),
                             '-SecurityTypes', 'None', '-geometry', '%dx%d' % (args.width, args.height),
                             '-depth', '24', '-interface', '127.0.0.1', '-AlwaysShared',
                             '-nolisten', 'tcp'],
                            pass_fds=(w,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(w)
    with os.fdopen(r) as f:
        line = f.readline().strip()
    if not line.isdigit():
        xvnc.kill()
        xvnc.wait()
        raise t.Fail('Xvnc did not report a display number')

    class XvncProc:
        def __init__(self, p):
            self.p = p

        def stop(self):
            self.p.terminate()
            try:
                self.p.wait(10)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()

    feeder = t.Proc([tools.x11, '--vfr', vfr, '--display', ':' + line, '--fps', str(args.fps)],
                    name='replay-x11', stdin=False)
    feeder.wait_line(r'^ready', 30, what='ready')
    return Server([XvncProc(xvnc), feeder], port, [xvnc.pid])


def valgrind_prefix(args):
    # Instruction counts instead of times (a noisy machine): the server runs
    # under callgrind, zeroed when the client's window starts (after the
    # warm-up and the first full frame) and dumped when it ends.
    if not args.callgrind:
        return []
    return ['valgrind', '--tool=callgrind', '--callgrind-out-file=%s/cg.%%p' % args.callgrind,
            '--dump-instr=no', '--compress-strings=no']


def callgrind_ir(args, before):
    """Ir of the dump that appeared in args.callgrind since `before`."""
    for name in sorted(set(os.listdir(args.callgrind)) - before):
        with open(os.path.join(args.callgrind, name)) as f:
            for line in f:
                if line.startswith('totals:') or line.startswith('summary:'):
                    return float(line.split()[1])
    return None


def start_server(tools, args, server, vfr, viewers=1):
    fps = str(args.fps)
    # QEMU's default connection limit is 32 (connections=N raises it).
    limit = ',connections=%d' % (viewers + 4) if viewers > 28 else ''
    vg = valgrind_prefix(args)
    if server in ('qvnc', 'qvnc-base'):
        exe = tools.emu if server == 'qvnc' else tools.base_emu
        emu, port = t.start_server(
            # lossy=on is QEMU's switch that lets Tight use JPEG when the
            # client sends a quality level (tight-jpeg); lossless cells send
            # none, so it changes nothing there.
            lambda d: vg + [exe, '-vnc', '127.0.0.1:%d,lossy=on%s' % (d, limit), '--guest', 'replay:' + vfr,
                            '--replay-fps', fps], 'qvnc-emu')
        return Server([emu], port, [emu.p.pid])
    if server == 'xvnc':
        return start_xvnc(tools, args, vfr)
    if server == 'qemu':
        # replay-qemu starts QEMU (its child) and feeds the guest's ramfb
        # framebuffer; only QEMU's CPU counts, as only Xvnc's does for xvnc.
        proc, port, m = start_peer(lambda p: [tools.qemu_feeder, '--vfr', vfr, '--port', str(p), '--fps', fps,
                                              '--guest', tools.qemu_guest, '--qemu', tools.qemu], server)
        if not m.group(1):
            proc.stop()
            raise t.Fail('replay-qemu did not say QEMU\'s pid')
        return Server([proc], port, [int(m.group(1))])
    exe = tools.vncserver if server == 'libvncserver' else tools.neatvnc
    proc, port, _ = start_peer(lambda p: vg + [exe, '--vfr', vfr, '--port', str(p), '--fps', fps], server)
    return Server([proc], port, [proc.p.pid])


def measure(tools, args, server, vfr, encoding, viewers=1):
    argv = [tools.client, '--port', str(server.port), '--encoding', encoding, '--seconds', str(args.seconds),
            '--warmup', str(args.warmup), '--vfr', vfr, '--timeout', '180' if args.callgrind else '20',
            '--viewers', str(viewers)]
    if args.no_continuous:
        argv.append('--no-continuous')
    for pid in server.cpu_pids:
        argv += ['--server-pid', str(pid)]
    if args.callgrind:
        pid = server.cpu_pids[0]
        argv += ['--window-start-cmd', 'callgrind_control -z %d >/dev/null' % pid,
                 '--window-end-cmd', 'callgrind_control -d %d >/dev/null' % pid]
        before = set(os.listdir(args.callgrind))
    r = subprocess.run(argv, capture_output=True, text=True, timeout=args.seconds + args.warmup + 600)
    ir = callgrind_ir(args, before) if args.callgrind else None
    if r.returncode != 0:
        return {'error': (r.stderr.strip() or r.stdout.strip() or 'exit %d' % r.returncode)[:200]}
    res = {k: (v if k == 'encoding' else float(v)) for k, v in (kv.split('=', 1) for kv in r.stdout.split())}
    if ir is not None and res['updates'] > 0:
        res['mir_per_update'] = ir / res['updates'] / 1e6
    return res


def fmt_cell(res):
    if 'error' in res:
        return 'ERROR %s' % res['error']
    checks = int(res['checks'])
    verified = '-' if checks == 0 else ('ok %d' % checks if res['misses'] == 0
                                        else 'MISS %d/%d' % (res['misses'], checks))
    if res.get('continuous'):
        verified += ' cu'  # the server took Continuous Updates
    text = '%8.1f %6.1f %8.1f %10.0f %8.2f %6.0f %8.1f  %s' % (
        res['ups'], res['noise_pct'], res['mbps'], res['bytes_per_update'], res['cpu_ms_per_update'],
        res['cpu_pct'], res['first_full_ms'], verified)
    if 'mir_per_update' in res:
        text += '  Mir/u %.2f' % res['mir_per_update']
    if res.get('small_updates'):
        text += '  +%d small' % res['small_updates']
    return text


def ratio(a, b):
    return '%.2f' % (a / b) if b > 0 else '-'


def print_table(results, servers, args):
    print()
    print('# load average at the end: %.1f %.1f %.1f on %d cores' % (os.getloadavg() + (os.cpu_count(),)))
    print('# %g s per cell after %.1f s warm-up, %dx%d, --fps %s (0 = demand-driven), noise = stdev of '
          '1-s slices / mean' % (args.seconds, args.warmup, args.width, args.height, args.fps))
    print('# cpu = utime+stime of the server process over the window; ratios are qvnc / peer '
          '(ups: >1 means qvnc faster; bytes, cpu: <1 means qvnc smaller)')
    print('# upd/s counts updates that cover >= 1/8 of a record\'s mean damage; "+N small" = the smaller '
          'ones in the window (Xvnc\'s lossless-refresh chunks), whose bytes and CPU the counted ones carry')
    print('# cu = the server took Continuous Updates (and fences), as TigerVNC\'s viewer and noVNC use '
          'them; the others ran request/response' + (' (--no-continuous: all did)' if args.no_continuous else ''))
    head = '%-8s %-10s %-12s %8s %6s %8s %10s %8s %6s %8s  %s' % (
        'workload', 'encoding', 'server', 'upd/s', 'noise%', 'MB/s', 'B/update', 'cpu ms/u', 'cpu%',
        'first ms', 'hash check')
    print(head + '   ups×   bytes×  cpu×')
    for (wl, enc), by_server in results.items():
        q = by_server.get('qvnc', {})
        for s in servers:
            res = by_server.get(s)
            if res is None:
                continue
            extra = ''
            if s != 'qvnc' and 'error' not in res and q and 'error' not in q:
                extra = '   %5s  %5s  %5s' % (ratio(q['ups'], res['ups']),
                                            ratio(q['bytes_per_update'], res['bytes_per_update']),
                                            ratio(q['cpu_ms_per_update'], res['cpu_ms_per_update']))
            print('%-8s %-10s %-12s %s%s' % (wl, enc, s, fmt_cell(res), extra), flush=True)


def print_viewers_table(results, args):
    """--viewers: one display, N viewers of identical settings (one measuring
    client + N-1 light ones); cpu× and RSS against the cell's 1-viewer run."""
    print()
    print('# load average at the end: %.1f %.1f %.1f on %d cores' % (os.getloadavg() + (os.cpu_count(),)))
    print('# %g s per cell after %.1f s warm-up, %dx%d, --fps %s; qvnc only; cpu = server utime+stime '
          'per update of the measuring viewer; rss/viewer = (rss - rss of 1 viewer) / (N - 1)' % (
              args.seconds, args.warmup, args.width, args.height, args.fps))
    print('# user×1 = the same for the server\'s user-space CPU alone (encoding; the rest is the kernel\'s '
          'socket writes, one per viewer)')
    print('# cpu ms/f = server CPU per replayed record (--fps N > 0): the cost of the display whatever '
          'the measuring viewer coalesced')
    print('%-8s %-10s %7s %8s %10s %8s %6s %6s %8s %6s %8s %9s %11s  %s' % (
        'workload', 'encoding', 'viewers', 'upd/s', 'B/update', 'cpu ms/u', 'cpu×1', 'user×1', 'cpu ms/f',
        'cpu×1', 'rss MB', 'rss/vw KB', 'light lost', 'hash check'))
    for (wl, enc, n), res in sorted(results.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2])):
        if 'error' in res:
            print('%-8s %-10s %7d ERROR %s' % (wl, enc, n, res['error']))
            continue
        one = results.get((wl, enc, 1), {})
        ok1 = one and 'error' not in one
        cpu_x = ratio(res['cpu_ms_per_update'], one['cpu_ms_per_update']) if ok1 else '-'
        user_x = ratio(res['user_ms_per_update'], one['user_ms_per_update']) if ok1 else '-'
        fps = float(args.fps)
        per_frame = res['cpu_pct'] * 10 / fps if fps > 0 else -1
        frame_x = ratio(res['cpu_pct'], one['cpu_pct']) if ok1 and fps > 0 else '-'
        per_vw = '-'
        if n > 1 and one and 'error' not in one:
            per_vw = '%.0f' % ((res['rss_kb'] - one['rss_kb']) / (n - 1))
        checks = int(res['checks'])
        verified = '-' if checks == 0 else ('ok %d' % checks if res['misses'] == 0
                                            else 'MISS %d/%d' % (res['misses'], checks))
        print('%-8s %-10s %7d %8.1f %10.0f %8.2f %6s %6s %8.2f %6s %8.1f %9s %11d  %s' % (
            wl, enc, n, res['ups'], res['bytes_per_update'], res['cpu_ms_per_update'], cpu_x, user_x,
            per_frame, frame_x, res['rss_kb'] / 1024, per_vw, int(res['light_closed']), verified), flush=True)


def run_viewers(tools, args):
    results = {}
    counts = [int(n) for n in args.viewers.split(',')]
    for wl in args.workloads.split(','):
        vfr = workload_file(tools, args, wl)
        for n in counts:
            # A fresh server per count, so its RSS is that of n viewers.
            server = start_server(tools, args, 'qvnc', vfr, n)
            try:
                for enc in args.encodings.split(','):
                    res = measure(tools, args, server, vfr, enc, n)
                    results[(wl, enc, n)] = res
                    print('# %s %s viewers=%d: %s' % (wl, enc, n, fmt_cell(res)), flush=True)
            finally:
                server.stop()
    print_viewers_table(results, args)
    if args.json:
        with open(args.json, 'w') as f:
            json.dump({'%s/%s/%d' % k: v for k, v in results.items()}, f, indent=1)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--build', required=True)
    ap.add_argument('--seconds', type=float, default=5)
    ap.add_argument('--warmup', type=float, default=1)
    ap.add_argument('--workloads', default=','.join(WORKLOADS))
    ap.add_argument('--encodings', default=','.join(ENCODINGS))
    ap.add_argument('--servers', default='qvnc,' + ','.join(PEERS),
                    help='comma-separated; unavailable peers are skipped with a note')
    ap.add_argument('--fps', default='0', help='replay rate for every server; 0 = demand-driven '
                    '(Xvnc: as fast as the X server takes records; QEMU: one record per 30 ms display '
                    'refresh)')
    ap.add_argument('--width', type=int, default=1920)
    ap.add_argument('--height', type=int, default=1080)
    ap.add_argument('--vfr-dir', default='/dev/shm')
    ap.add_argument('--no-continuous', action='store_true',
                    help='the client never offers Continuous Updates: request/response with every server')
    ap.add_argument('--json', help='also write the raw results here')
    ap.add_argument('--base', metavar='BUILD', help='adds the server qvnc-base: BUILD\'s qvnc-emu (another '
                    'commit, for an A/B ratio in the same run); implies it in --servers')
    ap.add_argument('--callgrind', metavar='DIR', help='run qvnc, libvncserver and neatvnc under '
                    'callgrind (dumps in DIR) and add instructions per update (Mir/u); Xvnc and QEMU are '
                    'skipped')
    ap.add_argument('--viewers', metavar='N,N,...', help='qvnc only: N viewers of one display with '
                    'identical settings (1 measuring + N-1 light ones on Continuous Updates), a fresh '
                    'server per N, e.g. 1,8,64; prints server CPU per update and RSS per viewer')
    args = ap.parse_args()

    tools = Tools(args.build, args.base)
    if args.base and 'qvnc-base' not in args.servers.split(','):
        args.servers += ',qvnc-base'
    for need in (tools.emu, tools.client, tools.frames):
        if not os.path.isfile(need):
            sys.exit('run-bench: %s is not built' % need)
    if args.viewers:
        run_viewers(tools, args)
        return
    servers = []
    if args.callgrind:
        os.makedirs(args.callgrind, exist_ok=True)
    for s in args.servers.split(','):
        if args.callgrind and s in ('xvnc', 'qemu'):
            print('# %s: not run under callgrind, skipped' % s)
        elif tools.available(s):
            servers.append(s)
        else:
            print('# %s: not built or not installed, skipped' % s)
    encodings = args.encodings.split(',')
    print('# load average at the start: %.1f %.1f %.1f on %d cores' % (os.getloadavg() + (os.cpu_count(),)))
    results = {}
    for wl in args.workloads.split(','):
        vfr = workload_file(tools, args, wl)
        for s in servers:
            try:
                server = start_server(tools, args, s, vfr)
            except t.Fail as e:
                for enc in encodings:
                    results.setdefault((wl, enc), {})[s] = {'error': str(e)[:200]}
                continue
            try:
                for enc in encodings:
                    res = measure(tools, args, server, vfr, enc)
                    results.setdefault((wl, enc), {})[s] = res
                    print('# %s %s %s: %s' % (wl, enc, s, fmt_cell(res)), flush=True)
            finally:
                server.stop()
    print_table(results, servers, args)
    if args.json:
        with open(args.json, 'w') as f:
            json.dump({'%s/%s' % k: v for k, v in results.items()}, f, indent=1)


if __name__ == '__main__':
    main()
