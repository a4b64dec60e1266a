"""CI smoke check of the benchmark kit (suite 'bench', a few seconds): qvnc-emu
replays a small generated workload, bench-client decodes it with ZRLE and Tight
and must see frames whose hashes are states of the workload; a demand-driven
replay (--replay-fps 0, no timer) must keep updates coming.  No peers: the full table is
run-bench.sh's job."""

import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'integration'))
import qvnc_testlib as t  # noqa: E402


def client(port, pid, vfr, encoding):
    argv = [t.env_path('QVNC_BENCH_CLIENT'), '--port', str(port), '--encoding', encoding,
            '--seconds', '1', '--warmup', '0.3', '--vfr', vfr, '--server-pid', str(pid),
            '--timeout', '5', '--require-verified']
    r = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    t.check(r.returncode == 0, 'bench-client %s failed (%d): %s %s'
            % (encoding, r.returncode, r.stdout.strip(), r.stderr.strip()))
    fields = dict(kv.split('=', 1) for kv in r.stdout.split())
    t.check(int(fields['updates']) > 0 and int(fields['checks']) > 0 and fields['misses'] == '0',
            'no verified update: %s' % r.stdout.strip())
    # qvnc answers every record with one update covering its damage: none
    # may fall under the client's "small update" bar (bench-client.cpp).
    t.check(fields.get('small_updates') == '0', 'small updates from qvnc: %s' % r.stdout.strip())
    return fields


def run_cell(vfr, fps, encodings):
    emu, port = t.start_emu(['--guest', 'replay:' + vfr, '--replay-fps', str(fps)])
    try:
        results = [client(port, emu.p.pid, vfr, e) for e in encodings]
    finally:
        emu.stop()
    return results


def main():
    runner = t.Runner('bench-smoke')
    tmp = tempfile.mkdtemp(prefix='qvnc-bench-smoke-')
    runner.at_exit(lambda: subprocess.run(['rm', '-rf', tmp]))
    # A small cursor-like workload of our own writing (make_vfr.py): CI's
    # clean clone has no ../shared with the full-size generator.
    vfr = os.path.join(tmp, 'cursor.vfr')
    subprocess.run([sys.executable, os.path.join(os.path.dirname(os.path.abspath(__file__)), 'make_vfr.py'), vfr],
                   check=True, capture_output=True, timeout=60)

    runner.case('fixed rate, zrle and tight lossless decode to workload states',
                run_cell, vfr, 60, ['zrle', 'tight'])

    def demand():
        (r,) = run_cell(vfr, 0, ['raw'])
        # No timer paces this replay: only update_wanted advances it, so
        # without the callback nothing changes after the first frame and no
        # update comes (the client then fails on its timeout).
        t.check(int(r['updates']) >= 5, 'demand-driven replay stalled: %s' % r)
    runner.case('demand-driven replay (--replay-fps 0)', demand)
    runner.finish()


if __name__ == '__main__':
    main()
